"""Run ``pywats-station`` with the client-side rate limit turned off (benchmark use only).

``python bench/_station_unthrottled.py run`` is ``pywats-station run`` except that every pywats
client the daemon builds has ``rate_limit=None``. The daemon builds its client without a
``rate_limit`` argument, so it gets the default budget of 500 requests per 60 s (WATS's limit),
which caps any upload run longer than ~500 reports at 8.3 reports/s: the uploader's own speed
cannot be measured through it. Nothing else changes: same code, same queue, same ``fsync``.
"""

from __future__ import annotations

import sys
import types
from typing import cast

from pywats._client import BaseClient


def lift_rate_limit() -> None:
    """Make ``rate_limit=None`` the default of every pywats client built from now on."""
    init = cast(types.FunctionType, BaseClient.__init__)
    defaults = init.__kwdefaults__
    if defaults is None or "rate_limit" not in defaults:
        raise RuntimeError("pywats' BaseClient has no rate_limit keyword any more")
    defaults["rate_limit"] = None


def main() -> int:
    """Lift the rate limit, then run the station's command line with our arguments."""
    lift_rate_limit()
    from pywats_station.cli import main as station_main

    return station_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

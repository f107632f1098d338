"""An entry a converter refuses (a dangling link) is visible over the control channel.

It used to be logged once and counted only in the status file: ``converters.list`` (what
``pywats-station status`` and the TUI ask) did not say that anything sat in the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pywats_station.control import methods as m

from .daemon_helpers import running_station, wait_until

pytestmark = pytest.mark.trio


async def test_a_dangling_link_is_counted_with_its_reason_and_escaped_name(
    tmp_path: Path,
) -> None:
    extra = "follow_symlinks = true\n"  # the converter's table is the last one: its key
    async with running_station(tmp_path, extra=extra) as station, station.client() as client:

        async def listed() -> m.ConverterInfo:
            result = await client.call("converters.list", result_type=m.ConvertersListResult)
            return result.converters[0]

        before = await listed()
        assert (before.refused, before.last_refused) == (0, None)
        os.symlink(tmp_path / "nowhere.json", station.inbox / "gone\nnow.json")
        info = station.daemon.converters["wsjf"].stats
        await wait_until(lambda: info.refused == 1, what="the refusal")
        after = await listed()
        assert after.refused == 1
        assert after.last_refused is not None
        assert after.last_refused.startswith(
            "gone\\nnow.json is a dangling symbolic link: it points to nothing ("
        )
        assert "\n" not in after.last_refused

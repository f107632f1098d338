"""``python -m pywats_station``: the same as the ``pywats-station`` command."""

from __future__ import annotations

from pywats_station.cli import main

raise SystemExit(main())

"""``python -m pywats_station.tui``: the same as ``pywats-tui``."""

import sys

from pywats_station.tui.cli import main

sys.exit(main())

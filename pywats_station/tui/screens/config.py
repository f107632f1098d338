"""The Config screen (being built)."""

from __future__ import annotations

from pywats_station.tui.screens.base import StationView

__all__ = ["ConfigScreen"]


class ConfigScreen(StationView):
    TITLE = "Config"

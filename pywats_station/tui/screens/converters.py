"""The Converters screen (being built)."""

from __future__ import annotations

from pywats_station.tui.screens.base import StationView

__all__ = ["ConvertersScreen"]


class ConvertersScreen(StationView):
    TITLE = "Converters"

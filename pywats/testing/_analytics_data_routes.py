"""The emulator's analytics data routes: measurements, aggregated measurements, test-step
analysis, serial-number history, UUT/UUR report lists, repair statistics, computed from the
reports actually stored."""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_analytics_data_routes"]


def add_analytics_data_routes(router: Router) -> None:
    """Register the analytics data routes on ``router``."""

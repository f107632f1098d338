"""The emulator's yield routes: volume and yield, worst yield, dynamic yield, high volume,
top failed, OEE, computed from the reports actually stored."""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_analytics_yield_routes"]


def add_analytics_yield_routes(router: Router) -> None:
    """Register the yield routes on ``router``."""

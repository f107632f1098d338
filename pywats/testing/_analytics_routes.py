"""The emulator's ``analytics`` routes:

Statistics from the stored reports: yield, top failed, measurements, OEE (tag App).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_analytics_routes"]


def add_analytics_routes(router: Router) -> None:
    """Register the analytics routes on ``router``."""

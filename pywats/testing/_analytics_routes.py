"""The emulator's ``analytics`` routes:

Statistics from the stored reports: yield, top failed, measurements, OEE (tag App), in two
modules (yield, data).
"""

from __future__ import annotations

from pywats.testing._analytics_data_routes import add_analytics_data_routes
from pywats.testing._analytics_yield_routes import add_analytics_yield_routes
from pywats.testing._http import Router

__all__ = ["add_analytics_routes"]


def add_analytics_routes(router: Router) -> None:
    """Register the analytics routes on ``router``."""
    add_analytics_yield_routes(router)
    add_analytics_data_routes(router)

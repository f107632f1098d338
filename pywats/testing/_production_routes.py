"""The emulator's ``production`` routes:

Units, assemblies, verification, batches and serial numbers (tag Production).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_production_routes"]


def add_production_routes(router: Router) -> None:
    """Register the production routes on ``router``."""

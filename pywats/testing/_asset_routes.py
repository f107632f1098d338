"""The emulator's ``asset`` routes:

Assets (fixtures, instruments), counts, calibration, maintenance (tag Asset).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_asset_routes"]


def add_asset_routes(router: Router) -> None:
    """Register the asset routes on ``router``."""

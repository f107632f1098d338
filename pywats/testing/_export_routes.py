"""The emulator's ``export`` routes:

Exporting reports and data (tag Export).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_export_routes"]


def add_export_routes(router: Router) -> None:
    """Register the export routes on ``router``."""

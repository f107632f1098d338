"""The emulator's ``software`` routes:

Software packages for stations: files, zips, status workflow, tags (tag Software).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_software_routes"]


def add_software_routes(router: Router) -> None:
    """Register the software routes on ``router``."""

"""The emulator's ``scim`` routes:

Users and their provisioning token (tag Scim).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_scim_routes"]


def add_scim_routes(router: Router) -> None:
    """Register the scim routes on ``router``."""

"""The emulator's ``rootcause`` routes:

Root-cause tickets, their attachments and archive (tag RootCause).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_rootcause_routes"]


def add_rootcause_routes(router: Router) -> None:
    """Register the rootcause routes on ``router``."""

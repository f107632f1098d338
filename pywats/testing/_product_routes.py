"""The emulator's ``product`` routes:

Products, revisions, BOMs, product groups and vendors (tag Product).
"""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_product_routes"]


def add_product_routes(router: Router) -> None:
    """Register the product routes on ``router``."""

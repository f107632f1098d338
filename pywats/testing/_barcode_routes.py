"""The emulator's ``barcode`` routes: Barcode identifiers (tag BarcodeIdentifiers)."""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_barcode_routes"]


def add_barcode_routes(router: Router) -> None:
    """Register the barcode routes on ``router``."""

"""``api.barcode``: Barcode identifiers (tag BarcodeIdentifiers)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["BarcodeDomain"]


class BarcodeDomain(Domain[ModeT]):
    """Barcode identifiers (tag BarcodeIdentifiers)."""

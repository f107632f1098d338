"""``api.product``: Products, revisions, BOMs, product groups and vendors (tag Product)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["ProductDomain"]


class ProductDomain(Domain[ModeT]):
    """Products, revisions, BOMs, product groups and vendors (tag Product)."""

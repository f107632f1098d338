"""The emulator's ``product`` routes:

Products, revisions, BOMs, product groups and vendors (tag Product).

:class:`ProductState` is what the other domains' routes read (a unit's product, a revision's
BOM for unit verification): keep its documented methods when the routes grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pywats.testing._http import Router

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["BomLine", "ProductState", "add_product_routes", "product_state"]


@dataclass(frozen=True)
class BomLine:
    """One line of a revision's bill of materials: a child part and how many of it."""

    part_number: str
    revision: str | None
    quantity: int = 1


@dataclass
class ProductState:
    """Every product the emulator was told about (``emu.domain_state("product", …)``)."""

    # part number (case-insensitive key: casefolded) -> product record
    products: dict[str, dict[str, object]] = field(default_factory=dict)
    # (part number casefolded, revision casefolded) -> revision record
    revisions: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    # (part number casefolded, revision casefolded) -> the revision's BOM
    boms: dict[tuple[str, str], list[BomLine]] = field(default_factory=dict)

    def has_product(self, part_number: str) -> bool:
        """Whether the product exists."""
        return part_number.casefold() in self.products

    def has_revision(self, part_number: str, revision: str) -> bool:
        """Whether the product's revision exists."""
        return (part_number.casefold(), revision.casefold()) in self.revisions

    def bom(self, part_number: str, revision: str) -> list[BomLine]:
        """The revision's BOM (empty when it has none)."""
        return list(self.boms.get((part_number.casefold(), revision.casefold()), []))


def product_state(emu: FakeWATS) -> ProductState:
    """The emulator's products."""
    return emu.domain_state("product", ProductState)


def add_product_routes(router: Router) -> None:
    """Register the product routes on ``router``."""

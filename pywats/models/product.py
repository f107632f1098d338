"""Products, their revisions, BOMs and vendors (``api.product``).

Wire names follow the server's description: camelCase, except ``ProductRevision.PartNumber`` and
``Vendor.VendorName``, which the server spells in PascalCase.
"""

from __future__ import annotations

import enum
import uuid

import msgspec

from pywats.models._base import Dto

__all__ = [
    "Bom",
    "BomComponent",
    "Product",
    "ProductRevision",
    "ProductState",
    "ProductView",
    "Setting",
    "SettingChange",
    "Vendor",
]


class ProductState(enum.IntEnum):
    """The ``state`` of a product or revision: only active ones are offered to stations."""

    INACTIVE = 0
    ACTIVE = 1


class SettingChange(enum.IntEnum):
    """What happened to a tag (``Setting.change``); the server names only 0 to 3."""

    NONE = 0
    ADD = 1
    UPDATE = 2
    DELETE = 3
    # The description lists these values without naming them.
    CHANGE_4 = 4
    CHANGE_5 = 5
    CHANGE_6 = 6


class Setting(Dto):
    """One tag: a key/value pair of an ``xmlData`` document, as the server shows it in JSON."""

    key: str | None = None
    value: str | None = None
    change: SettingChange | None = None


def _tag_dict(tags: list[Setting] | None) -> dict[str, str]:
    return {t.key: t.value or "" for t in tags or () if t.key is not None}


class ProductRevision(Dto):
    """A revision of a product.

    To add a revision leave ``product_revision_id`` empty and name the product by
    ``part_number`` (or ``product_id``); to update one, give its ``product_revision_id``.
    ``xml_data`` is a ``<Root>`` document of key/value elements (``<Site Value="01"/>``) and may
    hold the revision's BOM (:mod:`pywats.formats.wsbf`); ``tags`` is the server's read-only JSON
    view of its key/value elements.
    """

    revision: str
    product_revision_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    name: str | None = None
    description: str | None = None
    state: int | None = None
    xml_data: str | None = None
    part_number: str | None = msgspec.field(default=None, name="PartNumber")
    tags: list[Setting] | None = None

    @property
    def active(self) -> bool:
        """Whether the revision is active (``state`` 1, or not reported)."""
        return self.state in (None, ProductState.ACTIVE)

    @property
    def tag_values(self) -> dict[str, str]:
        """The tags as a dict (key to value)."""
        return _tag_dict(self.tags)


class Product(Dto):
    """A product (part number) with its revisions.

    To add a product leave ``product_id`` empty; to update one, give its ``product_id``.
    ``non_serial`` products cannot have units. ``revisions`` and ``tags`` are what the server
    shows; they are not saved through ``PUT /api/Product`` (revisions have their own operation).
    """

    part_number: str
    product_id: uuid.UUID | None = None
    non_serial: bool | None = None
    name: str | None = None
    description: str | None = None
    state: int | None = None
    xml_data: str | None = None
    product_category_id: uuid.UUID | None = None
    product_category_name: str | None = None
    revisions: list[ProductRevision] | None = None
    tags: list[Setting] | None = None

    @property
    def active(self) -> bool:
        """Whether the product is active (``state`` 1, or not reported)."""
        return self.state in (None, ProductState.ACTIVE)

    @property
    def tag_values(self) -> dict[str, str]:
        """The tags as a dict (key to value)."""
        return _tag_dict(self.tags)

    def revision(self, revision: str) -> ProductRevision | None:
        """The revision named ``revision`` (case-insensitive, as the server compares it)."""
        wanted = revision.casefold()
        return next((r for r in self.revisions or () if r.revision.casefold() == wanted), None)


class ProductView(Dto):
    """One row of the product query: the product's headline, without revisions."""

    part_number: str
    name: str | None = None
    category: str | None = None
    non_serial: bool | None = None
    state: int | None = None


class Vendor(Dto):
    """A vendor (supplier) of components."""

    vendor_name: str = msgspec.field(name="VendorName")


class BomComponent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One line of a bill of materials (a WSBF ``<Component>``).

    Attributes:
        part_number: the component's part number (``Number``).
        revision: its revision (``Rev``).
        quantity: how many the product holds (``Qty``).
        description: ``Desc``.
        reference: component references, ``;``-separated (``Ref``, e.g. ``R1;R2``).
        function_block: ``FunctionBlock``.
    """

    part_number: str
    revision: str | None = None
    quantity: int = 1
    description: str | None = None
    reference: str | None = None
    function_block: str | None = None

    @property
    def references(self) -> list[str]:
        """The component references as a list (``"R1;R2"`` gives ``["R1", "R2"]``)."""
        return [r.strip() for r in (self.reference or "").split(";") if r.strip()]


class Bom(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A product revision's bill of materials (a WSBF ``<BOM>`` document)."""

    part_number: str
    revision: str
    description: str | None = None
    components: list[BomComponent] = msgspec.field(default_factory=list)

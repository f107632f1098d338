"""Production: units, their phases and assemblies, unit changes, batches and unit verification.

Wire names follow the server's description (``Mes.Production.Public.*`` and
``PublicUnitVerification*``); serial-number types and pools are in
:mod:`pywats.models.serial_numbers`.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from pywats.models._base import Dto
from pywats.models.product import Product, ProductRevision, Setting

__all__ = [
    "AssemblyCheck",
    "ChildUnitStatus",
    "MissingChild",
    "ProductionBatch",
    "Unit",
    "UnitChange",
    "UnitPhase",
    "UnitVerification",
    "UnitVerificationGrade",
]


class UnitPhase(enum.IntEnum):
    """A unit's phase (``unitPhaseId``), as the server numbers them (bit values)."""

    UNKNOWN = 1
    UNDER_PRODUCTION = 2
    PRODUCTION_REPAIR = 4
    SERVICE_REPAIR = 8
    FINALIZED = 16
    SCRAPPED = 32
    EXTENDED_TEST = 64
    CUSTOMIZATION = 128
    REPAIRED = 256
    MISSING = 512
    IN_STORAGE = 1024
    SHIPPED = 2048
    UNDER_PRODUCTION_QUEUED = 4098
    WAITING_FOR_PRODUCTION_REPAIR = 4100
    WAITING_FOR_SERVICE_REPAIR = 4104

    @property
    def label(self) -> str:
        """The phase's name as the server shows it (``Under production``)."""
        return _PHASE_LABELS[self]


_PHASE_LABELS = {
    UnitPhase.UNKNOWN: "Unknown",
    UnitPhase.UNDER_PRODUCTION: "Under production",
    UnitPhase.PRODUCTION_REPAIR: "Production repair",
    UnitPhase.SERVICE_REPAIR: "Service repair",
    UnitPhase.FINALIZED: "Finalized",
    UnitPhase.SCRAPPED: "Scrapped",
    UnitPhase.EXTENDED_TEST: "Extended test",
    UnitPhase.CUSTOMIZATION: "Customization",
    UnitPhase.REPAIRED: "Repaired",
    UnitPhase.MISSING: "Missing",
    UnitPhase.IN_STORAGE: "In storage",
    UnitPhase.SHIPPED: "Shipped",
    UnitPhase.UNDER_PRODUCTION_QUEUED: "Under production - Queued",
    UnitPhase.WAITING_FOR_PRODUCTION_REPAIR: "Waiting for production repair",
    UnitPhase.WAITING_FOR_SERVICE_REPAIR: "Waiting for service repair",
}


class Unit(Dto):
    """A produced unit, identified by serial number and part number.

    ``unit_phase_id`` is a :class:`UnitPhase` value (kept an ``int``: a server may know more
    phases); ``unit_phase`` is its name, read-only. ``process_code`` is text on the wire.
    ``sub_units`` are the unit's children (its assembly), filled by ``get_unit``.
    """

    serial_number: str
    part_number: str
    revision: str | None = None
    parent_serial_number: str | None = None
    batch_number: str | None = None
    serial_date: datetime | None = None
    current_location: str | None = None
    xml_data: str | None = None
    unit_phase_id: int | None = None
    unit_phase: str | None = None
    process_code: str | None = None
    tags: list[Setting] | None = None
    product_revision: ProductRevision | None = None
    product: Product | None = None
    sub_units: list[Unit] | None = None

    @property
    def phase(self) -> UnitPhase | None:
        """``unit_phase_id`` as a :class:`UnitPhase` (``None`` when unset or unknown)."""
        try:
            return UnitPhase(self.unit_phase_id) if self.unit_phase_id is not None else None
        except ValueError:
            return None


class UnitChange(Dto):
    """One change of a unit (parent, part number, revision or phase), kept until deleted.

    The ``new_*`` members hold the unit's values after the change.
    """

    id: int
    unit_serial_number: str | None = None
    new_parent_serial_number: str | None = None
    new_part_number: str | None = None
    new_revision: str | None = None
    new_unit_phase_id: int | None = None


class ProductionBatch(Dto):
    """A production batch (work order): its number and size."""

    batch_number: str
    batch_size: int | None = None


class UnitVerification(Dto):
    """A unit's results in one process of its verification rule."""

    process_code: int | None = None
    process_name: str | None = None
    process_index: int | None = None
    status: str | None = None
    start_utc: datetime | None = None  # None when status is "Unknown"
    station_name: str | None = None
    total_count: int | None = None
    non_passed_count: int | None = None
    repair_count: int | None = None


class UnitVerificationGrade(Dto):
    """How a unit fares against its verification rule: a grade and the results per process."""

    status: str | None = None
    grade: str | None = None
    all_processes_executed_in_correct_order: bool | None = None
    all_processes_passed_first_run: bool | None = None
    all_processes_passed_any_run: bool | None = None
    all_processes_passed_last_run: bool | None = None
    no_repairs: bool | None = None
    results: list[UnitVerification] = msgspec.field(default_factory=list)


class ChildUnitStatus(Dto):
    """One child of an assembly as the assembly check sees it."""

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    unit_phase_id: int | None = None
    valid: bool | None = None
    message: str | None = None


class MissingChild(Dto):
    """A box-build line the assembly lacks: the part, and how many are fitted of how many."""

    part_number: str | None = None
    revision: str | None = None
    quantity: int | None = None
    found: int | None = None


class AssemblyCheck(Dto):
    """The answer of ``check_child_units``: whether a unit's direct children match its box build.

    The server describes this answer only as an object; the members are the emulator's
    (``pywats.testing``), unknown members of another server's answer are ignored.
    """

    valid: bool | None = None
    messages: list[str] = msgspec.field(default_factory=list)
    children: list[ChildUnitStatus] = msgspec.field(default_factory=list)
    missing: list[MissingChild] = msgspec.field(default_factory=list)

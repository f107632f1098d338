"""What the emulator's production routes remember: units, their assemblies, unit changes, batches.

Units are found by serial number and part number, both compared case-insensitively (as the
server's SQL collation does); the part number may be left empty when the serial number is unique
across products.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pywats.models.production import UnitPhase
from pywats.testing._http import HTTPFailure

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["ProductionState", "UnitRecord", "production_state"]

MAX_UNIT_DEPTH = 64
"""Deepest assembly shown by ``GET Unit`` (a chain of parents deeper than this is cut off)."""


@dataclass
class UnitRecord:
    """One unit."""

    uid: int
    serial_number: str
    part_number: str
    revision: str | None = None
    batch_number: str | None = None
    serial_date: datetime | None = None
    current_location: str | None = None
    xml_data: str | None = None
    phase_id: int = int(UnitPhase.UNDER_PRODUCTION)
    process_code: str | None = None
    parent: int | None = None
    children: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """The case-insensitive identity (serial number, part number)."""
        return (self.serial_number.casefold(), self.part_number.casefold())

    def label(self) -> str:
        """``SN (PN)`` for messages."""
        return f"{self.serial_number} ({self.part_number})"


@dataclass
class ProductionState:
    """Units, unit changes and batches (``emu.domain_state("production", …)``)."""

    units: dict[int, UnitRecord] = field(default_factory=dict)
    index: dict[tuple[str, str], int] = field(default_factory=dict)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_uid: int = 1
    next_change: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def add(self, serial_number: str, part_number: str) -> UnitRecord:
        """A new unit (the caller holds the lock and checked it does not exist)."""
        unit = UnitRecord(self.next_uid, serial_number, part_number)
        self.next_uid += 1
        self.units[unit.uid] = unit
        self.index[unit.key] = unit.uid
        return unit

    def by_serial(self, serial_number: str) -> list[UnitRecord]:
        """Every unit with this serial number (one per product at most)."""
        wanted = serial_number.casefold()
        return [u for u in self.units.values() if u.serial_number.casefold() == wanted]

    def find(self, serial_number: str, part_number: str | None) -> UnitRecord | None:
        """The unit, by serial and part number, or by serial number alone when ``part_number``
        is empty.

        Raises:
            HTTPFailure: 400 when the serial number alone names units of several products.
        """
        if part_number and part_number.strip():
            uid = self.index.get((serial_number.casefold(), part_number.casefold()))
            return self.units.get(uid) if uid is not None else None
        found = self.by_serial(serial_number)
        if len(found) > 1:
            products = ", ".join(sorted(u.part_number for u in found))
            raise HTTPFailure(
                400,
                f"Serial number {serial_number} is used by several products ({products}); "
                "give the part number.",
            )
        return found[0] if found else None

    def get(self, serial_number: str, part_number: str | None, what: str = "Unit") -> UnitRecord:
        """Like :meth:`find`; an unknown unit is a 404."""
        unit = self.find(serial_number, part_number)
        if unit is None:
            pn = f" ({part_number})" if part_number else ""
            raise HTTPFailure(404, f"{what} {serial_number}{pn} was not found.")
        return unit

    def ancestors(self, unit: UnitRecord) -> list[UnitRecord]:
        """The unit's parent, its parent's parent, … (cycles are never stored)."""
        out: list[UnitRecord] = []
        parent = unit.parent
        while parent is not None and len(out) <= len(self.units):
            record = self.units[parent]
            out.append(record)
            parent = record.parent
        return out

    def record_change(self, unit: UnitRecord) -> None:
        """Add a unit change: the unit's parent, part number, revision and phase after it."""
        parent = self.units.get(unit.parent) if unit.parent is not None else None
        change = {
            "id": self.next_change,
            "unitSerialNumber": unit.serial_number,
            "newParentSerialNumber": parent.serial_number if parent else None,
            "newPartNumber": unit.part_number,
            "newRevision": unit.revision,
            "newUnitPhaseId": unit.phase_id,
        }
        self.changes[self.next_change] = {k: v for k, v in change.items() if v is not None}
        self.next_change += 1


def production_state(emu: FakeWATS) -> ProductionState:
    """The emulator's units, unit changes and batches."""
    return emu.domain_state("production", ProductionState)

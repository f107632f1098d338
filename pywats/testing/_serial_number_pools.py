"""Serial-number pools of the emulator: the values of each type, free and taken.

A pool holds its free values as sorted, disjoint ranges of integers, and its taken values with
who took them. A type's :class:`Codec` turns integers into its text form and back (six digits;
MAC addresses). Taking always hands out the lowest free values, so consecutive takes get
consecutive numbers, and a taken value never becomes free again.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pywats.models.serial_numbers import SerialNumberIdentifier

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["Codec", "Pool", "SerialNumberState", "Taken", "serial_number_state"]


@dataclass(frozen=True)
class Codec:
    """How a type writes its values: ``digits`` decimal digits, or a MAC address."""

    regex: str
    digits: int = 6
    mac: bool = False

    def text(self, value: int) -> str:
        """The value as the type writes it."""
        if self.mac:
            raw = f"{value:012X}"
            return ":".join(raw[i : i + 2] for i in range(0, 12, 2))
        return f"{value:0{self.digits}d}"

    def value(self, text: str) -> int | None:
        """The integer of a written value, or ``None`` when it is not one of this type's."""
        cleaned = text.strip()
        if self.mac:
            raw = cleaned.replace(":", "").replace("-", "")
            if re.fullmatch(r"[0-9A-Fa-f]{12}", raw) is None:
                return None
            return int(raw, 16)
        if re.fullmatch(rf"[0-9]{{{self.digits}}}", cleaned) is None:
            return None
        return int(cleaned)


@dataclass
class Taken:
    """When and for whom a value was taken."""

    date: datetime
    ref_sn: str | None = None
    ref_pn: str | None = None
    station_name: str | None = None


@dataclass
class Pool:
    """One serial-number type and its values."""

    type: dict[str, Any]  # the SerialNumberType as the server sends it
    codec: Codec
    free: list[tuple[int, int]] = field(default_factory=list)  # inclusive, sorted, disjoint
    taken: dict[int, Taken] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The type's name."""
        return str(self.type["name"])

    def free_count(self) -> int:
        """How many values are free."""
        return sum(end - start + 1 for start, end in self.free)

    def is_free(self, value: int) -> bool:
        """Whether ``value`` is free."""
        i = bisect.bisect_right(self.free, (value, 2**63)) - 1
        return i >= 0 and self.free[i][0] <= value <= self.free[i][1]

    def take(self, quantity: int, *, in_sequence: bool) -> list[int] | None:
        """Take the lowest free values (``None``: no free run of ``quantity`` in sequence)."""
        if in_sequence:
            for i, (start, end) in enumerate(self.free):
                if end - start + 1 >= quantity:
                    self._cut(i, start, start + quantity - 1)
                    return list(range(start, start + quantity))
            return None
        out: list[int] = []
        while self.free and len(out) < quantity:
            start, end = self.free[0]
            last = min(end, start + quantity - len(out) - 1)
            out.extend(range(start, last + 1))
            self._cut(0, start, last)
        return out

    def _cut(self, i: int, start: int, last: int) -> None:
        """Remove ``start..last`` from the front of range ``i``."""
        _, end = self.free[i]
        if last >= end:
            del self.free[i]
        else:
            self.free[i] = (last + 1, end)

    def remove(self, value: int) -> None:
        """Make ``value`` no longer free."""
        i = bisect.bisect_right(self.free, (value, 2**63)) - 1
        if i < 0 or not self.free[i][0] <= value <= self.free[i][1]:
            return
        start, end = self.free[i]
        pieces = [(s, e) for s, e in ((start, value - 1), (value + 1, end)) if s <= e]
        self.free[i : i + 1] = pieces

    def add_free(self, values: list[int]) -> None:
        """Add values to the free ones (taken values stay taken)."""
        new = sorted({v for v in values if v not in self.taken})
        runs: list[tuple[int, int]] = []
        for v in new:
            if runs and runs[-1][1] + 1 >= v:
                runs[-1] = (runs[-1][0], max(runs[-1][1], v))
            else:
                runs.append((v, v))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(self.free + runs):
            if merged and merged[-1][1] + 1 >= start:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.free = merged

    def values_between(self, low: int | None, high: int | None) -> list[int]:
        """Every known value (free or taken) within ``low..high``, in order."""
        lo = low if low is not None else -1
        hi = high if high is not None else 2**63
        out = [v for v in self.taken if lo <= v <= hi]
        for start, end in self.free:
            if end < lo or start > hi:
                continue
            out.extend(range(max(start, lo), min(end, hi) + 1))
        out.sort()
        return out


def _seeded() -> dict[str, Pool]:
    numeric = Pool(
        type={
            "name": "SerialNumber",
            "description": "Six-digit unit serial numbers",
            "format": "000000",
            "regEx": "^[0-9]{6}$",
            "identifier": int(SerialNumberIdentifier.SERIAL_NUMBER),
            "identifierName": "Serial number",
        },
        codec=Codec(regex="^[0-9]{6}$", digits=6),
        free=[(1, 10_000)],
    )
    mac = Pool(
        type={
            "name": "MACAddress",
            "description": "MAC addresses of the network interfaces",
            "format": "XX:XX:XX:XX:XX:XX",
            "regEx": "^([0-9A-F]{2}:){5}[0-9A-F]{2}$",
            "identifier": int(SerialNumberIdentifier.MAC_ADDRESS),
            "identifierName": "MAC address",
        },
        codec=Codec(regex="^([0-9A-F]{2}:){5}[0-9A-F]{2}$", mac=True),
        # A block of 4096 addresses under one (made-up) vendor prefix.
        free=[(0x001BC50A0000, 0x001BC50A0FFF)],
    )
    return {pool.name.casefold(): pool for pool in (numeric, mac)}


@dataclass
class SerialNumberState:
    """The pools, by type name (case-insensitive)."""

    pools: dict[str, Pool] = field(default_factory=_seeded)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)


def serial_number_state(emu: FakeWATS) -> SerialNumberState:
    """The emulator's serial-number pools (two seeded types: ``SerialNumber``, ``MACAddress``)."""
    return emu.domain_state("production.serial_numbers", SerialNumberState)

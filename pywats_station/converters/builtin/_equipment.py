"""What every test-equipment converter takes and does alike: process, operator, time zone.

Equipment files name their operation in their own words ("ICT", "BOTTOM", an ATML
``TestProcess``) or not at all, and write local times without an offset. Every built-in
equipment converter (ATML, TestStand XML, Teradyne, SPEA, XJTAG, Klippel, TAKAYA) takes these
arguments, by deriving its ``Arguments`` from :class:`EquipmentArguments`:

* ``process``: the process (name or code, checked against the synced process list) used when
  the file does not say one, or says one that ``process_map`` does not map;
* ``process_map``: the format's operation name → a process (name or code), e.g.
  ``{BOTTOM = "ICT bottom", TOP = 31}``; matched without regard to case;
* ``operator``, ``part_number``, ``revision``: used when the file has none (the file wins);
* ``timezone``: an IANA zone name for the file's local times (``"Europe/Oslo"``); default the
  station's own zone. Times that carry an offset keep it.

Each converter documents its default ``process`` (the one WATS's own converter for that machine
uses) in its page under ``docs/converters/``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from pywats_station.converters.api import ConverterContext

__all__ = ["EquipmentArguments", "local_time", "resolve_process"]


class EquipmentArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The arguments every equipment converter shares (see the module docstring)."""

    process: str | int | None = None
    process_map: dict[str, str | int] = msgspec.field(default_factory=dict)
    operator: str | None = None
    part_number: str | None = None
    revision: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"timezone {self.timezone!r} is not a time zone name (e.g. 'Europe/Oslo')"
                ) from None


def resolve_process(
    ctx: ConverterContext,
    args: EquipmentArguments,
    operation: str | None,
    default: str | int,
) -> int:
    """The process code for a file whose operation is ``operation`` (``None``: not said).

    Order: ``process_map[operation]`` (any case), else ``args.process``, else the operation
    itself when it names a synced process or is a code, else ``default`` (the format's own).

    Raises:
        ConversionError: the chosen process is not known (the message lists the known ones).
    """
    if operation:
        folded = operation.strip().casefold()
        for name, target in args.process_map.items():
            if name.strip().casefold() == folded:
                return ctx.process_code(target)
    if args.process is not None:
        return ctx.process_code(args.process)
    if operation:
        found = ctx.process_code(operation, default=-1)
        if found != -1:
            return found
    return ctx.process_code(default)


def local_time(naive: datetime, args: EquipmentArguments) -> datetime:
    """A time the file wrote without an offset, in ``args.timezone`` or the station's zone."""
    if naive.tzinfo is not None:
        return naive
    if args.timezone is not None:
        return naive.replace(tzinfo=ZoneInfo(args.timezone))
    return naive.astimezone()  # the station's local zone, with its offset at that date

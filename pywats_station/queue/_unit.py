"""Which unit a report is about: the small summary a queue entry keeps beside its report.

A queue entry's header records the report's unit (serial and part number, revision, process,
result, station, start) when the report is queued, so that listing the queue and announcing an
upload can say which unit it was without reading and parsing the report again (reports reach
30 MB; ``queue.list`` shows up to 1000 entries). :func:`unit_of` is the one place that reads
this from a report: the queue, ``queue.show`` and ``converters.convert_file`` all use it.

The texts come from outside (equipment files, user converters) and are hostile like any name:
each is escaped as :func:`~pywats_station._display.display_text` does and cut to
:data:`UNIT_TEXT_MAX` characters, so that it is one printable line that always encodes.

The summary is for humans: one that cannot be read (written by a later version in another
shape, say) reads as no summary, :func:`decode_unit` returns ``None``, and the entry is
delivered all the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

import msgspec

from pywats_station._display import display_text

if TYPE_CHECKING:
    from pywats.models.report import UURReport, UUTReport

__all__ = ["UNIT_TEXT_MAX", "Unit", "decode_unit", "unit_of"]

UNIT_TEXT_MAX: Final = 256
"""Characters kept of each text (WATS itself allows 100 for a serial or part number)."""

_RESULT_WORDS: Final = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated"}


class Unit(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What a report is about, as its WSJF header says (fields the report lacks are ``None``).

    The same fields as the control channel's ``ReportHeader``, which is made from it.

    Attributes:
        kind: ``uut`` (a test) or ``uur`` (a repair).
        part_number: the product's part number.
        serial_number: the unit's serial number.
        revision: the product revision.
        process_code: the test operation code.
        result: ``Passed``, ``Failed``, ``Error``, ``Terminated`` (UUT only).
        start: start time as written in the report (ISO 8601).
        station: the station name in the report (``machineName``).
    """

    kind: Literal["uut", "uur"]
    part_number: str | None = None
    serial_number: str | None = None
    revision: str | None = None
    process_code: int | None = None
    result: str | None = None
    start: str | None = None
    station: str | None = None


_unit_decoder: Final = msgspec.json.Decoder(Unit)


def _text(value: str | None) -> str | None:
    return None if value is None else display_text(value, limit=UNIT_TEXT_MAX)


def unit_of(report: UUTReport | UURReport) -> Unit:
    """The unit ``report`` is about, its texts escaped and cut (see the module docstring)."""
    result = report.result
    return Unit(
        # ``report_type`` is a StrEnum: compared by value, without importing the report models
        # here (the queue is imported by quick CLI commands that never touch a report).
        kind="uur" if report.report_type == "R" else "uut",
        part_number=_text(report.pn),
        serial_number=_text(report.sn),
        revision=_text(report.rev),
        process_code=report.process_code,
        result=None if result is None else _RESULT_WORDS.get(result) or _text(result),
        start=report.start.isoformat() if report.start is not None else None,
        station=_text(report.machine_name),
    )


def decode_unit(data: bytes) -> Unit | None:
    """A summary as a header stores it (JSON), or ``None`` for ``null`` and anything unreadable."""
    try:
        return _unit_decoder.decode(data)
    except msgspec.DecodeError:  # a ValidationError is one too
        # ``null`` lands here too; either way the entry is intact: only its summary is lost.
        return None

"""The steps of a SPEA 3030 board: one per ``ANL``/``FUNC`` record, in sequences by group.

The rules (documented for users in ``docs/converters/spea_3030.md``):

* **Sequences.** The group of a record is the first run of letters of its reference (field 3),
  named as WATS's converter names it (``R`` → ``Resistors``, ``DSC`` → ``Capacitors`` …,
  :data:`GROUPS`); other letters are the name (``LNK``, ``Counter``); a reference without
  letters (``5.2  J51 Flick Test``) is grouped by its first word (``5.2``). A new sequence
  starts whenever the group changes from one record to the next, so the order of the file is
  kept (and a name may come back).
* **Measurements.** Value, low and high 0 with no unit is how the tester writes a test without a
  measurement (a connection, a wait): a pass/fail step. ``Automatic`` (the tester finds the
  limits itself), ``-NAN`` and an empty value are no measurement either: a pass/fail step whose
  report text keeps what was written. Otherwise a numeric step: both limits → ``GELE``, a genuine
  ``0`` limit included; only the low limit → ``GE``; only the high → ``LE`` (against the low limit
  member, as WATS compares); a high limit of 0 under a positive low one (how ``FUNC`` records
  write "no high limit") → ``GE``; both 0 → ``LOG``.
* **Statuses** are the tester's: ``PASS`` → passed, ``FAIL(+)``/``FAIL(-)``/``FAIL(+/-)`` →
  failed, even where the limits say otherwise (the machine may have judged with what the file
  does not show). A failed step fails its sequence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pywats.models.report import CompOp
from pywats.report_builder import SequenceBuilder, StepHandle
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._spea_read import Record, parse_limit

__all__ = ["GROUPS", "add_steps", "group_of"]

GROUPS = {
    "R": "Resistors",
    "RP": "Resistors",
    "RS": "Resistors",
    "C": "Capacitors",
    "CS": "Capacitors",
    "CP": "Capacitors",
    "DSC": "Capacitors",
    "L": "Inductors",
    "D": "Diodes",
    "Q": "Transistors",
    "CON": "Connectors",
    "SHO": "Short",
    "TC": "Thermocouple",
    "PTC": "PTC",
    "DZ": "ZenerDiodes",
    "F": "Fuses",
    "J": "Jumpers",
    "T": "Transformers",
    "ISO": "Isolators",
    "U": "ICs",
}
"""Groups of WATS's SPEA converter: the letters of a reference → the sequence name."""

NAME_LIMIT = 255  # the longest step name WATS stores
_LETTERS = re.compile(r"[A-Za-z]+")
_STATUS = (("PASS", "P"), ("FAIL", "F"), ("SKIP", "S"))


def group_of(reference: str) -> str:
    """The sequence a record with this reference (field 3) goes into."""
    letters = _LETTERS.match(reference)
    if letters is not None:
        return GROUPS.get(letters.group(), letters.group())
    words = reference.split()
    return words[0] if words else "Tests"


def _status(record: Record) -> str:
    word = record.result.upper()
    for prefix, status in _STATUS:
        if word.startswith(prefix):
            return status
    raise ConversionError(
        f"line {record.line}, field 8: {record.result!r} is not a result (PASS, FAIL(+), …)"
    )


def _name(text: str, line: int, what: str) -> str:
    if len(text) > NAME_LIMIT:
        raise ConversionError(
            f"line {line}: the {what} is {len(text):,} characters long; WATS stores at most "
            f"{NAME_LIMIT}"
        )
    return text


def _report_text(record: Record, name: str, site: str) -> str:
    parts = [f"{record.kind} test {record.test}.{record.subtest}"]
    if record.reference and record.reference not in name:
        parts.append(f"reference {record.reference}")
    if record.nodes:
        parts.append(f"nodes {record.nodes}")
    if record.result.upper() not in ("PASS", "FAIL"):
        parts.append(f"result {record.result}")
    if record.spare:
        parts.append(f"field 7 {record.spare}")
    if record.site != site:
        parts.append(f"board {record.site}")
    if record.index:
        parts.append(f"index {record.index}")
    return "; ".join(parts)


def _limits(low: float | None, high: float | None) -> tuple[CompOp, float | None, float | None]:
    if low is None and high is None:
        return CompOp.LOG, None, None
    if low is None:
        return CompOp.LE, high, None  # WATS compares LE against the low limit member
    if high is None:
        return CompOp.GE, low, None
    if low == high == 0:
        return CompOp.LOG, None, None
    if low <= high:
        return CompOp.GELE, low, high
    if high == 0:
        return CompOp.GE, low, None
    return CompOp.LOG, None, None  # crossed limits: kept in the report text


def add_step(sequence: SequenceBuilder, record: Record, site: str) -> StepHandle:
    """Add the step of one record to ``sequence`` (see the module docstring).

    Raises:
        ConversionError: a field is wrong (naming the line and field).
    """
    line = record.line
    name = _name(record.name or record.reference or record.kind, line, "step name (field 6)")
    status = _status(record)
    text = _report_text(record, name, site)
    if record.value.lower() == "automatic":
        raw: float | None = None
        text += "; value Automatic"
    else:
        raw = parse_limit(record.value, line, "9 (value)")
        if raw is None:
            text += f"; value {record.value or 'empty'}"
    low = parse_limit(record.low, line, "10 (low limit)")
    high = parse_limit(record.high, line, "11 (high limit)")
    unit = record.unit or None
    if raw is None or (raw == 0 and low == 0 and high == 0 and unit is None):
        if raw is None and (record.low or record.high):
            text += f"; limits {record.low or '-'} to {record.high or '-'} {record.unit}".rstrip()
        return sequence.pass_fail(name, status == "P", status=status, report_text=text)
    op, lo, hi = _limits(low, high)
    if op is CompOp.LOG and (low, high) != (None, None) and not (low == high == 0):
        text += f"; limits {record.low} to {record.high} (crossed)"
    try:
        return sequence.numeric(
            name, raw, op, low=lo, high=hi, unit=unit, status=status, report_text=text
        )
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"line {line}: {exc}") from None


def add_steps(
    root: SequenceBuilder,
    records: Iterator[Record],
    budget: OutputBudget,
    *,
    fail_parent: bool,
) -> str | None:
    """Add every record's step to ``root``, in sequences by group; return the first site.

    Args:
        root: the report's root sequence.
        records: the board's ``ANL``/``FUNC`` records in file order.
        budget: counts every step (the conversion stops once the report is certainly too big).
        fail_parent: whether a failed sequence fails the report; off when the tester passed the
            board although steps failed (its verdict is the report's result).

    Raises:
        ConversionError: a wrong field, or the reports are over a size cap.
    """
    site: str | None = None
    group: str | None = None
    sequence = root
    for record in records:
        if site is None:
            site = record.site
        wanted = _name(group_of(record.reference), record.line, "group (field 3)")
        if wanted != group:
            group = wanted
            sequence = root.sequence(group, fail_parent=fail_parent)
        handle = add_step(sequence, record, site)
        budget.add_step(handle.step, record.line)
    return site

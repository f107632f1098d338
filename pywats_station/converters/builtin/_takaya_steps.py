"""The steps of a TAKAYA board: one per row, in one sequence per component type.

The rules (documented for users in ``docs/converters/takaya_atd.md``):

* **Sequences.** With ``group_by_component`` (the default) a row goes into the sequence of its
  component letters (``R7`` → ``R``, ``P1P2`` → ``P``, ``SHRT1`` → ``SHRT``), or ``Other`` when
  its part has none; sequences appear in the order their first row does.
* **Measurement.** The value judged: the second measurement (the tester's re-test) when there
  is one, else the first; in base units (ohm, F, H, V, A). The first measurement of a re-test
  stays in the report text.
* **Operator** by the row's function, the window being reference * (1 - tol-) to
  reference * (1 + tol+): ``**`` (and any unknown function) → ``GELE`` window; ``D`` → ``LTGE``
  window (passes outside it); ``E`` → ``LE`` reference; ``F`` → ``GE`` reference; ``OP`` (open)
  → ``GT`` ``open_threshold`` ohms; ``SH`` (short) → ``LT`` ``short_threshold`` ohms (WATS's
  converter's fixed 100 and 10, here in ohms whatever prefix the row wrote; a non-ohm open or
  short test compares with the window instead). No reference or tolerance: ``LOG``.
* **Status** is the tester's judgement: ``PASS`` passed; ``FAIL``, ``OPEN``, ``SHORT`` … failed;
  a jumped row (judgement ``......``, function ``JP``) skipped, without a measurement. A row
  without a measured value is a pass/fail step.
"""

from __future__ import annotations

from collections.abc import Iterator

from pywats.models.report import CompOp
from pywats.report_builder import SequenceBuilder, StepHandle, StepOptions
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._takaya_rows import Quantity, Row, prefix_of, tidy

__all__ = ["Thresholds", "add_rows", "comparison"]

NAME_LIMIT = 255  # the longest step name WATS stores


class Thresholds:
    """The open and short thresholds, in ohms."""

    def __init__(self, open_ohms: float, short_ohms: float) -> None:
        self.open = open_ohms
        self.short = short_ohms


def _status(row: Row) -> str:
    if row.judgement == "......" or row.function.upper() == "JP":
        return "S"
    return "P" if row.judgement.upper() == "PASS" else "F"


def _window(row: Row) -> tuple[float, float] | None:
    ref = row.reference
    if ref is None or row.tol_plus is None or row.tol_minus is None:
        return None
    ends = tidy(ref.value * (1 - row.tol_minus / 100)), tidy(ref.value * (1 + row.tol_plus / 100))
    return min(ends), max(ends)  # a negative reference turns the window round


def comparison(
    row: Row, measured: Quantity, thresholds: Thresholds
) -> tuple[CompOp, float | None, float | None]:
    """The operator and limits of a row's measurement (see the module docstring)."""
    function = row.function.upper()
    ref = row.reference
    if ref is not None and ref.unit != measured.unit:
        return CompOp.LOG, None, None  # a reference in another unit cannot limit the value
    window = _window(row)
    if function in ("OP", "SH") and measured.unit == "ohm":
        if function == "OP":
            return CompOp.GT, thresholds.open, None
        return CompOp.LT, thresholds.short, None
    if ref is not None and function == "E":
        return CompOp.LE, ref.value, None
    if ref is not None and function == "F":
        return CompOp.GE, ref.value, None
    if window is None:
        return CompOp.LOG, None, None
    if function == "OP":
        return CompOp.GT, window[0], None
    if function == "SH":
        return CompOp.LT, window[1], None
    if function == "D":
        return CompOp.LTGE, window[0], window[1]
    return CompOp.GELE, window[0], window[1]


def _report_text(row: Row, status: str) -> str:
    parts = list(row.details)
    if row.reference is not None:
        parts.append(f"reference {row.reference.text}")
    if row.tol_plus is not None or row.tol_minus is not None:
        parts.append(f"tolerance +{row.tol_plus or 0:g}%/-{row.tol_minus or 0:g}%")
    if row.second is not None and row.first is not None:
        parts.append(f"first measurement {row.first.text}")
    if row.function:
        parts.append(f"function {row.function}")
    if row.judgement.upper() not in ("PASS", "FAIL") and status != "S":
        parts.append(f"judgement {row.judgement}")
    return "; ".join(parts)


def add_row(
    target: SequenceBuilder, row: Row, thresholds: Thresholds, *, fail_parent: bool
) -> StepHandle:
    """Add the step of one row to ``target``.

    Raises:
        ConversionError: a value the report cannot hold (naming the line).
    """
    if len(row.name) > NAME_LIMIT:
        raise ConversionError(
            f"line {row.line}: the step name is {len(row.name):,} characters long; WATS stores "
            f"at most {NAME_LIMIT}"
        )
    status = _status(row)
    options: StepOptions = {"report_text": _report_text(row, status), "fail_parent": fail_parent}
    if row.time is not None:
        options["tot_time"] = row.time
    try:
        if status == "S":  # jumped: no measurement, but the same step type as when measured
            options["step_type"] = "ET_NLT"
            return target.action(row.name, status="S", **options)
        measured = row.measured
        if measured is None:
            return target.pass_fail(row.name, status == "P", status=status, **options)
        op, low, high = comparison(row, measured, thresholds)
        return target.numeric(
            row.name,
            measured.value,
            op,
            low=low,
            high=high,
            unit=measured.unit,
            status=status,
            **options,
        )
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"line {row.line}: {exc}") from None


def add_rows(
    root: SequenceBuilder,
    rows: Iterator[Row],
    budget: OutputBudget,
    thresholds: Thresholds,
    *,
    group_by_component: bool,
    fail_parent: bool,
) -> float:
    """Add every row's step; return the sum of their measuring times (seconds).

    Args:
        root: the report's root sequence.
        rows: the board's rows in file order.
        budget: counts every step (the conversion stops once the report is certainly too big).
        thresholds: the open and short thresholds.
        group_by_component: one sequence per component letters, else all steps under the root.
        fail_parent: whether a failed step fails the report; off when the tester passed the
            board (its verdict is the report's result).

    Raises:
        ConversionError: a wrong row, or the reports are over a size cap.
    """
    sequences: dict[str, SequenceBuilder] = {}
    total = 0.0
    for row in rows:
        target = root
        if group_by_component:
            key = prefix_of(row.parts) or "Other"
            target = sequences.get(key) or root.sequence(key, fail_parent=fail_parent)
            sequences[key] = target
        handle = add_row(target, row, thresholds, fail_parent=fail_parent or group_by_component)
        budget.add_step(handle.step, row.line)
        total += row.time or 0.0
    return total

"""Pass/fail evaluation, argument checks and status propagation for :mod:`pywats.report_builder`.

Small stateless functions, usable on their own (a converter that needs to decide a measurement's
status calls :func:`evaluate`, also exported by :mod:`pywats.report_builder`):

* :func:`evaluate` / :func:`evaluate_string` apply a comparison operator (``wats-api.md`` §5.13;
  ``LT``/``LE`` compare against the *low* limit);
* :func:`check_numeric` / :func:`check_string` reject arguments that cannot make a valid
  measurement, with a message naming the problem;
* :func:`raise_status`, :func:`combine_measurements` and :func:`result_for` implement the
  "Active mode" propagation of §5.17: Passed/Done/Skipped/Unknown < Failed < Error < Terminated,
  and a status is only ever raised, never lowered;
* :func:`numeric_measurement` / :func:`string_measurement` build an evaluated measurement, and
  :func:`enum_value`, :func:`text`, :func:`opt_text`, :func:`integer`, :func:`aware` check the
  other builder arguments;
* :func:`text_problems` finds XML-invalid characters in step texts, which
  :func:`pywats.validation.validate_report` does not look at.
"""

from __future__ import annotations

import base64
import enum
import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from pywats.models.report import (
    DUAL_LIMIT_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    BooleanMeasurement,
    CompOp,
    LoopInfo,
    MeasurementStatus,
    NumericMeasurement,
    ReportResult,
    StepStatus,
    StringMeasurement,
)
from pywats.validation import text_problems

__all__ = [
    "Meas",
    "aware",
    "b64",
    "check_names",
    "check_numeric",
    "check_string",
    "combine_measurements",
    "deciding_iteration",
    "enum_value",
    "evaluate",
    "evaluate_string",
    "integer",
    "is_failing",
    "loop_info",
    "meas_status",
    "measured_status",
    "numeric_measurement",
    "opt_text",
    "raise_status",
    "rank",
    "result_for",
    "seconds",
    "string_measurement",
    "text",
    "text_problems",
]

Meas = NumericMeasurement | StringMeasurement | BooleanMeasurement
_E = TypeVar("_E", bound=enum.StrEnum)

# The team's ordering (§5.17): the C# API compares enum ordinals, whose order is undocumented.
_RANK: dict[str, int] = {
    StepStatus.PASSED: 0,
    StepStatus.DONE: 0,
    StepStatus.SKIPPED: 0,
    StepStatus.UNKNOWN: 0,
    StepStatus.FAILED: 1,
    StepStatus.ERROR: 2,
    StepStatus.TERMINATED: 3,
}
_MEAS_STATUSES = frozenset(MeasurementStatus)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _op(op: CompOp | str, allowed: frozenset[CompOp], kind: str) -> CompOp:
    try:
        parsed = op if isinstance(op, CompOp) else CompOp.parse(op)
    except (ValueError, AttributeError):
        raise ValueError(f"{op!r} is not a comparison operator") from None
    if parsed not in allowed:
        names = ", ".join(sorted(o.value for o in allowed))
        raise ValueError(f"{parsed.value} is not a {kind} comparison operator (use one of {names})")
    return parsed


def evaluate(
    op: CompOp | str, value: float, low: float | None = None, high: float | None = None
) -> bool:
    """Return whether a numeric ``value`` passes ``op`` with the given limits.

    Single-limit operators (``EQ``, ``NE``, ``GT``, ``GE``, ``LT``, ``LE``) compare against
    ``low``; the dual-limit ones use both; ``LOG`` always passes.

    Raises:
        ValueError: ``op`` is not a numeric operator, or a limit it needs is ``None``.
    """
    op = _op(op, NUMERIC_OPS, "numeric")
    if op is CompOp.LOG:
        return True
    if low is None:
        raise ValueError(f"{op.value} needs a low limit")
    if op in DUAL_LIMIT_OPS and high is None:
        raise ValueError(f"{op.value} needs a high limit")
    v = value
    if op is CompOp.EQ:
        return v == low
    if op is CompOp.NE:
        return v != low
    if op is CompOp.GT:
        return v > low
    if op is CompOp.GE:
        return v >= low
    if op is CompOp.LT:
        return v < low
    if op is CompOp.LE:
        return v <= low
    assert high is not None
    dual = {
        CompOp.GTLT: low < v < high,
        CompOp.GTLE: low < v <= high,
        CompOp.GELT: low <= v < high,
        CompOp.GELE: low <= v <= high,
        CompOp.LTGT: v < low or v > high,
        CompOp.LTGE: v < low or v >= high,
        CompOp.LEGT: v <= low or v > high,
        CompOp.LEGE: v <= low or v >= high,
    }
    return dual[op]


def evaluate_string(op: CompOp | str, value: str, limit: str | None = None) -> bool:
    """Return whether a string ``value`` passes ``op`` against ``limit``.

    ``CASESENSIT``, ``EQ`` and ``NE`` compare case-sensitively, ``IGNORECASE`` compares
    case-folded text, ``LOG`` always passes.

    Raises:
        ValueError: ``op`` is not a string operator, or ``limit`` is ``None`` for a comparison.
    """
    op = _op(op, STRING_OPS, "string")
    if op is CompOp.LOG:
        return True
    if limit is None:
        raise ValueError(f"{op.value} needs a limit")
    if op is CompOp.IGNORECASE:
        return value.casefold() == limit.casefold()
    if op is CompOp.NE:
        return value != limit
    return value == limit


def _finite(value: object, what: str) -> float:
    # bool is an int; a True/False "measurement" is almost certainly a pass/fail step by mistake.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} {value} is too large for a double") from None
    if not math.isfinite(number):
        # JSON has no NaN/Infinity and the server's handling of the string forms is unverified.
        raise ValueError(f"{what} must be finite, got {number}")
    return number


def check_numeric(
    op: CompOp | str, value: object, low: object, high: object, *, what: str
) -> tuple[CompOp, float, float | None, float | None]:
    """Check the arguments of a numeric measurement and return them normalised.

    Args:
        op: the comparison operator (``CompOp`` or its name, any case).
        value: the measured value; must be a finite number.
        low: the low limit (the only limit of single-limit operators).
        high: the high limit (dual-limit operators only).
        what: how to name the measurement in error messages.

    Raises:
        TypeError: a value or limit is not a number.
        ValueError: the operator is not numeric, a limit is missing, not finite, given for an
            operator that does not use it, or ``low > high``.
    """
    parsed = _op(op, NUMERIC_OPS, "numeric")
    number = _finite(value, f"{what}: value")
    needed = parsed.limit_count
    if needed == 0 and (low is not None or high is not None):
        raise ValueError(f"{what}: LOG does not compare, so it takes no limits")
    if needed == 1 and high is not None:
        # LT/LE compare against the low limit; passing high= is the predecessor client's bug.
        raise ValueError(f"{what}: {parsed.value} compares against low= only; high= is not used")
    if needed >= 1 and low is None:
        raise ValueError(f"{what}: {parsed.value} needs low=")
    if needed == 2 and high is None:
        raise ValueError(f"{what}: {parsed.value} needs both low= and high=")
    lo = None if low is None else _finite(low, f"{what}: low limit")
    hi = None if high is None else _finite(high, f"{what}: high limit")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{what}: low limit {lo} is above high limit {hi}")
    return parsed, number, lo, hi


def check_string(
    op: CompOp | str, value: object, limit: object, *, what: str
) -> tuple[CompOp, str, str | None]:
    """Check the arguments of a string measurement and return them normalised.

    Raises:
        TypeError: ``value`` or ``limit`` is not a string.
        ValueError: the operator is not a string operator, or the limit is missing (or given to
            ``LOG``, which does not compare).
    """
    parsed = _op(op, STRING_OPS, "string")
    if not isinstance(value, str):
        raise TypeError(f"{what}: value must be a str, not {type(value).__name__}")
    if limit is not None and not isinstance(limit, str):
        raise TypeError(f"{what}: limit must be a str, not {type(limit).__name__}")
    if parsed is CompOp.LOG and limit is not None:
        raise ValueError(f"{what}: LOG does not compare; use CASESENSIT or IGNORECASE with limit=")
    if parsed is not CompOp.LOG and limit is None:
        raise ValueError(f"{what}: {parsed.value} needs limit=")
    return parsed, value, limit


def rank(status: str | None) -> int:
    """Severity of a step status: 0 passed/done/skipped/unknown, 1 failed, 2 error, 3 terminated."""
    return _RANK.get(status or "", 0)


def is_failing(status: str | None) -> bool:
    """True for ``F``, ``E`` and ``T``: statuses that propagate to the parent."""
    return rank(status) > 0


def raise_status(current: str, child: str | None) -> str:
    """Return ``current`` raised to ``child`` when ``child`` is more severe (never lowers it)."""
    return child if child is not None and rank(child) > rank(current) else current


def combine_measurements(statuses: Iterable[str | None]) -> str:
    """The status of a step from its measurements: F if any failed, S if all skipped, else P."""
    seen = list(statuses)
    if MeasurementStatus.FAILED in seen:
        return StepStatus.FAILED.value
    if seen and all(s == MeasurementStatus.SKIPPED for s in seen):
        return StepStatus.SKIPPED.value
    return StepStatus.PASSED.value


def result_for(status: str | None) -> ReportResult:
    """The report result a root step status leads to (P unless it failed, errored, terminated)."""
    return (
        ReportResult(status) if status is not None and is_failing(status) else ReportResult.PASSED
    )


def loop_info(statuses: Sequence[str | None]) -> LoopInfo:
    """Summary loop data for iterations with these statuses.

    Written in the importer's form (decision D4): ``endingIndex`` = highest index = count - 1,
    ``num`` = count.
    """
    failed = sum(1 for s in statuses if is_failing(s))
    count = len(statuses)
    return LoopInfo(num=count, ending_index=count - 1, passed=count - failed, failed=failed)


def deciding_iteration(statuses: Sequence[str | None], summary: str) -> int:
    """Index of the iteration a loop summary repeats.

    The first iteration with the summary's (failing) status, so the summary shows what failed;
    when the loop passed, the last iteration with that status (the final state, as TestStand).
    """
    matches = [i for i, s in enumerate(statuses) if s == summary]
    if not matches:
        return len(statuses) - 1
    return matches[0] if is_failing(summary) else matches[-1]


# --- argument checks ------------------------------------------------------------------------


def enum_value(cls: type[_E], value: object, what: str) -> str:
    """Return ``value`` as the wire string of enumeration ``cls``.

    Raises:
        ValueError: ``value`` is not one of the enumeration's values (the message lists them).
    """
    if isinstance(value, str) and value in cls._value2member_map_:
        return cls(value).value
    allowed = ", ".join(m.value for m in cls)
    raise ValueError(f"{what} {value!r} is not one of {allowed}")


def text(value: object, what: str) -> str:
    """Return ``value``, a non-blank str (``TypeError``/``ValueError`` otherwise)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value


def opt_text(value: object, what: str) -> str | None:
    """Return ``value``, a str or ``None`` (``TypeError`` otherwise)."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, not {type(value).__name__}")
    return value


def integer(value: object, what: str) -> int:
    """Return ``value``, an int that is not a bool (``TypeError`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def aware(when: object) -> datetime:
    """Return ``when`` with a UTC offset; a naive time is taken as the station's local time.

    The reference client makes the same assumption (§5.18); the server needs the offset.
    """
    if not isinstance(when, datetime):
        raise TypeError(f"a time must be a datetime, not {type(when).__name__}")
    return when if when.tzinfo is not None else when.astimezone()


def seconds(value: object, what: str) -> float:
    """Return ``value`` as a finite, non-negative float."""
    number = _finite(value, what)
    if number < 0:
        raise ValueError(f"{what} must not be negative")
    return number


def b64(data: object, what: str) -> str:
    """Return ``data`` (bytes-like) as standard padded base64."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"{what}: data must be bytes, not {type(data).__name__}")
    return base64.b64encode(data).decode("ascii")


def meas_status(explicit: object, passed: bool) -> str:
    """A measurement status: ``explicit`` when given (P, F or S), else from ``passed``."""
    if explicit is not None:
        return enum_value(MeasurementStatus, explicit, "measurement status")
    return (MeasurementStatus.PASSED if passed else MeasurementStatus.FAILED).value


def numeric_measurement(
    name: str | None,
    value: object,
    comp_op: CompOp | str,
    low: object,
    high: object,
    unit: object,
    status: object,
    what: str,
) -> NumericMeasurement:
    """Check the arguments and return the measurement with its evaluated status."""
    op, number, lo, hi = check_numeric(comp_op, value, low, high, what=what)
    return NumericMeasurement(
        name=name,
        status=meas_status(status, evaluate(op, number, lo, hi)),
        value=number,
        unit=opt_text(unit, f"{what}: unit"),
        comp_op=op.value,
        low_limit=lo,
        high_limit=hi,
    )


def string_measurement(
    name: str | None, value: object, comp_op: CompOp | str, limit: object, status: object, what: str
) -> StringMeasurement:
    """Check the arguments and return the measurement with its evaluated status."""
    op, value_text, lim = check_string(comp_op, value, limit, what=what)
    passed = evaluate_string(op, value_text, lim)
    return StringMeasurement(
        name=name, status=meas_status(status, passed), value=value_text, limit=lim, comp_op=op.value
    )


def check_names(meas: Sequence[Meas], what: str) -> None:
    """Check that a multi-measurement step has measurements, each uniquely named."""
    if not meas:
        raise ValueError(f"{what} needs at least one measurement")
    names = [m.name for m in meas]
    if any(n is None for n in names):
        raise ValueError(f"{what}: every measurement needs a name")
    duplicates = sorted({n for n in names if n is not None and names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{what}: measurement names must be unique; repeated: {duplicates}")


def measured_status(meas: Sequence[Meas], status: object) -> str:
    """The status of a step holding ``meas``: ``status`` when given, else from the measurements.

    A given status on a one-measurement step is written to the measurement too, because the
    server rejects a step whose status differs from its only measurement's (rule O1).

    Raises:
        ValueError: ``status`` is unknown, or not P/F/S on a one-measurement step.
    """
    if status is None:
        return combine_measurements(m.status for m in meas)
    chosen = enum_value(StepStatus, status, "step status")
    if len(meas) == 1:
        if chosen not in _MEAS_STATUSES:
            raise ValueError(
                "a step with one measurement must have that measurement's status (P, F or S); "
                f"{chosen!r} is not possible"
            )
        meas[0].status = chosen
    return chosen

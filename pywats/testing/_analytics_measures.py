"""Numeric measurements and step executions read out of stored test reports, and the statistics
the analytics data routes compute from them (count, mean, sample standard deviation, Cp, Cpk).

Paths are the step names from the root down joined by ``¶``; a measurement of a step with
several numeric measurements adds ``¶¶`` and its name. Loop summary steps repeat one
iteration's data, so they and what is below them are left out: every iteration counts once.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pywats.models.analytics_data import MEASUREMENT_SEPARATOR, PATH_SEPARATOR
from pywats.models.report import CompOp, NumericMeasurement, Step, UUTReport
from pywats.models.report_query import ReportHeader

__all__ = [
    "STATUS_WORDS",
    "Execution",
    "Point",
    "executions",
    "folded",
    "spec_limits",
    "summary",
]

STATUS_WORDS = {
    "P": "Passed",
    "F": "Failed",
    "D": "Done",
    "S": "Skipped",
    "E": "Error",
    "T": "Terminated",
    "U": "Unknown",
}
"""WSJF status letters as the analytics answers write them."""


def folded(path: str) -> str:
    """A path as paths are compared: case-insensitively, as the server's database does."""
    return path.casefold()


@dataclass(frozen=True, slots=True)
class Point:
    """One numeric measurement of one report."""

    header: ReportHeader
    step_name: str
    step_path: str
    measure_name: str | None  # set only in a step with several numeric measurements
    value: float | None
    unit: str | None
    comp_op: str | None
    low: float | None
    high: float | None
    status: str | None  # WSJF letter

    @property
    def path(self) -> str:
        """The measurement path that names this measurement."""
        if self.measure_name is None:
            return self.step_path
        return f"{self.step_path}{MEASUREMENT_SEPARATOR}{self.measure_name}"

    @property
    def start(self) -> datetime | None:
        """When the report started."""
        return self.header.start


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution of one step in one report."""

    header: ReportHeader
    step: Step
    path: str
    points: tuple[Point, ...]


def _is_loop_summary(step: Step) -> bool:
    return step.loop is not None and step.loop.is_summary


def _points(header: ReportHeader, step: Step, path: str) -> tuple[Point, ...]:
    meas: Sequence[NumericMeasurement] = step.numeric_meas or ()
    multi = len(meas) > 1 or any(m.name is not None for m in meas)
    return tuple(
        Point(
            header=header,
            step_name=step.name or "",
            step_path=path,
            measure_name=(m.name or f"Measurement{i}") if multi else None,
            value=m.value,
            unit=m.unit,
            comp_op=m.comp_op,
            low=m.low_limit,
            high=m.high_limit,
            status=m.status,
        )
        for i, m in enumerate(meas)
    )


def executions(report: UUTReport, header: ReportHeader) -> Iterator[Execution]:
    """Every step the report ran (the root included), depth-first, loop summaries left out."""
    if report.root is None:
        return
    stack: list[tuple[Step, str]] = [(report.root, report.root.name or "")]
    while stack:
        step, path = stack.pop()
        if _is_loop_summary(step):
            continue  # it repeats an iteration, which is counted itself
        yield Execution(header, step, path, _points(header, step, path))
        for child in reversed(step.steps or ()):
            stack.append((child, f"{path}{PATH_SEPARATOR}{child.name or ''}"))


def spec_limits(
    comp_op: str | None, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """The lower and upper specification limits a comparison operator makes of the limits.

    ``GE``/``GT`` make the (low) limit a lower limit, ``LE``/``LT`` an upper one (WATS keeps a
    single limit in ``lowLimit``); ``GELE``-style ranges give both; operators that pass values
    *outside* a range (``LTGT``…), ``EQ``, ``NE`` and ``LOG`` give none.
    """
    try:
        op = CompOp.parse(comp_op or "LOG")
    except ValueError:
        return None, None
    if op in (CompOp.GT, CompOp.GE):
        return low, None
    if op in (CompOp.LT, CompOp.LE):
        return None, low
    if op in (CompOp.GTLT, CompOp.GTLE, CompOp.GELT, CompOp.GELE):
        return low, high
    return None, None


def _ratio(top: float, bottom: float) -> float | None:
    value = top / bottom
    return value if math.isfinite(value) else None


def summary(values: Iterable[float], lsl: float | None, usl: float | None) -> dict[str, Any]:
    """Count, min, max, mean and spread of ``values``, and the process capability against the
    specification limits, keyed by the analytics rows' member names (snake case).

    ``stdev`` is the sample standard deviation (divided by n - 1; ``None`` below two values),
    ``var`` its square; ``cp = (usl - lsl) / 6 stdev``, ``cp_upper = (usl - avg) / 3 stdev``,
    ``cp_lower = (avg - lsl) / 3 stdev``, ``cpk`` the smaller of those two that exist;
    ``sigma_high3``/``sigma_low3`` are ``avg ± 3 stdev``. Without a spread (or a limit) what
    needs it is left out.
    """
    data = [v for v in values if math.isfinite(v)]
    out: dict[str, Any] = {"count": len(data)}
    if not data:
        return out
    avg = statistics.fmean(data)
    out.update(min=min(data), max=max(data), avg=avg)
    if len(data) < 2:
        return out
    stdev = statistics.stdev(data)
    out.update(
        stdev=stdev, var=stdev * stdev, sigma_high3=avg + 3 * stdev, sigma_low3=avg - 3 * stdev
    )
    if stdev <= 0:
        return out
    upper = _ratio(usl - avg, 3 * stdev) if usl is not None else None
    lower = _ratio(avg - lsl, 3 * stdev) if lsl is not None else None
    sides = [s for s in (upper, lower) if s is not None]
    out.update(
        cp_upper=upper,
        cp_lower=lower,
        cpk=min(sides) if sides else None,
        cp=_ratio(usl - lsl, 6 * stdev) if usl is not None and lsl is not None else None,
    )
    return out

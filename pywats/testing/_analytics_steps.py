"""Test-step analysis (``POST /api/App/TestStepAnalysis``) from step executions: per step path,
the executions by status, the failures it caused, its times and its measurement statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pywats.models.analytics_data import StepAnalysisRow
from pywats.testing._analytics_measures import Execution, Point, folded, spec_limits, summary

__all__ = ["step_analysis"]

_COUNTS = {
    "P": "step_passed_count",
    "D": "step_done_count",
    "S": "step_skipped_count",
    "F": "step_failed_count",
    "E": "step_error_count",
    "T": "step_terminated_count",
}
_CAUSED = {
    "Failed": "step_caused_uut_failed",
    "Error": "step_caused_uut_error",
    "Terminated": "step_caused_uut_terminated",
}
_GROUPS = {"S": "Setup", "M": "Main", "C": "Cleanup"}


def _measure_fields(points: Sequence[Point]) -> dict[str, Any]:
    """Limits of the newest measurement, and statistics with and without failures."""
    if not points:
        return {}
    newest = points[-1]
    lsl, usl = spec_limits(newest.comp_op, newest.low, newest.high)
    every = summary((p.value for p in points if p.value is not None), lsl, usl)
    passed = summary((p.value for p in points if p.value is not None and p.status == "P"), lsl, usl)
    out: dict[str, Any] = {
        "unit": newest.unit,
        "comp_operator": newest.comp_op,
        "limit1": newest.low,
        "limit2": newest.high,
        "measure_count": every.pop("count"),
        "measure_count_wof": passed.pop("count"),
    }
    out.update(every)
    out.update({f"{key}_wof": value for key, value in passed.items()})
    return out


def _step_row(runs: Sequence[Execution]) -> dict[str, Any]:
    newest = runs[-1].step
    row: dict[str, Any] = {
        "step_name": newest.name,
        "step_path": runs[-1].path,
        "step_type": newest.step_type,
        "step_group": _GROUPS.get(newest.group or "", newest.group),
        "step_count": len(runs),
    }
    counts = dict.fromkeys([*_COUNTS.values(), "step_other_count", *_CAUSED.values()], 0)
    times: list[float] = []
    for run in runs:
        counts[_COUNTS.get(run.step.status or "", "step_other_count")] += 1
        result = run.header.result or ""
        if run.step.caused_uut_failure and result in _CAUSED:
            counts[_CAUSED[result]] += 1
        if run.step.tot_time is not None:
            times.append(run.step.tot_time)
    row.update(counts)
    if times:
        row.update(
            step_time_avg=sum(times) / len(times),
            step_time_min=min(times),
            step_time_max=max(times),
        )
    return row


def step_analysis(executions: Iterable[Execution]) -> list[StepAnalysisRow]:
    """One row per step path (in the order steps first ran), oldest executions first in
    ``executions``; a multi-numeric step adds one row per measurement after its own."""
    by_path: dict[str, list[Execution]] = {}
    for execution in executions:
        by_path.setdefault(folded(execution.path), []).append(execution)
    rows: list[StepAnalysisRow] = []
    for runs in by_path.values():
        row = _step_row(runs)
        points = [p for run in runs for p in run.points]
        if points and all(p.measure_name is None for p in points):
            row.update(_measure_fields(points))
            rows.append(StepAnalysisRow(**row))
            continue
        rows.append(StepAnalysisRow(**row))
        names: dict[str, list[Point]] = {}
        for point in points:
            names.setdefault(folded(point.measure_name or ""), []).append(point)
        for measured in names.values():
            rows.append(
                StepAnalysisRow(
                    step_name=row["step_name"],
                    step_path=row["step_path"],
                    step_type=row["step_type"],
                    step_group=row["step_group"],
                    measure_name=measured[-1].measure_name,
                    **_measure_fields(measured),
                )
            )
    return rows

"""Top failed steps: which steps failed in stored test reports, and how often.

Pure functions (reports in, numbers out), for the emulator's ``TopFailed`` routes. A step is
named by its path: the step names from the root down, joined by ``¶`` (as the description's
measurement paths are). Only steps without child steps count (a sequence fails because a step
in it did), loop summaries are left out (they repeat an iteration), and a step counts once per
report however often it ran there (a loop): failed when one of its runs failed (status ``F``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pywats.models.report import Step, UUTReport
from pywats.testing._analytics_stats import STEP_PATH_SEPARATOR, ReportFacts, percent

__all__ = ["FailedStepCounts", "StepResult", "failed_step_table", "step_results"]

_GROUP_WORDS = {"S": "Setup", "M": "Main", "C": "Cleanup"}


@dataclass(frozen=True, slots=True)
class StepResult:
    """A step (by path) in one report: failed when any run of it there failed."""

    name: str
    path: str
    step_type: str | None
    group: str | None
    failed: bool


def _leaves(root: Step) -> Iterator[tuple[Step, str]]:
    """Every step without child steps, with its path; loop summaries (which repeat an
    iteration) and what is below them are left out."""
    stack: list[tuple[Step, str]] = [(root, root.name or "")]
    while stack:
        step, path = stack.pop()
        if step.loop is not None and step.loop.is_summary:
            continue
        if not step.steps:
            yield step, path
        for child in reversed(step.steps or ()):
            stack.append((child, f"{path}{STEP_PATH_SEPARATOR}{child.name or ''}"))


def step_results(report: UUTReport) -> dict[str, StepResult]:
    """The report's steps without child steps, by path; a path run several times (a loop)
    failed when one of its runs did (status ``F``)."""
    out: dict[str, StepResult] = {}
    if report.root is None:
        return out
    for step, path in _leaves(report.root):
        failed = step.status == "F"
        seen = out.get(path)
        if seen is None or (failed and not seen.failed):
            out[path] = StepResult(
                name=step.name or "",
                path=path,
                step_type=step.step_type,
                group=_GROUP_WORDS.get(step.group or "", step.group),
                failed=failed or (seen is not None and seen.failed),
            )
    return out


@dataclass
class FailedStepCounts:
    """How often one step of one product and test operation failed."""

    step: StepResult
    part_number: str | None
    test_operation: str | None
    process_code: int | None
    fail_count: int = 0
    total_count: int = 0
    first_fail: datetime | None = None
    last_fail: datetime | None = None

    def row(self) -> dict[str, Any]:
        """The ``TopFailed`` row, by wire names."""
        return {
            "stepName": self.step.name,
            "stepPath": self.step.path,
            "stepType": self.step.step_type,
            "stepGroup": self.step.group,
            "partNumber": self.part_number,
            "testOperation": self.test_operation,
            "processCode": self.process_code,
            "failCount": self.fail_count,
            "totalCount": self.total_count,
            "failRate": percent(self.fail_count, self.total_count),
            "firstFailDate": self.first_fail,
            "lastFailDate": self.last_fail,
        }


def failed_step_table(
    reports: Iterable[tuple[ReportFacts, Mapping[str, StepResult]]],
) -> list[FailedStepCounts]:
    """Each step (per part number and test operation) that failed in at least one report, most
    failures first (then highest rate, then path); counts are reports, not loop iterations."""
    table: dict[tuple[str, int, str], FailedStepCounts] = {}
    for facts, results in reports:
        h = facts.header
        for path, result in results.items():
            key = (h.part_number or "", h.process_code or 0, path)
            counts = table.get(key)
            if counts is None:
                counts = table[key] = FailedStepCounts(
                    result, h.part_number, h.process_name, h.process_code
                )
            counts.total_count += 1
            if result.failed:
                counts.fail_count += 1
                counts.first_fail = min(counts.first_fail or facts.start, facts.start)
                counts.last_fail = max(counts.last_fail or facts.start, facts.start)
    failing = [c for c in table.values() if c.fail_count]
    return sorted(
        failing,
        key=lambda c: (
            -c.fail_count,
            -c.fail_count / c.total_count,
            c.step.path,
            c.part_number or "",
        ),
    )

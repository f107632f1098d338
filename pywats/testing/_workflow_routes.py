"""The emulator's ``workflow`` routes: start and end a unit's test activity (tag Workflow).

The emulator keeps one workflow per unit (serial number and part number, case-insensitive) and
definition status (:func:`workflow_state`). It has no routes to initialise a workflow, so the
first ``StartTest`` of a unit initialises it. Then, as the description says of the server:

* ``StartTest`` answers ``true`` and records the test; ``false`` while a test is running;
* ``EndTest`` answers ``true`` and closes the running test (with its outcome); ``false`` when
  no test is running;
* ``EndTest`` for a unit whose workflow was never started under that status answers 404 (the
  server cannot end a test in a workflow that is not there).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pywats.models.workflow import WorkflowStatus
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["WorkflowState", "WorkflowTest", "add_workflow_routes", "workflow_state"]

_STATUS_NAMES = ", ".join(f"{s.value} ({s.name.title()})" for s in WorkflowStatus)


@dataclass
class WorkflowTest:
    """One test activity of a unit's workflow, as the emulator recorded it."""

    serial_number: str
    part_number: str
    status: WorkflowStatus
    started: datetime
    operator_name: str | None = None
    station_name: str | None = None
    ended: datetime | None = None
    passed: bool | None = None
    ended_by: str | None = None  # the operator given to EndTest
    ended_at: str | None = None  # the station given to EndTest

    @property
    def running(self) -> bool:
        """Whether the test was started and not ended yet."""
        return self.ended is None


_Key = tuple[str, str, WorkflowStatus]


@dataclass
class WorkflowState:
    """Every test activity the emulator was told of (``emu.domain_state("workflow", …)``)."""

    tests: list[WorkflowTest] = field(default_factory=list)
    # unit (serial casefolded, part casefolded, status) -> its latest test
    latest: dict[_Key, WorkflowTest] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tests_of(self, serial_number: str, part_number: str) -> list[WorkflowTest]:
        """The tests of one unit, oldest first."""
        sn, pn = serial_number.casefold(), part_number.casefold()
        with self.lock:
            return [
                t
                for t in self.tests
                if t.serial_number.casefold() == sn and t.part_number.casefold() == pn
            ]


def workflow_state(emu: FakeWATS) -> WorkflowState:
    """The emulator's workflow test activities."""
    return emu.domain_state("workflow", WorkflowState)


def add_workflow_routes(router: Router) -> None:
    """Register the workflow routes on ``router``."""
    router.add("GET", "/api/Workflow/StartTest", start_test)
    router.add("GET", "/api/Workflow/EndTest", end_test)


def _required(req: Request, name: str) -> str:
    value = req.param(name)
    if not value:
        raise HTTPFailure(400, f"The {name} parameter is required.")
    return value


def _status(req: Request) -> WorkflowStatus:
    text = req.param("status")
    if text is None or text == "":
        return WorkflowStatus.RELEASED
    try:
        return WorkflowStatus(int(text.strip()))
    except ValueError:
        raise HTTPFailure(
            400, f"status: '{text[:100]}' is not a workflow status; use {_STATUS_NAMES}."
        ) from None


def _passed(req: Request) -> bool:
    text = req.param("passed")
    if text is None or text == "":
        return True
    if text.strip().lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{text[:100]}' is not valid for passed.")
    return text.strip().lower() == "true"


def _unit(req: Request) -> tuple[str, str, WorkflowStatus]:
    return _required(req, "serialNumber"), _required(req, "partNumber"), _status(req)


def start_test(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Workflow/StartTest``: ``true`` when a test starts, ``false`` if one runs."""
    serial, part, status = _unit(req)
    state = workflow_state(emu)
    key = (serial.casefold(), part.casefold(), status)
    with state.lock:
        latest = state.latest.get(key)
        if latest is not None and latest.running:
            return json_response(False)
        test = WorkflowTest(
            serial_number=serial,
            part_number=part,
            status=status,
            started=datetime.now(UTC),
            operator_name=req.param("operatorName"),
            station_name=req.param("stationName"),
        )
        state.tests.append(test)
        state.latest[key] = test
    return json_response(True)


def end_test(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Workflow/EndTest``: ``true`` when the running test ends, ``false`` if none runs.

    A unit whose workflow was never started under ``status`` is answered 404.
    """
    serial, part, status = _unit(req)
    passed = _passed(req)
    state = workflow_state(emu)
    key = (serial.casefold(), part.casefold(), status)
    with state.lock:
        latest = state.latest.get(key)
        if latest is None:
            raise HTTPFailure(
                404,
                f"No workflow test was started on unit '{serial}' (part number '{part}') "
                f"under definition status {status.value} ({status.name.title()}).",
            )
        if not latest.running:
            return json_response(False)
        latest.ended = datetime.now(UTC)
        latest.passed = passed
        latest.ended_by = req.param("operatorName")
        latest.ended_at = req.param("stationName")
    return json_response(True)

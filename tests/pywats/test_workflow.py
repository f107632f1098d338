"""``api.workflow`` against the emulator, blocking and async: a unit's test activity."""

from __future__ import annotations

from typing import Any

import pytest

import pywats
from pywats import pyWATS
from pywats.models.workflow import WorkflowStatus
from pywats.testing import FakeWATS
from pywats.testing._workflow_routes import workflow_state
from tests.pywats.both_clients import both_clients

fake, api = both_clients()


def test_start_records_the_test(api: pyWATS, fake: FakeWATS) -> None:
    assert api.workflow.start_test("SN-1", "PN-1", operator_name="ann", station_name="ST-1")
    (test,) = workflow_state(fake).tests_of("sn-1", "pn-1")
    assert (test.serial_number, test.part_number) == ("SN-1", "PN-1")
    assert (test.operator_name, test.station_name) == ("ann", "ST-1")
    assert test.status is WorkflowStatus.RELEASED
    assert test.running


def test_end_closes_the_test_with_its_outcome(api: pyWATS, fake: FakeWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    assert api.workflow.end_test("SN-1", "PN-1", passed=False, operator_name="bob")
    (test,) = workflow_state(fake).tests_of("SN-1", "PN-1")
    assert not test.running
    assert test.passed is False
    assert test.ended_by == "bob"


def test_passed_is_the_default_outcome(api: pyWATS, fake: FakeWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    api.workflow.end_test("SN-1", "PN-1")
    assert workflow_state(fake).tests_of("SN-1", "PN-1")[0].passed is True


def test_start_while_a_test_runs_is_false(api: pyWATS) -> None:
    assert api.workflow.start_test("SN-1", "PN-1")
    assert api.workflow.start_test("sn-1", "pn-1") is False  # the same unit, any case


def test_a_unit_is_tested_again_after_its_test_ended(api: pyWATS, fake: FakeWATS) -> None:
    for passed in (False, True):
        assert api.workflow.start_test("SN-1", "PN-1")
        assert api.workflow.end_test("SN-1", "PN-1", passed=passed)
    assert [t.passed for t in workflow_state(fake).tests_of("SN-1", "PN-1")] == [False, True]


def test_end_without_a_running_test_is_false(api: pyWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    assert api.workflow.end_test("SN-1", "PN-1")
    assert api.workflow.end_test("SN-1", "PN-1") is False


def test_end_of_a_test_never_started_is_not_found(api: pyWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    with pytest.raises(pywats.NotFoundError, match="No workflow test was started on unit 'SN-2'"):
        api.workflow.end_test("SN-2", "PN-1")


def test_the_status_names_a_workflow_of_its_own(api: pyWATS) -> None:
    assert api.workflow.start_test("SN-1", "PN-1", status=WorkflowStatus.DRAFT)
    with pytest.raises(pywats.NotFoundError, match=r"status 2 \(Released\)"):
        api.workflow.end_test("SN-1", "PN-1")
    assert api.workflow.end_test("SN-1", "PN-1", status=0)


@pytest.mark.parametrize("status", [4, -1, True])
def test_a_status_the_server_does_not_have_is_refused(api: pyWATS, status: Any) -> None:
    with pytest.raises(pywats.ValidationError, match=r"status: .* is not a workflow status"):
        api.workflow.start_test("SN-1", "PN-1", status=status)


@pytest.mark.parametrize("missing", ["serial_number", "part_number"])
@pytest.mark.parametrize("operation", ["start_test", "end_test"])
def test_serial_and_part_number_are_required(api: pyWATS, operation: str, missing: str) -> None:
    values: dict[str, Any] = {"serial_number": "SN-1", "part_number": "PN-1", missing: ""}
    name = "serialNumber" if missing == "serial_number" else "partNumber"
    with pytest.raises(pywats.ValidationError, match=f"The {name} parameter is required"):
        getattr(api.workflow, operation)(values["serial_number"], values["part_number"])


def test_passed_must_be_a_boolean(api: pyWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    wrong: Any = "yes"
    with pytest.raises(pywats.ValidationError, match="'yes' is not valid for passed"):
        api.workflow.end_test("SN-1", "PN-1", passed=wrong)


def test_reset_forgets_the_tests(api: pyWATS, fake: FakeWATS) -> None:
    api.workflow.start_test("SN-1", "PN-1")
    fake.reset()
    with pytest.raises(pywats.NotFoundError):
        api.workflow.end_test("SN-1", "PN-1")

"""``api.workflow``: start and end the test activity of a unit's workflow (WATS MES).

Tag Workflow of the server's API description. The unit must exist in WATS MES and its workflow
must have been initialised (by the Operator Interface or the MES API) under the same definition
status as the one given here.
"""

from __future__ import annotations

from pywats._call import Call, json_call
from pywats._domain import Domain, ModeT, operation
from pywats.models.workflow import WorkflowStatus

__all__ = ["WorkflowDomain"]


def _status(status: WorkflowStatus | int | None) -> int | None:
    # Sent as a number; a status the server does not have is its to refuse (a 400, which the
    # client raises as ValidationError), so the caller gets the server's own words.
    return int(status) if isinstance(status, int) and not isinstance(status, bool) else status


class WorkflowDomain(Domain[ModeT]):
    """Starting and ending a unit's test activity in its workflow."""

    @operation
    def start_test(
        self,
        serial_number: str,
        part_number: str,
        *,
        operator_name: str | None = None,
        station_name: str | None = None,
        status: WorkflowStatus | int | None = None,
    ) -> Call[bool]:
        """Start the test activity of a unit's workflow.

        Args:
            serial_number: the unit's serial number.
            part_number: the unit's part number.
            operator_name: who tests it.
            station_name: the test station.
            status: the status of the workflow definition the unit runs under (the server
                assumes :attr:`~WorkflowStatus.RELEASED`).

        Returns:
            ``True`` if the test started; ``False`` if the unit's workflow is not at a test
            activity (e.g. a test is already running).

        Raises:
            NotFoundError: the unit has no workflow under that status.
            ValidationError: a required value is missing or ``status`` is not one of the server's.
        """
        return json_call(
            "GET",
            "/api/Workflow/StartTest",
            bool,
            params={
                "serialNumber": serial_number,
                "partNumber": part_number,
                "operatorName": operator_name,
                "stationName": station_name,
                "status": _status(status),
            },
        )

    @operation
    def end_test(
        self,
        serial_number: str,
        part_number: str,
        *,
        passed: bool | None = None,
        operator_name: str | None = None,
        station_name: str | None = None,
        status: WorkflowStatus | int | None = None,
    ) -> Call[bool]:
        """End the test activity of a unit's workflow.

        Args:
            serial_number: the unit's serial number.
            part_number: the unit's part number.
            passed: the test's outcome (the server assumes passed).
            operator_name: who tested it.
            station_name: the test station.
            status: the status of the workflow definition (as given to :meth:`start_test`).

        Returns:
            ``True`` if the test ended; ``False`` if no test activity is running on the unit.

        Raises:
            NotFoundError: no test was ever started on the unit under that status.
        """
        return json_call(
            "GET",
            "/api/Workflow/EndTest",
            bool,
            params={
                "serialNumber": serial_number,
                "partNumber": part_number,
                "passed": passed,
                "operatorName": operator_name,
                "stationName": station_name,
                "status": _status(status),
            },
        )

"""The data side of ``api.analytics``: measurements and aggregated measurements, test-step
analysis, serial-number history, UUT/UUR report lists, repair statistics (tag App)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx
import msgspec

from pywats._call import Call, json_call
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.models.analytics_data import (
    PATHS_SEPARATOR,
    REPAIR_DIMENSIONS,
    REPAIR_KPIS,
    AggregatedMeasurement,
    MeasurementData,
    RepairHistoryRecord,
    RepairStatistics,
    StepAnalysisRow,
)
from pywats.models.analytics_filter import Run, WATSFilter, check_filter
from pywats.models.analytics_yield import parse_dimensions
from pywats.models.report_query import ReportHeader

__all__ = ["DataOperations"]

_json = msgspec.json.Encoder()


class _GroupOrRow(MeasurementData):
    """An item of a measurements answer: a group of one path's rows, or a row itself."""

    measurements: list[MeasurementData] | None = None


_ROW_FIELDS = tuple(f.name for f in msgspec.structs.fields(MeasurementData))


def _flatten(items: list[_GroupOrRow]) -> list[MeasurementData]:
    out: list[MeasurementData] = []
    for item in items:
        if item.measurements is None:
            out.append(MeasurementData(**{k: getattr(item, k) for k in _ROW_FIELDS}))
            continue
        for row in item.measurements:
            if row.measurement_path is None:
                row.measurement_path = item.measurement_path
            out.append(row)
    return out


def _filter_body(value: object) -> bytes:
    return _json.encode(check_filter(value))


def _paths(value: object) -> str | None:
    """Measurement paths as the ``measurementPaths`` parameter: ``;``-separated."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise InvalidArgumentError("measurement_paths must not be empty")
        return value
    if isinstance(value, bytes) or not isinstance(value, Sequence):
        raise InvalidArgumentError(
            f"measurement_paths must be a str or a list of str, not {type(value).__name__}"
        )
    for path in value:
        if not isinstance(path, str) or not path.strip():
            raise InvalidArgumentError(f"measurement_paths: {path!r} is not a measurement path")
        if PATHS_SEPARATOR in path:
            raise InvalidArgumentError(
                f"measurement_paths: {path!r} holds ';', which separates paths; give them apart"
            )
    if not value:
        raise InvalidArgumentError("measurement_paths must name at least one path")
    return PATHS_SEPARATOR.join(value)


def _text(value: object, what: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidArgumentError(f"{what} must be a non-empty str, not {value!r}")
    return value


def _code(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{what} must be a process code (int), not {value!r}")
    return str(value)


def _date(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{what} must be a datetime, not {type(value).__name__}")
    return value.isoformat()


def _ids(value: object, what: str) -> str | None:
    """Ids or names as the GET parameters take them: several joined by ``;``."""
    if value is None:
        return None
    items = [value] if isinstance(value, int | str) else value
    if not isinstance(items, Sequence) or isinstance(items, bytes) or not items:
        raise InvalidArgumentError(f"{what} must be an id, a name or a list of them, not {value!r}")
    for item in items:
        bad_text = isinstance(item, str) and (not item.strip() or ";" in item)
        if isinstance(item, bool) or not isinstance(item, int | str) or bad_text:
            raise InvalidArgumentError(
                f"{what} must be an id, a name or a list of them, not {value!r}"
            )
    return ";".join(str(i) for i in items)


def _repair_dimensions(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        if not all(isinstance(v, str) for v in value):
            raise InvalidArgumentError("dimensions must be a str or a list of str")
        text = ";".join(value)
    else:
        raise InvalidArgumentError(f"dimensions must be a str or a list of str, not {value!r}")
    parsed = parse_dimensions(text, REPAIR_DIMENSIONS, REPAIR_KPIS)
    if not parsed:
        raise InvalidArgumentError("dimensions must name at least one dimension")
    return ";".join(name if d is None else f"{name} {d}" for name, d in parsed)


def _headers_call(path: str, flt: object) -> Call[list[ReportHeader]]:
    return json_call("POST", path, list[ReportHeader], raw_body=_filter_body(flt), empty=[])


def _step_analysis_call(flt: object) -> Call[list[StepAnalysisRow]]:
    return json_call(
        "POST",
        "/api/App/TestStepAnalysis",
        list[StepAnalysisRow],
        raw_body=_filter_body(flt),
        empty=[],
    )


class DataOperations(Domain[ModeT]):
    """Measurements, step analysis, histories, report lists, repairs (a part of
    :class:`~pywats._calls.analytics.AnalyticsDomain`)."""

    # --- measurements -----------------------------------------------------------------------

    @operation
    def get_measurements(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
        measurement_paths: str | Sequence[str] | None = None,
    ) -> Call[list[MeasurementData]]:
        """The numeric measurements of the test reports the filter selects (at most 10,000),
        each with its report, limits and status, oldest first per path.

        Args:
            filter: which reports; the server requires ``part_number`` and
                ``test_operation``.
            measurement_paths: the measurements to read: paths written by
                :func:`~pywats.models.analytics_data.measurement_path` (step names from the root
                joined by ``¶``; ``¶¶name`` for one measurement of a multi-numeric step), a list
                of them or one ``;``-separated str.

        Raises:
            ValidationError: the server refused the filter (e.g. without part number and test
                operation).
            InvalidArgumentError: a filter or path of the wrong type (nothing is sent).
        """
        body = _filter_body(filter)
        call: Call[list[_GroupOrRow]] = json_call(
            "POST",
            "/api/App/Measurements",
            list[_GroupOrRow],
            params={"measurementPaths": _paths(measurement_paths)},
            raw_body=body,
            empty=[],
        )

        def parse(response: httpx.Response) -> list[MeasurementData]:
            return _flatten(call.parse(response))

        return Call(
            method=call.method,
            path=call.path,
            parse=parse,
            params=call.params,
            content=call.content,
            content_type=call.content_type,
        )

    @operation
    def get_aggregated_measurements(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
        measurement_paths: str | Sequence[str] | None = None,
    ) -> Call[list[AggregatedMeasurement]]:
        """Statistics of each measurement path over the reports the filter selects: count,
        min, max, average, standard deviation, Cp and Cpk against the limits.

        Arguments as :meth:`get_measurements`; see
        :class:`~pywats.models.analytics_data.AggregatedMeasurement` for the formulas.
        """
        return json_call(
            "POST",
            "/api/App/AggregatedMeasurements",
            list[AggregatedMeasurement],
            params={"measurementPaths": _paths(measurement_paths)},
            raw_body=_filter_body(filter),
            empty=[],
        )

    @operation
    def get_test_step_analysis(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
    ) -> Call[list[StepAnalysisRow]]:
        """Per step of the selected test reports: how often it ran, passed, failed…, how
        often it failed the unit, its times and its measurement statistics.

        The server requires ``part_number`` and ``test_operation`` in the filter; by default
        it reads the first run of each unit (``run``) of the last 30 days, at most 10,000
        reports (``max_count``).
        """
        return _step_analysis_call(filter)

    @operation
    def get_test_step_analysis_for_operation(
        self,
        part_number: str,
        test_operation: str,
        *,
        run: Run | None = None,
    ) -> Call[list[StepAnalysisRow]]:
        """:meth:`get_test_step_analysis` of one part number in one test operation."""
        return _step_analysis_call(
            WATSFilter(
                part_number=_text(part_number, "part_number", required=True),
                test_operation=_text(test_operation, "test_operation", required=True),
                run=run,
            )
        )

    # --- report lists and histories ---------------------------------------------------------

    @operation
    def get_serial_number_history(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
    ) -> Call[list[ReportHeader]]:
        """Every test and repair report of the units the filter selects, oldest first.

        The server reads ``serial_number``, ``part_number``, ``batch_number``,
        ``misc_value``, ``product_group`` and ``level``.
        """
        return _headers_call("/api/App/SerialNumberHistory", filter)

    @operation
    def get_uut_reports(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
    ) -> Call[list[ReportHeader]]:
        """The headers of the newest test reports the filter selects (1000 unless
        ``top_count`` says otherwise), newest first.

        The server reads ``product_group``, ``level``, ``serial_number``, ``part_number``,
        ``revision``, ``batch_number``, ``station_name``, ``test_operation``, ``status``,
        ``misc_value``, ``date_from``, ``date_to`` and ``top_count``.
        """
        return _headers_call("/api/App/UutReport", filter)

    @operation
    def find_uut_reports(
        self,
        *,
        serial_number: str | None = None,
        part_number: str | None = None,
        revision: str | None = None,
        batch_number: str | None = None,
        station_name: str | None = None,
        test_operation: str | None = None,
        status: str | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        product_group_id: int | str | Sequence[int | str] | None = None,
        level_id: int | str | Sequence[int | str] | None = None,
    ) -> Call[list[ReportHeader]]:
        """The headers of the 1000 newest test reports matching these values, newest first
        (``GET /api/App/UutReport``; the WATS wildcards ``%``, ``_`` and ``;`` work in text).

        Args:
            status: a full word: ``Passed``, ``Failed``, ``Error`` or ``Terminated``.
            product_group_id: a product group's id or name (``api.app.get_product_groups()``),
                or several.
            level_id: a level's id or name (``api.app.get_levels()``), or several.
        """
        texts = {
            "serialNumber": serial_number,
            "partNumber": part_number,
            "revision": revision,
            "batchNumber": batch_number,
            "stationName": station_name,
            "testOperation": test_operation,
            "status": status,
        }
        params: dict[str, str | None] = {k: _text(v, k) for k, v in texts.items()}
        params["dateFrom"] = _date(date_from, "date_from")
        params["dateTo"] = _date(date_to, "date_to")
        params["productGroupId"] = _ids(product_group_id, "product_group_id")
        params["levelId"] = _ids(level_id, "level_id")
        return json_call("GET", "/api/App/UutReport", list[ReportHeader], params=params, empty=[])

    @operation
    def get_uur_reports(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
    ) -> Call[list[ReportHeader]]:
        """The headers of the newest repair reports the filter selects (1000 unless
        ``top_count`` says otherwise), newest first; ``test_operation`` names the repair
        operation here."""
        return _headers_call("/api/App/UurReport", filter)

    # --- repairs ------------------------------------------------------------------------------

    @operation
    def get_dynamic_repair(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's name
        dimensions: str | Sequence[str] | None = None,
    ) -> Call[list[RepairStatistics]]:
        """Repair statistics of the selected repair reports, grouped by dimensions.

        Args:
            filter: which repair reports; without dates the last 30 days.
            dimensions: what to group and order by:
                :data:`~pywats.models.analytics_data.REPAIR_DIMENSIONS` and the figures
                ``repairCount`` and ``repairReportCount``, each optionally followed by ``asc``
                or ``desc`` (a list, or a ``;``-separated str); ``filter.dimensions`` when not
                given, else the server's default
                (:data:`~pywats.models.analytics_data.DEFAULT_REPAIR_DIMENSIONS`).

        Raises:
            InvalidArgumentError: an unknown dimension or direction (nothing is sent).
        """
        return json_call(
            "POST",
            "/api/App/DynamicRepair",
            list[RepairStatistics],
            params={"dimensions": _repair_dimensions(dimensions)},
            raw_body=_filter_body(filter),
            empty=[],
        )

    @operation
    def get_related_repair_history(
        self,
        part_number: str,
        revision: str,
        *,
        repair_operation_code: int | None = None,
        test_operation_code: int | None = None,
    ) -> Call[list[RepairHistoryRecord]]:
        """The repaired failures of a part number and revision, newest first: one record per
        failure a repair report recorded on the unit or on a sub-unit of that part.

        Args:
            repair_operation_code: only repairs in this repair operation.
            test_operation_code: only repairs of units that failed this test operation.
        """
        return json_call(
            "GET",
            "/api/App/RelatedRepairHistory",
            list[RepairHistoryRecord],
            params={
                "partNumber": _text(part_number, "part_number", required=True),
                "revision": _text(revision, "revision", required=True),
                "repairOperationCode": _code(repair_operation_code, "repair_operation_code"),
                "testOperationCode": _code(test_operation_code, "test_operation_code"),
            },
            empty=[],
        )

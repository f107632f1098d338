"""Analytics data rows: measurements, aggregated measurements, test-step analysis, repairs.

The server's description types these answers only as ``object``; the members here are the ones
WATS's analytics pages show (reference §3.7), camelCase on the wire. Statuses and results are
full words here (``Passed``, ``Failed``…), not the one-letter codes of WSJF.

A *measurement path* names one numeric measurement: the step names from the root sequence down,
joined by the pilcrow ``¶``, and for a step with several measurements ``¶¶`` and the
measurement's name (:func:`measurement_path` writes one).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pywats._errors import InvalidArgumentError
from pywats.models._base import Dto

__all__ = [
    "MEASUREMENT_SEPARATOR",
    "PATH_SEPARATOR",
    "PATHS_SEPARATOR",
    "REPAIR_DIMENSIONS",
    "REPAIR_KPIS",
    "DEFAULT_REPAIR_DIMENSIONS",
    "AggregatedMeasurement",
    "MeasurementData",
    "MeasurementGroup",
    "RepairHistoryRecord",
    "RepairStatistics",
    "StepAnalysisRow",
    "measurement_path",
]

PATH_SEPARATOR = "¶"
"""Between two step names of a measurement path."""

MEASUREMENT_SEPARATOR = "¶¶"
"""Between a multi-measurement step's path and the measurement's name."""

PATHS_SEPARATOR = ";"
"""Between two measurement paths of one request."""


REPAIR_DIMENSIONS = (
    "partNumber",
    "revision",
    "productName",
    "productGroup",
    "unitType",
    "repairOperation",
    "period",
    "level",
    "stationName",
    "location",
    "purpose",
    "operator",
    "miscInfoDescription",
    "miscInfoString",
    "repairCode",
    "repairCategory",
    "repairType",
    "componentRef",
    "componentNumber",
    "componentRevision",
    "componentVendor",
    "componentDescription",
    "functionBlock",
    "referencedStep",
    "referencedStepPath",
    "testOperation",
    "testPeriod",
    "testLevel",
    "testStationName",
    "testLocation",
    "testPurpose",
    "testOperator",
    "batchNumber",
    "swFilename",
    "swVersion",
)
"""The dimensions dynamic repair groups by (the description's list)."""

REPAIR_KPIS = ("repairReportCount", "repairCount")
"""The figures dynamic repair computes, which its rows can also be ordered by."""

DEFAULT_REPAIR_DIMENSIONS = "repairCount desc;repairReportCount desc;partNumber;repairOperation"
"""The server's default: the part number / repair operation pairs with the most repairs."""


def measurement_path(*steps: str, measurement: str | None = None) -> str:
    """The measurement path of a step (step names from the root down) or of one measurement.

    ``measurement_path("MainSequence Callback", "Power", "3V3")`` is
    ``"MainSequence Callback¶Power¶3V3"``; with ``measurement="Ch1"`` (a multi-numeric step)
    ``"MainSequence Callback¶Power¶3V3¶¶Ch1"``.

    Raises:
        InvalidArgumentError: no step, an empty name, or a name holding ``¶`` or ``;`` (the
            separators).
    """
    if not steps:
        raise InvalidArgumentError("a measurement path needs the step names, the root first")
    for name in [*steps, *([measurement] if measurement is not None else [])]:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"step and measurement names must be non-empty str, not {name!r}"
            )
        if PATH_SEPARATOR in name or PATHS_SEPARATOR in name:
            raise InvalidArgumentError(f"{name!r}: a name cannot hold '{PATH_SEPARATOR}' or ';'")
    path = PATH_SEPARATOR.join(steps)
    return path if measurement is None else f"{path}{MEASUREMENT_SEPARATOR}{measurement}"


class MeasurementData(Dto):
    """One numeric measurement of one report (``POST /api/App/Measurements``).

    Attributes:
        measurement_path: the path asked for (see :func:`measurement_path`).
        report_id: the test report it was measured in.
        start_utc: when that test started (UTC).
        run: the run of the serial number in the test operation (1 = first test).
        step_path: the step's path (``¶``-joined names from the root).
        measure_name: the measurement's name in a multi-numeric step (``None`` otherwise).
        limit1: the low limit (the only limit of single-limit operators).
        limit2: the high limit of dual-limit operators.
        comp_operator: the comparison operator (``GELE``, ``LT``…).
        status: ``Passed``, ``Failed`` or ``Skipped``.
    """

    measurement_path: str | None = None
    report_id: uuid.UUID | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    process_code: int | None = None
    test_operation: str | None = None
    station_name: str | None = None
    start_utc: datetime | None = None
    run: int | None = None
    step_name: str | None = None
    step_path: str | None = None
    measure_name: str | None = None
    value: float | None = None
    unit: str | None = None
    comp_operator: str | None = None
    limit1: float | None = None
    limit2: float | None = None
    status: str | None = None


class MeasurementGroup(Dto):
    """The measurements of one measurement path, oldest first, as the server groups them."""

    measurement_path: str | None = None
    measurements: list[MeasurementData] | None = None


class AggregatedMeasurement(Dto):
    """Statistics of one measurement path (``POST /api/App/AggregatedMeasurements``).

    ``stdev`` is the sample standard deviation (n - 1) and ``var`` its square; ``cp`` is
    ``(limit2 - limit1) / (6 stdev)``, ``cp_upper`` ``(USL - avg) / (3 stdev)``, ``cp_lower``
    ``(avg - LSL) / (3 stdev)`` and ``cpk`` the smaller of the two that exist. Which limit is
    the upper and which the lower follows the comparison operator (``LE``: ``limit1`` is the
    upper limit); statistics that need a limit, or a spread, that is not there are ``None``.
    The limits are those of the newest measurement.
    """

    measurement_path: str | None = None
    step_name: str | None = None
    step_path: str | None = None
    measure_name: str | None = None
    part_number: str | None = None
    count: int | None = None
    passed_count: int | None = None
    failed_count: int | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    stdev: float | None = None
    var: float | None = None
    unit: str | None = None
    comp_operator: str | None = None
    limit1: float | None = None
    limit2: float | None = None
    cp: float | None = None
    cpk: float | None = None
    cp_lower: float | None = None
    cp_upper: float | None = None
    sigma_high3: float | None = None
    sigma_low3: float | None = None


class StepAnalysisRow(Dto):
    """Statistics of one step, or of one measurement of a multi-numeric step
    (``POST /api/App/TestStepAnalysis``).

    Counts are of the step's executions, by status. The measurement statistics are those of
    :class:`AggregatedMeasurement`; each ``…_wof`` twin is the same figure computed *without
    failures* (over the passed measurements only).

    Attributes:
        step_count: how many times the step ran in the reports analysed.
        step_caused_uut_failed: how many failed reports this step failed.
        step_time_avg: average of the step's ``totTime`` (seconds).
        measure_name: set on the rows of a multi-numeric step's measurements.
        measure_count: how many numeric values the statistics are computed from.
    """

    step_name: str | None = None
    step_path: str | None = None
    step_type: str | None = None
    step_group: str | None = None
    step_count: int | None = None
    step_passed_count: int | None = None
    step_done_count: int | None = None
    step_skipped_count: int | None = None
    step_failed_count: int | None = None
    step_error_count: int | None = None
    step_terminated_count: int | None = None
    step_other_count: int | None = None
    step_caused_uut_failed: int | None = None
    step_caused_uut_error: int | None = None
    step_caused_uut_terminated: int | None = None
    step_time_avg: float | None = None
    step_time_min: float | None = None
    step_time_max: float | None = None
    measure_name: str | None = None
    unit: str | None = None
    comp_operator: str | None = None
    limit1: float | None = None
    limit2: float | None = None
    measure_count: int | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    stdev: float | None = None
    var: float | None = None
    cp: float | None = None
    cpk: float | None = None
    cp_lower: float | None = None
    cp_upper: float | None = None
    sigma_high3: float | None = None
    sigma_low3: float | None = None
    measure_count_wof: int | None = None
    min_wof: float | None = None
    max_wof: float | None = None
    avg_wof: float | None = None
    stdev_wof: float | None = None
    var_wof: float | None = None
    cp_wof: float | None = None
    cpk_wof: float | None = None
    cp_lower_wof: float | None = None
    cp_upper_wof: float | None = None
    sigma_high3_wof: float | None = None
    sigma_low3_wof: float | None = None


class RepairStatistics(Dto):
    """One row of ``POST /api/App/DynamicRepair``: the values of the requested dimensions
    (the others stay ``None``) and the repair figures of the repairs that share them.

    Attributes:
        repair_report_count: repair (UUR) reports counted in the row.
        repair_count: repairs (failures recorded in those reports) counted in the row.
        period: the row's period (its start, as text), when ``period`` is a dimension.
    """

    part_number: str | None = None
    revision: str | None = None
    product_name: str | None = None
    product_group: str | None = None
    unit_type: str | None = None
    repair_operation: str | None = None
    period: str | None = None
    level: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    operator: str | None = None
    misc_info_description: str | None = None
    misc_info_string: str | None = None
    repair_code: str | None = None
    repair_category: str | None = None
    repair_type: str | None = None
    component_ref: str | None = None
    component_number: str | None = None
    component_revision: str | None = None
    component_vendor: str | None = None
    component_description: str | None = None
    function_block: str | None = None
    referenced_step: str | None = None
    referenced_step_path: str | None = None
    test_operation: str | None = None
    test_period: str | None = None
    test_level: str | None = None
    test_station_name: str | None = None
    test_location: str | None = None
    test_purpose: str | None = None
    test_operator: str | None = None
    batch_number: str | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    repair_report_count: int | None = None
    repair_count: int | None = None


class RepairHistoryRecord(Dto):
    """One repaired failure of a part (``GET /api/App/RelatedRepairHistory``).

    Attributes:
        report_id: the repair (UUR) report.
        referenced_uut: the test report the repair followed, when it names one.
        part_number: the repaired unit's part number (the failure may be on a sub-unit:
            ``component_*`` and ``unit_*`` say which).
        repair_category: the fail-code category; ``repair_code`` the fail code.
        referenced_step: the name of the test step that revealed the failure.
    """

    report_id: uuid.UUID | None = None
    referenced_uut: uuid.UUID | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    repair_date: datetime | None = None
    repair_operation_code: int | None = None
    repair_operation: str | None = None
    test_operation_code: int | None = None
    test_operation: str | None = None
    operator: str | None = None
    station_name: str | None = None
    unit_serial_number: str | None = None
    unit_part_number: str | None = None
    unit_revision: str | None = None
    repair_category: str | None = None
    repair_code: str | None = None
    component_ref: str | None = None
    component_number: str | None = None
    component_revision: str | None = None
    component_vendor: str | None = None
    component_description: str | None = None
    function_block: str | None = None
    referenced_step: str | None = None
    comment: str | None = None

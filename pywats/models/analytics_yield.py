"""What the yield side of ``api.analytics`` answers: yield rows, top failed steps, OEE.

The server's description types these answers only as ``object``; the members here are the
dimension and KPI names its ``DynamicYield`` description lists (yield rows), and what WATS shows
for top failed steps and OEE. Every member is optional: a row carries the dimensions it was
grouped by and the KPIs asked for.

Yields and rates are percentages (0 to 100); times are in seconds.
"""

from __future__ import annotations

from datetime import datetime

from pywats._errors import InvalidArgumentError
from pywats.models._base import Dto

__all__ = [
    "YIELD_DIMENSIONS",
    "YIELD_KPIS",
    "OeeAnalysisResult",
    "TopFailedStep",
    "YieldData",
    "parse_dimensions",
]

YIELD_DIMENSIONS = (
    "partNumber",
    "productName",
    "stationName",
    "location",
    "purpose",
    "revision",
    "testOperation",
    "processCode",
    "swFilename",
    "swVersion",
    "productGroup",
    "level",
    "period",
    "batchNumber",
    "operator",
    "fixtureId",
    "socketIndex",
    "errorCode",
    "miscInfoDescription",
    "miscInfoString",
    "stepCausedUutFailure",
    "stepPathCausedUutFailure",
    "assetSerialNumber",
    "assetName",
)
"""The dimensions dynamic yield groups by (the description's list)."""

YIELD_KPIS = (
    "unitCount",
    "fpCount",
    "spCount",
    "tpCount",
    "lpCount",
    "fpy",
    "spy",
    "tpy",
    "lpy",
    "testYieldCount",
    "testReportCount",
    "testYield",
    "firstUtc",
    "lastUtc",
    "fpFailCount",
    "spFailCount",
    "tpFailCount",
    "lpFailCount",
    "retestCount",
    "ppmFpy",
    "ppmSpy",
    "ppmTpy",
    "ppmLpy",
    "ppmTestYield",
    "fpColor",
    "fpAlarm",
    "fpWarning",
    "spColor",
    "spAlarm",
    "spWarning",
    "tpColor",
    "tpAlarm",
    "tpWarning",
    "lpColor",
    "lpAlarm",
    "lpWarning",
    "tyColor",
    "tyAlarm",
    "tyWarning",
    "previousUnitCount",
    "previousTestReportCount",
    "fpyTrend",
    "spyTrend",
    "tpyTrend",
    "lpyTrend",
    "unitCountTrend",
    "fpCountTrend",
    "spCountTrend",
    "tpCountTrend",
    "lpCountTrend",
    "testReportCountTrend",
    "testYieldCountTrend",
    "testYieldTrend",
    "ppmFpyTrend",
    "ppmSpyTrend",
    "ppmTpyTrend",
    "ppmLpyTrend",
    "ppmTestYieldTrend",
)
"""The KPIs dynamic yield computes (the description's list)."""

_DIRECTIONS = ("asc", "desc")


def parse_dimensions(
    text: str, dimensions: tuple[str, ...] = YIELD_DIMENSIONS, kpis: tuple[str, ...] = YIELD_KPIS
) -> list[tuple[str, str | None]]:
    """Read a ``dimensions`` text: ``[(name, "asc" | "desc" | None), …]`` in order.

    Names are matched without regard to letter case and returned as the description spells
    them. Items are separated by ``;``; a direction hint follows its name after a blank.

    Raises:
        InvalidArgumentError: a name that is neither a dimension nor a KPI, a direction other
            than ``asc``/``desc``, or the same name twice.
    """
    known = {name.casefold(): name for name in (*dimensions, *kpis)}
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for item in text.split(";"):
        words = item.split()
        if not words:
            continue
        if len(words) > 2:
            raise InvalidArgumentError(f"dimensions: {item.strip()!r} is not 'name [asc|desc]'")
        name = known.get(words[0].casefold())
        if name is None:
            raise InvalidArgumentError(
                f"dimensions: {words[0]!r} is neither a dimension nor a KPI; dimensions are "
                f"{', '.join(dimensions)}"
            )
        direction = words[1].casefold() if len(words) == 2 else None
        if direction is not None and direction not in _DIRECTIONS:
            raise InvalidArgumentError(
                f"dimensions: {words[1]!r} after {name} is not a direction (asc or desc)"
            )
        if name in seen:
            raise InvalidArgumentError(f"dimensions: {name} is named twice")
        seen.add(name)
        out.append((name, direction))
    return out


class YieldData(Dto):
    """One row of a yield statistic: the values it is grouped by, then its KPIs.

    How WATS counts (the emulator does the same): a *unit* is one serial number of one part
    number in one test operation; its *runs* are its test reports there, in order.

    Attributes:
        unit_count: units first tested in the row (their first run is in it).
        fp_count, sp_count, tp_count: units that passed in their first run, by their second,
            by their third.
        lp_count: units whose last run passed.
        fpy, spy, tpy, lpy: those counts as percentages of ``unit_count``.
        fp_fail_count, sp_fail_count, tp_fail_count, lp_fail_count: ``unit_count`` minus the
            matching pass count.
        test_report_count: test reports in the row; ``test_yield_count`` of them passed;
            ``test_yield`` is their percentage.
        retest_count: reports in the row that are not a unit's first run.
        ppm_fpy … ppm_test_yield: the share not passed, in parts per million.
        first_utc, last_utc: the start of the row's first and last report.
        previous_unit_count, previous_test_report_count: the same counts for the period before.
        *_trend: a KPI minus its value for the period before.
    """

    # --- dimensions -----------------------------------------------------------------------
    part_number: str | None = None
    product_name: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    revision: str | None = None
    test_operation: str | None = None
    process_code: int | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    product_group: str | None = None
    level: str | None = None
    period: str | None = None
    batch_number: str | None = None
    operator: str | None = None
    fixture_id: str | None = None
    socket_index: int | None = None
    error_code: int | None = None
    misc_info_description: str | None = None
    misc_info_string: str | None = None
    step_caused_uut_failure: str | None = None
    step_path_caused_uut_failure: str | None = None
    asset_serial_number: str | None = None
    asset_name: str | None = None
    # --- KPIs -----------------------------------------------------------------------------
    unit_count: int | None = None
    fp_count: int | None = None
    sp_count: int | None = None
    tp_count: int | None = None
    lp_count: int | None = None
    fpy: float | None = None
    spy: float | None = None
    tpy: float | None = None
    lpy: float | None = None
    test_yield_count: int | None = None
    test_report_count: int | None = None
    test_yield: float | None = None
    first_utc: datetime | None = None
    last_utc: datetime | None = None
    fp_fail_count: int | None = None
    sp_fail_count: int | None = None
    tp_fail_count: int | None = None
    lp_fail_count: int | None = None
    retest_count: int | None = None
    ppm_fpy: float | None = None
    ppm_spy: float | None = None
    ppm_tpy: float | None = None
    ppm_lpy: float | None = None
    ppm_test_yield: float | None = None
    previous_unit_count: int | None = None
    previous_test_report_count: int | None = None
    fpy_trend: float | None = None
    spy_trend: float | None = None
    tpy_trend: float | None = None
    lpy_trend: float | None = None
    unit_count_trend: float | None = None
    fp_count_trend: float | None = None
    sp_count_trend: float | None = None
    tp_count_trend: float | None = None
    lp_count_trend: float | None = None
    test_report_count_trend: float | None = None
    test_yield_count_trend: float | None = None
    test_yield_trend: float | None = None
    ppm_fpy_trend: float | None = None
    ppm_spy_trend: float | None = None
    ppm_tpy_trend: float | None = None
    ppm_lpy_trend: float | None = None
    ppm_test_yield_trend: float | None = None


class TopFailedStep(Dto):
    """A step that failed, with how often (``GET``/``POST /api/App/TopFailed``).

    Attributes:
        step_name, step_path: the step, and its path from the root sequence (names joined
            by ``/``).
        step_type, step_group: its ``stepType`` and group (``Main``, ``Setup``, ``Cleanup``).
        part_number, test_operation, process_code: the product and test operation it ran in.
        fail_count: reports in which the step failed.
        total_count: reports in which the step ran.
        fail_rate: ``fail_count`` as a percentage of ``total_count``.
        first_fail_date, last_fail_date: the start of the first and last report it failed in.
    """

    step_name: str | None = None
    step_path: str | None = None
    step_type: str | None = None
    step_group: str | None = None
    part_number: str | None = None
    revision: str | None = None
    product_group: str | None = None
    test_operation: str | None = None
    process_code: int | None = None
    fail_count: int | None = None
    total_count: int | None = None
    fail_rate: float | None = None
    first_fail_date: datetime | None = None
    last_fail_date: datetime | None = None


class OeeAnalysisResult(Dto):
    """Overall equipment effectiveness of the test stations (``POST /api/App/OeeAnalysis``).

    ``oee = availability * performance * quality`` (each a percentage here); see
    ``docs/analytics.md`` for how each part is counted.

    Attributes:
        oee, availability, performance, quality: percentages.
        planned_production_time: the hours available (``availableTime``) in the window, for
            every station, in seconds.
        run_time: the stations' test time (the reports' execution times), in seconds.
        down_time: ``planned_production_time - run_time``, in seconds.
        total_count, good_count, reject_count: tests run, passed, not passed.
        ideal_cycle_time: the time one test should take, in seconds.
        actual_cycle_time: ``run_time / total_count``, in seconds.
        station_count: the stations counted.
        date_from, date_to: the window.
    """

    oee: float | None = None
    availability: float | None = None
    performance: float | None = None
    quality: float | None = None
    planned_production_time: float | None = None
    run_time: float | None = None
    down_time: float | None = None
    total_count: int | None = None
    good_count: int | None = None
    reject_count: int | None = None
    ideal_cycle_time: float | None = None
    actual_cycle_time: float | None = None
    station_count: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

"""The yield side of ``api.analytics`` against the emulator, blocking and async.

Every number asserted below is counted by hand from :data:`RUNS` (ten test reports of five
units) in the comments next to it, so a change in how the emulator counts fails a test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import pywats
from pywats import pyWATS
from pywats.models.analytics_filter import DateGrouping, WATSFilter
from pywats.models.analytics_yield import YieldData
from pywats.models.app import ProductGroup
from pywats.models.report import CompOp
from pywats.models.system import StationClient
from pywats.report_builder import ReportBuilder
from pywats.testing import FakeWATS
from pywats.testing._faults import Fault
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

PN = "PCBA-100"
OTHER = "PSU-200"
PCBA_TEST, EOL = 50, 100
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)

# (serial number, station, day, failing steps): the runs of PCBA-100 in "PCBA test", in order.
# A run passes when no step fails. Passed runs take 50 s, failed ones 70 s.
RUNS: list[tuple[str, str, datetime, tuple[str, ...]]] = [
    ("SN-01", "ST-1", MONDAY, ()),  # passes first time
    ("SN-02", "ST-1", MONDAY, ("3V3",)),  # fails, then passes in run 2
    ("SN-02", "ST-2", MONDAY, ()),
    ("SN-03", "ST-1", TUESDAY, ("3V3",)),  # fails twice, passes in run 3
    ("SN-03", "ST-2", TUESDAY, ("5V0",)),
    ("SN-03", "ST-2", TUESDAY, ()),
    ("SN-04", "ST-2", TUESDAY, ("3V3",)),  # never passes
    ("SN-04", "ST-2", TUESDAY, ("3V3", "5V0")),
    ("SN-05", "ST-2", TUESDAY, ()),  # passes, then fails a retest
    ("SN-05", "ST-2", TUESDAY, ("5V0",)),
]
# Units 5 | first pass: SN-01, SN-05 (2) | by run 2: + SN-02 (3) | by run 3: + SN-03 (4)
# last run passed: SN-01, SN-02, SN-03 (3) | reports 10, passed 4 | retests (run > 1): 5

BOTH_DAYS = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY)


def _report(
    sn: str,
    station: str,
    start: datetime,
    failing: tuple[str, ...] = (),
    *,
    pn: str = PN,
    process_code: int = PCBA_TEST,
) -> Any:
    builder = ReportBuilder.uut(
        pn=pn,
        sn=sn,
        rev="A",
        process_code=process_code,
        station=station,
        location="Line 1",
        purpose="Production",
        start=start,
    )
    builder.details(exec_time=70.0 if failing else 50.0)
    power = builder.root.sequence("Power")
    power.numeric("3V3", 3.9 if "3V3" in failing else 3.3, CompOp.GELE, low=3.2, high=3.4)
    power.numeric("5V0", 5.9 if "5V0" in failing else 5.0, CompOp.GELE, low=4.8, high=5.2)
    return builder.build()


def _submit_runs(api: pyWATS) -> None:
    for i, (sn, station, day, failing) in enumerate(RUNS):
        start = day + timedelta(hours=8, minutes=10 * i)
        api.report.submit_report(_report(sn, station, start, failing))


def _submit_others(api: pyWATS) -> None:
    """PSU-200: two units pass in PCBA test; PCBA-100 SN-01 passes end of line test."""
    api.report.submit_report(_report("P-1", "ST-3", MONDAY + timedelta(hours=9), pn=OTHER))
    api.report.submit_report(_report("P-2", "ST-3", MONDAY + timedelta(hours=10), pn=OTHER))
    api.report.submit_report(
        _report("SN-01", "ST-9", TUESDAY + timedelta(hours=9), process_code=EOL)
    )


@pytest.fixture
def runs(api: pyWATS) -> pyWATS:
    """The client, with :data:`RUNS` stored."""
    _submit_runs(api)
    return api


@pytest.fixture
def everything(api: pyWATS) -> pyWATS:
    """The client, with :data:`RUNS` and the other products' reports stored."""
    _submit_runs(api)
    _submit_others(api)
    return api


def _kpis(row: YieldData) -> tuple[int | None, ...]:
    """unit, first/second/third/last pass counts, reports, passed reports, retests."""
    return (
        row.unit_count,
        row.fp_count,
        row.sp_count,
        row.tp_count,
        row.lp_count,
        row.test_report_count,
        row.test_yield_count,
        row.retest_count,
    )


def _raw(
    fake: FakeWATS, method: str, path: str, *, json_body: bytes | None = None, **kwargs: Any
) -> httpx.Response:
    """A request as a client other than pywats would send it (``json_body`` as JSON)."""
    headers = {"Authorization": f"Basic {TOKEN}"}
    if json_body is not None:
        headers["Content-Type"] = "application/json"
        kwargs["content"] = json_body
    with httpx.Client(base_url=BASE_URL, transport=fake) as http:
        return http.request(method, path, headers=headers, **kwargs)


def _days_back(moment: datetime) -> int:
    """``days`` for a ``GET`` form that reaches back to ``moment``."""
    return (datetime.now(UTC) - moment).days + 1


# --- volume and yield ---------------------------------------------------------------------------


def test_volume_yield_counts_units_by_their_runs(runs: pyWATS) -> None:
    rows = runs.analytics.get_volume_yield(BOTH_DAYS)
    assert len(rows) == 1
    row = rows[0]
    assert (row.part_number, row.test_operation, row.process_code) == (PN, "PCBA test", 50)
    assert _kpis(row) == (5, 2, 3, 4, 3, 10, 4, 5)
    assert (row.fpy, row.spy, row.tpy, row.lpy, row.test_yield) == (40.0, 60.0, 80.0, 60.0, 40.0)
    assert (row.fp_fail_count, row.sp_fail_count, row.tp_fail_count, row.lp_fail_count) == (
        3,
        2,
        1,
        2,
    )
    assert (row.ppm_fpy, row.ppm_lpy, row.ppm_test_yield) == (600_000.0, 400_000.0, 600_000.0)
    assert row.first_utc == MONDAY + timedelta(hours=8)
    assert row.last_utc == TUESDAY + timedelta(hours=8, minutes=90)


def test_volume_yield_lists_each_product_and_operation(everything: pyWATS) -> None:
    rows = everything.analytics.get_volume_yield(BOTH_DAYS)
    assert [(r.part_number, r.process_code, r.unit_count, r.fpy) for r in rows] == [
        (PN, PCBA_TEST, 5, 40.0),
        (PN, EOL, 1, 100.0),  # SN-01 is a unit of its own in another operation
        (OTHER, PCBA_TEST, 2, 100.0),
    ]


def test_periods_split_units_where_first_seen(runs: pyWATS) -> None:
    flt = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, date_grouping=DateGrouping.DAY)
    rows = runs.analytics.get_volume_yield(flt)
    by_day = {r.period: _kpis(r) for r in rows}
    assert by_day == {
        # Monday: units SN-01, SN-02; reports SN-01, SN-02 twice (1 retest, 2 passed)
        "2026-03-02": (2, 1, 2, 2, 2, 3, 2, 1),
        # Tuesday: units SN-03, SN-04, SN-05 (SN-05 first pass; SN-03 by run 3 and last)
        "2026-03-03": (3, 1, 1, 2, 1, 7, 2, 4),
    }


def test_a_unit_first_tested_before_the_window_is_not_counted(runs: pyWATS) -> None:
    # Tuesday alone: SN-03..05 are first seen there; Monday's SN-02 has no run on Tuesday.
    rows = runs.analytics.get_volume_yield(WATSFilter(date_from=TUESDAY, date_to=WEDNESDAY))
    assert [_kpis(r) for r in rows] == [(3, 1, 1, 2, 1, 7, 2, 4)]
    # Monday from 08:05 on: SN-01's only run is before it, SN-02's first run is inside.
    late = WATSFilter(date_from=MONDAY + timedelta(hours=8, minutes=5), date_to=TUESDAY)
    assert [_kpis(r) for r in runs.analytics.get_volume_yield(late)] == [(1, 0, 1, 1, 1, 2, 1, 1)]


def test_repair_reports_do_not_count(runs: pyWATS) -> None:
    tested = _report("SN-04", "ST-2", TUESDAY + timedelta(hours=12), ("3V3",))
    runs.report.submit_report(tested)
    repair = ReportBuilder.uur(
        repairing=tested,
        process_code=500,
        station="REPAIR-1",
        location="Line 1",
        start=TUESDAY + timedelta(hours=13),
    )
    repair.failure("Component", "Defect Component", com_ref="U1")
    runs.report.submit_report(repair.build())
    (row,) = runs.analytics.get_volume_yield(BOTH_DAYS)
    assert (row.unit_count, row.test_report_count, row.retest_count) == (5, 11, 6)


def test_get_forms_count_the_last_days(fake: FakeWATS, runs: pyWATS) -> None:
    days = _days_back(MONDAY)
    (row,) = runs.analytics.get_volume_yield(days=days)
    assert _kpis(row) == (5, 2, 3, 4, 3, 10, 4, 5)
    assert runs.analytics.get_volume_yield(days=1) == []
    # By id or by name, and "" for all.
    assert runs.analytics.get_high_volume(days=days, product_group=1) == [row]
    assert runs.analytics.get_worst_yield(days=days, product_group=["All products"]) == [row]
    sent = fake.log[-1]
    assert (sent.method, sent.path) == ("GET", "/api/App/WorstYield")


def test_levels_are_the_stations_groups(fake: FakeWATS, runs: pyWATS) -> None:
    st1 = runs.system.register_client("ST-1", mac="00155D000001")
    assert st1 is not None
    runs.system.update_client(StationClient(client_id=st1.client_id, client_group_id=2))
    days = _days_back(MONDAY)
    # Level "Production" (id 2) has ST-1 alone, so only its reports count: the first runs of
    # SN-01 (passed), SN-02 and SN-03 (failed); their retests ran on ST-2, outside the level.
    (row,) = runs.analytics.get_volume_yield(days=days, level="Production")
    assert _kpis(row) == (3, 1, 1, 1, 1, 3, 1, 0)
    assert runs.analytics.get_volume_yield(days=days, level=2) == [row]
    assert runs.analytics.get_volume_yield(WATSFilter(level="Prod%")) == []  # not in 30 days
    flt = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, level="Production")
    assert [_kpis(r) for r in runs.analytics.get_volume_yield(flt)] == [_kpis(row)]


def test_high_volume_ranks_by_units(everything: pyWATS) -> None:
    rows = everything.analytics.get_high_volume(BOTH_DAYS)
    assert [(r.part_number, r.process_code, r.unit_count) for r in rows] == [
        (PN, PCBA_TEST, 5),
        (OTHER, PCBA_TEST, 2),
        (PN, EOL, 1),
    ]
    top = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, top_count=1)
    assert [r.unit_count for r in everything.analytics.get_high_volume(top)] == [5]


def test_worst_yield_ranks_by_first_pass_yield(everything: pyWATS) -> None:
    rows = everything.analytics.get_worst_yield(BOTH_DAYS)
    # 40 % first; the two at 100 % by units (2 before 1).
    assert [(r.part_number, r.process_code, r.fpy) for r in rows] == [
        (PN, PCBA_TEST, 40.0),
        (OTHER, PCBA_TEST, 100.0),
        (PN, EOL, 100.0),
    ]
    worse = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, yield_=99)
    assert [r.fpy for r in everything.analytics.get_worst_yield(worse)] == [40.0]
    volume = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, min_count=2)
    assert [r.unit_count for r in everything.analytics.get_worst_yield(volume)] == [5, 2]


def test_by_product_group(fake: FakeWATS, everything: pyWATS) -> None:
    fake.state.product_groups.append(
        ProductGroup(
            product_group_id=2, product_group_name="Power", filters=[{"partNumber": "PSU-%"}]
        )
    )
    rows = everything.analytics.get_high_volume_by_product_group(BOTH_DAYS)
    assert [(r.product_group, r.process_code, r.unit_count, r.fpy) for r in rows] == [
        ("All products", PCBA_TEST, 7, 100.0 * 4 / 7),  # SN-01, SN-05, P-1, P-2 of 7
        ("Power", PCBA_TEST, 2, 100.0),
        ("All products", EOL, 1, 100.0),
    ]
    worst = everything.analytics.get_worst_yield_by_product_group(BOTH_DAYS)
    assert [(r.product_group, r.process_code) for r in worst] == [
        ("All products", PCBA_TEST),
        ("Power", PCBA_TEST),
        ("All products", EOL),
    ]
    only = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, product_group="Power")
    assert [
        r.product_group for r in everything.analytics.get_worst_yield_by_product_group(only)
    ] == [
        "All products",
        "Power",
    ]


# --- dynamic yield ------------------------------------------------------------------------------


def test_dynamic_yield_by_station_counts_units_where_first_seen(runs: pyWATS) -> None:
    rows = runs.analytics.get_dynamic_yield(
        BOTH_DAYS,
        dimensions="stationName;unitCount;fpCount;spCount;tpCount;lpCount;testReportCount;"
        "testYieldCount;retestCount",
    )
    assert {r.station_name: _kpis(r) for r in rows} == {
        # ST-1 first ran SN-01..03 (their later runs were on ST-2); 3 reports, 1 passed.
        "ST-1": (3, 1, 2, 3, 3, 3, 1, 0),
        # ST-2 first ran SN-04, SN-05; 7 reports (5 retests), 3 passed.
        "ST-2": (2, 1, 1, 1, 0, 7, 3, 5),
    }
    assert all(r.fpy is None and r.part_number is None for r in rows)  # only what was asked


def test_dynamic_yield_orders_as_asked(everything: pyWATS) -> None:
    rows = everything.analytics.get_dynamic_yield(
        BOTH_DAYS, dimensions=["fpy asc", "unitCount desc", "partNumber", "testOperation"]
    )
    assert [(r.part_number, r.test_operation, r.fpy, r.unit_count) for r in rows] == [
        (PN, "PCBA test", 40.0, 5),
        (OTHER, "PCBA test", 100.0, 2),
        (PN, "End of line test", 100.0, 1),
    ]
    assert rows[0].lpy is None  # KPIs named: only those


def test_dynamic_yield_defaults(everything: pyWATS) -> None:
    # No dimensions: part number and test operation, most units first, every KPI.
    recent = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY)
    rows = everything.analytics.get_dynamic_yield(recent)
    assert [(r.part_number, r.test_operation, r.unit_count) for r in rows] == [
        (PN, "PCBA test", 5),
        (OTHER, "PCBA test", 2),
        (PN, "End of line test", 1),
    ]
    assert rows[0].lpy is None  # the default names one KPI, unitCount: only it is returned
    # Dimensions alone: every KPI.
    every = everything.analytics.get_dynamic_yield(recent, dimensions="partNumber;processCode")
    assert (every[0].lpy, every[0].ppm_spy, every[0].retest_count) == (60.0, 400_000.0, 5)
    assert (every[0].first_utc, every[0].previous_unit_count) == (MONDAY + timedelta(hours=8), 0)
    # The filter's own dimensions, when the argument gives none.
    by_filter = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, dimensions="processCode desc")
    assert [r.process_code for r in everything.analytics.get_dynamic_yield(by_filter)] == [
        EOL,
        PCBA_TEST,
    ]


def test_dynamic_yield_top_count_defaults_to_ten(api: pyWATS) -> None:
    for i in range(12):
        api.report.submit_report(_report(f"U-{i}", f"ST-{i:02d}", MONDAY + timedelta(hours=i)))
    by_station = api.analytics.get_dynamic_yield(BOTH_DAYS, dimensions="stationName")
    assert [r.station_name for r in by_station] == [f"ST-{i:02d}" for i in range(10)]
    top = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, top_count=12)
    assert len(api.analytics.get_dynamic_yield(top, dimensions="stationName")) == 12


def test_dynamic_yield_trends_against_the_window_before(runs: pyWATS) -> None:
    tuesday = WATSFilter(date_from=TUESDAY, date_to=WEDNESDAY)
    (row,) = runs.analytics.get_dynamic_yield(
        tuesday,
        dimensions="partNumber;unitCount;fpy;previousUnitCount;unitCountTrend;fpyTrend",
    )
    # Tuesday: 3 units, SN-05 first pass (1/3); Monday: SN-01, SN-02, SN-01 first pass (1/2).
    assert (row.unit_count, row.previous_unit_count, row.unit_count_trend) == (3, 2, 1)
    assert row.fpy == pytest.approx(100 / 3)
    assert row.fpy_trend == pytest.approx(100 / 3 - 50)


def test_dynamic_yield_trends_per_period(runs: pyWATS) -> None:
    by_day = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, date_grouping=DateGrouping.DAY)
    rows = runs.analytics.get_dynamic_yield(
        by_day, dimensions="period;unitCount;previousUnitCount;testReportCountTrend"
    )
    assert [
        (r.period, r.unit_count, r.previous_unit_count, r.test_report_count_trend) for r in rows
    ] == [
        ("2026-03-02", 2, 0, 3),  # nothing on Sunday
        ("2026-03-03", 3, 2, 4),  # 7 reports against Monday's 3
    ]


def test_dynamic_yield_by_several_valued_dimensions(fake: FakeWATS, api: pyWATS) -> None:
    builder = ReportBuilder.uut(
        pn=PN,
        sn="M-1",
        rev="A",
        process_code=PCBA_TEST,
        station="ST-1",
        location="Line 1",
        purpose="Production",
        start=MONDAY + timedelta(hours=8),
    )
    builder.misc_info("Fixture", "F1").misc_info("Firmware", "1.2")
    builder.asset("DMM-7")
    builder.root.sequence("Power").numeric("3V3", 3.3, CompOp.GELE, low=3.2, high=3.4)
    api.report.submit_report(builder.build())
    rows = api.analytics.get_dynamic_yield(
        BOTH_DAYS, dimensions="miscInfoDescription;miscInfoString;assetSerialNumber;unitCount"
    )
    assert sorted(
        (r.misc_info_description, r.misc_info_string, r.asset_serial_number, r.unit_count)
        for r in rows
    ) == [("Firmware", "1.2", "DMM-7", 1), ("Fixture", "F1", "DMM-7", 1)]


# --- conveniences for one product -------------------------------------------------------------


def test_yield_summary_and_station_yield(api: pyWATS) -> None:
    now = datetime.now(UTC)
    api.report.submit_report(_report("R-1", "ST-7", now - timedelta(hours=2), ("3V3",)))
    api.report.submit_report(_report("R-1", "ST-7", now - timedelta(hours=1)))
    api.report.submit_report(_report("R-2", "ST-7", now - timedelta(minutes=30)))
    (row,) = api.analytics.get_yield_summary(PN)
    assert (row.part_number, row.test_operation) == (PN, "PCBA test")
    assert (row.unit_count, row.fpy, row.lpy, row.test_report_count) == (2, 50.0, 100.0, 3)
    assert api.analytics.get_yield_summary(PN, test_operation="End of line test") == []
    per_day = api.analytics.get_yield_summary(PN, days=2, per_day=True)
    assert sum(r.unit_count or 0 for r in per_day) == 2
    (station,) = api.analytics.get_station_yield("ST-7")
    assert (station.station_name, station.part_number, station.unit_count) == ("ST-7", PN, 2)


# --- top failed ---------------------------------------------------------------------------------


def test_top_failed_counts_reports_a_step_failed_in(runs: pyWATS) -> None:
    steps = runs.analytics.get_top_failed(BOTH_DAYS)
    assert [(s.step_name, s.fail_count, s.total_count, s.fail_rate) for s in steps] == [
        ("3V3", 4, 10, 40.0),  # SN-02 r1, SN-03 r1, SN-04 r1 and r2
        ("5V0", 3, 10, 30.0),  # SN-03 r2, SN-04 r2, SN-05 r2
    ]
    first = steps[0]
    assert first.step_path == "MainSequence Callback¶Power¶3V3"
    assert (first.part_number, first.test_operation, first.process_code) == (PN, "PCBA test", 50)
    assert first.step_group == "Main"
    assert first.first_fail_date == MONDAY + timedelta(hours=8, minutes=10)
    assert first.last_fail_date == TUESDAY + timedelta(hours=8, minutes=70)
    top = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, top_count=1)
    assert [s.step_name for s in runs.analytics.get_top_failed(top)] == ["3V3"]


def test_top_failed_get_form(fake: FakeWATS, everything: pyWATS) -> None:
    days = _days_back(MONDAY)
    steps = everything.analytics.get_top_failed(part_number=PN, process_code=PCBA_TEST, days=days)
    assert [(s.step_name, s.fail_count) for s in steps] == [("3V3", 4), ("5V0", 3)]
    assert fake.log[-1].method == "GET"
    by_name = everything.analytics.get_top_failed(
        part_number=PN, process_code="PCBA test", days=days, count=1
    )
    assert [s.step_name for s in by_name] == ["3V3"]
    assert everything.analytics.get_top_failed(part_number=OTHER, days=days) == []  # all pass
    assert everything.analytics.get_top_failed(process_code=EOL, days=days) == []


def test_top_failed_yield_threshold_keeps_poor_products(fake: FakeWATS, everything: pyWATS) -> None:
    everything.report.submit_report(
        _report("P-3", "ST-3", TUESDAY + timedelta(hours=11), ("5V0",), pn=OTHER)
    )
    both = everything.analytics.get_top_failed(BOTH_DAYS)
    assert [(s.part_number, s.step_name, s.fail_count) for s in both] == [
        (PN, "3V3", 4),
        (PN, "5V0", 3),
        (OTHER, "5V0", 1),
    ]
    # PSU-200 yields 2 of 3 (66.7 %), PCBA-100 40 %: at most 50 % keeps PCBA-100 alone.
    poor = WATSFilter(date_from=MONDAY, date_to=WEDNESDAY, yield_=50)
    assert {s.part_number for s in everything.analytics.get_top_failed(poor)} == {PN}


# --- OEE ----------------------------------------------------------------------------------------

WEEKDAYS_8H = (8, 8, 8, 8, 8, 0, 0)


def test_oee_from_execution_times(runs: pyWATS) -> None:
    result = runs.analytics.get_oee_analysis(BOTH_DAYS, available_time=WEEKDAYS_8H)
    planned = 2 * 8 * 3600 * 2  # Monday and Tuesday, 8 h, stations ST-1 and ST-2
    run_time = 4 * 50 + 6 * 70  # 4 passed tests of 50 s, 6 failed of 70 s
    assert (result.planned_production_time, result.run_time) == (planned, run_time)
    assert result.down_time == planned - run_time
    assert (result.total_count, result.good_count, result.reject_count) == (10, 4, 6)
    assert (result.station_count, result.ideal_cycle_time, result.actual_cycle_time) == (2, 50, 62)
    assert result.availability == pytest.approx(100 * run_time / planned)
    assert result.performance == pytest.approx(100 * 50 * 10 / run_time)
    assert result.quality == 40.0
    assert result.oee == pytest.approx(100 * (run_time / planned) * (500 / run_time) * 0.4)
    assert (result.date_from, result.date_to) == (MONDAY, WEDNESDAY)


def test_oee_with_a_target_and_time_bounds(fake: FakeWATS, runs: pyWATS) -> None:
    result = runs.analytics.get_oee_analysis(
        BOTH_DAYS, available_time="8,8,8,8,8,0,0", target_output=100
    )
    # Target: 100 a day for 2 days; performance = 10 tests of 200.
    assert result.performance == pytest.approx(5.0)
    assert result.ideal_cycle_time == pytest.approx(2 * 8 * 3600 * 2 / 200)
    sent = fake.log[-1]
    assert sent.path == "/api/App/OeeAnalysis"
    passed_only = runs.analytics.get_oee_analysis(
        BOTH_DAYS, available_time=WEEKDAYS_8H, max_execution_time=60
    )
    assert (passed_only.total_count, passed_only.quality) == (4, 100.0)
    weekend = WATSFilter(
        date_from=datetime(2026, 3, 7, tzinfo=UTC), date_to=datetime(2026, 3, 9, tzinfo=UTC)
    )
    nothing = runs.analytics.get_oee_analysis(weekend, available_time=WEEKDAYS_8H)
    assert (nothing.total_count, nothing.oee, nothing.availability) == (0, None, None)


# --- errors -------------------------------------------------------------------------------------


def test_bad_arguments_are_refused_before_sending(fake: FakeWATS, api: pyWATS) -> None:
    analytics = api.analytics
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (analytics.get_dynamic_yield, {"dimensions": "partNumber;colour"}, "'colour' is neither"),
        (
            analytics.get_dynamic_yield,
            {"filter": WATSFilter(dimensions="fpy sideways")},
            "direction",
        ),
        (analytics.get_dynamic_yield, {"dimensions": 5}, "dimensions must be"),
        (analytics.get_volume_yield, {"filter": BOTH_DAYS, "days": 3}, "not both"),
        (analytics.get_volume_yield, {"level": 1.5}, "level must be"),
        (analytics.get_high_volume, {"days": 0}, "days must be from 1"),
        (analytics.get_high_volume, {"product_group": "A;B"}, "holds ';'"),
        (analytics.get_worst_yield, {"filter": WATSFilter(yield_=101)}, "yield: must be"),
        (
            analytics.get_high_volume_by_product_group,
            {"filter": WATSFilter(top_count=0)},
            "topCount",
        ),
        (analytics.get_high_volume_by_product_group, {"filter": {"partNumber": "X"}}, "WATSFilter"),
        (
            analytics.get_worst_yield_by_product_group,
            {"filter": WATSFilter(part_number=5)},  # type: ignore[arg-type]
            "partNumber",
        ),
        (analytics.get_top_failed, {"count": True}, "count must be an int"),
        (analytics.get_top_failed, {"filter": BOTH_DAYS, "part_number": PN}, "not both"),
        (analytics.get_top_failed, {"part_number": 7}, "part_number must be a str"),
        (analytics.get_oee_analysis, {"available_time": (8, 8, 8)}, "seven numbers"),
        (analytics.get_oee_analysis, {"available_time": "8,8,8,8,8,0,x"}, "seven numbers"),
        (analytics.get_oee_analysis, {"min_execution_time": -1}, "from 0"),
        (analytics.get_oee_analysis, {"target_output": 0}, "target_output"),
        (analytics.get_yield_summary, {"part_number": ""}, "part_number"),
        (analytics.get_station_yield, {"station_name": None}, "station_name"),
    ]
    for method, kwargs, message in cases:
        with pytest.raises(pywats.InvalidArgumentError, match=message):
            method(**kwargs)
    assert not fake.log  # nothing was sent


def test_unknown_groups_levels_and_processes_are_not_found(runs: pyWATS) -> None:
    with pytest.raises(pywats.NotFoundError, match="productGroupId: product group 'Nope'"):
        runs.analytics.get_high_volume(product_group="Nope")
    with pytest.raises(pywats.NotFoundError, match="levelId: level '99'"):
        runs.analytics.get_volume_yield(level=99)
    with pytest.raises(pywats.NotFoundError, match="processCode: process '999'"):
        runs.analytics.get_top_failed(part_number=PN, process_code=999)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"", "The filter is required"),
        (b"[]", "Expected `object`"),
        (b'{"yield": 150}', "yield: must be a percentage"),
        (b'{"periodCount": "many"}', "periodCount"),
        (b'{"dateGrouping": 9}', "dateGrouping"),
        (b'{"topCount": 0}', "topCount: must be at least 1"),
        (b'{"DATEFROM": "2026-03-03T00:00:00Z", "dateTo": "2026-03-02T00:00:00Z"}', "dateFrom"),
        (b'{"status": "Pass"}', "status: 'Pass' is not a report status"),
        (b'{"minCount": 3000000000}', "minCount"),
    ],
)
def test_bad_filters_are_answered_400_naming_the_member(
    fake: FakeWATS, body: bytes, named: str
) -> None:
    for path in ("/api/App/DynamicYield", "/api/App/WorstYield", "/api/App/TopFailed"):
        answer = _raw(fake, "POST", path, json_body=body)
        assert answer.status_code == 400, (path, answer.text)
        assert named in answer.json()["Message"], (path, answer.text)


def test_bad_query_parameters_are_answered_400(fake: FakeWATS) -> None:
    cases = [
        ("POST", "/api/App/DynamicYield", {"dimensions": "partNumber;colour"}, "colour"),
        ("POST", "/api/App/OeeAnalysis", {"availableTime": "24,24"}, "availableTime"),
        ("POST", "/api/App/OeeAnalysis", {}, "availableTime parameter is required"),
        (
            "POST",
            "/api/App/OeeAnalysis",
            {"availableTime": "8,8,8,8,8,8,8", "targetOutput": "x"},
            "targetOutput",
        ),
        ("GET", "/api/App/VolumeYield", {"days": "0", "productGroupId": "", "levelId": ""}, "days"),
        ("GET", "/api/App/HighVolume", {"days": "7", "levelId": ""}, "productGroupId"),
        (
            "GET",
            "/api/App/TopFailed",
            {"days": "7", "productGroupId": "", "levelId": "", "partNumber": "", "processCode": ""},
            "count",
        ),
    ]
    for method, path, params, named in cases:
        answer = _raw(
            fake, method, path, params=params, json_body=b"{}" if method == "POST" else None
        )
        assert answer.status_code == 400, (path, params, answer.text)
        assert named in answer.json()["Message"], (path, params, answer.text)


def test_a_server_refusal_is_a_named_error(fake: FakeWATS, api: pyWATS) -> None:
    """What only the server checks reaches the caller as a pywats error with its message."""
    with pytest.raises(pywats.ValidationError, match="not valid for days"):
        api.analytics.get_volume_yield(days=50_000)  # more than the emulator looks back
    fake.faults.add(Fault(kind="error", status=500, match="/App/TopFailed"))
    with pytest.raises(pywats.ServerError):
        api.analytics.get_top_failed(BOTH_DAYS)


def test_filters_go_on_the_wire_under_the_described_names(fake: FakeWATS, api: pyWATS) -> None:
    seen: list[bytes] = []
    original = fake.handle

    def spy(req: Any) -> Any:
        seen.append(req.body)
        return original(req)

    fake.handle = spy  # type: ignore[method-assign]
    try:
        api.analytics.get_worst_yield(
            WATSFilter(yield_=90, date_grouping=DateGrouping.WEEK, include_current_period=False)
        )
    finally:
        del fake.handle
    assert json.loads(seen[-1]) == {"yield": 90, "dateGrouping": 2, "includeCurrentPeriod": False}


def test_empty_store_gives_empty_answers(api: pyWATS) -> None:
    assert api.analytics.get_dynamic_yield() == []
    assert api.analytics.get_volume_yield() == []
    assert api.analytics.get_worst_yield_by_product_group() == []
    assert api.analytics.get_top_failed() == []
    empty = api.analytics.get_oee_analysis()
    assert (empty.total_count, empty.station_count, empty.oee) == (0, 0, None)

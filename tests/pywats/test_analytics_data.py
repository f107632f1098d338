"""The data half of ``api.analytics`` against the emulator, blocking and async: measurements,
aggregated measurements, test-step analysis, report lists, serial-number history, repair
statistics and repair history, every number checked by hand against a handful of reports.

The reports (minutes before now; part PCB-1 rev A in "PCBA test" unless said):

=========  =====  ======  =====  ======  ============================================
report     3V3    5V      12V    result  repaired
=========  =====  ======  =====  ======  ============================================
SN-0       9.9    5.0     12.0   F       (40 days ago: outside the default window)
SN-1 r1    3.0 F  5.0     12.2   F       R12 "Defect component" + U3 "Bridge" (Repair)
SN-2       3.2    5.05    12.4   P
SN-3       3.4    4.95    12.6 F F       R7 "Wrong value" (RMA Repair)
SN-4       3.6 F  5.0     12.0   F       R12 + C1 on sub-unit PSU-MOD rev B (Repair)
SN-1 r2    3.3    5.0     12.1   P
SN-9       3.3    5.0     12.0   P       (part PSU-2)
SN-1 FT    1.0 F  5.0     12.0   F       (operation "Functional Test")
=========  =====  ======  =====  ======  ============================================

3V3 is ``GELE 3.1..3.5``, 5V ``GELE 4.9..5.1``, 12V ``LE 12.5``; 5V and 12V are the two
measurements of the multi-numeric step "Rails".
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

import pywats
from pywats import CompOp, Measure, ReportBuilder, pyWATS
from pywats._errors import InvalidArgumentError
from pywats.models.analytics_data import (
    REPAIR_DIMENSIONS,
    StepAnalysisRow,
    measurement_path,
)
from pywats.models.analytics_filter import Run, WATSFilter
from pywats.models.report import UUTReport
from pywats.testing import FakeWATS
from tests.pywats.both_clients import BASE_URL, TOKEN, both_clients

fake, api = both_clients()

NOW = datetime.now(UTC)
ROOT = "MainSequence Callback"
V33 = measurement_path(ROOT, "Power", "3V3")
V5 = measurement_path(ROOT, "Power", "Rails", measurement="5V")
V12 = measurement_path(ROOT, "Power", "Rails", measurement="12V")
PCBA = WATSFilter(part_number="PCB-1", test_operation="PCBA test")


def _uut(
    api: pyWATS,
    sn: str,
    v33: float,
    v5: float,
    v12: float,
    minutes: float,
    *,
    pn: str = "PCB-1",
    process: int = 50,
    time: float = 1.0,
) -> UUTReport:
    uut = ReportBuilder.uut(
        pn=pn, sn=sn, rev="A", process_code=process, station="ST-1", location="Lab",
        purpose="Production", operator="ada", start=NOW - timedelta(minutes=minutes),
    )  # fmt: skip
    uut.misc_info("Fixture", "F1")
    power = uut.root.sequence("Power")
    power.numeric("3V3", v33, CompOp.GELE, low=3.1, high=3.5, unit="V", tot_time=time)
    power.multi_numeric(
        "Rails",
        [
            Measure("5V", v5, CompOp.GELE, 4.9, 5.1, "V"),
            Measure("12V", v12, CompOp.LE, 12.5, None, "V"),
        ],
    )
    report = uut.build()
    api.report.submit_report(report)
    return report


def _step(report: UUTReport, name: str) -> int:
    return next(s.id for s in report.steps() if s.name == name and s.id is not None)


@pytest.fixture
def reports(api: pyWATS) -> pyWATS:
    """The reports of the module docstring, submitted in time order."""
    _uut(api, "SN-0", 9.9, 5.0, 12.0, 40 * 24 * 60)
    sn1 = _uut(api, "SN-1", 3.0, 5.0, 12.2, 100, time=1.0)
    _uut(api, "SN-2", 3.2, 5.05, 12.4, 90, time=2.0)
    sn3 = _uut(api, "SN-3", 3.4, 4.95, 12.6, 80, time=3.0)
    sn4 = _uut(api, "SN-4", 3.6, 5.0, 12.0, 70, time=2.0)
    repair = ReportBuilder.uur(
        repairing=sn1, process_code=500, station="REP-1", location="Lab", operator="bo",
        start=NOW - timedelta(minutes=65),
    )  # fmt: skip
    repair.failure("Component", "Defect component", com_ref="R12", ref_step=_step(sn1, "3V3"))
    repair.failure("Solder", "Bridge", com_ref="U3")
    api.report.submit_report(repair.build())
    repair = ReportBuilder.uur(
        repairing=sn3, process_code=510, station="REP-2", location="Lab",
        start=NOW - timedelta(minutes=62),
    )  # fmt: skip
    repair.failure("Component", "Wrong value", com_ref="R7", ref_step=_step(sn3, "Rails"))
    api.report.submit_report(repair.build())
    repair = ReportBuilder.uur(
        repairing=sn4, process_code=500, station="REP-1", location="Lab",
        start=NOW - timedelta(minutes=60),
    )  # fmt: skip
    repair.failure("Component", "Defect component", com_ref="R12", ref_step=_step(sn4, "3V3"))
    module = repair.sub_unit("PSU", pn="PSU-MOD", sn="M-1", rev="B")
    repair.failure("Component", "Defect component", com_ref="C1", unit_idx=module)
    api.report.submit_report(repair.build())
    _uut(api, "SN-1", 3.3, 5.0, 12.1, 50, time=1.5)
    _uut(api, "SN-9", 3.3, 5.0, 12.0, 45, pn="PSU-2")
    _uut(api, "SN-1", 1.0, 5.0, 12.0, 40, process=60)
    return api


def _stdev(values: list[float]) -> float:
    """The sample standard deviation, written out."""
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9)


# --- measurements ---------------------------------------------------------------------------


def test_measurements_of_a_path_oldest_first_with_limits_and_status(reports: pyWATS) -> None:
    rows = reports.analytics.get_measurements(PCBA, [V33])
    assert [(r.serial_number, r.run, r.value, r.status) for r in rows] == [
        ("SN-1", 1, 3.0, "Failed"),
        ("SN-2", 1, 3.2, "Passed"),
        ("SN-3", 1, 3.4, "Passed"),
        ("SN-4", 1, 3.6, "Failed"),
        ("SN-1", 2, 3.3, "Passed"),
    ]
    first = rows[0]
    assert first.measurement_path == V33
    assert (first.step_name, first.step_path, first.measure_name) == ("3V3", V33, None)
    assert (first.limit1, first.limit2, first.comp_operator, first.unit) == (3.1, 3.5, "GELE", "V")
    assert (first.part_number, first.revision, first.test_operation) == ("PCB-1", "A", "PCBA test")
    assert first.process_code == 50
    assert first.station_name == "ST-1"
    assert first.start_utc == (NOW - timedelta(minutes=100)).replace(microsecond=0)
    assert isinstance(first.report_id, uuid.UUID)


def test_measurements_of_several_paths_and_of_every_path(reports: pyWATS) -> None:
    rows = reports.analytics.get_measurements(PCBA, f"{V5};{V12}")
    assert [(r.measurement_path, r.measure_name, r.value) for r in rows[:2]] == [
        (V5, "5V", 5.0),
        (V5, "5V", 5.05),
    ]
    assert [r.value for r in rows if r.measurement_path == V12] == [12.2, 12.4, 12.6, 12.0, 12.1]
    assert [r.status for r in rows if r.measurement_path == V12][2] == "Failed"
    every = reports.analytics.get_measurements(PCBA)
    assert sorted({r.measurement_path or "" for r in every}) == sorted([V33, V5, V12])
    assert len(every) == 15


def test_measurement_paths_compare_without_letter_case(reports: pyWATS) -> None:
    rows = reports.analytics.get_measurements(PCBA, V33.upper())
    assert len(rows) == 5
    assert rows[0].measurement_path == V33.upper()  # the path as asked


def test_measurements_by_run_dates_and_count(reports: pyWATS) -> None:
    analytics = reports.analytics
    first = analytics.get_measurements(msgspec.structs.replace(PCBA, run=Run.FIRST), V33)
    assert [r.value for r in first] == [3.0, 3.2, 3.4, 3.6]
    last = analytics.get_measurements(msgspec.structs.replace(PCBA, run=Run.LAST), V33)
    assert [r.value for r in last] == [3.2, 3.4, 3.6, 3.3]
    second = analytics.get_measurements(msgspec.structs.replace(PCBA, run=Run.SECOND), V33)
    assert [(r.serial_number, r.value) for r in second] == [("SN-1", 3.3)]
    old = analytics.get_measurements(
        msgspec.structs.replace(PCBA, date_from=NOW - timedelta(days=50)), V33
    )
    assert [r.value for r in old] == [9.9, 3.0, 3.2, 3.4, 3.6, 3.3]
    newest = analytics.get_measurements(msgspec.structs.replace(PCBA, max_count=2), V33)
    assert [r.value for r in newest] == [3.6, 3.3]
    by_code = analytics.get_measurements(WATSFilter(part_number="PCB-%", test_operation="60"), V33)
    assert [r.value for r in by_code] == [1.0]


def test_a_path_nothing_measured_gives_nothing(reports: pyWATS) -> None:
    assert reports.analytics.get_measurements(PCBA, measurement_path(ROOT, "Nope")) == []
    # A multi-numeric step needs the measurement's name.
    assert reports.analytics.get_measurements(PCBA, measurement_path(ROOT, "Power", "Rails")) == []


def test_measurements_need_part_number_and_test_operation(reports: pyWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="partNumber and testOperation"):
        reports.analytics.get_measurements(None, V33)
    with pytest.raises(pywats.ValidationError, match="needs testOperation"):
        reports.analytics.get_measurements(WATSFilter(part_number="PCB-1"), V33)


def test_measurement_paths_that_cannot_be_sent_are_refused(api: pyWATS, fake: FakeWATS) -> None:
    for bad in ("", [], [f"{V33};{V5}"], [""], 3, b"path", [V33, 4]):
        with pytest.raises(InvalidArgumentError, match="measurement_paths"):
            api.analytics.get_measurements(PCBA, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="filter must be a WATSFilter"):
        api.analytics.get_measurements({"partNumber": "PCB-1"})  # type: ignore[arg-type]
    assert not fake.log


def test_measurement_path_writes_the_separators() -> None:
    assert measurement_path("Main", "Power", "3V3") == "Main¶Power¶3V3"
    assert measurement_path("Main", "Rails", measurement="5V") == "Main¶Rails¶¶5V"
    for steps, measure in (((), None), (("Main", "a;b"), None), (("Main", ""), None),
                           (("Main",), "x¶y")):  # fmt: skip
        with pytest.raises(InvalidArgumentError):
            measurement_path(*steps, measurement=measure)


def test_measurement_answers_flat_or_grouped_read_the_same() -> None:
    row = {"serialNumber": "SN-1", "value": 3.3, "stepPath": V33}
    answers = [
        [{"measurementPath": V33, "measurements": [row]}],
        [{**row, "measurementPath": V33}],
    ]
    for answer in answers:
        transport = httpx.MockTransport(lambda request, a=answer: httpx.Response(200, json=a))
        with pyWATS(BASE_URL, TOKEN, transport=transport) as client:
            (got,) = client.analytics.get_measurements(PCBA, V33)
        assert (got.measurement_path, got.serial_number, got.value) == (V33, "SN-1", 3.3)


# --- aggregated measurements ----------------------------------------------------------------


def test_aggregated_measurements_by_hand(reports: pyWATS) -> None:
    (row,) = reports.analytics.get_aggregated_measurements(PCBA, [V33])
    values = [3.0, 3.2, 3.4, 3.6, 3.3]
    mean = 3.3
    sigma = _stdev(values)
    assert sigma == _approx(math.sqrt(0.2 / 4))
    assert (row.measurement_path, row.step_name, row.measure_name) == (V33, "3V3", None)
    assert (row.count, row.passed_count, row.failed_count) == (5, 3, 2)
    assert (row.min, row.max) == (3.0, 3.6)
    assert row.avg == _approx(mean)
    assert row.stdev == _approx(sigma)
    assert row.var == _approx(0.05)
    assert row.cp == _approx((3.5 - 3.1) / (6 * sigma))
    assert row.cp_upper == _approx((3.5 - mean) / (3 * sigma))
    assert row.cp_lower == _approx((mean - 3.1) / (3 * sigma))
    assert row.cpk == _approx(min((3.5 - mean) / (3 * sigma), (mean - 3.1) / (3 * sigma)))
    assert row.sigma_high3 == _approx(mean + 3 * sigma)
    assert row.sigma_low3 == _approx(mean - 3 * sigma)
    assert (row.limit1, row.limit2, row.comp_operator, row.unit) == (3.1, 3.5, "GELE", "V")


def test_a_single_upper_limit_gives_cpk_without_cp(reports: pyWATS) -> None:
    (row,) = reports.analytics.get_aggregated_measurements(PCBA, V12)
    values = [12.2, 12.4, 12.6, 12.0, 12.1]
    mean = sum(values) / 5
    sigma = _stdev(values)
    assert row.count == 5
    assert row.avg == _approx(mean)
    assert row.stdev == _approx(sigma)
    assert row.cp is None  # LE: the one limit is an upper limit, there is no lower one
    assert row.cp_lower is None
    assert row.cpk == _approx((12.5 - mean) / (3 * sigma))
    assert row.cp_upper == row.cpk
    assert (row.limit1, row.limit2, row.comp_operator) == (12.5, None, "LE")


def test_aggregates_of_every_path_and_of_an_empty_one(reports: pyWATS) -> None:
    rows = reports.analytics.get_aggregated_measurements(
        WATSFilter(part_number="PCB-1", test_operation="PCBA test", run=Run.FIRST)
    )
    by_path = {r.measurement_path: r for r in rows}
    assert set(by_path) == {V33, V5, V12}
    five = by_path[V5]
    assert five.count == 4
    assert five.avg == _approx(5.0)
    assert five.stdev == _approx(_stdev([5.0, 5.05, 4.95, 5.0]))
    (empty,) = reports.analytics.get_aggregated_measurements(PCBA, measurement_path(ROOT, "X"))
    assert (empty.measurement_path, empty.count, empty.avg, empty.stdev) == (
        measurement_path(ROOT, "X"),
        0,
        None,
        None,
    )


def test_one_value_has_no_spread(reports: pyWATS) -> None:
    (row,) = reports.analytics.get_aggregated_measurements(
        WATSFilter(part_number="PSU-2", test_operation="PCBA test"), V33
    )
    assert (row.count, row.avg, row.min, row.max) == (1, 3.3, 3.3, 3.3)
    assert (row.stdev, row.var, row.cp, row.cpk) == (None, None, None, None)


def test_aggregated_measurements_errors(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="partNumber"):
        api.analytics.get_aggregated_measurements(WATSFilter(test_operation="PCBA test"), V33)
    with pytest.raises(InvalidArgumentError, match="measurement_paths"):
        api.analytics.get_aggregated_measurements(PCBA, ["a;b"])


# --- test-step analysis ---------------------------------------------------------------------


def _rows(rows: list[StepAnalysisRow]) -> dict[tuple[str | None, str | None], StepAnalysisRow]:
    return {(r.step_path, r.measure_name): r for r in rows}


def test_step_analysis_of_first_runs_by_hand(reports: pyWATS) -> None:
    rows = reports.analytics.get_test_step_analysis(PCBA)
    by = _rows(rows)
    assert [r.step_path for r in rows[:3]] == [ROOT, f"{ROOT}¶Power", V33]
    step = by[(V33, None)]
    assert (step.step_name, step.step_type, step.step_group) == ("3V3", "ET_NLT", "Main")
    assert (step.step_count, step.step_passed_count, step.step_failed_count) == (4, 2, 2)
    assert (step.step_error_count, step.step_skipped_count, step.step_other_count) == (0, 0, 0)
    assert step.step_caused_uut_failed == 2  # SN-1 and SN-4 failed on it; SN-3 on Rails
    assert (step.step_time_min, step.step_time_avg, step.step_time_max) == (1.0, 2.0, 3.0)
    values = [3.0, 3.2, 3.4, 3.6]
    sigma = _stdev(values)
    assert step.measure_count == 4
    assert step.avg == _approx(3.3)
    assert step.stdev == _approx(sigma)
    assert step.var == _approx(0.2 / 3)
    assert step.cpk == _approx(0.2 / (3 * sigma))
    assert step.cp == _approx(0.4 / (6 * sigma))
    passed = [3.2, 3.4]
    assert step.measure_count_wof == 2
    assert step.avg_wof == _approx(3.3)
    assert step.stdev_wof == _approx(_stdev(passed))
    assert step.cpk_wof == _approx(0.2 / (3 * _stdev(passed)))
    assert (step.min_wof, step.max_wof) == (3.2, 3.4)


def test_step_analysis_of_a_multi_numeric_step(reports: pyWATS) -> None:
    by = _rows(reports.analytics.get_test_step_analysis(PCBA))
    rails = measurement_path(ROOT, "Power", "Rails")
    step = by[(rails, None)]
    assert (step.step_count, step.step_passed_count, step.step_failed_count) == (4, 3, 1)
    assert step.step_caused_uut_failed == 1
    assert step.measure_count is None  # the measurements have rows of their own
    twelve = by[(rails, "12V")]
    values = [12.2, 12.4, 12.6, 12.0]
    assert (twelve.measure_count, twelve.measure_count_wof) == (4, 3)
    assert twelve.avg == _approx(12.3)
    assert twelve.cpk == _approx((12.5 - 12.3) / (3 * _stdev(values)))
    assert twelve.cp is None
    assert (twelve.step_count, twelve.limit1, twelve.comp_operator) == (None, 12.5, "LE")
    assert by[(rails, "5V")].avg == _approx(5.0)


def test_step_analysis_by_run(reports: pyWATS) -> None:
    analytics = reports.analytics
    every = _rows(analytics.get_test_step_analysis_for_operation("PCB-1", "PCBA test", run=Run.ALL))
    assert every[(V33, None)].step_count == 5
    assert every[(V33, None)].avg == _approx(3.3)
    last = _rows(analytics.get_test_step_analysis_for_operation("PCB-1", "PCBA test", run=Run.LAST))
    assert last[(V33, None)].step_count == 4
    assert last[(V33, None)].avg == _approx((3.2 + 3.4 + 3.6 + 3.3) / 4)
    assert last[(V33, None)].step_caused_uut_failed == 1  # only SN-4 in its last run


def test_step_analysis_errors(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(pywats.ValidationError, match="testOperation"):
        api.analytics.get_test_step_analysis(WATSFilter(part_number="PCB-1"))
    with pytest.raises(InvalidArgumentError, match="part_number"):
        api.analytics.get_test_step_analysis_for_operation("", "PCBA test")
    with pytest.raises(InvalidArgumentError, match="run"):
        api.analytics.get_test_step_analysis(WATSFilter(part_number="X", run=7))  # type: ignore[arg-type]
    assert api.analytics.get_test_step_analysis(PCBA) == []  # nothing stored


# --- report lists and the serial-number history ---------------------------------------------


def test_uut_reports_newest_first(reports: pyWATS) -> None:
    found = reports.analytics.get_uut_reports(WATSFilter(part_number="PCB-1"))
    assert [(h.serial_number, h.process_code, h.run) for h in found] == [
        ("SN-1", 60, 1),
        ("SN-1", 50, 2),
        ("SN-4", 50, 1),
        ("SN-3", 50, 1),
        ("SN-2", 50, 1),
        ("SN-1", 50, 1),
        ("SN-0", 50, 1),
    ]
    assert all(h.report_type == "T" for h in found)
    top = reports.analytics.get_uut_reports(WATSFilter(part_number="PCB-1", top_count=2))
    assert [h.serial_number for h in top] == ["SN-1", "SN-1"]
    failed = reports.analytics.get_uut_reports(WATSFilter(status="Failed", test_operation="50"))
    assert [h.serial_number for h in failed] == ["SN-4", "SN-3", "SN-1", "SN-0"]
    misc = reports.analytics.get_uut_reports(
        WATSFilter(misc_description="Fixture", misc_value="F_", serial_number="SN-9;SN-2")
    )
    assert [h.serial_number for h in misc] == ["SN-9", "SN-2"]
    assert reports.analytics.get_uut_reports(WATSFilter(misc_value="F2")) == []


def test_uut_reports_by_query(reports: pyWATS) -> None:
    analytics = reports.analytics
    found = analytics.find_uut_reports(serial_number="SN-1", test_operation="PCBA test")
    assert [h.run for h in found] == [2, 1]
    recent = analytics.find_uut_reports(
        part_number="PCB-%", date_from=NOW - timedelta(minutes=75), date_to=NOW
    )
    assert [h.serial_number for h in recent] == ["SN-1", "SN-1", "SN-4"]
    assert len(analytics.find_uut_reports(product_group_id=1)) == 8  # "All products"
    assert len(analytics.find_uut_reports(product_group_id="All products", status="Passed")) == 3
    with pytest.raises(pywats.NotFoundError, match="levelId: level '99' was not found"):
        analytics.find_uut_reports(level_id=99)
    with pytest.raises(InvalidArgumentError, match="date_from must be a datetime"):
        analytics.find_uut_reports(date_from="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="level_id"):
        analytics.find_uut_reports(level_id=[1, "a;b"])
    with pytest.raises(pywats.ValidationError, match="status"):
        analytics.find_uut_reports(status="Maybe")


def test_a_level_selects_the_reports_of_its_stations(reports: pyWATS) -> None:
    level_id = reports.system.create_level(["Plant", "Line 2"])
    client = reports.system.register_client("ST-1", mac="00155D000001", location="Lab")
    assert client is not None
    assert level_id is not None
    reports.system.update_client(msgspec.structs.replace(client, client_group_id=level_id))
    on_line = reports.analytics.get_uut_reports(WATSFilter(level="Line _"))
    assert len(on_line) == 8  # every test report was tested on ST-1
    assert reports.analytics.get_uur_reports(WATSFilter(level="Line 2")) == []  # REP-1, REP-2
    assert len(reports.analytics.find_uut_reports(level_id=[level_id])) == 8
    assert len(reports.analytics.find_uut_reports(level_id="Line 2")) == 8
    assert reports.analytics.find_uut_reports(level_id="Default") == []


def test_uur_reports_newest_first(reports: pyWATS) -> None:
    found = reports.analytics.get_uur_reports()
    assert [(h.serial_number, h.process_name) for h in found] == [
        ("SN-4", "Repair"),
        ("SN-3", "RMA Repair"),
        ("SN-1", "Repair"),
    ]
    assert all(h.report_type == "R" for h in found)
    rma = reports.analytics.get_uur_reports(WATSFilter(test_operation="RMA Repair"))
    assert [h.serial_number for h in rma] == ["SN-3"]
    assert reports.analytics.get_uur_reports(WATSFilter(top_count=1))[0].serial_number == "SN-4"


def test_serial_number_history_is_every_report_in_time_order(reports: pyWATS) -> None:
    history = reports.analytics.get_serial_number_history(WATSFilter(serial_number="SN-1"))
    assert [(h.report_type, h.process_code, h.run) for h in history] == [
        ("T", 50, 1),
        ("R", 500, 1),
        ("T", 50, 2),
        ("T", 60, 1),
    ]
    # Members the description does not list for the history (status, dates…) do not narrow it.
    same = reports.analytics.get_serial_number_history(
        WATSFilter(serial_number="sn-1", status="Passed", date_from=NOW)
    )
    assert [h.uuid for h in same] == [h.uuid for h in history]
    assert reports.analytics.get_serial_number_history(WATSFilter(serial_number="SN-7")) == []


def test_report_list_errors(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(InvalidArgumentError, match="status"):
        api.analytics.get_uut_reports(WATSFilter(status="Maybe"))
    with pytest.raises(InvalidArgumentError, match="topCount"):
        api.analytics.get_uur_reports(WATSFilter(top_count=0))
    with pytest.raises(InvalidArgumentError, match="filter must be a WATSFilter"):
        api.analytics.get_serial_number_history("SN-1")  # type: ignore[arg-type]
    assert not fake.log


# --- repairs ----------------------------------------------------------------------------------


def test_dynamic_repair_by_fail_code_and_component(reports: pyWATS) -> None:
    rows = reports.analytics.get_dynamic_repair(None, "repairCode;componentRef")
    got = [(r.repair_code, r.component_ref, r.repair_report_count, r.repair_count) for r in rows]
    assert got == [
        ("Bridge", "U3", 1, 1),
        ("Defect component", "C1", 1, 1),
        ("Defect component", "R12", 2, 2),
        ("Wrong value", "R7", 1, 1),
    ]
    assert rows[0].part_number is None  # not a dimension asked for


def test_dynamic_repair_default_dimensions(reports: pyWATS) -> None:
    rows = reports.analytics.get_dynamic_repair()
    got = [(r.part_number, r.repair_operation, r.repair_report_count, r.repair_count) for r in rows]
    assert got == [("PCB-1", "Repair", 2, 4), ("PCB-1", "RMA Repair", 1, 1)]


def test_dynamic_repair_order_filter_and_test_side_dimensions(reports: pyWATS) -> None:
    analytics = reports.analytics
    rows = analytics.get_dynamic_repair(
        WATSFilter(dimensions="referencedStepPath;unitType;repairCount desc"),
    )
    assert [(r.referenced_step_path, r.unit_type, r.repair_count) for r in rows] == [
        (measurement_path(ROOT, "Power", "3V3"), "Main", 2),
        (measurement_path(ROOT, "Power", "Rails"), "Main", 1),
        (None, "Main", 1),
        (None, "PSU", 1),
    ]
    by_test = analytics.get_dynamic_repair(
        WATSFilter(station_name="REP-1"), ["testOperation", "testStationName", "repairReportCount"]
    )
    assert [(r.test_operation, r.test_station_name, r.repair_report_count) for r in by_test] == [
        ("PCBA test", "ST-1", 2)
    ]
    top = analytics.get_dynamic_repair(WATSFilter(top_count=1), "repairCount desc;componentRef")
    assert [(r.component_ref, r.repair_count) for r in top] == [("R12", 2)]
    period = analytics.get_dynamic_repair(WATSFilter(part_number="PCB-1"), "period")
    days = {(NOW - timedelta(minutes=m)).strftime("%Y-%m-%d") for m in (65, 62, 60)}
    assert [r.period for r in period] == sorted(days)  # periods named as the yield rows name them


def test_every_repair_dimension_is_answered(reports: pyWATS) -> None:
    rows = reports.analytics.get_dynamic_repair(WATSFilter(), list(REPAIR_DIMENSIONS))
    assert sum(r.repair_count or 0 for r in rows) == 5
    assert {r.operator for r in rows} == {"bo", None}


def test_dynamic_repair_errors(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(InvalidArgumentError, match="colour"):
        api.analytics.get_dynamic_repair(None, "colour")
    with pytest.raises(InvalidArgumentError, match="direction"):
        api.analytics.get_dynamic_repair(None, "partNumber sideways")
    with pytest.raises(InvalidArgumentError, match="dimensions"):
        api.analytics.get_dynamic_repair(None, [1])  # type: ignore[list-item]
    assert not fake.log
    with pytest.raises(pywats.ValidationError, match="colour"):
        api.analytics.get_dynamic_repair(WATSFilter(dimensions="colour"))


def test_related_repair_history(reports: pyWATS) -> None:
    history = reports.analytics.get_related_repair_history("PCB-1", "A")
    assert [(h.serial_number, h.repair_code, h.component_ref) for h in history] == [
        ("SN-4", "Defect component", "R12"),
        ("SN-4", "Defect component", "C1"),
        ("SN-3", "Wrong value", "R7"),
        ("SN-1", "Defect component", "R12"),
        ("SN-1", "Bridge", "U3"),
    ]
    first = history[0]
    assert (first.repair_operation_code, first.repair_operation) == (500, "Repair")
    assert (first.test_operation_code, first.test_operation) == (50, "PCBA test")
    assert (first.referenced_step, first.repair_category, first.station_name) == (
        "3V3",
        "Component",
        "REP-1",
    )
    assert first.referenced_uut is not None
    module = history[1]
    assert (module.unit_part_number, module.unit_revision, module.unit_serial_number) == (
        "PSU-MOD",
        "B",
        "M-1",
    )
    rma = reports.analytics.get_related_repair_history("PCB-1", "A", repair_operation_code=510)
    assert [h.component_ref for h in rma] == ["R7"]
    assert reports.analytics.get_related_repair_history("pcb-1", "a", test_operation_code=60) == []
    sub = reports.analytics.get_related_repair_history("PSU-MOD", "B")
    assert [(h.serial_number, h.component_ref) for h in sub] == [("SN-4", "C1")]


def test_related_repair_history_errors(api: pyWATS, fake: FakeWATS) -> None:
    with pytest.raises(InvalidArgumentError, match="revision"):
        api.analytics.get_related_repair_history("PCB-1", "")
    with pytest.raises(InvalidArgumentError, match="repair_operation_code"):
        api.analytics.get_related_repair_history("PCB-1", "A", repair_operation_code="500")  # type: ignore[arg-type]
    assert not fake.log
    with httpx.Client(base_url=BASE_URL, transport=fake) as http:
        answer = http.get(
            "/api/App/RelatedRepairHistory",
            params={"partNumber": "PCB-1"},
            headers={"Authorization": f"Basic {TOKEN}"},
        )
    assert answer.status_code == 400
    assert "revision is required" in answer.json()["Message"]

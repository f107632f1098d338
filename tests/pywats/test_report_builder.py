"""Tests of the report builder: step kinds, operators, statuses, loops, attachments, UUR links."""

from __future__ import annotations

import base64
import math
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

import pywats
from pywats import (
    CompOp,
    Measure,
    ReportBuilder,
    ReportInvalidError,
    StepKind,
    StringMeasure,
    UURReport,
    UUTReport,
    _deprecated,
)
from pywats.formats.wsjf import loads
from pywats.models.report import ChartSeries, Step
from pywats.report_builder import (
    STEP_ATTACHMENT_LIMIT,
    FailureHandle,
    NumericLoop,
    SequenceBuilder,
    SequenceLoop,
    StepHandle,
    UURBuilder,
    UUTBuilder,
    evaluate,
    evaluate_string,
)
from tests.fixtures import real_file


def new_uut(**overrides: object) -> UUTBuilder:
    args: dict[str, object] = {
        "pn": "PN-100",
        "sn": "SN-1",
        "rev": "A",
        "process_code": 10,
        "station": "STATION-1",
        "location": "Lab",
        "purpose": "Production",
        "operator": "op1",
    }
    args.update(overrides)
    return ReportBuilder.uut(**args)  # type: ignore[arg-type]


def by_name(report: UUTReport, name: str) -> list[Step]:
    return [s for s in report.steps() if s.name == name]


def one(report: UUTReport, name: str) -> Step:
    (step,) = by_name(report, name)
    return step


# --- comparison operators -------------------------------------------------------------------

# (op, value, low, high, passes): a pass and a fail per operator, most on the limit.
OPERATOR_CASES = [
    (CompOp.LOG, -1e308, None, None, True),
    (CompOp.EQ, 5.0, 5.0, None, True),
    (CompOp.EQ, 5.000001, 5.0, None, False),
    (CompOp.NE, 4.0, 5.0, None, True),
    (CompOp.NE, 5.0, 5.0, None, False),
    (CompOp.GT, 5.1, 5.0, None, True),
    (CompOp.GT, 5.0, 5.0, None, False),
    (CompOp.GE, 5.0, 5.0, None, True),
    (CompOp.GE, 4.9, 5.0, None, False),
    (CompOp.LT, 4.9, 5.0, None, True),
    (CompOp.LT, 5.0, 5.0, None, False),
    (CompOp.LE, 5.0, 5.0, None, True),
    (CompOp.LE, 5.1, 5.0, None, False),
    (CompOp.GTLT, 1.5, 1.0, 2.0, True),
    (CompOp.GTLT, 1.0, 1.0, 2.0, False),
    (CompOp.GTLT, 2.0, 1.0, 2.0, False),
    (CompOp.GTLE, 2.0, 1.0, 2.0, True),
    (CompOp.GTLE, 1.0, 1.0, 2.0, False),
    (CompOp.GELT, 1.0, 1.0, 2.0, True),
    (CompOp.GELT, 2.0, 1.0, 2.0, False),
    (CompOp.GELE, 1.0, 1.0, 2.0, True),
    (CompOp.GELE, 2.0, 1.0, 2.0, True),
    (CompOp.GELE, 2.0000001, 1.0, 2.0, False),
    (CompOp.GELE, 0.9999999, 1.0, 2.0, False),
    (CompOp.LTGT, 0.9, 1.0, 2.0, True),
    (CompOp.LTGT, 2.1, 1.0, 2.0, True),
    (CompOp.LTGT, 1.0, 1.0, 2.0, False),
    (CompOp.LTGT, 2.0, 1.0, 2.0, False),
    (CompOp.LTGE, 2.0, 1.0, 2.0, True),
    (CompOp.LTGE, 1.0, 1.0, 2.0, False),
    (CompOp.LEGT, 1.0, 1.0, 2.0, True),
    (CompOp.LEGT, 2.0, 1.0, 2.0, False),
    (CompOp.LEGE, 1.0, 1.0, 2.0, True),
    (CompOp.LEGE, 2.0, 1.0, 2.0, True),
    (CompOp.LEGE, 1.5, 1.0, 2.0, False),
]


def test_operator_table_covers_all_fifteen_numeric_operators_both_ways() -> None:
    covered = {(op, passes) for op, _, _, _, passes in OPERATOR_CASES}
    numeric = set(CompOp) - {CompOp.CASESENSIT, CompOp.IGNORECASE}
    assert len(numeric) == 15
    assert covered == {(op, p) for op in numeric for p in (True, False)} - {(CompOp.LOG, False)}


@pytest.mark.parametrize(("op", "value", "low", "high", "passes"), OPERATOR_CASES)
def test_evaluate(
    op: CompOp, value: float, low: float | None, high: float | None, passes: bool
) -> None:
    assert evaluate(op, value, low, high) is passes
    assert evaluate(op.value.lower(), value, low, high) is passes


@pytest.mark.parametrize(("op", "value", "low", "high", "passes"), OPERATOR_CASES)
def test_numeric_step_status_follows_operator(
    op: CompOp, value: float, low: float | None, high: float | None, passes: bool
) -> None:
    b = new_uut()
    b.root.numeric("V", value, op, low=low, high=high, unit="V")
    report = b.build()
    step = one(report, "V")
    assert step.numeric_meas is not None
    expected = "P" if passes else "F"
    assert (step.status, step.numeric_meas[0].status) == (expected, expected)
    assert step.numeric_meas[0].comp_op == op.value
    assert report.result == expected


def test_lt_and_le_compare_against_the_low_limit() -> None:
    assert evaluate(CompOp.LT, 3.0, 5.0) is True
    assert evaluate(CompOp.LT, 6.0, 5.0, 100.0) is False  # a stray high limit is not used
    with pytest.raises(ValueError, match="low= only"):
        new_uut().root.numeric("x", 3.0, CompOp.LT, low=None, high=5.0)


def test_evaluate_needs_its_limits() -> None:
    with pytest.raises(ValueError, match="low limit"):
        evaluate(CompOp.GT, 1.0)
    with pytest.raises(ValueError, match="high limit"):
        evaluate(CompOp.GELE, 1.0, 0.0)
    with pytest.raises(ValueError, match="not a numeric"):
        evaluate(CompOp.CASESENSIT, 1.0, 0.0)
    with pytest.raises(ValueError, match="not a comparison operator"):
        evaluate("BETWEEN", 1.0, 0.0)


@pytest.mark.parametrize(
    ("op", "value", "limit", "passes"),
    [
        (CompOp.LOG, "anything", None, True),
        (CompOp.CASESENSIT, "1.2.3", "1.2.3", True),
        (CompOp.CASESENSIT, "abc", "ABC", False),
        (CompOp.IGNORECASE, "abc", "ABC", True),
        (CompOp.IGNORECASE, "Straße", "STRASSE", True),
        (CompOp.IGNORECASE, "abc", "abd", False),
        (CompOp.EQ, "abc", "abc", True),
        (CompOp.EQ, "abc", "ABC", False),
        (CompOp.NE, "abc", "ABC", True),
        (CompOp.NE, "abc", "abc", False),
    ],
)
def test_evaluate_string(op: CompOp, value: str, limit: str | None, passes: bool) -> None:
    assert evaluate_string(op, value, limit) is passes
    b = new_uut()
    b.root.string("S", value, op, limit=limit)
    step = one(b.build(), "S")
    assert step.status == ("P" if passes else "F")


def _fixture_measurements(name: str) -> list[tuple[str, Step]]:
    report = loads(real_file("wsjf", name).read_bytes())
    assert isinstance(report, UUTReport)
    return [(name, step) for step in report.steps()]


def test_evaluate_agrees_with_every_numeric_measurement_of_the_real_exports() -> None:
    steps = [
        *_fixture_measurements("uut-wsjf-export.json"),
        *_fixture_measurements("new_report_example.json"),
    ]
    checked = total = 0
    for _, step in steps:
        for m in step.numeric_meas or ():
            total += 1
            if m.status == "S":
                continue
            assert m.comp_op is not None
            assert m.value is not None
            passed = evaluate(m.comp_op, m.value, m.low_limit, m.high_limit)
            assert ("P" if passed else "F") == m.status, (step.name, m)
            checked += 1
    assert total == 281
    assert checked > 250


def test_evaluate_string_agrees_with_the_real_exports() -> None:
    steps = [
        *_fixture_measurements("uut-wsjf-export.json"),
        *_fixture_measurements("new_report_example.json"),
    ]
    meas = [m for _, s in steps for m in s.string_meas or ()]
    assert len(meas) == 30
    for m in meas:
        assert m.comp_op is not None
        assert m.value is not None
        assert ("P" if evaluate_string(m.comp_op, m.value, m.limit) else "F") == m.status, m


# --- step kinds -----------------------------------------------------------------------------


def kitchen_sink() -> UUTBuilder:
    b = new_uut()
    b.sequence_info(path="main.seq", name="MainSequence", version="2.1.0")
    seq = b.root.sequence("Power rails", path="rails.seq", version="1.0")
    seq.numeric("3V3", 3.31, CompOp.GELE, low=3.2, high=3.4, unit="V")
    seq.multi_numeric(
        "Rails",
        [
            Measure("5V", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V"),
            Measure("12V", 12.0, CompOp.LOG, unit="V"),
        ],
    )
    seq.pass_fail("LED", True)
    seq.multi_pass_fail("LEDs", {"red": True, "green": True})
    seq.string("FW", "1.2.3", CompOp.CASESENSIT, limit="1.2.3")
    seq.multi_string(
        "IDs",
        [StringMeasure("board", "B-1", CompOp.IGNORECASE, limit="b-1"), StringMeasure("x", "y")],
    )
    series = [ChartSeries.from_points("Response", [0.0, 1.0, 2.0], [0.5, 0.25, 0.125])]
    seq.chart("Bode", series, x_label="f", x_unit="Hz", y_label="gain", y_unit="dB")
    seq.chart("Bode+", series, measures=[Measure("peak", 0.5, CompOp.LE, low=1.0)])
    seq.call_exe("flash.sh", exit_code=0)
    seq.message_popup("Insert DUT", response="ok", button=0)
    seq.action("Wait", step_type="NI_Wait")
    seq.action("Note")
    seq.numeric_loop("Ripple", [0.01, 0.02, 0.015], CompOp.LE, low=0.05, unit="V")
    return b


def test_every_step_kind_with_default_step_types() -> None:
    report = kitchen_sink().build()
    expected = {
        "MainSequence Callback": (StepKind.SEQUENCE_CALL, "SequenceCall", "P"),
        "Power rails": (StepKind.SEQUENCE_CALL, "SequenceCall", "P"),
        "3V3": (StepKind.NUMERIC_LIMIT, "ET_NLT", "P"),
        "Rails": (StepKind.MULTI_NUMERIC_LIMIT, "ET_MNLT", "P"),
        "LED": (StepKind.PASS_FAIL, "ET_PFT", "P"),
        "LEDs": (StepKind.MULTI_PASS_FAIL, "ET_MPFT", "P"),
        "FW": (StepKind.STRING_VALUE, "ET_SVT", "P"),
        "IDs": (StepKind.MULTI_STRING_VALUE, "ET_MSVT", "P"),
        "Bode": (StepKind.CHART, "Chart", "D"),
        "Bode+": (StepKind.MULTI_NUMERIC_LIMIT, "WATS_XYGMNLT", "P"),
        "flash.sh": (StepKind.CALL_EXE, "CallExecutable", "D"),
        "Insert DUT": (StepKind.MESSAGE_POPUP, "MessagePopup", "D"),
        "Wait": (StepKind.GENERIC, "NI_Wait", "D"),
        "Note": (StepKind.GENERIC, "Action", "D"),
    }
    for name, (kind, step_type, status) in expected.items():
        step = one(report, name)
        assert (step.kind, step.step_type, step.status, step.group) == (
            kind,
            step_type,
            status,
            "M",
        ), name
    assert report.result == "P"
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure is None
    assert report.root is not None
    assert report.root.seq_call is not None
    assert (report.root.seq_call.path, report.root.seq_call.version) == ("main.seq", "2.1.0")
    rails = one(report, "Power rails")
    assert rails.seq_call is not None
    assert rails.seq_call.path == "rails.seq"
    popup = one(report, "Insert DUT").message_popup
    assert popup is not None
    assert (popup.response, popup.button) == ("ok", 0)
    exe = one(report, "flash.sh").call_exe
    assert exe is not None
    assert exe.exit_code == 0.0
    chart = one(report, "Bode").chart
    assert chart is not None
    assert chart.series is not None
    assert chart.series[0].points() == ([0.0, 1.0, 2.0], [0.5, 0.25, 0.125])
    assert (chart.chart_type, chart.x_unit, chart.y_label) == ("Line", "Hz", "gain")
    assert report.validate() == []


def test_step_ids_are_depth_first_preorder_from_one() -> None:
    b = new_uut()
    a = b.root.sequence("A")
    a.action("A1")
    a.sequence("A2").action("A2a")
    b.root.action("B")
    report = b.build()
    assert [(s.id, s.name) for s in report.steps()] == [
        (1, "MainSequence Callback"),
        (2, "A"),
        (3, "A1"),
        (4, "A2"),
        (5, "A2a"),
        (6, "B"),
    ]


def test_step_options_and_overrides() -> None:
    b = new_uut()
    when = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    b.root.numeric(
        "V",
        1.0,
        step_type="NumericLimitTest",
        group="S",
        report_text="line 1\nline 2",
        start=when,
        tot_time=0.25,
        error_code=7,
        error_message="oops",
        ts_guid="ID#:abc",
    )
    step = one(b.build(), "V")
    assert (step.step_type, step.group, step.report_text) == (
        "NumericLimitTest",
        "S",
        "line 1\nline 2",
    )
    assert (step.start, step.tot_time, step.error_code, step.error_message, step.ts_guid) == (
        when,
        0.25,
        7,
        "oops",
        "ID#:abc",
    )


def test_header_members() -> None:
    start = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    b = new_uut(start=start)
    b.misc_info("Firmware", "1.2.3").misc_info("Count", numeric=100)
    b.sub_unit("PCBA", pn="PCB-7", sn="PCB-0001", rev="B", position=0)
    b.asset("DMM-42", usage_count=3)
    b.details(comment="hi", exec_time=2.5, fixture_id="FX", batch_sn="B1", test_socket_index=1)
    r = b.build()
    assert (r.pn, r.sn, r.rev, r.process_code) == ("PN-100", "SN-1", "A", 10)
    assert (r.machine_name, r.location, r.purpose, r.start) == (
        "STATION-1",
        "Lab",
        "Production",
        start,
    )
    assert r.misc_infos is not None
    assert [(m.description, m.text, m.numeric) for m in r.misc_infos] == [
        ("Firmware", "1.2.3", None),
        ("Count", None, 100),
    ]
    assert r.sub_units is not None
    assert r.sub_units[0].pn == "PCB-7"
    assert r.assets is not None
    assert (r.assets[0].asset_sn, r.assets[0].usage_count) == ("DMM-42", 3)
    assert r.uut is not None
    assert (r.uut.user, r.uut.comment, r.uut.exec_time, r.uut.fixture_id) == (
        "op1",
        "hi",
        2.5,
        "FX",
    )
    assert r.id == b.id


def test_start_defaults_to_an_aware_now_and_naive_times_get_the_local_offset() -> None:
    before = datetime.now().astimezone()
    report = new_uut().build()
    assert report.start is not None
    assert report.start.tzinfo is not None
    assert before - timedelta(seconds=1) <= report.start <= datetime.now().astimezone()
    naive = datetime(2026, 1, 2, 3, 4, 5)
    started = new_uut(start=naive).build().start
    assert started is not None
    assert started.utcoffset() is not None
    assert started == naive.astimezone()


def test_build_returns_independent_copies() -> None:
    b = kitchen_sink()
    first, second = b.build(), b.build()
    assert first == second
    assert first is not second
    assert first.root is not None
    assert second.root is not None
    first.root.name = "changed"
    assert second.root.name == "MainSequence Callback"
    b.root.action("later")
    assert len(b.build().steps()) == len(second.steps()) + 1


# --- status propagation ---------------------------------------------------------------------


def test_a_failing_step_fails_every_parent_and_the_report() -> None:
    b = new_uut()
    outer = b.root.sequence("Outer")
    inner = outer.sequence("Inner")
    inner.numeric("ok", 1.0, CompOp.GE, low=0.0)
    inner.numeric("bad", -1.0, CompOp.GE, low=0.0)
    inner.numeric("bad too", -2.0, CompOp.GE, low=0.0)
    b.root.sequence("Sibling").pass_fail("fine", True)
    r = b.build()
    assert [(s.name, s.status) for s in r.steps()] == [
        ("MainSequence Callback", "F"),
        ("Outer", "F"),
        ("Inner", "F"),
        ("ok", "P"),
        ("bad", "F"),
        ("bad too", "F"),
        ("Sibling", "P"),
        ("fine", "P"),
    ]
    assert r.result == "F"
    assert r.uut is not None
    bad = one(r, "bad")
    assert r.uut.step_id_caused_uut_failure == bad.id == 5
    assert [s.name for s in r.steps() if s.caused_uut_failure] == ["bad"]


def test_multi_measurement_step_fails_when_one_measurement_fails() -> None:
    b = new_uut()
    b.root.multi_numeric(
        "M", [Measure("a", 1.0, CompOp.LE, low=2.0), Measure("b", 3.0, CompOp.LE, low=2.0)]
    )
    b.root.multi_pass_fail("PF", {"x": True, "y": False})
    b.root.multi_numeric("skipped", [Measure("a", 1.0, status="S"), Measure("b", 2.0, status="S")])
    r = b.build()
    m = one(r, "M")
    assert m.numeric_meas is not None
    assert (m.status, [x.status for x in m.numeric_meas]) == ("F", ["P", "F"])
    assert one(r, "PF").status == "F"
    assert one(r, "skipped").status == "S"
    assert r.result == "F"


def test_error_and_terminated_outrank_failed_and_are_never_lowered() -> None:
    b = new_uut()
    seq = b.root.sequence("S", status="E")
    seq.numeric("bad", 5.0, CompOp.LT, low=1.0)
    r = b.build()
    assert r.root is not None
    assert (one(r, "S").status, r.root.status, r.result) == ("E", "E", "E")

    b = new_uut()
    b.root.numeric("bad", 5.0, CompOp.LT, low=1.0)
    b.root.action("abort", status="T")
    r = b.build()
    assert r.root is not None
    assert (r.root.status, r.result) == ("T", "T")
    assert r.uut is not None
    assert r.uut.step_id_caused_uut_failure == one(r, "bad").id


def test_explicit_status_is_raised_not_lowered() -> None:
    b = new_uut()
    seq = b.root.sequence("S", status="P")
    seq.pass_fail("bad", False)
    done = b.root.sequence("Done", status="D")
    done.pass_fail("good", True)
    r = b.build()
    assert (one(r, "S").status, one(r, "Done").status) == ("F", "D")


def test_report_result_can_be_set_but_not_lowered() -> None:
    b = new_uut().result("E")
    assert b.build().result == "E"
    b = new_uut().result(pywats.ReportResult.PASSED)
    b.root.pass_fail("bad", False)
    assert b.build().result == "F"
    b = new_uut().result("T")
    b.root.pass_fail("bad", False)
    assert b.build().result == "T"
    with pytest.raises(ValueError, match="not one of P, F, E, T"):
        new_uut().result("D")


def test_fail_parent_false_keeps_a_failure_local() -> None:
    b = new_uut()
    seq = b.root.sequence("S")
    seq.pass_fail("tolerated", False, fail_parent=False)
    r = b.build()
    assert (one(r, "tolerated").status, one(r, "S").status, r.result) == ("F", "P", "P")
    assert r.uut is not None
    assert r.uut.step_id_caused_uut_failure is None
    assert not any(s.caused_uut_failure for s in r.steps())


def test_a_sequence_set_to_failed_without_failing_children_is_the_culprit() -> None:
    b = new_uut()
    b.root.sequence("S", status="F").action("a")
    b.root.pass_fail("later", False)
    r = b.build()
    assert r.uut is not None
    assert r.uut.step_id_caused_uut_failure == one(r, "S").id


def test_set_status_on_a_handle() -> None:
    b = new_uut()
    handle = b.root.numeric("V", 1.0, CompOp.GE, low=0.0)
    handle.set_status("S")
    action = b.root.action("A").set_status("E")
    assert action.name == "A"
    r = b.build()
    v = one(r, "V")
    assert v.numeric_meas is not None
    assert (v.status, v.numeric_meas[0].status, r.result) == ("S", "S", "E")
    with pytest.raises(ValueError, match="one measurement"):
        handle.set_status("E")


def test_single_measurement_status_override_sets_both() -> None:
    b = new_uut()
    b.root.pass_fail("PF", True, status="F")
    b.root.string("S", "x", status="S")
    r = b.build()
    pf, s = one(r, "PF"), one(r, "S")
    assert pf.boolean_meas is not None
    assert s.string_meas is not None
    assert (pf.status, pf.boolean_meas[0].status) == ("F", "F")
    assert (s.status, s.string_meas[0].status) == ("S", "S")
    assert r.validate() == []


# --- loops ----------------------------------------------------------------------------------


def test_numeric_loop_follows_the_server_rules() -> None:
    b = new_uut()
    loop = b.root.numeric_loop("Ripple", [0.01, 0.08, 0.015, 0.09], CompOp.LE, low=0.05, unit="V")
    assert len(loop.iterations) == 4
    r = b.build()
    assert r.validate() == []
    summary, *iterations = by_name(r, "Ripple")
    assert summary.loop is not None
    assert (summary.loop.idx, summary.loop.num, summary.loop.ending_index) == (None, 4, 3)
    assert (summary.loop.passed, summary.loop.failed) == (2, 2)
    assert [it.loop.idx if it.loop else None for it in iterations] == [0, 1, 2, 3]
    assert [it.status for it in iterations] == ["P", "F", "P", "F"]
    for step in (summary, *iterations):
        assert step.step_type == "ET_NLT"
        assert step.numeric_meas is not None
        assert len(step.numeric_meas) == 1
        m = step.numeric_meas[0]
        assert (m.comp_op, m.low_limit, m.high_limit, m.unit) == ("LE", 0.05, None, "V")
        assert m.status == step.status
    assert summary.status == "F"
    assert summary.numeric_meas is not None
    assert summary.numeric_meas[0].value == 0.08
    assert r.uut is not None
    assert r.uut.step_id_caused_uut_failure == iterations[1].id
    assert summary.caused_uut_failure is None


def test_passing_numeric_loop_summary_repeats_the_last_iteration() -> None:
    b = new_uut()
    b.root.numeric_loop("L", [1.0, 2.0, 3.0], CompOp.GELE, low=0.0, high=10.0)
    summary, *_ = by_name(b.build(), "L")
    assert summary.numeric_meas is not None
    assert (summary.status, summary.numeric_meas[0].value) == ("P", 3.0)
    assert summary.loop is not None
    assert (summary.loop.passed, summary.loop.failed) == (3, 0)


def test_sequence_loop_follows_the_server_rules() -> None:
    b = new_uut()
    loop = b.root.sequence_loop("Retry", path="retry.seq")
    for value in (5.0, 1.0, 2.0):
        it = loop.iteration()
        it.numeric("V", value, CompOp.LT, low=3.0)
        it.string("ID", "abc", CompOp.IGNORECASE, limit="ABC")
    r = b.build()
    assert r.validate() == []
    summary, *iterations = by_name(r, "Retry")
    assert summary.loop is not None
    assert (summary.loop.num, summary.loop.ending_index) == (3, 2)
    assert (summary.loop.passed, summary.loop.failed) == (2, 1)
    assert [s.status for s in (summary, *iterations)] == ["F", "F", "P", "P"]
    for step in (summary, *iterations):
        assert step.step_type == "SequenceCall"
        assert [c.name for c in step.steps or ()] == ["V", "ID"]
    # The summary repeats the failing iteration; its copies never count as the culprit.
    assert summary.steps is not None
    assert summary.steps[0].status == "F"
    assert r.uut is not None
    assert iterations[0].steps is not None
    assert r.uut.step_id_caused_uut_failure == iterations[0].steps[0].id
    assert r.result == "F"


def test_sequence_loop_iterations_must_hold_the_same_steps() -> None:
    b = new_uut()
    loop = b.root.sequence_loop("Retry")
    loop.iteration().numeric("V", 1.0)
    loop.iteration().numeric("W", 1.0)
    with pytest.raises(ReportInvalidError) as info:
        b.build()
    assert "step W in Summary step requires a match." in str(info.value)


def test_sequence_loop_iterations_must_share_limits() -> None:
    b = new_uut()
    loop = b.root.sequence_loop("Retry")
    loop.iteration().numeric("V", 1.0, CompOp.GE, low=0.0)
    loop.iteration().numeric("V", 1.0, CompOp.GE, low=0.5)
    with pytest.raises(ReportInvalidError, match="lowLimit is required to match Summary step"):
        b.build()


def test_empty_loops_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        new_uut().root.numeric_loop("L", [], CompOp.LOG)
    b = new_uut()
    b.root.sequence_loop("Nothing")
    with pytest.raises(ValueError, match="no iteration"):
        b.build()


# --- attachments ----------------------------------------------------------------------------


def test_step_attachment_is_base64_and_limited_to_100_kb() -> None:
    b = new_uut()
    data = bytes(range(256)) * (STEP_ATTACHMENT_LIMIT // 256)
    assert len(data) == STEP_ATTACHMENT_LIMIT == 102_400
    b.root.pass_fail("PF", True).attach("scope.bin", data, "application/octet-stream")
    b.root.numeric_loop("L", [1.0], CompOp.LOG).attach("loop.txt", b"summary", "text/plain")
    r = b.build()
    att = one(r, "PF").attachment
    assert att is not None
    assert att.data is not None
    assert (att.name, att.content_type) == ("scope.bin", "application/octet-stream")
    assert base64.b64decode(att.data) == data
    summary, iteration = by_name(r, "L")
    assert summary.attachment is not None
    assert iteration.attachment is None

    step = new_uut().root.action("big")
    with pytest.raises(ValueError, match=r"102401 bytes; a step attachment may be at most 102400"):
        step.attach("big.bin", b"x" * (STEP_ATTACHMENT_LIMIT + 1), "application/octet-stream")


def test_one_attachment_per_step_and_none_beside_a_chart() -> None:
    b = new_uut()
    step = b.root.action("a").attach("one.txt", b"1", "text/plain")
    with pytest.raises(ValueError, match="already has an attachment"):
        step.attach("two.txt", b"2", "text/plain")
    chart = b.root.chart("c", [ChartSeries.from_points("s", None, [1.0])])
    with pytest.raises(ValueError, match="chart"):
        chart.attach("x.png", b"", "image/png")
    with pytest.raises(TypeError, match="bytes"):
        b.root.action("b").attach("s.txt", "text", "text/plain")  # type: ignore[arg-type]


# --- repair reports -------------------------------------------------------------------------


def failed_uut() -> UUTReport:
    b = new_uut(process_code=90)
    b.sub_unit("PCBA", pn="PCB-7", sn="PCB-0001", rev="B")
    b.sub_unit("MODULE", pn="MOD-1", sn="M-1", rev="C")
    b.root.sequence("Burn in").numeric("Temp", 90.0, CompOp.LE, low=85.0, unit="degC")
    return b.build()


def test_uur_links_to_the_uut_it_repairs() -> None:
    uut = failed_uut()
    assert uut.uut is not None
    assert uut.result == "F"
    b = ReportBuilder.uur(
        repairing=uut, process_code=500, station="REPAIR-1", location="Lab", operator="tech1"
    )
    handle = b.failure(
        category="Component",
        code="Burned Component",
        com_ref="U1",
        ref_step=uut.uut.step_id_caused_uut_failure,
        comment="Reworked",
    )
    handle.attach("photo.png", b"\x89PNG", "image/png")
    temp = one(uut, "Temp")
    b.failure("Component", "Other", ref_step=temp, unit_idx=1)
    b.attach("notes.txt", b"notes", "text/plain")
    b.details(comment="Replaced U1", exec_time=600.0)
    r = b.build()
    assert isinstance(r, UURReport)
    assert r.validate() == []
    assert (r.pn, r.sn, r.rev, r.process_code, r.purpose) == ("PN-100", "SN-1", "A", 500, "Repair")
    assert r.uur is not None
    assert (r.uur.ref_uut, r.uur.process_code, r.uur.user) == (uut.id, 90, "tech1")
    assert (r.uur.comment, r.uur.exec_time) == ("Replaced U1", 600.0)
    assert r.uur.confirm_date is not None
    assert r.uur.confirm_date.tzinfo is not None
    assert r.sub_units is not None
    assert [(u.idx, u.parent_idx, u.part_type, u.pn) for u in r.sub_units] == [
        (0, None, "Main", "PN-100"),
        (1, 0, "PCBA", "PCB-7"),
        (2, 0, "MODULE", "MOD-1"),
    ]
    main, pcba, _ = r.sub_units
    assert main.failures is not None
    assert pcba.failures is not None
    first = main.failures[0]
    assert (first.category, first.code, first.com_ref, first.ref_step_id) == (
        "Component",
        "Burned Component",
        "U1",
        temp.id,
    )
    assert first.attachments is not None
    assert base64.b64decode(first.attachments[0].data or "") == (b"\x89PNG")
    assert pcba.failures[0].ref_step_id == temp.id
    assert r.binary_data is not None
    assert r.binary_data[0].name == "notes.txt"
    assert base64.b64decode(r.binary_data[0].data or "") == b"notes"
    assert r.result == "P"


def test_standalone_uur_and_its_sub_units() -> None:
    b = ReportBuilder.uur(
        pn="PN-9",
        sn="SN-9",
        rev="C",
        test_process_code=90,
        process_code=500,
        station="R",
        location="Lab",
    )
    idx = b.sub_unit("PCBA", pn="P", sn="S", rev="1")
    new = b.sub_unit("PCBA", pn="P", sn="S2", rev="1", replaced_idx=idx)
    child = b.sub_unit("IC", pn="U", sn="U-1", rev="1", parent_idx=new)
    assert (idx, new, child) == (1, 2, 3)
    b.failure("Component", "Defect", ref_step=12, unit_idx=child)
    r = b.build()
    assert r.uur is not None
    assert (r.uur.ref_uut, r.uur.process_code) == (None, 90)
    assert r.sub_units is not None
    assert [u.idx for u in r.sub_units] == [0, 1, 2, 3]
    assert r.sub_units[3].parent_idx == 2
    assert r.sub_units[2].replaced_idx == 1
    assert r.validate() == []


def test_uur_argument_errors() -> None:
    uut = failed_uut()
    common = {"process_code": 500, "station": "R", "location": "Lab"}
    with pytest.raises(ValueError, match="not both"):
        ReportBuilder.uur(repairing=uut, pn="X", **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs sn, rev, test_process_code"):
        ReportBuilder.uur(pn="X", **common)  # type: ignore[arg-type]
    b = ReportBuilder.uur(repairing=uut, **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no step with id 999"):
        b.failure("C", "D", ref_step=999)
    with pytest.raises(ValueError, match="no sub-unit has idx 7"):
        b.failure("C", "D", unit_idx=7)
    with pytest.raises(ValueError, match="no sub-unit has idx 9"):
        b.sub_unit("X", pn="p", sn="s", rev="r", parent_idx=9)
    with pytest.raises(ValueError, match="step id >= 0"):
        b.failure("C", "D", ref_step=Step(name="no id"))


# --- validation and argument errors ---------------------------------------------------------


def test_built_reports_validate_with_no_problems() -> None:
    report = kitchen_sink().build()
    assert report.validate() == []
    assert report.validate(server_rules=False) == []


def test_build_raises_report_invalid_error_for_what_validation_finds() -> None:
    b = new_uut(pn="P" * 51)
    b.root.action("x" * 256)
    b.root.action("bell\x07")
    with pytest.raises(ReportInvalidError) as info:
        b.build()
    problems = {(p.rule, p.path) for p in info.value.problems}
    assert ("length", "pn") in problems
    assert ("length", f"root -> step {'x' * 256}") in problems
    assert ("characters", "root -> step bell\x07") in problems
    b = new_uut()
    b.root.string("S", "ctl\x01", CompOp.LOG)
    with pytest.raises(ReportInvalidError, match="value contains characters that XML cannot carry"):
        b.build()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda s: s.numeric("x", 1.0, CompOp.GELE, low=0.0),
            ValueError,
            "needs both low= and high=",
        ),
        (lambda s: s.numeric("x", 1.0, CompOp.GT), ValueError, "GT needs low="),
        (lambda s: s.numeric("x", 1.0, CompOp.LOG, low=0.0), ValueError, "takes no limits"),
        (lambda s: s.numeric("x", 1.0, CompOp.GELE, low=2.0, high=1.0), ValueError, "above high"),
        (lambda s: s.numeric("x", 1.0, CompOp.CASESENSIT), ValueError, "not a numeric comparison"),
        (lambda s: s.numeric("x", math.nan), ValueError, "must be finite"),
        (lambda s: s.numeric("x", math.inf), ValueError, "must be finite"),
        (lambda s: s.numeric("x", 1.0, CompOp.GT, low=-math.inf), ValueError, "must be finite"),
        (lambda s: s.numeric("x", 10**400), ValueError, "too large"),
        (lambda s: s.numeric("x", True), TypeError, "must be a number"),
        (lambda s: s.numeric("x", "1.0"), TypeError, "must be a number"),
        (lambda s: s.numeric("x", 1.0, "ABOUT"), ValueError, "not a comparison operator"),
        (lambda s: s.string("x", "a", CompOp.GE, limit="a"), ValueError, "not a string comparison"),
        (lambda s: s.string("x", "a", CompOp.CASESENSIT), ValueError, "needs limit="),
        (lambda s: s.string("x", "a", limit="a"), ValueError, "LOG does not compare"),
        (lambda s: s.string("x", 1), TypeError, "must be a str"),
        (lambda s: s.pass_fail("x", 1), TypeError, "must be a bool"),
        (lambda s: s.numeric("x", 1.0, status="E"), ValueError, "one measurement"),
        (lambda s: s.action("x", status="X"), ValueError, "not one of P, F, D, S, E, T, U"),
        (lambda s: s.action("x", group="Main"), ValueError, "not one of S, M, C"),
        (lambda s: s.action(""), ValueError, "must not be empty"),
        (lambda s: s.action(None), TypeError, "must be a str"),
        (lambda s: s.action("x", tot_time=-1.0), ValueError, "negative"),
        (
            lambda s: s.multi_numeric("x", [Measure("a", 1.0), Measure("a", 2.0)]),
            ValueError,
            "unique; repeated: \\['a'\\]",
        ),
        (lambda s: s.multi_numeric("x", []), ValueError, "at least one measurement"),
        (
            lambda s: s.multi_string("x", [StringMeasure("a", "1"), StringMeasure("a", "2")]),
            ValueError,
            "unique",
        ),
        (lambda s: s.multi_pass_fail("x", {}), ValueError, "at least one measurement"),
        (lambda s: s.chart("x", []), ValueError, "at least one series"),
        (lambda s: s.chart("x", [[1.0]]), TypeError, "ChartSeries"),
        (
            lambda s: s.chart("x", [ChartSeries.from_points("a", None, [1.0])], chart_type="Pie"),
            ValueError,
            "chart type",
        ),
        (lambda s: s.call_exe("x", math.nan), ValueError, "must be finite"),
        (lambda s: s.message_popup("x", button="1"), TypeError, "must be an int"),
    ],
)
def test_bad_arguments_raise_at_call_time(
    call: Callable[[SequenceBuilder], object], error: type[Exception], message: str
) -> None:
    seq = new_uut().root
    with pytest.raises(error, match=message):
        call(seq)


def test_measure_checks_its_arguments_when_created() -> None:
    with pytest.raises(ValueError, match="measurement 'a': GELE needs both"):
        Measure("a", 1.0, CompOp.GELE, low=0.0)
    with pytest.raises(ValueError, match="must not be empty"):
        Measure("", 1.0)
    with pytest.raises(ValueError, match="measurement status"):
        Measure("a", 1.0, status="E")
    with pytest.raises(ValueError, match="needs limit="):
        StringMeasure("a", "x", CompOp.IGNORECASE)


def test_header_argument_errors() -> None:
    with pytest.raises(TypeError, match="process_code must be an int"):
        new_uut(process_code="10")
    with pytest.raises(ValueError, match="not an int32"):
        new_uut().misc_info("n", numeric=2**31)
    with pytest.raises(TypeError, match="pn must be a str"):
        new_uut(pn=5)


def test_builder_is_exported_from_the_package() -> None:
    assert pywats.ReportBuilder is ReportBuilder
    assert pywats.Measure is Measure
    assert pywats.StringMeasure is StringMeasure
    assert {"Measure", "ReportBuilder", "StringMeasure"} <= set(pywats.__all__)


def test_lone_surrogates_are_reported_not_crashed_on() -> None:
    b = new_uut()
    b.root.action("half \ud800 pair")
    with pytest.raises(ReportInvalidError, match="characters"):
        b.build()
    with pytest.raises(ReportInvalidError, match="location: contains characters that XML"):
        new_uut(location="Lab \udfff").build()


def test_a_rejected_loop_leaves_no_partial_steps() -> None:
    b = new_uut()
    with pytest.raises(ValueError, match="loop 'L' value 1: value must be finite"):
        b.root.numeric_loop("L", [1.0, math.nan], CompOp.LOG)
    assert [s.name for s in b.build().steps()] == ["MainSequence Callback"]


def test_uur_can_repair_a_uut_builder() -> None:
    uut = new_uut()
    uut.root.pass_fail("LED", False)
    repair = ReportBuilder.uur(repairing=uut, process_code=500, station="R", location="Lab")
    repair.failure("Component", "Dead LED", ref_step=2)
    r = repair.build()
    assert r.uur is not None
    assert r.uur.ref_uut == uut.id
    assert r.uur.process_code == 10


# --- required header fields are refused at once, the attach name -------------------------------

REQUIRED_UUT_TEXTS = ["pn", "sn", "rev", "station", "location", "purpose"]


@pytest.mark.parametrize("field", REQUIRED_UUT_TEXTS)
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_required_header_field_is_refused_when_given(field: str, blank: str) -> None:
    # Not at build(), after the steps: where the mistake is made, naming the argument.
    with pytest.raises(ValueError, match=f"^{field} must not be empty$"):
        new_uut(**{field: blank})


@pytest.mark.parametrize("field", REQUIRED_UUT_TEXTS)
def test_a_missing_required_header_field_is_a_type_error_naming_it(field: str) -> None:
    with pytest.raises(TypeError, match=f"^{field} must be a str, not NoneType$"):
        new_uut(**{field: None})
    with pytest.raises(TypeError, match=r"^process_code must be an int, not str$"):
        new_uut(process_code="10")


@pytest.mark.parametrize("field", ["station", "location", "purpose"])
def test_a_repair_refuses_blank_station_fields_when_given(field: str) -> None:
    args: dict[str, object] = {
        "process_code": 500,
        "station": "REPAIR-1",
        "location": "Lab",
        "purpose": "Repair",
        "repairing": new_uut().build(),
        field: "",
    }
    with pytest.raises(ValueError, match=f"^{field} must not be empty$"):
        ReportBuilder.uur(**args)  # type: ignore[arg-type]


def test_every_builder_attaches_with_attach() -> None:
    for owner in (StepHandle, NumericLoop, SequenceLoop, FailureHandle, UURBuilder):
        assert callable(getattr(owner, "attach", None)), owner.__name__


def test_uur_attachment_is_a_deprecated_alias_that_warns_once() -> None:
    _deprecated._forget()
    b = ReportBuilder.uur(process_code=500, station="R-1", location="Lab", repairing=new_uut())
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")  # so only the alias's own "once" can hold back a second
        b.attachment("a.txt", b"a", "text/plain")
        b.attachment("b.txt", b"b", "text/plain")
    [warning] = warned
    assert warning.category is DeprecationWarning
    assert str(warning.message) == "UURBuilder.attachment() is deprecated; use UURBuilder.attach()"
    assert warning.filename == __file__  # it points at the caller's line
    assert [blob.name for blob in b.build().binary_data or ()] == ["a.txt", "b.txt"]

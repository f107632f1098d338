"""The WSJF model: step kinds, operators, charts, and decoding the real exports."""

from __future__ import annotations

from collections import Counter

import pytest

from pywats.formats import wsjf
from pywats.models.report import (
    ChartSeries,
    CompOp,
    ReportType,
    Step,
    StepKind,
    UURReport,
    UUTReport,
)
from tests.fixtures import real_file


def load(name: str) -> UUTReport | UURReport:
    return wsjf.loads(real_file("wsjf", name).read_bytes())


def test_fat_export_step_kinds_follow_payloads() -> None:
    report = load("uut-wsjf-export.json")
    assert isinstance(report, UUTReport)
    steps = report.steps()
    assert len(steps) == 186
    assert [s.id for s in steps] == list(range(1, 187))  # depth-first pre-order, as exported
    kinds = Counter(s.kind for s in steps)
    assert kinds[StepKind.CALL_EXE] == 4
    assert kinds[StepKind.MESSAGE_POPUP] == 4
    types = Counter(s.step_type for s in steps)
    assert types["ET_NLT"] == 64
    assert types["NI_Flow_If"] == 1
    # Every step with a sequence call is a sequence; every TestStand flow step is generic.
    for step in steps:
        if step.seq_call is not None:
            assert step.kind is StepKind.SEQUENCE_CALL
        if (step.step_type or "").startswith("NI_Flow"):
            assert step.kind is StepKind.GENERIC


def test_production_export_has_wait_steps_carrying_sequences() -> None:
    report = load("new_report_example.json")
    assert isinstance(report, UUTReport)
    waits = [s for s in report.steps() if s.step_type == "NI_Wait"]
    assert len(waits) == 38
    assert any(s.kind is StepKind.SEQUENCE_CALL for s in waits)
    assert any(s.kind is StepKind.GENERIC for s in waits)


def test_uur_export() -> None:
    report = load("uur_example.json")
    assert isinstance(report, UURReport)
    assert report.report_type is ReportType.UUR
    assert report.uur is not None
    assert str(report.uur.ref_uut).startswith("873d67f8")
    assert report.sub_units is not None
    failure = report.sub_units[0].failures
    assert failure is not None
    assert failure[0].com_ref == "U1"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({}, StepKind.GENERIC),
        ({"numericMeas": [{"value": 1.0}]}, StepKind.NUMERIC_LIMIT),
        ({"numericMeas": [{"name": "a"}]}, StepKind.MULTI_NUMERIC_LIMIT),
        ({"numericMeas": [{"name": "a"}, {"name": "b"}]}, StepKind.MULTI_NUMERIC_LIMIT),
        ({"booleanMeas": [{"status": "P"}]}, StepKind.PASS_FAIL),
        ({"booleanMeas": [{"name": "a"}, {"name": "b"}]}, StepKind.MULTI_PASS_FAIL),
        ({"stringMeas": [{"value": "x"}]}, StepKind.STRING_VALUE),
        ({"stringMeas": [{"name": "a"}, {"name": "b"}]}, StepKind.MULTI_STRING_VALUE),
        ({"chart": {"series": []}}, StepKind.CHART),
        ({"chart": {}, "numericMeas": [{"value": 1.0}]}, StepKind.NUMERIC_LIMIT),
        ({"callExe": {"exitCode": 0.0}}, StepKind.CALL_EXE),
        ({"messagePopup": {"button": 1}}, StepKind.MESSAGE_POPUP),
        ({"seqCall": {"name": "x"}}, StepKind.SEQUENCE_CALL),
        ({"steps": [{"name": "child"}]}, StepKind.SEQUENCE_CALL),
    ],
)
def test_step_kind(payload: dict[str, object], kind: StepKind) -> None:
    import msgspec

    step = msgspec.convert({"stepType": "Whatever", **payload}, Step)
    assert step.kind is kind


def test_comp_op_parse_and_limit_counts() -> None:
    assert CompOp.parse("IgnoreCase") is CompOp.IGNORECASE
    assert CompOp.parse("gele") is CompOp.GELE
    with pytest.raises(ValueError, match="EQT"):
        CompOp.parse("EQT")
    assert CompOp.LOG.limit_count == 0
    assert {op.limit_count for op in (CompOp.EQ, CompOp.LT, CompOp.LE, CompOp.NE)} == {1}
    assert {op.limit_count for op in (CompOp.GELE, CompOp.LTGT, CompOp.LEGE)} == {2}


def test_chart_series_points() -> None:
    series = ChartSeries.from_points("s", None, [1.5, 2.0, -3e-9])
    assert series.xdata == "0;1;2"
    assert series.ydata == "1.5;2.0;-3e-09"
    assert series.points() == ([0.0, 1.0, 2.0], [1.5, 2.0, -3e-9])
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        ChartSeries.from_points("s", [1.0, 2.0], [1.0])


def test_report_id_defaults_to_a_new_guid_and_is_always_written() -> None:
    a, b = UUTReport(), UUTReport()
    assert a.id != b.id
    assert b'"id":"' in wsjf.dumps(a)
    assert wsjf.dumps(a).startswith(b'{"type":"T"')

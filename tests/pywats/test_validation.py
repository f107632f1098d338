"""report.validate(): the server's importer rules on the real FAT export, and structural rules."""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from pywats.formats import wsjf
from pywats.models.report import (
    Attachment,
    BooleanMeasurement,
    Chart,
    ChartSeries,
    LoopInfo,
    MiscInfo,
    NumericMeasurement,
    SequenceCall,
    Step,
    StringMeasurement,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)
from pywats.validation import FieldLimits, Problem, validate_report
from tests.fixtures import WSJF_FILES, real_file

# Verbatim lines of the live server's 400 answer to this very report (reference §2.3).
SERVER_SAMPLES = [
    "root -> step Pass/Fail tests -> step SinglePassDone: Status cannot be different from "
    "measurement status.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop: endingIndex is "
    "required to be the same as highest index.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop -> Index 1: step "
    "NumericStep2 in Summary step requires a match.",
    "root -> step Loops -> step GenericStepLoopSequence -> loop GenericStepLoop -> Index 0: "
    "stepType is required to match Summary step.",
    "root -> step Loops -> step StringValueStepLoopSequence -> loop StringValueStepLoop -> Index 1 "
    "-> stringMeas : compOp is required to match Summary step.",
    "root -> step Loops -> step SequenceCallLoopSequence -> loop SequenceCallLoop2 -> Index 2 -> "
    "step StringStep -> stringMeas : limit is required to match Summary step.",
    "root -> step Loops -> step SequenceCallLoopSequence -> step SequenceCallLoop2 -> step "
    "PassFailStep: Status cannot be different from measurement status.",
]


def fat() -> UUTReport:
    report = wsjf.loads(real_file("wsjf", "uut-wsjf-export.json").read_bytes())
    assert isinstance(report, UUTReport)
    return report


def test_fat_export_gives_the_servers_fifty_lines() -> None:
    lines = [str(p) for p in fat().validate()]
    assert len(lines) == 50
    for sample in SERVER_SAMPLES:
        assert sample in lines
    kinds = Counter(
        "requires a match" if "requires a match" in line else line.rsplit(": ", 1)[-1].split()[0]
        for line in lines
    )
    assert kinds == {
        "endingIndex": 14,
        "num": 14,
        "numericMeas": 6,
        "stepType": 5,
        "limit": 5,
        "requires a match": 3,
        "Status": 2,
        "compOp": 1,
    }


def test_fat_lines_follow_the_step_tree_order() -> None:
    lines = [str(p) for p in fat().validate()]
    # The importer walks depth-first: pass/fail tests come before the loops section.
    assert lines[0] == SERVER_SAMPLES[0]
    assert lines.index(SERVER_SAMPLES[1]) < lines.index(SERVER_SAMPLES[2])
    assert lines.index(SERVER_SAMPLES[2]) < lines.index(SERVER_SAMPLES[5])


@pytest.mark.parametrize("name", WSJF_FILES)
def test_real_exports_pass_the_structural_rules(name: str) -> None:
    report = wsjf.loads(real_file("wsjf", name).read_bytes())
    assert report.validate(server_rules=False) == []


def minimal_uut(**changes: object) -> UUTReport:
    root = Step(
        id=1,
        group="M",
        step_type="SequenceCall",
        name="MainSequence Callback",
        status="P",
        seq_call=SequenceCall(path="main.seq", name="MainSequence Callback", version="1"),
        steps=[
            Step(
                id=2,
                group="M",
                step_type="ET_NLT",
                name="Voltage",
                status="P",
                numeric_meas=[
                    NumericMeasurement(
                        status="P", value=5.0, comp_op="GELE", low_limit=4.9, high_limit=5.1
                    )
                ],
            )
        ],
    )
    report = UUTReport(
        id=uuid.UUID("0f9b2a3e-5d1c-4c7e-9a51-3f2b8d6e7a10"),
        pn="PN-100",
        sn="SN-0001",
        rev="A",
        process_code=10,
        result="P",
        machine_name="STATION-1",
        location="Lab",
        purpose="Development",
        start=datetime(2026, 3, 1, 10, tzinfo=UTC),
        uut=UUTInfo(user="op1"),
        root=root,
    )
    for key, value in changes.items():
        setattr(report, key, value)
    return report


def rules(problems: list[Problem]) -> list[str]:
    return [p.rule for p in problems]


def test_minimal_report_is_valid() -> None:
    assert minimal_uut().validate() == []


@pytest.mark.parametrize(
    ("field", "value", "rule", "path"),
    [
        ("pn", "", "required", "pn"),
        ("sn", None, "required", "sn"),
        ("rev", "   ", "required", "rev"),
        ("machine_name", None, "required", "machineName"),
        ("location", "", "required", "location"),
        ("purpose", None, "required", "purpose"),
        ("process_code", None, "required", "processCode"),
        ("result", None, "required", "result"),
        ("result", "D", "enum", "result"),
        ("start", None, "required", "start"),
        ("uut", None, "required", "uut"),
        ("root", None, "required", "root"),
        ("pn", "x" * 51, "length", "pn"),
        ("sn", "bad\x01char", "characters", "sn"),
    ],
)
def test_header_rules(field: str, value: object, rule: str, path: str) -> None:
    problems = minimal_uut(**{field: value}).validate()
    assert [(p.rule, p.path) for p in problems] == [(rule, path)]


def test_lenient_limits_allow_longer_identity() -> None:
    report = minimal_uut(pn="x" * 80)
    assert rules(report.validate()) == ["length"]
    assert validate_report(report, limits=FieldLimits.lenient()) == []


def voltage(report: UUTReport) -> Step:
    assert report.root is not None
    assert report.root.steps
    return report.root.steps[0]


@pytest.mark.parametrize(
    ("comp_op", "low", "high", "expected"),
    [
        ("GELE", 4.9, None, ["limits"]),
        ("GELE", None, None, ["limits", "limits"]),
        ("GE", None, None, ["limits"]),
        ("LE", 1.0, None, []),
        ("LOG", None, None, []),
        ("XX", 1.0, 2.0, ["comp-op"]),
        ("CASESENSIT", 1.0, None, ["comp-op"]),
        ("gele", 4.9, 5.1, []),
    ],
)
def test_numeric_operator_and_limits(
    comp_op: str, low: float | None, high: float | None, expected: list[str]
) -> None:
    report = minimal_uut()
    meas = voltage(report).numeric_meas
    assert meas is not None
    meas[0].comp_op, meas[0].low_limit, meas[0].high_limit = comp_op, low, high
    assert rules(report.validate(server_rules=False)) == expected


def test_string_operators() -> None:
    report = minimal_uut()
    step = voltage(report)
    step.numeric_meas = None
    step.string_meas = [StringMeasurement(status="P", value="a", comp_op="IgnoreCase", limit="A")]
    assert report.validate() == []
    step.string_meas[0].comp_op = "GELE"
    assert rules(report.validate()) == ["comp-op"]
    step.string_meas[0].comp_op, step.string_meas[0].limit = "EQ", None
    assert rules(report.validate()) == ["limits"]


def test_step_and_measurement_enums() -> None:
    report = minimal_uut()
    step = voltage(report)
    step.status, step.group = "X", "Q"
    assert step.numeric_meas is not None
    step.numeric_meas[0].status = "D"
    found = report.validate(server_rules=False)
    assert rules(found) == ["enum", "enum", "enum"]
    assert all(p.path.startswith("root -> step Voltage") for p in found)


def test_multiple_measurements_must_be_named_uniquely() -> None:
    report = minimal_uut()
    step = voltage(report)
    step.boolean_meas = [BooleanMeasurement(name="a", status="P"), BooleanMeasurement(status="P")]
    assert rules(report.validate(server_rules=False)) == ["meas-names"]
    step.boolean_meas[1].name = "a"
    assert [str(p) for p in report.validate(server_rules=False)] == [
        "root -> step Voltage -> booleanMeas : measurement names must be unique"
    ]


def test_single_measurement_status_must_match_the_step() -> None:
    report = minimal_uut()
    voltage(report).status = "D"
    assert [str(p) for p in report.validate()] == [
        "root -> step Voltage: Status cannot be different from measurement status."
    ]
    assert report.validate(server_rules=False) == []


def test_chart_series_counts_and_numbers() -> None:
    report = minimal_uut()
    step = voltage(report)
    step.chart = Chart(series=[ChartSeries(name="s", xdata="0;1;2", ydata="1;2")])
    assert rules(report.validate()) == ["chart-data"]
    step.chart.series = [ChartSeries(name="s", xdata="0;x", ydata="1;2")]
    assert rules(report.validate()) == ["chart-data"]


def test_attachment_base64() -> None:
    report = minimal_uut()
    voltage(report).attachment = Attachment(name="a.txt", data="not base64!")
    assert rules(report.validate()) == ["base64"]
    voltage(report).attachment = Attachment(name="a.txt", data=base64.b64encode(b"hi").decode())
    assert report.validate() == []


def test_duplicate_step_ids() -> None:
    report = minimal_uut()
    voltage(report).id = 1
    assert rules(report.validate()) == ["step-id-unique"]


def test_misc_info_needs_a_description() -> None:
    report = minimal_uut(misc_infos=[MiscInfo(text="x")])
    assert [(p.rule, p.path) for p in report.validate()] == [
        ("required", "miscInfos[0].description")
    ]


def loop_parent(summary: LoopInfo, iterations: int, comp_ops: list[str] | None = None) -> UUTReport:
    report = minimal_uut()
    assert report.root is not None
    ops = comp_ops or ["LE"] * iterations

    def step(loop: LoopInfo, op: str) -> Step:
        return Step(
            group="M",
            step_type="ET_NLT",
            name="Ripple",
            status="P",
            loop=loop,
            numeric_meas=[NumericMeasurement(status="P", value=0.01, comp_op=op, low_limit=0.05)],
        )

    report.root.steps = [step(summary, "LE")] + [
        step(LoopInfo(idx=i), ops[i]) for i in range(iterations)
    ]
    return report


def test_loop_counts_in_validator_form_pass() -> None:
    report = loop_parent(LoopInfo(num=3, ending_index=2, passed=3, failed=0), 3)
    assert report.validate() == []


def test_loop_counts_in_export_form_fail_twice() -> None:
    report = loop_parent(LoopInfo(num=3, ending_index=3, passed=3, failed=0), 3)
    assert rules(report.validate()) == ["loop-ending-index", "loop-num"]
    assert report.validate(server_rules=False) == []


def test_loop_iteration_must_match_summary_operator() -> None:
    report = loop_parent(LoopInfo(num=2, ending_index=1), 2, comp_ops=["LE", "GE"])
    assert [str(p) for p in report.validate()] == [
        "root -> loop Ripple -> Index 1 -> numericMeas : compOp is required to match Summary step."
    ]


def minimal_uur(**changes: object) -> UURReport:
    report = UURReport(
        pn="PN-100",
        sn="SN-0001",
        rev="A",
        process_code=500,
        result="P",
        machine_name="REPAIR-1",
        location="Lab",
        purpose="Repair",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        uur=UURInfo(user="tech", process_code=10),
        sub_units=[SubUnit(idx=0, part_type="Main", pn="PN-100", sn="SN-0001", rev="A")],
    )
    for key, value in changes.items():
        setattr(report, key, value)
    return report


def test_uur_rules() -> None:
    assert minimal_uur().validate() == []
    assert rules(minimal_uur(uur=None).validate()) == ["required"]
    assert rules(minimal_uur(sub_units=[]).validate()) == ["uur-main-unit"]
    twice = [SubUnit(idx=0), SubUnit(idx=0)]
    assert rules(minimal_uur(sub_units=twice).validate()) == ["uur-main-unit", "uur-idx-unique"]
    orphan = [SubUnit(idx=0), SubUnit(idx=1, parent_idx=7)]
    assert rules(minimal_uur(sub_units=orphan).validate()) == ["uur-parent-idx"]


def test_problem_text_uses_the_servers_colon_rules() -> None:
    assert str(Problem("x", "root -> step A", "bad.")) == "root -> step A: bad."
    assert str(Problem("x", "root -> step A -> stringMeas", "bad.")) == (
        "root -> step A -> stringMeas : bad."
    )


def test_attachment_size_and_chart_conflict() -> None:
    report = minimal_uut()
    big = base64.b64encode(b"x" * (100 * 1024 + 1)).decode()
    voltage(report).attachment = Attachment(name="big.bin", data=big)
    assert rules(report.validate()) == ["attachment-size"]
    voltage(report).attachment = Attachment(
        name="ok.bin", data=base64.b64encode(b"x" * 100 * 1024).decode()
    )
    assert report.validate() == []
    voltage(report).chart = Chart(series=[ChartSeries(name="s", xdata="0", ydata="1")])
    assert rules(report.validate()) == ["attachment-chart"]


def test_chart_data_must_be_finite() -> None:
    report = minimal_uut()
    voltage(report).chart = Chart(series=[ChartSeries(name="s", xdata="0;1", ydata="1;nan")])
    assert rules(report.validate()) == ["chart-data"]


def test_step_texts_must_be_xml_safe() -> None:
    report = minimal_uut()
    voltage(report).report_text = "bell\x07"
    assert [(p.rule, p.path) for p in report.validate()] == [("characters", "root -> step Voltage")]
    voltage(report).report_text = "lone \ud800 surrogate"
    assert rules(report.validate()) == ["characters"]


def test_misc_numeric_must_fit_int32() -> None:
    report = minimal_uut(misc_infos=[MiscInfo(description="n", numeric=2**31)])
    assert [(p.rule, p.path) for p in report.validate()] == [("range", "miscInfos[0].numeric")]

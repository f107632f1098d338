"""The ATML converter on small documents written here: limits, operators, loops, step kinds.

The documents follow what TestStand writes in ATML 5.00 (``TestResultsCollection``, the ``ts:``
extension elements) with one step or a few, so each test shows one mapping. Every report is
also checked with the server's rules (``run_conversion(..., strict=True)``), and the operator
tests check that WATS's own evaluation of each operator (``wats-api.md`` §5.13) gives the
status TestStand wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pywats.models.report import Step, StepKind, UUTReport
from pywats.report_builder import evaluate, evaluate_string
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.atml import AtmlConverter
from pywats_station.converters.sandbox import run_conversion
from tests.station.converters.helpers import make_ctx

NS = (
    'xmlns:trc="urn:IEEE-1636.1:2011:01:TestResultsCollection" '
    'xmlns:tr="urn:IEEE-1636.1:2011:01:TestResults" xmlns:c="urn:IEEE-1671:2010:Common" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:ts="www.ni.com/TestStand/ATMLTestResults/2.0"'
)


def props(step_type: str, extra: str = "", group: str = "Main") -> str:
    """A step's ``tr:Extension/ts:TSStepProperties``."""
    return (
        f"<tr:Extension><ts:TSStepProperties><ts:StepType>{step_type}</ts:StepType>"
        f"<ts:StepGroup>{group}</ts:StepGroup><ts:BlockLevel value='0'/><ts:Index value='0'/>"
        f"{extra}</ts:TSStepProperties></tr:Extension>"
    )


def a_test(
    name: str, step_type: str, outcome: str, body: str = "", extra: str = "", attrs: str = ""
) -> str:
    """A ``tr:Test`` element."""
    return (
        f'<tr:Test ID="1" name="{name}" {attrs}>{props(step_type, extra)}'
        f"{outcome_xml(outcome)}{body}</tr:Test>"
    )


def outcome_xml(outcome: str) -> str:
    value, _, qualifier = outcome.partition("/")
    q = f' qualifier="{qualifier}"' if qualifier else ""
    return f'<tr:Outcome value="{value}"{q}/>'


def datum(value: str, unit: str = "", xsi: str = "ts:TS_double") -> str:
    u = f' nonStandardUnit="{unit}"' if unit else ""
    return f'<c:Datum value="{value}" xsi:type="{xsi}"{u}/>'


def string_datum(text: str) -> str:
    return f'<c:Datum xsi:type="ts:TS_string"><c:Value>{text}</c:Value></c:Datum>'


def pair(operator: str, c1: str, v1: str, c2: str, v2: str) -> str:
    op = f' operator="{operator}"' if operator else ""
    return (
        f'<c:LimitPair{op}><c:Limit comparator="{c1}">{datum(v1)}</c:Limit>'
        f'<c:Limit comparator="{c2}">{datum(v2)}</c:Limit></c:LimitPair>'
    )


def single(tag: str, comparator: str, value: str) -> str:
    """A ``c:SingleLimit`` or ``c:Expected`` with a numeric value."""
    return f'<c:{tag} comparator="{comparator}">{datum(value)}</c:{tag}>'


def result(name: str, data: str, limits: str = "", outcome: str = "", extension: str = "") -> str:
    """A ``tr:TestResult``: data, then limits (``<tr:Limits>`` content), own outcome."""
    lim = f"<tr:TestLimits><tr:Limits>{limits}</tr:Limits></tr:TestLimits>" if limits else ""
    out = outcome_xml(outcome) if outcome else ""
    return (
        f'<tr:TestResult ID="r" name="{name}"><tr:TestData>{data}</tr:TestData>{lim}'
        f"{extension}{out}</tr:TestResult>"
    )


def group(caller: str, sequence: str, outcome: str, steps: str, extra: str = "") -> str:
    """A ``tr:TestGroup`` (a sequence call)."""
    return (
        f'<tr:TestGroup name="C:\\seq\\Board Test.seq#{sequence}" ID="g" callerName="{caller}">'
        f"{props('SequenceCall', extra)}{outcome_xml(outcome)}{steps}</tr:TestGroup>"
    )


def document(
    steps: str,
    outcome: str = "Passed",
    sn: str = "SN-1",
    header: str = "",
    start: str = "2024-03-01T10:00:00.000",
    end: str = "2024-03-01T10:00:05.500",
) -> str:
    """An ATML 5.00 document of one UUT holding ``steps`` in its main sequence."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<trc:TestResultsCollection {NS}>\n'
        f'<trc:TestResults uuid="0c3d0f5e-0000-4000-8000-000000000001">\n'
        '<tr:Personnel><tr:SystemOperator ID="anna" name="Anna"/></tr:Personnel>\n'
        f'<tr:ResultSet ID="1" name="C:\\seq\\Board Test.seq#MainSequence" '
        f'startDateTime="{start}" endDateTime="{end}">\n'
        f"{props('SequenceCall')}{outcome_xml(outcome)}\n{steps}\n</tr:ResultSet>\n"
        "<tr:TestStation><c:SerialNumber>ST-9</c:SerialNumber></tr:TestStation>\n"
        "<tr:UUT><c:Definition><c:Identification><c:IdentificationNumbers>"
        '<c:IdentificationNumber number="PN-7" type="Part" qualifier="PN-7"/>'
        "</c:IdentificationNumbers></c:Identification></c:Definition>"
        f"<c:SerialNumber>{sn}</c:SerialNumber></tr:UUT>\n{header}"
        "</trc:TestResults>\n</trc:TestResultsCollection>\n"
    )


def convert(
    tmp_path: Path, text: str, arguments: Mapping[str, object] | None = None, **kwargs: Any
) -> list[UUTReport]:
    path = tmp_path / "results.xml"
    path.write_text(text, encoding="utf-8")
    ctx = make_ctx(AtmlConverter, arguments)
    outcome = run_conversion(AtmlConverter(), path, ctx, strict=True, **kwargs)
    assert isinstance(outcome, Converted), outcome
    return [r for r in outcome.reports if isinstance(r, UUTReport)]


def fail(tmp_path: Path, text: str, arguments: Mapping[str, object] | None = None) -> str:
    path = tmp_path / "results.xml"
    path.write_text(text, encoding="utf-8")
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter, arguments))
    assert isinstance(outcome, Failed), outcome
    return outcome.reason


def one_step(tmp_path: Path, step_xml: str, outcome: str = "Passed") -> Step:
    (report,) = convert(tmp_path, document(step_xml, outcome))
    assert report.root is not None
    assert report.root.steps
    return report.root.steps[0]


# --- numeric limits and operators -----------------------------------------------------------------

LIMITS = [
    # (limits, value, TestStand outcome, WATS op, low, high)
    (pair("AND", "GE", "0", "LE", "10"), "10", "Passed", "GELE", 0.0, 10.0),
    (pair("AND", "LE", "10", "GE", "0"), "5", "Passed", "GELE", 0.0, 10.0),  # order reversed
    (pair("AND", "GT", "0", "LT", "10"), "0", "Failed", "GTLT", 0.0, 10.0),
    (pair("AND", "GT", "0", "LE", "10"), "10", "Passed", "GTLE", 0.0, 10.0),
    (pair("AND", "GE", "0", "LT", "10"), "10", "Failed", "GELT", 0.0, 10.0),
    (pair("OR", "LT", "9", "GT", "11"), "10", "Failed", "LTGT", 9.0, 11.0),
    (pair("OR", "GT", "11", "LT", "9"), "12", "Passed", "LTGT", 9.0, 11.0),  # order reversed
    (pair("OR", "LE", "9", "GE", "11"), "9", "Passed", "LEGE", 9.0, 11.0),
    (pair("OR", "LT", "9", "GE", "11"), "11", "Passed", "LTGE", 9.0, 11.0),
    (pair("OR", "LE", "9", "GT", "11"), "11", "Failed", "LEGT", 9.0, 11.0),
    (pair("", "GE", "1", "LE", "2"), "1.5", "Passed", "GELE", 1.0, 2.0),  # no operator: between
    (pair("", "LE", "1", "GE", "2"), "1.5", "Failed", "LEGE", 1.0, 2.0),  # no operator: outside
    (pair("AND", "GE", "-inf", "LE", "5"), "4", "Passed", "LE", 5.0, None),  # -inf bounds nothing
    (pair("AND", "GE", "-Inf", "LE", "+Inf"), "4", "Passed", "LOG", None, None),
    (single("SingleLimit", "GT", "5"), "4", "Failed", "GT", 5.0, None),
    (single("SingleLimit", "GE", "5"), "5", "Passed", "GE", 5.0, None),
    (single("SingleLimit", "LT", "5"), "5", "Failed", "LT", 5.0, None),
    (single("SingleLimit", "LE", "5"), "5", "Passed", "LE", 5.0, None),
    (single("Expected", "EQ", "9"), "9", "Passed", "EQ", 9.0, None),
    (single("Expected", "NE", "9"), "9", "Failed", "NE", 9.0, None),
]


@pytest.mark.parametrize(("limits", "value", "status", "op", "low", "high"), LIMITS)
def test_limits_become_the_wats_operator_with_the_servers_semantics(
    tmp_path: Path,
    limits: str,
    value: str,
    status: str,
    op: str,
    low: float | None,
    high: float | None,
) -> None:
    step_xml = a_test("V", "NumericLimitTest", status, result("Numeric", datum(value, "V"), limits))
    step = one_step(tmp_path, step_xml, status)
    (meas,) = step.numeric_meas or []
    assert (meas.comp_op, meas.low_limit, meas.high_limit) == (op, low, high)
    assert meas.status == step.status == status[0]
    assert meas.unit == "V"
    # WATS evaluates the operator as TestStand did: the same pass/fail for the same value.
    assert meas.value is not None
    assert evaluate(op, meas.value, low, high) is (status == "Passed")


def test_a_threshold_comparison_is_gele_between_teststands_threshold_limits(
    tmp_path: Path,
) -> None:
    # TestStand's EQT: nominal 5 within 10 % (ThresholdLow/High written by TestStand).
    raw = (
        "<c:Extension><ts:TSLimitProperties><ts:ThresholdType>PERCENTAGE</ts:ThresholdType>"
        '<ts:RawLimits><ts:Nominal value="5"/><ts:Low value="10"/><ts:High value="10"/>'
        '<ts:ThresholdLow value="4.5"/><ts:ThresholdHigh value="5.5"/></ts:RawLimits>'
        "</ts:TSLimitProperties></c:Extension>"
    )
    limits = '<c:Expected comparator="EQ">' + datum("5") + "</c:Expected>" + raw
    step = one_step(
        tmp_path, a_test("T", "NumericLimitTest", "Passed", result("Numeric", datum("5.2"), limits))
    )
    (meas,) = step.numeric_meas or []
    assert (meas.comp_op, meas.low_limit, meas.high_limit) == ("GELE", 4.5, 5.5)


@pytest.mark.parametrize(
    ("kind", "low", "high"),
    [("PERCENTAGE", -109.0, -89.0), ("PPM", -100.0009, -99.9989), ("DELTA", -109.0, -89.0)],
)
def test_a_threshold_without_its_limits_is_computed_from_the_nominal(
    tmp_path: Path, kind: str, low: float, high: float
) -> None:
    raw = (
        f"<c:Extension><ts:TSLimitProperties><ts:ThresholdType>{kind}</ts:ThresholdType>"
        '<ts:RawLimits><ts:Nominal value="-100"/><ts:Low value="9"/><ts:High value="11"/>'
        "</ts:RawLimits></ts:TSLimitProperties></c:Extension>"
    )
    limits = '<c:Expected comparator="EQ">' + datum("-100") + "</c:Expected>" + raw
    step_xml = a_test("T", "NumericLimitTest", "Failed", result("Numeric", datum("5"), limits))
    (meas,) = one_step(tmp_path, step_xml, "Failed").numeric_meas or []
    assert meas.comp_op == "GELE"
    assert meas.low_limit == pytest.approx(low)
    assert meas.high_limit == pytest.approx(high)


def test_a_logged_value_without_limits_is_log(tmp_path: Path) -> None:
    log = (
        "<tr:Extension><ts:TSLimitProperties><ts:IsComparisonTypeLog value='true'/>"
        "</ts:TSLimitProperties></tr:Extension>"
    )
    step_xml = a_test(
        "L", "NumericLimitTest", "Passed", result("Reading", datum("0x1F"), extension=log)
    )
    (meas,) = one_step(tmp_path, step_xml).numeric_meas or []
    assert (meas.comp_op, meas.value, meas.low_limit) == ("LOG", 31.0, None)  # hex read


def test_two_lower_limits_have_no_wats_operator_and_fail_naming_the_line(tmp_path: Path) -> None:
    step_xml = a_test(
        "V",
        "NumericLimitTest",
        "Passed",
        result("Numeric", datum("1"), pair("AND", "GE", "0", "GT", "1")),
    )
    reason = fail(tmp_path, document(step_xml))
    assert "line 7" in reason
    assert "<LimitPair>" in reason
    assert "GE and GT" in reason
    assert '<Test name="V">' in reason


def test_a_low_limit_above_the_high_limit_fails_naming_the_step(tmp_path: Path) -> None:
    step_xml = a_test(
        "V",
        "NumericLimitTest",
        "Failed",
        result("Numeric", datum("1"), pair("AND", "GE", "9", "LE", "1")),
    )
    reason = fail(tmp_path, document(step_xml, "Failed"))
    assert reason.startswith('<Test name="V"> at line 7')
    assert "above high limit" in reason


# --- multiple numeric, string, pass/fail ----------------------------------------------------------


def test_a_multiple_numeric_limit_test_has_named_measurements_with_their_own_status(
    tmp_path: Path,
) -> None:
    results = (
        result("Measurement 0", datum("1", "v"), pair("AND", "GE", "0", "LE", "10"), "Passed")
        + result("Measurement 1", datum("12", "mA"), pair("AND", "GE", "0", "LE", "10"), "Failed")
        + result("Measurement 1", datum("3", "mA"), pair("AND", "GE", "0", "LE", "10"), "Passed")
    )
    step = one_step(
        tmp_path, a_test("Rails", "NI_MultipleNumericLimitTest", "Failed", results), "Failed"
    )
    assert step.kind is StepKind.MULTI_NUMERIC_LIMIT
    assert step.step_type == "NI_MultipleNumericLimitTest"
    assert [(m.name, m.value, m.unit, m.status) for m in step.numeric_meas or []] == [
        ("Measurement 0", 1.0, "v", "P"),
        ("Measurement 1", 12.0, "mA", "F"),
        ("Measurement 1 (2)", 3.0, "mA", "P"),  # a repeated name is made unique
    ]
    assert step.status == "F"


@pytest.mark.parametrize(
    ("comparator", "value", "limit", "status", "op"),
    [
        ("CIEQ", "ABC", "abc", "Passed", "IGNORECASE"),
        ("EQ", "ABC", "abc", "Failed", "CASESENSIT"),
        ("NE", "ABC", "abc", "Passed", "NE"),
    ],
)
def test_string_comparators_become_wats_string_operators(
    tmp_path: Path, comparator: str, value: str, limit: str, status: str, op: str
) -> None:
    limits = f'<c:Expected comparator="{comparator}">{string_datum(limit)}</c:Expected>'
    step_xml = a_test(
        "FW", "StringValueTest", status, result("String", string_datum(value), limits)
    )
    step = one_step(tmp_path, step_xml, status)
    (meas,) = step.string_meas or []
    assert (meas.value, meas.limit, meas.comp_op, meas.status) == (value, limit, op, status[0])
    assert evaluate_string(op, value, limit) is (status == "Passed")


def test_a_regular_expression_limit_is_logged_and_kept_in_the_report_text(tmp_path: Path) -> None:
    limits = (
        '<c:Expected comparator="RegularExpressionCaseSensitive">'
        + string_datum("v[0-9]+")
        + "</c:Expected>"
    )
    step_xml = a_test(
        "FW", "StringValueTest", "Passed", result("String", string_datum("v12"), limits)
    )
    step = one_step(tmp_path, step_xml)
    (meas,) = step.string_meas or []
    assert (meas.comp_op, meas.limit) == ("LOG", None)
    assert "RegularExpressionCaseSensitive" in (step.report_text or "")
    assert "v[0-9]+" in (step.report_text or "")


def addon(items: list[dict[str, str]]) -> str:
    """The WATS add-on's ``Measurement`` collection (ET_MSVT, ET_MPFT)."""
    body = ""
    for number, item in enumerate(items):
        inner = ""
        for key, value in item.items():
            if key == "PassFail":
                inner += f'<c:Item name="{key}">{datum(value, xsi="ts:TS_boolean")}</c:Item>'
            else:
                inner += f'<c:Item name="{key}">{string_datum(value)}</c:Item>'
        body += (
            f'<c:Item name="Measurement[{number}]"><c:Collection>{inner}</c:Collection></c:Item>'
        )
    return result("Measurement", f'<c:Collection xsi:type="ts:TS_Collection">{body}</c:Collection>')


def test_the_wats_addons_multiple_string_test(tmp_path: Path) -> None:
    items = [
        {
            "MeasName": "A",
            "Comp": "Equal",
            "Status": "Failed",
            "StringData": "x",
            "StringLimit": "y",
        },
        {"MeasName": "B", "Comp": "LOG", "Status": "Passed", "StringData": "z", "StringLimit": ""},
        {
            "MeasName": "C",
            "Comp": "IgnoreCase",
            "Status": "Passed",
            "StringData": "Q",
            "StringLimit": "q",
        },
    ]
    step = one_step(tmp_path, a_test("Strings", "ET_MSVT", "Failed", addon(items)), "Failed")
    assert [(m.name, m.value, m.limit, m.comp_op, m.status) for m in step.string_meas or []] == [
        ("A", "x", "y", "CASESENSIT", "F"),
        ("B", "z", None, "LOG", "P"),
        ("C", "Q", "q", "IGNORECASE", "P"),
    ]


def test_the_wats_addons_multiple_pass_fail_test(tmp_path: Path) -> None:
    items = [
        {"MeasName": "Meas TRUE", "Status": "Passed", "PassFail": "true"},
        {"MeasName": "Meas FALSE", "Status": "Failed", "PassFail": "false"},
        {"MeasName": "Meas TRUE", "Status": "Passed", "PassFail": "true"},
    ]
    step = one_step(tmp_path, a_test("PF", "ET_MPFT", "Failed", addon(items)), "Failed")
    assert step.kind is StepKind.MULTI_PASS_FAIL
    assert [(m.name, m.status) for m in step.boolean_meas or []] == [
        ("Meas TRUE", "P"),
        ("Meas FALSE", "F"),
        ("Meas TRUE (2)", "P"),
    ]


@pytest.mark.parametrize(("outcome", "status"), [("Passed", "P"), ("Failed", "F")])
def test_a_pass_fail_test_without_data_is_its_outcome(
    tmp_path: Path, outcome: str, status: str
) -> None:
    step = one_step(tmp_path, a_test("Power", "PassFailTest", outcome), outcome)
    assert step.kind is StepKind.PASS_FAIL
    assert [m.status for m in step.boolean_meas or []] == [status]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("Aborted/Skipped", "S"), ("UserDefined/Skipped", "S"), ("NotStarted", "S"), ("Done", "D")],
)
def test_a_test_that_did_not_run_carries_no_measurement(
    tmp_path: Path, outcome: str, status: str
) -> None:
    step = one_step(tmp_path, a_test("Video", "NumericLimitTest", outcome))
    assert step.status == status
    assert step.kind is StepKind.GENERIC


# --- statuses, errors, times ----------------------------------------------------------------------


def test_an_errored_step_keeps_its_error_and_status(tmp_path: Path) -> None:
    events = (
        '<tr:Events><tr:Event ID="Error Message"><tr:Data>'
        + string_datum("DMM not found")
        + '</tr:Data></tr:Event><tr:Event ID="Error Code"><tr:Data>'
        + datum("-17")
        + "</tr:Data></tr:Event></tr:Events>"
    )
    (report,) = convert(
        tmp_path, document(a_test("Init", "Action", "Aborted/Error", events), "Aborted/Error")
    )
    assert report.root is not None
    assert report.root.steps
    step = report.root.steps[0]
    assert (step.status, step.error_message, step.error_code) == ("E", "DMM not found", -17)
    assert report.result == "E"


def test_an_errored_step_with_one_measurement_is_failed_and_says_why(tmp_path: Path) -> None:
    # WATS rejects a step whose status differs from its only measurement's (P, F or S).
    data = result("Numeric", datum("4"), pair("AND", "GE", "0", "LE", "1"))
    step = one_step(tmp_path, a_test("V", "NumericLimitTest", "Aborted/Error", data), "Failed")
    assert step.numeric_meas is not None
    assert step.status == step.numeric_meas[0].status == "F"
    assert "TestStand step outcome: Error" in (step.report_text or "")


def test_a_failure_teststand_did_not_pass_up_stays_inside_its_passed_sequence(
    tmp_path: Path,
) -> None:
    inner = a_test("Retry 1", "PassFailTest", "Failed") + a_test(
        "Retry 2", "PassFailTest", "Passed"
    )
    (report,) = convert(tmp_path, document(group("Retries", "Retry", "Passed", inner)))
    assert report.root is not None
    assert report.root.steps
    sequence = report.root.steps[0]
    assert (sequence.status, [s.status for s in sequence.steps or []]) == ("P", ["F", "P"])
    assert report.result == "P"


def test_the_first_failing_step_is_the_one_that_failed_the_unit(tmp_path: Path) -> None:
    steps = a_test("Ok", "PassFailTest", "Passed") + group(
        "Power", "Power", "Failed", a_test("3V3", "PassFailTest", "Failed")
    )
    (report,) = convert(tmp_path, document(steps, "Failed"))
    culprit = next(s for s in report.steps() if s.caused_uut_failure)
    assert culprit.name == "3V3"
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == culprit.id
    assert report.result == "F"


def test_step_times_come_from_total_time_or_the_elements_times(tmp_path: Path) -> None:
    timed = a_test("A", "Action", "Done", extra="<ts:TotalTime value='0.25'/>")
    dated = (
        '<tr:SessionAction ID="2" name="B" startDateTime="2024-03-01T10:00:01.000+01:00" '
        f'endDateTime="2024-03-01T10:00:01.750+01:00">{props("Action")}'
        '<tr:ActionOutcome value="Done"/></tr:SessionAction>'
    )
    (report,) = convert(tmp_path, document(timed + dated))
    assert report.root is not None
    assert report.root.steps
    first, second = report.root.steps
    assert first.tot_time == 0.25
    assert second.tot_time == 0.75
    assert second.start is not None
    assert second.start.isoformat() == "2024-03-01T10:00:01+01:00"


# --- sequences ------------------------------------------------------------------------------------


def test_sequence_calls_nest_with_their_sequence_and_file(tmp_path: Path) -> None:
    version = result("SeqFileVersion", string_datum("1.4.2"))
    inner = group("Deeper", "Inner", "Passed", a_test("Leaf", "PassFailTest", "Passed"))
    (report,) = convert(tmp_path, document(group("Call power", "Power", "Passed", version + inner)))
    assert report.root is not None
    assert report.root.steps
    call = report.root.steps[0]
    assert call.name == "Call power"
    assert call.seq_call is not None
    assert (call.seq_call.name, call.seq_call.path, call.seq_call.version) == (
        "Power",
        "C:\\seq\\Board Test.seq",
        "1.4.2",
    )
    assert [s.name for s in call.steps or []] == ["Deeper"]
    assert [s.name for s in (call.steps or [])[0].steps or []] == ["Leaf"]


# --- loops ----------------------------------------------------------------------------------------


def looped(name: str, index: int, value: str, outcome: str = "Passed") -> str:
    data = result("Numeric", datum(value), pair("AND", "GE", "0", "LE", "10"))
    return a_test(
        f"{name} (Loop Index:{index})",
        "NumericLimitTest",
        outcome,
        data,
        extra=f"<ts:LoopingProperties><ts:LoopIndex value='{index}'/></ts:LoopingProperties>",
        attrs='testReferenceID="ID#:loop"',
    )


def summary(name: str, num: int, passed: int, failed: int, value: str, outcome: str) -> str:
    data = result("Numeric", datum(value), pair("AND", "GE", "0", "LE", "10"))
    loop = (
        f"<ts:LoopingProperties><ts:NumLoops value='{num}'/><ts:NumPassed value='{passed}'/>"
        f"<ts:NumFailed value='{failed}'/><ts:EndingLoopIndex value='{num}'/>"
        "</ts:LoopingProperties>"
    )
    return a_test(
        name, "NumericLimitTest", outcome, data, extra=loop, attrs='testReferenceID="ID#:loop"'
    )


def test_a_looped_step_becomes_a_wats_loop(tmp_path: Path) -> None:
    steps = summary("Ripple", 3, 2, 1, "12", "Failed") + "".join(
        looped("Ripple", i, v, o)
        for i, v, o in [(0, "1", "Passed"), (1, "12", "Failed"), (2, "3", "Passed")]
    )
    (report,) = convert(tmp_path, document(steps, "Failed"))  # strict: the importer's loop rules
    assert report.root is not None
    assert report.root.steps
    first, *iterations = report.root.steps
    assert first.loop is not None
    assert (first.loop.idx, first.loop.num, first.loop.ending_index) == (None, 3, 2)
    assert (first.loop.passed, first.loop.failed) == (2, 1)
    assert [s.name for s in iterations] == ["Ripple"] * 3
    assert [(s.loop.idx if s.loop else None) for s in iterations] == [0, 1, 2]
    assert [s.numeric_meas[0].value for s in iterations if s.numeric_meas] == [1.0, 12.0, 3.0]


def test_a_loop_summary_without_recorded_iterations_keeps_its_counts(tmp_path: Path) -> None:
    step = one_step(tmp_path, summary("Settle", 8, 5, 3, "9.2", "Passed"))
    assert step.loop is not None
    loop = step.loop
    assert (loop.num, loop.ending_index, loop.passed, loop.failed) == (8, 7, 5, 3)


def test_a_looped_sequence_call_becomes_a_sequence_loop(tmp_path: Path) -> None:
    loop = (
        "<ts:LoopingProperties><ts:NumLoops value='2'/><ts:NumPassed value='2'/>"
        "<ts:NumFailed value='0'/><ts:EndingLoopIndex value='2'/></ts:LoopingProperties>"
    )
    head = a_test("Sub loop", "SequenceCall", "Passed", extra=loop, attrs='testReferenceID="ID#:s"')
    iterations = "".join(
        group(
            f"Sub loop (Loop Index:{i})",
            "SubSeq",
            "Passed",
            a_test("Sub test", "PassFailTest", "Passed"),
            extra=f"<ts:LoopingProperties><ts:LoopIndex value='{i}'/></ts:LoopingProperties>",
        ).replace('ID="g"', 'ID="g" testReferenceID="ID#:s"')
        for i in range(2)
    )
    (report,) = convert(tmp_path, document(head + iterations))
    assert report.root is not None
    assert report.root.steps
    names = [(s.name, s.loop.idx if s.loop else "-", s.kind) for s in report.root.steps]
    assert names == [
        ("Sub loop", None, StepKind.SEQUENCE_CALL),
        ("Sub loop", 0, StepKind.SEQUENCE_CALL),
        ("Sub loop", 1, StepKind.SEQUENCE_CALL),
    ]


def test_iterations_that_disagree_with_their_summary_stay_plain_steps(tmp_path: Path) -> None:
    # Limits changed between iterations: WATS's importer would refuse them as a loop.
    other = looped("Ripple", 1, "3").replace('value="10"', 'value="20"')
    steps = summary("Ripple", 2, 2, 0, "3", "Passed") + looped("Ripple", 0, "1") + other
    (report,) = convert(tmp_path, document(steps))
    assert report.root is not None
    assert report.root.steps
    assert [(s.name, s.loop) for s in report.root.steps] == [
        ("Ripple", None),
        ("Ripple (Loop Index:0)", None),
        ("Ripple (Loop Index:1)", None),
    ]


# --- other step kinds and data --------------------------------------------------------------------


def test_a_numeric_array_is_a_chart(tmp_path: Path) -> None:
    elements = "".join(
        f'<c:Element position="[{i}]" value="{v}"/>' for i, v in enumerate(["0.5", "1.5", "2"])
    )
    array = (
        f'<c:IndexedArray dimensions="[3]" lowerBounds="[0]" upperBounds="[2]" '
        f'xsi:type="ts:TS_doubleArray">{elements}</c:IndexedArray>'
    )
    step = one_step(tmp_path, a_test("Sweep", "NumericLimitTest", "Passed", result("Curve", array)))
    assert step.chart is not None
    (series,) = step.chart.series or []
    assert series.points() == ([0.0, 1.0, 2.0], [0.5, 1.5, 2.0])


def test_a_message_popup_and_an_executable_call(tmp_path: Path) -> None:
    def action(name: str, step_type: str, items: str) -> str:
        return (
            f'<tr:SessionAction ID="3" name="{name}"><tr:Data><c:Collection>{items}'
            f'</c:Collection></tr:Data>{props(step_type)}<tr:ActionOutcome value="Done"/>'
            "</tr:SessionAction>"
        )

    popup = action(
        "Ask",
        "MessagePopup",
        f'<c:Item name="ButtonHit">{datum("2")}</c:Item>'
        f'<c:Item name="Response">{string_datum("ok")}</c:Item>',
    )
    exe = action("Run", "CallExecutable", f'<c:Item name="ExitCode">{datum("3")}</c:Item>')
    (report,) = convert(tmp_path, document(popup + exe))
    assert report.root is not None
    assert report.root.steps
    ask, run = report.root.steps
    assert ask.message_popup is not None
    assert (ask.message_popup.button, ask.message_popup.response) == (2, "ok")
    assert run.call_exe is not None
    assert run.call_exe.exit_code == 3.0


def test_data_without_a_place_in_wats_is_kept_as_additional_results(tmp_path: Path) -> None:
    cluster = (
        '<c:Collection xsi:type="ts:TS_Collection"><c:Item name="Temp">'
        + datum("23.5")
        + '</c:Item><c:Item name="Board">'
        + string_datum("rev B")
        + "</c:Item></c:Collection>"
    )
    step = one_step(tmp_path, a_test("Env", "Action", "Done", result("Conditions", cluster)))
    (extra,) = step.additional_results or []
    assert extra.name == "Conditions"
    (obj,) = extra.props or []
    assert [(p.name, p.type, p.value) for p in obj.props or []] == [
        ("Temp", "Number", "23.5"),
        ("Board", "String", "rev B"),
    ]


def test_a_value_wats_cannot_hold_is_kept_in_the_report_text(tmp_path: Path) -> None:
    data = result("Numeric", datum("NaN"), pair("AND", "GE", "0", "LE", "1"))
    step = one_step(tmp_path, a_test("Broken DMM", "NumericLimitTest", "Failed", data), "Failed")
    assert not step.numeric_meas
    assert "value nan" in (step.report_text or "")
    assert step.status == "F"


def test_reports_over_the_size_cap_stop_while_steps_are_added(tmp_path: Path) -> None:
    steps = "".join(a_test(f"Step {i}", "PassFailTest", "Passed") for i in range(400))
    path = tmp_path / "big.xml"
    path.write_text(document(steps), encoding="utf-8")
    limits = OutputLimits(max_report_size=20_000, settings="converters.atml")
    outcome = run_conversion(AtmlConverter(), path, make_ctx(AtmlConverter), limits=limits)
    assert isinstance(outcome, Failed)
    assert "converters.atml.max_report_size" in outcome.reason
    assert "by line" in outcome.reason

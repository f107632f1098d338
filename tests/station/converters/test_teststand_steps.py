"""The TestStand XML converter on made-up reports: step types, operators, loops, header variants.

The real files hold pass/fail and numeric steps only. The documents here are written the way
TestStand writes its XML report (``<Prop Name Type Flags>`` with ``<Value>``s; results in
``TS.SequenceCall.ResultList``), by the small writer at the top, which the other TestStand test
modules use too.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

from pywats.models.report import Step, StepKind, UUTReport
from pywats_station.converters.api import (
    ConversionResult,
    Converted,
    Failed,
    Skipped,
    Suspended,
)
from pywats_station.converters.builtin.teststand import TestStandConverter
from pywats_station.converters.sandbox import run_conversion
from tests.station.converters.helpers import make_ctx

# --- a TestStand XML writer ---------------------------------------------------------------------


def prop(name: str | None, kind: str, *inner: str, **attrs: str) -> str:
    """``<Prop Name Type Flags>`` around ``inner`` (values or child properties)."""
    named = f"Name={quoteattr(name)} " if name is not None else ""
    extra = "".join(f" {k}={quoteattr(v)}" for k, v in {"Flags": "0x0", **attrs}.items())
    return f"<Prop {named}Type='{kind}'{extra}>\n{''.join(inner)}</Prop>\n"


def value(text: object) -> str:
    return f"<Value>{escape(str(text))}</Value>\n"


def num(name: str, number: object) -> str:
    return prop(name, "Number", value(number))


def text(name: str, words: str) -> str:
    return prop(name, "String", value(words))


def flag(name: str, on: bool) -> str:
    return prop(name, "Boolean", value("True" if on else "False"))


def obj(name: str | None, *children: str, kind: str = "Obj", **attrs: str) -> str:
    return prop(name, kind, *children, **attrs)


def array(name: str, items: list[str], element: str = "Obj") -> str:
    """An array of objects (``items`` are ``<Prop>``s) or of scalars (plain texts)."""
    bound = f"[{len(items) - 1}]" if items else "[]"
    values = "".join(
        f"<Value ID='[{i}]'>\n{item}</Value>\n"
        if item.startswith("<Prop")
        else f"<Value ID='[{i}]'>{escape(item)}</Value>\n"
        for i, item in enumerate(items)
    )
    return prop(name, "Array", values, LBound="[0]", HBound=bound, ElementType=element)


def result(
    name: str,
    step_type: str = "Action",
    status: str = "Done",
    *payload: str,
    group: str = "Main",
    start: float = 10.0,
    total: float = 0.5,
    step_id: str | None = None,
    result_id: int | None = None,
    ts: tuple[str, ...] = (),
    error: tuple[int, str] | None = None,
    report_text: str = "",
) -> str:
    """One step result (``<Prop Type='TEResult'>``)."""
    code, message = error or (0, "")
    return obj(
        None,
        obj("Error", num("Code", code), text("Msg", message), flag("Occurred", bool(error))),
        text("Status", status),
        text("ReportText", report_text),
        obj("Common", kind="Obj", TypeName="CommonResults"),
        *payload,
        obj(
            "TS",
            num("StartTime", start),
            num("TotalTime", total),
            text("StepName", name),
            text("StepGroup", group),
            text("StepId", step_id or f"ID#:{name}"),
            *([num("Id", result_id)] if result_id is not None else []),
            text("StepType", step_type),
            *ts,
        ),
        kind="TEResult",
    )


def results(name: str, items: list[str]) -> str:
    return array(name, items)


def call(
    name: str,
    children: list[str],
    status: str = "Passed",
    *,
    sequence: str | None = None,
    path: str = "C:\\Tests\\Board.seq",
    **options: Any,
) -> str:
    """A SequenceCall step result whose sequence ran ``children``."""
    seq = obj(
        "SequenceCall",
        results("ResultList", children),
        text("SequenceFile", path),
        text("SequenceFileVersion", "1.2.3"),
        text("Sequence", sequence or name),
        text("Status", status),
    )
    return result(name, "SequenceCall", status, ts=(seq, *options.pop("ts", ())), **options)


def numeric(
    name: str,
    measured: object,
    comp: str | None,
    low: object = None,
    high: object = None,
    units: str = "V",
    status: str = "Passed",
    **options: Any,
) -> str:
    limits = [num(k, v) for k, v in (("Low", low), ("High", high)) if v is not None]
    payload = [num("Numeric", measured), text("Units", units)]
    if limits:
        payload.append(obj("Limits", *limits))
    if comp is not None:
        payload.append(text("Comp", comp))
    return result(name, "NumericLimitTest", status, *payload, **options)


def passfail(name: str, passed: bool, status: str | None = None, **options: Any) -> str:
    word = status or ("Passed" if passed else "Failed")
    return result(name, "PassFailTest", word, flag("PassFail", passed), **options)


def string(
    name: str, measured: str, comp: str, limit: str, status: str = "Passed", **options: Any
) -> str:
    payload = (text("String", measured), obj("Limits", text("String", limit)), text("Comp", comp))
    return result(name, "StringValueTest", status, *payload, **options)


def uut(sn: str = "SN-1", pn: str = "PN-1", *extra: str) -> str:
    return obj(
        "UUT",
        text("SerialNumber", sn),
        num("UUTLoopIndex", 0),
        text("BatchSerialNumber", ""),
        num("TestSocketIndex", 0),
        text("PartNumber", pn),
        obj("AdditionalData", Flags="0x200000"),
        *extra,
        TypeName="UUT",
    )


def plain_report(
    steps: list[str],
    status: str = "Passed",
    *,
    unit: str | None = None,
    station: str = "TS-1",
    report_type: str = "UUT",
    main_total: float = 3.5,
) -> str:
    """A ``<Report>`` as TestStand's own XML report writes it (main result at 9.5 s)."""
    return (
        f"<Report Type='{report_type}' Title='UUT Report' UUTResult={quoteattr(status)}>\n"
        + (unit if unit is not None else uut())
        + obj(
            "StartTime",
            *(num(k, v) for k, v in (("Hours", 9), ("Minutes", 30), ("Seconds", 0))),
            num("Milliseconds", 250),
            TypeName="TimeDetails",
        )
        + obj(
            "StartDate",
            text("Text", "Monday, March 4, 2024"),
            *(num(k, v) for k, v in (("Year", 2024), ("Month", 3), ("MonthDay", 4))),
            TypeName="DateDetails",
        )
        + obj("StationInfo", text("StationID", station), text("LoginName", "op1"))
        + call(
            "MainSequence Callback",
            steps,
            status,
            sequence="MainSequence",
            start=9.5,
            total=main_total,
        )
        + "</Report>\n"
    )


def document(*reports: str, declaration: str = "iso-8859-1", head: str = "") -> str:
    """A whole file: the XML declaration, ``head`` (processing instructions), ``<Reports>``."""
    return (
        f"<?xml version='1.0' encoding='{declaration}'?>{head}\n<Reports>\n"
        + "".join(reports)
        + "</Reports>\n"
    )


def addon_report(
    steps: list[str],
    status: str = "Passed",
    *,
    unit: str | None = None,
    info: dict[str, str] | None = None,
    station: tuple[str, ...] = (),
) -> str:
    """A ``<TSReport>`` as the WATS add-on writes it (engine started 08:00:00Z)."""
    keys = {
        "ID": "3f2b8d6e-7a10-4c7e-9a51-0f9b2a3e5d1c",
        "Start": "2024-03-04T09:30:00.2500000+01:00",
        "EngineStarted": "2024-03-04T08:00:00.0000000Z",
        **(info or {}),
    }
    infos = "".join(
        f"<ReportInfo key={quoteattr(k)} value={quoteattr(v)} type='System.String' />\n"
        for k, v in keys.items()
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n<TSReport>\n"
        + infos
        + (unit if unit is not None else uut())
        + obj(
            "StationInfo",
            text("StationID", "ST-9"),
            text("LoginName", "op2"),
            text("Location", "Line 2"),
            text("Purpose", "Production"),
            *station,
            TypeName="NI_StationInfo",
        )
        + call(
            "MainSequence Callback", steps, status, sequence="MainSequence", start=5400.25
        ).replace("<Prop Type='TEResult'", "<Prop Name='MainSequenceResults' Type='TEResult'", 1)
        + "</TSReport>\n"
    )


def write(tmp_path: Path, content: str, name: str = "report.xml", encoding: str = "") -> Path:
    path = tmp_path / name
    declared = encoding or ("utf-8" if "encoding='utf-8'" in content[:60] else "iso-8859-1")
    path.write_bytes(content.encode(declared))
    return path


def outcome(path: Path, arguments: dict[str, Any] | None = None) -> ConversionResult:
    ctx = make_ctx(TestStandConverter, arguments)
    return run_conversion(TestStandConverter(), path, ctx, strict=True)


def convert_text(tmp_path: Path, content: str, **arguments: Any) -> list[UUTReport]:
    found = outcome(write(tmp_path, content), arguments)
    assert isinstance(found, Converted), found
    return [r for r in found.reports if isinstance(r, UUTReport)]


def single(tmp_path: Path, steps: list[str], status: str = "Passed", **options: Any) -> UUTReport:
    (report,) = convert_text(tmp_path, document(plain_report(steps, status, **options)))
    return report


def failure(tmp_path: Path, content: str, **arguments: Any) -> str:
    found = outcome(write(tmp_path, content), arguments)
    assert isinstance(found, Failed), found
    return found.reason


def named(report: UUTReport, name: str) -> Step:
    (found,) = [s for s in report.steps() if s.name == name]
    return found


def measured(step: Step) -> tuple[Any, ...]:
    (m,) = step.numeric_meas or []
    return (m.value, m.comp_op, m.low_limit, m.high_limit, m.status)


# --- numeric limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comp", "low", "high", "expected"),
    [
        ("GELE", 3.2, 3.4, ("GELE", 3.2, 3.4)),
        ("GTLT", 3.2, 3.4, ("GTLT", 3.2, 3.4)),
        ("LTGT", 3.4, 3.5, ("LTGT", 3.4, 3.5)),  # outside the band: 3.3 < 3.4 passes
        ("GE", 3.0, None, ("GE", 3.0, None)),
        ("LT", 5.0, None, ("LT", 5.0, None)),  # TestStand keeps a single limit in Low, as WATS
        ("LE", None, 5.0, ("LE", 5.0, None)),  # only a High: it is the limit (WATS's low member)
        ("EQ", 3.3, None, ("EQ", 3.3, None)),
        ("LOG", 1.0, 9.0, ("LOG", None, None)),  # LOG compares nothing: no limits
        ("gele", 3.2, 3.4, ("GELE", 3.2, 3.4)),  # any case
        (None, 3.2, 3.4, ("GELE", 3.2, 3.4)),  # no Comp: from the limits
        (None, None, 3.4, ("LE", 3.4, None)),
        (None, None, None, ("LOG", None, None)),
    ],
)
def test_numeric_operators_and_limits(
    tmp_path: Path, comp: str | None, low: float | None, high: float | None, expected: tuple[Any]
) -> None:
    report = single(tmp_path, [numeric("3V3", 3.3, comp, low, high)])
    step = named(report, "3V3")
    assert step.kind is StepKind.NUMERIC_LIMIT
    assert step.step_type == "NumericLimitTest"
    assert measured(step) == (3.3, *expected, "P")
    (m,) = step.numeric_meas or []
    assert m.unit == "V"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Delta", (4.9, 5.2)),
        ("Percentage", (5 - 0.005, 5 + 0.01)),  # 0.1 % and 0.2 % of 5
        ("PPM", (5 - 5e-7, 5 + 1e-6)),
        (None, (4.9, 5.2)),  # no threshold type: Delta
    ],
)
def test_eqt_becomes_gele_around_the_nominal(
    tmp_path: Path, kind: str | None, expected: tuple[float, float]
) -> None:
    raw = obj("RawLimits", num("Nominal", 5), num("Low", 0.1), num("High", 0.2))
    limits = obj("Limits", *([text("ThresholdType", kind)] if kind else []))
    step = result(
        "Ref",
        "NumericLimitTest",
        "Passed",
        num("Numeric", 5.01),
        limits,
        raw,
        text("Comp", "EQT"),
    )
    (m,) = named(single(tmp_path, [step]), "Ref").numeric_meas or []
    assert m.comp_op == "GELE"
    assert (m.low_limit, m.high_limit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("comp", "low", "high", "expected"),
    [
        ("GELE", "-Inf", 5, ("LE", 5.0, None)),
        ("GTLT", 1, "+Inf", ("GT", 1.0, None)),
        ("GELE", "-1.#INF", "1.#INF", ("LOG", None, None)),  # old TestStand's spelling
        ("LTGT", "-Inf", 5, ("GT", 5.0, None)),  # outside (-inf, 5]: above 5
    ],
)
def test_infinite_limits_leave_one_limit(
    tmp_path: Path, comp: str, low: object, high: object, expected: tuple[Any, ...]
) -> None:
    report = single(tmp_path, [numeric("Open", 7 if comp == "LTGT" else 3, comp, low, high)])
    assert measured(named(report, "Open"))[1:4] == expected


def test_a_value_that_is_not_a_number_is_said_in_the_report_text(tmp_path: Path) -> None:
    step = named(single(tmp_path, [numeric("Noise", "NaN", "LE", 1, status="Failed")]), "Noise")
    (m,) = step.numeric_meas or []
    assert (m.value, m.status, step.status) == (None, "F", "F")
    assert step.report_text == "The measurement is nan: no value in WATS"


@pytest.mark.parametrize(
    ("status", "measured_value", "expected"),
    [
        ("Done", 3.3, ("P", "P")),  # no verdict: the limits give one (the server wants one)
        ("Done", 9.0, ("F", "F")),
        ("Failed", 3.3, ("F", "F")),  # TestStand's verdict is kept
    ],
)
def test_one_measurement_and_its_step_share_a_status(
    tmp_path: Path, status: str, measured_value: float, expected: tuple[str, str]
) -> None:
    report = single(tmp_path, [numeric("S", measured_value, "GELE", 3, 4, status=status)])
    step = named(report, "S")
    assert (step.status, (step.numeric_meas or [])[0].status) == expected


def test_an_errored_step_keeps_its_status_and_its_values_as_additional_results(
    tmp_path: Path,
) -> None:
    errored = numeric("Scope", 0, "GELE", 1, 2, status="Error", error=(-17300, "VISA timeout"))
    report = single(tmp_path, [errored], "Error")
    step = named(report, "Scope")
    assert (step.status, step.error_code, step.error_message) == ("E", -17300, "VISA timeout")
    assert step.numeric_meas is None  # a measurement is Passed, Failed or Skipped, never Error
    kept = {d.name for d in step.additional_results or []}
    assert {"Numeric", "Units", "Limits", "Comp"} <= kept
    assert report.result == "E"
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == step.id


def test_a_bad_number_names_its_line(tmp_path: Path) -> None:
    content = document(plain_report([numeric("3V3", "3.3x", "GELE", 3, 4)]))
    line = content.splitlines().index("<Value>3.3x</Value>") + 1
    reason = failure(tmp_path, content)
    assert reason == f"line {line}, column 1, <Prop Name='Numeric'>: '3.3x' is not a number"


def test_an_unknown_operator_names_its_line(tmp_path: Path) -> None:
    content = document(plain_report([numeric("3V3", 3.3, "BETWEEN", 3, 4)]))
    lines = content.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.startswith('<Prop Name="Comp"'))
    reason = failure(tmp_path, content)
    expected = f"line {line}, column 1, <Prop Name='Comp'>: 'BETWEEN' is not a numeric comparison"
    assert reason.startswith(expected)


def test_a_two_limit_operator_without_both_limits_fails(tmp_path: Path) -> None:
    reason = failure(tmp_path, document(plain_report([numeric("X", 1, "GELE", 0)])))
    assert reason.endswith("<Prop Type='TEResult'>: GELE needs Limits.Low and Limits.High")
    assert reason.startswith("line ")


# --- other step kinds ---------------------------------------------------------------------------


def test_pass_fail_string_popup_exe_wait(tmp_path: Path) -> None:
    steps = [
        passfail("LED", True),
        passfail("Fan", False),
        string("FW", "1.4.2", "CaseSensitive", "1.4.2"),
        string("Model", "psu-48", "IGNORECASE", "PSU-48"),
        string("Note", "free text", "LOG", ""),
        result("Ask", "MessagePopup", "Done", num("ButtonHit", 2), text("Response", "yes")),
        result("Flash", "CallExecutable", "Done", num("ExitCode", 3)),
        result("Settle", "NI_Wait", "Done"),
    ]
    report = single(tmp_path, steps, "Failed")
    led, fan = named(report, "LED"), named(report, "Fan")
    assert (led.kind, led.status, [b.status for b in led.boolean_meas or []]) == (
        StepKind.PASS_FAIL,
        "P",
        ["P"],
    )
    assert (fan.status, [b.status for b in fan.boolean_meas or []]) == ("F", ["F"])
    (fw,) = named(report, "FW").string_meas or []
    assert (fw.value, fw.limit, fw.comp_op, fw.status) == ("1.4.2", "1.4.2", "CASESENSIT", "P")
    (model,) = named(report, "Model").string_meas or []
    assert (model.comp_op, model.limit, model.status) == ("IGNORECASE", "PSU-48", "P")
    (note,) = named(report, "Note").string_meas or []
    assert (note.comp_op, note.limit) == ("LOG", None)
    ask = named(report, "Ask")
    assert ask.kind is StepKind.MESSAGE_POPUP
    assert ask.message_popup is not None
    assert (ask.message_popup.button, ask.message_popup.response) == (2, "yes")
    flash = named(report, "Flash")
    assert flash.call_exe is not None
    assert (flash.kind, flash.call_exe.exit_code, flash.step_type) == (
        StepKind.CALL_EXE,
        3.0,
        "CallExecutable",
    )
    wait = named(report, "Settle")
    assert (wait.kind, wait.step_type, wait.status) == (StepKind.GENERIC, "NI_Wait", "D")
    assert report.result == "F"
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == fan.id  # the first failing step
    assert fan.caused_uut_failure is True


def test_multiple_measurements(tmp_path: Path) -> None:
    def measurement(name: str, data: float, low: float, high: float, status: str) -> str:
        limits = obj("Limits", num("Low", low), num("High", high))
        return obj(
            name,
            num("Data", data),
            limits,
            text("Comp", "GELE"),
            text("Units", "A"),
            text("Status", status),
        )

    items = [
        measurement("I 12V", 1.2, 1.0, 1.5, "Passed"),
        measurement("I 5V", 0.2, 0.5, 0.9, "Failed"),
        obj(
            "Serial",
            text("MeasName", "Serial"),
            text("StringData", "AB"),
            text("StringLimit", "AB"),
            text("Comp", "CASESENSIT"),
            text("Status", "Passed"),
        ),
        obj("Lid", text("MeasName", "Lid closed"), flag("PassFail", True)),
    ]
    step = result("Rails", "NI_MultipleNumericLimitTest", "Failed", array("Measurement", items))
    report = single(tmp_path, [step], "Failed")
    rails = named(report, "Rails")
    assert rails.kind is StepKind.MULTI_NUMERIC_LIMIT
    assert rails.step_type == "NI_MultipleNumericLimitTest"
    got = [
        (m.name, m.value, m.unit, m.low_limit, m.high_limit, m.status)
        for m in rails.numeric_meas or []
    ]
    assert got == [("I 12V", 1.2, "A", 1.0, 1.5, "P"), ("I 5V", 0.2, "A", 0.5, 0.9, "F")]
    assert [(m.name, m.value, m.status) for m in rails.string_meas or []] == [("Serial", "AB", "P")]
    assert [(m.name, m.status) for m in rails.boolean_meas or []] == [("Lid closed", "P")]


def test_a_chart_of_the_add_on(tmp_path: Path) -> None:
    def plot(name: str, rows: list[list[float]]) -> str:
        cells = "".join(
            f"<Value ID='[{i}][{j}]'>{v}</Value>\n"
            for i, row in enumerate(rows)
            for j, v in enumerate(row)
        )
        data = prop(
            "PlotData",
            "Array",
            cells,
            LBound="[0][0]",
            HBound=f"[{len(rows) - 1}][{len(rows[0]) - 1}]",
            ElementType="Number",
        )
        return obj(
            None,
            text("PlotName", name),
            text("PlotDataType", "XYG"),
            data,
            TypeName="WATS_Chart_Plots",
        )

    chart = obj(
        "Chart",
        text("ChartLabel", "Response"),
        text("Xlabel", "Frequency"),
        text("Xunit", "Hz"),
        text("Ylabel", "Level"),
        text("Yunit", "dB"),
        text("ChartType", "LineLogX"),
        array(
            "Plots",
            [
                plot("Left", [[100, 1000, 10000], [1, 2, 3]]),
                plot("Right", [[100, 0.5], [1000, 1.5], [10000, 2.5]]),
            ],
        ),
        TypeName="WATS_Chart_Data",
    )
    step = result(
        "Sweep", "WATS_XYGMNLT", "Passed", num("Numeric", 2.0), text("Comp", "LOG"), chart
    )
    drawn = named(single(tmp_path, [step]), "Sweep")
    assert drawn.kind is StepKind.NUMERIC_LIMIT
    assert drawn.chart is not None
    assert (drawn.chart.chart_type, drawn.chart.label, drawn.chart.x_unit, drawn.chart.y_unit) == (
        "LineLogX",
        "Response",
        "Hz",
        "dB",
    )
    left, right = drawn.chart.series or []
    assert (left.name, left.xdata, left.ydata) == ("Left", "100.0;1000.0;10000.0", "1.0;2.0;3.0")
    # 3 x 2: column 0 is x, column 1 is y.
    assert (right.xdata, right.ydata) == ("100.0;1000.0;10000.0", "0.5;1.5;2.5")


def test_a_skipped_step_has_no_payload(tmp_path: Path) -> None:
    report = single(tmp_path, [numeric("Later", 0, "GELE", 1, 2, status="Skipped")])
    step = named(report, "Later")
    assert (step.status, step.kind, step.additional_results) == ("S", StepKind.GENERIC, None)


def test_an_array_of_values_is_no_measurement(tmp_path: Path) -> None:
    samples = prop("Numeric", "Array", "<Value ID='[0]'>1.5</Value><Value ID='[1]'>2.5</Value>",
                   LBound="[0]", HBound="[1]", ElementType="Number")  # fmt: skip
    step = named(single(tmp_path, [result("Scope", "NI_IVIScope", "Done", samples)]), "Scope")
    assert (step.kind, step.status) == (StepKind.GENERIC, "D")
    (kept,) = step.additional_results or []
    (array_prop,) = kept.props or []
    assert array_prop.array is not None
    values = [(i.text, i.value.value if i.value else None) for i in array_prop.array.indexes or []]
    assert values == [("[0]", "1.5"), ("[1]", "2.5")]


def test_what_has_no_member_goes_to_additional_results(tmp_path: Path) -> None:
    custom = obj("Calibration", num("Offset", 0.25), text("Probe", "P-7"))
    extras = obj("AdditionalResults", num("Temperature", 23.5))
    step = result("Trim", "MyCompany_Trim", "Passed", custom, extras, text("Empty", ""))
    trim = named(single(tmp_path, [step]), "Trim")
    found = {
        d.name: [(p.name, p.value) for p in d.props or []] for d in trim.additional_results or []
    }
    assert found == {
        "Temperature": [("Temperature", "23.5")],
        "Calibration": [("Offset", "0.25"), ("Probe", "P-7")],
    }  # the empty property is left out
    assert trim.step_type == "MyCompany_Trim"


# --- sequences and loops ------------------------------------------------------------------------


def test_nested_sequences_and_post_actions(tmp_path: Path) -> None:
    inner = call("Power", [numeric("3V3", 3.3, "GELE", 3.2, 3.4)], group="Setup")
    post = obj("PostAction", results("ResultList", [result("Log it", "Action", "Done")]))
    outer = call("Board", [inner], ts=(post,))
    report = single(tmp_path, [outer])
    board = named(report, "Board")
    assert board.seq_call is not None
    assert (board.seq_call.path, board.seq_call.name, board.seq_call.version) == (
        "C:\\Tests\\Board.seq",
        "Board",
        "1.2.3",
    )
    assert [s.name for s in board.steps or []] == ["Power", "Log it"]
    assert named(report, "Power").group == "S"
    assert [s.id for s in report.steps()] == [1, 2, 3, 4, 5]  # depth first, from 1


def iteration(name: str, index: int, measured: float, status: str = "Passed") -> str:
    return numeric(
        name,
        measured,
        "GELE",
        1,
        2,
        status=status,
        step_id="ID#:loop",
        ts=(num("LoopIndex", index),),
    )


def loop_result(name: str, count: int, passed: int, failed: int, status: str) -> str:
    counts = (
        ("NumLoops", count),
        ("NumPassed", passed),
        ("NumFailed", failed),
        ("EndingLoopIndex", count),
    )
    return numeric(
        name,
        1.5,
        "GELE",
        1,
        2,
        status=status,
        step_id="ID#:loop",
        ts=tuple(num(k, v) for k, v in counts),
    )


def test_a_loop_is_summary_then_iterations(tmp_path: Path) -> None:
    steps = [
        iteration("Ripple", 0, 1.5),
        iteration("Ripple", 1, 2.5, "Failed"),
        iteration("Ripple", 2, 1.7),
        loop_result("Ripple", 3, 2, 1, "Failed"),
        passfail("After", True),
    ]
    report = single(tmp_path, steps, "Failed")
    assert report.root is not None
    loop = [s for s in report.root.steps or [] if s.name == "Ripple"]
    summary, *iterations = loop
    assert summary.loop is not None
    assert (summary.loop.idx, summary.loop.num, summary.loop.ending_index) == (None, 3, 2)
    assert (summary.loop.passed, summary.loop.failed, summary.status) == (2, 1, "F")
    assert [(s.loop.idx if s.loop else None, s.status) for s in iterations] == [
        (0, "P"),
        (1, "F"),
        (2, "P"),
    ]
    assert [s.name for s in report.root.steps or []][-1] == "After"
    assert report.validate(server_rules=True) == []


def test_a_loop_result_written_before_its_iterations(tmp_path: Path) -> None:
    steps = [loop_result("Ripple", 2, 2, 0, "Passed"), iteration("Ripple", 0, 1.5)]
    steps.append(iteration("Ripple", 1, 1.6))
    report = single(tmp_path, steps)
    assert report.root is not None
    loops = [(s.loop.idx, s.loop.num) for s in report.root.steps or [] if s.loop]
    assert loops == [(None, 2), (0, None), (1, None)]
    assert report.validate(server_rules=True) == []


def test_iterations_without_their_loop_result(tmp_path: Path) -> None:
    report = single(tmp_path, [iteration("Ripple", 3, 1.5), iteration("Ripple", 4, 1.6)])
    assert report.root is not None
    # Indexed from 0 in their order: the server's loop rules count from 0.
    assert [s.loop.idx for s in report.root.steps or [] if s.loop] == [0, 1]


def test_a_loop_result_without_its_iterations(tmp_path: Path) -> None:
    report = single(tmp_path, [loop_result("Soak", 5, 5, 0, "Passed")])
    soak = named(report, "Soak")
    assert soak.loop is not None
    assert (soak.loop.num, soak.loop.ending_index, soak.loop.passed, soak.loop.failed) == (
        5,
        4,
        5,
        0,
    )


def test_a_looped_sequence_call(tmp_path: Path) -> None:
    def pass_(index: int) -> str:
        return call(
            "Cycle",
            [passfail("Relay", True, start=20.0 + index)],
            step_id="ID#:cycle",
            ts=(num("LoopIndex", index),),
        )

    summary = call("Cycle", [], step_id="ID#:cycle", ts=(num("NumLoops", 2),))
    report = single(tmp_path, [pass_(0), pass_(1), summary])
    assert report.root is not None
    cycles = report.root.steps or []
    assert [(s.name, s.loop.idx if s.loop else "-") for s in cycles] == [
        ("Cycle", None),
        ("Cycle", 0),
        ("Cycle", 1),
    ]
    assert [len(s.steps or []) for s in cycles] == [0, 1, 1]


# --- the header ---------------------------------------------------------------------------------


def test_add_on_header_misc_info_sub_units_and_additional_data(tmp_path: Path) -> None:
    misc = array(
        "Misc_UUT_Info",
        [
            obj(
                None,
                text("Description", "Firmware"),
                text("Data_String", "1.4.2"),
                num("Data_Numeric", 0),
                TypeName="ET_Misc_UUT_Info",
            ),
            obj(
                None,
                text("Description", "Cycles"),
                text("Data_String", ""),
                num("Data_Numeric", 1200),
                TypeName="ET_Misc_UUT_Info",
            ),
        ],
    )
    parts = array(
        "UUT_Part_Info",
        [
            obj(
                None,
                text("Part_Type", "PCBA"),
                text("Part_Number", "PCB-7"),
                text("Part_Serial_Number", "P-0001"),
                text("Part_Revision_Number", "B"),
                TypeName="ET_UUT_Part_Info",
            )
        ],
    )
    unit = obj(
        "UUT",
        text("SerialNumber", "SN-77"),
        text("UUTPartNumber", "PSU-48"),
        text("UUTPartRevisionNumber", "C"),
        num("UUTOperationType", 50),
        text("Comment", "first article"),
        text("UUT_Fixture_ID", "FX-12"),
        text("BatchSerialNumber", "B-1"),
        num("TestSocketIndex", 2),
        obj("MiscUUTResult", parts, misc, array("SPC_Data", [])),
        obj("AdditionalData", obj("Fixture", text("Slot", "A3")), text("Lot", "L-9")),
        TypeName="ET_UUT",
    )
    extra = obj("AdditionalData", text("Building", "B2"), Flags="0x200000")
    content = addon_report([passfail("LED", True)], unit=unit, station=(extra,))
    (report,) = convert_text(tmp_path, content, station_from_file=True)
    assert (report.sn, report.pn, report.rev, report.process_code) == ("SN-77", "PSU-48", "C", 50)
    assert (report.machine_name, report.location, report.purpose) == (
        "ST-9",
        "Line 2",
        "Production",
    )
    assert str(report.id) == "3f2b8d6e-7a10-4c7e-9a51-0f9b2a3e5d1c"
    assert report.start is not None
    assert report.start.isoformat() == "2024-03-04T09:30:00.250000+01:00"
    assert report.uut is not None
    assert (report.uut.comment, report.uut.fixture_id, report.uut.batch_sn) == (
        "first article",
        "FX-12",
        "B-1",
    )
    assert (report.uut.user, report.uut.test_socket_index) == ("op2", 2)
    assert [(m.description, m.text, m.numeric) for m in report.misc_infos or []] == [
        ("Firmware", "1.4.2", 0),
        ("Cycles", None, 1200),
    ]
    assert [(u.part_type, u.pn, u.sn, u.rev) for u in report.sub_units or []] == [
        ("PCBA", "PCB-7", "P-0001", "B")
    ]
    data = {d.name: d for d in report.additional_data or []}
    assert [(p.name, p.value) for p in data["Fixture"].props or []] == [("Slot", "A3")]
    assert [(p.name, p.value) for p in data["Lot"].props or []] == [("Lot", "L-9")]
    (station_extra,) = data["StationInfo"].props or []
    assert station_extra.name == "AdditionalData"
    assert [(p.name, p.value) for p in station_extra.props or []] == [("Building", "B2")]
    # Steps: EngineStarted 08:00:00Z + TS.StartTime (10 s for the pass/fail step).
    led = named(report, "LED")
    assert led.start is not None
    assert led.start.isoformat() == "2024-03-04T09:00:10+01:00"


def test_the_add_on_operation_name_goes_through_the_process_map(tmp_path: Path) -> None:
    details = obj("UUTOperationTypeDetails", text("OpTypeName", "FCT"))
    unit = uut("SN-1", "PN-1", num("UUTOperationType", 77), details)
    (report,) = convert_text(
        tmp_path, addon_report([], unit=unit), process_map={"fct": "PCBA test"}
    )
    assert report.process_code == 50


def test_part_number_and_revision_arguments(tmp_path: Path) -> None:
    (report,) = convert_text(
        tmp_path, document(plain_report([], unit=uut("SN-1", ""))), part_number="P-9", revision="B"
    )
    assert (report.pn, report.rev) == ("P-9", "B")
    # The file wins over the argument.
    (report,) = convert_text(tmp_path, document(plain_report([])), part_number="P-9")
    assert report.pn == "PN-1"


def test_no_serial_number_fails(tmp_path: Path) -> None:
    reason = failure(tmp_path, document(plain_report([], unit=uut("  ", "PN"))))
    assert reason == (
        "line 3, column 1, <Report>: the report has no serial number (UUT.SerialNumber)"
    )


def test_critical_failure_stack_names_the_step(tmp_path: Path) -> None:
    entry = obj(
        None,
        text("StepName", "B"),
        text("SequenceName", "MainSequence"),
        num("ResultId", 42),
        TypeName="NI_CriticalFailureStackEntry",
    )
    unit = uut("SN-1", "PN-1", array("CriticalFailureStack", [entry]))
    steps = [passfail("A", False, result_id=41), passfail("B", False, result_id=42)]
    report = single(tmp_path, steps, "Failed", unit=unit)
    assert report.uut is not None
    assert report.uut.step_id_caused_uut_failure == named(report, "B").id
    assert named(report, "A").caused_uut_failure is None


def test_several_uuts_in_one_file_and_batch_reports(tmp_path: Path) -> None:
    content = document(
        plain_report([passfail("LED", True)], unit=uut("SN-1")),
        plain_report([], report_type="Batch"),
        plain_report([passfail("LED", False)], "Failed", unit=uut("SN-2")),
    )
    reports = convert_text(tmp_path, content)
    assert [(r.sn, r.result) for r in reports] == [("SN-1", "P"), ("SN-2", "F")]
    assert len({r.id for r in reports}) == 2
    only_batch = write(tmp_path, document(plain_report([], report_type="Batch")), "b.xml")
    assert outcome(only_batch) == Skipped(reason="only batch reports (1), no UUT report")


def test_a_report_still_being_written_on_the_fly_waits(tmp_path: Path) -> None:
    found = outcome(write(tmp_path, document(plain_report([], "Running"))))
    assert isinstance(found, Suspended)
    assert "the main sequence is still 'Running'" in found.reason
    assert found.reason.startswith("line ")


def test_times_of_a_plain_report(tmp_path: Path) -> None:
    content = document(plain_report([passfail("LED", True, start=12.0, total=0.25)]))
    (report,) = convert_text(tmp_path, content, timezone="Europe/Oslo")
    assert report.start is not None
    assert report.start.isoformat() == "2024-03-04T09:30:00.250000+01:00"  # winter: +01:00
    led = named(report, "LED")
    assert led.start is not None
    # The main result (9.5 s after the engine started) starts with the report; the step 2.5 s
    # after it.
    assert led.start.isoformat() == "2024-03-04T09:30:02.750000+01:00"
    assert led.tot_time == 0.25
    assert report.uut is not None
    assert report.uut.exec_time == 3.5


def test_numbers_as_teststand_writes_them(tmp_path: Path) -> None:
    steps = [numeric("Hex", "0x1F", "EQ", 31), numeric("Comma", "3,3", "GELE", 3, 4)]
    report = single(tmp_path, steps)
    assert measured(named(report, "Hex"))[0] == 31.0
    assert measured(named(report, "Comma"))[0] == 3.3
    assert not math.isnan(measured(named(report, "Comma"))[0])

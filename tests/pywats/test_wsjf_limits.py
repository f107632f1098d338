"""Nesting limits of the report codecs: hostile documents fail with ReportFormatError, never
RecursionError, and a report built in Python of any depth validates without recursion (issue 10).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywats import ReportFormatError
from pywats.formats import wsjf, wsxf
from pywats.formats._nesting import json_too_deep
from pywats.models.report import (
    AdditionalData,
    AdditionalDataProperty,
    LoopInfo,
    NumericMeasurement,
    SequenceCall,
    Step,
    UUTInfo,
    UUTReport,
)
from pywats.validation import validate_report


def deep_report(levels: int) -> UUTReport:
    """A valid test report whose root sequence nests ``levels`` more sequences, one in another."""
    root = Step(
        group="M", step_type="SequenceCall", name="root", status="P", seq_call=SequenceCall()
    )
    step = root
    for n in range(levels):
        child = Step(
            group="M", step_type="SequenceCall", name=f"s{n}", status="P", seq_call=SequenceCall()
        )
        step.steps = [child]
        step = child
    return UUTReport(
        pn="PN",
        sn="SN",
        rev="A",
        process_code=10,
        result="P",
        machine_name="M",
        location="L",
        purpose="P",
        start=wsjf.loads(b'{"type":"T","start":"2026-01-01T00:00:00Z"}').start,
        uut=UUTInfo(),
        root=root,
    )


def json_depth(value: Any) -> int:
    """Reference: the nesting of a decoded JSON value, counted with a stack."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            stack.extend((v, level) for v in (item.values() if isinstance(item, dict) else item))
        deepest = max(deepest, level)
    return deepest


# --- the scan ---------------------------------------------------------------------------------

_tricky_text = st.text(alphabet='[]{}"\\ab/\u00e9\U0001f525', max_size=8)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky_text, inner, max_size=3),
    max_leaves=12,
)


@given(value=_json, limit=st.integers(0, 6), ascii_only=st.booleans())
def test_the_scan_measures_what_a_decoder_would_nest(
    value: Any, limit: int, ascii_only: bool
) -> None:
    # Strings full of brackets, quotes and backslashes must not count, whatever the escaping.
    text = json.dumps(value, ensure_ascii=ascii_only)
    depth = json_depth(value)
    expected = depth if depth > limit else None

    assert json_too_deep(text, limit) == expected
    assert json_too_deep(text.encode(), limit) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "' + "[" * 1_000 + '"}', None),
        ('{"a": "\\"' + "[" * 1_000 + '"}', None),
        ('{"a": "\\\\", "b": ' + "[" * 300 + "]" * 300 + "}", 301),
        ('{"a": "x\\\\\\"[{", "b": ' + "[" * 300 + "]" * 300 + "}", 301),
    ],
    ids=[
        "brackets-in-a-string",
        "after-an-escaped-quote",
        "after-an-escaped-backslash",
        "after-escaped-backslash-and-quote",
    ],
)
def test_the_scan_tells_strings_from_structure(text: str, expected: int | None) -> None:
    assert json_depth(json.loads(text)) == (expected or 1)
    assert json_too_deep(text, 256) == expected


# --- WSJF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"T","root":' + b'{"steps":[' * 5_000 + b"{}" + b"]}" * 5_000 + b"}",
        b'{"type":"R","additionalData":[{"props":'
        + b'[{"props":' * 5_000
        + b"[]"
        + b"}]" * 5_000
        + b"}]}",
        b'{"type":"T","unknown":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"{" * 1_000_000,
        b'{"type":"T","root":' + b'{"steps":[' * 130 + b"{}" + b"]}" * 130 + b"}",
    ],
    ids=["steps", "additional-data", "unknown-member", "unclosed", "just-over"],
)
def test_wsjf_refuses_a_document_nested_too_deeply(body: bytes) -> None:
    for data in (body, body.decode()):
        with pytest.raises(ReportFormatError, match=r"WSJF allows at most 256 \(about 125"):
            wsjf.loads(data)


def test_wsjf_reads_a_document_nested_exactly_to_the_limit() -> None:
    # The report object is level 1, so 255 arrays inside one of its members reach 256.
    at_limit = b'{"type":"T","unknown":' + b"[" * 255 + b"]" * 255 + b"}"
    over = b'{"type":"T","unknown":' + b"[" * 256 + b"]" * 256 + b"}"

    assert isinstance(wsjf.loads(at_limit), UUTReport)
    with pytest.raises(ReportFormatError, match="257 levels deep"):
        wsjf.loads(over)


def test_wsjf_reads_a_hundred_levels_of_steps_and_writes_them_back() -> None:
    report = deep_report(100)

    again = wsjf.loads(wsjf.dumps(report))

    assert len(again.steps()) == 101


@pytest.mark.parametrize("levels", [200, 5_000])
def test_wsjf_refuses_to_write_what_it_would_not_read(levels: int) -> None:
    with pytest.raises(ReportFormatError, match=r"cannot write WSJF: .*at most 256"):
        wsjf.dumps(deep_report(levels))


def test_wsjf_refuses_to_write_deep_additional_data() -> None:
    prop = AdditionalDataProperty(name="leaf")
    for _ in range(5_000):
        prop = AdditionalDataProperty(name="box", props=[prop])
    report = deep_report(1)
    report.additional_data = [AdditionalData(name="deep", props=[prop])]

    with pytest.raises(ReportFormatError, match="cannot write WSJF"):
        wsjf.dumps(report)


# --- WSXF ---------------------------------------------------------------------------------------


def wsxf_steps(levels: int) -> str:
    """A WSXF document whose root step nests ``levels`` more steps."""
    steps = levels + 1
    return (
        f'<Reports xmlns="{wsxf.NAMESPACE}"><Report type="UUT" SN="s" PN="p" Rev="r">'
        + '<Step Name="s" Status="Passed">' * steps
        + "</Step>" * steps
        + "</Report></Reports>"
    )


def test_wsxf_reads_elements_nested_exactly_to_the_limit() -> None:
    # <Reports><Report> and 126 steps: 128 elements.
    assert len(wsxf.loads(wsxf_steps(125)).steps()) == 126
    with pytest.raises(ReportFormatError, match="nested more than 128 levels deep"):
        wsxf.loads(wsxf_steps(126))


def test_wsxf_refuses_a_million_nested_elements_while_parsing() -> None:
    with pytest.raises(ReportFormatError, match="the limit is 128"):
        wsxf.loads(wsxf_steps(1_000_000))


@pytest.mark.parametrize("levels", [124, 5_000])
def test_wsxf_refuses_to_write_steps_nested_too_deeply(levels: int) -> None:
    with pytest.raises(ReportFormatError, match="WSXF allows at most 124"):
        wsxf.dumps(deep_report(levels))


def test_wsxf_writes_what_it_reads_back() -> None:
    report = deep_report(123)

    assert len(wsxf.loads(wsxf.dumps(report)).steps()) == 124
    assert len(wsjf.loads(wsjf.dumps(report)).steps()) == 124


# --- validation -----------------------------------------------------------------------------


def test_validation_walks_any_depth_without_recursion() -> None:
    report = deep_report(20_000)
    deepest = report.steps()[-1]
    deepest.numeric_meas = []
    deepest.status = "X"

    problems = validate_report(report, server_rules=True)

    assert [p.rule for p in problems] == ["enum"]
    assert problems[0].path.endswith("-> step s19999")


@pytest.mark.parametrize("levels", [10, 5_000])
def test_server_rules_report_in_the_recursive_order_at_any_depth(levels: int) -> None:
    report = deep_report(levels)
    parent = report.steps()[levels - 5]
    # The parent's status disagrees with its one measurement; below it, a loop summary whose
    # iteration disagrees with it, and whose own status disagrees with its measurement.
    parent.numeric_meas = [NumericMeasurement(status="F", value=1.0)]
    summary = Step(name="L", step_type="ET_NLT", status="P", loop=LoopInfo(num=5, ending_index=0))
    iteration = Step(
        name="L",
        step_type="ET_NLT",
        status="P",
        loop=LoopInfo(idx=3),
        numeric_meas=[NumericMeasurement(status="F", value=2.0)],
    )
    parent.steps = [summary, iteration]

    rules = [p.rule for p in validate_report(report, server_rules=True)]

    # As the recursive walk found them: a step's status, then per child its loop, then the
    # child's subtree.
    assert rules == [
        "status-mismatch",
        "loop-ending-index",
        "loop-num",
        "loop-meas",
        "status-mismatch",
    ]

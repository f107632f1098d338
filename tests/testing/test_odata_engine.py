"""The emulator's OData engine: ``$filter`` parsing/evaluation and the other query options."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywats.odata import Expr, F
from pywats.testing import _odata
from pywats.testing._odata import (
    And,
    Call,
    Compare,
    In,
    Lambda,
    Literal,
    Node,
    Not,
    ODataError,
    Or,
    Property,
    Query,
    apply,
    compile_filter,
    evaluate,
    parse_filter,
    parse_query,
)

HEADER = [
    "uuid", "serialNumber", "partNumber", "revision", "reportType", "start", "result",
    "batchNumber", "userName", "stationName", "location", "purpose", "measuresDeleted",
    "timeStamp", "processCode", "processName", "comment", "executionTime", "swFilename",
    "swVersion", "testSocketIndex", "fixtureId", "errorCode", "errorMessage", "run",
    "receiveCount", "reportSize", "causedUutFailure", "causedUutFailurePath", "passedInRun",
    "referencedUut", "subUnits", "miscInfo", "assets", "attachments", "uurSubUnits",
    "uurMiscInfo", "uurAttachments",
]  # fmt: skip
ORDERABLE = ["start", "uuid", "serialNumber", "timeStamp"]
EXPANDABLE = [
    "subUnits", "miscInfo", "assets", "attachments", "uurSubUnits", "uurMiscInfo", "uurAttachments",
]  # fmt: skip
ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

ROW: dict[str, Any] = {
    "uuid": ID,
    "serialNumber": "SN-0042",
    "partNumber": "PN-1",
    "revision": "A",
    "reportType": "T",
    "start": START,
    "result": "Failed",
    "measuresDeleted": False,
    "timeStamp": 1234,
    "processCode": 10,
    "executionTime": 12.5,
    "comment": None,
    "stationName": "  Station 1 ",
    "referencedUut": None,
    "subUnits": [
        {"partType": "PCB", "serialNumber": "PCB-1", "partNumber": "PCB-7", "revision": "B"},
        {"partType": "PSU", "serialNumber": "PSU-9", "partNumber": "PSU-2", "revision": "A"},
    ],
    "miscInfo": [{"description": "Fixture", "value": "F1"}],
    "assets": [],
    "tags": ["hot", "burn-in"],
}


def matches(text: str, row: Mapping[str, Any] = ROW) -> bool:
    return evaluate(parse_filter(text), row)


def query(**params: str) -> Query:
    return parse_query(
        {k.replace("_", "$", 1) if k.startswith("_") else k: v for k, v in params.items()},
        properties=HEADER,
        orderable=[*ORDERABLE, "run"],
        expandable=EXPANDABLE,
        default_top=10,
        max_top=10000,
        default_orderby=[("start", True)],
    )


# --- literals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'plain'", "plain"),
        ("'it''s'", "it's"),
        ("''''", "'"),
        ("''", ""),
        ("'a,b) or x eq (1'", "a,b) or x eq (1"),
        ("42", 42),
        ("-7", -7),
        ("5L", 5),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e-05", 1e-05),
        ("2.5E+3", 2500.0),
        ("true", True),
        ("false", False),
        ("null", None),
        ("True", True),
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        (
            "2026-01-01T00:00:00.123+01:00",
            datetime(2025, 12, 31, 23, 0, 0, 123000, tzinfo=UTC),
        ),
        ("2026-01-01T00:00:00.1234567Z", datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("datetime'2026-01-01T00:00:00'", datetime(2026, 1, 1, tzinfo=UTC)),
        ("datetimeoffset'2026-01-01T02:00:00+02:00'", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01", date(2026, 1, 1)),
        (ID, uuid.UUID(ID)),
        (ID.upper(), uuid.UUID(ID)),
        ("12345678-1234-1234-1234-123456789abc", uuid.UUID("12345678-1234-1234-1234-123456789abc")),
        (f"guid'{ID}'", uuid.UUID(ID)),
    ],
)
def test_literal_forms(text: str, value: object) -> None:
    node = parse_filter(f"x eq {text}")
    assert node == Compare("eq", Property(("x",)), Literal(value))
    right = node.right if isinstance(node, Compare) else None
    assert isinstance(right, Literal)
    assert type(right.value) is type(value)


def test_datetime_literal_is_aware_and_offset_respected() -> None:
    assert matches("start eq 2026-03-01T13:00:00+01:00")
    assert matches("start eq datetime'2026-03-01T12:00:00'")
    assert not matches("start eq 2026-03-01T12:00:00+01:00")


# --- operators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serialNumber eq 'SN-0042'", True),
        ("serialNumber eq 'SN-0043'", False),
        ("serialNumber ne 'SN-0043'", True),
        ("serialNumber ne 'SN-0042'", False),
        ("serialNumber gt 'SN-0041'", True),
        ("serialNumber gt 'SN-0042'", False),
        ("serialNumber ge 'SN-0042'", True),
        ("serialNumber lt 'SN-0042'", False),
        ("serialNumber lt 'SN-1'", True),
        ("serialNumber le 'SN-0042'", True),
        ("processCode eq 10", True),
        ("processCode eq 10.0", True),
        ("processCode gt 9", True),
        ("processCode ge 10", True),
        ("processCode lt 10", False),
        ("processCode le 9", False),
        ("executionTime gt 12.4", True),
        ("executionTime lt 12", False),
        ("executionTime eq 12.5", True),
        ("measuresDeleted eq false", True),
        ("measuresDeleted ne true", True),
        ("measuresDeleted", False),
        ("not measuresDeleted", True),
        ("start gt 2026-03-01T11:59:59Z", True),
        ("start ge 2026-03-01T12:00:00Z", True),
        ("start lt 2026-03-01T12:00:00Z", False),
        ("start le 2026-03-01T12:00:00Z", True),
        ("start ge 2026-03-01 and start lt 2026-03-02", True),
        ("start lt 2026-03-01", False),
        ("result in ('Passed','Failed')", True),
        ("result in ('Passed', 'Error')", False),
        ("processCode in (1, 10)", True),
        ("comment in ('x', null)", True),
        ("result eq 'Failed' and processCode eq 10", True),
        ("result eq 'Failed' and processCode eq 11", False),
        ("result eq 'Passed' or processCode eq 10", True),
        ("result eq 'Passed' or processCode eq 11", False),
        ("not (result eq 'Passed')", True),
        ("not (result eq 'Failed')", False),
        ("not not (result eq 'Failed')", True),
        ("(((result eq 'Failed')))", True),
        ("true", True),
        ("false or true", True),
        ("'Failed' eq result", True),
        ("10 lt processCode", False),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_precedence_tree() -> None:
    a, b, c = (Compare("eq", Property((n,)), Literal(1)) for n in "abc")
    assert parse_filter("a eq 1 or b eq 1 and c eq 1") == Or(a, And(b, c))
    assert parse_filter("a eq 1 and b eq 1 or c eq 1") == Or(And(a, b), c)
    assert parse_filter("(a eq 1 or b eq 1) and c eq 1") == And(Or(a, b), c)
    assert parse_filter("a eq 1 and b eq 1 and c eq 1") == And(And(a, b), c)
    assert parse_filter("not a eq 1 and b eq 1") == And(
        Compare("eq", Not(Property(("a",))), Literal(1)), b
    )
    assert parse_filter("not (a eq 1) or b eq 1") == Or(Not(a), b)


def test_precedence_evaluation() -> None:
    row = {"a": 1, "b": 0, "c": 0}
    assert matches("a eq 1 or b eq 2 and c eq 3", row)
    assert not matches("(a eq 1 or b eq 2) and c eq 3", row)
    assert not matches("not (a eq 1) or b eq 2", row)
    # `not` binds tighter than `eq`: (not false) eq true.
    assert matches("not flag eq true", {"flag": False})


def test_property_names_are_case_insensitive() -> None:
    assert matches("SerialNumber eq 'SN-0042'")
    assert matches("SERIALNUMBER eq 'SN-0042'")
    assert matches("serialnumber eq 'SN-0042'", {"SerialNumber": "SN-0042"})
    assert matches("subunits/ANY(s: s/PartNumber eq 'PCB-7')")


def test_keywords_and_functions_are_case_insensitive() -> None:
    assert matches("StartsWith(serialNumber,'SN') AND result Eq 'Failed' OR False")
    assert matches("NOT (result in ('Passed'))")


def test_compile_filter_canonicalises_names() -> None:
    pred = compile_filter("SERIALNUMBER eq 'SN-0042'", HEADER)
    assert pred(ROW)
    assert not pred({**ROW, "serialNumber": "other"})
    assert compile_filter("serialNumber eq 'x'", ["serialNumber"])({"serialNumber": "x"})
    assert _odata._checked_filter("SERIALNUMBER eq 'x'", HEADER) == parse_filter(
        "serialNumber eq 'x'"
    )


# --- strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contains(serialNumber,'004')", True),
        ("contains(serialNumber,'005')", False),
        ("startswith(serialNumber,'SN-')", True),
        ("startswith(serialNumber,'PN-')", False),
        ("endswith(serialNumber,'42')", True),
        ("endswith(serialNumber,'SN')", False),
        ("tolower(serialNumber) eq 'sn-0042'", True),
        ("toupper(result) eq 'FAILED'", True),
        ("length(serialNumber) eq 7", True),
        ("length(serialNumber) gt 7", False),
        ("trim(stationName) eq 'Station 1'", True),
        ("stationName eq 'Station 1'", False),
        ("indexof(serialNumber,'00') eq 3", True),
        ("indexof(serialNumber,'x') eq -1", True),
        ("substring(serialNumber,3) eq '0042'", True),
        ("substring(serialNumber,3,2) eq '00'", True),
        ("substring(serialNumber,0,100) eq 'SN-0042'", True),
        ("concat(partNumber,revision) eq 'PN-1A'", True),
        ("concat(concat(partNumber,'/'),revision) eq 'PN-1/A'", True),
        ("contains(tolower(result),'fail')", True),
        ("startswith(serialNumber,'')", True),
        # Functions on null propagate null, which matches nothing.
        ("contains(comment,'x')", False),
        ("not contains(comment,'x')", True),
        ("length(comment) eq null", True),
        ("tolower(comment) eq 'x'", False),
        ("substring(serialNumber,'x') eq 'SN'", False),
    ],
)
def test_string_functions(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_strings_case_insensitive_by_default_like_sql_server() -> None:
    assert _odata.CASE_INSENSITIVE_STRINGS is True
    assert matches("serialNumber eq 'sn-0042'")
    assert matches("contains(serialNumber,'sn')")
    assert matches("startswith(serialNumber,'sn-')")
    assert matches("endswith(result,'ILED')")
    assert matches("indexof(serialNumber,'n') eq 1")
    assert matches("result in ('failed')")
    assert matches("serialNumber gt 'sn-0041'")


def test_strings_case_sensitive_when_flag_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_odata, "CASE_INSENSITIVE_STRINGS", False)
    assert not matches("serialNumber eq 'sn-0042'")
    assert matches("serialNumber eq 'SN-0042'")
    assert not matches("contains(serialNumber,'sn')")
    assert not matches("startswith(serialNumber,'sn-')")
    assert not matches("endswith(result,'ILED')")
    assert matches("indexof(serialNumber,'n') eq -1")
    # GUIDs are not text: always compared case-insensitively.
    assert matches(f"uuid eq {ID.upper()}")


# --- GUIDs, nulls, types -----------------------------------------------------------------


@pytest.mark.parametrize("value", [ID, ID.upper(), uuid.UUID(ID)])
def test_guid_literals_match_strings_and_uuids(value: object) -> None:
    row = {**ROW, "uuid": value}
    assert matches(f"uuid eq {ID}", row)
    assert matches(f"uuid eq {ID.upper()}", row)
    assert matches(f"uuid eq '{ID}'", row)
    assert matches(f"uuid in ({ID}, 00000000-0000-0000-0000-000000000000)", row)
    assert not matches("uuid eq 00000000-0000-0000-0000-000000000000", row)
    assert matches("uuid ne 00000000-0000-0000-0000-000000000000", row)
    assert not matches(f"uuid eq {ID} and uuid eq 5", row)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("comment eq null", True),
        ("null eq comment", True),
        ("comment ne null", False),
        ("missing eq null", True),
        ("missing ne null", False),
        ("serialNumber eq null", False),
        ("serialNumber ne null", True),
        ("null eq null", True),
        ("comment gt 'a'", False),
        ("comment lt 'a'", False),
        ("comment le null", False),
        ("missing ge 0", False),
        ("not (missing ge 0)", True),
        ("referencedUut eq null", True),
        ("missing/deeper eq null", True),
        ("serialNumber/deeper eq null", True),
        # Mismatched types never compare equal (the real server rejects them up front).
        ("serialNumber eq 5", False),
        ("serialNumber ne 5", True),
        ("serialNumber gt 5", False),
        ("measuresDeleted eq 0", False),
        ("processCode eq '10'", False),
        ("start eq 'not a date'", False),
        ("start eq 5", False),
    ],
)
def test_null_and_type_handling(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_datetimes_in_rows_may_be_naive_or_iso_text() -> None:
    literal = "start eq 2026-03-01T12:00:00Z"
    assert matches(literal, {"start": datetime(2026, 3, 1, 12)})
    assert matches(literal, {"start": "2026-03-01T12:00:00Z"})
    assert matches(literal, {"start": "2026-03-01T14:00:00+02:00"})
    assert matches(
        literal, {"start": datetime(2026, 3, 1, 14, tzinfo=timezone(timedelta(hours=2)))}
    )


# --- lambdas -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subUnits/any(s: s/partNumber eq 'PCB-7')", True),
        ("subUnits/any(s: s/partNumber eq 'PCB-8')", False),
        ("subUnits/any(s: s/partNumber eq 'PCB-7' and s/revision eq 'B')", True),
        ("subUnits/any(s: s/partNumber eq 'PCB-7' and s/revision eq 'A')", False),
        ("subUnits/any(x:startswith(x/serialNumber,'PSU'))", True),
        ("subUnits/all(s: s/revision in ('A','B'))", True),
        ("subUnits/all(s: s/revision eq 'A')", False),
        ("subUnits/any()", True),
        ("assets/any()", False),
        ("assets/all(a: a/totalCount gt 5)", True),
        ("missing/any()", False),
        ("missing/any(m: m/x eq 1)", False),
        ("comment/any()", False),
        ("miscInfo/any(m: m/description eq 'Fixture' and m/value eq 'F1')", True),
        ("miscInfo/any(m: m/description eq 'Fixture' and m/value eq 'F2')", False),
        ("not subUnits/any(s: s/partNumber eq 'X')", True),
        ("tags/any(t: t eq 'hot')", True),
        ("tags/any(t: t eq 'cold')", False),
        # Properties without the variable refer to the outer row.
        ("subUnits/any(s: s/revision eq revision)", True),
        ("subUnits/any(s: s/missing eq null)", True),
        ("subUnits/any(s: subUnits/all(t: t/revision ne s/partNumber))", True),
        ("subUnits/any(s: s/partNumber eq 'PCB-7') and result eq 'Failed'", True),
        ("uurSubUnits/any(s: s/serialNumber eq 'Y')", False),
    ],
)
def test_lambdas(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_lambda_tree() -> None:
    assert parse_filter("subUnits/any(s: s/partNumber eq 'X')") == Lambda(
        "any",
        Property(("subUnits",)),
        "s",
        Compare("eq", Property(("s", "partNumber")), Literal("X")),
    )
    assert parse_filter("subUnits/any()") == Lambda("any", Property(("subUnits",)), None, None)
    assert parse_filter("contains(a,'b')") == Call("contains", (Property(("a",)), Literal("b")))
    assert parse_filter("a in (1)") == In(Property(("a",)), (Literal(1),))


def test_compile_filter_does_not_check_element_properties() -> None:
    pred = compile_filter("subUnits/any(s: s/anything eq null)", HEADER)
    assert pred(ROW)
    with pytest.raises(ODataError, match="unknown property 'subUnitz' at position 0"):
        compile_filter("subUnitz/any(s: s/partNumber eq 'X')", HEADER)
    with pytest.raises(ODataError, match="unknown property 'nope' at position 16"):
        compile_filter("subUnits/any(s: nope eq 1)", HEADER)


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("serialNumber eq 'SN-1", "unterminated string literal at position 16"),
        ("serialNumber eq 'it''s", "unterminated string literal at position 16"),
        ("frobnicate(serialNumber)", "unknown function 'frobnicate' at position 0"),
        ("year(start) eq 2026", "function 'year' at position 0 is not supported"),
        ("a eq 1 and now() gt start", "function 'now' at position 11 is not supported"),
        ("processCode add 1 eq 2", "operator 'add' at position 12 is not supported"),
        ("(processCode mod 2) eq 0", "operator 'mod' at position 13 is not supported"),
        ("flags has 1", "operator 'has' at position 6 is not supported"),
        ("a eq 1 b", "expected 'and', 'or' or end of input at position 7, found 'b'"),
        ("a eq 1)", "expected 'and', 'or' or end of input at position 6, found ')'"),
        ("a eq 'x' 'y'", "at position 9, found \"'y'\""),
        ("(a eq 1", "expected ')' at position 7, found end of input"),
        ("a eq", "expected an expression at position 4, found end of input"),
        ("a eq and b eq 1", "expected an expression at position 5, found 'and'"),
        ("", "empty filter expression"),
        ("   ", "empty filter expression"),
        ("a eq #", "unexpected character '#' at position 5"),
        ('a eq "x"', "unexpected character '\"' at position 5"),
        ("start ge 2026-01-01T00:00:00", "date-time literal at position 9 needs a Z"),
        ("start ge 2026-13-01T00:00:00Z", "invalid literal '2026-13-01T00:00:00Z' at position 9"),
        ("start ge 2026-02-30", "invalid literal '2026-02-30' at position 9"),
        ("uuid eq guid'nope'", "invalid literal \"guid'nope'\" at position 8"),
        ("a in ()", "expected a literal in the 'in' list at position 6, found ')'"),
        ("a in (b)", "expected a literal in the 'in' list at position 6, found 'b'"),
        ("a in 'x'", "expected '(' at position 5"),
        ("substring(a)", "function 'substring' at position 0 takes 2 or 3 arguments, got 1"),
        ("contains(a,'b','c')", "function 'contains' at position 0 takes 2 arguments, got 3"),
        ("subUnits/any(s s/a eq 1)", "expected ':' at position 15, found 's'"),
        ("subUnits/all()", "expected a lambda variable in all() at position 13"),
        ("subUnits/1 eq 1", "expected a property name after '/' at position 9, found '1'"),
        ("a eq 1 and", "expected an expression at position 10, found end of input"),
    ],
)
def test_filter_errors(text: str, message: str) -> None:
    with pytest.raises(ODataError, match=re.escape(message)):
        parse_filter(text)


def test_odata_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown property 'serialNumbr' at position 0"):
        compile_filter("serialNumbr eq 'x'", HEADER)
    with pytest.raises(ODataError, match="unknown property 'partNumbr' at position 24"):
        compile_filter("serialNumber eq 'x' and partNumbr eq 'y'", HEADER)


# --- query options -----------------------------------------------------------------------


def test_query_defaults() -> None:
    q = query(reportType="R")  # non-$ parameters are the endpoint's business
    assert q == Query(filter=None, top=10, skip=0, orderby=[("start", True)], expand=[])
    assert q.select is None


def test_query_option_names_are_case_insensitive() -> None:
    q = query(_Filter="SerialNumber eq 'x'", _TOP="5", _Skip="2", _OrderBy="serialNumber")
    assert q.filter == parse_filter("serialNumber eq 'x'")
    assert (q.top, q.skip, q.orderby) == (5, 2, [("serialNumber", False)])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"$count": "true"}, "query option '\\$count' is not supported"),
        ({"$format": "json"}, "query option '\\$format' is not supported"),
        ({"$filter": "a eq 1", "$FILTER": "a eq 2"}, "given more than once"),
        ({"$top": "10001"}, "\\$top must be an integer between 0 and 10000"),
        ({"$top": "-1"}, "\\$top must be an integer between 0 and 10000"),
        ({"$top": "ten"}, "\\$top must be an integer between 0 and 10000, got 'ten'"),
        ({"$top": "1.5"}, "\\$top must be an integer"),
        ({"$top": ""}, "\\$top must be an integer"),
        ({"$skip": "-1"}, "\\$skip must be an integer >= 0"),
        ({"$skip": "x"}, "\\$skip must be an integer >= 0"),
        ({"$orderby": "partNumber"}, "\\$orderby: unknown property 'partNumber'"),
        ({"$orderby": "start down"}, "expected 'name \\[asc|desc\\]', got 'start down'"),
        ({"$orderby": "start asc desc"}, "expected 'name \\[asc|desc\\]'"),
        ({"$orderby": "start,"}, "\\$orderby: empty item"),
        ({"$select": "serialNumber,nope"}, "\\$select: unknown property 'nope'"),
        ({"$expand": "subUnits($select=partNumber)"}, "nested options"),
        ({"$expand": "steps"}, "\\$expand: unknown property 'steps'"),
        ({"$filter": "serialNumbr eq 'x'"}, "unknown property 'serialNumbr' at position 0"),
        ({"$filter": "serialNumber eq"}, "expected an expression at position 15"),
    ],
)
def test_query_errors(params: dict[str, str], message: str) -> None:
    with pytest.raises(ODataError, match=message):
        parse_query(
            params,
            properties=HEADER,
            orderable=ORDERABLE,
            expandable=EXPANDABLE,
            default_top=10,
            max_top=10000,
            default_orderby=[("start", True)],
        )


def test_query_values() -> None:
    assert query(_top="10000").top == 10000
    assert query(_top="0").top == 0
    assert query(_skip="20").skip == 20
    assert query(_orderby="start desc,serialNumber").orderby == [
        ("start", True),
        ("serialNumber", False),
    ]
    assert query(_orderby="TimeStamp DESC, uuid asc").orderby == [
        ("timeStamp", True),
        ("uuid", False),
    ]
    assert query(_orderby="timestamp").orderby == [("timeStamp", False)]
    assert query(_select="SerialNumber, start").select == ["serialNumber", "start"]
    assert query(_select="*").select is None
    assert query(_expand="SUBUNITS,miscinfo").expand == ["subUnits", "miscInfo"]
    assert query(_expand="*").expand == EXPANDABLE
    assert query(_filter="").filter is None
    no_default = parse_query(
        {},
        properties=HEADER,
        orderable=ORDERABLE,
        expandable=[],
        default_top=None,
        max_top=5,
        default_orderby=[],
    )
    assert (no_default.top, no_default.orderby) == (None, [])


def _rows() -> list[dict[str, Any]]:
    return [
        {"serialNumber": "b", "start": START, "run": 1, "subUnits": []},
        {"serialNumber": "A", "start": START + timedelta(hours=1), "run": 2, "subUnits": []},
        {"serialNumber": None, "start": START, "run": 3, "subUnits": []},
        {"serialNumber": "c", "start": START - timedelta(hours=1), "run": None, "subUnits": []},
        {"serialNumber": "a", "start": START, "run": 5, "subUnits": [{"partNumber": "X"}]},
    ]


def _runs(result: list[dict[str, Any]]) -> list[Any]:
    return [row["run"] for row in result]


def test_apply_default_order_is_start_desc_and_stable() -> None:
    assert _runs(apply(query(), _rows())) == [2, 1, 3, 5, None]


def test_apply_multi_key_order_nulls_first_ascending() -> None:
    assert _runs(apply(query(_orderby="serialNumber"), _rows())) == [3, 2, 5, 1, None]
    assert _runs(apply(query(_orderby="serialNumber desc"), _rows())) == [None, 1, 2, 5, 3]
    assert _runs(apply(query(_orderby="start desc,serialNumber"), _rows())) == [2, 3, 5, 1, None]
    assert _runs(apply(query(_orderby="start, serialNumber desc"), _rows())) == [None, 1, 5, 3, 2]
    assert _runs(apply(query(_orderby="run desc"), _rows())) == [5, 3, 2, 1, None]


def test_apply_filter_skip_top() -> None:
    rows = _rows()
    assert _runs(apply(query(_filter="run ge 2", _orderby="run"), rows)) == [2, 3, 5]
    assert _runs(apply(query(_orderby="run", _skip="1", _top="2"), rows)) == [1, 2]
    assert _runs(apply(query(_orderby="run", _skip="10"), rows)) == []
    assert _runs(apply(query(_top="0"), rows)) == []
    assert len(apply(query(), [dict(ROW) for _ in range(25)])) == 10
    assert _runs(apply(query(_filter="subUnits/any()"), rows)) == [5]


def test_apply_select_projection_keeps_row_keys_and_expanded() -> None:
    rows = [{"SerialNumber": "x", "start": START, "run": 1, "subUnits": [], "miscInfo": []}]
    out = apply(query(_select="serialNumber,RUN", _expand="subUnits"), rows)
    assert out == [{"SerialNumber": "x", "run": 1, "subUnits": []}]


def test_apply_returns_copies() -> None:
    rows = _rows()
    out = apply(query(), rows)
    out[0]["run"] = 99
    assert 99 not in _runs(rows)


# --- round trip of everything pywats.odata.F builds -------------------------------------

_EXPRESSIONS: list[tuple[Expr, bool]] = [
    (F.serial_number == "SN-0042", True),
    (F.serial_number == "SN-0043", False),
    (F.serial_number != "SN-0043", True),
    (F.serial_number > "SN-0041", True),
    (F.serial_number >= "SN-0043", False),
    (F.serial_number < "SN-0043", True),
    (F.serial_number <= "SN-0041", False),
    (F.process_code == 10, True),
    (F.process_code > 9, True),
    (F.process_code <= 9, False),
    (F.execution_time == 12.5, True),
    (F.execution_time < 1e-05, False),
    (F.execution_time > -1e20, True),
    (F.measures_deleted == False, True),  # noqa: E712
    (F.measures_deleted != False, False),  # noqa: E712
    (F.comment == None, True),  # noqa: E711
    (F.comment != None, False),  # noqa: E711
    (F.start >= datetime(2026, 3, 1, 12, tzinfo=UTC), True),
    (F.start > datetime(2026, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=2))), True),
    (F.start < datetime(2026, 3, 1, 12, tzinfo=UTC), False),
    (F.start >= date(2026, 3, 1), True),
    (F.start < date(2026, 3, 2), True),
    (F.uuid == uuid.UUID(ID), True),
    (F.uuid != uuid.UUID(ID), False),
    (F.result.in_(["Passed", "Failed"]), True),
    (F.result.in_(("Passed",)), False),
    (F.process_code.in_([1, 2, 10]), True),
    (F.serial_number.contains("004"), True),
    (F.serial_number.startswith("SN-"), True),
    (F.serial_number.endswith("43"), False),
    (F.serial_number == "it's", False),
    (F.serial_number.contains("'"), False),
    (F.sub_units.any(lambda s: s.part_number == "PCB-7"), True),
    (F.sub_units.any(lambda s: s.part_number == "PCB-8"), False),
    (F.sub_units.any(lambda u: (u.part_number == "PCB-7") & (u.revision == "B"), var="u"), True),
    (F.sub_units.any(lambda s: s.serial_number.startswith("PSU")), True),
    (F.misc_info.any(lambda m: (m.description == "Fixture") & (m.value == "F1")), True),
    (F.uur_sub_units.any(lambda s: s.serial_number == "Y"), False),
    ((F.part_number == "PN-1") & (F.result != "Passed"), True),
    ((F.part_number == "PN-1") & (F.result == "Passed"), False),
    ((F.part_number == "X") | (F.result == "Failed"), True),
    (~(F.result == "Failed"), False),
    (~((F.result == "Passed") | (F.process_code == 11)), True),
    ((F.result == "Passed") | (F.process_code == 10) & (F.run == 99), False),
    (((F.result == "Passed") | (F.process_code == 10)) & (F.comment == None), True),  # noqa: E711
    (F("serialNumber") == "SN-0042", True),
    (F("SerialNumber").startswith("SN"), True),
    (~F.sub_units.any(lambda s: s.part_number == "PCB-7"), False),
]


@pytest.mark.parametrize(("expr", "expected"), _EXPRESSIONS, ids=lambda v: str(v)[:60])
def test_builder_expressions_round_trip(expr: Expr, expected: bool) -> None:
    assert matches(str(expr)) is expected
    assert compile_filter(str(expr), [*HEADER, "tags"])(ROW) is expected


# --- property test: builder expressions agree with a direct Python predicate -----------

Pred = Callable[[Mapping[str, Any]], bool]
_SEC = timedelta(seconds=1)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _cmp(name: str, op: str, value: Any) -> Pred:
    def pred(row: Mapping[str, Any]) -> bool:
        actual = row.get(name)
        if actual is None or value is None:
            return {"eq": actual is value, "ne": actual is not value}.get(op, False)
        a, b = _fold(actual), _fold(value)
        results = {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}
        return bool(results[op])

    return pred


_BUILD: dict[str, Callable[[Any, Any], Expr]] = {
    "eq": lambda f, v: f == v,
    "ne": lambda f, v: f != v,
    "gt": lambda f, v: f > v,
    "ge": lambda f, v: f >= v,
    "lt": lambda f, v: f < v,
    "le": lambda f, v: f <= v,
}
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6) | (
    st.sampled_from(["SN-1", "sn-1", "SN-10", "'", "''", "a b", "PCB"])
)
_DATES = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "serialNumber": _TEXT,
    "processCode": st.integers(-(10**12), 10**12),
    "executionTime": st.floats(allow_nan=False, allow_infinity=False),
    "start": _DATES,
}


@st.composite
def _comparison(draw: st.DrawFn) -> tuple[Expr, Pred]:
    name = draw(st.sampled_from(sorted(_FIELDS)))
    op = draw(st.sampled_from(sorted(_BUILD)))
    value = draw(_FIELDS[name] | st.none()) if op in ("eq", "ne") else draw(_FIELDS[name])
    if isinstance(value, datetime):
        value = value.replace(microsecond=0)  # literal() sends whole seconds
    return _BUILD[op](F(name), value), _cmp(name, op, value)


@st.composite
def _leaf(draw: st.DrawFn) -> tuple[Expr, Pred]:
    kind = draw(st.sampled_from(["cmp", "cmp", "str", "in", "bool", "any"]))
    if kind == "cmp":
        return draw(_comparison())
    if kind == "str":
        func = draw(st.sampled_from(["contains", "startswith", "endswith"]))
        text = draw(_TEXT)

        def string_pred(row: Mapping[str, Any]) -> bool:
            value: str | None = row.get("serialNumber")
            if value is None:
                return False
            s, t = value.casefold(), text.casefold()
            if func == "contains":
                return t in s
            return s.startswith(t) if func == "startswith" else s.endswith(t)

        return getattr(F.serial_number, func)(text), string_pred
    if kind == "in":
        values = draw(st.lists(st.sampled_from(["Passed", "failed", "Error", "X"]), min_size=1))
        folded = [v.casefold() for v in values]
        return F.result.in_(tuple(values)), lambda row: _fold(row.get("result")) in folded
    if kind == "bool":
        flag = draw(st.booleans())
        return F.measures_deleted == flag, lambda row: row.get("measuresDeleted") is flag
    part = draw(_TEXT)
    return (
        F.sub_units.any(lambda s: s.part_number == part),
        lambda row: any(
            _fold(u.get("partNumber")) == part.casefold() for u in row.get("subUnits", [])
        ),
    )


def _combine(
    children: st.SearchStrategy[tuple[Expr, Pred]],
) -> st.SearchStrategy[tuple[Expr, Pred]]:
    def both(pair: tuple[tuple[Expr, Pred], tuple[Expr, Pred]]) -> tuple[Expr, Pred]:
        (ea, pa), (eb, pb) = pair
        return ea & eb, lambda row: pa(row) and pb(row)

    def either(pair: tuple[tuple[Expr, Pred], tuple[Expr, Pred]]) -> tuple[Expr, Pred]:
        (ea, pa), (eb, pb) = pair
        return ea | eb, lambda row: pa(row) or pb(row)

    def negate(item: tuple[Expr, Pred]) -> tuple[Expr, Pred]:
        return ~item[0], lambda row: not item[1](row)

    pairs = st.tuples(children, children)
    return pairs.map(both) | pairs.map(either) | children.map(negate)


_FILTERS = st.recursive(_leaf(), _combine, max_leaves=6)
_ROWS = st.fixed_dictionaries(
    {name: strategy | st.none() for name, strategy in _FIELDS.items()},
    optional={
        "result": st.sampled_from(["Passed", "Failed", "Error", "Terminated"]) | st.none(),
        "measuresDeleted": st.booleans() | st.none(),
        "subUnits": st.lists(st.fixed_dictionaries({"partNumber": _TEXT | st.none()}), max_size=3),
    },
)


@settings(max_examples=300, deadline=None)
@given(filt=_FILTERS, rows=st.lists(_ROWS, min_size=1, max_size=4))
def test_builder_filters_agree_with_python(
    filt: tuple[Expr, Pred], rows: list[dict[str, Any]]
) -> None:
    expr, pred = filt
    node = parse_filter(str(expr))
    for row in rows:
        assert evaluate(node, row) is pred(row), (str(expr), row)


def test_parse_returns_nodes() -> None:
    assert isinstance(parse_filter("a eq 1"), Node)
    assert re.fullmatch(r"Compare\(.*\)", repr(parse_filter("a eq 1")))

"""Malformed and hostile requests get a 4xx from the emulator, never a 5xx (issue 10).

In process: FakeWATS is the httpx transport, so an unexpected exception in the emulator surfaces
here as that exception (over TCP it would be a 500). Each finding has its own test; the
hypothesis test at the end throws mutated reports and random bytes at the report routes and
reads back whatever was accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.formats import wsjf, wsxf
from pywats.testing import FakeWATS
from pywats.testing._odata import MAX_FILTER_DEPTH
from tests.testing.conftest import TOKEN, URL, make_uur, make_uut

WSJF_ROUTE = "/api/Report/WSJF"
WSXF_ROUTE = "/api/Report/WSXF"
HEADERS = {"Authorization": f"Basic {TOKEN}"}


@pytest.fixture
def client(fake_wats: FakeWATS) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake_wats, base_url=URL, headers=HEADERS) as http:
        yield http


def message(response: httpx.Response) -> str:
    text: str = response.json()["Message"]
    return text


def good_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(wsjf.dumps(make_uut()))
    return doc


def nested_steps(depth: int) -> bytes:
    """A test report whose root step nests ``depth`` levels of child steps."""
    return b'{"type":"T","root":' + b'{"steps":[' * depth + b"{}" + b"]}" * depth + b"}"


# --- recursion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        nested_steps(5_000),
        # an additional-data property tree: props inside props
        b'{"type":"T","additionalData":[{"props":'
        + b'[{"props":' * 5_000
        + b"[]"
        + b"}]" * 5_000
        + b"}]}",
        # an unknown member the decoder skips (skipping recurses as well)
        b'{"type":"T","zzz":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        # not even closed
        b"[" * 100_000,
    ],
    ids=["steps", "additional-data", "unknown-member", "unclosed"],
)
def test_deeply_nested_wsjf_is_a_400_naming_the_limit(client: httpx.Client, body: bytes) -> None:
    response = client.post(WSJF_ROUTE, content=body)

    assert response.status_code == 400
    assert "at most 256" in message(response)


def test_deeply_nested_wsxf_is_a_400_naming_the_limit(client: httpx.Client) -> None:
    body = (
        f'<Reports xmlns="{wsxf.NAMESPACE}"><Report type="UUT">'
        + "<Step>" * 5_000
        + "</Step>" * 5_000
        + "</Report></Reports>"
    )

    response = client.post(WSXF_ROUTE, content=body)

    assert response.status_code == 400
    assert "the limit is 128" in message(response)


def test_a_report_nested_within_the_limit_is_stored_and_read_back(
    client: httpx.Client, fake_wats: FakeWATS
) -> None:
    doc = good_doc()
    step = doc["root"]
    for level in range(100):
        child = {"name": f"level {level}", "stepType": "SequenceCall", "status": "P", "group": "M"}
        step["steps"] = [child]
        step = child

    response = client.post(WSJF_ROUTE, content=json.dumps(doc))
    assert response.status_code == 200, response.text
    report_id = response.json()["ID"]

    assert client.get(f"/api/Report/Wsjf/{report_id}").status_code == 200
    assert client.get(f"/api/Report/Wsxf/{report_id}").status_code == 200
    stored = fake_wats.get_report(report_id)
    assert stored is not None
    assert len(stored.steps()) == 101


def test_the_request_log_survives_a_deeply_nested_body(
    client: httpx.Client, fake_wats: FakeWATS
) -> None:
    # The log sniffs the report id of every submit; that decode must not recurse either.
    client.post(WSJF_ROUTE, content=nested_steps(5_000))

    assert [(e.path, e.status, e.report_id) for e in fake_wats.log] == [(WSJF_ROUTE, 400, None)]


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/api/SystemManager/Client"), ("POST", "/api/SystemManager/Level")],
)
def test_deeply_nested_json_to_the_metadata_routes_is_a_400(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path, content=b'{"a":' * 5_000 + b"1" + b"}" * 5_000)

    assert response.status_code == 400
    assert "at most 256" in message(response)


def test_deeply_nested_admin_fault_is_a_400() -> None:
    fake = FakeWATS(TOKEN, admin=True)
    with httpx.Client(transport=fake, base_url=URL, headers=HEADERS) as http:
        response = http.post("/_emulator/faults", content=b'{"kind":"drop","x":' + b"[" * 5_000)

    assert response.status_code == 400
    assert message(response).startswith("Invalid fault: ")


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 5_000 + "serialNumber eq 'x'" + ")" * 5_000,
        "not " * 5_000 + "serialNumber eq 'x'",
        "tolower(" * 5_000 + "sn" + ")" * 5_000 + " eq 'x'",
        "subUnits/any(s: " * 1_000 + "s/sn eq 'x'" + ")" * 1_000,
    ],
    ids=["parentheses", "not", "calls", "lambdas"],
)
def test_deeply_nested_filter_is_a_400_naming_the_limit(
    client: httpx.Client, expression: str
) -> None:
    response = client.get("/api/Report/Query/Header", params={"$filter": expression})

    assert response.status_code == 400
    assert f"at most {MAX_FILTER_DEPTH}" in message(response)


def test_a_long_and_chain_is_a_400_not_a_recursion_in_the_evaluator(
    client: httpx.Client,
) -> None:
    # Parsed in a loop, but it builds a tree as deep as it is long, which is evaluated
    # recursively for every stored report.
    assert client.post(WSJF_ROUTE, content=wsjf.dumps(make_uut())).status_code == 200
    expression = " and ".join(["run eq 1"] * 2_500)  # short terms: httpx caps a URL's length

    response = client.get("/api/Report/Query/Header", params={"$filter": expression})

    assert response.status_code == 400
    assert f"at most {MAX_FILTER_DEPTH}" in message(response)


def test_a_filter_within_the_limit_still_works(client: httpx.Client) -> None:
    assert client.post(WSJF_ROUTE, content=wsjf.dumps(make_uut())).status_code == 200
    expression = "(" * 20 + "serialNumber eq 'SN-1'" + ")" * 20 + " and partNumber eq 'PN-1'" * 20

    response = client.get("/api/Report/Query/Header", params={"$filter": expression})

    assert response.status_code == 200
    assert len(response.json()) == 1


# --- numbers, sizes, characters -------------------------------------------------------------


@pytest.mark.parametrize("option", ["$top", "$skip"])
def test_a_count_of_thousands_of_digits_is_a_400(client: httpx.Client, option: str) -> None:
    response = client.get("/api/Report/Query/Header", params={option: "9" * 5_000})

    assert response.status_code == 400
    assert option in message(response)


def test_a_body_over_the_limit_is_a_413_naming_it() -> None:
    fake = FakeWATS(TOKEN, max_body=1_000)
    with httpx.Client(transport=fake, base_url=URL, headers=HEADERS) as http:
        response = http.post(WSJF_ROUTE, content=b" " * 1_001)
        small = http.post(WSJF_ROUTE, content=b" " * 1_000)

    assert response.status_code == 413
    assert "1,001 bytes" in message(response)
    assert "the limit is 1,000 bytes" in message(response)
    assert small.status_code == 400  # within the limit: read (and found truncated)
    assert [e.status for e in fake.log] == [413, 400]


def test_the_default_body_limit_is_iis_default() -> None:
    assert FakeWATS(TOKEN).max_body == 30_000_000


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (("processCode",), 2**31),
        (("root", "id"), 2**63),
        (("root", "steps", 0, "id"), -(2**31) - 1),
        (("uut", "testSocketIndex"), 2**40),
        (("root", "steps", 0, "numericMeas", 0, "value"), "1e400"),
    ],
    ids=["processCode", "step-id", "child-step-id", "socket", "float"],
)
def test_numbers_out_of_range_are_a_400_naming_the_member(
    client: httpx.Client, member: tuple[str | int, ...], value: int | str
) -> None:
    doc = good_doc()
    parent: Any = doc
    for key in member[:-1]:
        parent = parent[key]
    parent[member[-1]] = value
    body = json.dumps(doc).replace('"1e400"', "1e400").encode()  # beyond a double

    response = client.post(WSJF_ROUTE, content=body)

    assert response.status_code == 400
    assert str(member[-1]) in message(response)


@pytest.mark.parametrize(
    ("member", "wire"),
    [
        (("origin",), "origin"),
        (("processName",), "processName"),
        (("uut", "comment"), "comment"),
    ],
)
def test_characters_xml_cannot_carry_are_a_400_in_every_member(
    client: httpx.Client, member: tuple[str, ...], wire: str
) -> None:
    # The server keeps reports as XML; the emulator accepted these and then failed (500) to
    # export them as WSXF.
    doc = good_doc()
    parent: Any = doc
    for key in member[:-1]:
        parent = parent.setdefault(key, {})
    parent[member[-1]] = "bad \x01 text"

    response = client.post(WSJF_ROUTE, content=json.dumps(doc))

    assert response.status_code == 400
    assert wire in message(response)
    assert "U+0001" in message(response) or "XML" in message(response)


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"T","pn":"\xff\xfe"}',
        b'{"type":"T","processCode":NaN}',
        b'{"type":"T","processCode":Infinity}',
        b'{"type":"T","start":"2026-13-45T99:00:00"}',
        b'{"type":"T","root":[]}',
        b'{"type":"T","root":{"steps":{"a":1}}}',
        b'{"type":"T","uut":{"execTime":"fast"}}',
        b'{"type":"X"}',
        b"[1, 2]",
        b"",
        b"<Reports/>",
        b'{"type":"T","pn":"\\ud800"}',
    ],
    ids=[
        "invalid-utf8",
        "nan",
        "infinity",
        "bad-date",
        "root-array",
        "steps-object",
        "wrong-type",
        "unknown-type",
        "array",
        "empty",
        "xml-to-wsjf",
        "lone-surrogate",
    ],
)
def test_malformed_wsjf_is_a_400(client: httpx.Client, body: bytes) -> None:
    response = client.post(WSJF_ROUTE, content=body)

    assert response.status_code == 400
    assert message(response).startswith("invalid WSJF: ")


def test_duplicate_keys_are_read_last_one_wins(client: httpx.Client) -> None:
    body = json.dumps(good_doc())[:-1] + ', "sn": "SECOND"}'

    response = client.post(WSJF_ROUTE, content=body)

    assert response.status_code == 200
    assert client.get(f"/api/Report/Wsjf/{response.json()['ID']}").json()["sn"] == "SECOND"


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "status": 200},
        {"kind": "error", "status": 0},
        {"kind": "latency", "seconds": -1},
        {"kind": "latency", "seconds": 1e300},
        {"kind": "rate_limit", "retry_after": 1e300},
        {"kind": "drop", "count": -3},
        {"kind": "drop", "fraction": 2},
    ],
)
def test_admin_faults_out_of_range_are_a_400(fault: dict[str, object]) -> None:
    fake = FakeWATS(TOKEN, admin=True)
    with httpx.Client(transport=fake, base_url=URL, headers=HEADERS) as http:
        response = http.post("/_emulator/faults", json=fault)
        after = http.get("/api/App/Version")

    assert response.status_code == 400
    assert message(response).startswith("Invalid fault: ")
    assert after.status_code == 200  # nothing was added


# --- fuzz -----------------------------------------------------------------------------------

_BASES = [good_doc(), json.loads(wsjf.dumps(make_uur(None)))]
_KEYS = [
    "type", "id", "pn", "sn", "rev", "processCode", "result", "start", "startUTC", "origin",
    "processName", "root", "uut", "uur", "steps", "numericMeas", "stringMeas", "booleanMeas",
    "chart", "attachment", "loop", "seqCall", "subUnits", "miscInfos", "assets", "binaryData",
    "additionalData", "value", "lowLimit", "highLimit", "compOp", "status", "name", "stepType",
    "group", "data", "idx", "parentIdx", "failures", "refUUT", "series", "xdata", "ydata",
    "numeric", "execTime", "testSocketIndex", "props", "array", "indexes", "chartType",
]  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**31 - 1, -(2**31) - 1, 2**63, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["", "P", "F", "T", "R", "GELE", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00-14:00"]
    ),
    st.sampled_from(["\x01", "a\x00b", "\ufffe", "AAAA", "not base64!", "1;2;x", '[{"]']),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _slots(doc: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [trail]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _slots(value, (*trail, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _slots(value, (*trail, index))
    return out


@st.composite
def mutated_reports(draw: st.DrawFn) -> bytes:
    """A real report with one to four members replaced or added, of any JSON type."""
    doc = json.loads(json.dumps(draw(st.sampled_from(_BASES))))
    for _ in range(draw(st.integers(1, 4))):
        slot = draw(st.sampled_from(_slots(doc)))
        value = draw(_values)
        if not slot:
            continue
        parent = doc
        for key in slot[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[draw(st.sampled_from(_KEYS))] = value
        else:
            parent[slot[-1]] = value
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


_bodies = st.one_of(
    mutated_reports(),
    st.binary(max_size=200),
    st.builds(lambda n, s: s * n, st.integers(0, 3_000), st.sampled_from([b"[", b'{"a":', b"<a>"])),
)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=_bodies, route=st.sampled_from([WSJF_ROUTE, WSXF_ROUTE]))
def test_fuzzed_submits_and_their_read_back_never_get_a_5xx(body: bytes, route: str) -> None:
    fake = FakeWATS(TOKEN)
    with httpx.Client(transport=fake, base_url=URL, headers=HEADERS) as http:
        response = http.post(route, content=body)
        assert response.status_code in (200, 400), response.text
        if response.status_code != 200:
            return
        report_id = response.json()["ID"]
        for path in (
            f"/api/Report/Wsjf/{report_id}",
            f"/api/Report/Wsjf/{report_id}?detailLevel=0",
            f"/api/Report/Wsxf/{report_id}",
            "/api/Report/Query/Header?$expand=subUnits,miscInfo,assets,attachments",
            f"/api/Report/Query/HeaderByMiscInfo?serialNumber={report_id}",
            f"/api/Report/Attachments/{report_id}",
            f"/api/Report/Certificate/{report_id}",
            f"/api/Report/Attachment?reportId={report_id}&stepId=3",
        ):
            read = http.get(path)
            assert read.status_code < 500, (path, read.text)

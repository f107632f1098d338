"""Contract of the emulated WATS server (``FakeWATS``) against the server's OpenAPI description.

1. Every emulator route is an operation of the description (public routes in the public file,
   ``/api/internal/…`` ones in the internal file), same method, path compared case-insensitively
   with ``{param}`` names ignored.
2. Required parameters: omitting a ``required`` query parameter gives 400; a malformed report id
   in the path gives 400 or 404; malformed typed query values and malformed bodies never give a
   5xx (nor an exception in the emulator); a missing required body gives 400.
3. Answers match the described response schemas (200, ``application/json``), with the emulator
   seeded with the real WSJF exports.
4. Every operation the ``pywats`` library calls is implemented by the emulator.

The checker is :mod:`tests.testing.contract`; the description is found through
``PYWATS_OPENAPI_DIR`` or ``../shared/reference/openapi`` (tests skip when it is absent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from pywats import pyWATS
from pywats.testing import FakeWATS
from tests.fixtures import real_file
from tests.testing.contract import (
    INTERNAL,
    OPENAPI,
    PUBLIC,
    Answer,
    Description,
    Finding,
    Operation,
    call,
    check_value,
    description,
    find_description,
    is_untyped,
    library_calls,
    name_differences,
    path_parameters,
    structure,
)
from tests.testing.samples import ContractSeed, Probe, domain_contract_seed

# --- the emulator's routes and the descriptions (at collection time) --------------------------


def _routes() -> list[tuple[str, str]]:
    fake = FakeWATS()
    try:
        return [(route.method, route.template) for route in fake.router.routes]
    finally:
        fake.close()


ROUTES = _routes()
ROUTE_KEYS = [f"{method} {template}" for method, template in ROUTES]
_DOCS = {PUBLIC: find_description(PUBLIC), INTERNAL: find_description(INTERNAL)}
_MISSING = f"OpenAPI description not found in {OPENAPI} (set PYWATS_OPENAPI_DIR)"


def _is_internal(template: str) -> bool:
    return structure(template).startswith("/api/internal/")


def _doc_name(template: str) -> str:
    return INTERNAL if _is_internal(template) else PUBLIC


def _operation(method: str, template: str) -> tuple[Description, Operation]:
    """The described operation of an emulator route (skips without the description)."""
    doc = description(_doc_name(template))
    op = doc.find(method, template)
    if op is None:
        pytest.fail(
            f"{method} {template}: not in {doc.name} (see test_route_is_described)", pytrace=False
        )
    return doc, op


# --- allow-lists ------------------------------------------------------------------------------

# Required query parameters the emulator may leave out without a 400, each for a documented
# reason (e.g. a parameter the server itself defaults). Key: ("METHOD /template", parameter).
# Empty: every required query parameter of an implemented operation is enforced.
REQUIRED_PARAMETER_ALLOWED: dict[tuple[str, str], str] = {}

# Contract deviations found by these tests and not fixed yet (emulator bugs). Each is a strict
# xfail: it keeps the suite green while it reproduces and fails loudly once fixed (then delete it).
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {}


def _case_id(route_key: str, detail: str) -> str:
    return f"{route_key} [{detail}]"


def _required_cases() -> list[Any]:
    if _DOCS[PUBLIC] is None or _DOCS[INTERNAL] is None:
        return [pytest.param("", "", marks=pytest.mark.skip(reason=_MISSING), id="no-description")]
    cases: list[Any] = []
    for method, template in ROUTES:
        doc = _DOCS[_doc_name(template)]
        assert doc is not None
        op = doc.find(method, template)
        if op is None:
            continue  # test_route_is_described reports it
        for param in doc.parameters(op, "query"):
            if not param.get("required"):
                continue
            key = (f"{method} {template}", str(param["name"]))
            marks = []
            if key in KNOWN_DEVIATIONS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DEVIATIONS[key]))
            cases.append(pytest.param(*key, marks=marks, id=_case_id(*key)))
    return cases


# --- seeded emulator ------------------------------------------------------------------------

UUT_FILE = "uut-wsjf-export.json"
UUR_FILE = "uur_example.json"
WSXF_FILE = "uut-wsxf-export.xml"
CLIENT_NAME = "contract-station"
CLIENT_MAC = "00155D0A0B0C"
HIERARCHY = ("Contract", "Line 1")


@dataclass(frozen=True, slots=True)
class Seeded:
    """An emulator holding the real UUT and UUR exports, one station client and one level."""

    fake: FakeWATS
    uut: str
    uur: str
    uut_wsjf: bytes
    uur_wsjf: bytes
    wsxf: bytes
    client_id: int
    domains: ContractSeed  # what the domains' sample modules seeded (seed_contract)


@pytest.fixture
def seeded() -> Iterator[Seeded]:
    fake = FakeWATS()
    uut_wsjf = real_file("wsjf", UUT_FILE).read_bytes()
    uur_wsjf = real_file("wsjf", UUR_FILE).read_bytes()
    wsxf = real_file("wsjf", WSXF_FILE).read_bytes()
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        uut = str(api.report.submit_wsjf(uut_wsjf).id)
        uur = str(api.report.submit_wsjf(uur_wsjf).id)
        api.system.create_level(list(HIERARCHY))
        registered = call(
            fake,
            "POST",
            "/api/internal/Client/Register",
            [("mac", CLIENT_MAC), ("name", CLIENT_NAME), ("location", "Lab")],
        )
        assert registered.status == 200, f"seeding: {registered}"
        client_id = int(registered.json()["clientId"])
        domains = domain_contract_seed(fake)
        yield Seeded(fake, uut, uur, uut_wsjf, uur_wsjf, wsxf, client_id, domains)


def _path_values(s: Seeded) -> dict[str, str]:
    """Valid values of the emulator's path parameters, by name."""
    return {"id": s.uut, "identifier": CLIENT_MAC, **s.domains.path_values}


def _fill(template: str, values: Mapping[str, str]) -> str:
    path = template
    for name in path_parameters(template):
        path = path.replace(f"{{{name}}}", values[name])
    return path


def _valid_query_values(doc: Description, param: Mapping[str, Any], s: Seeded) -> list[str]:
    """Valid values of a query parameter (several for an exploded array)."""
    by_name = {
        "reportid": [s.uut],
        "hierarchy": list(HIERARCHY),
        "mac": [CLIENT_MAC],
        "name": [CLIENT_NAME],
        # OEE: the available hours of each weekday, Monday first.
        "availabletime": ["24,24,24,24,24,24,24"],
    }
    name = str(param["name"]).lower()
    if name in by_name:
        return by_name[name]
    schema = doc.parameter_schema(param)
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "array":
        return ["contract"]
    if fmt == "uuid":
        return [s.uut]
    return [{"integer": "1", "number": "1.5", "boolean": "true"}.get(str(kind), "contract")]


def _required_query(doc: Description, op: Operation, s: Seeded) -> list[tuple[str, str]]:
    return [
        (str(p["name"]), value)
        for p in doc.parameters(op, "query")
        if p.get("required")
        for value in _valid_query_values(doc, p, s)
    ]


def _valid_bodies(s: Seeded) -> dict[str, tuple[bytes, str]]:
    """A valid body (and its content type) for every route that takes one."""
    client = {"clientId": s.client_id, "location": "Lab 2"}
    return {
        "POST /api/Report/WSJF": (s.uut_wsjf, "application/json"),
        "POST /api/Report/WSXF": (s.wsxf, "application/xml"),
        "PUT /api/SystemManager/Client": (json.dumps(client).encode(), "application/json"),
        "POST /api/SystemManager/Level": (json.dumps(list(HIERARCHY)).encode(), "application/json"),
        "POST /api/internal/Client/Register": (b"", "application/json"),
        **s.domains.bodies,
    }


def _body_for(route_key: str, s: Seeded) -> tuple[bytes, str]:
    method = route_key.split(" ", 1)[0]
    if method in ("GET", "HEAD", "DELETE"):
        return b"", "application/json"
    bodies = _valid_bodies(s)
    assert route_key in bodies, f"{route_key}: add a valid body to _valid_bodies()"
    return bodies[route_key]


# --- 1. every route is described -----------------------------------------------------------


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=ROUTE_KEYS)
def test_route_is_described(method: str, template: str) -> None:
    doc = description(_doc_name(template))
    op = doc.find(method, template)
    if op is None:
        like = doc.same_structure(template)
        other = description(PUBLIC if _is_internal(template) else INTERNAL)
        hints = []
        if like:
            hints.append(
                "the description has this path only as "
                + ", ".join(f"{o.method} {o.path}" for o in like)
            )
            hints.extend(
                f"{o.path}: " + d for o in like for d in name_differences(template, o.path)
            )
        elif other.find(method, template) is not None and _is_internal(template):
            hints.append(f"it is described in {other.name} instead")
        elif other.find(method, template) is not None:
            hints.append(f"it is only in {other.name}: an internal route served as public")
        pytest.fail(f"{method} {template}: no such operation in {doc.name}; " + "; ".join(hints))
    differences = name_differences(template, op.path)
    if differences:
        # Same structure: not a failure, but worth knowing (``-rP`` shows it).
        print(f"{method} {template} ~ {op.path}: " + "; ".join(differences))


# --- 2. required parameters and malformed input --------------------------------------------


@pytest.mark.parametrize(("route_key", "parameter"), _required_cases())
def test_required_query_parameter_is_enforced(
    seeded: Seeded, route_key: str, parameter: str
) -> None:
    method, template = route_key.split(" ", 1)
    doc, op = _operation(method, template)
    path = _fill(template, _path_values(seeded))
    body, content_type = _body_for(route_key, seeded)
    query = _required_query(doc, op, seeded)
    baseline = call(seeded.fake, method, path, query, body, content_type=content_type)
    assert baseline.status not in (400, *range(500, 600)), (
        f"{op}: with every required parameter the emulator should accept the request "
        f"(else the check below proves nothing), got {baseline}"
    )
    without = [(k, v) for k, v in query if k.lower() != parameter.lower()]
    answer = call(seeded.fake, method, path, without, body, content_type=content_type)
    if (route_key, parameter) in REQUIRED_PARAMETER_ALLOWED:
        assert answer.status < 500, f"{op}: without {parameter!r}: {answer}"
        return
    assert answer.status == 400, (
        f"{op}: required query parameter {parameter!r} omitted: expected 400, got {answer}"
    )


_MALFORMED_IDS = (
    "not-a-guid",
    "0",
    "33a2d408-3fc8-480b-b554-6866c77fd91",  # one digit short
    "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "';--",
    "x" * 3000,
)


@pytest.mark.parametrize(
    ("method", "template", "parameter"),
    [
        pytest.param(m, t, p, id=_case_id(f"{m} {t}", p))
        for m, t in ROUTES
        for p in path_parameters(t)
    ],
)
def test_malformed_path_parameter(
    seeded: Seeded, method: str, template: str, parameter: str
) -> None:
    """A uuid path parameter that is not one: 400 or 404; any other: never a 5xx."""
    doc, op = _operation(method, template)
    described = {str(p["name"]).lower(): p for p in doc.parameters(op, "path")}
    position = path_parameters(template).index(parameter)
    described_name = path_parameters(op.path)[position].lower()
    assert described_name in described, (
        f"{op}: path parameter {{{described_name}}} is not described in its parameters"
    )
    schema = doc.parameter_schema(described[described_name])
    is_uuid = schema.get("format") == "uuid"
    values = dict(_path_values(seeded))
    body, content_type = _body_for(f"{method} {template}", seeded)
    query = _required_query(doc, op, seeded)
    failures = []
    for bad in _MALFORMED_IDS:
        values[parameter] = bad
        answer = call(
            seeded.fake, method, _fill(template, values), query, body, content_type=content_type
        )
        ok = answer.status in (400, 404) if is_uuid else answer.status < 500
        if not ok:
            failures.append(f"{{{parameter}}}={bad[:40]!r}: {answer}")
    expected = "400 or 404" if is_uuid else "no 5xx"
    assert not failures, f"{op}: malformed path parameter, expected {expected}:\n" + "\n".join(
        failures
    )


_MALFORMED_VALUES = {
    "integer": ("abc", "1.5", "99999999999999999999999"),
    "number": ("abc", "1,5"),
    "boolean": ("maybe", "2"),
    "uuid": ("not-a-guid",),
}


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=ROUTE_KEYS)
def test_malformed_query_values_never_crash(seeded: Seeded, method: str, template: str) -> None:
    """Typed query parameters with unparsable values: a 4xx (or ignored), never a 5xx."""
    doc, op = _operation(method, template)
    path = _fill(template, _path_values(seeded))
    body, content_type = _body_for(f"{method} {template}", seeded)
    valid = _required_query(doc, op, seeded)
    failures = []
    for param in doc.parameters(op, "query"):
        schema = doc.parameter_schema(param)
        kind = "uuid" if schema.get("format") == "uuid" else str(schema.get("type"))
        name = str(param["name"])
        for bad in _MALFORMED_VALUES.get(kind, ()):
            query = [(k, v) for k, v in valid if k.lower() != name.lower()] + [(name, bad)]
            answer = call(seeded.fake, method, path, query, body, content_type=content_type)
            if answer.status >= 500:
                failures.append(f"{name}={bad!r} ({kind}): {answer}")
    assert not failures, f"{op}: malformed query values:\n" + "\n".join(failures)


_BAD_BODIES = (b"", b"{", b"null", b"[]", b"{}", b'"text"', b"<x/>", b"[1, 2]", b"\xff\xfe")


@pytest.mark.parametrize(
    ("method", "template"),
    [pytest.param(m, t, id=f"{m} {t}") for m, t in ROUTES if m not in ("GET", "HEAD")],
)
def test_malformed_bodies(seeded: Seeded, method: str, template: str) -> None:
    """A missing required body: 400; any malformed body: never a 5xx."""
    doc, op = _operation(method, template)
    path = _fill(template, _path_values(seeded))
    query = _required_query(doc, op, seeded)
    body_spec = doc.request_body(op)
    failures = []
    if body_spec is not None and body_spec.get("required"):
        answer = call(seeded.fake, method, path, query, b"")
        if answer.status != 400:
            failures.append(f"required request body omitted: expected 400, got {answer}")
    for bad in _BAD_BODIES:
        answer = call(seeded.fake, method, path, query, bad)
        if answer.status >= 500:
            failures.append(f"body {bad!r}: {answer}")
    assert not failures, f"{op}:\n" + "\n".join(failures)


# --- 3. answers match the described schemas ---------------------------------------------------


_ALL_EXPANDS = "subUnits,miscInfo,assets,attachments,uurSubUnits,uurMiscInfo,uurAttachments"


def _probes(s: Seeded) -> dict[str, list[Probe]]:
    """Valid requests for every emulator route (a new route needs an entry here)."""
    uut, uur = s.uut, s.uur
    bodies = _valid_bodies(s)
    return {
        "POST /api/Report/WSJF": [
            Probe("/api/Report/WSJF", body=s.uut_wsjf),
            Probe("/api/Report/WSJF", body=s.uur_wsjf),
        ],
        "POST /api/Report/WSXF": [
            Probe("/api/Report/WSXF", body=s.wsxf, content_type="application/xml")
        ],
        "GET /api/Report/Wsjf/{id}": [
            Probe(f"/api/Report/Wsjf/{uut}"),
            Probe(f"/api/Report/Wsjf/{uur}"),
            Probe(f"/api/Report/Wsjf/{uut.upper()}", (("detailLevel", "0"),)),
            Probe(f"/api/Report/Wsjf/{uut}", (("detailLevel", "4"), ("includeChartdata", "false"))),
        ],
        "GET /api/Report/Wsxf/{id}": [Probe(f"/api/Report/Wsxf/{uut}")],
        "GET /api/Report/Query/Header": [
            Probe("/api/Report/Query/Header"),
            Probe("/api/Report/Query/Header", (("$expand", _ALL_EXPANDS),)),
            Probe(
                "/api/Report/Query/Header",
                (("$filter", "reportType eq 'R'"), ("$expand", _ALL_EXPANDS), ("$top", "1")),
            ),
            Probe("/api/Report/Query/Header", (("$select", "uuid,start,timeStamp"),)),
        ],
        "GET /api/Report/Query/HeaderByMiscInfo": [
            Probe("/api/Report/Query/HeaderByMiscInfo"),
            Probe(
                "/api/Report/Query/HeaderByMiscInfo",
                (("description", "MiscInfoString"), ("data", "Hello")),
            ),
        ],
        "GET /api/Report/Attachment": [
            Probe(
                "/api/Report/Attachment",
                (("reportId", uut), ("stepId", "1")),
                expect=404,
                why="the real exports carry no attachments",
            )
        ],
        "GET /api/Report/Attachments/{id}": [Probe(f"/api/Report/Attachments/{uut}")],
        "GET /api/Report/Certificate/{id}": [Probe(f"/api/Report/Certificate/{uut}")],
        "GET /api/App/Version": [Probe("/api/App/Version")],
        "GET /api/App/Processes": [
            Probe("/api/App/Processes"),
            Probe("/api/App/Processes", (("includeInactiveProcesses", "true"),)),
        ],
        "GET /api/App/Levels": [Probe("/api/App/Levels")],
        "GET /api/App/ProductGroups": [
            Probe("/api/App/ProductGroups"),
            Probe("/api/App/ProductGroups", (("includeFilters", "true"),)),
        ],
        "GET /api/SystemStatus": [Probe("/api/SystemStatus")],
        "GET /api/Auth/GetToken": [Probe("/api/Auth/GetToken")],
        "GET /api/Auth/GetToken/{identifier}": [Probe("/api/Auth/GetToken/station-1")],
        "GET /api/SystemManager/Client": [
            Probe("/api/SystemManager/Client", (("name", CLIENT_NAME),)),
            Probe("/api/SystemManager/Client", (("identifier", CLIENT_MAC),)),
        ],
        "PUT /api/SystemManager/Client": [
            Probe("/api/SystemManager/Client", body=bodies["PUT /api/SystemManager/Client"][0])
        ],
        "GET /api/SystemManager/Clients": [Probe("/api/SystemManager/Clients")],
        "GET /api/SystemManager/ClientLog/{identifier}": [
            Probe(f"/api/SystemManager/ClientLog/{CLIENT_MAC}")
        ],
        "GET /api/SystemManager/Level": [
            Probe("/api/SystemManager/Level", tuple(("hierarchy", h) for h in HIERARCHY))
        ],
        "POST /api/SystemManager/Level": [
            Probe("/api/SystemManager/Level", body=bodies["POST /api/SystemManager/Level"][0])
        ],
        "POST /api/internal/Client/Register": [
            Probe(
                "/api/internal/Client/Register",
                (("mac", "00155D0A0B0D"), ("name", "contract-2"), ("utcOffset", "1.5")),
            )
        ],
        "GET /api/internal/Client/Ping": [Probe("/api/internal/Client/Ping")],
        **s.domains.probes,
    }


# Operations whose described 200 answer is one item although the server answers with a list
# of them (their summaries say so): the answer is checked as an array of the described item.
DESCRIBED_AS_ONE_ANSWERED_AS_LIST: dict[str, str] = {
    "GET /api/Software/Packages": "summary: 'Returns a list with all Software Packages.'",
    "GET /api/Software/PackagesByTag": "answer: 'Returns the Packages using this tag'",
}


def _answer_findings(doc: Description, op: Operation, answer: Answer) -> list[Finding]:
    schema = doc.response_schema(op, "200", "application/json")
    if schema is None:
        described = op.spec.get("responses", {}).get("200")
        if described is not None and "content" not in doc.resolve(described):
            # A 200 described without content (Web API's Ok()): the answer has no body.
            if answer.body.strip():
                return [Finding("mismatch", "$", "described without a body, answered with one")]
            return []
        return [Finding("mismatch", "$", "the description has no 200 application/json answer")]
    if op.key in DESCRIBED_AS_ONE_ANSWERED_AS_LIST:
        schema = {"type": "array", "items": schema}
    if not answer.is_json:
        if is_untyped(schema):
            return []  # e.g. XML, zip or PDF where the description says only "object"
        return [
            Finding(
                "mismatch",
                "$",
                f"answer is {answer.content_type!r}, described as application/json {dict(schema)}",
            )
        ]
    try:
        value = answer.json()
    except ValueError as exc:
        return [Finding("mismatch", "$", f"answer says JSON but does not decode: {exc}")]
    return check_value(doc, schema, value)


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=ROUTE_KEYS)
def test_answer_matches_described_schema(seeded: Seeded, method: str, template: str) -> None:
    doc, op = _operation(method, template)
    route_key = f"{method} {template}"
    probes = _probes(seeded)
    assert route_key in probes, f"{route_key}: add valid requests for it to _probes()"
    problems: list[str] = []
    extras: list[str] = []
    for probe in probes[route_key]:
        answer = call(
            seeded.fake,
            method,
            probe.path,
            probe.query,
            probe.body,
            content_type=probe.content_type,
        )
        if answer.status != probe.expect:
            problems.append(f"expected {probe.expect}, got {answer}")
            continue
        if answer.status != 200:
            continue
        for finding in _answer_findings(doc, op, answer):
            line = f"{answer.method} {answer.path} {list(answer.query)}: {finding}"
            (problems if finding.kind == "mismatch" else extras).append(line)
    for line in extras:
        # Members the description does not list: the server may add members (not a failure).
        print(f"{op}: extra {line}")
    assert not problems, f"{op}: answers differ from the description:\n" + "\n".join(problems)


def test_submit_answer_is_an_insert_report_result(seeded: Seeded) -> None:
    """``POST /api/Report/WSJF`` answers with ``InsertReportResult`` naming the report."""
    doc, op = _operation("POST", "/api/Report/WSJF")
    ref = op.spec["responses"]["200"]["content"]["application/json"]["schema"].get("$ref", "")
    assert ref.endswith(".InsertReportResult"), f"{op}: described answer is {ref!r}"
    schema = doc.response_schema(op)
    assert schema is not None
    for data, report_id in ((seeded.uut_wsjf, seeded.uut), (seeded.uur_wsjf, seeded.uur)):
        answer = call(seeded.fake, "POST", "/api/Report/WSJF", body=data)
        assert answer.status == 200, f"{op}: {answer}"
        value = answer.json()
        findings = check_value(doc, schema, value)
        assert not findings, f"{op}: " + "; ".join(map(str, findings))
        assert isinstance(value, dict), f"{op}: {answer}"
        assert set(value) <= set(schema["properties"]), f"{op}: {answer}"
        assert str(value.get("ID")).lower() == report_id, f"{op}: ID: {answer}"


# --- the checker can fail ---------------------------------------------------------------------


def test_checker_reports_wrong_types() -> None:
    doc = description(PUBLIC)
    op = doc.find("GET", "/api/Report/Query/Header")
    assert op is not None
    schema = doc.response_schema(op)
    assert schema is not None
    row = {
        "uuid": "not-a-uuid",
        "start": "yesterday",
        "timeStamp": 1.5,
        "processCode": 2**31,
        "measuresDeleted": "no",
        "executionTime": 12,
        "revision": None,
        "subUnits": [{"partType": 3}],
        "Comment": "case",
        "brandNew": 1,
    }
    findings = check_value(doc, schema, [row, "x"])
    got = {(f.kind, f.where) for f in findings}
    assert got == {
        ("mismatch", "$[0].uuid"),
        ("mismatch", "$[0].start"),
        ("mismatch", "$[0].timeStamp"),
        ("mismatch", "$[0].processCode"),
        ("mismatch", "$[0].measuresDeleted"),
        ("mismatch", "$[0].subUnits[0].partType"),
        ("mismatch", "$[0].Comment"),
        ("extra", "$[0].brandNew"),
        ("mismatch", "$[1]"),
    }, "\n".join(map(str, findings))
    status = doc.find("GET", "/api/SystemStatus")
    assert status is not None
    status_schema = doc.response_schema(status)
    assert status_schema is not None
    assert [str(f) for f in check_value(doc, status_schema, {"Database": 1})] == [
        "$.Database: expected string, got integer 1"
    ]
    assert check_value(doc, status_schema, ["OK"])[0].where == "$"


def test_route_matching_is_structural() -> None:
    doc = description(PUBLIC)
    found = doc.find("get", "/API/report/WSJF/{reportId}")
    assert found is not None
    assert found.path == "/api/Report/Wsjf/{id}"
    assert name_differences("/api/Report/Wsjf/{reportId}", found.path) == [
        "{reportId} is {id} in the description"
    ]
    assert doc.find("DELETE", "/api/Report/Wsjf/{id}") is None
    assert doc.match("GET", "/api/auth/gettoken") is not None
    token = doc.match("GET", "/api/Auth/GetToken/abc")
    assert token is not None
    assert token.path == "/api/Auth/GetToken/{identifier}"


# --- 4. coverage: the library's operations are all emulated ----------------------------------


def test_library_operations_are_emulated() -> None:
    """Each operation of ``pywats`` has its emulator route (and is a described operation)."""
    docs = {PUBLIC: description(PUBLIC), INTERNAL: description(INTERNAL)}
    emulated: dict[str, str] = {}
    for method, template in ROUTES:
        op = docs[_doc_name(template)].find(method, template)
        if op is not None:
            emulated[op.key] = f"{method} {template}"
    undescribed: list[str] = []
    used: dict[str, list[str]] = {}
    for lib in library_calls():
        doc = docs[_doc_name(lib.path)]
        op = doc.match(lib.method, lib.path)
        if op is None:
            undescribed.append(f"{lib} (not in {doc.name})")
        else:
            used.setdefault(op.key, []).append(lib.operation)
    assert not undescribed, "library calls the description does not have:\n" + "\n".join(
        undescribed
    )
    missing = {key: ops for key, ops in used.items() if key not in emulated}
    assert not missing, "library operations without an emulator route:\n" + "\n".join(
        f"{key} (used by {', '.join(sorted(set(ops)))})" for key, ops in sorted(missing.items())
    )
    public_total = len(docs[PUBLIC].operations)
    public_emulated = [key for key in emulated if not _is_internal(key.split(" ", 1)[1])]
    print(
        f"public operations: {public_total}; emulated: {len(public_emulated)} "
        f"(+{len(emulated) - len(public_emulated)} internal); used by pywats: {len(used)}"
    )
    for key in sorted(emulated):
        print(f"  emulated: {key}" + ("" if key in used else "  (not used by pywats)"))


def test_library_calls_use_described_parameters() -> None:
    """The library sends only described query parameters, and always the required ones."""
    docs = {PUBLIC: description(PUBLIC), INTERNAL: description(INTERNAL)}
    problems: list[str] = []
    for lib in library_calls():
        doc = docs[_doc_name(lib.path)]
        op = doc.match(lib.method, lib.path)
        if op is None:
            continue  # test_library_operations_are_emulated reports it
        described = {str(p["name"]).lower(): p for p in doc.parameters(op, "query")}
        # OData system query options ($filter, $top, ...) are not listed as parameters.
        unknown = [
            name
            for name in lib.parameters
            if not name.startswith("$") and name.lower() not in described
        ]
        if unknown:
            problems.append(f"{lib} -> {op}: parameters not in the description: {unknown}")
        sent = {name.lower() for name, _ in lib.query}
        unsent = [
            str(p["name"]) for key, p in described.items() if p.get("required") and key not in sent
        ]
        if unsent:
            problems.append(f"{lib} -> {op}: required parameters not sent: {unsent}")
    assert not problems, "\n".join(problems)

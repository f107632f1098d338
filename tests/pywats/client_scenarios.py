"""Scenarios shared by the blocking and the async client tests.

A :class:`Server` is a scripted WATS server for ``httpx.MockTransport``: it answers each request
with the next scripted answer (a response, or a transport exception to raise) and records the
requests. The tables below (:data:`OPERATIONS`, :data:`REJECTED`, :data:`RETRIES`, …) describe
what each API operation must send and return; ``test_client_sync`` and ``test_client_async`` run
every row against ``pyWATS`` and ``AsyncWATS`` respectively.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, SupportsIndex

import httpx
import msgspec

import pywats
from pywats._errors import InvalidArgumentError
from pywats.formats import wsjf
from pywats.models.app import Level, Process, ProductGroup
from pywats.models.report import NumericMeasurement, SequenceCall, Step, UUTInfo, UUTReport
from pywats.models.report_query import (
    HeaderMiscInfo,
    InsertReportResult,
    ReportHeader,
    UutResult,
    UutResultMisc,
)
from pywats.models.system import ClientLogEntry, StationClient
from pywats.odata import F

HOST = "wats.example.com"
BASE = f"https://{HOST}"
TOKEN = "dXNlcjpzZWNyZXQtdG9rZW4="

REPORT_ID = uuid.UUID("5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10")
STORED_ID = uuid.UUID("0b9d6c1a-1111-4e2f-8b3c-6a7d8e9f0a1b")
ATTACHMENT_ID = uuid.UUID("a1b2c3d4-e5f6-4789-9abc-def012345678")

#: Something a handler can answer with: a response, or a transport exception class to raise.
Answer = httpx.Response | type[httpx.TransportError]

#: Retries without waiting: the backoff of ``base_delay=0`` is always 0 seconds.
FAST_RETRY = pywats.RetryPolicy(max_attempts=3, base_delay=0.0)


# --- the scripted server --------------------------------------------------------------------


class Server:
    """Answers requests from a script, in order, and records them.

    A request beyond the script fails the test (an ``AssertionError`` escapes the client).
    """

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, httpx.Response):
            # A fresh copy: the scripted response objects are shared between test runs.
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        raise answer(f"simulated {answer.__name__}")

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        """The same server as an ``async`` handler."""
        return self(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle_async)


def ok(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer."""
    return httpx.Response(status, json=value, headers=headers)


def raw(content: bytes, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """An answer with this exact body."""
    return httpx.Response(status, content=content, headers=headers)


def status(code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    """An error answer with an ASP.NET-style JSON body."""
    return httpx.Response(code, json={"Message": f"status {code}"}, headers=headers)


class FakeClock:
    """A monotonic clock that only moves when the client sleeps (if ``advance``)."""

    def __init__(self, *, advance: bool = True) -> None:
        self.now = 0.0
        self.advance = advance
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float | SupportsIndex) -> None:
        self.sleeps.append(float(seconds))
        if self.advance:
            self.now += float(seconds)

    async def async_sleep(self, delay: float) -> None:
        self.sleep(delay)


# --- reports --------------------------------------------------------------------------------


def minimal_report(report_id: uuid.UUID = REPORT_ID) -> UUTReport:
    """The smallest UUT report that passes ``validate()``: one numeric step under the root."""
    return UUTReport(
        id=report_id,
        pn="PN-1",
        sn="SN-0001",
        rev="A",
        process_code=50,
        result="P",
        machine_name="station-1",
        location="Lab",
        purpose="Development",
        start=datetime(2026, 1, 30, 22, 1, 41, tzinfo=UTC),
        uut=UUTInfo(user="operator"),
        root=Step(
            id=0,
            name="MainSequence Callback",
            status="P",
            seq_call=SequenceCall(name="MainSequence Callback", version="1.0"),
            steps=[
                Step(
                    id=1,
                    name="Voltage",
                    status="P",
                    numeric_meas=[
                        NumericMeasurement(
                            status="P",
                            value=3.3,
                            unit="V",
                            comp_op="GELE",
                            low_limit=3.0,
                            high_limit=3.6,
                        )
                    ],
                )
            ],
        ),
    )


def invalid_report() -> UUTReport:
    """A report ``validate()`` rejects (no serial number, no station, …)."""
    return UUTReport(id=REPORT_ID, pn="PN-1", result="P")


RECEIPT = {"ID": str(REPORT_ID), "uuid": str(STORED_ID), "Report_ID": 5}
RECEIPT_STRUCT = InsertReportResult(id=REPORT_ID, uuid=STORED_ID, report_id=5)


# --- operations: what each one sends and returns --------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One request an operation must send."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    accept: str = "application/json"


@dataclass(frozen=True)
class OpCase:
    """Run ``invoke(api)`` against ``answers``; expect the ``requests`` and the ``result``."""

    id: str
    invoke: Callable[[Any], Any]
    answers: tuple[Answer, ...]
    requests: tuple[Expect, ...]
    result: Any


def check_request(expected: Expect, request: httpx.Request) -> None:
    """Assert that ``request`` is the one ``expected`` describes (query compared as a multiset)."""
    assert request.method == expected.method
    assert request.url.scheme == "https"
    assert request.url.host == HOST
    assert request.url.path == expected.path
    assert sorted(request.url.params.multi_items()) == sorted(expected.query)
    assert request.headers.get("Authorization") == f"Basic {TOKEN}"
    assert request.headers.get("Accept") == expected.accept
    assert request.headers.get("Content-Type") == expected.content_type
    assert request.content == (expected.body or b"")


def check_requests(case: OpCase, requests: list[httpx.Request]) -> None:
    assert len(requests) == len(case.requests)
    for expected, request in zip(case.requests, requests, strict=True):
        check_request(expected, request)


_HEADER_JSON = {
    "uuid": str(REPORT_ID),
    "serialNumber": "SN-0001",
    "partNumber": "PN-1",
    "revision": "A",
    "reportType": "T",
    "start": "2026-01-30T22:01:41Z",
    "result": "Passed",
    "processCode": 50,
    "miscInfo": [{"description": "Firmware", "value": "1.2"}],
}
_HEADER = ReportHeader(
    uuid=REPORT_ID,
    serial_number="SN-0001",
    part_number="PN-1",
    revision="A",
    report_type="T",
    start=datetime(2026, 1, 30, 22, 1, 41, tzinfo=UTC),
    result="Passed",
    process_code=50,
    misc_info=[HeaderMiscInfo(description="Firmware", value="1.2")],
)


def _header(n: int) -> dict[str, str]:
    return {"uuid": str(uuid.UUID(int=n)), "serialNumber": f"SN-{n}"}


def _headers(*numbers: int) -> list[ReportHeader]:
    return [ReportHeader(uuid=uuid.UUID(int=n), serial_number=f"SN-{n}") for n in numbers]


def _page(*numbers: int) -> httpx.Response:
    return ok([_header(n) for n in numbers])


def _paged(top: int, skip: int) -> Expect:
    return Expect(
        "GET",
        "/api/Report/Query/Header",
        (("$top", str(top)), ("$skip", str(skip)), ("$orderby", "start desc")),
    )


_PROCESSES_JSON = [
    {"code": 10, "name": "SW Debug", "isTestOperation": True, "state": 1},
    {"code": 50, "name": "PCBA test", "isTestOperation": True, "processIndex": 2, "state": 1},
    {"code": 500, "name": "Repair", "isRepairOperation": True, "state": 1},
    {"code": 900, "name": "Kitting", "isWipOperation": True, "state": 0},
]
_PCBA = Process(code=50, name="PCBA test", is_test_operation=True, process_index=2, state=1)
_SW_DEBUG = Process(code=10, name="SW Debug", is_test_operation=True, state=1)
_REPAIR = Process(code=500, name="Repair", is_repair_operation=True, state=1)
_ALL_PROCESS_FLAGS = (
    ("includeTestOperations", "true"),
    ("includeRepairOperations", "true"),
    ("includeWipOperations", "true"),
    ("includeInactiveProcesses", "true"),
)
_REPORT_QUERY = (("detailLevel", "7"), ("includeChartdata", "true"), ("includeAttachments", "true"))
_STATION = StationClient(client_id=7, name="ST-7", display_name="Station 7", client_group_id=3)
_STATION_JSON = {
    "clientId": 7,
    "name": "ST-7",
    "displayName": "Station 7",
    "clientGroupId": 3,
    "type": 5,
}

OPERATIONS: list[OpCase] = [
    # report ------------------------------------------------------------------------------
    OpCase(
        "report.submit_report-unvalidated",
        lambda api: api.report.submit_report(invalid_report(), validate=False),
        (ok(RECEIPT),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=wsjf.dumps(invalid_report()),
                content_type="application/json",
            ),
        ),
        STORED_ID,
    ),
    OpCase(
        "report.submit_report-valid-list-receipt",
        lambda api: api.report.submit_report(minimal_report()),
        (ok([RECEIPT]),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=wsjf.dumps(minimal_report()),
                content_type="application/json",
            ),
        ),
        STORED_ID,
    ),
    OpCase(
        "report.submit_report-receipt-with-ID-only",
        lambda api: api.report.submit_report(minimal_report()),
        (ok({"ID": str(REPORT_ID)}),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=wsjf.dumps(minimal_report()),
                content_type="application/json",
            ),
        ),
        REPORT_ID,
    ),
    OpCase(
        "report.submit_report-empty-list-receipt",
        lambda api: api.report.submit_report(minimal_report()),
        (ok([]),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=wsjf.dumps(minimal_report()),
                content_type="application/json",
            ),
        ),
        REPORT_ID,
    ),
    OpCase(
        "report.submit_wsjf",
        lambda api: api.report.submit_wsjf('{"type":"T","pn":"PN-1"}'),
        (ok(RECEIPT),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=b'{"type":"T","pn":"PN-1"}',
                content_type="application/json",
            ),
        ),
        RECEIPT_STRUCT,
    ),
    OpCase(
        "report.submit_wsjf-list-receipt",
        lambda api: api.report.submit_wsjf(b'{"type":"R"}'),
        (ok([RECEIPT]),),
        (
            Expect(
                "POST",
                "/api/Report/WSJF",
                body=b'{"type":"R"}',
                content_type="application/json",
            ),
        ),
        RECEIPT_STRUCT,
    ),
    OpCase(
        "report.submit_report_xml",
        lambda api: api.report.submit_report_xml("<Reports>é</Reports>"),
        (ok(RECEIPT),),
        (
            Expect(
                "POST",
                "/api/Report/WSXF",
                body="<Reports>é</Reports>".encode(),
                content_type="application/xml",
            ),
        ),
        STORED_ID,
    ),
    OpCase(
        "report.get_report",
        lambda api: api.report.get_report(REPORT_ID),
        (raw(wsjf.dumps(minimal_report()), headers={"Content-Type": "application/json"}),),
        (Expect("GET", f"/api/Report/Wsjf/{REPORT_ID}", _REPORT_QUERY),),
        minimal_report(),
    ),
    OpCase(
        "report.get_report-options",
        lambda api: api.report.get_report(
            str(REPORT_ID), detail_level=0, include_chartdata=False, include_attachments=False
        ),
        (raw(wsjf.dumps(minimal_report())),),
        (
            Expect(
                "GET",
                f"/api/Report/Wsjf/{REPORT_ID}",
                (
                    ("detailLevel", "0"),
                    ("includeChartdata", "false"),
                    ("includeAttachments", "false"),
                ),
            ),
        ),
        minimal_report(),
    ),
    OpCase(
        "report.get_report_xml",
        lambda api: api.report.get_report_xml(REPORT_ID, include_indexes=False),
        (raw(b"<Reports/>", headers={"Content-Type": "application/xml"}),),
        (
            Expect(
                "GET",
                f"/api/Report/Wsxf/{REPORT_ID}",
                (*_REPORT_QUERY, ("includeIndexes", "false")),
                accept="application/xml",
            ),
        ),
        b"<Reports/>",
    ),
    OpCase(
        "report.query_headers-odata",
        lambda api: api.report.query_headers(
            (F.part_number == "PN-1") & (F.start >= datetime(2026, 1, 1, tzinfo=UTC)),
            top=5,
            skip=10,
            orderby="serialNumber desc",
            expand=["miscInfo", "SUBUNITS"],
            select=["uuid", "serialNumber"],
        ),
        (ok([_HEADER_JSON]),),
        (
            Expect(
                "GET",
                "/api/Report/Query/Header",
                (
                    ("$filter", "partNumber eq 'PN-1' and start ge 2026-01-01T00:00:00Z"),
                    ("$top", "5"),
                    ("$skip", "10"),
                    ("$orderby", "serialNumber desc"),
                    ("$expand", "miscInfo,SUBUNITS"),
                    ("$select", "uuid,serialNumber"),
                ),
            ),
        ),
        [_HEADER],
    ),
    OpCase(
        "report.query_headers-string-filter-no-options",
        lambda api: api.report.query_headers("serialNumber eq 'SN-0001'"),
        (raw(b""),),
        (
            Expect(
                "GET",
                "/api/Report/Query/Header",
                (("$filter", "serialNumber eq 'SN-0001'"),),
            ),
        ),
        [],
    ),
    OpCase(
        "report.query_all_headers-3-pages",
        lambda api: api.report.query_all_headers(page_size=2),
        (_page(1, 2), _page(3, 4), _page(5)),
        (_paged(2, 0), _paged(2, 2), _paged(2, 4)),
        _headers(1, 2, 3, 4, 5),
    ),
    OpCase(
        "report.query_all_headers-full-last-page-then-empty",
        lambda api: api.report.query_all_headers(page_size=2),
        (_page(1, 2), _page(3, 4), ok([])),
        (_paged(2, 0), _paged(2, 2), _paged(2, 4)),
        _headers(1, 2, 3, 4),
    ),
    OpCase(
        "report.query_all_headers-limit-cuts-last-page",
        lambda api: api.report.query_all_headers(page_size=2, limit=3),
        (_page(1, 2), _page(3)),
        (_paged(2, 0), _paged(1, 2)),
        _headers(1, 2, 3),
    ),
    OpCase(
        "report.query_all_headers-limit-on-page-boundary",
        lambda api: api.report.query_all_headers(page_size=2, limit=4),
        (_page(1, 2), _page(3, 4)),
        (_paged(2, 0), _paged(2, 2)),
        _headers(1, 2, 3, 4),
    ),
    OpCase(
        "report.query_all_headers-filter-and-expand",
        lambda api: api.report.query_all_headers(
            F.serial_number.startswith("SN-"), orderby="start", expand=["assets"]
        ),
        (_page(1),),
        (
            Expect(
                "GET",
                "/api/Report/Query/Header",
                (
                    ("$filter", "startswith(serialNumber,'SN-')"),
                    ("$top", "1000"),
                    ("$skip", "0"),
                    ("$orderby", "start"),
                    ("$expand", "assets"),
                ),
            ),
        ),
        _headers(1),
    ),
    OpCase(
        "report.query_headers_by_misc_info",
        lambda api: api.report.query_headers_by_misc_info(
            description="Firmware", data="1.2", serial_number="SN-0001", process_code=50
        ),
        (
            ok(
                [
                    {
                        "uuid": str(REPORT_ID),
                        "serialNumber": "SN-0001",
                        "processCode": 50,
                        "miscData": [{"description": "Firmware", "data": "1.2"}],
                    }
                ]
            ),
        ),
        (
            Expect(
                "GET",
                "/api/Report/Query/HeaderByMiscInfo",
                (
                    ("processCode", "50"),
                    ("serialNumber", "SN-0001"),
                    ("description", "Firmware"),
                    ("data", "1.2"),
                ),
            ),
        ),
        [
            UutResult(
                uuid=REPORT_ID,
                serial_number="SN-0001",
                process_code=50,
                misc_data=[UutResultMisc(description="Firmware", data="1.2")],
            )
        ],
    ),
    OpCase(
        "report.get_attachment-by-step",
        lambda api: api.report.get_attachment(REPORT_ID, step_id=3),
        (raw(b"\x00\x01binary"),),
        (
            Expect(
                "GET",
                "/api/Report/Attachment",
                (("reportId", str(REPORT_ID)), ("stepId", "3")),
                accept="*/*",
            ),
        ),
        b"\x00\x01binary",
    ),
    OpCase(
        "report.get_attachment-by-attachment-id",
        lambda api: api.report.get_attachment(REPORT_ID, attachment_id=ATTACHMENT_ID),
        (raw(b"image"),),
        (
            Expect(
                "GET",
                "/api/Report/Attachment",
                (("reportId", str(REPORT_ID)), ("attachmentId", str(ATTACHMENT_ID))),
                accept="*/*",
            ),
        ),
        b"image",
    ),
    OpCase(
        "report.get_attachments",
        lambda api: api.report.get_attachments(REPORT_ID),
        (raw(b"PK\x03\x04zip"),),
        (Expect("GET", f"/api/Report/Attachments/{REPORT_ID}", accept="application/zip"),),
        b"PK\x03\x04zip",
    ),
    OpCase(
        "report.get_certificate",
        lambda api: api.report.get_certificate(REPORT_ID),
        (raw(b"%PDF-1.7"),),
        (Expect("GET", f"/api/Report/Certificate/{REPORT_ID}", accept="*/*"),),
        b"%PDF-1.7",
    ),
    # app ---------------------------------------------------------------------------------
    OpCase(
        "app.get_version",
        lambda api: api.app.get_version(),
        (ok("2026.1.5.324"),),
        (Expect("GET", "/api/App/Version"),),
        "2026.1.5.324",
    ),
    OpCase(
        "app.get_processes",
        lambda api: api.app.get_processes(),
        (ok(_PROCESSES_JSON[:1]),),
        (Expect("GET", "/api/App/Processes"),),
        [_SW_DEBUG],
    ),
    OpCase(
        "app.get_processes-flags",
        lambda api: api.app.get_processes(
            include_test_operations=True, include_inactive_processes=False
        ),
        (ok([]),),
        (
            Expect(
                "GET",
                "/api/App/Processes",
                (("includeTestOperations", "true"), ("includeInactiveProcesses", "false")),
            ),
        ),
        [],
    ),
    OpCase(
        "app.get_levels",
        lambda api: api.app.get_levels(),
        (ok([{"levelId": 1, "levelName": "Site"}, {"levelId": 2}]),),
        (Expect("GET", "/api/App/Levels"),),
        [Level(level_id=1, level_name="Site"), Level(level_id=2)],
    ),
    OpCase(
        "app.get_product_groups",
        lambda api: api.app.get_product_groups(),
        (ok([{"productGroupId": 4, "productGroupName": "PCBA"}]),),
        (Expect("GET", "/api/App/ProductGroups"),),
        [ProductGroup(product_group_id=4, product_group_name="PCBA")],
    ),
    OpCase(
        "app.get_product_groups-with-filters",
        lambda api: api.app.get_product_groups(include_filters=True),
        (ok([{"productGroupId": 4, "filters": [{"partNumber": "PN-%"}]}]),),
        (Expect("GET", "/api/App/ProductGroups", (("includeFilters", "true"),)),),
        [ProductGroup(product_group_id=4, filters=[{"partNumber": "PN-%"}])],
    ),
    # process -----------------------------------------------------------------------------
    OpCase(
        "process.get_processes",
        lambda api: api.process.get_processes(include_inactive=True),
        (ok(_PROCESSES_JSON[2:3]),),
        (Expect("GET", "/api/App/Processes", _ALL_PROCESS_FLAGS),),
        [_REPAIR],
    ),
    OpCase(
        "process.get_test_operations",
        lambda api: api.process.get_test_operations(),
        (ok(_PROCESSES_JSON),),
        (Expect("GET", "/api/App/Processes", (("includeTestOperations", "true"),)),),
        [_SW_DEBUG, _PCBA],
    ),
    OpCase(
        "process.get_repair_operations",
        lambda api: api.process.get_repair_operations(),
        (ok(_PROCESSES_JSON),),
        (Expect("GET", "/api/App/Processes", (("includeRepairOperations", "true"),)),),
        [_REPAIR],
    ),
    OpCase(
        "process.get_process-by-code",
        lambda api: api.process.get_process(50),
        (ok(_PROCESSES_JSON),),
        (Expect("GET", "/api/App/Processes", _ALL_PROCESS_FLAGS),),
        _PCBA,
    ),
    OpCase(
        "process.get_process-by-name-casefold",
        lambda api: api.process.get_process("pcba TEST"),
        (ok(_PROCESSES_JSON),),
        (Expect("GET", "/api/App/Processes", _ALL_PROCESS_FLAGS),),
        _PCBA,
    ),
    OpCase(
        "process.get_process-absent",
        lambda api: api.process.get_process(999),
        (ok(_PROCESSES_JSON),),
        (Expect("GET", "/api/App/Processes", _ALL_PROCESS_FLAGS),),
        None,
    ),
    # auth --------------------------------------------------------------------------------
    OpCase(
        "auth.get_token-json-string",
        lambda api: api.auth.get_token(),
        (ok("bmV3OnRva2Vu"),),
        (Expect("GET", "/api/Auth/GetToken"),),
        "bmV3OnRva2Vu",
    ),
    OpCase(
        "auth.get_token-object-identifier-reset",
        lambda api: api.auth.get_token("station-7", reset=True),
        (ok({"token": "c3RhdGlvbi03"}),),
        (Expect("GET", "/api/Auth/GetToken/station-7", (("reset", "true"),)),),
        "c3RhdGlvbi03",
    ),
    OpCase(
        "auth.get_token-plain-text",
        lambda api: api.auth.get_token(),
        (raw(b"  cGxhaW4=\r\n"),),
        (Expect("GET", "/api/Auth/GetToken"),),
        "cGxhaW4=",
    ),
    # system ------------------------------------------------------------------------------
    OpCase(
        "system.get_system_status",
        lambda api: api.system.get_system_status(),
        (ok({"Database": "OK", "Version": "2026.1"}),),
        (Expect("GET", "/api/SystemStatus"),),
        {"Database": "OK", "Version": "2026.1"},
    ),
    OpCase(
        "system.get_client-by-name",
        lambda api: api.system.get_client(name="ST-7"),
        (ok(_STATION_JSON),),
        (Expect("GET", "/api/SystemManager/Client", (("name", "ST-7"),)),),
        msgspec.structs.replace(_STATION, type=5),
    ),
    OpCase(
        "system.get_client-by-identifier",
        lambda api: api.system.get_client(identifier="00-11-22-33-44-55"),
        (ok(_STATION_JSON),),
        (Expect("GET", "/api/SystemManager/Client", (("identifier", "00-11-22-33-44-55"),)),),
        msgspec.structs.replace(_STATION, type=5),
    ),
    OpCase(
        "system.get_clients",
        lambda api: api.system.get_clients(),
        (ok([_STATION_JSON, {"clientId": 8}]),),
        (Expect("GET", "/api/SystemManager/Clients"),),
        [msgspec.structs.replace(_STATION, type=5), StationClient(client_id=8)],
    ),
    OpCase(
        "system.update_client-answer-is-the-client",
        lambda api: api.system.update_client(_STATION, move_with_history=True),
        (ok(_STATION_JSON),),
        (
            Expect(
                "PUT",
                "/api/SystemManager/Client",
                (("moveWithHistory", "true"),),
                body=b'{"clientId":7,"name":"ST-7","displayName":"Station 7","clientGroupId":3}',
                content_type="application/json",
            ),
        ),
        msgspec.structs.replace(_STATION, type=5),
    ),
    OpCase(
        "system.update_client-answer-true",
        lambda api: api.system.update_client(StationClient(client_id=9, location="Hall B")),
        (ok(True),),
        (
            Expect(
                "PUT",
                "/api/SystemManager/Client",
                body=b'{"clientId":9,"location":"Hall B"}',
                content_type="application/json",
            ),
        ),
        StationClient(client_id=9, location="Hall B"),
    ),
    OpCase(
        "system.get_client_log",
        lambda api: api.system.get_client_log("00-11-22-33-44-55"),
        (ok([{"clientLogId": 1, "clientId": 7, "text": "registered"}]),),
        (Expect("GET", "/api/SystemManager/ClientLog/00-11-22-33-44-55"),),
        [ClientLogEntry(client_log_id=1, client_id=7, text="registered")],
    ),
    OpCase(
        "system.get_level-int-answer",
        lambda api: api.system.get_level(["Site", "Line 1"]),
        (ok(12),),
        (
            Expect(
                "GET",
                "/api/SystemManager/Level",
                (("hierarchy", "Site"), ("hierarchy", "Line 1")),
            ),
        ),
        12,
    ),
    OpCase(
        "system.get_level-object-answer",
        lambda api: api.system.get_level(["Site"]),
        (ok({"levelId": 13, "levelName": "Site"}),),
        (Expect("GET", "/api/SystemManager/Level", (("hierarchy", "Site"),)),),
        13,
    ),
    OpCase(
        "system.get_level-missing",
        lambda api: api.system.get_level(["Nowhere"]),
        (raw(b""),),
        (Expect("GET", "/api/SystemManager/Level", (("hierarchy", "Nowhere"),)),),
        None,
    ),
    OpCase(
        "system.create_level",
        lambda api: api.system.create_level(["Site", "Line 2"]),
        (ok({"LevelId": 14}),),
        (
            Expect(
                "POST",
                "/api/SystemManager/Level",
                body=b'["Site","Line 2"]',
                content_type="application/json",
            ),
        ),
        14,
    ),
]


@dataclass(frozen=True)
class Rejected:
    """An operation that must raise ``error`` before sending anything."""

    id: str
    invoke: Callable[[Any], Any]
    error: type[Exception]
    match: str


REJECTED: list[Rejected] = [
    Rejected(
        "submit_report-invalid",
        lambda api: api.report.submit_report(invalid_report()),
        pywats.ReportInvalidError,
        "report is invalid",
    ),
    Rejected(
        "query_headers-bad-expand",
        lambda api: api.report.query_headers(expand=["miscInfo", "steps"]),
        ValueError,
        "cannot expand",
    ),
    Rejected(
        "query_headers-top-0",
        lambda api: api.report.query_headers(top=0),
        ValueError,
        "top",
    ),
    Rejected(
        "query_headers-top-10001",
        lambda api: api.report.query_headers(top=10_001),
        ValueError,
        "top",
    ),
    Rejected(
        "query_all_headers-bad-expand",
        lambda api: api.report.query_all_headers(expand=["nope"]),
        ValueError,
        "cannot expand",
    ),
    Rejected(
        "get_attachment-neither",
        lambda api: api.report.get_attachment(REPORT_ID),
        ValueError,
        "exactly one",
    ),
    Rejected(
        "get_attachment-both",
        lambda api: api.report.get_attachment(REPORT_ID, attachment_id=ATTACHMENT_ID, step_id=1),
        ValueError,
        "exactly one",
    ),
    Rejected(
        "get_report-not-a-uuid",
        lambda api: api.report.get_report("5f0c6b2e-8d4a-4a53-9a59"),
        InvalidArgumentError,
        "report_id '5f0c6b2e-8d4a-4a53-9a59' is not a UUID",
    ),
    Rejected(
        "get_attachments-path",
        lambda api: api.report.get_attachments("../../App/Version"),
        ValueError,
        "is not a UUID",
    ),
    Rejected(
        "get_certificate-int",
        lambda api: api.report.get_certificate(5),
        TypeError,
        "report_id must be a uuid.UUID or a str, not int",
    ),
    Rejected(
        "get_attachment-bad-attachment-id",
        lambda api: api.report.get_attachment(REPORT_ID, attachment_id="a1"),
        ValueError,
        "attachment_id 'a1' is not a UUID",
    ),
    Rejected(
        "get_client-neither",
        lambda api: api.system.get_client(),
        ValueError,
        "exactly one",
    ),
    Rejected(
        "get_client-both",
        lambda api: api.system.get_client(name="a", identifier="b"),
        ValueError,
        "exactly one",
    ),
]


# --- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryCase:
    """Run ``invoke(api)`` with :data:`FAST_RETRY` against ``answers``.

    Expect ``sends`` requests, then the ``result`` (when ``error`` is ``None``) or ``error``.
    """

    id: str
    invoke: Callable[[Any], Any]
    answers: tuple[Answer, ...]
    sends: int
    error: type[Exception] | None = None
    result: Any = None
    error_is: tuple[type[BaseException], ...] = field(default=())


def _version(api: Any) -> Any:
    return api.app.get_version()


def _create_level(api: Any) -> Any:
    return api.system.create_level(["Site"])


def _get_token(api: Any) -> Any:
    return api.auth.get_token()


def _submit(api: Any) -> Any:
    return api.report.submit_report(minimal_report())


def _update_client(api: Any) -> Any:
    return api.system.update_client(StationClient(client_id=9))


_VERSION = ok("2026.1.5.324")
_MAPPED: dict[int, type[Exception]] = {
    408: pywats.HTTPError,
    429: pywats.RateLimitedError,
    500: pywats.ServerError,
    502: pywats.ServerError,
    503: pywats.ServerError,
    504: pywats.ServerError,
}
_NETWORK: dict[type[httpx.TransportError], tuple[type[Exception], type[BaseException]]] = {
    httpx.ConnectError: (pywats.ConnectionError, ConnectionError),
    httpx.ReadTimeout: (pywats.TimeoutError, TimeoutError),
    httpx.RemoteProtocolError: (pywats.ConnectionError, ConnectionError),
}

RETRIES: list[RetryCase] = [
    *(
        RetryCase(
            f"GET-{code}-then-ok", _version, (status(code), _VERSION), 2, result="2026.1.5.324"
        )
        for code in _MAPPED
    ),
    *(
        RetryCase(
            f"GET-{code}-twice-then-ok",
            _version,
            (status(code), status(code), _VERSION),
            3,
            result="2026.1.5.324",
        )
        for code in _MAPPED
    ),
    *(
        RetryCase(f"GET-{code}-gives-up", _version, (status(code),) * 3, 3, error=error)
        for code, error in _MAPPED.items()
    ),
    *(
        RetryCase(
            f"GET-{exc.__name__}-then-ok", _version, (exc, exc, _VERSION), 3, result="2026.1.5.324"
        )
        for exc in _NETWORK
    ),
    *(
        RetryCase(
            f"GET-{exc.__name__}-gives-up",
            _version,
            (exc,) * 3,
            3,
            error=mapped,
            error_is=(builtin, pywats.TransportError),
        )
        for exc, (mapped, builtin) in _NETWORK.items()
    ),
    *(
        RetryCase(f"GET-{code}-not-retried", _version, (status(code),), 1, error=error)
        for code, error in {
            400: pywats.ValidationError,
            401: pywats.AuthenticationError,
            403: pywats.AuthorizationError,
            404: pywats.NotFoundError,
            409: pywats.ConflictError,
            418: pywats.HTTPError,
        }.items()
    ),
    RetryCase("POST-create_level-503", _create_level, (status(503),), 1, error=pywats.ServerError),
    RetryCase(
        "POST-create_level-ReadTimeout",
        _create_level,
        (httpx.ReadTimeout,),
        1,
        error=pywats.TimeoutError,
    ),
    RetryCase(
        "POST-create_level-RemoteProtocolError",
        _create_level,
        (httpx.RemoteProtocolError,),
        1,
        error=pywats.ConnectionError,
    ),
    RetryCase(
        "POST-create_level-429",
        _create_level,
        (status(429),),
        1,
        error=pywats.RateLimitedError,
    ),
    RetryCase(
        "POST-create_level-ConnectError-then-ok",
        _create_level,
        (httpx.ConnectError, ok(5)),
        2,
        result=5,
    ),
    RetryCase(
        "POST-create_level-ConnectError-gives-up",
        _create_level,
        (httpx.ConnectError,) * 3,
        3,
        error=pywats.ConnectionError,
    ),
    RetryCase("get_token-503", _get_token, (status(503),), 1, error=pywats.ServerError),
    RetryCase(
        "get_token-ReadTimeout", _get_token, (httpx.ReadTimeout,), 1, error=pywats.TimeoutError
    ),
    RetryCase(
        "get_token-ConnectError-then-ok",
        _get_token,
        (httpx.ConnectError, ok("dG9rZW4=")),
        2,
        result="dG9rZW4=",
    ),
    RetryCase(
        "submit_report-503-twice-then-ok",
        _submit,
        (status(503), status(503), ok(RECEIPT)),
        3,
        result=STORED_ID,
    ),
    RetryCase(
        "submit_report-ReadTimeout-then-ok",
        _submit,
        (httpx.ReadTimeout, ok(RECEIPT)),
        2,
        result=STORED_ID,
    ),
    RetryCase(
        "submit_report-400-not-retried",
        _submit,
        (httpx.Response(400, text="root -> step Voltage: Status cannot be different"),),
        1,
        error=pywats.ValidationError,
    ),
    RetryCase(
        "PUT-update_client-502-then-ok",
        _update_client,
        (status(502), ok(True)),
        2,
        result=StationClient(client_id=9),
    ),
]


def check_retry_requests(case: RetryCase, server: Server) -> None:
    """Every attempt is the same request."""
    assert len(server.requests) == case.sends
    first = server.requests[0]
    for again in server.requests[1:]:
        assert (again.method, again.url, again.content) == (first.method, first.url, first.content)


# --- error mapping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    """An error answer and the exception it must become (with ``RetryPolicy.never()``)."""

    id: str
    answer: httpx.Response
    error: type[pywats.HTTPError]
    message: str


ERRORS: list[ErrorCase] = [
    ErrorCase(
        "404-json-Message",
        httpx.Response(404, json={"Message": "No report with that id."}),
        pywats.NotFoundError,
        "No report with that id.",
    ),
    ErrorCase(
        "401-json-Message",
        httpx.Response(401, json={"Message": "Authorization has been denied for this request."}),
        pywats.AuthenticationError,
        "Authorization has been denied for this request.",
    ),
    ErrorCase(
        "400-plain-text-multiline",
        httpx.Response(400, text="root -> step A: bad.\r\nroot -> step B: worse."),
        pywats.ValidationError,
        "root -> step A: bad.\r\nroot -> step B: worse.",
    ),
    ErrorCase(
        "403-json-message-detail",
        httpx.Response(403, json={"Message": "Denied.", "MessageDetail": "Needs Edit."}),
        pywats.AuthorizationError,
        "Denied. Needs Edit.",
    ),
    ErrorCase(
        "409-json-string",
        httpx.Response(409, json="already exists"),
        pywats.ConflictError,
        "already exists",
    ),
    ErrorCase(
        "500-plain-text",
        httpx.Response(500, text="Internal Server Error"),
        pywats.ServerError,
        "Internal Server Error",
    ),
    ErrorCase(
        "503-empty",
        httpx.Response(503),
        pywats.ServerError,
        "HTTP 503",
    ),
    ErrorCase(
        "418-error-object",
        httpx.Response(418, json={"error": {"message": "I'm a teapot"}}),
        pywats.HTTPError,
        "I'm a teapot",
    ),
]


# --- client construction ----------------------------------------------------------------------

BASE_URLS: list[tuple[str, str, str]] = [
    # (given, base_url, the URL of GET /api/App/Version)
    ("https://h", "https://h", "https://h/api/App/Version"),
    ("https://h/", "https://h", "https://h/api/App/Version"),
    ("https://h/api", "https://h", "https://h/api/App/Version"),
    ("https://h/api/", "https://h", "https://h/api/App/Version"),
    ("https://h/API", "https://h", "https://h/api/App/Version"),
    ("h", "https://h", "https://h/api/App/Version"),
    (
        "  h.example.com:8443  ",
        "https://h.example.com:8443",
        "https://h.example.com:8443/api/App/Version",
    ),
    ("http://localhost:8080/", "http://localhost:8080", "http://localhost:8080/api/App/Version"),
    ("https://h/wats/", "https://h/wats", "https://h/wats/api/App/Version"),
    ("https://h/wats/api/", "https://h/wats", "https://h/wats/api/App/Version"),
]

BAD_BASE_URLS = ["ftp://h", "", "   ", "http://", "file:///etc/passwd"]

#: (token, username, password, the Authorization header sent or None)
AUTHORIZATIONS: list[tuple[str | None, str | None, str | None, str | None]] = [
    (TOKEN, None, None, f"Basic {TOKEN}"),
    ("  opaque:not-base64!  ", None, None, "Basic opaque:not-base64!"),
    (None, "alice", "s3cret:ä", "Basic YWxpY2U6czNjcmV0OsOk"),
    (None, "bob", None, "Basic Ym9iOg=="),
    (TOKEN, "alice", "pw", f"Basic {TOKEN}"),
    (None, None, None, None),
]

"""``FakeWATS``: an emulated WATS server for tests, in process or over TCP.

One object holds the server's state and answers requests (:meth:`FakeWATS.handle`, sans-IO). It
is at once

* an httpx transport for the blocking and the async client
  (``pyWATS(url, token, transport=fake)``),
* an ASGI application (``hypercorn`` serves it over TCP: ``python -m pywats.testing serve``).

See ``docs/testing-with-the-emulator.md``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import msgspec

from pywats._ids import as_report_id
from pywats.formats import wsjf
from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep
from pywats.models.report import UURReport, UUTReport
from pywats.testing._analytics_routes import add_analytics_routes
from pywats.testing._asgi import Dropped, Receive, Scope, Send, serve_asgi
from pywats.testing._asset_routes import add_asset_routes
from pywats.testing._barcode_routes import add_barcode_routes
from pywats.testing._export_routes import add_export_routes
from pywats.testing._faults import Fault, Faults, Outcome
from pywats.testing._headers import build_header, guid
from pywats.testing._http import (
    MAX_BODY,
    READ_TIMEOUT,
    HTTPFailure,
    Request,
    Response,
    Router,
    decode_json,
    error,
    json_response,
)
from pywats.testing._meta_routes import add_meta_routes
from pywats.testing._product_routes import add_product_routes
from pywats.testing._production_routes import add_production_routes
from pywats.testing._report_routes import add_report_routes
from pywats.testing._rootcause_routes import add_rootcause_routes
from pywats.testing._scim_routes import add_scim_routes
from pywats.testing._seed import State
from pywats.testing._software_routes import add_software_routes
from pywats.testing._storable import storage_problems
from pywats.testing._store import ReportStore, StoredReport
from pywats.testing._workflow_routes import add_workflow_routes
from pywats.validation import FieldLimits, validate_report

__all__ = ["Dropped", "FakeWATS", "LogEntry"]

T = TypeVar("T")

_DENIED = "Authorization has been denied for this request."
_ADMIN = "/_emulator"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request the emulator answered (or refused)."""

    time: float
    method: str
    path: str
    status: int  # 0: refused (no connection); otherwise the answer's status
    report_id: str | None = None
    dropped: bool = False  # the answer was cut off: the request was handled, the client never knew


class FakeWATS(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An emulated WATS server.

    Args:
        token: an API token to accept (``Authorization: Basic <token>``); more with
            :meth:`State.add_token` on :attr:`state`.
        strict: validate submitted reports like the live server (its consistency rules and a
            known ``refUUT``); the default, lenient, accepts everything a server exports.
        data_dir: keep reports in a SQLite file there (survives restarts); memory otherwise.
        admin: serve the admin routes under ``/_emulator`` (faults, log, reset).
        seed: seed of the random choices of fractional faults.
        log_size: how many requests :attr:`log` keeps (the oldest go first).
        max_body: the largest request body accepted, in bytes; a larger one is answered 413
            (the default is IIS's ``maxAllowedContentLength``, which WATS servers run behind).
        read_timeout: over TCP, the seconds a client has to send a request's headers, and then
            its whole body; a body that does not arrive in time is answered 408.
    """

    def __init__(
        self,
        token: str | None = "test-token",
        *,
        strict: bool = False,
        data_dir: str | Path | None = None,
        admin: bool = False,
        seed: int = 0,
        log_size: int = 100_000,
        max_body: int = MAX_BODY,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        if max_body < 0:
            raise ValueError(f"max_body must be at least 0 bytes, not {max_body}")
        if not read_timeout > 0:
            raise ValueError(f"read_timeout must be more than 0 seconds, not {read_timeout}")
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.state = State()
        if token:
            self.state.add_token(token, "api")
        self.strict = strict
        self.admin = admin
        self.faults = Faults(seed)
        self.log: deque[LogEntry] = deque(maxlen=log_size)
        path = Path(data_dir) / "wats-emulator.sqlite3" if data_dir is not None else None
        self.reports = ReportStore(path)
        self._lock = threading.RLock()
        self._runs: dict[tuple[str, str, int], int] = {}
        self._first_pass: dict[tuple[str, str, int], int] = {}
        self._time_stamp = 0
        self._asset_counts: dict[str, int] = {}
        for stored in self.reports.headers():
            self._index(stored)
        self.router = Router()
        self._domain_states: dict[str, Any] = {}
        add_report_routes(self.router)
        add_meta_routes(self.router)
        add_product_routes(self.router)
        add_production_routes(self.router)
        add_asset_routes(self.router)
        add_barcode_routes(self.router)
        add_workflow_routes(self.router)
        add_analytics_routes(self.router)
        add_software_routes(self.router)
        add_rootcause_routes(self.router)
        add_scim_routes(self.router)
        add_export_routes(self.router)

    # --- bookkeeping ----------------------------------------------------------------------

    def _index(self, stored: StoredReport) -> None:
        header = stored.header
        self._time_stamp = max(self._time_stamp, header.time_stamp or 0)
        if stored.run_key is not None:
            key = stored.run_key
            self._runs[key] = max(self._runs.get(key, 0), header.run or 0)
            if header.passed_in_run is not None:
                self._first_pass.setdefault(key, header.passed_in_run)
        for sn, used in stored.asset_usage.items():
            self._asset_counts[sn] = self._asset_counts.get(sn, 0) + used

    def repairs_of(self, uut_id: str | uuid.UUID) -> list[dict[str, Any]]:
        """``uut.refUURs`` of a test report: the repair reports that reference it."""
        wanted = str(uut_id).lower()
        return [
            {"id": s.id, "start": s.header.start}
            for s in self.reports.headers()
            if s.ref_uut == wanted
        ]

    def asset_usage(self, asset_sn: str | None) -> int:
        """How much the stored test reports used the asset ``asset_sn`` (their usage counts)."""
        return self._asset_counts.get(asset_sn or "", 0)

    def asset_stats(self, asset_sn: str | None) -> dict[str, Any]:
        """The emulator's view of an asset's counters (``assetStats[]``): a known asset's
        counts, limits and calibration from the asset routes, else the reports' usage alone."""
        from pywats.testing._asset_registry import report_stats

        known = report_stats(self, asset_sn)
        if known is not None:
            return known
        count = self.asset_usage(asset_sn)
        return {
            "assetSN": asset_sn,
            "runningCount": count,
            "runningCountExceeded": 0,
            "totalCount": count,
            "totalCountExceeded": 0,
            "isDaysSinceCalibrationUnknown": True,
            "isDaysSinceMaintenanceUnknown": True,
        }

    def report_ids(self) -> list[str]:
        """The ids of every stored report, as the wire writes them (lower-case text)."""
        return [s.id for s in self.reports.headers()]

    def get_report(self, report_id: str | uuid.UUID) -> UUTReport | UURReport | None:
        """A stored report as it was accepted, or ``None``.

        ``report_id`` is what ``submit_report`` returned (a UUID) or its text, in any case.
        """
        try:
            key = str(as_report_id(report_id))
        except ValueError:
            return None  # no stored report has an id that is not a UUID
        stored = self.reports.get(key)
        return wsjf.loads(stored.wsjf) if stored is not None else None

    def domain_state(self, name: str, factory: Callable[[], T]) -> T:
        """The state of one domain's routes (products, units, assets…), made on first use.

        Each route module keeps its data in one object of its own (``factory()``), so domains
        are added without touching the others; :meth:`reset` forgets them all.
        """
        with self._lock:
            state = self._domain_states.get(name)
            if state is None:
                state = self._domain_states[name] = factory()
            return state

    def reset(self) -> None:
        """Forget every report, fault and log entry, and what the domains' routes were told
        (products, units, assets…); the seeded metadata stays."""
        with self._lock:
            self._domain_states.clear()
            self.reports.clear()
            self.faults.clear()
            self.log.clear()
            self._runs.clear()
            self._first_pass.clear()
            self._asset_counts.clear()

    def close(self) -> None:
        """Close the SQLite file (transport protocol: also called by httpx clients)."""
        self.reports.close()

    async def aclose(self) -> None:
        """Async transport protocol; the emulator is closed with :meth:`close`."""

    # --- report acceptance ----------------------------------------------------------------

    def _check(self, report: UUTReport | UURReport) -> list[str]:
        problems = [
            str(p)
            for p in validate_report(report, server_rules=self.strict, limits=FieldLimits.lenient())
        ]
        code = report.process_code
        process = self.state.process(code) if code is not None else None
        if code is not None and process is None:
            problems.append(f"processCode: {code} is not a known process.")
        elif process is not None:
            if isinstance(report, UUTReport) and not process.is_test_operation:
                problems.append(f"processCode: {code} ({process.name}) is not a test operation.")
            if isinstance(report, UURReport) and not process.is_repair_operation:
                problems.append(f"processCode: {code} ({process.name}) is not a repair operation.")
        if isinstance(report, UURReport) and report.uur is not None:
            failed = report.uur.process_code
            failed_process = self.state.process(failed) if failed is not None else None
            if failed is not None and (
                failed_process is None or not failed_process.is_test_operation
            ):
                problems.append(f"uur.processCode: {failed} is not a known test operation.")
            ref = report.uur.ref_uut
            if self.strict and ref is not None and str(ref) not in self.reports:
                problems.append(f"uur.refUUT: the referenced test report {ref} was not found.")
        if not problems:
            # Only now: the rules above name the common faults in the server's own words, and
            # listing the same bad character twice would not help.
            problems = storage_problems(report)
        return problems

    def accept_report(self, report: UUTReport | UURReport, req: Request) -> dict[str, Any]:
        """Validate and store a submitted report; return the ``InsertReportResult``.

        Raises:
            HTTPFailure: 400 with one line per problem (CRLF-separated, as the server does).
        """
        problems = self._check(report)
        if problems:
            raise HTTPFailure(400, "\r\n".join(problems))
        if isinstance(report, UUTReport):
            _number_steps(report)
        report_id = str(report.id)
        data = wsjf.dumps(report)
        usage: dict[str, int] = {}
        for asset in report.assets or ():
            sn = asset.asset_sn or ""
            usage[sn] = usage.get(sn, 0) + (asset.usage_count or 1)
        with self._lock:
            previous = self.reports.get(report_id)
            key = (report.pn or "", report.sn or "", report.process_code or 0)
            if previous is not None and previous.header.run is not None:
                run = previous.header.run
                receive_count = (previous.header.receive_count or 1) + 1
            else:
                run = self._runs.get(key, 0) + 1
                self._runs[key] = run
                receive_count = 1
                for sn, used in usage.items():
                    self._asset_counts[sn] = self._asset_counts.get(sn, 0) + used
            if report.result == "P":
                self._first_pass.setdefault(key, run)
            self._time_stamp += 1
            process = self.state.process(report.process_code or -1)
            header = build_header(
                report,
                process_name=process.name if process else None,
                time_stamp=self._time_stamp,
                receive_count=receive_count,
                run=run,
                passed_in_run=self._first_pass.get(key),
                size=len(data),
            )
            ref_uut = None
            if isinstance(report, UURReport) and report.uur and report.uur.ref_uut:
                ref_uut = str(report.uur.ref_uut)
            self.reports.put(
                StoredReport(
                    id=report_id,
                    type=report.report_type.value,
                    wsjf=data,
                    header=header,
                    ref_uut=ref_uut,
                    run_key=key,
                    asset_usage=previous.asset_usage if previous is not None else usage,
                )
            )
            number = self._time_stamp
        return {"ID": report_id, "uuid": report_id, "Report_ID": number}

    # --- request handling -----------------------------------------------------------------

    def handle(self, req: Request) -> tuple[Outcome, Response]:
        """Answer one request; the outcome says whether to delay, refuse or drop it."""
        if len(req.body) > self.max_body:
            # Refused before anything else looks at it, as IIS's request filtering does.
            response = error(
                413,
                f"The request body is too large: {len(req.body):,} bytes; "
                f"the limit is {self.max_body:,} bytes.",
            )
            self.log_answer(Request(req.method, req.path), response)  # no need to sniff an id
            return Outcome(), response
        if self.admin and req.path.lower().startswith(_ADMIN):
            return Outcome(), self._guarded(req, self._admin)
        outcome = self.faults.decide(req.method, req.path)
        if outcome.refuse:
            self._log(req, 0, None)
            return outcome, Response(status=0)
        if outcome.status is not None and outcome.status != 400:
            response = error(outcome.status, outcome.message or "")
            response.headers.update(outcome.headers)
        elif outcome.status == 400:
            response = self._guarded(req, lambda r: error(400, outcome.message or ""))
        else:
            response = self._guarded(req, self._route)
        self._log(req, response.status, response, dropped=outcome.drop)
        return outcome, response

    def log_answer(self, req: Request, response: Response) -> None:
        """Record in :attr:`log` a request answered without :meth:`handle` (a 408 over TCP)."""
        self._log(req, response.status, response)

    def _guarded(self, req: Request, inner: Callable[[Request], Response]) -> Response:
        identity = self.state.identify(req.headers.get("authorization"))
        if identity is None:
            return error(401, _DENIED)
        if identity.read_only and req.method.upper() not in ("GET", "HEAD"):
            return error(403, "The token does not have permission to change data.")
        req.user = identity.user
        try:
            return inner(req)
        except HTTPFailure as exc:
            return error(exc.status, exc.message)

    def _route(self, req: Request) -> Response:
        route, params = self.router.match(req.method, req.path)
        return route.handler(self, req, **params)

    def _log(
        self, req: Request, status: int, response: Response | None, *, dropped: bool = False
    ) -> None:
        report_id: str | None = None
        lower = req.path.lower()
        if lower.startswith("/api/report/ws") and req.method.upper() == "POST":
            if response is not None and response.status == 200:
                report_id = msgspec.json.decode(response.body).get("ID")
            else:
                report_id = _sniff_id(req.body)
        elif lower.startswith(("/api/report/wsjf/", "/api/report/wsxf/")):
            report_id = guid(req.path.rsplit("/", 1)[-1])
        self.log.append(
            LogEntry(time.time(), req.method.upper(), req.path, status, report_id, dropped)
        )

    def submitted_ids(self) -> list[str]:
        """Ids of reports accepted so far, in order (re-submits repeat), from the request log."""
        return [
            e.report_id for e in self.log if e.report_id and e.status == 200 and e.method == "POST"
        ]

    # --- admin routes ---------------------------------------------------------------------

    def _admin(self, req: Request) -> Response:
        path = req.path.lower().rstrip("/")
        method = req.method.upper()
        if path == f"{_ADMIN}/faults" and method == "POST":
            fault = decode_json(req.body, Fault, "Invalid fault:")
            try:
                return json_response(self.faults.add(fault))
            except ValueError as exc:
                raise HTTPFailure(400, f"Invalid fault: {exc}") from exc
        if path == f"{_ADMIN}/faults" and method == "DELETE":
            self.faults.clear()
            return json_response(True)
        if path == f"{_ADMIN}/faults" and method == "GET":
            return json_response(self.faults.active())
        if path == f"{_ADMIN}/log" and method == "GET":
            return json_response(list(self.log))
        if path == f"{_ADMIN}/reports" and method == "GET":
            return json_response({"count": len(self.reports), "ids": self.report_ids()})
        if path == f"{_ADMIN}/reset" and method == "POST":
            self.reset()
            return json_response(True)
        raise HTTPFailure(404, f"No admin route {req.method} {req.path}.")

    # --- httpx transports -----------------------------------------------------------------

    def _translate(self, request: httpx.Request, body: bytes) -> Request:
        return Request(
            method=request.method,
            path=request.url.path,
            query=list(request.url.params.multi_items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )

    def _answer(
        self, request: httpx.Request, outcome: Outcome, response: Response
    ) -> httpx.Response:
        if outcome.refuse:
            raise httpx.ConnectError("connection refused (the emulator is down)", request=request)
        if outcome.drop:
            raise httpx.RemoteProtocolError(
                "server disconnected without sending a complete response", request=request
            )
        return httpx.Response(
            response.status,
            headers=response.header_list(),
            content=response.body,
            request=request,
        )

    @staticmethod
    def _read_timeout(request: httpx.Request) -> float | None:
        timeout = request.extensions.get("timeout", {})
        value = timeout.get("read") if isinstance(timeout, dict) else None
        return float(value) if value is not None else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """httpx transport protocol (blocking clients)."""
        outcome, response = self.handle(self._translate(request, request.read()))
        if outcome.delay > 0:
            limit = self._read_timeout(request)
            if limit is not None and outcome.delay >= limit:
                time.sleep(limit)
                raise httpx.ReadTimeout("the emulator answered too slowly", request=request)
            time.sleep(outcome.delay)
        return self._answer(request, outcome, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx transport protocol (async clients, trio or asyncio)."""
        body = await request.aread()
        outcome, response = self.handle(self._translate(request, body))
        if outcome.delay > 0:
            limit = self._read_timeout(request)
            if limit is not None and outcome.delay >= limit:
                await anyio.sleep(limit)
                raise httpx.ReadTimeout("the emulator answered too slowly", request=request)
            await anyio.sleep(outcome.delay)
        return self._answer(request, outcome, response)

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI application protocol (see :mod:`pywats.testing._asgi`)."""
        await serve_asgi(self, scope, receive, send)


def _number_steps(report: UUTReport) -> None:
    """Give steps without an ``id`` one (depth-first, after the highest given), as the server does.

    Ids must exist when the report is stored: attachments are fetched and headers name steps by
    them.
    """
    steps = report.steps()
    next_id = max((s.id for s in steps if s.id is not None), default=0) + 1
    for step in steps:
        if step.id is None:
            step.id = next_id
            next_id += 1


def _sniff_id(body: bytes) -> str | None:
    """The report id of a (possibly rejected) WSJF submit, for the request log."""
    if json_too_deep(body, MAX_JSON_NESTING) is not None:
        return None  # msgspec would recurse once per level
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return guid(value["id"])
    return None

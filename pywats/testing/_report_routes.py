"""The emulator's report routes: submit (WSJF/WSXF), read back, query headers, attachments."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from pywats._errors import ReportFormatError
from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats.models.report_query import ReportHeader
from pywats.testing._headers import decode_base64, export_style, guid, utc
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response
from pywats.testing._odata import ODataError, apply, parse_query

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["add_report_routes"]

_HEADER_FIELDS = tuple(f.encode_name for f in msgspec.structs.fields(ReportHeader))
_EXPANDABLE = (
    "subUnits",
    "miscInfo",
    "assets",
    "attachments",
    "uurSubUnits",
    "uurMiscInfo",
    "uurAttachments",
)
_ORDERABLE = ("start", "uuid", "serialNumber", "timeStamp")


def add_report_routes(router: Router) -> None:
    """Register every report route on ``router``."""
    router.add("POST", "/api/Report/WSJF", submit_wsjf)
    router.add("POST", "/api/Report/WSXF", submit_wsxf)
    router.add("GET", "/api/Report/Wsjf/{id}", get_wsjf)
    router.add("GET", "/api/Report/Wsxf/{id}", get_wsxf)
    router.add("GET", "/api/Report/Query/Header", query_headers)
    router.add("GET", "/api/Report/Query/HeaderByMiscInfo", query_by_misc_info)
    router.add("GET", "/api/Report/Attachment", get_attachment)
    router.add("GET", "/api/Report/Attachments/{id}", get_attachments_zip)
    router.add("GET", "/api/Report/Certificate/{id}", get_certificate)


def submit_wsjf(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Report/WSJF``."""
    try:
        report = wsjf.loads(req.body)
    except ReportFormatError as exc:
        raise HTTPFailure(400, str(exc)) from exc
    return json_response(emu.accept_report(report, req))


def submit_wsxf(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Report/WSXF``."""
    from pywats.formats import wsxf

    try:
        report = wsxf.loads(req.body)
    except ReportFormatError as exc:
        raise HTTPFailure(400, str(exc)) from exc
    return json_response(emu.accept_report(report, req))


def _bool(req: Request, name: str, default: bool) -> bool:
    value = req.param(name)
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")


def _int(req: Request, name: str, default: int | None = None) -> int | None:
    value = req.param(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.") from None


def _stored_doc(emu: FakeWATS, report_id: str) -> dict[str, Any]:
    key = guid(report_id)
    stored = emu.reports.get(key) if key else None
    if stored is None:
        raise HTTPFailure(404, f"Report {report_id} was not found.")
    doc: dict[str, Any] = msgspec.json.decode(stored.wsjf)
    return doc


def _step_dicts(root: dict[str, Any]) -> list[dict[str, Any]]:
    """``root`` and every step below it, depth-first pre-order (without recursion)."""
    out: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        step = stack.pop()
        out.append(step)
        stack.extend(reversed([c for c in step.get("steps") or () if isinstance(c, dict)]))
    return out


def _trim_steps(root: dict[str, Any], *, charts: bool, attachments: bool) -> None:
    for step in _step_dicts(root):
        if not charts:
            step.pop("chart", None)
        if not attachments:
            step.pop("attachment", None)


def _number_steps(root: dict[str, Any], next_id: int) -> None:
    for step in _step_dicts(root):
        if step.get("id") is None:
            step["id"] = next_id
        next_id = max(next_id, int(step["id"])) + 1


def export_document(emu: FakeWATS, report_id: str, req: Request) -> dict[str, Any]:
    """The stored report as the server exports it, at the requested detail level.

    Detail levels as the emulator reads them: 0 identifying header only; 1-3 the header with
    misc infos, sub-units and the ``uut``/``uur`` extension; 4-5 the step tree without chart
    data; 6-7 everything. Attachments are included at 4-7 unless ``includeAttachments=false``.
    """
    level = _int(req, "detailLevel", 7)
    assert level is not None
    if not 0 <= level <= 7:
        raise HTTPFailure(400, "detailLevel must be between 0 and 7.")
    doc = _stored_doc(emu, report_id)
    start = doc.get("start")
    if start and not doc.get("startUTC"):
        parsed = utc(msgspec.convert(start, datetime))
        doc["startUTC"] = parsed.isoformat().replace("+00:00", "Z") if parsed else None
    process = emu.state.process(doc.get("processCode") or -1)
    if not doc.get("processName") and process is not None:
        doc["processName"] = process.name
    if doc.get("assetStats") is None:
        doc["assetStats"] = [emu.asset_stats(a.get("assetSN")) for a in doc.get("assets") or ()]
    if doc.get("type") == "T":
        root = doc.get("root")
        if isinstance(root, dict):
            _number_steps(root, 1)
        refs = emu.repairs_of(doc["id"])
        if refs and isinstance(doc.get("uut"), dict):
            doc["uut"]["refUURs"] = refs
    doc = export_style(doc)
    charts = level >= 6 and _bool(req, "includeChartdata", True)
    attachments = level >= 4 and _bool(req, "includeAttachments", True)
    if level < 4:
        doc.pop("root", None)
    elif isinstance(doc.get("root"), dict):
        _trim_steps(doc["root"], charts=charts, attachments=attachments)
    if not attachments:
        doc.pop("binaryData", None)
    if level == 0:
        keep = ("type", "id", "pn", "sn", "rev", "processCode", "result", "start", "startUTC")
        doc = {k: doc.get(k) for k in keep}
    return doc


def get_wsjf(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``GET /api/Report/Wsjf/{id}``."""
    return json_response(export_document(emu, id, req))


def get_wsxf(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002 - route name
    """``GET /api/Report/Wsxf/{id}``."""
    from pywats.formats import wsxf

    doc = export_document(emu, id, req)
    report = wsjf.loads(msgspec.json.encode(doc))
    if isinstance(report, UURReport):
        raise HTTPFailure(400, "Repair reports are not available as WSXF from this emulator.")
    try:
        body = wsxf.dumps(report)
    except ReportFormatError as exc:
        # Not reached by reports the emulator accepted (it refuses what WSXF cannot carry);
        # a report stored by an older emulator in a --data folder still gets a clear answer.
        raise HTTPFailure(400, f"Report {id} cannot be written as WSXF: {exc}") from exc
    return Response(body=body, content_type="application/xml; charset=utf-8")


def query_headers(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Report/Query/Header`` with the OData subset of the server."""
    params = {k: v for k, v in req.query if k.startswith("$")}
    try:
        query = parse_query(
            params,
            properties=_HEADER_FIELDS,
            orderable=_ORDERABLE,
            expandable=_EXPANDABLE,
            default_top=10,
            max_top=10_000,
            default_orderby=[("start", True)],
        )
    except ODataError as exc:
        raise HTTPFailure(400, f"The query specified in the URI is not valid. {exc}") from exc
    rows = [stored.row() for stored in emu.reports.headers()]
    # Predecessor-client compatibility: a `reportType` parameter (U/T for tests, R for repairs).
    report_type = req.param("reportType")
    if report_type:
        wanted = "T" if report_type.upper() in ("U", "T") else report_type.upper()
        rows = [r for r in rows if r.get("reportType") == wanted]
    try:
        found = apply(query, rows)
    except ODataError as exc:
        raise HTTPFailure(400, f"The query specified in the URI is not valid. {exc}") from exc
    expanded = {e.lower() for e in query.expand}
    for row in found:
        for name in _EXPANDABLE:
            if name.lower() not in expanded:
                row.pop(name, None)
    return json_response(found)


def query_by_misc_info(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Report/Query/HeaderByMiscInfo``."""
    process = _int(req, "processCode")
    serial = req.param("serialNumber")
    description = req.param("description")
    data = req.param("data")
    out: list[dict[str, Any]] = []
    for stored in emu.reports.headers():
        h = stored.header
        misc = [*(h.misc_info or ()), *(h.uur_misc_info or ())]
        if process is not None and h.process_code != process:
            continue
        if serial is not None and (h.serial_number or "").lower() != serial.lower():
            continue
        if description is not None or data is not None:
            hit = any(
                (description is None or (m.description or "").lower() == description.lower())
                and (data is None or (m.value or "").lower() == data.lower())
                for m in misc
            )
            if not hit:
                continue
        out.append(
            {
                "uuid": h.uuid,
                "serialNumber": h.serial_number,
                "partNumber": h.part_number,
                "start": h.start,
                "result": h.result,
                "processCode": h.process_code,
                "processName": h.process_name,
                "miscData": [{"description": m.description, "data": m.value} for m in misc],
            }
        )
    return json_response(out)


def _report_of(emu: FakeWATS, report_id: str) -> UUTReport | UURReport:
    key = guid(report_id)
    stored = emu.reports.get(key) if key else None
    if stored is None:
        raise HTTPFailure(404, f"Report {report_id} was not found.")
    return wsjf.loads(stored.wsjf)


def _all_attachments(report: UUTReport | UURReport) -> list[tuple[str, str, bytes]]:
    """(name, content type, bytes) of every attachment in the report."""
    out: list[tuple[str, str, bytes]] = []
    if isinstance(report, UUTReport):
        for step in report.steps():
            if step.attachment is not None:
                a = step.attachment
                out.append(
                    (
                        a.name or f"step-{step.id}",
                        a.content_type or "application/octet-stream",
                        decode_base64(a.data),
                    )
                )
    else:
        blobs = list(report.binary_data or ())
        for unit in report.sub_units or ():
            for failure in unit.failures or ():
                blobs.extend(failure.attachments or ())
        for blob in blobs:
            out.append(
                (
                    blob.name or str(blob.id),
                    blob.content_type or "application/octet-stream",
                    decode_base64(blob.data),
                )
            )
    return out


def get_attachment(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Report/Attachment?reportId=…&stepId=…|attachmentId=…``."""
    report_id = req.param("reportId")
    if not report_id:
        raise HTTPFailure(400, "The reportId parameter is required.")
    report = _report_of(emu, report_id)
    step_id = _int(req, "stepId")
    attachment_id = req.param("attachmentId")
    if step_id is not None and isinstance(report, UUTReport):
        for step in report.steps():
            if step.id == step_id and step.attachment is not None:
                a = step.attachment
                return Response(
                    body=decode_base64(a.data),
                    content_type=a.content_type or "application/octet-stream",
                )
    if attachment_id is not None and isinstance(report, UURReport):
        wanted = guid(attachment_id)
        blobs = list(report.binary_data or ())
        for unit in report.sub_units or ():
            for failure in unit.failures or ():
                blobs.extend(failure.attachments or ())
        for blob in blobs:
            if blob.id is not None and str(blob.id) == wanted:
                return Response(
                    body=decode_base64(blob.data),
                    content_type=blob.content_type or "application/octet-stream",
                )
    raise HTTPFailure(404, "Attachment was not found.")


def get_attachments_zip(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002
    """``GET /api/Report/Attachments/{id}``: every attachment in one zip archive."""
    report = _report_of(emu, id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        seen: set[str] = set()
        for name, _, data in _all_attachments(report):
            unique, n = name, 1
            while unique in seen:
                n += 1
                unique = f"{n}-{name}"
            seen.add(unique)
            archive.writestr(unique, data)
    return Response(body=buffer.getvalue(), content_type="application/zip")


def get_certificate(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002
    """``GET /api/Report/Certificate/{id}``: a one-page PDF naming the report."""
    report = _report_of(emu, id)
    lines = [
        "WATS test certificate (emulated)",
        f"Report {report.id}",
        f"Part number {report.pn}  revision {report.rev}",
        f"Serial number {report.sn}",
        f"Result {report.result}",
    ]
    return Response(body=_pdf(lines), content_type="application/pdf")


def _pdf(lines: list[str]) -> bytes:
    """A minimal, valid one-page PDF with ``lines`` of text."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({esc(t)}) '" for t in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text)
        + text.encode("latin-1", "replace")
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)

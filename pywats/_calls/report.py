"""``api.report``: submit, read and query test (UUT) and repair (UUR) reports."""

from __future__ import annotations

import os
import uuid
from typing import BinaryIO

from pywats._call import Call, Flow, bytes_call, download_call, json_call
from pywats._calls._predecessor_report import PredecessorReportNames
from pywats._domain import Domain, ModeT, operation
from pywats._errors import ReportInvalidError
from pywats._ids import ReportId, as_report_id
from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats.models.report_query import InsertReportResult, ReportHeader, UutResult
from pywats.odata import Expr, HeaderFields

__all__ = ["ReportDomain"]

_EXPANDS = (
    "subUnits",
    "miscInfo",
    "assets",
    "attachments",
    "uurSubUnits",
    "uurMiscInfo",
    "uurAttachments",
)


def _receipt(result: InsertReportResult | list[InsertReportResult]) -> InsertReportResult:
    # The server answers with an object; older versions with a one-element list.
    if isinstance(result, list):
        return result[0] if result else InsertReportResult()
    return result


def _submit(path: str, content: bytes, content_type: str) -> Call[InsertReportResult]:
    call: Call[InsertReportResult | list[InsertReportResult]] = json_call(
        "POST",
        path,
        InsertReportResult | list[InsertReportResult],
        raw_body=content,
        idempotent=True,  # the server overwrites a report re-posted with the same id
    )
    return Call(
        method=call.method,
        path=call.path,
        parse=lambda response: _receipt(call.parse(response)),
        content=content,
        content_type=content_type,
        idempotent=True,
    )


def _header_query(
    filter: str | Expr | None,  # noqa: A002 - OData's own name
    top: int | None,
    skip: int | None,
    orderby: str | None,
    expand: list[str] | None,
    select: list[str] | None,
) -> Call[list[ReportHeader]]:
    if expand:
        unknown = [e for e in expand if e.lower() not in {x.lower() for x in _EXPANDS}]
        if unknown:
            raise ValueError(f"cannot expand {unknown}; choose from {list(_EXPANDS)}")
    if top is not None and not 0 < top <= 10_000:
        raise ValueError("top must be between 1 and 10000")
    if isinstance(filter, Expr):
        HeaderFields.check(filter)  # a misspelt field fails here, not as the server's 400
    return json_call(
        "GET",
        "/api/Report/Query/Header",
        list[ReportHeader],
        params={
            "$filter": str(filter) if filter is not None else None,
            "$top": top,
            "$skip": skip,
            "$orderby": orderby,
            "$expand": ",".join(expand) if expand else None,
            "$select": ",".join(select) if select else None,
        },
        empty=[],
    )


def _xml_bytes(xml: bytes | str) -> bytes:
    return xml.encode("utf-8") if isinstance(xml, str) else xml


class ReportDomain(PredecessorReportNames, Domain[ModeT]):
    """Reports: submit WSJF/WSXF, read them back, query headers, fetch attachments."""

    @operation
    def submit_report(
        self, report: UUTReport | UURReport, *, validate: bool = True
    ) -> Flow[uuid.UUID]:
        """Submit a report (as WSJF) and return the id the server stored it under.

        The id is a :class:`uuid.UUID`, equal to ``report.id`` (the server keeps the id it is
        sent).

        Args:
            report: the report to send.
            validate: check it first with ``report.validate()`` (server rules included) and
                raise :class:`~pywats.ReportInvalidError` instead of sending a report the server
                would reject.

        Safe to retry: re-posting the same report id overwrites the stored report.
        """
        if validate:
            problems = report.validate()
            if problems:
                raise ReportInvalidError(problems)
        receipt: InsertReportResult = yield _submit(
            "/api/Report/WSJF", wsjf.dumps(report), "application/json"
        )
        return receipt.stored_id or report.id

    @operation
    def submit_wsjf(self, data: bytes | str) -> Call[InsertReportResult]:
        """Submit ready WSJF text as it is (no decoding) and return the server's receipt."""
        return _submit("/api/Report/WSJF", _xml_bytes(data), "application/json")

    @operation
    def submit_report_xml(self, xml: bytes | str) -> Flow[uuid.UUID | None]:
        """Submit a WSXF (XML) report and return the id the server stored it under.

        ``None`` when the server's receipt names no id (the XML is sent as it is, unread).
        """
        receipt: InsertReportResult = yield _submit(
            "/api/Report/WSXF", _xml_bytes(xml), "application/xml"
        )
        return receipt.stored_id

    @operation
    def get_report(
        self,
        report_id: ReportId,
        *,
        detail_level: int = 7,
        include_chartdata: bool = True,
        include_attachments: bool = True,
    ) -> Call[UUTReport | UURReport]:
        """Read a report as WSJF.

        Args:
            detail_level: 0 (identifying data only) to 7 (everything).
            include_chartdata: include chart series (levels 6 and 7).
            include_attachments: include attachments (levels 4 to 7).

        Raises:
            NotFoundError: no report has that id.
        """
        return Call(
            method="GET",
            path=f"/api/Report/Wsjf/{as_report_id(report_id)}",
            parse=lambda response: wsjf.loads(response.content),
            params={
                "detailLevel": detail_level,
                "includeChartdata": include_chartdata,
                "includeAttachments": include_attachments,
            },
        )

    @operation
    def get_report_xml(
        self,
        report_id: ReportId,
        *,
        detail_level: int = 7,
        include_chartdata: bool = True,
        include_attachments: bool = True,
        include_indexes: bool = True,
    ) -> Call[bytes]:
        """Read a report as WSXF (XML bytes)."""
        return bytes_call(
            "GET",
            f"/api/Report/Wsxf/{as_report_id(report_id)}",
            params={
                "detailLevel": detail_level,
                "includeChartdata": include_chartdata,
                "includeAttachments": include_attachments,
                "includeIndexes": include_indexes,
            },
            accept="application/xml",
        )

    @operation
    def query_headers(
        self,
        filter: str | Expr | None = None,  # noqa: A002 - OData's own name
        *,
        top: int | None = None,
        skip: int | None = None,
        orderby: str | None = None,
        expand: list[str] | None = None,
        select: list[str] | None = None,
    ) -> Call[list[ReportHeader]]:
        """Query report headers with OData options (the server returns 10 by default).

        Args:
            filter: an OData ``$filter`` (build one with :data:`pywats.odata.F`).
            top: at most this many (the server allows up to 10,000).
            skip: leave out this many first.
            orderby: ``start``, ``uuid``, ``serialNumber`` or ``timestamp``, optionally
                ``desc``; the server orders by ``start desc`` by default.
            expand: related collections to include (``subUnits``, ``miscInfo``, ``assets``,
                ``attachments``, ``uurSubUnits``, ``uurMiscInfo``, ``uurAttachments``).
        """
        return _header_query(filter, top, skip, orderby, expand, select)

    @operation
    def query_all_headers(
        self,
        filter: str | Expr | None = None,  # noqa: A002 - OData's own name
        *,
        page_size: int = 1000,
        limit: int | None = None,
        orderby: str = "start desc",
        expand: list[str] | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Query every matching header, page by page (``$top``/``$skip``).

        Args:
            page_size: headers per request (up to 10,000).
            limit: stop after this many headers.
        """
        out: list[ReportHeader] = []
        while limit is None or len(out) < limit:
            want = page_size if limit is None else min(page_size, limit - len(out))
            page: list[ReportHeader] = yield _header_query(
                filter, want, len(out), orderby, expand, None
            )
            out.extend(page[:want])  # a server that ignores $top must not overshoot `limit`
            if len(page) < want:
                break
        return out

    @operation
    def query_headers_by_misc_info(
        self,
        *,
        description: str | None = None,
        data: str | None = None,
        serial_number: str | None = None,
        process_code: int | None = None,
    ) -> Call[list[UutResult]]:
        """Find reports by a misc info (``description`` is its name, ``data`` its value)."""
        return json_call(
            "GET",
            "/api/Report/Query/HeaderByMiscInfo",
            list[UutResult],
            params={
                "processCode": process_code,
                "serialNumber": serial_number,
                "description": description,
                "data": data,
            },
            empty=[],
        )

    @operation
    def get_attachment(
        self,
        report_id: ReportId,
        *,
        attachment_id: ReportId | None = None,
        step_id: int | None = None,
    ) -> Call[bytes]:
        """Download one attachment: by ``attachment_id`` (repair) or ``step_id`` (test step)."""
        if (attachment_id is None) == (step_id is None):
            raise ValueError("give exactly one of attachment_id (repair) or step_id (test)")
        return bytes_call(
            "GET",
            "/api/Report/Attachment",
            params={
                "reportId": str(as_report_id(report_id)),
                "attachmentId": (
                    str(as_report_id(attachment_id, "attachment_id"))
                    if attachment_id is not None
                    else None
                ),
                "stepId": step_id,
            },
        )

    @operation
    def get_attachments(self, report_id: ReportId) -> Call[bytes]:
        """Download every attachment of a report as one zip archive."""
        return bytes_call(
            "GET", f"/api/Report/Attachments/{as_report_id(report_id)}", accept="application/zip"
        )

    @operation
    def download_attachments(
        self, report_id: ReportId, to: str | os.PathLike[str] | BinaryIO
    ) -> Call[int]:
        """Download every attachment of a report as one zip archive into ``to`` (a path,
        replaced only once the whole zip arrived, or a binary file object), in chunks: a large
        archive never passes through memory. Returns the number of bytes written."""
        return download_call(
            "GET",
            f"/api/Report/Attachments/{as_report_id(report_id)}",
            to,
            accept="application/zip",
            what="the attachments' zip",
        )

    @operation
    def get_certificate(self, report_id: ReportId) -> Call[bytes]:
        """Download the report's certificate document."""
        return bytes_call("GET", f"/api/Report/Certificate/{as_report_id(report_id)}")

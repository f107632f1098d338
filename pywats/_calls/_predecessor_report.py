"""``api.report``'s operations under the predecessor's names (``pywats-api``).

Scripts written for the predecessor call ``api.report.query_uut_headers(…)`` or
``get_headers_by_serial(…)``; these aliases run the same operation here and warn once (a
``DeprecationWarning`` naming the name to use). ``docs/migrating.md`` lists them, with what
differs. The mixin's operations are built on ``ReportDomain``'s own, so every request is written
once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pywats._call import Flow, as_flow
from pywats._domain import deprecated
from pywats._errors import InvalidArgumentError
from pywats._ids import ReportId
from pywats.models.report import UURReport, UUTReport
from pywats.models.report_query import ReportHeader
from pywats.odata import Expr, F

if TYPE_CHECKING:
    from pywats._calls.report import ReportDomain

__all__ = ["PredecessorReportNames"]

_TYPES = {"uut": "T", "u": "T", "t": "T", "uur": "R", "r": "R"}


def _type_code(report_type: str) -> str:
    """``T`` or ``R`` for the predecessor's ``"uut"``/``"uur"`` (or ``U``, ``T``, ``R``)."""
    code = _TYPES.get(str(getattr(report_type, "value", report_type)).strip().lower())
    if code is None:
        raise InvalidArgumentError(f"report_type {report_type!r} is not 'uut' or 'uur'")
    return code


def _of_type(report_type: str, condition: str | Expr | None = None) -> str | Expr:
    """``condition`` and the report type, as ``$filter`` (the server reads no other type
    parameter: the predecessor's ``reportType=U`` query parameter is not in its API)."""
    typed = F.report_type == _type_code(report_type)
    if condition is None:
        return typed
    if isinstance(condition, Expr):
        return typed & condition
    return f"{typed} and ({condition})"


def _local(when: datetime | date) -> datetime:
    """A naive time as the station's local time, as the predecessor sent it (OData needs the
    offset); a date as its midnight."""
    if not isinstance(when, datetime):
        when = datetime.combine(when, time())
    return when if when.tzinfo is not None else when.astimezone()


def _sub_units(report_type: str) -> tuple[Any, str]:
    """The sub-unit collection of a report type, and its ``$expand`` name."""
    if _type_code(report_type) == "R":
        return F.uur_sub_units, "uurSubUnits"
    return F.sub_units, "subUnits"


def _headers(
    domain: ReportDomain[Any],
    condition: str | Expr,
    top: int | None,
    skip: int | None = None,
    orderby: str | None = None,
    expand: list[str] | None = None,
) -> Flow[list[ReportHeader]]:
    """``domain.query_headers``'s request: one request, written once, there."""
    built = type(domain).query_headers.calls(
        domain, condition, top=top, skip=skip, orderby=orderby, expand=expand
    )
    return (yield from as_flow(built))


class PredecessorReportNames:
    """``api.report``'s operations under the predecessor's names (deprecated)."""

    @deprecated("submit_report(report)")
    def submit(
        self: ReportDomain[Any], report: UUTReport | UURReport, *, validate: bool = True
    ) -> Flow[uuid.UUID]:
        """Deprecated: the predecessor's name of :meth:`submit_report`."""
        return (yield from as_flow(type(self).submit_report.calls(self, report, validate=validate)))

    @deprecated("get_attachments(report_id)")
    def get_all_attachments(self: ReportDomain[Any], report_id: ReportId) -> Flow[bytes]:
        """Deprecated: the predecessor's name of :meth:`get_attachments` (a zip)."""
        return (yield from as_flow(type(self).get_attachments.calls(self, report_id)))

    @deprecated("query_headers((F.report_type == 'T') & …)")
    def query_uut_headers(
        self: ReportDomain[Any],
        odata_filter: str | Expr | None = None,
        *,
        expand: list[str] | None = None,
        top: int | None = None,
        orderby: str | None = None,
        skip: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: test-report headers; :meth:`query_headers` with ``reportType eq 'T'``."""
        condition = _of_type("uut", odata_filter)
        return (yield from _headers(self, condition, top, skip, orderby, expand))

    @deprecated("query_headers((F.report_type == 'R') & …)")
    def query_uur_headers(
        self: ReportDomain[Any],
        odata_filter: str | Expr | None = None,
        *,
        expand: list[str] | None = None,
        top: int | None = None,
        orderby: str | None = None,
        skip: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: repair-report headers; :meth:`query_headers` with ``reportType eq 'R'``."""
        condition = _of_type("uur", odata_filter)
        return (yield from _headers(self, condition, top, skip, orderby, expand))

    @deprecated("query_headers(F.serial_number == serial_number)")
    def get_headers_by_serial(
        self: ReportDomain[Any],
        serial_number: str,
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: the headers of one serial number (test reports unless ``"uur"``)."""
        condition = _of_type(report_type, F.serial_number == serial_number)
        return (yield from _headers(self, condition, top))

    @deprecated("query_headers(F.part_number == part_number)")
    def get_headers_by_part_number(
        self: ReportDomain[Any],
        part_number: str,
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: the headers of one part number (test reports unless ``"uur"``)."""
        condition = _of_type(report_type, F.part_number == part_number)
        return (yield from _headers(self, condition, top))

    @deprecated("query_headers((F.start >= start_date) & (F.start <= end_date))")
    def get_headers_by_date_range(
        self: ReportDomain[Any],
        start_date: datetime | date,
        end_date: datetime | date,
        report_type: str = "uut",
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: the headers started in a time range (naive times are local time)."""
        between = (F.start >= _local(start_date)) & (F.start <= _local(end_date))
        return (yield from _headers(self, _of_type(report_type, between), None))

    @deprecated("query_headers(F.start >= datetime.now(UTC) - timedelta(days=7))")
    def get_recent_headers(
        self: ReportDomain[Any],
        days: int = 7,
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: the headers of the last ``days`` days."""
        since = datetime.now().astimezone() - timedelta(days=days)
        return (yield from _headers(self, _of_type(report_type, F.start >= since), top))

    @deprecated("query_headers(F.start >= <today's midnight>)")
    def get_todays_headers(
        self: ReportDomain[Any],
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: the headers of today (from the station's local midnight)."""
        midnight = _local(date.today())
        return (yield from _headers(self, _of_type(report_type, F.start >= midnight), top))

    @deprecated("query_headers(…, expand=['subUnits'])")
    def query_headers_with_subunits(
        self: ReportDomain[Any],
        report_type: str = "uut",
        odata_filter: str | Expr | None = None,
        top: int | None = None,
        orderby: str | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: headers with their sub-units (``uurSubUnits`` for repairs)."""
        _, expand = _sub_units(report_type)
        condition = _of_type(report_type, odata_filter)
        return (yield from _headers(self, condition, top, None, orderby, [expand]))

    @deprecated("query_headers(F.sub_units.any(lambda s: s.part_number == …))")
    def query_headers_by_subunit_part_number(
        self: ReportDomain[Any],
        subunit_part_number: str,
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: headers of units with a sub-unit of this part number."""
        units, expand = _sub_units(report_type)
        has = units.any(lambda s: s.part_number == subunit_part_number)
        return (yield from _headers(self, _of_type(report_type, has), top, None, None, [expand]))

    @deprecated("query_headers(F.sub_units.any(lambda s: s.serial_number == …))")
    def query_headers_by_subunit_serial(
        self: ReportDomain[Any],
        subunit_serial_number: str,
        report_type: str = "uut",
        top: int | None = None,
    ) -> Flow[list[ReportHeader]]:
        """Deprecated: headers of units with a sub-unit of this serial number."""
        units, expand = _sub_units(report_type)
        has = units.any(lambda s: s.serial_number == subunit_serial_number)
        return (yield from _headers(self, _of_type(report_type, has), top, None, None, [expand]))

"""Report query results: submit receipts, report headers, misc-info search results."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from pywats.models._base import Dto

__all__ = [
    "HeaderAsset",
    "HeaderAttachment",
    "HeaderMiscInfo",
    "HeaderSubUnit",
    "InsertReportResult",
    "ReportHeader",
    "UURHeaderAttachment",
    "UURHeaderSubUnit",
    "UutResult",
    "UutResultMisc",
]


class InsertReportResult(msgspec.Struct, omit_defaults=True, kw_only=True):
    """The server's receipt for a submitted report.

    ``id`` is the id the report was sent with, ``uuid`` the id it is stored under (normally equal).
    """

    id: UUID | None = msgspec.field(default=None, name="ID")
    uuid: UUID | None = None
    report_id: int | None = msgspec.field(default=None, name="Report_ID")

    @property
    def stored_id(self) -> UUID | None:
        """The id the server stored the report under (``None`` if the receipt names none)."""
        return self.uuid or self.id


class HeaderSubUnit(Dto):
    """A sub-unit in a header (``$expand=subUnits``)."""

    part_type: str | None = None
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None


class HeaderMiscInfo(Dto):
    """A misc info in a header (``$expand=miscInfo`` / ``uurMiscInfo``)."""

    description: str | None = None
    value: str | None = None


class HeaderAsset(Dto):
    """An asset in a header (``$expand=assets``)."""

    serial_number: str | None = None
    running_count: int | None = None
    running_count_exceeded: int | None = None
    total_count: int | None = None
    total_count_exceeded: int | None = None
    days_since_maintenance: float | None = None
    maintenance_days_overdue: float | None = None
    days_since_calibration: float | None = None
    calibration_days_overdue: float | None = None


class HeaderAttachment(Dto):
    """A step attachment in a test-report header (``$expand=attachments``)."""

    step_id: int | None = None
    filename: str | None = None


class UURHeaderSubUnit(Dto):
    """A sub-unit of a repair report header (``$expand=uurSubUnits``)."""

    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None


class UURHeaderAttachment(Dto):
    """A repair-report attachment in a header (``$expand=uurAttachments``)."""

    id: UUID | None = None
    filename: str | None = None


class ReportHeader(Dto):
    """One row of ``GET /api/Report/Query/Header``.

    ``result`` is a full word here (``Passed``, ``Failed``, ``Error``, ``Terminated``) and
    ``report_type`` is ``T`` or ``R``.
    """

    uuid: UUID
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    report_type: str | None = None
    start: datetime | None = None
    result: str | None = None
    batch_number: str | None = None
    user_name: str | None = None
    station_name: str | None = None
    location: str | None = None
    purpose: str | None = None
    measures_deleted: bool | None = None
    time_stamp: int | None = None
    process_code: int | None = None
    process_name: str | None = None
    comment: str | None = None
    execution_time: float | None = None
    sw_filename: str | None = None
    sw_version: str | None = None
    test_socket_index: int | None = None
    fixture_id: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    run: int | None = None
    receive_count: int | None = None
    report_size: int | None = None
    caused_uut_failure: str | None = None
    caused_uut_failure_path: str | None = None
    passed_in_run: int | None = None
    referenced_uut: UUID | None = None
    sub_units: list[HeaderSubUnit] | None = None
    misc_info: list[HeaderMiscInfo] | None = None
    assets: list[HeaderAsset] | None = None
    attachments: list[HeaderAttachment] | None = None
    uur_sub_units: list[UURHeaderSubUnit] | None = None
    uur_misc_info: list[HeaderMiscInfo] | None = None
    uur_attachments: list[UURHeaderAttachment] | None = None


class UutResultMisc(Dto):
    """A misc info of a :class:`UutResult`."""

    description: str | None = None
    data: str | None = None


class UutResult(Dto):
    """One row of ``GET /api/Report/Query/HeaderByMiscInfo``."""

    uuid: UUID
    serial_number: str | None = None
    part_number: str | None = None
    start: datetime | None = None
    result: str | None = None
    process_code: int | None = None
    process_name: str | None = None
    misc_data: list[UutResultMisc] | None = None

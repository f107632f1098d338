"""Derive the server's header row (``ReportHeader``) and export form from a stored report."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import PureWindowsPath
from typing import Any
from uuid import UUID

from pywats.models.report import Step, UURReport, UUTReport
from pywats.models.report_query import (
    HeaderAsset,
    HeaderAttachment,
    HeaderMiscInfo,
    HeaderSubUnit,
    ReportHeader,
    UURHeaderAttachment,
    UURHeaderSubUnit,
)

__all__ = ["RESULT_WORDS", "build_header", "export_style", "utc"]

RESULT_WORDS = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated"}


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _failure_path(root: Step) -> tuple[str | None, str | None]:
    """Name and path of the step that caused the unit to fail, if one is marked."""
    stack: list[tuple[Step, list[str]]] = [(root, [])]
    while stack:
        step, trail = stack.pop()
        here = [*trail, step.name or ""]
        if step.caused_uut_failure:
            return step.name, "/".join(here)
        for child in reversed(step.steps or ()):
            stack.append((child, here))
    return None, None


def build_header(
    report: UUTReport | UURReport,
    *,
    process_name: str | None,
    time_stamp: int,
    receive_count: int,
    run: int,
    passed_in_run: int | None,
    size: int,
) -> ReportHeader:
    """The header row the server derives for ``report``."""
    start = utc(report.start)
    header = ReportHeader(
        uuid=report.id,
        serial_number=report.sn,
        part_number=report.pn,
        revision=report.rev,
        report_type=report.report_type.value,
        start=start.replace(microsecond=0) if start else None,
        result=RESULT_WORDS.get(report.result or "", report.result),
        user_name=None,
        station_name=report.machine_name,
        location=report.location,
        purpose=report.purpose,
        measures_deleted=False,
        time_stamp=time_stamp,
        process_code=report.process_code,
        process_name=report.process_name or process_name,
        run=run,
        receive_count=receive_count,
        report_size=max(1, (size + 1023) // 1024),
        passed_in_run=passed_in_run,
        misc_info=[
            HeaderMiscInfo(
                description=m.description,
                value=m.text
                if m.text is not None
                else (str(m.numeric) if m.numeric is not None else None),
            )
            for m in report.misc_infos or ()
        ],
    )
    if isinstance(report, UUTReport):
        uut = report.uut
        if uut is not None:
            header.user_name = uut.user
            header.comment = uut.comment
            header.execution_time = uut.exec_time
            header.test_socket_index = uut.test_socket_index
            header.fixture_id = uut.fixture_id
            header.error_code = uut.error_code
            header.error_message = uut.error_message
            header.batch_number = uut.batch_sn
        root = report.root
        if root is not None:
            if root.seq_call is not None:
                path = root.seq_call.path
                header.sw_filename = PureWindowsPath(path).name if path else root.seq_call.name
                header.sw_version = root.seq_call.version
            header.caused_uut_failure, header.caused_uut_failure_path = _failure_path(root)
            header.attachments = [
                HeaderAttachment(step_id=s.id, filename=s.attachment.name)
                for s in root.walk()
                if s.attachment is not None
            ]
        header.sub_units = [
            HeaderSubUnit(
                part_type=u.part_type, serial_number=u.sn, part_number=u.pn, revision=u.rev
            )
            for u in report.sub_units or ()
        ]
        header.assets = [HeaderAsset(serial_number=a.asset_sn) for a in report.assets or ()]
    else:
        uur = report.uur
        if uur is not None:
            header.user_name = uur.user
            header.comment = uur.comment
            header.execution_time = uur.exec_time
            header.referenced_uut = uur.ref_uut
        header.uur_sub_units = [
            UURHeaderSubUnit(serial_number=u.sn, part_number=u.pn, revision=u.rev)
            for u in report.sub_units or ()
        ]
        header.uur_misc_info = header.misc_info
        header.misc_info = []
        header.uur_attachments = [
            UURHeaderAttachment(id=b.id, filename=b.name) for b in report.binary_data or ()
        ]
    return header


# Members a server export always writes (as null/[] when empty), per reference §5.1.
_ENVELOPE = (
    "type",
    "id",
    "pn",
    "sn",
    "rev",
    "productName",
    "processCode",
    "processName",
    "result",
    "machineName",
    "location",
    "purpose",
    "origin",
    "start",
    "startUTC",
)
_ARRAYS = ("miscInfos", "subUnits", "assets", "assetStats", "additionalData")
_UUT = (
    "user",
    "comment",
    "execTime",
    "testSocketIndex",
    "batchSN",
    "batchFailCount",
    "batchLoopIndex",
    "errorCode",
    "errorMessage",
    "fixtureId",
    "stepIdCausedUUTFailure",
)
_UUR = (
    "user",
    "comment",
    "processCode",
    "processName",
    "refUUT",
    "confirmDate",
    "finalizeDate",
    "execTime",
    "parent",
    "children",
)


def export_style(doc: dict[str, Any]) -> dict[str, Any]:
    """Write the members a server export always carries, ``null``/``[]`` when empty."""
    out: dict[str, Any] = {key: doc.get(key) for key in _ENVELOPE}
    for key, value in doc.items():
        out.setdefault(key, value)
    for key in _ARRAYS:
        if out.get(key) is None:
            out[key] = []
    ext_key, members = ("uut", _UUT) if doc.get("type") == "T" else ("uur", _UUR)
    ext = out.get(ext_key)
    if isinstance(ext, dict):
        for key in members:
            ext.setdefault(key, None)
    return out


def decode_base64(data: str | None) -> bytes:
    """Decode an attachment's base64 data (empty for none or invalid data)."""
    if not data:
        return b""
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError):
        return b""


def guid(text: str) -> str | None:
    """``text`` as a lower-case GUID string, or ``None`` if it is not one."""
    try:
        return str(UUID(text))
    except ValueError:
        return None

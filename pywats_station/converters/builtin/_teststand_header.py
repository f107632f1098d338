"""One TestStand report element (``<TSReport>`` or ``<Report>``) as a WATS test report.

Where each header member comes from (dot paths are ``Prop`` names; *ReportInfo* is the WATS
add-on's ``<ReportInfo key= value=>`` list):

=====================  ============================================================================
report member          source (first that is there and not empty)
=====================  ============================================================================
``id``                 ReportInfo ``ID`` (else the converter derives one from the file's content)
``sn``                 ``UUT.SerialNumber``, ReportInfo ``SN``
``pn``                 ``UUT.UUTPartNumber``, ``UUT.PartNumber``, ReportInfo ``PN``,
                       ``arguments.part_number``; none: the report fails
``rev``                ``UUT.UUTPartRevisionNumber``, ReportInfo ``Rev``, ``arguments.revision``,
                       ``1.0`` (WATS's TestStand converter's default)
``processCode``        the operation (``UUT.UUTOperationTypeDetails.OpTypeName``, else the code
                       ``UUT.UUTOperationType``, else ReportInfo ``PCode``) through
                       ``process_map``/``process``; default 10
``machineName``...     the station's own name, location and purpose (``[station]``, or the
                       converter's ``[converters.station]``); ``StationInfo.StationID`` becomes
                       the misc info ``TestStand station``. With ``station_from_file``:
                       ``StationInfo.StationID``, ``.Location``, ``.Purpose`` (add-on) where
                       the file has them
``uut.user``           ``StationInfo.LoginName``, ``arguments.operator``
``start``              ReportInfo ``Start`` (its offset kept), ReportInfo ``StartUTC``, else
                       ``StartDate``/``StartTime`` in ``arguments.timezone`` (or the station's)
``result``             the main result's ``Status``; ``Report@UUTResult`` if it has none
``uut.execTime``       the main result's ``TS.TotalTime``
``uut.*``              ``Comment``, ``UUT_Fixture_ID``, ``BatchSerialNumber``, ``TestSocketIndex``,
                       ``UUTLoopIndex`` (as WATS: the batch loop index), ``BatchFailCount``, the
                       main result's ``Error.Code``/``Msg``
``miscInfos``          ``UUT.MiscUUTResult.Misc_UUT_Info[]``: Description, Data_String, Data_Numeric
``subUnits``           ``UUT.MiscUUTResult.UUT_Part_Info[]``: Part_Type, Part_Number,
                       Part_Serial_Number, Part_Revision_Number
``additionalData``     each child of ``UUT.AdditionalData``; then ``UUT``, ``StationInfo`` and
                       ``ReportInfo`` with what the members above did not take
causedUUTFailure       the result named last in ``UUT.CriticalFailureStack`` (its ``ResultId``);
                       without one, the first failing step down the failing branch
=====================  ============================================================================

Step start times are ReportInfo ``EngineStarted`` + ``TS.StartTime``; a report without the add-on
has no engine start, so its steps are placed relative to the main result, which starts at the
report's start (the add-on's files show the two within a few tens of milliseconds).
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pywats.models.report import MiscInfo, Step, UUTInfo, UUTReport
from pywats_station.converters.api import ConversionError, ConverterContext
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._common import argument
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
    resolve_process,
)
from pywats_station.converters.builtin._teststand_steps import StepReader, Timing
from pywats_station.converters.builtin._teststand_unit import (
    additional_data,
    blame,
    misc_infos,
    sub_units,
)
from pywats_station.converters.builtin._teststand_values import (
    Source,
    fit,
    identity,
    integer,
    number,
    status,
    text_of,
)
from pywats_station.converters.builtin._teststand_xml import Node, shorten

__all__ = ["DEFAULT_PROCESS", "DEFAULT_REVISION", "NotFinished", "build_report", "main_result"]

DEFAULT_PROCESS = 10
"""The process WATS's TestStand converter uses when nothing says one (``operationTypeCode``)."""
DEFAULT_REVISION = "1.0"
"""The revision WATS's TestStand converter uses when the file has none (``partRevision``)."""

_OPERATOR = 128
_RESULTS = frozenset({"P", "F", "E", "T"})
_UNFINISHED = frozenset({"running", "looping", "waiting", "paused"})
_YEAR = re.compile(r"\b(\d{4})\b")


class NotFinished(ConversionError):
    """TestStand is still writing the report (the main sequence is ``Running``)."""


def main_result(report: Node) -> Node | None:
    """The main sequence's result: a ``TEResult`` child (named ``MainSequenceResults`` by the
    add-on, unnamed otherwise), or the first item of a ``TEResult`` array."""
    for prop in report.props():
        if prop.type == "TEResult":
            return prop
    for prop in report.props():
        if prop.type == "Array":
            for item in prop.values():
                inner = next((p for p in item.props() if p.type == "TEResult"), None)
                if inner is not None:
                    return inner
    return None


def build_report(
    report: Node,
    ctx: ConverterContext,
    args: EquipmentArguments,
    budget: OutputBudget,
    *,
    from_file: bool = False,
) -> tuple[UUTReport, bool] | None:
    """The report, and whether its id is the file's; ``None`` for a batch (not UUT) report.

    ``from_file``: name the station as the file does (``station_from_file``).

    Raises:
        ConversionError: a member is missing or wrong (naming its element), or the report
            breaks a WATS rule.
        NotFinished: the main sequence is still running.
    """
    kind = report.attrs.get("Type", "UUT").strip()
    if report.tag == "Report" and kind and kind.upper() != "UUT":
        return None
    main = main_result(report)
    if main is None:
        raise ConversionError(
            f"{report.where()}: the report holds no main sequence result (<Prop Type='TEResult'>)"
        )
    info = {n.attrs.get("key", ""): n for n in report.children if n.tag == "ReportInfo"}
    uut = report.prop("UUT")
    station = report.prop("StationInfo")
    start, origin = _start(report, info, main, args)
    reader = StepReader(Timing(origin), budget)
    root = reader.root(main)
    result = _result(report, main)
    sn = _required(
        [(uut, "SerialNumber"), ("SN", info)], report, "serial number (UUT.SerialNumber)"
    )
    pn = identity([(uut, "UUTPartNumber"), (uut, "PartNumber"), ("PN", info)])
    pn = pn or args.part_number
    if not pn:
        raise ConversionError(
            f"{(uut or report).where()}: the report has no part number (UUT.PartNumber is "
            f"empty); set {argument(args, 'part_number')} in the converter's configuration"
        )
    rev = identity([(uut, "UUTPartRevisionNumber"), ("Rev", info)])
    name, location, purpose, station_used, station_misc = _station(station, ctx, from_file)
    found_id = _report_id(info)
    built = UUTReport(
        id=found_id or uuid.UUID(int=0),
        pn=pn,
        sn=sn,
        rev=rev or args.revision or DEFAULT_REVISION,
        process_code=_process(report, uut, info, ctx, args),
        result=result,
        machine_name=name,
        location=location,
        purpose=purpose,
        start=start,
        uut=_uut(uut, station, root, args),
        root=root,
        misc_infos=[*station_misc, *misc_infos(uut)] or None,
        sub_units=sub_units(uut) or None,
        additional_data=additional_data(report, main, info, uut, station, station_used) or None,
    )
    for number_, step in enumerate(root.walk(), start=1):
        step.id = number_
    blame(built, uut, reader.by_result_id)
    problems = built.validate(server_rules=True)
    if problems:
        listed = "; ".join(shorten(str(p), 300) for p in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ConversionError(
            f"{report.where()} (SN {shorten(sn)}): the report breaks WATS's rules: {listed}{more}"
        )
    return built, found_id is not None


# --- identity -----------------------------------------------------------------------------------


def _required(sources: list[Source], report: Node, what: str) -> str:
    found = identity(sources, what=what.partition(" (")[0])
    if found is None:
        raise ConversionError(f"{report.where()}: the report has no {what}")
    return found


def _report_id(info: dict[str, Node]) -> uuid.UUID | None:
    found = info.get("ID")
    if found is None:
        return None
    try:
        return uuid.UUID(found.attrs.get("value", "").strip())
    except ValueError:
        raise ConversionError(
            f"{found.where()}: {shorten(found.attrs.get('value', ''))!r} is not a report id "
            "(a GUID)"
        ) from None


def _process(
    report: Node,
    uut: Node | None,
    info: dict[str, Node],
    ctx: ConverterContext,
    args: EquipmentArguments,
) -> int:
    operation: str | None = None
    where = report
    details = uut.prop("UUTOperationTypeDetails", "OpTypeName") if uut is not None else None
    code = uut.prop("UUTOperationType") if uut is not None else None
    if details is not None and (text_of(details) or "").strip():
        operation, where = (text_of(details) or "").strip(), details
    elif code is not None and (value := number(code)) > 0:
        operation, where = (f"{value:g}" if math.isfinite(value) else None), code
    elif "PCode" in info and info["PCode"].attrs.get("value", "").strip():
        operation, where = info["PCode"].attrs["value"].strip(), info["PCode"]
    try:
        return resolve_process(ctx, args, operation, DEFAULT_PROCESS)
    except ConversionError as exc:
        raise ConversionError(f"{where.where()}: {exc}") from None


def _station(
    station: Node | None, ctx: ConverterContext, from_file: bool
) -> tuple[str, str, str, set[str], list[MiscInfo]]:
    """Name, location, purpose, the StationInfo members used, and a misc info naming the file's
    station when the report names this one."""
    own = ctx.station
    if station is None:
        return own.name, own.location, own.purpose, set(), []
    if not from_file:
        said = (text_of(station.prop("StationID")) or "").strip()
        if not said:
            return own.name, own.location, own.purpose, set(), []
        misc = MiscInfo(description="TestStand station", text=fit(said, 255))
        return own.name, own.location, own.purpose, {"StationID"}, [misc]
    name = identity([(station, "StationID")], what="station name")
    location = identity([(station, "Location")], limit=255, what="location")
    purpose = identity([(station, "Purpose")], limit=255, what="purpose")
    used = {key for key, value in (("StationID", name), ("Location", location),
                                   ("Purpose", purpose)) if value}  # fmt: skip
    return name or own.name, location or own.location, purpose or own.purpose, used, []


# --- times and result ---------------------------------------------------------------------------


def _info_time(node: Node, what: str) -> datetime:
    raw = node.attrs.get("value", "").strip()
    try:
        return datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", raw))
    except ValueError:
        raise ConversionError(f"{node.where()}: {shorten(raw)!r} is not a {what}") from None


def _start(
    report: Node, info: dict[str, Node], main: Node, args: EquipmentArguments
) -> tuple[datetime, datetime | None]:
    """The report's start, and the time at engine second 0 (where step start times count from)."""
    if "Start" in info:
        start = local_time(_info_time(info["Start"], "start time"), args)
    elif "StartUTC" in info:
        utc = _info_time(info["StartUTC"], "start time")
        utc = utc if utc.tzinfo is not None else utc.replace(tzinfo=UTC)
        start = utc.astimezone(ZoneInfo(args.timezone) if args.timezone else None)
    else:
        start = _details_start(report, args)
    if "EngineStarted" in info:
        engine = _info_time(info["EngineStarted"], "time")
        engine = engine if engine.tzinfo is not None else engine.replace(tzinfo=UTC)
        return start, engine.astimezone(start.tzinfo)
    seconds = main.prop("TS", "StartTime")
    offset = number(seconds) if seconds is not None else math.nan
    if not math.isfinite(offset) or abs(offset) > 1e9:
        return start, None
    return start, start - timedelta(seconds=offset)


def _details_start(report: Node, args: EquipmentArguments) -> datetime:
    """The start of a report without the add-on: ``StartDate`` and ``StartTime`` details."""
    date, time = report.prop("StartDate"), report.prop("StartTime")
    if date is None or time is None:
        raise ConversionError(
            f"{report.where()}: the report has no start time (ReportInfo Start, or StartDate "
            "and StartTime)"
        )

    def part(node: Node, name: str, default: int | None = None) -> int:
        prop = node.prop(name)
        if prop is None:
            if default is not None:
                return default
            raise ConversionError(f"{node.where()}: {node.name} has no {name}")
        return integer(prop)

    year_prop = date.prop("Year")
    if year_prop is not None:
        year = integer(year_prop)
    else:  # older TestStand versions write the date as text only
        texts = [text_of(date.prop(n)) or "" for n in ("Text", "ShortText")]
        years = [m.group(1) for t in texts if (m := _YEAR.search(t))]
        if not years:
            raise ConversionError(f"{date.where()}: StartDate has no year")
        year = int(years[0])
    try:
        naive = datetime(
            year,
            part(date, "Month"),
            part(date, "MonthDay"),
            part(time, "Hours"),
            part(time, "Minutes"),
            part(time, "Seconds"),
            part(time, "Milliseconds", 0) * 1000,
        )
    except ValueError as exc:
        raise ConversionError(f"{date.where()}: the start is not a date and time: {exc}") from None
    return local_time(naive, args)


def _result(report: Node, main: Node) -> str:
    said = main.prop("Status")
    word = (text_of(said) or "").strip()
    letter = status(word)
    if letter in _RESULTS:
        return letter
    if letter == "D":
        return "P"
    if word.lower() in _UNFINISHED:
        assert said is not None
        raise NotFinished(
            f"{said.where()}: the main sequence is still {word!r}: TestStand is writing the "
            "report while it tests; it is converted once the test has ended"
        )
    fallback = status(report.attrs.get("UUTResult"))
    if fallback in _RESULTS:
        return fallback
    place = said.where() if said is not None else main.where()
    raise ConversionError(
        f"{place}: the main sequence's status {shorten(word)!r} is not Passed, Failed, Error or "
        "Terminated"
    )


# --- the uut member ------------------------------------------------------------------------------


def _uut(uut: Node | None, station: Node | None, root: Step, args: EquipmentArguments) -> UUTInfo:
    operator = identity([(station, "LoginName")], limit=_OPERATOR, what="operator")

    def whole(name: str) -> int | None:
        prop = uut.prop(name) if uut is not None else None
        return integer(prop) if prop is not None and prop.value() is not None else None

    return UUTInfo(
        user=operator or args.operator,
        comment=fit(text_of(uut.prop("Comment")) if uut is not None else None, 1000) or None,
        exec_time=root.tot_time,
        test_socket_index=whole("TestSocketIndex"),
        batch_sn=identity([(uut, "BatchSerialNumber")], what="batch serial number"),
        batch_loop_index=whole("UUTLoopIndex"),
        batch_fail_count=whole("BatchFailCount"),
        error_code=root.error_code,
        error_message=root.error_message,
        fixture_id=identity([(uut, "UUT_Fixture_ID")], what="fixture id"),
    )

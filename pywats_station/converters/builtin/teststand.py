"""The ``teststand`` converter: NI TestStand XML reports, with or without the WATS add-on.

Two layouts, both without an XML namespace (which tells them from ATML and WSXF):

* **with the WATS TestStand add-on**: root ``<TSReport>``, a list of ``<ReportInfo key= value=>``
  (report id, start time with its UTC offset, engine start…), then the ``UUT`` and
  ``StationInfo`` property objects and ``MainSequenceResults``;
* **TestStand's own XML report**: root ``<Reports>`` holding one ``<Report Type='UUT'>`` per
  unit (a ``<Report>`` root alone is read too), each with the ``UUT``, ``StartDate``,
  ``StartTime`` and ``StationInfo`` objects and an unnamed main result.

Every ``<Report Type='UUT'>`` of a file becomes one report (WATS's own converter reads only the
first); batch reports (``Type='Batch'``) are summaries and are passed over, and a file holding
nothing else is *skipped*. How the header is read is in
:mod:`~pywats_station.converters.builtin._teststand_header`, the steps in
:mod:`~pywats_station.converters.builtin._teststand_steps`, the XML in
:mod:`~pywats_station.converters.builtin._teststand_xml`.

The reader streams: one ``<Report>`` is in memory at a time, and each step is counted against the
output budget as it is made. A file cut short (a copy that did not finish, TestStand writing it)
is not well-formed and fails, naming where it ends; a report TestStand is still writing on the
fly (its main sequence ``Running``) is *suspended* and tried again.

Arguments (besides :class:`~pywats_station.converters.builtin._equipment.EquipmentArguments`):
    station_from_file (bool, default false): name the station as the file does
        (``StationInfo.StationID``, and the add-on's ``Location``/``Purpose``), as WATS's own
        converter does, for a folder several TestStand stations write to; false: the station's
        own name, location and purpose, the file's station ID kept as a misc info.
    encoding (str, optional): read the file in this (one-byte) encoding, whatever its XML
        declaration says.
"""

from __future__ import annotations

import codecs
import hashlib
import uuid
from pathlib import Path
from typing import ClassVar
from xml.parsers import expat

import msgspec

from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Skipped,
    Suspended,
    Validation,
)
from pywats_station.converters.builtin._budget import current_budget, human_size
from pywats_station.converters.builtin._common import read_head
from pywats_station.converters.builtin._equipment import EquipmentArguments
from pywats_station.converters.builtin._teststand_header import (
    NotFinished,
    build_report,
    main_result,
)
from pywats_station.converters.builtin._teststand_values import status, text_of
from pywats_station.converters.builtin._teststand_xml import (
    Node,
    NotTestStand,
    ReportReader,
    read_reports,
)

__all__ = ["TestStandArguments", "TestStandConverter", "read_teststand"]

_SNIFF = 64 * 1024  # what validate() reads: the header of every TestStand report fits
# The ids of reports whose file carries none: derived from the file's content, so converting
# the same file again re-sends the same reports (the server overwrites them).
_ID_NAMESPACE = uuid.UUID("0b9e3c52-5b8e-4d6f-a1d4-7f3a2c9e8b61")
_RETRY = 60.0  # seconds before a report TestStand is still writing is looked at again


class TestStandArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``teststand`` converter (see the module docstring)."""

    station_from_file: bool = False
    encoding: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"encoding {self.encoding!r} is not an encoding name") from None
            try:  # the XML parser takes one-byte encodings only (UTF-8/16 it finds by itself)
                expat.ParserCreate(self.encoding).Parse(b"<a/>", True)
            except (ValueError, LookupError, expat.ExpatError) as exc:
                raise ValueError(f"encoding {self.encoding!r} cannot be used: {exc}") from None


def _arguments(ctx: ConverterContext) -> TestStandArguments:
    found = ctx.arguments
    return found if isinstance(found, TestStandArguments) else TestStandArguments()


def read_teststand(path: Path, ctx: ConverterContext) -> tuple[list[UUTReport], int]:
    """Convert every UUT report of a TestStand XML file; also say how many reports were passed
    over (batch reports).

    Raises:
        ConversionError: the file is broken or a report cannot be made (naming the place), or
            a report is over the output limits.
        NotFinished: TestStand is still writing a report.
    """
    args = _arguments(ctx)
    budget = current_budget()
    reports: list[UUTReport] = []
    own_ids: list[bool] = []
    passed_over = 0
    for element in read_reports(path, args.encoding):
        budget.start_report()
        made = build_report(element, ctx, args, budget, from_file=args.station_from_file)
        if made is None:
            passed_over += 1
            continue
        report, has_id = made
        budget.add_report(report, element.line)
        reports.append(report)
        own_ids.append(has_id)
    if not all(own_ids):
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        for index, (report, has_id) in enumerate(zip(reports, own_ids, strict=True)):
            if not has_id:
                report.id = uuid.uuid5(_ID_NAMESPACE, f"{digest}\0{index}")
    return reports, passed_over


class TestStandConverter(FileConverter):
    """NI TestStand XML reports (``*.xml``), with or without the WATS add-on's data."""

    name: ClassVar[str] = "teststand"
    description: ClassVar[str] = "NI TestStand XML reports (with or without the WATS add-on)"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml",)
    Arguments: ClassVar[type[msgspec.Struct]] = TestStandArguments
    keeps_report_ids = True  # the add-on's report id; a content-derived one otherwise

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """Rate a file by its first 64 kB: 1.0 for a TestStand report's root and first report.

        ``<TSReport>`` (the add-on) or ``<Reports>``/``<Report>`` holding TestStand properties,
        without a namespace: 1.0; a ``<Reports>`` root whose first report is not in the first
        64 kB: 0.5; any other document: 0.0.
        """
        args = _arguments(ctx)
        try:
            head = read_head(path, _SNIFF + 1)
        except OSError as exc:  # a folder, a file gone or unreadable: not for this converter
            return Validation(confidence=0.0, message=f"not a TestStand XML report: {exc}")
        whole = len(head) <= _SNIFF
        try:
            reader = ReportReader(args.encoding)
        except ConversionError as exc:
            return Validation(confidence=0.0, message=str(exc))
        problem: str | None = None
        try:
            reader.feed(head[:_SNIFF], final=whole)
        except NotTestStand as exc:
            return Validation(confidence=0.0, message=str(exc))
        except ConversionError as exc:
            problem = str(exc)
        root = reader.root
        if root is None:
            why = problem or f"no XML element in the first {human_size(len(head))}"
            return Validation(confidence=0.0, message=f"not a TestStand XML report: {why}")
        report = reader.current()
        if root.tag == "TSReport" or (report is not None and _has_properties(report)):
            layout = "with WATS add-on data" if root.tag == "TSReport" else "(TestStand's own)"
            message = f"TestStand XML report {layout}"
            preview = _preview(report, args) if report is not None else Preview()
            return Validation(
                confidence=1.0,
                preview=preview,
                message=f"{message}; {problem}" if problem else message,
            )
        if root.tag == "Reports" and report is None and not whole and problem is None:
            return Validation(
                confidence=0.5,
                message=f"<Reports> without a <Report> in the first {_SNIFF:,} bytes",
            )
        return Validation(
            confidence=0.1,
            message=problem or f"<{root.tag}> holds no TestStand properties (<Prop>)",
        )

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per UUT report of the file (see the module docstring)."""
        try:
            reports, passed_over = read_teststand(path, ctx)
        except NotFinished as exc:
            return Suspended(reason=str(exc), retry_after=_RETRY)
        if reports:
            found: list[UUTReport | UURReport] = list(reports)
            return Converted(reports=found)
        if passed_over:
            return Skipped(reason=f"only batch reports ({passed_over}), no UUT report")
        raise ConversionError("the file holds no report: <Reports> has no <Report> element")


def _has_properties(report: Node) -> bool:
    return "Type" in report.attrs or any(True for _ in report.props())


def _preview(report: Node, args: TestStandArguments) -> Preview:
    """What the head says: serial and part number, and the result when it is there already."""
    info = {n.attrs.get("key", ""): n.attrs.get("value") for n in report.children
            if n.tag == "ReportInfo"}  # fmt: skip

    def first(*found: str | None) -> str | None:
        return next((f.strip() for f in found if f and f.strip()), None)

    uut = report.prop("UUT")
    sn = first(uut.scalar("SerialNumber") if uut else None, info.get("SN"))
    pn = first(
        uut.scalar("UUTPartNumber") if uut else None,
        uut.scalar("PartNumber") if uut else None,
        info.get("PN"),
        args.part_number,
    )
    main = main_result(report)
    said = status(text_of(main.prop("Status")) if main is not None else None)
    if said not in ("P", "F", "E", "T"):
        said = status(report.attrs.get("UUTResult"))
    return Preview(
        serial_number=sn, part_number=pn, result=said if said in ("P", "F", "E", "T") else None
    )

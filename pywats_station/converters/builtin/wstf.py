"""The WSTF converter: the WATS Standard Text Format, tab-separated, one or more UUTs per file.

No public sample of the format exists; this is the layout accepted (after the description of
Virinco's converter in ``wats-api.md`` §8). ``<TAB>`` is one tab character; blank lines are
ignored; markers and keys are matched in any case::

    --Header-Start--
    SerialNumber<TAB>SN-0001                 required
    PartNumber<TAB>PCBA-100                  required
    Revision<TAB>B                           required (or arguments.revision)
    OperationTypeCode<TAB>50                 the process: a code, or
    OperationTypeName<TAB>PCBA test          its name (or arguments.process)
    StationName<TAB>FCT-3                    default: the station's name
    OperatorName<TAB>anna
    StartDateTime<TAB>2024-03-01T10:15:00+01:00   ISO 8601 (or arguments.time_format);
    UTCStartDateTime<TAB>2024-03-01T09:15:00      no offset = local (UTC for the UTC key);
                                                  neither: the file's modification time
    ExecutionTime<TAB>12.5                   seconds
    UUTStatus<TAB>Passed                     Passed/Failed/Error/Terminated (or P/F/E/T)
    SoftwareName<TAB>fct.seq    SoftwareVersion<TAB>1.4   (root sequence name, version)
    BatchSerialNumber, Comment, FixtureId, ErrorCode, ErrorMessage, TestSocketIndex
    Subunit<TAB>PartType<TAB>PartNumber<TAB>SerialNumber<TAB>Revision   (any number)
    AnyOtherKey<TAB>value                    becomes a misc info
    --Header-End--                           optional
    --Step-Data-Start--
    StepType<TAB>StepName<TAB>MeasureName<TAB>Value<TAB>LowLimit<TAB>HighLimit<TAB>
        CompOperator<TAB>Unit<TAB>Status<TAB>ExecTime<TAB>ReportText<TAB>ErrorCode<TAB>
        ErrorMessage                          optional column row (then in its order)
    SequenceCall<TAB>Power                    opens a sequence …
    NumericLimitTest<TAB>3V3<TAB><TAB>3.31<TAB>3.2<TAB>3.4<TAB>GELE<TAB>V<TAB>Passed
    EndSequenceCall                           … and closes it
    --Step-Data-End--
    UUTStatus<TAB>Passed                      footer: the same keys as the header
    --UUT-End--                               the next UUT may follow

Step types: ``SequenceCall``/``EndSequenceCall`` (nesting), ``NumericLimitTest``,
``MultipleNumericLimitTest``, ``PassFailTest`` (``Value`` 1/0, true/false, pass/fail; or only
``Status``), ``StringValueTest`` (the limit in ``LowLimit``), ``ActionStep``. Consecutive rows
of one test type with the same ``StepName`` and a ``MeasureName`` form one multi-measurement
step, one measurement per row. ``CompOperator`` is a WATS operator (``GELE``, ``LT``,
``CASESENSIT``…); when empty it follows from the limits (both ``GELE``, low ``GE``, high ``LE``,
none ``LOG``; a string with a limit ``CASESENSIT``). ``Status`` is taken as written
(Passed/Failed/Done/Skipped/Error/Terminated or the letter); when empty it is computed from the
limits, and sequence statuses and the report result follow from their steps. ``Chart`` and
``Series`` rows are not supported (the input fails naming the line).

Arguments: ``process`` (name or code used when the header has none), ``revision`` (used when
the header has none), ``time_format`` (``strptime`` format of the start times), ``decimal``
(``"."`` or ``","``), ``encoding`` (default UTF-8; a byte-order mark wins).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

import msgspec

from pywats._errors import ReportInvalidError
from pywats.models.report import UUTReport
from pywats.report_builder import ReportBuilder, UUTBuilder
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._budget import OutputBudget, current_budget
from pywats_station.converters.builtin._common import (
    file_time,
    parse_number,
    parse_status,
    parse_time,
)
from pywats_station.converters.builtin._textfile import head_text, iter_lines
from pywats_station.converters.builtin._wstf_read import StepRow, Unit, read_units
from pywats_station.converters.builtin._wstf_steps import add_steps

__all__ = ["WstfArguments", "WstfConverter", "read_wstf"]

_SNIFF = 65536
_RESULTS = {"P": "P", "F": "F", "E": "E", "T": "T", "D": "P", "S": "P", "U": "P"}
# Header keys with a place in the report; any other key becomes a misc info.
_KNOWN_KEYS = frozenset(
    {
        "serialnumber",
        "partnumber",
        "revision",
        "operationtypename",
        "operationtypecode",
        "stationname",
        "operatorname",
        "softwarename",
        "softwareversion",
        "batchserialnumber",
        "comment",
        "fixtureid",
        "uutstatus",
        "errorcode",
        "errormessage",
        "startdatetime",
        "utcstartdatetime",
        "executiontime",
        "testsocketindex",
    }
)


class WstfArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``wstf`` converter."""

    process: str | int | None = None
    revision: str | None = None
    time_format: str | None = None
    decimal: Literal[".", ","] = "."
    encoding: str = "utf-8"


def read_wstf(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert a WSTF file into one report per UUT, reading it line by line.

    A generator: each report is made when it is asked for; every step and report is counted
    against the output budget (:mod:`~pywats_station.converters.builtin._budget`).

    Raises:
        ConversionError: anything wrong, naming the line; reports over a cap
            (``OutputTooLarge``).
    """
    args = ctx.arguments if isinstance(ctx.arguments, WstfArguments) else WstfArguments()
    budget = current_budget()
    lines, ahead = iter_lines(path, args.encoding), iter_lines(path, args.encoding)
    try:
        found = False
        for unit, rows in read_units(lines, ahead):
            found = True
            budget.start_report()
            report = _report(unit, rows, path, ctx, args, budget)
            budget.add_report(report, unit.end_line)
            yield report
        if not found:
            raise ConversionError("the file holds no UUT (no --Header-Start--)")
    finally:
        lines.close()
        ahead.close()


def _required(unit: Unit, key: str, fallback: str | None = None) -> str:
    found = unit.value(key)
    if found is not None and found.value:
        return found.value
    if fallback:
        return fallback
    raise ConversionError(f"line {unit.start_line}: the UUT has no {key} in its header")


def _report(
    unit: Unit,
    rows: Iterator[StepRow],
    path: Path,
    ctx: ConverterContext,
    args: WstfArguments,
    budget: OutputBudget,
) -> UUTReport:
    sn, pn = _required(unit, "SerialNumber"), _required(unit, "PartNumber")
    rev = _required(unit, "Revision", args.revision)
    builder = ReportBuilder.uut(
        pn=pn,
        sn=sn,
        rev=rev,
        process_code=_process(unit, ctx, args),
        station=_optional(unit, "StationName") or ctx.station.name,
        location=ctx.station.location,
        purpose=ctx.station.purpose,
        operator=_optional(unit, "OperatorName"),
        start=_start(unit, path, args),
    )
    _header(builder, unit, args)
    if unit.steps_seen:
        add_steps(builder.root, rows, args.decimal, budget)
    try:
        return builder.build()
    except (ReportInvalidError, ValueError) as exc:
        raise ConversionError(f"UUT at line {unit.start_line} (SN {sn}): {exc}") from None


def _optional(unit: Unit, key: str) -> str | None:
    found = unit.value(key)
    return found.value if found is not None and found.value else None


def _process(unit: Unit, ctx: ConverterContext, args: WstfArguments) -> int:
    for key in ("OperationTypeCode", "OperationTypeName"):
        found = unit.value(key)
        if found is not None and found.value:
            try:
                return ctx.process_code(found.value)
            except ConversionError as exc:
                raise ConversionError(f"line {found.line}: {exc}") from None
    if args.process is not None:
        return ctx.process_code(args.process)
    raise ConversionError(
        f"line {unit.start_line}: the UUT has no OperationTypeCode or OperationTypeName "
        "(or set arguments.process)"
    )


def _start(unit: Unit, path: Path, args: WstfArguments) -> datetime:
    for key, utc in (("StartDateTime", False), ("UTCStartDateTime", True)):
        found = unit.value(key)
        if found is not None and found.value:
            return parse_time(found.value, f"line {found.line}", args.time_format, utc=utc)
    return file_time(path)


def _header(builder: UUTBuilder, unit: Unit, args: WstfArguments) -> None:
    def number(key: str) -> float | None:
        found = unit.value(key)
        if found is None or not found.value:
            return None
        return parse_number(found.value, f"line {found.line}, {key}", args.decimal)

    def integer(key: str) -> int | None:
        value = number(key)
        if value is not None and not value.is_integer():
            found = unit.value(key)
            line = found.line if found else unit.start_line
            raise ConversionError(f"line {line}, {key}: {value:g} is not a whole number")
        return None if value is None else int(value)

    name, version = _optional(unit, "SoftwareName"), _optional(unit, "SoftwareVersion")
    if name or version:
        builder.sequence_info(name=name, version=version)
    try:
        builder.details(
            comment=_optional(unit, "Comment"),
            exec_time=number("ExecutionTime"),
            fixture_id=_optional(unit, "FixtureId"),
            batch_sn=_optional(unit, "BatchSerialNumber"),
            test_socket_index=integer("TestSocketIndex"),
            error_code=integer("ErrorCode"),
            error_message=_optional(unit, "ErrorMessage"),
        )
    except ValueError as exc:
        raise ConversionError(f"UUT at line {unit.start_line}: {exc}") from None
    status = unit.value("UUTStatus")
    if status is not None and status.value:
        letter = parse_status(status.value, f"line {status.line}, UUTStatus")
        builder.result(_RESULTS[letter or "P"])
    for line, cells in unit.subunits:
        part_type, sub_pn, sub_sn, sub_rev = [*cells, "", "", "", ""][:4]
        if not (part_type and sub_pn and sub_sn and sub_rev):
            raise ConversionError(
                f"line {line}: Subunit needs PartType, PartNumber, SerialNumber and Revision"
            )
        builder.sub_unit(part_type, pn=sub_pn, sn=sub_sn, rev=sub_rev)
    for key, found in unit.header.items():
        if key not in _KNOWN_KEYS and found.value:
            try:
                builder.misc_info(unit.header_names[key], found.value)
            except ValueError as exc:  # a key no misc info can carry (blank, say)
                raise ConversionError(f"line {found.line}: {exc}") from None


class WstfConverter(FileConverter):
    """WATS Standard Text Format (tab-separated ``*.txt``), one report per UUT."""

    name: ClassVar[str] = "wstf"
    description: ClassVar[str] = "WATS Standard Text Format (WSTF), tab-separated"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt",)
    Arguments: ClassVar[type[msgspec.Struct]] = WstfArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 when the file starts with ``--Header-Start--`` (preview from the header)."""
        args = ctx.arguments if isinstance(ctx.arguments, WstfArguments) else WstfArguments()
        try:
            text = head_text(path, _SNIFF, args.encoding)
        except ConversionError as exc:
            return Validation(confidence=0.0, message=str(exc))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines or lines[0].lower() != "--header-start--":
            if "--step-data-start--" in text.lower():
                return Validation(confidence=0.8, message="no --Header-Start-- at the top")
            return Validation(confidence=0.0, message="no WSTF section markers")
        header: dict[str, str] = {}
        for line in lines[1:]:
            if line.startswith("--"):
                break
            key, _, value = line.partition("\t")
            header.setdefault(key.strip().lower(), value.strip())
        preview = Preview(
            serial_number=header.get("serialnumber"),
            part_number=header.get("partnumber"),
            result=header.get("uutstatus"),
        )
        return Validation(confidence=1.0, preview=preview)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per UUT of the file, read line by line."""
        return Converted(reports=list(read_wstf(path, ctx)))

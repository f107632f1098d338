"""The ``takaya_atd`` converter: TAKAYA flying-probe ATD files, one report per board.

Both layouts TAKAYA testers write are read: the tab-separated ATD (a ``Group_No.`` column
header, 58 columns a row) and the APT-94xx quoted layout (``000932 "P2P1" …``). The frame of
the file (panel header, ``* GROUP No.n *`` boards, ``@`` lines) is described in
:mod:`._takaya_read`, the rows in :mod:`._takaya_rows`, the steps in :mod:`._takaya_steps`.

Every board (``* GROUP No.n *``) of a panel is one report:

* serial number from ``Serial No.:`` (the APT-94xx writes ``<serial> (<operator> - <operator>)``:
  the first name in brackets is the operator, the second (after `` - ``, ``+``, ``,``, ``;`` or
  ``/``) goes to misc info ``Operator 2``; with
  ``split_batch`` a ``<batch>-<serial>`` is split at its first dash, as WATS's APT-94xx converter
  does);
* part number, revision and side from the test program's name in ``Model:``
  (``V682780_B_BOT.SWX``: part ``V682780``, revision ``B``, side bottom; a part ending in
  ``T``/``B`` after a digit names the side too), unless ``part_number``/``revision`` are given;
* start from ``DATE`` (day first unless ``day_first = false``; local time in ``timezone`` or the
  station's zone), execution time from ``Test time:`` or else the sum of the rows' measuring
  times; result from the board's ``* PASS *``/``* FAIL *`` (``NO-TEST``: terminated); the board
  number as the test socket; the operator from ``User name :`` (or the serial line);
* the process: ``process_map`` keyed by the side (``bottom``/``top``; ``debug`` for a file whose
  name has ``_debug``), else ``process``, else the code WATS's converters use: 30 for the tab
  layout, 30 top and 31 bottom for the APT-94xx layout, 10 for a ``_debug`` file;
* misc info: ``Tester ID`` (``Test ID :``), ``Side``, ``Counters`` and ``Panel counters`` (the
  ``D.T``/``G.T`` lines), ``Panel result``, ``Operator 2`` and every other ``Key:value`` line of
  the header.

The file is read once, line by line; each board's report is made when its rows are read. A file
without its closing ``@`` (cut short, still being written) fails, naming the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import ClassVar

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
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
    resolve_process,
)
from pywats_station.converters.builtin._spea_text import (
    check_encoding,
    head_lines,
    numbered_lines,
    resolve_encoding,
)
from pywats_station.converters.builtin._takaya_read import Group, read_groups
from pywats_station.converters.builtin._takaya_rows import Row
from pywats_station.converters.builtin._takaya_steps import Thresholds, add_rows

__all__ = ["Model", "TakayaAtdArguments", "TakayaAtdConverter", "parse_model", "read_takaya"]

_SNIFF = 16 * 1024
_RESULTS = {"PASS": "P", "FAIL": "F", "NO-TEST": "T"}
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:s|sec)?$", re.IGNORECASE)
_SIDE_LETTER = re.compile(r"^(.*\d)([TB])$")
_SERIAL = re.compile(r"^(.*?)\s*\((.*)\)\s*$")
# Between two operators: " - " (WATS's converter's only separator), "+", ",", ";" or "/"; a
# dash without blanks is part of a name (Jean-Luc).
_OPERATORS = re.compile(r"\s+-\s+|\s*[+,;/]\s*")


class TakayaAtdArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``takaya_atd`` converter: the equipment ones and these.

    Attributes:
        encoding: the text encoding; `auto` finds it from the file (see :mod:`._spea_text`).
        group_by_component: one sequence per component type (``R``, ``C``, ``P``…), else all
            steps directly under the root.
        open_threshold: ohms an open test (``OP``) must exceed.
        short_threshold: ohms a short test (``SH``) must stay below.
        day_first: ``DATE`` is day/month/year (TAKAYA's default); false for month/day/year.
        split_batch: read ``Serial No.:11111-BV0001`` as batch ``11111``, serial ``BV0001``.
    """

    encoding: str = "auto"
    group_by_component: bool = True
    open_threshold: float = 100.0
    short_threshold: float = 10.0
    day_first: bool = True
    split_batch: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_encoding(self.encoding)
        for name in ("open_threshold", "short_threshold"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a number of ohms above 0, not {value}")


@dataclass(frozen=True)
class Model:
    """What the test program's name says: ``V682780_B_BOT.SWX``."""

    program: str  # the name without folder and extension: V682780_B_BOT
    part: str  # V682780
    revision: str | None  # B
    side: str | None  # Bottom, Top


def parse_model(model: str) -> Model:
    """Split a ``Model:`` value into program, part, revision and side."""
    name = model.replace("\\", "/").rsplit("/", 1)[-1]
    program = name.rsplit(".", 1)[0] if "." in name else name
    tokens = program.split("_")
    part, side = tokens[0], None
    if lettered := _SIDE_LETTER.match(part):
        part, side = lettered.group(1), "Top" if lettered.group(2) == "T" else "Bottom"
    rest = []
    for token in tokens[1:]:
        word = token.upper()
        if word in ("BOT", "BOTTOM", "TOP"):
            side = "Top" if word == "TOP" else "Bottom"
        elif word not in ("PANEL", "SINGLE", ""):
            rest.append(token)
    return Model(program=program, part=part, revision="_".join(rest) or None, side=side)


def _args(ctx: ConverterContext) -> TakayaAtdArguments:
    args = ctx.arguments
    return args if isinstance(args, TakayaAtdArguments) else TakayaAtdArguments()


def read_takaya(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert a TAKAYA ATD file into one report per board, reading it line by line.

    Raises:
        ConversionError: anything wrong, naming the line; reports over a cap
            (``OutputTooLarge``).
    """
    args = _args(ctx)
    budget = current_budget()
    lines = numbered_lines(path, resolve_encoding(path, args.encoding))
    try:
        for group, rows in read_groups(lines):
            budget.start_report()
            report = _report(group, rows, path, ctx, args, budget)
            budget.add_report(report, group.end_line)
            yield report
    finally:
        lines.close()


def _start(group: Group, args: TakayaAtdArguments) -> datetime:
    header = group.header
    if header.date is None:
        raise ConversionError(f"line {header.line}: the panel header has no DATE line")
    match = _DATE.match(header.date)
    if match is not None:
        first, second, year, hour, minute, sec = match.groups()
        day, month = (first, second) if args.day_first else (second, first)
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        try:
            return local_time(
                datetime(full_year, int(month), int(day), int(hour), int(minute), int(sec or 0)),
                args,
            )
        except ValueError:
            pass
    order = "day/month/year" if args.day_first else "month/day/year"
    raise ConversionError(
        f"line {header.date_line}: DATE {header.date!r} is not a date ({order}) and a time"
    )


def _identity(group: Group, args: TakayaAtdArguments) -> tuple[Model | None, str, str]:
    header = group.header
    model = parse_model(header.model) if header.model else None
    part = args.part_number or (model.part if model else None)
    revision = args.revision or (model.revision if model else None)
    if not part or not revision:
        what = "part number" if not part else "revision"
        key = "part_number" if not part else "revision"
        said = f"Model {header.model!r}" if header.model else "no Model: line"
        raise ConversionError(
            f"line {header.model_line or header.line}: the panel header's {said} names no "
            f"{what}: set arguments.{key}"
        )
    return model, part, revision


def _serial(group: Group, args: TakayaAtdArguments) -> tuple[str, str | None, list[str]]:
    if not group.serial:
        raise ConversionError(
            f"line {group.line}: GROUP No.{group.number} has no serial number (no 'Serial No.:')"
        )
    serial, operators = group.serial, []
    if bracketed := _SERIAL.match(serial):
        serial = bracketed.group(1)
        names = _OPERATORS.split(bracketed.group(2))
        operators = [name.strip() for name in names if name.strip()]
    batch = None
    if args.split_batch and "-" in serial.strip("-"):
        batch, serial = serial.split("-", 1)
    if not serial:
        raise ConversionError(f"line {group.serial_line}: the serial number is empty")
    return serial, batch, operators


def _process(
    group: Group, model: Model | None, path: Path, ctx: ConverterContext, args: TakayaAtdArguments
) -> int:
    operation = model.side if model else None
    default = 31 if group.layout == "apt" and operation == "Bottom" else 30
    if "_debug" in path.name.lower():
        operation, default = "Debug", 10  # as WATS's ATD converter: a debug run of a program
    try:
        return resolve_process(ctx, args, operation, default)
    except ConversionError as exc:
        raise ConversionError(f"line {group.header.model_line or group.line}: {exc}") from None


def _header(builder: UUTBuilder, group: Group, model: Model | None, operators: list[str]) -> None:
    header = group.header
    builder.sequence_info(
        path=header.model,
        name=model.program if model else None,
        version=model.revision if model else None,
    )
    verdict = group.verdict or header.verdict
    if verdict is not None:
        builder.result(_RESULTS[verdict])
    misc = [("Tester ID", header.tester), ("Side", model.side if model else None)]
    misc += [("Operator 2", operators[1] if len(operators) > 1 else None)]
    misc += [("Counters", group.counters), ("Panel counters", header.counters)]
    misc += [("Panel result", header.verdict), *header.extra]
    for description, text in misc:
        if text:
            builder.misc_info(description, text)


def _report(
    group: Group,
    rows: Iterator[Row],
    path: Path,
    ctx: ConverterContext,
    args: TakayaAtdArguments,
    budget: OutputBudget,
) -> UUTReport:
    first = next(rows, None)  # the layout (and so the default process) is known from it
    model, part, revision = _identity(group, args)
    serial, batch, operators = _serial(group, args)
    where = f"GROUP No.{group.number} (line {group.line})"
    verdict = group.verdict or group.header.verdict
    try:
        builder = ReportBuilder.uut(
            pn=part,
            sn=serial,
            rev=revision,
            process_code=_process(group, model, path, ctx, args),
            station=ctx.station.name,
            location=ctx.station.location,
            purpose=ctx.station.purpose,
            operator=group.header.user or (operators[0] if operators else args.operator),
            start=_start(group, args),
        )
        _header(builder, group, model, operators)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"{where}: {exc}") from None
    measured = add_rows(
        builder.root,
        chain([first] if first is not None else [], rows),
        budget,
        Thresholds(args.open_threshold, args.short_threshold),
        group_by_component=args.group_by_component,
        fail_parent=verdict != "PASS",
    )
    builder.details(
        exec_time=_test_time(group) if group.header.test_time else round(measured, 6),
        test_socket_index=group.number if group.number < 2**31 else None,
        batch_sn=batch,
    )
    try:
        return builder.build()
    except (ReportInvalidError, ValueError) as exc:
        raise ConversionError(f"{where} (SN {serial}): {exc}") from None


def _test_time(group: Group) -> float:
    header = group.header
    match = _SECONDS.match(header.test_time or "")
    if match is None:
        raise ConversionError(
            f"line {header.test_time_line}: Test time {header.test_time!r} is not seconds"
        )
    return float(match.group(1))


def _preview(lines: list[str], args: TakayaAtdArguments) -> Preview:
    part = args.part_number
    serial = result = None
    for line in lines:
        if line.startswith("Model:") and part is None:
            part = parse_model(line[6:].strip()).part or None
        elif line.upper().startswith("SERIAL NO.") and serial is None:
            serial = line.partition(":")[2].strip() or None
        elif line.strip() in ("* PASS *", "* FAIL *") and serial is None:
            result = "Passed" if "PASS" in line else "Failed"
    return Preview(serial_number=serial, part_number=part, result=result)


class TakayaAtdConverter(FileConverter):
    """TAKAYA flying-probe ATD files (tab and APT-94xx layouts): one report per board."""

    name: ClassVar[str] = "takaya_atd"
    description: ClassVar[str] = "TAKAYA flying-probe ATD results (tab-separated and APT-94xx)"
    patterns: ClassVar[tuple[str, ...]] = ("*.atd",)
    Arguments: ClassVar[type[msgspec.Struct]] = TakayaAtdArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for the ``@`` header (verdict, ``Model:``, ``DATE``) and TAKAYA rows.

        Reads the first 16 kB only.
        """
        args = _args(ctx)
        try:
            lines = [line.strip() for line in head_lines(path, _SNIFF, args.encoding)]
        except ConversionError as exc:
            return Validation(confidence=0.0, message=str(exc))
        lines = [line for line in lines if line]
        closing = lines.index("@", 1) if "@" in lines[1:] else len(lines)
        header = lines[1:closing]
        marks = [
            bool(lines) and lines[0] == "@",
            any(re.fullmatch(r"\*?\s*(PASS|FAIL|NO-TEST)\s*\*?", h) for h in header),
            any(h.startswith("Model:") for h in header),
            any(h.startswith("DATE ") for h in header),
        ]
        rows = any(
            line.startswith("Group_No.\t") or re.match(r"\d{6}\s+\"", line) for line in lines
        )
        groups = any(re.fullmatch(r"\*\s*GROUP\s+No\.\s*\d+\s*\*", line) for line in lines)
        if not all(marks):
            if sum(marks) >= 2 and groups:
                return Validation(confidence=0.4, message="an incomplete TAKAYA header")
            return Validation(confidence=0.0, message="not a TAKAYA ATD file (no @ header)")
        preview = _preview(lines, args)
        if rows and groups:
            return Validation(confidence=1.0, preview=preview)
        return Validation(confidence=0.8, preview=preview, message="a TAKAYA header, no rows")

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per board, read line by line."""
        return Converted(reports=list(read_takaya(path, ctx)))

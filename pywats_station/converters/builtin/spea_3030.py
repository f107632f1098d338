"""The ``spea_3030`` converter: SPEA 3030 ICT records (``*.csv``), one report per board.

A file is a series of semicolon records, one per line, field 1 naming the record::

    FORMAT;mmdd                                       date order of the records that follow
    START;<program>;<sequence>;<version>;<sequence>;<operator>;<MM/dd/yyyy>;<HH:mm:ss>
    LOT;<lot>
    ANL;<site>;<reference>;<test>;<sub-test>;<name>;;<result>;<value>;<low>;<high>;<unit>;
        <nodes>;<index>                               one per analog measurement
    FUNC;…                                            functional tests, the same fields
    SN;<serial number>
    BOARDRESULT;PASS|FAIL
    END;PASS|FAIL;<date>;<time>

Every ``START`` … ``END`` block is one board, one report: serial number from ``SN``, operator
from ``START``, start time from ``START`` (local time, in ``arguments.timezone`` or the
station's zone), execution time up to ``END``, result from ``END`` (the tester's verdict), lot
as the batch serial number, the test program (``START`` fields 2 to 4) as the root sequence's
path, name and version, ``ANL`` field 2 (the board of the panel) as the test socket. The file
names no part number nor revision: they come from ``arguments.part_number`` and
``arguments.revision``, else from the test program's name and version (``START`` fields 3 and
4). The process: ``arguments.process_map`` keyed by the program name, else
``arguments.process``, else 10 (``SW Debug`` in a new WATS), the code WATS's SPEA converter
uses. The steps are described in :mod:`._spea_steps`.

The file is read twice, line by line, in bounded memory (:mod:`._spea_read`); every step and
report is counted against the output budget (:mod:`._budget`). A board without its ``END``
record (a copy cut short, a file still being written) fails the whole file, naming the line.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from pywats_station.converters.builtin._spea_read import (
    Board,
    Record,
    board_records,
    read_boards,
    split,
)
from pywats_station.converters.builtin._spea_steps import add_steps
from pywats_station.converters.builtin._spea_text import (
    check_encoding,
    head_lines,
    numbered_lines,
    resolve_encoding,
)

__all__ = ["DEFAULT_PROCESS", "Spea3030Arguments", "Spea3030Converter", "read_spea"]

DEFAULT_PROCESS = 10
"""The process of WATS's SPEA converter (its ``operationTypeCode``) when nothing says another."""

_SNIFF = 16 * 1024


class Spea3030Arguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``spea_3030`` converter: the equipment ones, and the encoding.

    Attributes:
        encoding: the text encoding; `auto` finds it from the file (a byte-order mark,
            UTF-16, UTF-8, else Windows-1252).
    """

    encoding: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_encoding(self.encoding)


def _args(ctx: ConverterContext) -> Spea3030Arguments:
    args = ctx.arguments
    return args if isinstance(args, Spea3030Arguments) else Spea3030Arguments()


def read_spea(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert a SPEA 3030 file into one report per board, reading it line by line.

    A generator: each report is made when it is asked for.

    Raises:
        ConversionError: anything wrong, naming the line; reports over a cap
            (``OutputTooLarge``).
    """
    args = _args(ctx)
    encoding = resolve_encoding(path, args.encoding)
    budget = current_budget()
    ahead, lines = numbered_lines(path, encoding), numbered_lines(path, encoding)
    try:
        for board in read_boards(ahead):
            budget.start_report()
            report = _report(board, board_records(lines, board), ctx, args, budget)
            budget.add_report(report, board.end_line)
            yield report
    finally:
        ahead.close()
        lines.close()


def _identity(board: Board, args: Spea3030Arguments) -> tuple[str, str]:
    pn = args.part_number or board.sequence
    rev = args.revision or board.version
    for value, field, key in ((pn, 3, "part_number"), (rev, 4, "revision")):
        if not value:
            raise ConversionError(
                f"line {board.start_line}: SPEA files name no {key.replace('_', ' ')}, and "
                f"START field {field} is empty to stand for it: set arguments.{key}"
            )
    return pn, rev


def _report(
    board: Board,
    records: Iterator[Record],
    ctx: ConverterContext,
    args: Spea3030Arguments,
    budget: OutputBudget,
) -> UUTReport:
    pn, rev = _identity(board, args)
    try:
        process = resolve_process(ctx, args, board.sequence or None, DEFAULT_PROCESS)
    except ConversionError as exc:
        raise ConversionError(f"line {board.start_line}: {exc}") from None
    where = board.where
    try:
        builder = ReportBuilder.uut(
            pn=pn,
            sn=board.serial or "",
            rev=rev,
            process_code=process,
            station=ctx.station.name,
            location=ctx.station.location,
            purpose=ctx.station.purpose,
            operator=board.operator or args.operator,
            start=local_time(board.start, args),
        )
        _header(builder, board)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"{where}: {exc}") from None
    site = add_steps(
        builder.root,
        records,
        budget,
        fail_parent=board.verdict != "P",
    )
    if site is not None and site.isdigit() and len(site) < 10:
        builder.details(test_socket_index=int(site))
    try:
        return builder.build()
    except (ReportInvalidError, ValueError) as exc:
        raise ConversionError(f"{where} (SN {board.serial}): {exc}") from None


def _header(builder: UUTBuilder, board: Board) -> None:
    builder.sequence_info(path=board.program, name=board.sequence, version=board.version)
    builder.result(board.verdict)
    duration = (board.end - board.start).total_seconds() if board.end else -1.0
    builder.details(
        exec_time=duration if duration >= 0 else None,  # a clock set back: no duration
        batch_sn=board.lot or None,
    )
    if board.sequence_again and board.sequence_again != board.sequence:
        builder.misc_info("START field 5", board.sequence_again)
    if board.board_result and board.board_result.upper() != board.verdict_word.upper():
        builder.misc_info("BOARDRESULT", board.board_result)


def _preview(lines: list[str], args: Spea3030Arguments) -> Preview:
    part, serial = args.part_number, None
    for line in lines:
        fields = split(line)
        kind = fields[0].strip().upper()
        if kind == "START" and len(fields) > 2 and part is None:
            part = fields[2].strip() or None
        elif kind == "SN" and len(fields) > 1:
            serial = fields[1].strip() or None
            break
    return Preview(serial_number=serial, part_number=part)


class Spea3030Converter(FileConverter):
    """SPEA 3030 ICT semicolon records (``*.csv``): one report per board."""

    name: ClassVar[str] = "spea_3030"
    description: ClassVar[str] = "SPEA 3030 in-circuit tester records (FORMAT/START/ANL/END)"
    patterns: ClassVar[tuple[str, ...]] = ("*.csv", "*.txt")
    Arguments: ClassVar[type[msgspec.Struct]] = Spea3030Arguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for ``FORMAT;``, ``START;`` and measurement records at the top of the file.

        Reads the first 16 kB only.
        """
        args = _args(ctx)
        try:
            lines = [line for line in head_lines(path, _SNIFF, args.encoding) if line.strip()]
        except ConversionError as exc:
            return Validation(confidence=0.0, message=str(exc))
        kinds = [split(line)[0].strip().upper() for line in lines]
        start = next((split(line) for line in lines if line.upper().startswith("START;")), None)
        measures = sum(1 for kind in kinds if kind in ("ANL", "FUNC"))
        first_is_format = bool(kinds) and kinds[0] == "FORMAT"
        if start is None or len(start) < 8:
            if first_is_format:
                return Validation(confidence=0.3, message="FORMAT record, but no START record")
            return Validation(confidence=0.0, message="not a SPEA 3030 file (no START record)")
        preview = _preview(lines, args)
        if first_is_format and measures:
            return Validation(confidence=1.0, preview=preview)
        if measures:
            return Validation(
                confidence=0.9, preview=preview, message="START and ANL records, no FORMAT"
            )
        return Validation(
            confidence=0.6, preview=preview, message="a START record, no ANL or FUNC record"
        )

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per board, read line by line."""
        return Converted(reports=list(read_spea(path, ctx)))

"""The ``csv`` converter: CSV/TSV files read through a column mapping given as arguments.

Two layouts:

* ``layout = "steps"`` (default): one row per step, the whole file one report. Columns (names
  matched in any case; defaults in brackets): step name [``Step``, ``StepName``, ``Name``,
  ``Test``], value [``Value``, ``Measured``], low [``Low``, ``LowLimit``, ``Min``], high
  [``High``, ``HighLimit``, ``Max``], comparison [``CompOp``, ``Comp``, ``CompOperator``], unit
  [``Unit``, ``Units``], status [``Status``], sequence [``Sequence``, ``Group``]: consecutive
  or not, rows with the same sequence go into one sequence step. A numeric value makes a
  numeric step; ``pass``/``fail``-like words without limits a pass/fail step; any other text a
  string step (limit in the low column); an empty value with a status a pass/fail step.
* ``layout = "units"``: one row per unit, each row one report, one column per measurement::

      measurements = [
        {column = "V_3V3", name = "3V3 rail", low = 3.2, high = 3.4, comp = "GELE", unit = "V"},
        {column = "FW", type = "string", limit = "1.4.2"},
        {column = "LED", type = "pass_fail"},
      ]

  Without ``measurements`` every column not used for the header is logged (numeric when it
  holds a number). An empty cell is a measurement not made: no step.

The report header of each report: the serial number, part number, revision, process, operator
and start time come from a column (``serial_number_column`` …, or a column named
``SerialNumber``/``SN``, ``PartNumber``/``PN``, ``Revision``/``Rev``, ``Process``, ``Operator``,
``StartTime``), else from a named group of ``filename_regex`` (``(?P<serial_number>…)``), else
from the constant (``serial_number = "…"``). ``process_code`` may be a name or a code. Without a
start time the file's modification time is used. In ``units`` layout a ``Result`` column
(``result_column``) can fail a unit whose measurements all passed.

A comparison operator is a WATS one (``GELE``, ``LT``…); when none is given it follows from the
limits (both ``GELE``, low ``GE``, high ``LE``, none ``LOG``). A bad cell fails the file with its
line number and column name.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import ClassVar, Literal

import msgspec

from pywats.models.report import CompOp, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._csv_layouts import (
    HEADER_DEFAULTS,
    STEP_DEFAULTS,
    steps_report,
    unit_reports,
)
from pywats_station.converters.builtin._csv_table import Table, open_table, parse_table
from pywats_station.converters.builtin._textfile import head_text

__all__ = ["CsvArguments", "CsvConverter", "Measurement", "read_csv"]

_SNIFF = 65536


class Measurement(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One measurement column of the ``units`` layout."""

    column: str
    name: str | None = None  # default: the column name
    type: Literal["numeric", "string", "pass_fail"] = "numeric"
    low: float | None = None
    high: float | None = None
    comp: str | None = None
    unit: str | None = None
    limit: str | None = None  # string measurements
    sequence: str | None = None  # put the step into this sequence

    def __post_init__(self) -> None:
        if self.comp is not None:
            try:
                CompOp.parse(self.comp)
            except ValueError:
                raise ValueError(f"comp {self.comp!r} is not a comparison operator") from None


class CsvArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``csv`` converter (see the module docstring)."""

    layout: Literal["steps", "units"] = "steps"
    delimiter: str | None = None  # None: the most frequent of tab ; , | in the header row
    encoding: str = "utf-8"
    skip_rows: int = 0  # lines before the header row
    header_row: bool = True  # False: columns are named "1", "2", …
    decimal: Literal[".", ","] = "."
    # Report header: constants, …
    serial_number: str | None = None
    part_number: str | None = None
    revision: str | None = None
    process_code: str | int | None = None
    operator: str | None = None
    # … or columns, …
    serial_number_column: str | None = None
    part_number_column: str | None = None
    revision_column: str | None = None
    process_column: str | None = None
    operator_column: str | None = None
    start_time_column: str | None = None
    time_format: str | None = None  # strptime format; default ISO 8601
    result_column: str | None = None
    # … or named groups of a regular expression searched in the file name.
    filename_regex: str | None = None
    # Layout "steps": column names (None: the defaults in the module docstring).
    step_column: str | None = None
    value_column: str | None = None
    low_column: str | None = None
    high_column: str | None = None
    comp_column: str | None = None
    unit_column: str | None = None
    status_column: str | None = None
    sequence_column: str | None = None
    # Layout "units".
    measurements: list[Measurement] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter must be one character, got {self.delimiter!r}")
        if self.skip_rows < 0:
            raise ValueError("skip_rows must not be negative")
        if self.filename_regex is not None:
            try:
                re.compile(self.filename_regex)
            except re.error as exc:
                raise ValueError(f"filename_regex is not a regular expression: {exc}") from None


def _args(ctx: ConverterContext) -> CsvArguments:
    return ctx.arguments if isinstance(ctx.arguments, CsvArguments) else CsvArguments()


def _open(path: Path, args: CsvArguments) -> contextlib.AbstractContextManager[Table]:
    return open_table(
        path,
        encoding=args.encoding,
        delimiter=args.delimiter,
        skip_rows=args.skip_rows,
        header_row=args.header_row,
    )


def read_csv(path: Path, ctx: ConverterContext) -> list[UUTReport]:
    """Convert a CSV file per the context's arguments, reading it row by row.

    Every step and report is counted against the output budget
    (:mod:`~pywats_station.converters.builtin._budget`): a file whose reports are certainly
    over a cap stops at that row.

    Raises:
        ConversionError: a missing column or bad cell, naming the line and column; reports
            over a cap (``OutputTooLarge``).
    """
    args = _args(ctx)
    with _open(path, args) as table:
        first = next(table.rows, None)
        if first is None:
            raise ConversionError(f"line {table.header_line}: the file holds no data rows")
        if args.layout == "units":
            return list(unit_reports(table, first, args, path, ctx))
        return [steps_report(table, first, args, path, ctx)]


class CsvConverter(FileConverter):
    """Generic CSV/TSV: one report per file (steps layout) or per row (units layout)."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV/TSV test data through a column mapping"
    patterns: ClassVar[tuple[str, ...]] = ("*.csv", "*.tsv", "*.txt")
    Arguments: ClassVar[type[msgspec.Struct]] = CsvArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """0.9 when the header has the columns the layout needs, 0.2 when not, 0 if unreadable."""
        args = _args(ctx)
        try:
            table = parse_table(
                head_text(path, _SNIFF, args.encoding),
                delimiter=args.delimiter,
                skip_rows=args.skip_rows,
                header_row=args.header_row,
            )
            first = next(table.rows, None)
        except ConversionError as exc:
            return Validation(confidence=0.0, message=str(exc))
        if args.layout == "steps":
            needed = {
                "step_column": args.step_column,
                "value_column": args.value_column,
            }
            missing = [
                explicit or STEP_DEFAULTS[key][0]
                for key, explicit in needed.items()
                if (table.find([explicit]) if explicit else table.find(STEP_DEFAULTS[key])) is None
            ]
        else:
            missing = [m.column for m in args.measurements if table.find([m.column]) is None]
        if missing:
            return Validation(confidence=0.2, message=f"no column {', '.join(missing)}")
        named = [args.serial_number_column] if args.serial_number_column else []
        if table.find(named or HEADER_DEFAULTS["serial_number"]) is None and not (
            args.serial_number or args.filename_regex
        ):
            # Without a serial number the table cannot become a report: another machine's
            # table (a Klippel values file: name, value, max, min) is not ours to claim.
            return Validation(
                confidence=0.3,
                message="no serial number: no SerialNumber/Serial/SN column, no "
                "arguments.serial_number or arguments.filename_regex",
            )
        preview = Preview()
        if first is not None:
            row = first
            sn = table.find([args.serial_number_column or "SerialNumber", "SN"])
            pn = table.find([args.part_number_column or "PartNumber", "PN"])
            preview = Preview(
                serial_number=table.cell(row, sn) or args.serial_number,
                part_number=table.cell(row, pn) or args.part_number,
            )
        return Validation(confidence=0.9, preview=preview)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """Read the file through the column mapping, row by row."""
        return Converted(reports=list(read_csv(path, ctx)))

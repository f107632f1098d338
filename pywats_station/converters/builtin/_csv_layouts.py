"""The two layouts of the ``csv`` converter: rows as steps, rows as units.

See :mod:`pywats_station.converters.builtin.csv` for the arguments and defaults. Every
complaint names the line and the column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pywats._errors import ReportInvalidError
from pywats.models.report import CompOp, UUTReport
from pywats.report_builder import ReportBuilder, SequenceBuilder, StepHandle, UUTBuilder
from pywats_station.converters.api import ConversionError, ConverterContext
from pywats_station.converters.builtin._budget import current_budget
from pywats_station.converters.builtin._common import (
    argument,
    file_time,
    infer_comp_op,
    is_bool_word,
    parse_bool,
    parse_number,
    parse_status,
    parse_time,
)
from pywats_station.converters.builtin._csv_table import Row, Table

if TYPE_CHECKING:
    from pywats_station.converters.builtin.csv import CsvArguments, Measurement

__all__ = ["HEADER_DEFAULTS", "STEP_DEFAULTS", "steps_report", "unit_reports"]

HEADER_DEFAULTS: dict[str, tuple[str, ...]] = {
    "serial_number": ("SerialNumber", "Serial", "SN"),
    "part_number": ("PartNumber", "PN"),
    "revision": ("Revision", "Rev"),
    "process": ("Process", "ProcessCode", "Operation"),
    "operator": ("Operator",),
    "start_time": ("StartTime", "Start", "DateTime", "Timestamp"),
    "result": ("Result", "UUTStatus"),
}
STEP_DEFAULTS: dict[str, tuple[str, ...]] = {
    "step_column": ("Step", "StepName", "Name", "Test"),
    "value_column": ("Value", "Measured"),
    "low_column": ("Low", "LowLimit", "Min"),
    "high_column": ("High", "HighLimit", "Max"),
    "comp_column": ("CompOp", "Comp", "CompOperator"),
    "unit_column": ("Unit", "Units"),
    "status_column": ("Status",),
    "sequence_column": ("Sequence", "Group"),
}
_RESULT_LETTERS = {"P": "P", "F": "F", "E": "E", "T": "T"}


@dataclass
class _Header:
    """Where each header value of a report comes from: column index, file-name group, constant."""

    columns: dict[str, int | None]
    from_name: dict[str, str]
    args: CsvArguments

    @classmethod
    def resolve(cls, table: Table, args: CsvArguments, path: Path) -> _Header:
        explicit = {
            "serial_number": args.serial_number_column,
            "part_number": args.part_number_column,
            "revision": args.revision_column,
            "process": args.process_column,
            "operator": args.operator_column,
            "start_time": args.start_time_column,
            "result": args.result_column,
        }
        columns = {
            key: table.column(explicit[key], HEADER_DEFAULTS[key], argument(args, f"{key}_column"))
            for key in HEADER_DEFAULTS
        }
        from_name: dict[str, str] = {}
        if args.filename_regex:
            match = re.search(args.filename_regex, path.name)
            if match is None:
                raise ConversionError(
                    f"the file name {path.name!r} does not match arguments.filename_regex"
                )
            from_name = {k: v for k, v in match.groupdict().items() if v}
        return cls(columns, from_name, args)

    def used(self) -> set[int]:
        """The columns holding header values (not measurements)."""
        return {i for i in self.columns.values() if i is not None}

    def value(self, table: Table, row: Row, key: str) -> str | None:
        cell = table.cell(row, self.columns[key])
        if cell:
            return cell
        if key in self.from_name:
            return self.from_name[key]
        constant = {
            "serial_number": self.args.serial_number,
            "part_number": self.args.part_number,
            "revision": self.args.revision,
            "operator": self.args.operator,
            "process": None if self.args.process_code is None else str(self.args.process_code),
        }.get(key)
        return constant or None

    def builder(self, table: Table, row: Row, path: Path, ctx: ConverterContext) -> UUTBuilder:
        def required(key: str) -> str:
            found = self.value(table, row, key)
            if found is None:
                defaults = "/".join(HEADER_DEFAULTS[key])
                constant = argument(self.args, key if key != "process" else "process_code")
                column = argument(self.args, f"{key}_column")
                raise ConversionError(
                    f"line {row.line}: no {key.replace('_', ' ')} (no {defaults} column or "
                    f"value; set {constant} or {column})"
                )
            return found

        sn, pn, rev = required("serial_number"), required("part_number"), required("revision")
        try:
            process = ctx.process_code(required("process"))
        except ConversionError as exc:
            raise ConversionError(f"line {row.line}: {exc}") from None
        start_index = self.columns["start_time"]
        start: datetime
        if table.cell(row, start_index):
            assert start_index is not None
            start = parse_time(
                table.cell(row, start_index), table.where(row, start_index), self.args.time_format
            )
        else:
            start = file_time(path)
        try:
            return ReportBuilder.uut(
                pn=pn,
                sn=sn,
                rev=rev,
                process_code=process,
                station=ctx.station.name,
                location=ctx.station.location,
                purpose=ctx.station.purpose,
                operator=self.value(table, row, "operator"),
                start=start,
            )
        except (ValueError, TypeError) as exc:
            raise ConversionError(f"line {row.line}: {exc}") from None


def _build(builder: UUTBuilder, line: int) -> UUTReport:
    try:
        return builder.build()
    except (ReportInvalidError, ValueError) as exc:
        raise ConversionError(f"report of line {line}: {exc}") from None


def steps_report(
    table: Table, first: Row, args: CsvArguments, path: Path, ctx: ConverterContext
) -> UUTReport:
    """Layout ``steps``: every row a step of one report; ``first`` is the first data row.

    The rows are read as the steps are added, each step counted against the output budget
    (:func:`~pywats_station.converters.builtin._budget.current_budget`).
    """
    budget = current_budget()
    budget.start_report()
    header = _Header.resolve(table, args, path)
    builder = header.builder(table, first, path, ctx)
    col = {
        key: table.column(getattr(args, key), defaults, argument(args, key))
        for key, defaults in STEP_DEFAULTS.items()
    }
    for key in ("step_column", "value_column"):
        if col[key] is None:
            raise ConversionError(
                f"line {table.header_line}: no {'/'.join(STEP_DEFAULTS[key])} column "
                f"(set {argument(args, key)}); the columns are: {', '.join(table.columns)}"
            )
    # One file, one unit: the serial and part numbers of every row must agree with the first.
    same = [(index, table.cell(first, index)) for index in _agreeing(header)]
    sequences: dict[str, SequenceBuilder] = {}
    for row in itertools.chain([first], table.rows):
        for index, expected in same:
            found = table.cell(row, index)
            if found and expected and found != expected:
                raise ConversionError(
                    f"{table.where(row, index)}: {found!r} differs from {expected!r} on line "
                    f"{first.line} (layout 'steps' makes one report per file; rows of several "
                    "units need layout 'units')"
                )
        parent = builder.root
        sequence = table.cell(row, col["sequence_column"])
        if sequence:
            if sequence not in sequences:
                sequences[sequence] = builder.root.sequence(sequence)
                budget.add_step(sequences[sequence].step, row.line)
            parent = sequences[sequence]
        try:
            added = _step_row(parent, table, row, col, args.decimal)
        except (ValueError, TypeError) as exc:
            raise ConversionError(f"line {row.line}: {exc}") from None
        budget.add_step(added.step, row.line)
    result = table.cell(first, header.columns["result"])
    if result:
        _set_result(builder, result, table.where(first, header.columns["result"] or 0))
    return _build(builder, first.line)


def _agreeing(header: _Header) -> list[int]:
    columns = (header.columns["serial_number"], header.columns["part_number"])
    return [index for index in columns if index is not None]


def _step_row(
    parent: SequenceBuilder, table: Table, row: Row, col: dict[str, int | None], decimal: str
) -> StepHandle:
    def cell(key: str) -> str:
        return table.cell(row, col[key])

    def number(key: str) -> float | None:
        text = cell(key)
        index = col[key]
        if not text or index is None:
            return None
        return parse_number(text, table.where(row, index), decimal)

    name = cell("step_column")
    step_index = col["step_column"]
    value_index = col["value_column"]
    assert step_index is not None
    assert value_index is not None
    if not name:
        raise ConversionError(f"{table.where(row, step_index)}: empty step name")
    status = (
        parse_status(cell("status_column"), table.where(row, col["status_column"]))
        if col["status_column"] is not None
        else None
    )
    value = cell("value_column")
    if not value:
        if status not in ("P", "F"):
            raise ConversionError(
                f"{table.where(row, value_index)}: empty value (and no Passed/Failed status)"
            )
        return parent.pass_fail(name, status == "P", status=status)
    value_at = table.where(row, value_index)
    try:
        measured = parse_number(value, value_at, decimal)
    except ConversionError:
        measured = None
    if measured is not None:
        low, high = number("low_column"), number("high_column")
        op, low, high = infer_comp_op(cell("comp_column") or None, low, high, f"line {row.line}")
        unit = cell("unit_column") or None
        return parent.numeric(name, measured, op, low=low, high=high, unit=unit, status=status)
    op_text, limit = cell("comp_column"), cell("low_column") or None
    if cell("high_column") or (limit is not None and _is_number(limit, decimal)):
        # Numeric limits: the value was meant to be a number.
        raise ConversionError(f"{value_at}: {value!r} is not a number")
    if is_bool_word(value) and limit is None and not op_text:
        return parent.pass_fail(name, parse_bool(value, value_at), status=status)
    op = CompOp.parse(op_text) if op_text else CompOp.CASESENSIT if limit else CompOp.LOG
    return parent.string(name, value, op, limit=limit, status=status)


def _is_number(text: str, decimal: str) -> bool:
    try:
        parse_number(text, "", decimal)
    except ConversionError:
        return False
    return True


def _set_result(builder: UUTBuilder, text: str, where: str) -> None:
    letter = parse_status(text, where)
    if letter in _RESULT_LETTERS:
        builder.result(_RESULT_LETTERS[letter])


def unit_reports(
    table: Table, first: Row, args: CsvArguments, path: Path, ctx: ConverterContext
) -> Iterator[UUTReport]:
    """Layout ``units``: every row one report, a step per measurement column.

    A generator: each report is made when it is asked for, as its row is read, and counted
    against the output budget.
    """
    budget = current_budget()
    header = _Header.resolve(table, args, path)
    measurements = _measurements(table, args, header)
    for row in itertools.chain([first], table.rows):
        budget.start_report()
        builder = header.builder(table, row, path, ctx)
        sequences: dict[str, SequenceBuilder] = {}
        for index, spec in measurements:
            text = table.cell(row, index)
            if not text:
                continue  # not measured
            parent = builder.root
            if spec.sequence:
                if spec.sequence not in sequences:
                    sequences[spec.sequence] = builder.root.sequence(spec.sequence)
                    budget.add_step(sequences[spec.sequence].step, row.line)
                parent = sequences[spec.sequence]
            try:
                added = _measurement(parent, spec, text, table.where(row, index), args.decimal)
            except (ValueError, TypeError) as exc:
                raise ConversionError(f"{table.where(row, index)}: {exc}") from None
            budget.add_step(added.step, row.line)
        result = table.cell(row, header.columns["result"])
        if result:
            _set_result(builder, result, table.where(row, header.columns["result"] or 0))
        report = _build(builder, row.line)
        budget.add_report(report, row.line)
        yield report


def _measurements(
    table: Table, args: CsvArguments, header: _Header
) -> list[tuple[int, Measurement]]:
    from pywats_station.converters.builtin.csv import Measurement

    if args.measurements:
        found = []
        for number, spec in enumerate(args.measurements):
            index = table.column(spec.column, (), argument(args, f"measurements[{number}].column"))
            assert index is not None
            found.append((index, spec))
        return found
    used = header.used()
    return [
        (i, Measurement(column=name, type="numeric"))
        for i, name in enumerate(table.columns)
        if i not in used and name
    ]


def _measurement(
    parent: SequenceBuilder, spec: Measurement, text: str, where: str, decimal: str
) -> StepHandle:
    name = spec.name or spec.column
    if spec.type == "pass_fail":
        return parent.pass_fail(name, parse_bool(text, where))
    if spec.type == "string":
        op = (
            CompOp.parse(spec.comp)
            if spec.comp
            else CompOp.CASESENSIT
            if spec.limit
            else CompOp.LOG
        )
        return parent.string(name, text, op, limit=spec.limit)
    try:
        value = parse_number(text, where, decimal)
    except ConversionError:
        if spec.low is None and spec.high is None and spec.comp is None:
            return parent.string(name, text)  # an auto-logged column holding text
        raise
    op, low, high = infer_comp_op(spec.comp, spec.low, spec.high, where)
    return parent.numeric(name, value, op, low=low, high=high, unit=spec.unit)

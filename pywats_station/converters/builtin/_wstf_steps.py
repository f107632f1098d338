"""Turning WSTF step rows into builder steps (see :mod:`pywats_station.converters.builtin.wstf`).

Every builder complaint (a limit an operator does not use, a status a measured step cannot
have…) is re-raised as a :class:`ConversionError` naming the row's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pywats.models.report import CompOp
from pywats.report_builder import (
    Measure,
    SequenceBuilder,
    StepHandle,
    StepOptions,
    StringMeasure,
)
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._common import (
    infer_comp_op,
    parse_bool,
    parse_number,
    parse_status,
)
from pywats_station.converters.builtin._wstf_read import StepRow

__all__ = ["MAX_MEASUREMENTS", "STEP_TYPES", "add_steps"]

_SEQUENCE = "sequencecall"
_END = "endsequencecall"
_NUMERIC = "numericlimittest"
_MULTI_NUMERIC = "multiplenumericlimittest"
_PASS_FAIL = "passfailtest"
_STRING = "stringvaluetest"
_ACTION = "actionstep"
_UNSUPPORTED = frozenset({"chart", "series"})
_GROUPABLE = frozenset({_NUMERIC, _MULTI_NUMERIC, _PASS_FAIL, _STRING})
# The rows of one multi-measurement step are held until the step is complete: a bound keeps a
# file of one endless step from filling memory before the report's size can be judged.
MAX_MEASUREMENTS = 10_000
STEP_TYPES = (
    "SequenceCall",
    "EndSequenceCall",
    "NumericLimitTest",
    "MultipleNumericLimitTest",
    "PassFailTest",
    "StringValueTest",
    "ActionStep",
)


def add_steps(
    root: SequenceBuilder, rows: Iterable[StepRow], decimal: str, budget: OutputBudget
) -> None:
    """Add the steps of ``rows`` under ``root``, nesting at SequenceCall/EndSequenceCall.

    The rows are read as the steps are made, each step counted against ``budget``.

    Raises:
        ConversionError: a row is wrong, or the sequences do not balance; naming the line.
        OutputTooLarge: the report is certainly over its cap.
        TooBigForThread: the report outgrew the budget's ``thread_limit``.
    """
    stack: list[tuple[SequenceBuilder, StepRow | None]] = [(root, None)]
    for group in _groups(rows):
        first = group[0]
        kind = first.step_type.lower()
        parent = stack[-1][0]
        added: StepHandle | None = None
        try:
            if kind == _SEQUENCE:
                status = parse_status(first.get("Status"), f"line {first.line}, Status")
                child = parent.sequence(_name(first), status=status, **_options(first, decimal))
                stack.append((child, first))
                added = child
            elif kind == _END:
                if len(stack) == 1:
                    raise ConversionError(
                        f"line {first.line}: EndSequenceCall without SequenceCall"
                    )
                stack.pop()
            elif kind == _ACTION:
                status = parse_status(first.get("Status"), f"line {first.line}, Status")
                added = parent.action(_name(first), status=status, **_options(first, decimal))
            else:
                added = _test(parent, group, kind, decimal)
        except (ValueError, TypeError) as exc:
            raise ConversionError(f"line {first.line}: {exc}") from None
        if added is not None:
            budget.add_step(added.step, group[-1].line)
    if len(stack) > 1:
        opened = stack[-1][1]
        assert opened is not None
        raise ConversionError(
            f"line {opened.line}: SequenceCall {opened.name!r} is not closed by EndSequenceCall"
        )


def _groups(rows: Iterable[StepRow]) -> Iterator[list[StepRow]]:
    """Rows in steps: consecutive measurement rows of one multi step stay together."""
    group: list[StepRow] = []
    for row in rows:
        kind = row.step_type.lower()
        if not kind:
            raise ConversionError(f"line {row.line}: the row has no StepType")
        if kind in _UNSUPPORTED:
            raise ConversionError(
                f"line {row.line}: step type {row.step_type!r} is not supported by this converter"
            )
        if kind not in {t.lower() for t in STEP_TYPES}:
            raise ConversionError(
                f"line {row.line}: unknown step type {row.step_type!r} "
                f"(known: {', '.join(STEP_TYPES)})"
            )
        multi = kind in _GROUPABLE and (kind == _MULTI_NUMERIC or bool(row.get("MeasureName")))
        if (
            group
            and multi
            and group[0].step_type.lower() == kind
            and group[0].name == row.name
            and group[0].get("MeasureName")
        ):
            if len(group) >= MAX_MEASUREMENTS:
                raise ConversionError(
                    f"line {row.line}: step {row.name!r} (line {group[0].line}) has more than "
                    f"{MAX_MEASUREMENTS:,} measurements"
                )
            group.append(row)
            continue
        if group:
            yield group
        group = [row]
    if group:
        yield group


def _name(row: StepRow) -> str:
    if not row.name:
        raise ConversionError(f"line {row.line}: the {row.step_type} row has no StepName")
    return row.name


def _options(row: StepRow, decimal: str) -> StepOptions:
    options: StepOptions = {}
    if row.get("ExecTime"):
        options["tot_time"] = parse_number(
            row.get("ExecTime"), f"line {row.line}, ExecTime", decimal
        )
    if row.get("ReportText"):
        options["report_text"] = row.get("ReportText")
    if row.get("ErrorCode"):
        code = parse_number(row.get("ErrorCode"), f"line {row.line}, ErrorCode", decimal)
        if not code.is_integer():
            raise ConversionError(f"line {row.line}, ErrorCode: {code:g} is not a whole number")
        options["error_code"] = int(code)
    if row.get("ErrorMessage"):
        options["error_message"] = row.get("ErrorMessage")
    return options


def _limit(row: StepRow, column: str, decimal: str) -> float | None:
    text = row.get(column)
    return parse_number(text, f"line {row.line}, {column}", decimal) if text else None


def _numeric(row: StepRow, decimal: str) -> tuple[float, CompOp, float | None, float | None]:
    if not row.get("Value"):
        raise ConversionError(f"line {row.line}, Value: a numeric test needs a value")
    value = parse_number(row.get("Value"), f"line {row.line}, Value", decimal)
    low, high = _limit(row, "LowLimit", decimal), _limit(row, "HighLimit", decimal)
    op, low, high = infer_comp_op(row.get("CompOperator"), low, high, f"line {row.line}")
    return value, op, low, high


def _passed(row: StepRow, status: str | None) -> bool:
    if row.get("Value"):
        return parse_bool(row.get("Value"), f"line {row.line}, Value")
    if status in ("P", "F"):
        return status == "P"
    raise ConversionError(
        f"line {row.line}: a PassFailTest needs a Value or a Passed/Failed Status"
    )


def _string(row: StepRow) -> tuple[str, CompOp, str | None]:
    limit = row.get("LowLimit") or None
    op_text = row.get("CompOperator")
    if op_text:
        try:
            op = CompOp.parse(op_text)
        except ValueError:
            raise ConversionError(
                f"line {row.line}: {op_text!r} is not a comparison operator"
            ) from None
    else:
        op = CompOp.CASESENSIT if limit is not None else CompOp.LOG
    return row.cells.get("Value", "").strip(), op, limit


def _test(parent: SequenceBuilder, group: list[StepRow], kind: str, decimal: str) -> StepHandle:
    first = group[0]
    name = _name(first)
    statuses = [parse_status(r.get("Status"), f"line {r.line}, Status") for r in group]
    options = _options(first, decimal)
    multi = kind == _MULTI_NUMERIC or bool(first.get("MeasureName"))
    if not multi:
        status = statuses[0]
        if kind == _NUMERIC:
            value, op, low, high = _numeric(first, decimal)
            unit = first.get("Unit") or None
            return parent.numeric(
                name, value, op, low=low, high=high, unit=unit, status=status, **options
            )
        if kind == _PASS_FAIL:
            return parent.pass_fail(name, _passed(first, status), status=status, **options)
        value_text, op, limit = _string(first)
        return parent.string(name, value_text, op, limit=limit, status=status, **options)
    for row in group:
        if not row.get("MeasureName"):
            raise ConversionError(f"line {row.line}: a measurement of {name!r} has no MeasureName")
    if kind in (_NUMERIC, _MULTI_NUMERIC):
        measures = []
        for row, status in zip(group, statuses, strict=True):
            value, op, low, high = _numeric(row, decimal)
            try:
                measures.append(
                    Measure(
                        row.get("MeasureName"),
                        value,
                        op,
                        low,
                        high,
                        row.get("Unit") or None,
                        status,
                    )
                )
            except (ValueError, TypeError) as exc:
                raise ConversionError(f"line {row.line}: {exc}") from None
        return parent.multi_numeric(name, measures, **options)
    if kind == _PASS_FAIL:
        results = {
            r.get("MeasureName"): _passed(r, s) for r, s in zip(group, statuses, strict=True)
        }
        return parent.multi_pass_fail(name, results, **options)
    strings = []
    for row, status in zip(group, statuses, strict=True):
        value_text, op, limit = _string(row)
        try:
            strings.append(StringMeasure(row.get("MeasureName"), value_text, op, limit, status))
        except (ValueError, TypeError) as exc:
            raise ConversionError(f"line {row.line}: {exc}") from None
    return parent.multi_string(name, strings, **options)

"""The files in a Klippel QC run folder: curves and single values, tab-separated.

* A **curve** (``Impedance-imp.txt``) starts with ``frq<TAB><result>[<TAB>max][<TAB>min]``:
  one row per frequency, the result's value, and the limit curves.
* **Single values** (``Impedance-values.txt``) start with ``name<TAB>value<TAB>max<TAB>min``:
  one row per value.

``-`` or an empty cell is a value not measured (or no limit at that frequency). Columns are
found by their names, in any order; a curve's other columns become series of their own. Every
row must have the header's number of cells (a file cut short fails, naming the line), and a
``.txt`` file that starts with neither header fails: in a run folder it is a data file whose
first line was lost. Other files (not ``.txt``, hidden, sub-folders) are :class:`NotRead`: the
report lists them.

Curves are read line by line into running statistics (count, mean, minimum, maximum, points
outside the limits) and a thinned copy of at most ``max_points`` rows for the chart, so a curve
of any length costs bounded memory; the statistics always cover every row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._klippel_header import shorten
from pywats_station.converters.builtin._textfile import iter_lines

__all__ = ["NAME_LIMIT", "Curve", "NotRead", "ValueRow", "Values", "read_data_file", "task_of"]

NAME_LIMIT = 100
"""The longest name a step gets (the WATS client's limit on step names)."""
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = frozenset({"nan", "inf", "infinity"})
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")  # what XML cannot carry


@dataclass
class Curve:
    """One curve file: what its chart and its measurements need.

    Attributes:
        file: the file's name as shown.
        task: the task (sequence) it belongs to.
        result: the result's name (the header's second column).
        columns: the value columns after the frequency (``result``, ``max``, ``min``, others).
        rows: data rows read.
        kept: the rows kept for the chart (frequency first; NaN where a cell has no value).
        count, total, low, high: the finite values of the result: count, sum, min, max.
        out_of_bounds: values above ``max`` or below ``min`` where that limit is given.
        missing: rows without a value (``-`` or empty).
        not_finite: rows whose value is NaN or infinite in the file.
        last_line: the file's last line read.
    """

    file: str
    task: str
    result: str
    columns: list[str]
    rows: int = 0
    kept: list[tuple[float, ...]] = field(default_factory=list)
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    out_of_bounds: int = 0
    missing: int = 0
    not_finite: int = 0
    last_line: int = 0

    def column(self, name: str) -> int | None:
        """The index of a value column (``max``, ``min``) in :attr:`kept` rows, if there."""
        for index, column in enumerate(self.columns):
            if index and column.casefold() == name:
                return index + 1
        return None


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One row of a values file; ``None`` where the cell holds no number."""

    name: str
    value: float | None
    high: float | None
    low: float | None
    line: int
    not_finite: bool = False
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class Values:
    """One values file."""

    file: str
    task: str
    rows: list[ValueRow] = field(default_factory=list)
    last_line: int = 0


@dataclass(frozen=True, slots=True)
class NotRead:
    """A file of the folder that is not a Klippel data file, and why."""

    file: str
    reason: str


def task_of(stem: str) -> str:
    """The task of a data file: its name up to the **last** ``-`` (``Sound Pressure-resp``)."""
    head, dash, _ = stem.rpartition("-")
    return head if dash and head else stem


def read_data_file(
    path: Path, shown: str, task: str, *, encoding: str, max_points: int
) -> Curve | Values:
    """Read one ``.txt`` file of the run folder (``shown``: its name in messages).

    Raises:
        ConversionError: the file is empty, not in ``encoding``, not a Klippel data file (its
            first line is neither header), or a row is wrong (naming the file, line and column).
    """
    lines = _Lines(path, encoding)
    try:
        number, header = _first(lines)
        names = [cell.strip() for cell in header]
        kind = names[0].casefold()
        if kind == "frq" and len(names) >= 2 and names[1]:
            _check_names(names, number)
            return _curve(lines, Curve(shown, task, names[1], names[1:]), max_points, number)
        if kind == "name" and len(names) >= 2 and names[1].casefold() == "value":
            _check_names(names, number)
            return _values(lines, Values(shown, task), names)
        _not_data(names, number)
    except ConversionError as exc:
        raise ConversionError(f"{shown}: {exc}") from None


def _not_data(names: list[str], number: int) -> NoReturn:
    raise ConversionError(
        f"line {number}, column 1: not the header of a Klippel data file (frq<TAB>result… or "
        f"name<TAB>value…): {shorten(chr(9).join(names))!r}"
    )


def _check_names(names: list[str], number: int) -> None:
    """Column names become step, series and measurement names: WATS limits their length."""
    for column, name in enumerate(names, start=1):
        if len(name) > NAME_LIMIT:
            raise ConversionError(
                f"line {number}, column {column}: the column name {shorten(name)!r} is "
                f"{len(name):,} characters long; a WATS step name takes at most {NAME_LIMIT}"
            )


def _first(lines: _Lines) -> tuple[int, list[str]]:
    first = next(lines, None)
    if first is None:
        raise ConversionError("the file is empty (is the tester still writing it?)")
    return first


class _Lines:
    """The non-blank lines of a file as (line number, cells), checked for control characters."""

    def __init__(self, path: Path, encoding: str) -> None:
        self._lines = enumerate(iter_lines(path, encoding), start=1)
        self.width = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        for number, raw in self._lines:
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            bad = _CONTROL.search(line)
            if bad is not None:
                raise ConversionError(
                    f"line {number}, column {bad.start() + 1}: a control character "
                    f"({ord(bad.group()):#04x}); the file is damaged"
                )
            cells = line.split("\t")
            if self.width:
                # Tabs after the last column are harmless; fewer cells are a row cut short.
                while len(cells) > self.width and not cells[-1].strip():
                    cells.pop()
                if len(cells) != self.width:
                    cut = " (the file is cut short?)" if len(cells) < self.width else ""
                    raise ConversionError(
                        f"line {number}: {len(cells)} cells, but the header has {self.width}{cut}"
                    )
            else:
                while len(cells) > 1 and not cells[-1].strip():
                    cells.pop()
                self.width = len(cells)
            return number, cells
        raise StopIteration


def _number(cell: str, number: int, column: int, name: str) -> float | None:
    """A cell as a number; ``None`` for no value (``-``, empty); NaN/inf as they are."""
    text = cell.strip()
    if text in ("", "-"):
        return None
    if _NUMBER.fullmatch(text):
        return float(text)  # may overflow to inf: counted as not finite by the caller
    if text.lstrip("+-").casefold() in _NOT_FINITE:
        return math.nan
    raise ConversionError(
        f"line {number}, column {column} ({shorten(name)}): {shorten(text)!r} is not a number"
    )


def _curve(lines: _Lines, curve: Curve, max_points: int, header_line: int) -> Curve:
    high_at, low_at = curve.column("max"), curve.column("min")
    stride = 1
    last: tuple[float, ...] = ()
    for number, cells in lines:
        row = []
        for index, cell in enumerate(cells):
            name = "frq" if index == 0 else curve.columns[index - 1]
            value = _number(cell, number, index + 1, name)
            row.append(math.nan if value is None else value)
            if index == 0 and (value is None or not math.isfinite(value)):
                raise ConversionError(
                    f"line {number}, column 1 (frq): {shorten(cell.strip())!r} is not a frequency"
                )
            if index == 1 and value is None:
                curve.missing += 1
            elif index == 1 and not math.isfinite(value):  # type: ignore[arg-type]
                curve.not_finite += 1
        _count(curve, row, high_at, low_at)
        if curve.rows % stride == 0:
            curve.kept.append(tuple(row))
            if len(curve.kept) > 2 * max_points:
                # Thin as it reads: every other kept row goes, and only every 2nd row from now.
                del curve.kept[1::2]
                stride *= 2
        curve.rows += 1
        curve.last_line = number
        last = tuple(row)
    if curve.rows and (curve.rows - 1) % stride:
        curve.kept.append(last)  # the curve's end, whatever the stride skipped before it
    if len(curve.kept) > max_points:
        n = len(curve.kept)
        curve.kept = [curve.kept[round(i * (n - 1) / (max_points - 1))] for i in range(max_points)]
    if not curve.rows:
        raise ConversionError(f"line {header_line}: the header, and no data after it (cut short?)")
    return curve


def _count(curve: Curve, row: list[float], high_at: int | None, low_at: int | None) -> None:
    y = row[1]
    if not math.isfinite(y):
        return
    curve.count += 1
    curve.total += y
    curve.low = min(curve.low, y)
    curve.high = max(curve.high, y)
    high = row[high_at] if high_at is not None else math.nan
    low = row[low_at] if low_at is not None else math.nan
    if (math.isfinite(high) and y > high) or (math.isfinite(low) and y < low):
        curve.out_of_bounds += 1


def _values(lines: _Lines, values: Values, names: list[str]) -> Values:
    folded = [n.casefold() for n in names]
    high_at = folded.index("max") if "max" in folded else None
    low_at = folded.index("min") if "min" in folded else None
    extra_at = [i for i in range(2, len(names)) if i not in (high_at, low_at)]
    for number, cells in lines:
        name = cells[0].strip()
        if not name:
            raise ConversionError(f"line {number}, column 1 (name): the value has no name")
        if len(name) > NAME_LIMIT:
            raise ConversionError(
                f"line {number}, column 1 (name): {shorten(name)!r} is {len(name):,} characters "
                f"long; a WATS step name takes at most {NAME_LIMIT}"
            )
        value = _number(cells[1], number, 2, names[1])
        high = None if high_at is None else _number(cells[high_at], number, high_at + 1, "max")
        low = None if low_at is None else _number(cells[low_at], number, low_at + 1, "min")
        for limit, index in ((high, high_at), (low, low_at)):
            if limit is not None and not math.isfinite(limit):
                raise ConversionError(
                    f"line {number}, column {(index or 0) + 1}: a limit must be a finite number"
                )
        finite = value is None or math.isfinite(value)
        values.rows.append(
            ValueRow(
                name=name,
                value=value if finite else None,
                high=high,
                low=low,
                line=number,
                not_finite=not finite,
                extra=tuple((names[i], cells[i].strip()) for i in extra_at if cells[i].strip()),
            )
        )
        values.last_line = number
    return values

"""Reading a CSV/TSV file row by row with line numbers, and finding columns by name.

Part of the ``csv`` converter (:mod:`pywats_station.converters.builtin.csv`). A :class:`Table`
knows its columns up front and reads its rows as they are asked for, so a file of any length
costs one row of memory (:func:`open_table`); :func:`parse_table` reads a text already in memory
(the head of a file, for ``validate()``) the same way.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._textfile import iter_lines
from pywats_station.converters.builtin._where import place

__all__ = ["Row", "Table", "detect_delimiter", "open_table", "parse_table"]

_CANDIDATES = ("\t", ";", ",", "|")


@dataclass(frozen=True)
class Row:
    """A data row: its physical line number and its cells by column index."""

    line: int
    cells: list[str]


@dataclass
class Table:
    """A CSV file: its column names (as written) and its data rows, read once, in order."""

    columns: list[str]
    rows: Iterator[Row]
    header_line: int

    def find(self, names: Sequence[str]) -> int | None:
        """Index of the first column named any of ``names`` (any case, blanks ignored)."""
        folded = [c.strip().casefold() for c in self.columns]
        for name in names:
            key = name.strip().casefold()
            if key in folded:
                return folded.index(key)
        return None

    def column(self, explicit: str | None, defaults: Sequence[str], argument: str) -> int | None:
        """The column for an argument: the one it names (which must exist), else a default.

        Args:
            explicit: the column the argument names, if it is set.
            defaults: the column names tried when it is not.
            argument: the argument as the message names it (``arguments.step_column``).

        Raises:
            ConversionError: ``explicit`` names a column the header does not have.
        """
        if explicit is None:
            return self.find(defaults)
        index = self.find([explicit])
        if index is None:
            raise ConversionError(
                f"line {self.header_line}: no column {explicit!r} ({argument}); "
                f"the columns are: {', '.join(self.columns)}"
            )
        return index

    def cell(self, row: Row, index: int | None) -> str:
        """The stripped cell of ``row`` in column ``index`` (``""`` when absent)."""
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index].strip()

    def where(self, row: Row, index: int) -> str:
        """``line L, column 'Name'`` for error messages."""
        return f"line {row.line}, column {self.columns[index]!r}"


def detect_delimiter(line: str) -> str:
    """The most frequent of tab, ``;``, ``,`` and ``|`` in a header line (``,`` if none)."""
    counts = [(line.count(c), -i, c) for i, c in enumerate(_CANDIDATES)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


class _Record:
    """The lines the csv reader took for the row it is reading: where a broken row starts.

    Cleared at every row, so it holds one row (the csv module holds as much: a cell is at most
    ``csv.field_size_limit()`` characters).
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> _Record:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line


def _rows(lines: Iterator[str], sep: str, skip_rows: int) -> Iterator[Row]:
    """Every non-blank row after the skipped lines, with its line number."""
    record = _Record(lines)
    reader = csv.reader(record, delimiter=sep, strict=True)
    try:
        for cells in reader:
            record.taken.clear()
            if any(c.strip() for c in cells):
                yield Row(skip_rows + reader.line_num, cells)
    except csv.Error as exc:
        first = skip_rows + reader.line_num - len(record.taken) + 1
        raise _broken(exc, "".join(record.taken), first, sep) from None


def _broken(exc: csv.Error, text: str, first: int, sep: str) -> ConversionError:
    """The error for a row the csv module refused, naming the place.

    The csv module says what (``',' expected after '"'``, ``unexpected end of data``, a cell
    over its size limit) but not where: the row's text is read again here, as the module reads
    it (cells quoted with ``"``, a quote in a quoted cell written twice), to find the place.

    Args:
        exc: the csv module's error.
        text: the lines of the row, as far as the module read them.
        first: the line the row starts on.
        sep: the delimiter.
    """
    limit = csv.field_size_limit()
    cell = 0  # where the current cell starts, and where its opening quote is (if quoted)
    quote: int | None = None
    closed = False  # a quoted cell's quote was just read: it closes, or doubles with the next
    too_long: int | None = None  # the first cell over the csv module's size limit

    def end_cell(index: int) -> None:
        nonlocal cell, too_long
        if too_long is None and index - cell > limit:
            too_long = cell
        cell = index + 1

    for index, char in enumerate(text):
        if quote is None:
            if char == '"' and index == cell:
                quote = index
            elif char == sep or char in "\r\n":
                end_cell(index)
        elif closed:
            if char == '"':
                closed = False  # a doubled quote: text
            elif char == sep or char in "\r\n":
                quote, closed = None, False
                end_cell(index)
            else:
                return ConversionError(
                    f"{place(text[:index], first)}: text after the closing quote of a quoted "
                    f"cell that starts at {place(text[:quote], first)} (a quote inside a "
                    'quoted cell is written twice: "")'
                )
        elif char == '"':
            closed = True
    end_cell(len(text))
    if quote is not None and not closed:
        return ConversionError(
            f"the file ends at {place(text, first)}, inside a quoted cell that starts at "
            f"{place(text[:quote], first)} (its closing quote is missing)"
        )
    if too_long is not None:
        return ConversionError(
            f"{place(text[:too_long], first)}: a cell longer than {limit:,} characters "
            "(a quote not closed?)"
        )
    return ConversionError(f"{place(text, first)}: {exc}")  # pragma: no cover - none left


def _start(
    lines: Iterator[str], skip_rows: int, delimiter: str | None
) -> tuple[str, Iterator[str]]:
    """Skip ``skip_rows`` lines; return the delimiter (detected on the first non-blank line if
    not given) and the lines from there on, none of them consumed.

    Raises:
        ConversionError: nothing but blank lines follow.
    """
    for _ in itertools.islice(lines, skip_rows):
        pass
    blank: list[str] = []
    for line in lines:
        if line.strip():
            return delimiter or detect_delimiter(line), itertools.chain(blank, [line], lines)
        blank.append(line)
    raise ConversionError(
        "the file holds no rows" + (f" after {skip_rows} skipped lines" if skip_rows else "")
    )


def _table(
    lines: Callable[[], Iterator[str]], *, delimiter: str | None, skip_rows: int, header_row: bool
) -> Table:
    sep, start = _start(lines(), skip_rows, delimiter)
    rows = _rows(start, sep, skip_rows)
    if header_row:
        header = next(rows, None)
        assert header is not None  # _start found a non-blank line
        return Table([c.strip() for c in header.cells], rows, header.line)
    # Without a header the columns are numbered up to the widest row: one pass to count them
    # (nothing kept), then the rows are read from the start again.
    width = max((len(row.cells) for row in rows), default=0)
    rows = _rows(_start(lines(), skip_rows, sep)[1], sep, skip_rows)
    return Table([str(i) for i in range(1, width + 1)], rows, skip_rows + 1)


@contextlib.contextmanager
def open_table(
    path: Path, *, encoding: str, delimiter: str | None, skip_rows: int, header_row: bool
) -> Iterator[Table]:
    """Open a CSV file as a :class:`Table` whose rows are read as they are iterated.

    ``skip_rows`` lines are dropped, then comes a header row (or the columns are numbered
    ``1``, ``2``, … when ``header_row`` is false). Blank rows are ignored. The file is closed
    when the ``with`` block ends.

    Raises:
        ConversionError: the file has no row, a byte is not in ``encoding``, or a quoted cell is
            not closed (naming the line); raised on opening or while the rows are read.
    """
    opened: list[Generator[str, None, None]] = []

    def lines() -> Iterator[str]:
        opened.append(iter_lines(path, encoding))
        return opened[-1]

    try:
        yield _table(lines, delimiter=delimiter, skip_rows=skip_rows, header_row=header_row)
    finally:
        for reader in opened:  # closes the file at once, even when the rows were not all read
            reader.close()


def parse_table(text: str, *, delimiter: str | None, skip_rows: int, header_row: bool) -> Table:
    """A :class:`Table` over a text in memory (see :func:`open_table`)."""

    def lines() -> Iterator[str]:
        return iter(io.StringIO(text, newline=""))  # lines split as in open_table

    return _table(lines, delimiter=delimiter, skip_rows=skip_rows, header_row=header_row)

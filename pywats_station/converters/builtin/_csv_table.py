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

        Raises:
            ConversionError: ``explicit`` names a column the header does not have.
        """
        if explicit is None:
            return self.find(defaults)
        index = self.find([explicit])
        if index is None:
            raise ConversionError(
                f"line {self.header_line}: no column {explicit!r} (arguments.{argument}); "
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


def _rows(lines: Iterator[str], sep: str, skip_rows: int) -> Iterator[Row]:
    """Every non-blank row after the skipped lines, with its line number."""
    reader = csv.reader(lines, delimiter=sep, strict=True)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield Row(skip_rows + reader.line_num, cells)
    except csv.Error as exc:
        raise ConversionError(f"line {skip_rows + reader.line_num}: {exc}") from None


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

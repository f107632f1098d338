"""Reading a CSV/TSV file into rows with line numbers, and finding columns by name.

Part of the ``csv`` converter (:mod:`pywats_station.converters.builtin.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pywats_station.converters.api import ConversionError

__all__ = ["Row", "Table", "detect_delimiter", "read_table"]

_CANDIDATES = ("\t", ";", ",", "|")


@dataclass(frozen=True)
class Row:
    """A data row: its physical line number and its cells by column index."""

    line: int
    cells: list[str]


@dataclass
class Table:
    """A CSV file: its column names (as written) and its data rows."""

    columns: list[str]
    rows: list[Row]
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


def read_table(text: str, *, delimiter: str | None, skip_rows: int, header_row: bool) -> Table:
    """Parse ``text``: ``skip_rows`` lines dropped, then a header row (or numbered columns).

    Blank rows are ignored. Without a header row the columns are named ``1``, ``2``, …

    Raises:
        ConversionError: the file has no header row, or a quoted cell is not closed.
    """
    lines = text.splitlines(keepends=True)
    body = "".join(lines[skip_rows:])
    first = next((line for line in lines[skip_rows:] if line.strip()), "")
    if not first:
        raise ConversionError(
            "the file holds no rows" + (f" after {skip_rows} skipped lines" if skip_rows else "")
        )
    sep = delimiter or detect_delimiter(first)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep, strict=True)
    columns: list[str] | None = None
    header_line = skip_rows + 1
    rows: list[Row] = []
    try:
        for cells in reader:
            line = skip_rows + reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if columns is None and header_row:
                columns, header_line = [c.strip() for c in cells], line
                continue
            rows.append(Row(line, cells))
    except csv.Error as exc:
        raise ConversionError(f"line {skip_rows + reader.line_num}: {exc}") from None
    if columns is None:
        width = max((len(r.cells) for r in rows), default=0)
        columns = [str(i) for i in range(1, width + 1)]
    return Table(columns=columns, rows=rows, header_line=header_line)

"""Reading the WATS Standard Text Format unit by unit: header, step rows, footer.

The layout accepted is documented in :mod:`pywats_station.converters.builtin.wstf`; this module
only splits the lines into their sections, keeping every line number for error messages.

A file is read in one go, in bounded memory: :func:`read_units` yields each UUT as a
:class:`Unit` (its header and footer fields) together with an iterator of its step rows, read
as they are asked for. The footer takes the same keys as the header and wins over it, but comes
after the steps; so the fields of each unit are read ahead by a second reader of the same lines
that skips the step rows (:func:`read_headers`), and a unit's report can be started with all
its fields known before its first step row is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._where import place

__all__ = ["COLUMNS", "Field", "StepRow", "Unit", "read_headers", "read_units"]

HEADER_START = "--header-start--"
HEADER_END = "--header-end--"
STEPS_START = "--step-data-start--"
STEPS_END = "--step-data-end--"
UUT_END = "--uut-end--"

COLUMNS: tuple[str, ...] = (
    "StepType",
    "StepName",
    "MeasureName",
    "Value",
    "LowLimit",
    "HighLimit",
    "CompOperator",
    "Unit",
    "Status",
    "ExecTime",
    "ReportText",
    "ErrorCode",
    "ErrorMessage",
)
"""The step data columns, in their default order (a ``StepType…`` header row may reorder)."""

_KNOWN = {name.lower(): name for name in COLUMNS}


@dataclass(frozen=True)
class Field:
    """A header or footer value with the line it came from."""

    value: str
    line: int


@dataclass(frozen=True)
class StepRow:
    """One step data row: the cells by column name (missing cells are empty)."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The cell of ``column`` stripped of blanks, ``""`` when absent."""
        return self.cells.get(column, "").strip()

    @property
    def step_type(self) -> str:
        """The ``StepType`` cell."""
        return self.get("StepType")

    @property
    def name(self) -> str:
        """The ``StepName`` cell."""
        return self.get("StepName")


@dataclass
class Unit:
    """One UUT of the file: header and footer fields, sub-units, whether it has step data."""

    start_line: int
    end_line: int = 0
    header: dict[str, Field] = field(default_factory=dict)  # keys folded to lower case
    header_names: dict[str, str] = field(default_factory=dict)  # folded key -> as written
    subunits: list[tuple[int, list[str]]] = field(default_factory=list)
    steps_seen: bool = False

    def value(self, key: str) -> Field | None:
        """A header (or footer) field by key, any case."""
        return self.header.get(key.lower())


class _Sections:
    """The section state machine: feeds each line to the unit it belongs to.

    ``on_row`` receives the step rows (``None``: they are skipped unparsed); a finished unit is
    appended to :attr:`done`.
    """

    def __init__(self, on_row: Callable[[StepRow], None] | None) -> None:
        self.on_row = on_row
        self.unit: Unit | None = None
        self.section = "outside"  # outside | header | between | steps | footer
        self.columns = COLUMNS
        self.done: list[Unit] = []

    def feed(self, raw: str, number: int) -> None:
        line = raw.rstrip("\r\n")
        marker = line.strip().lower()
        if not marker:
            return
        if marker == HEADER_START:
            if self.section != "outside":
                raise ConversionError(f"line {number}: --Header-Start-- before --UUT-End--")
            self.unit, self.section = Unit(start_line=number), "header"
            return
        if self.unit is None:
            # Lenient: a file may start with its header lines directly.
            self.unit, self.section = Unit(start_line=number), "header"
        unit = self.unit
        if marker == HEADER_END:
            self.section = _expect(self.section, ("header",), "--Header-End--", number, "between")
        elif marker == STEPS_START:
            self.section = _expect(
                self.section, ("header", "between"), "--Step-Data-Start--", number, "steps"
            )
            unit.steps_seen, self.columns = True, COLUMNS
        elif marker == STEPS_END:
            self.section = _expect(self.section, ("steps",), "--Step-Data-End--", number, "footer")
        elif marker == UUT_END:
            if self.section == "steps":
                raise ConversionError(f"line {number}: --UUT-End-- inside the step data")
            self._finish(number)
        elif self.section == "steps":
            if self.on_row is None:
                return
            cells = line.split("\t")
            if cells[0].strip().lower() == "steptype":
                self.columns = _columns(cells, number)
                return
            self.on_row(_row(cells, self.columns, number))
        elif self.section in ("header", "between", "footer"):
            _key_line(unit, line, number)
        else:  # pragma: no cover - every section is handled above
            raise AssertionError(self.section)

    def end(self, number: int, last: str) -> None:
        """The lines are over: the last unit ends (it needs no ``--UUT-End--``).

        Args:
            number: the number of the last line.
            last: the last line, with its ending.
        """
        if self.unit is not None:
            if self.section == "steps":
                raise ConversionError(
                    f"{ends_at(last, number)}, inside the step data of the UUT that starts at "
                    f"line {self.unit.start_line} (no --Step-Data-End--: the file is cut short?)"
                )
            self._finish(number)

    def _finish(self, number: int) -> None:
        assert self.unit is not None
        self.unit.end_line = number
        self.done.append(self.unit)
        self.unit, self.section = None, "outside"


def read_headers(lines: Iterable[str]) -> Iterator[Unit]:
    """The units of a WSTF text, header and footer fields only (step rows are skipped).

    Raises:
        ConversionError: a section marker is out of place, or a key line has no value column;
            the message names the line.
    """
    sections = _Sections(on_row=None)
    number, raw = 0, ""
    for number, raw in enumerate(lines, start=1):
        sections.feed(raw, number)
        yield from sections.done
        sections.done.clear()
    sections.end(number, raw)
    yield from sections.done


def read_units(
    lines: Iterable[str], ahead: Iterable[str]
) -> Iterator[tuple[Unit, Iterator[StepRow]]]:
    """Each unit of a WSTF text with its step rows, both read as they are asked for.

    ``lines`` and ``ahead`` are the same lines, read twice: ``ahead`` for each unit's fields
    (:func:`read_headers`), ``lines`` for its rows. A unit's rows must be read (or left) before
    the next unit is asked for.

    Raises:
        ConversionError: as :func:`read_headers`; a step data header row names an unknown
            column, or a row has more cells than columns (naming the line).
    """
    rows: list[StepRow] = []
    sections = _Sections(on_row=rows.append)
    numbered = enumerate(lines, start=1)
    last = 0

    def unit_rows(unit: Unit) -> Iterator[StepRow]:
        nonlocal last
        # Feed lines up to the end of this unit, passing its rows on one at a time.
        while last < unit.end_line:
            found = next(numbered, None)
            if found is None:
                break
            last = found[0]
            sections.feed(found[1], last)
            sections.done.clear()  # the fields came from `ahead` already
            yield from rows
            rows.clear()

    for unit in read_headers(ahead):
        pending = unit_rows(unit)
        yield unit, pending
        for _ in pending:  # rows the caller did not want: read past them
            pass


def ends_at(last: str, number: int) -> str:
    """``the file ends at line L, column C`` for a file whose line ``number`` is ``last``."""
    if number == 0:
        return "the file ends at line 1, column 1"
    return f"the file ends at {place(last, number)}"


def _expect(section: str, allowed: tuple[str, ...], marker: str, number: int, then: str) -> str:
    if section not in allowed:
        raise ConversionError(f"line {number}: {marker} is out of place (in the {section})")
    return then


def _columns(cells: list[str], number: int) -> tuple[str, ...]:
    names: list[str] = []
    for cell in cells:
        key = cell.strip().lower()
        if not key:
            continue
        if key not in _KNOWN:
            raise ConversionError(
                f"line {number}: unknown column {cell.strip()!r} (known: {', '.join(COLUMNS)})"
            )
        names.append(_KNOWN[key])
    return tuple(names)


def _row(cells: list[str], columns: tuple[str, ...], number: int) -> StepRow:
    extra = [n for n, c in enumerate(cells) if n >= len(columns) and c.strip()]
    if extra:
        column = sum(len(c) + 1 for c in cells[: extra[0]]) + 1  # +1: each cell's tab
        raise ConversionError(
            f"line {number}, column {column}: {len(cells)} fields, but the step data has "
            f"{len(columns)} columns"
        )
    return StepRow(line=number, cells=dict(zip(columns, cells, strict=False)))


def _key_line(unit: Unit, line: str, number: int) -> None:
    key, sep, rest = line.partition("\t")
    key = key.strip()
    if key.lower() == "subunit":
        unit.subunits.append((number, [c.strip() for c in rest.split("\t")]))
        return
    if not sep:
        raise ConversionError(f"line {number}: expected Key<TAB>Value, got {line.strip()!r}")
    if not key:
        raise ConversionError(f"line {number}: a header line without a key (Key<TAB>Value)")
    unit.header[key.lower()] = Field(rest.strip(), number)
    unit.header_names.setdefault(key.lower(), key)

"""Reading the WATS Standard Text Format into units of header, step rows and footer.

The layout accepted is documented in :mod:`pywats_station.converters.builtin.wstf`; this module
only splits the text into its sections, keeping every line number for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pywats_station.converters.api import ConversionError

__all__ = ["COLUMNS", "Field", "StepRow", "Unit", "read_units"]

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
    """One UUT of the file: header fields, sub-units, step rows, footer fields."""

    start_line: int
    header: dict[str, Field] = field(default_factory=dict)  # keys folded to lower case
    header_names: dict[str, str] = field(default_factory=dict)  # folded key -> as written
    subunits: list[tuple[int, list[str]]] = field(default_factory=list)
    rows: list[StepRow] = field(default_factory=list)
    steps_seen: bool = False

    def value(self, key: str) -> Field | None:
        """A header (or footer) field by key, any case."""
        return self.header.get(key.lower())


def read_units(text: str) -> list[Unit]:
    """Split a WSTF text into its units.

    Raises:
        ConversionError: a section marker is out of place, a key line has no value column, or a
            step data header row names an unknown column; the message names the line.
    """
    units: list[Unit] = []
    unit: Unit | None = None
    section = "outside"  # outside | header | between | steps | footer
    columns = COLUMNS
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        marker = line.strip().lower()
        if not marker:
            continue
        if marker == HEADER_START:
            if section not in ("outside",):
                raise ConversionError(f"line {number}: --Header-Start-- before --UUT-End--")
            unit, section = Unit(start_line=number), "header"
            continue
        if unit is None:
            # Lenient: a file may start with its header lines directly.
            unit, section = Unit(start_line=number), "header"
        if marker == HEADER_END:
            section = _expect(section, ("header",), "--Header-End--", number, "between")
        elif marker == STEPS_START:
            section = _expect(
                section, ("header", "between"), "--Step-Data-Start--", number, "steps"
            )
            unit.steps_seen, columns = True, COLUMNS
        elif marker == STEPS_END:
            section = _expect(section, ("steps",), "--Step-Data-End--", number, "footer")
        elif marker == UUT_END:
            if section == "steps":
                raise ConversionError(f"line {number}: --UUT-End-- inside the step data")
            units.append(unit)
            unit, section = None, "outside"
        elif section == "steps":
            cells = line.split("\t")
            if cells[0].strip().lower() == "steptype":
                columns = _columns(cells, number)
                continue
            unit.rows.append(_row(cells, columns, number))
        elif section in ("header", "between", "footer"):
            _key_line(unit, line, number)
        else:  # pragma: no cover - every section is handled above
            raise AssertionError(section)
    if unit is not None:
        if section == "steps":
            raise ConversionError(
                f"line {unit.start_line}: the file ends inside the step data (no --Step-Data-End--)"
            )
        units.append(unit)
    return units


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
    extra = [c for c in cells[len(columns) :] if c.strip()]
    if extra:
        raise ConversionError(
            f"line {number}: {len(cells)} fields, but the step data has {len(columns)} columns"
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
    unit.header[key.lower()] = Field(rest.strip(), number)
    unit.header_names.setdefault(key.lower(), key)

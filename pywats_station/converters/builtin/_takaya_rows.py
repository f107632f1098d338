"""The step rows of TAKAYA ATD files, in their two layouts, as one :class:`Row`.

**Tab layout** (ATD): 58 tab-separated columns, named by a ``Group_No.`` header row: group,
step number, parts, value, unit, comment, location; H-pin, net, L-pin, net, guard pins G-P1 and
G-P2 with their nets; judgement; the reference, test value 1 and test value 2, each as element
(``R``, ``C``, ``D``…), figure (the value in base units: ``5.52E-6``), characters (as shown:
``5.52``) and unit (``UH``); date, time, mode, range, measuring time, tolerances (``+30%``,
``-30%``), access probes; counters, model path, testing time, serial, tester, index; four probe
coordinates, rack, A/B side, function (``**``, ``OP``, ``SH``, ``JP``…), debug status, aux.

**Quoted layout** (APT-94xx): step number, quoted parts, value and comment, bare H-pin and L-pin,
quoted reference, measurement 1 and (optional) measurement 2 (``"400.0 O  "``, ``"........"``
when unused), bare tolerances (``+5% -5%``), quoted judgement, mode, range, time (``"15.0 ms"``)
and probes, two integers, and the quoted function.

Values are read in base units (ohm, F, H, V, A): the tab layout writes them so (the figure
column); the quoted layout's prefixes are applied here (``4.21 KO`` → 4210 ohm; ``M`` is mega
before ``O`` and milli elsewhere, as a flying probe measures megohms but no megavolts).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pywats_station.converters.api import ConversionError

__all__ = [
    "Quantity",
    "Row",
    "parse_apt_row",
    "parse_quantity",
    "parse_tab_row",
    "prefix_of",
    "tidy",
]

TAB_COLUMNS = 56  # up to the function column; debug status and aux may be missing
JUDGEMENTS = frozenset({"PASS", "FAIL", "OPEN", "SHORT", "NG", "......"})
FUNCTIONS = frozenset({"**", "OP", "SH", "JP", "D", "E", "F"})
_BASE = {"O": "ohm", "F": "F", "H": "H", "V": "V", "A": "A"}
_PREFIX = {"": 1.0, "K": 1e3, "G": 1e9, "U": 1e-6, "N": 1e-9, "P": 1e-12}
_MICRO = str.maketrans({"µ": "U", "μ": "U"})  # the micro sign and the Greek mu
_UNUSED = re.compile(r"^(\.+|\*|)$")
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-zµμ]{0,3})$")
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_TOLERANCE = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)%$")
_TIME = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|us)$", re.IGNORECASE)
_PREFIX_OF = re.compile(r"^([A-Za-z]+)\d")


@dataclass(frozen=True)
class Quantity:
    """A value in base units, and how the file wrote it."""

    value: float
    unit: str | None
    text: str


@dataclass
class Row:
    """One step row, in the layout's terms the steps are built from."""

    line: int
    step: str
    parts: str
    name: str
    judgement: str
    function: str
    reference: Quantity | None
    first: Quantity | None
    second: Quantity | None
    tol_plus: float | None  # percent, magnitude
    tol_minus: float | None
    time: float | None  # seconds
    group: int = 0  # the tab layout's group column
    details: list[str] = field(default_factory=list)  # the report text's parts

    @property
    def measured(self) -> Quantity | None:
        """The value judged: the second measurement (a re-test) when there is one."""
        return self.second or self.first


def tidy(value: float) -> float:
    """``value`` to 15 significant digits: 100.0 nF is 1e-07 F, not 1.0000000000000001e-07."""
    return float(f"{value:.15g}")


def prefix_of(parts: str) -> str | None:
    """The component letters of a part (``C476`` → ``C``, ``P1P2`` → ``P``), if any."""
    match = _PREFIX_OF.match(parts)
    return match.group(1) if match else None


def _base(unit: str) -> tuple[str | None, float]:
    """The base unit and the factor of a unit as written (``KO`` → ``ohm``, 1000)."""
    if not unit:
        return None, 1.0
    base = _BASE.get(unit[-1].upper())
    prefix = unit[:-1]
    if base is None:
        return unit, 1.0
    if prefix == "m" or (prefix == "M" and base != "ohm"):
        return base, 1e-3
    if prefix == "M":
        return base, 1e6
    factor = _PREFIX.get(prefix.translate(_MICRO).upper())
    if factor is None:
        return unit, 1.0
    return base, factor


def _number(text: str, line: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"line {line}, {what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConversionError(f"line {line}, {what}: {text!r} is not a finite number")
    return value


def parse_quantity(text: str, line: int, what: str) -> Quantity | None:
    """``"4.21 KO"`` as 4210 ohm; ``None`` for an unused field (dots, ``*``, empty).

    Raises:
        ConversionError: neither (naming the line and field).
    """
    shown = text.strip()
    if _UNUSED.match(shown):
        return None
    match = _QUANTITY.match(shown)
    if match is None:
        raise ConversionError(f"line {line}, {what}: {shown!r} is not a value with a unit")
    unit, factor = _base(match.group(2))
    return Quantity(tidy(_number(match.group(1), line, what) * factor), unit, shown)


def _tolerance(text: str, line: int, what: str) -> float | None:
    if not text:
        return None
    match = _TOLERANCE.match(text)
    if match is None:
        raise ConversionError(f"line {line}, {what}: {text!r} is not a tolerance (+10%)")
    return float(match.group(2))


def _time(text: str, line: int, what: str) -> float | None:
    if not text:
        return None
    match = _TIME.match(text)
    if match is None:
        raise ConversionError(f"line {line}, {what}: {text!r} is not a time (1.0 ms)")
    scale = {"ms": 1e-3, "s": 1.0, "us": 1e-6}[match.group(2).lower()]
    return float(match.group(1)) * scale


def _tab_quantity(cells: list[str], at: int, line: int, what: str) -> Quantity | None:
    """A tab quantity from its figure (base units), characters and unit columns."""
    figure, chars, unit = cells[at + 1], cells[at + 2], cells[at + 3]
    if _UNUSED.match(chars) or not figure:
        return None
    base, _ = _base(unit)
    value = _number(figure, line, f"{what} (figure column {at + 2})")
    return Quantity(value, base, f"{chars} {unit}".strip())


def parse_tab_row(text: str, line: int) -> Row:
    """A row of the tab layout (see the module docstring).

    Raises:
        ConversionError: too few columns or a wrong value (naming the line and column).
    """
    cells = [cell.strip() for cell in text.split("\t")]
    if len(cells) < TAB_COLUMNS:
        raise ConversionError(
            f"line {line}: a row with {len(cells)} columns, at least {TAB_COLUMNS} expected "
            "(a line cut short?)"
        )
    cells += [""] * (58 - len(cells))
    if not re.fullmatch(r"\d{1,9}", cells[0]):
        # A group number; int() of a megabyte of digits would raise, not just be wrong.
        raise ConversionError(
            f"line {line}: column 1 should be the board's group number, got {cells[0][:40]!r}"
        )
    parts, value, unit, comment = cells[2], cells[3], cells[4], cells[5]
    net_high, net_low = cells[8], cells[10]
    first_word = parts if prefix_of(parts) else comment
    details = [f"step {cells[1]}", " ".join(x for x in (value, unit, comment) if x)]
    details.append(f"H pin {cells[7]} {net_high}, L pin {cells[9]} {net_low}")
    for pin, net in ((cells[11], cells[12]), (cells[13], cells[14])):
        if pin not in ("", "0"):
            details.append(f"guard pin {pin} {net}")
    details += [f"{cells[30]} {cells[31]}".strip(), f"probes {cells[35]}"]
    details.append(
        "XY " + " ".join(f"{x},{y}" for x, y in zip(cells[45:53:2], cells[46:53:2], strict=True))
    )
    for at, what in ((53, "rack"), (54, "side"), (56, "debug"), (57, "aux")):
        if cells[at].strip("*-"):  # stars and dashes: not set
            details.append(f"{what} {cells[at]}")
    return Row(
        line=line,
        step=cells[1],
        parts=parts,
        name=f"{first_word}_{net_high}_{net_low}",
        judgement=cells[15],
        function=cells[55],
        reference=_tab_quantity(cells, 16, line, "reference"),
        first=_tab_quantity(cells, 20, line, "test value 1"),
        second=_tab_quantity(cells, 24, line, "test value 2"),
        tol_plus=_tolerance(cells[33], line, "tolerance (+) column 34"),
        tol_minus=_tolerance(cells[34], line, "tolerance (-) column 35"),
        time=_time(cells[32], line, "measuring time column 33"),
        group=int(cells[0]),
        details=[d for d in details if d.strip()],
    )


def parse_apt_row(text: str, line: int) -> Row:
    """A row of the quoted APT-94xx layout (see the module docstring).

    Raises:
        ConversionError: too few fields or a wrong value (naming the line).
    """
    tokens = _TOKEN.findall(text)
    quoted = [q.strip() for q, bare in tokens if not bare]
    bare = [b for _, b in tokens if b]
    judged = next((i for i in range(3, len(quoted)) if quoted[i].upper() in JUDGEMENTS), None)
    if len(quoted) < 8 or judged is None or judged < 4:
        raise ConversionError(
            f"line {line}: not an APT step row (a quoted reference, measurement and judgement "
            "are expected after the parts, value and comment: a line cut short?)"
        )
    parts, value, comment = quoted[0], quoted[1], quoted[2]
    measures = quoted[3:judged]
    after = quoted[judged + 1 :]
    function = next((q for q in reversed(quoted) if q.upper() in FUNCTIONS), "")
    tolerances = [b for b in bare[1:] if _TOLERANCE.match(b)]
    numbers = [b for b in bare[1:] if b.isdigit()]
    name = f"{parts}_{comment}" if prefix_of(parts) else f"{comment}_{value}"
    details = [f"step {bare[0]}", " ".join(x for x in (value, comment) if x)]
    if len(numbers) >= 2:
        details.append(f"H pin {numbers[0]}, L pin {numbers[1]}")
    details += [" ".join(after[:2]), f"probes {after[3]}" if len(after) > 3 else ""]
    if len(numbers) > 2:
        details.append("counts " + " ".join(numbers[2:]))
    return Row(
        line=line,
        step=bare[0],
        parts=parts,
        name=name,
        judgement=quoted[judged],
        function=function,
        reference=parse_quantity(measures[0], line, "reference"),
        first=parse_quantity(measures[1], line, "measurement 1") if len(measures) > 1 else None,
        second=parse_quantity(measures[2], line, "measurement 2") if len(measures) > 2 else None,
        tol_plus=_tolerance(tolerances[0], line, "tolerance (+)") if tolerances else None,
        tol_minus=_tolerance(tolerances[1], line, "tolerance (-)") if len(tolerances) > 1 else None,
        time=_time(after[2], line, "measuring time") if len(after) > 2 else None,
        details=[d for d in details if d.strip()],
    )

"""The records of a Teradyne GR228x log: their patterns, and what a measurement line says.

Each record is one line, recognised by its pattern (:data:`PROGRAM`, :data:`BOARD`, :data:`END`,
:data:`FAILURE`, :data:`SOCKET`, :data:`KEY`, :data:`MEASURE`). The patterns are anchored and
free of nested repetition, so a line of any length is matched in linear time.

A measurement line is ``<ref><verdict><value><prefix>(<low><prefix>,<high><prefix>)<type>``
followed by an optional message; every part after the verdict may be empty. The verdict is
``=`` passed, ``#`` logged without judging, ``<``, ``>`` or ``%`` failed; the prefixes are
``P N U M K MEG``; the type is the tester's test code (``R`` resistance, ``CP`` capacitance…),
which gives the physical unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pywats_station.converters.builtin._teradyne_common import at

__all__ = [
    "BOARD",
    "END",
    "END_EVENTS",
    "FAILURE",
    "FAILURES",
    "KEY",
    "MEASURE",
    "MEASURE_WITH_LIMITS",
    "PROGRAM",
    "SOCKET",
    "Measure",
    "parse_date",
]

_DATE = r"\d{1,2}-[A-Za-z]{3}-(?:\d{4}|\d{2})[ \t]+\d{1,2}:\d{2}:\d{2}"
PROGRAM = re.compile(rf"^(?P<path>.*?\.obc)\[(?P<date>{_DATE})", re.IGNORECASE)
"""``F:\\BOARDS\\X\\X.obc[31-JUL-12  14:17:35``: the program loaded (any path, UNC too)."""
BOARD = re.compile(rf"^@(?P<date>{_DATE})[ \t]+SN(?:[ \t]+(?P<sn>.*))?$")
"""``@31-JUL-12  14:19:32 SN 2442…``: a board starts."""
END = re.compile(rf"^(?P<event>[\"/?!&*\]])(?P<date>{_DATE})[ \t]*$")
"""``/31-JUL-12  14:19:49``: a board ends; the first character says how."""
FAILURE = re.compile(r"^\((?P<kind>[SOBCF])(?:[ \t]+(?P<info>.*))?$", re.IGNORECASE)
"""``(F 300,301,303``: a board-level failure and its node or pin list."""
SOCKET = re.compile(r"^TOP_OF_LOOP-(?P<letter>[A-H])\b", re.IGNORECASE)
"""``TOP_OF_LOOP-B``: the panel position of the next board (A = 1 … H = 8)."""
KEY = re.compile(r"^WATS_(?P<key>\w+)=(?P<value>.*)$")
"""``WATS_partNumber=123456``: a site's addition to the board's header."""

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:E[-+]?\d+)?"
_PREFIX = r"MEG|[PNUMK]"
_LIMITS = rf"\((?P<low>{_NUM})?(?P<lp>{_PREFIX})?,(?P<high>{_NUM})?(?P<hp>{_PREFIX})?\)"
MEASURE = re.compile(
    rf"^(?P<ref>\w[^\s=<>#%()]*)(?P<verdict>[=<>#%])"
    rf"(?:(?P<value>{_NUM})(?P<vp>{_PREFIX})?)?(?P<limits>{_LIMITS})?"
    r"(?P<type>[A-Z]+)?(?:(?:[ \t]+=?|=)[ \t]*(?P<message>.*))?$"
)
"""A measurement line (see the module docstring)."""
MEASURE_WITH_LIMITS = re.compile(rf"^\w[^\s=<>#%()]*[=<>#%](?:{_NUM})?(?:{_PREFIX})?{_LIMITS}")
"""A measurement line with its limits part: what ``validate()`` counts as a sign."""

FAILURES = {
    "S": "SHORTS test, failed",
    "O": "OPENS test, failed",
    "B": "BUSTEST, failure caused by bus",
    "C": "SCRATCHPROBING connection failure",
    "F": "CONTACT fixture failure",
}
"""Board-level failure kinds and their step names (WATS's converter's, for continuity)."""

END_EVENTS: dict[str, tuple[str | None, str | None]] = {
    '"': ("P", None),
    "/": ("F", None),
    "?": ("T", "aborted"),
    "!": ("T", "cancelled"),
    "&": ("E", "system error"),
    "*": ("E", "error"),
    "]": (None, "returned to diagnose"),  # the result follows from the steps
}
"""End characters: the report result (``None``: from the steps) and a note for misc info."""

_EXPONENTS = {"P": -12, "N": -9, "U": -6, "M": -3, "": 0, "K": 3, "MEG": 6}
_SYMBOLS = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M"}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
# Test codes: what the tester measures, and the physical unit of the value (None: a number
# without unit, such as a ratio or an arithmetic result).
_TYPES: dict[str, tuple[str, str | None]] = {
    "R": ("resistance", "Ω"),
    "RP": ("parallel resistance", "Ω"),
    "RS": ("series resistance", "Ω"),
    "XP": ("parallel reactance", "Ω"),
    "XS": ("series reactance", "Ω"),
    "ZM": ("impedance", "Ω"),
    "CP": ("parallel capacitance", "F"),
    "CS": ("series capacitance", "F"),
    "LP": ("parallel inductance", "H"),
    "LS": ("series inductance", "H"),
    "V": ("DC voltage", "V"),
    "DC": ("DC voltage (DVM)", "V"),
    "AC": ("AC voltage (DVM)", "V"),
    "AV": ("AC voltage", "V"),
    "VS": ("voltage source", "V"),
    "I": ("DC current", "A"),
    "AI": ("AC current", "A"),
    "IS": ("current source", "A"),
    "HZ": ("frequency", "Hz"),
    "S": ("period", "s"),
    "AR": ("arithmetic test", None),
    "AY": ("DVM/DMM measurement", None),
    "DD": ("dissipation factor", None),
    "QQ": ("quality factor", None),
    "RA": ("ratio", None),
    "EV": ("event count", None),
    "TI": ("time interval", None),
}


def parse_date(text: str, line: int) -> datetime:
    """``31-JUL-12  14:17:35`` (any case, 2- or 4-digit year) as a naive time.

    Two-digit years follow POSIX: 69 to 99 are 1969 to 1999, 00 to 68 are 2000 to 2068.

    Raises:
        ConversionError: the month or a field is out of range (naming ``line``).
    """
    day, month, rest = text.split("-", 2)
    year_text, clock = rest.split(None, 1)
    number = _MONTHS.get(month.upper())
    if number is None:
        raise at(line, f"{month!r} in {text!r} is not a month (JAN … DEC)")
    year = int(year_text)
    if len(year_text) == 2:
        year += 1900 if year >= 69 else 2000
    hour, minute, second = (int(part) for part in clock.split(":"))
    try:
        return datetime(year, number, int(day), hour, minute, second)
    except ValueError as exc:
        raise at(line, f"{text!r} is not a date and time: {exc}") from None


@dataclass(frozen=True)
class Measure:
    """What one measurement line says (the texts as written, prefixes as exponents)."""

    ref: str
    verdict: str
    value: str | None
    value_exp: int
    low: str | None
    low_exp: int
    high: str | None
    high_exp: int
    type: str
    message: str
    limits_text: str

    @classmethod
    def of(cls, match: re.Match[str]) -> Measure:
        """The measurement a :data:`MEASURE` match read."""
        low, high = match["low"], match["high"]
        return cls(
            ref=match["ref"],
            verdict=match["verdict"],
            value=match["value"],
            value_exp=_EXPONENTS[(match["vp"] or "").upper()],
            low=low,
            low_exp=_EXPONENTS[(match["lp"] or "").upper()],
            high=high,
            high_exp=_EXPONENTS[(match["hp"] or "").upper()],
            type=(match["type"] or "").upper(),
            message=(match["message"] or "").strip(),
            limits_text=match["limits"] or "",
        )

    @property
    def name(self) -> str:
        """The step name: ``R508(R)``, or the reference alone when the line has no type."""
        return f"{self.ref}({self.type})" if self.type else self.ref

    @property
    def failed(self) -> bool:
        """Whether the tester failed it (``<``, ``>`` or ``%``)."""
        return self.verdict in "<>%"

    @property
    def setup(self) -> bool:
        """Whether it sets a source (``IS``/``VS``) rather than measures."""
        return self.type in ("IS", "VS")

    @property
    def description(self) -> str:
        """What the test code measures, for a failed step's error message."""
        known = _TYPES.get(self.type)
        return known[0] if known else f"test {self.type or self.ref}"

    def scale(self) -> tuple[int, str | None]:
        """The exponent to show the value and limits in, and their unit.

        A physical quantity keeps the value's own prefix (``100.2 kΩ``); a number without a
        unit is shown plain, since a prefix alone (``k``) is no unit.
        """
        physical = _TYPES.get(self.type, ("", None))[1]
        if physical is None:
            return 0, None
        return self.value_exp, _SYMBOLS[self.value_exp] + physical

"""The Klippel QC header file: ``// comment`` lines, each followed by a ``Key=Value`` line.

::

    //serial number of current DUT
    Cfg_SerialNumber=xyz115

    //Code for overall verdict: -1: Void, no result 0: Fail, nok 1: Pass, ok 2: Warning …
    Ctrl_OverallVerdict=0

A value runs from the first ``=`` to the end of the line (it may hold ``=`` itself); the comment
above a key is kept with it. A key given twice with different values, a line that is neither a
comment nor ``Key=Value``, or a control character in a value fails the file, naming the line:
whatever is read silently wrong ends up in WATS as a wrong unit.

``Cfg_DutStartTime`` is Scilab's ``getdate()`` vector joined with ``-``, followed by the UTC
offset in minutes and the epoch: ``2020-5-20-135-5-14-10-1-37-563-120-1.589E+09`` is
year-month-week-dayofyear-weekday-day-hour-minute-second-millisecond-offset-epoch, here
2020-05-14 10:01:37.563 at UTC+02:00. A negative offset (west of Greenwich) makes two dashes in
a row (``…-563--300-…``), which is read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._textfile import iter_lines

__all__ = [
    "HEADER_LIMIT",
    "VERDICTS",
    "Entry",
    "KlippelHeader",
    "name_time",
    "parse_start",
    "read_header",
    "shorten",
]

HEADER_LIMIT = 1_000_000
"""The largest header read, in bytes: a real one is about 2 kB."""

VERDICTS: dict[int, tuple[str, str]] = {
    -1: ("Void", "T"),
    0: ("Fail", "F"),
    1: ("Pass", "P"),
    2: ("Warning", "P"),
    3: ("Noise", "E"),
    4: ("Invalid", "E"),
}
"""``Ctrl_OverallVerdict`` code → (Klippel's word, the WATS result it becomes).

A warning is a unit within its limits that came close to them: it passes (the word stays in
misc info ``Verdict``). Noise and invalid mean the measurement could not judge the unit (an
error); void means no result at all (terminated).
"""

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")  # what XML cannot carry
_START = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<week>\d{1,2})-(?P<yday>\d{1,3})-(?P<wday>\d)"
    r"-(?P<day>\d{1,2})-(?P<hour>\d{1,2})-(?P<minute>\d{1,2})-(?P<second>\d{1,2})"
    r"-(?P<ms>\d{1,3})(?:-(?P<offset>-?\d{1,4})(?:-(?P<epoch>[^-].*))?)?"
)
# The header's own name: "DUT xyz115 2020-05-14 10-01-37-5 UTC+0200" (tenths of a second
# after the seconds); the fixture's copy has dashes for the spaces.
_NAME_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[ _-](?P<hour>\d{2})-(?P<minute>\d{2})-(?P<second>\d{2})"
    r"(?:-(?P<tenth>\d))?[ _-]UTC(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2})"
)
_RESULT_LISTS = {
    "Results_Pass": "Pass",
    "Results_Fail": "Fail",
    "Results_Warning": "Warning",
    "Results_Void": "Void",
    "Results_Noise": "Noise",
    "Results_Invalid": "Invalid",
}


def shorten(text: str, limit: int = 60) -> str:
    """``text``, cut to ``limit`` characters with ``...`` (a message quotes what it shows)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``Key=Value`` line: its value, where it is, and the comment above it."""

    key: str
    value: str
    line: int
    comment: str = ""


@dataclass
class KlippelHeader:
    """A header file read: its entries in file order, by key."""

    name: str
    entries: dict[str, Entry] = field(default_factory=dict)

    def get(self, key: str) -> str:
        """The value of ``key`` (``""`` when absent)."""
        entry = self.entries.get(key)
        return entry.value if entry is not None else ""

    def where(self, key: str) -> str:
        """``<file> line N`` of ``key`` (or the file alone when it is absent)."""
        entry = self.entries.get(key)
        return f"{self.name} line {entry.line}" if entry is not None else self.name

    def required(self, key: str) -> Entry:
        """The entry of ``key``, which must be there with a value.

        Raises:
            ConversionError: it is absent or empty.
        """
        entry = self.entries.get(key)
        if entry is None:
            raise ConversionError(f"{self.name}: no {key} line in the file")
        if not entry.value:
            raise ConversionError(f"{self.where(key)}: {key} is empty")
        return entry

    def verdict(self) -> tuple[int, str, str]:
        """``Ctrl_OverallVerdict``: (code, Klippel's word, WATS result).

        Raises:
            ConversionError: it is absent, or not one of Klippel's codes.
        """
        entry = self.required("Ctrl_OverallVerdict")
        code = entry.value.strip()
        if not re.fullmatch(r"-?\d{1,2}", code) or int(code) not in VERDICTS:
            known = ", ".join(f"{c} {w.lower()}" for c, (w, _) in VERDICTS.items())
            raise ConversionError(
                f"{self.where(entry.key)}: Ctrl_OverallVerdict {shorten(code)!r} is not a "
                f"Klippel verdict ({known})"
            )
        word, result = VERDICTS[int(code)]
        return int(code), word, result

    def result_verdicts(self) -> dict[str, str]:
        """Each result named in the ``Results_*`` lists (casefolded) → Klippel's word for it."""
        verdicts: dict[str, str] = {}
        for key, word in _RESULT_LISTS.items():
            for name in self.get(key).split("\t"):
                if name.strip():
                    verdicts.setdefault(name.strip().casefold(), word)
        return verdicts

    def result_names(self) -> list[str]:
        """The results named in the ``Results_*`` lists, as written, in list order."""
        names: dict[str, str] = {}
        for key in _RESULT_LISTS:
            for name in self.get(key).split("\t"):
                if name.strip():
                    names.setdefault(name.strip().casefold(), name.strip())
        return list(names.values())


def read_header(path: Path, encoding: str, shown: str) -> KlippelHeader:
    """Read a header file; ``shown`` is its name for messages.

    Raises:
        ConversionError: the file is too big, empty, not in ``encoding``, or a line is wrong
            (naming the line).
    """
    size = path.stat().st_size
    if size > HEADER_LIMIT:
        raise ConversionError(
            f"{shown} is {size:,} bytes: not a Klippel header file (they are a few kB; at "
            f"most {HEADER_LIMIT:,} bytes are read)"
        )
    header = KlippelHeader(shown)
    comment = ""
    seen_any = False
    try:
        for number, raw in enumerate(iter_lines(path, encoding), start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            seen_any = True
            if line.lstrip().startswith("//"):
                comment = line.lstrip()[2:].strip()
                continue
            _entry(header, line, number, comment)
            comment = ""
    except ConversionError as exc:
        raise ConversionError(f"{shown}: {exc}") from None
    if not seen_any:
        raise ConversionError(f"{shown} is empty: a Klippel header has Key=Value lines")
    return header


def _entry(header: KlippelHeader, line: str, number: int, comment: str) -> None:
    key, eq, value = line.partition("=")
    key = key.strip()
    if not eq or not _KEY.fullmatch(key):
        raise ConversionError(
            f"line {number}: expected Key=Value or a // comment, got {shorten(line)!r}"
        )
    value = value.strip(" \t")
    bad = _CONTROL.search(line)  # the key is letters only: a control character is the value's
    if bad is not None:
        raise ConversionError(
            f"line {number}, column {bad.start() + 1}: {key} holds a control character "
            f"({ord(bad.group()):#04x}); the file is damaged"
        )
    first = header.entries.get(key)
    if first is not None:
        if first.value != value:
            raise ConversionError(
                f"line {number}: {key} again, with another value than on line {first.line} "
                f"({shorten(value)!r}, not {shorten(first.value)!r})"
            )
        return
    header.entries[key] = Entry(key, value, number, comment)


def parse_start(text: str, where: str) -> tuple[datetime, bool]:
    """``Cfg_DutStartTime`` as a time; whether it carried its UTC offset.

    Without the offset field (a ``getdate()`` vector alone) the time is naive.

    Raises:
        ConversionError: not the pattern, not a real date, or an offset beyond ±14 h.
    """
    match = _START.fullmatch(text.strip())
    shown = shorten(text.strip())
    if match is None:
        raise ConversionError(
            f"{where}: Cfg_DutStartTime {shown!r} is not year-month-week-day of "
            "year-weekday-day-hour-minute-second-millisecond-UTC offset-epoch"
        )
    g = {k: int(v) for k, v in match.groupdict().items() if v is not None and k != "epoch"}
    try:
        naive = datetime(
            g["year"], g["month"], g["day"], g["hour"], g["minute"], g["second"], g["ms"] * 1000
        )
    except ValueError as exc:
        raise ConversionError(
            f"{where}: Cfg_DutStartTime {shorten(text.strip())!r}: {exc}"
        ) from None
    if "offset" not in g:
        return naive, False
    offset = g["offset"]
    if abs(offset) > 14 * 60:
        raise ConversionError(
            f"{where}: Cfg_DutStartTime {shown!r}: a UTC offset of {offset} minutes is beyond "
            "±14 hours"
        )
    return naive.replace(tzinfo=timezone(timedelta(minutes=offset))), True


def name_time(name: str) -> datetime | None:
    """The start time in a header's name (``… 2020-05-14 10-01-37-5 UTC+0200``), if there."""
    match = _NAME_TIME.search(name)
    if match is None:
        return None
    try:
        when = datetime.fromisoformat(
            f"{match['date']}T{match['hour']}:{match['minute']}:{match['second']}"
        )
    except ValueError:
        return None
    minutes = int(match["oh"]) * 60 + int(match["om"])
    if minutes > 14 * 60:
        return None
    sign = -1 if match["sign"] == "-" else 1
    tenths = int(match["tenth"] or 0)
    zone = timezone(timedelta(minutes=sign * minutes))
    return (when + timedelta(milliseconds=100 * tenths)).replace(tzinfo=zone)

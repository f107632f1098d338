"""Reading TAKAYA flying-probe ATD files group by group: panel headers, boards and their rows.

Both layouts share one frame (the rows differ, see :mod:`._takaya_rows`)::

    @                                   a panel: its header between two @ lines
    * PASS *                            the panel's verdict (* FAIL *, NO-TEST)
    D.T:27    D.P:24 …                  counters (devices and groups: total, pass, fail)
    Model:V682780_B_BOT.SWX             the test program
    DATE 1/3/2023 08:20:27              day first
    Test time:14 s                      optional
    Test ID :TAK4                       the tester
    User name :…                        optional; any other "Key:value" line is kept too
    @
    * GROUP No.1   *                    one board of the panel, one report
    * PASS *                            its verdict, counters and serial number
    D.T:24 …
    Serial No.:0601994566
    Group_No.<TAB>Step_number<TAB>…     the column header (tab layout only)
    01<TAB>000001<TAB>…                 the rows
    * GROUP No.2   *                    the next board …
    @                                   … until the panel's closing @

A file may hold several panels (the APT-94xx writes bottom and top, or re-tests, one after the
other), each with its header. :func:`read_groups` yields each board with an iterator of its
rows, read as they are asked for: the file is read once, line by line. Every complaint names the
line it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._takaya_rows import Row, parse_apt_row, parse_tab_row

__all__ = ["Group", "Header", "read_groups"]

_VERDICT = re.compile(r"^\*?\s*(PASS|FAIL|NO-TEST)\s*\*?$", re.IGNORECASE)
_GROUP = re.compile(r"^\*\s*GROUP\s+No\.\s*(\d{1,9})\s*\*$", re.IGNORECASE)
_KEY = re.compile(r"^([A-Za-z][\w .()/-]{0,48}?)\s*:(.*)$")
_TAB_ROW = re.compile(r"^\d+\t")
_APT_ROW = re.compile(r"^\d{6}\s+\"")
_HEADER_KEYS = {
    "model": "model",
    "test time": "test_time",
    "test id": "tester",
    "user name": "user",
}


@dataclass
class Header:
    """A panel's header: each value with the line it is on (0: not in the file)."""

    line: int
    verdict: str | None = None
    counters: str | None = None
    model: str | None = None
    model_line: int = 0
    date: str | None = None
    date_line: int = 0
    test_time: str | None = None
    test_time_line: int = 0
    tester: str | None = None
    user: str | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)  # other "Key:value" lines


@dataclass
class Group:
    """One board (``* GROUP No.n *``) of a panel, with its panel's header."""

    line: int
    number: int
    header: Header
    verdict: str | None = None
    counters: str | None = None
    serial: str | None = None
    serial_line: int = 0
    layout: str | None = None  # "tab" or "apt", once its first row is read
    end_line: int = 0  # the last line of the group, once its rows are read


class _Peek:
    """Lines with one line of look-ahead, blank lines skipped."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self._next: tuple[int, str] | None = None
        self.last = 0

    def peek(self) -> tuple[int, str] | None:
        while self._next is None:
            item = next(self._lines, None)
            if item is None:
                return None
            self.last = item[0]
            if item[1].strip():
                self._next = (item[0], item[1].strip())
        return self._next

    def take(self) -> tuple[int, str]:
        item = self.peek()
        assert item is not None
        self._next = None
        return item


def _counters(text: str) -> str:
    return " ".join(text.split())


def _is_counters(text: str) -> bool:
    return text.upper().startswith("D.T:")


def _cut_short(src: _Peek, inside: str) -> ConversionError:
    return ConversionError(
        f"the file ends at line {src.last} inside {inside}, before its closing @ (cut short, "
        "or still being written)"
    )


def _read_header(src: _Peek) -> Header:
    number, text = src.take()
    header = Header(line=number)
    if text != "@":  # a panel that follows another: the closing @ opened it
        _header_line(header, number, text)
    while src.peek() is not None:
        number, text = src.take()
        if text == "@":
            return header
        _header_line(header, number, text)
    raise _cut_short(src, f"the panel header that starts at line {header.line}")


def _header_line(header: Header, number: int, text: str) -> None:
    if verdict := _VERDICT.match(text):
        header.verdict = verdict.group(1).upper()
    elif _is_counters(text):
        header.counters = _counters(text)
    elif text.upper().startswith("DATE "):
        header.date, header.date_line = text[5:].strip(), number
    elif key := _KEY.match(text):
        name, value = key.group(1).strip(), key.group(2).strip()
        attr = _HEADER_KEYS.get(name.lower())
        if attr == "model":
            header.model, header.model_line = value, number
        elif attr == "test_time":
            header.test_time, header.test_time_line = value, number
        elif attr is not None:
            setattr(header, attr, value)
        else:
            header.extra.append((name, value))
    else:
        shown = text[:40] + ("…" if len(text) > 40 else "")
        raise ConversionError(f"line {number}: {shown!r} is not a TAKAYA ATD header line")


def _group_head(src: _Peek, group: Group) -> None:
    while (item := src.peek()) is not None:
        number, text = item
        if verdict := _VERDICT.match(text):
            group.verdict = verdict.group(1).upper()
        elif _is_counters(text):
            group.counters = _counters(text)
        elif text.upper().startswith("SERIAL NO."):
            group.serial, group.serial_line = text.partition(":")[2].strip(), number
        else:
            return
        src.take()


def _rows(src: _Peek, group: Group) -> Iterator[Row]:
    while (item := src.peek()) is not None:
        number, text = item
        if text == "@" or _GROUP.match(text):
            return
        src.take()
        group.end_line = number
        if text.startswith("Group_No.\t"):
            layout = "tab"
            row = None
        elif _TAB_ROW.match(text):
            layout, row = "tab", parse_tab_row(text, number)
            if row.group != group.number:
                raise ConversionError(
                    f"line {number}: a row of group {row.group} inside GROUP No.{group.number} "
                    f"(line {group.line}): a GROUP line is missing"
                )
        elif _APT_ROW.match(text):
            layout, row = "apt", parse_apt_row(text, number)
        else:
            shown = text[:40] + ("…" if len(text) > 40 else "")
            raise ConversionError(f"line {number}: {shown!r} is not a TAKAYA ATD step row")
        if group.layout is None:
            group.layout = layout
        elif group.layout != layout:
            raise ConversionError(
                f"line {number}: a {layout} row in a group of {group.layout} rows (line "
                f"{group.line})"
            )
        if row is not None:
            yield row


def read_groups(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[Group, Iterator[Row]]]:
    """Yield every board with an iterator of its rows (to be read before the next board).

    Raises:
        ConversionError: a line out of place or wrong, a file cut short (no closing ``@``), or
            no board at all; each naming its line.
    """
    src = _Peek(lines)
    found = False
    while src.peek() is not None:
        header = _read_header(src)
        while True:
            item = src.peek()
            if item is None:
                raise _cut_short(src, f"the panel that starts at line {header.line}")
            number, text = item
            if text == "@":
                src.take()
                break
            group_line = _GROUP.match(text)
            if group_line is None:
                shown = text[:40] + ("…" if len(text) > 40 else "")
                raise ConversionError(
                    f"line {number}: {shown!r} where a '* GROUP No.n *' line or the closing @ "
                    "of the panel is expected"
                )
            src.take()
            group = Group(line=number, number=int(group_line.group(1)), header=header)
            group.end_line = number
            _group_head(src, group)
            rows = _rows(src, group)
            found = True
            yield group, rows
            for _ in rows:  # what the caller left unread
                pass
    if not found:
        raise ConversionError("the file holds no board (no '* GROUP No.n *' between @ lines)")

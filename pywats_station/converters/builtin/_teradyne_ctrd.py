"""Reading Teradyne's CTRD text (Spectrum ICT results) as a stream of parenthesised groups.

The text is nested ``(KEYWORD: value …)`` groups; a value is quoted text (``"C1"``), bare
text (``02/09/2023 16:44:11``, ``C:\\TP\\start.bat``) or more groups, and groups span lines::

    (STEP:
        (TYPE: RAW) (TIME: 02/09/2023 16:44:30 )
        (PAGE:
            (TYPE: CAP) (PAGE_NAME: "C1") (STAT: PASS)
            (ANA: (LOLIM: (VAL: 3.64) (SCALE: n) (UNIT: F) ) …

:func:`read_groups` yields each top-level group once it closes, so a file of any size costs one
top-level group of memory; a group over :data:`MAX_GROUP` characters or nested deeper than
:data:`MAX_DEPTH` fails the file (an unclosed group would otherwise swallow the rest of it).

Lines that wrap (a long comment, a node list) need nothing special: a line break inside a value
is a blank, inside quoted text it joins the two lines with one blank. A ``(`` that does not
start ``KEYWORD:`` is text (``C:\\Program Files (x86)\\…``), up to its own ``)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._teradyne_common import NumberedLines

__all__ = ["MAX_DEPTH", "MAX_GROUP", "Group", "read_groups"]

MAX_DEPTH = 32
"""The deepest nesting of groups accepted (the fixture's deepest is 5)."""
MAX_GROUP = 4 * 1024 * 1024
"""The most characters one top-level group may hold (the fixture's largest STEP: 2,000)."""

_OPEN = re.compile(r"\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")
_SPECIAL = re.compile(r'[()"]')
_SKIP = re.compile(r"[\s,]+")


@dataclass
class Group:
    """One ``(KEY: …)`` group: its texts and child groups in order, and where it starts."""

    key: str  # as written, upper-cased
    line: int
    column: int
    texts: list[str] = field(default_factory=list)
    children: list[Group] = field(default_factory=list)
    end: int = 0  # the line of its closing parenthesis

    @property
    def value(self) -> str:
        """The group's own text (quoted and bare parts joined by blanks), stripped."""
        return " ".join(part for part in (t.strip() for t in self.texts) if part)

    @property
    def where(self) -> str:
        """``line L, column C`` of the group's opening parenthesis."""
        return f"line {self.line}, column {self.column}"

    def child(self, key: str) -> Group | None:
        """The first child group named ``key``."""
        return next((c for c in self.children if c.key == key), None)

    def text_of(self, key: str) -> str:
        """The value of the first child named ``key``, ``""`` without one."""
        found = self.child(key)
        return found.value if found is not None else ""

    def all(self, key: str) -> list[Group]:
        """Every child group named ``key``, in order."""
        return [c for c in self.children if c.key == key]


class _Parser:
    """The character-level state machine, fed one line at a time."""

    def __init__(self) -> None:
        self.stack: list[Group] = []
        self.size = 0  # characters held by the open top-level group
        self.quote: tuple[int, int] | None = None  # where an open quoted text starts
        self.literal = 0  # "(" that are text, still open
        self.done: list[Group] = []

    def feed(self, line: str, number: int) -> None:
        pos = 0
        if self.stack:
            self.size += len(line)
            if self.size > MAX_GROUP:
                top = self.stack[0]
                raise ConversionError(
                    f"line {number}: the ({top.key}: group that starts at {top.where} is over "
                    f"{MAX_GROUP // (1024 * 1024)} MiB (a parenthesis missing?)"
                )
        if self.quote is not None:
            pos = self._quoted(line, 0, number, continued=True)
        while pos < len(line):
            char = line[pos]
            if char.isspace() or char == ",":
                pos = _SKIP.match(line, pos).end()  # type: ignore[union-attr]
            elif char == '"':
                self._need_group(number, pos)
                self.quote = (number, pos + 1)
                pos = self._quoted(line, pos + 1, number, continued=False)
            elif char == "(" and (opened := _OPEN.match(line, pos)):
                self._open(opened[1].upper(), number, pos + 1)
                pos = opened.end()
            elif char == ")" and not self.literal:
                self._close(number, pos + 1)
                pos += 1
            else:
                pos = self._bare(line, pos, number)

    def _need_group(self, number: int, pos: int) -> Group:
        if not self.stack:
            raise ConversionError(
                f"line {number}, column {pos + 1}: text outside a (KEYWORD: …) group"
            )
        return self.stack[-1]

    def _open(self, key: str, number: int, column: int) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise ConversionError(
                f"line {number}, column {column}: groups nested over {MAX_DEPTH} deep"
            )
        group = Group(key, number, column)
        self.literal = 0  # an unclosed "(" in a value ends with it
        if self.stack:
            self.stack[-1].children.append(group)
        else:
            self.size = 0
        self.stack.append(group)

    def _close(self, number: int, column: int) -> None:
        if not self.stack:
            raise ConversionError(f"line {number}, column {column}: ')' closes no group")
        group = self.stack.pop()
        group.end = number
        if not self.stack:
            self.done.append(group)

    def _quoted(self, line: str, start: int, number: int, *, continued: bool) -> int:
        end = line.find('"', start)
        piece = line[start:] if end < 0 else line[start:end]
        group = self.stack[-1]
        if continued and group.texts:
            # A quoted text that wraps: the next line goes on after one blank.
            group.texts[-1] = group.texts[-1].rstrip() + " " + piece.lstrip()
        else:
            group.texts.append(piece)
        if end < 0:
            return len(line)
        self.quote = None
        return end + 1

    def _bare(self, line: str, pos: int, number: int) -> int:
        group = self._need_group(number, pos)
        start = pos
        while (found := _SPECIAL.search(line, pos)) is not None:
            pos = found.start()
            char = line[pos]
            if char == '"' or (char == "(" and _OPEN.match(line, pos)):
                break
            if char == "(":
                self.literal += 1
            elif not self.literal:
                break  # the ")" that closes the group
            else:
                self.literal -= 1
            pos += 1
        else:
            pos = len(line)
        group.texts.append(line[start:pos])
        return pos

    def end(self, ends_at: str) -> None:
        if self.quote is not None:
            line, column = self.quote
            raise ConversionError(
                f"{ends_at}, inside quoted text that starts at line "
                f"{line}, column {column}: the file is cut short, or still being written"
            )
        if self.stack:
            inner, top = self.stack[-1], self.stack[0]
            within = f" (in ({top.key}: of {top.where})" if inner is not top else ""
            raise ConversionError(
                f"{ends_at}, inside ({inner.key}: that starts at "
                f"{inner.where}{within}: the file is cut short, or still being written"
            )


def read_groups(lines: NumberedLines) -> Iterator[Group]:
    """Yield the top-level groups of numbered CTRD lines, each once it is closed.

    Raises:
        ConversionError: text outside a group, a ``)`` that closes nothing, a group too large
            or too deep, or the lines end inside a group or quoted text; naming the line.
    """
    parser = _Parser()
    for number, line in lines:
        parser.feed(line, number)
        yield from parser.done
        parser.done.clear()
    parser.end(lines.ends_at)

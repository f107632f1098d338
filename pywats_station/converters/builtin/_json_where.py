"""Where a JSON document went wrong, for the messages of the ``wsjf`` converter.

msgspec says *what* is wrong: a malformed byte (with its offset), a member of the wrong type
(with its path, ``$.root.steps[3].status``), or ``Input data was truncated`` with no place at
all. These helpers find the place in the text: the line and column of a path's value
(:func:`path_place`), and for a cut-off file what was still open where it ends
(:func:`truncation`).

Both scan the text once with a regular expression that stops only at strings and brackets (a
30 MB export takes 2 to 3 seconds): they run only for a file that failed, in the conversion's
worker thread or child process.
"""

from __future__ import annotations

import json
import re

from pywats_station.converters.builtin._where import ends_at, place

__all__ = ["path_place", "truncation"]

# A string (closed or, at the end of a cut-off text, not), a bracket, or a comma/colon; numbers,
# literals and blanks between them are skipped by the search itself.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{},:]')
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_PATH = re.compile(r"(?:\.[^.\[]+|\[\d+\])*")  # members and items only: no `[...]` (a key)
_OPENED = {ord("{"): "an object", ord("["): "an array"}


def _place(text: bytes, offset: int) -> str:
    return place(text[:offset].decode("utf-8", "replace"))


def truncation(text: bytes) -> str:
    """What a JSON text that ends too early leaves open, and where: ``the file ends at line 3,
    column 17, inside a string that starts at line 3, column 10``; or that the file is empty.

    Args:
        text: the UTF-8 text, valid JSON up to its end (a decoder found nothing wrong before).
    """
    if not text.strip():
        return "the file is empty" if not text else "the file holds only blanks"
    end = ends_at(text.decode("utf-8", "replace"))
    open_: list[int] = []  # offsets of the arrays and objects not closed yet
    string: int | None = None  # the offset of a string not closed at the end
    for token in _TOKEN.finditer(text):
        first = token.group()[0]
        if first in _OPENED:
            open_.append(token.start())
        elif first in b"]}":
            if open_:
                open_.pop()
        elif first == ord('"') and (len(token.group()) == 1 or not token.group().endswith(b'"')):
            string = token.start()
        elif first == ord('"') and token.group().endswith(b'\\"'):
            # `"ab\"` is a string not closed yet (the quote is escaped) unless the backslash
            # before it is itself escaped: count them.
            body = token.group()[1:-1]
            if (len(body) - len(body.rstrip(b"\\"))) % 2:
                string = token.start()
    if string is not None:
        return f"{end}, inside a string that starts at {_place(text, string)}"
    if open_:
        what = _OPENED[text[open_[-1]]]
        within = f" ({len(open_)} arrays and objects are not closed)" if len(open_) > 1 else ""
        return f"{end}, inside {what} that starts at {_place(text, open_[-1])}{within}"
    return f"{end}, in the middle of a value"


def path_place(text: bytes, path: str) -> str | None:
    """``line L, column C`` of the value at a msgspec error path (``$.root.steps[3]``).

    Returns:
        The place, or ``None`` when the path cannot be followed in the text (a member named
        twice, a path msgspec writes for a mapping key): the message then keeps the path only.
    """
    offset = _skip_blanks(text, 0)
    rest = path.removeprefix("$")
    if not _PATH.fullmatch(rest):
        return None
    for step in _STEP.finditer(rest):
        found = (
            _member(text, offset, step.group(1))
            if step.group(1) is not None
            else _item(text, offset, int(step.group(2)))
        )
        if found is None:
            return None
        offset = found
    return _place(text, offset)


def _skip_blanks(text: bytes, offset: int) -> int:
    while offset < len(text) and text[offset] in b" \t\r\n":
        offset += 1
    return offset


def _skip_value(text: bytes, offset: int) -> int:
    """The offset just after the value that starts at ``offset``."""
    if text[offset : offset + 1] not in (b"{", b"["):
        token = _TOKEN.search(text, offset)
        if token is not None and token.start() == offset:  # a string
            return token.end()
        # A number or literal: it runs to the next comma or bracket.
        return token.start() if token is not None else len(text)
    depth = 0
    for token in _TOKEN.finditer(text, offset):
        first = token.group()[0]
        if first in _OPENED:
            depth += 1
        elif first in b"]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return len(text)


def _member(text: bytes, offset: int, name: str) -> int | None:
    """The offset of the value of member ``name`` of the object at ``offset``."""
    if text[offset : offset + 1] != b"{":
        return None
    offset += 1
    while True:
        key = _TOKEN.search(text, offset)
        if key is None or not key.group().startswith(b'"'):
            return None
        colon = _TOKEN.search(text, key.end())
        if colon is None or colon.group() != b":":
            return None
        value = _skip_blanks(text, colon.end())
        try:
            if json.loads(key.group()) == name:
                return value
        except ValueError:
            return None
        after = _TOKEN.search(text, _skip_value(text, value))
        if after is None or after.group() != b",":
            return None
        offset = after.end()


def _item(text: bytes, offset: int, index: int) -> int | None:
    """The offset of item ``index`` of the array at ``offset``."""
    if text[offset : offset + 1] != b"[":
        return None
    offset = _skip_blanks(text, offset + 1)
    for _ in range(index):
        after = _TOKEN.search(text, _skip_value(text, offset))
        if after is None or after.group() != b",":
            return None
        offset = _skip_blanks(text, after.end())
    return offset

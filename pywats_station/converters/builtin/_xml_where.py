"""Where a WSXF document went wrong, for the messages of the ``wsxf`` converter.

:mod:`pywats.formats.wsxf` says what is wrong: expat's reason with a 0-based column, nothing
but ``no element found`` for a cut-off file, and for a wrong attribute the element's path in
the document (``Report #1/Step Id=5/NumericLimit #2``). :func:`describe` turns that into a
message with the line and column (1-based, in characters) of the place, and for a cut-off file
what was still open where it ends.

It parses the document once more with expat, keeping only the open elements: it runs only for a
file that failed. As the reader does, it stops at a DOCTYPE before anything in it is declared,
and at the first element nested deeper than the reader's limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

from pywats.formats._nesting import MAX_XML_NESTING
from pywats_station.converters.builtin._common import BOMS
from pywats_station.converters.builtin._where import ends_at, place

__all__ = ["describe"]

_SEGMENT = re.compile(r"([A-Za-z_][\w.-]*)(?: #(\d+)| Id=(-?\d+))?")
_CODES = expat.errors.codes  # message -> code
_NO_ELEMENTS = _CODES[expat.errors.XML_ERROR_NO_ELEMENTS]
_UNCLOSED_TOKEN = _CODES[expat.errors.XML_ERROR_UNCLOSED_TOKEN]
_UNCLOSED_CDATA = _CODES[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION]
_PARTIAL_CHAR = _CODES[expat.errors.XML_ERROR_PARTIAL_CHAR]
_MISMATCH = _CODES[expat.errors.XML_ERROR_TAG_MISMATCH]
_CUT_SHORT = frozenset({_NO_ELEMENTS, _UNCLOSED_TOKEN, _UNCLOSED_CDATA, _PARTIAL_CHAR})
# What an unclosed token is, by how it starts (longest first).
_TOKENS = (
    ("<!--", "a comment"),
    ("<![CDATA[", "a CDATA section"),
    ("<!", "a declaration"),
    ("<?", "a processing instruction"),
    ("</", "an end tag"),
    ("<", "a start tag"),
    ("&", "an entity reference"),
)


@dataclass(frozen=True)
class _Segment:
    """One step of a reader path: ``Tag`` (the first), ``Tag #n``, or ``Step Id=5`` (anywhere
    below)."""

    tag: str
    number: int | None
    step_id: int | None


@dataclass
class _Open:
    """An element not closed yet: its tag, where it starts, its children so far by tag, and how
    many segments of the wanted path it and its ancestors match (-1: off the path)."""

    tag: str
    place: str
    counts: dict[str, int] = field(default_factory=dict)
    matched: int = -1


class _Stop(Exception):
    """Ends the scan: what was looked for is found (or a DOCTYPE/too deep, recorded)."""


class _Scan:
    """One expat pass over the document, recording open elements and the places asked for."""

    def __init__(self, data: bytes, path: list[_Segment]) -> None:
        self.data = data
        self.path = path
        self.bom = any(data.startswith(bom) for bom, _ in BOMS)
        self.parser = expat.ParserCreate()
        self.open: list[_Open] = []
        self.found: str | None = None  # the element at the end of `path`
        self.doctype: str | None = None
        self.too_deep: str | None = None
        self.root: str | None = None
        self.error: expat.ExpatError | None = None
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.StartDoctypeDeclHandler = self._doctype

    def run(self) -> _Scan:
        try:
            self.parser.Parse(self.data, True)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            self.error = exc
        except (LookupError, ValueError):
            pass  # the declaration names an encoding expat cannot read: the reader said so
        return self

    def place(self, line: int, column: int) -> str:
        """``line L, column C`` from expat's 1-based line and 0-based column (in characters,
        a byte-order mark counted on line 1)."""
        shift = 0 if line == 1 and self.bom else 1
        return f"line {line}, column {column + shift}"

    def here(self) -> str:
        return self.place(self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber)

    def _doctype(self, *_: object) -> None:
        self.doctype = self.here()
        raise _Stop  # nothing declared in it is ever read

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        element = _Open(tag, self.here())
        if not self.open:
            self.root = element.place
            element.matched = 0  # the path starts below the root
        else:
            element.matched = self._match(self.open[-1], tag, attrs)
        self.open.append(element)
        if len(self.open) > MAX_XML_NESTING:
            self.too_deep = element.place
            raise _Stop
        if self.path and element.matched == len(self.path):
            self.found = element.place
            raise _Stop

    def _match(self, parent: _Open, tag: str, attrs: dict[str, str]) -> int:
        parent.counts[tag] = count = parent.counts.get(tag, 0) + 1
        done = parent.matched
        if done < 0 or done >= len(self.path):
            return -1
        want = self.path[done]
        if want.step_id is not None:  # a step by its id: any element below may hold it
            hit = tag == want.tag and attrs.get("Id", "").strip() == str(want.step_id)
            return done + 1 if hit else done
        return done + 1 if tag == want.tag and count == (want.number or 1) else -1

    def _end(self, name: str) -> None:
        self.open.pop()


def _encoding(data: bytes) -> str:
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    return "utf-8"


def _path(message: str) -> list[_Segment]:
    """The reader path a message starts with (``Report #1/Step Id=5: …``), or ``[]``."""
    head, sep, _ = message.partition(": ")
    if not sep or not head.startswith("Report #"):
        return []
    segments = []
    for part in head.split("/"):
        found = _SEGMENT.fullmatch(part)
        if found is None:
            return []
        number, step_id = found.group(2), found.group(3)
        segments.append(
            _Segment(
                found.group(1),
                int(number) if number else None,
                int(step_id) if step_id else None,
            )
        )
    return segments


def describe(data: bytes, message: str, *, malformed: bool) -> str:
    """The reader's ``message`` about ``data`` with the place it is about.

    Args:
        data: the document.
        message: what :mod:`pywats.formats.wsxf` said.
        malformed: the document is not well-formed XML (the reader's message is expat's); it is
            described anew, with the place, and for a cut-off file what is still open.
    """
    path = [] if malformed else _path(message)
    scan = _Scan(data, path).run()
    if malformed and scan.error is not None:
        return f"WSXF is not well-formed XML: {_malformed(scan, scan.error)}"
    if scan.found is not None:
        return f"{message} ({scan.found})"
    for where in (scan.doctype, scan.too_deep):
        if where is not None:
            return f"{message} ({where})"
    if message.startswith("not a WSXF document") and scan.root is not None:
        return f"{message} ({scan.root})"
    return message


def _malformed(scan: _Scan, error: expat.ExpatError) -> str:
    where = scan.place(error.lineno, error.offset)
    reason = expat.errors.messages[error.code]
    inside = f" <{scan.open[-1].tag}> that starts at {scan.open[-1].place}" if scan.open else ""
    if error.code in _CUT_SHORT:
        text = scan.data.decode(_encoding(scan.data), "replace")
        end = ends_at(text.removeprefix("\ufeff"))
        if error.code == _NO_ELEMENTS:
            if scan.root is None:
                if not text.strip():
                    return "the file is empty" if not text else "the file holds only blanks"
                return f"{end}: it holds no element"
            return f"{end}, inside{inside}"
        if error.code == _PARTIAL_CHAR:
            return f"{end}, in the middle of a character (its bytes are cut short)"
        if error.code == _UNCLOSED_CDATA:  # expat places this one at the end: find the start
            start = text.rfind("<![CDATA[")
            where = place(text[:start].removeprefix("\ufeff")) if start >= 0 else where
            token = "a CDATA section"
        else:
            token = _token(scan.data, scan.parser.ErrorByteIndex)
        within = f" (in{inside})" if inside else ""
        return f"{end}, inside {token} that starts at {where}{within}"
    if error.code == _MISMATCH and scan.open:
        return f"{where}: mismatched tag: the end tag does not close{inside}"
    return f"{where}: {reason}"


def _token(data: bytes, offset: int) -> str:
    """What the token starting at byte ``offset`` is (``a comment``, ``a start tag``…)."""
    if offset < 0:
        return "a token"
    head = data[offset : offset + 64].decode(_encoding(data), "ignore")
    for start, what in _TOKENS:
        if head.startswith(start):
            if what in ("a start tag", "an end tag"):
                name = re.match(r"[^\s/>]*", head[len(start) :])
                return f"{what} {start}{name.group() if name else ''}"
            return what
    return "a token"

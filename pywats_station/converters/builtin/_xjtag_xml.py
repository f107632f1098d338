"""Reading XJTAG's XML (a run, ``Info.xml``) safely into a small tree, CDATA kept apart.

XJTAG writes its texts as CDATA sections. The XML export indents them (a line break and blanks
around each section), while texts start or end with meaningful blanks (``"Testing SRAM Device
"`` followed by a device link): trimming would lose those. So each element keeps its text in
parts, CDATA or not, and :meth:`Node.text` takes the CDATA sections alone when there are any,
otherwise the text trimmed.

The input is hostile until proven otherwise: a DOCTYPE is refused the moment it starts (no DTD,
no entity declarations, so no entity expansion), elements may nest at most :data:`MAX_DEPTH`
deep, a document may hold at most :data:`MAX_ELEMENTS` elements, and an element keeps at most
:data:`MAX_TEXT` characters of text (the start and the end of a longer one). Every error names the
place (line and column, as an editor counts them) and, for a document cut short, the element
still open there.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._where import place

__all__ = ["MAX_DEPTH", "MAX_ELEMENTS", "MAX_TEXT", "Node", "parse_xml"]

MAX_DEPTH = 32
"""The deepest element nesting read (XJTAG's runs nest 5 deep)."""
MAX_ELEMENTS = 200_000
"""The most elements one document may hold (a run of a thousand tests holds about 15,000)."""
MAX_TEXT = 1 << 20
"""The most characters of text one element keeps: its first and last half (the middle of a
longer text is counted in ``Node.cut``)."""

_CODES = expat.errors.codes
_CUT_SHORT = frozenset(
    _CODES[name]
    for name in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
    )
)


@dataclass(eq=False)
class Node:
    """One element: its tag, attributes, where it starts, children and text parts.

    Attributes:
        tag: the element name (a namespace prefix removed).
        attrs: its attributes.
        line: the line its start tag is on (from 1).
        column: the column its start tag begins at (from 1).
        children: child elements in document order.
        parts: the text directly inside it, as (is CDATA, text) pairs in document order.
        cut: characters of text left out in the middle (see :data:`MAX_TEXT`).
    """

    tag: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list[Node] = field(default_factory=list)
    parts: list[tuple[bool, str]] = field(default_factory=list)
    cut: int = 0
    _size: int = 0
    _tail: str = ""
    _tail_cdata: bool = False

    @property
    def where(self) -> str:
        """``<tag> at line L, column C``, for messages."""
        return f"<{self.tag}> at line {self.line}, column {self.column}"

    def text(self) -> str:
        """The CDATA sections when there are any, else the text trimmed (see the module).

        A text over :data:`MAX_TEXT` characters keeps its first and last half of that, and says
        how much was left out between them.
        """
        cdata = [text for is_cdata, text in self.parts if is_cdata]
        if cdata or self._tail_cdata:
            head = "".join(cdata)
        else:
            head = "".join(text for _, text in self.parts).strip()
        if not self.cut:
            return head
        return f"{head}\n[… {self.cut:,} characters left out …]\n{self._tail}"

    def child(self, tag: str) -> Node | None:
        """The first child named ``tag``."""
        return next(self.iter(tag), None)

    def iter(self, tag: str) -> Iterator[Node]:
        """The children named ``tag``, in order."""
        return (node for node in self.children if node.tag == tag)

    def child_text(self, tag: str) -> str | None:
        """The text of the first child named ``tag`` (``None`` when there is none)."""
        node = self.child(tag)
        return None if node is None else node.text()

    def add_text(self, cdata: bool, text: str) -> None:
        """Keep ``text``: the first and the last ``MAX_TEXT // 2`` characters of it all."""
        half = MAX_TEXT // 2
        if self._size + len(text) > half or self.cut or self._tail:
            room = max(0, half - self._size)
            if room:
                self.add_text(cdata, text[:room])
                text = text[room:]
            joined = self._tail + text
            self.cut += max(0, len(joined) - half)
            self._tail = joined[-half:]
            self._tail_cdata = self._tail_cdata or cdata
            return
        self._size += len(text)
        if self.parts and self.parts[-1][0] == cdata:
            self.parts[-1] = (cdata, self.parts[-1][1] + text)
        else:
            self.parts.append((cdata, text))


class _Stop(Exception):
    """Raised from a handler to end the parse with a message."""


class _Builder:
    """The expat handlers that build the tree, with the limits of the module docstring."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.buffer_size = 1 << 16
        # No external or parameter entities, whatever the document says.
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._chars
        self.parser.StartCdataSectionHandler = self._cdata_start
        self.parser.EndCdataSectionHandler = self._cdata_end
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.stack: list[Node] = []
        self.root: Node | None = None
        self.count = 0
        self.in_cdata = False

    def here(self) -> tuple[int, int]:
        # expat counts columns from 0; an editor from 1.
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _stop(self, message: str) -> _Stop:
        line, column = self.here()
        return _Stop(f"{self.label}line {line}, column {column}: {message}")

    def _doctype(self, name: str, *_: object) -> None:
        raise self._stop(
            f"a DOCTYPE declaration (<!DOCTYPE {name}>) is refused: XJTAG never writes one, "
            "and entities it declares are not expanded"
        )

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise self._stop(f"more than {MAX_ELEMENTS:,} elements: not an XJTAG document")
        if len(self.stack) >= MAX_DEPTH:
            raise self._stop(
                f"element <{name}> nests {len(self.stack) + 1} levels deep (at most "
                f"{MAX_DEPTH}): not an XJTAG document"
            )
        line, column = self.here()
        node = Node(name.rpartition(":")[2], attrs, line, column)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def _end(self, name: str) -> None:
        self.stack.pop()

    def _chars(self, data: str) -> None:
        if self.stack:
            self.stack[-1].add_text(self.in_cdata, data)

    def _cdata_start(self) -> None:
        self.in_cdata = True

    def _cdata_end(self) -> None:
        self.in_cdata = False

    def error(self, exc: expat.ExpatError) -> str:
        reason = expat.errors.messages[exc.code]
        where = f"{self.label}line {exc.lineno}, column {exc.offset + 1}"
        inside = ""
        if self.stack:
            top = self.stack[-1]
            inside = f", inside {top.where}"
        if exc.code in _CUT_SHORT:
            if self.root is None and exc.code == _CODES[expat.errors.XML_ERROR_NO_ELEMENTS]:
                return f"{self.label.rstrip(', ') or 'the file'}: the XML holds no element"
            return (
                f"{where}: the XML ends early ({reason}{inside}): cut short, or still being "
                "written?"
            )
        return f"{where}: not well-formed XML: {reason}{inside}"


def _utf16(data: bytes) -> str | None:
    """The UTF-16 codec of a document that starts with its byte-order mark or ``<`` in UTF-16."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if data.startswith(b"<\x00"):
        return "utf-16-le"
    if data.startswith(b"\x00<"):
        return "utf-16-be"
    return None


def parse_xml(data: bytes, label: str = "") -> Node:
    """Parse an XML document into a :class:`Node` tree.

    Args:
        data: the document's bytes, in any encoding expat reads (UTF-8 or UTF-16, with or
            without a byte-order mark, or what the declaration names).
        label: what to put before a place in messages, e.g. ``"member 'Run 1.xml', "``.

    Raises:
        ConversionError: not well-formed, cut short, a DOCTYPE, nested too deeply, too many
            elements; the message names the line and column.
    """
    builder = _Builder(label)
    document: bytes | str = data
    utf16 = _utf16(data)
    if utf16 is not None:
        # expat reads UTF-16 only under the names it knows ("UTF-16", not "UTF-16BE"): decoded
        # here, the declaration's name no longer matters.
        try:
            document = data.decode(utf16)
        except UnicodeDecodeError as exc:
            where = place(data[: exc.start].decode(utf16, "replace"))
            raise ConversionError(
                f"{label}{where}: not UTF-16 ({exc.reason}): the file is cut short inside a "
                "character, or damaged"
            ) from None
    try:
        builder.parser.Parse(document, True)
    except _Stop as exc:
        raise ConversionError(str(exc)) from None
    except expat.ExpatError as exc:
        raise ConversionError(builder.error(exc)) from None
    except (LookupError, ValueError) as exc:  # an encoding name Python does not know
        raise ConversionError(f"{label}line 1, column 1: {exc}") from None
    if builder.root is None:  # pragma: no cover - expat reports a document without elements
        raise ConversionError(f"{label.rstrip(', ') or 'the file'}: the XML holds no element")
    return builder.root

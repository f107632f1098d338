"""Reading a TestStand XML report into a light element tree that knows its lines.

TestStand writes every datum as a property element, ``<Prop Name Type Flags>`` holding
``<Value>`` text, child ``<Prop>`` elements, or ``<Value ID='[i]'>`` array items. The converter
needs the line of every element, to name it when something is wrong with it, which neither
:mod:`xml.etree.ElementTree` nor :mod:`xml.dom.minidom` keep; so expat builds a tree of
:class:`Node` itself, as it reads the file in chunks.

* One report element at a time: ``<Report>`` elements under ``<Reports>`` are handed out as soon
  as they end and are not kept by their parent, so a file of many UUTs costs one UUT of memory.
  The WATS add-on's ``<TSReport>`` root (or a lone ``<Report>``) is handed out at its end.
* What no report needs is never built: ``ReportOptions`` (the report generator's settings),
  array prototypes and property attributes; only ``<Value>`` and ``<Comment>`` keep their text.
* No DOCTYPE (so no entity can be declared, and no entity bomb expanded), no external
  entities, and no nesting deeper than :data:`MAX_NESTING` elements (the converter walks the tree
  recursively).
* The XML declaration's encoding is honoured (TestStand declares ``iso-8859-1``; the WATS add-on
  writes UTF-8 with a byte-order mark); ``encoding`` overrides it for a file that lies.

Every problem is a :class:`~pywats_station.converters.api.ConversionError` naming its line and
column; a file that stops early says where it ends and which element is still open there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._common import BOMS

__all__ = ["MAX_NESTING", "Node", "NotTestStand", "ReportReader", "read_reports", "shorten"]

MAX_NESTING = 400
"""The most elements nested in each other. A sequence call costs five (``Value``, the result,
``TS``, ``SequenceCall``, ``ResultList``), so this leaves room for about 80 levels of calls:
several times what real test programs use, within what WSJF carries, and shallow enough for the
converter to walk the tree recursively."""

_CHUNK = 64 * 1024
_REPORT_ROOTS = frozenset({"TSReport", "Report"})
_ROOTS = _REPORT_ROOTS | {"Reports"}
_NOT_BUILT = frozenset({"ArrayElementPrototype", "Attributes"})
_NOT_BUILT_PROPS = frozenset({"ReportOptions"})
_TEXT = frozenset({"Value", "Comment"})
_CODES = expat.errors.codes
_NO_ELEMENTS = _CODES[expat.errors.XML_ERROR_NO_ELEMENTS]
_INVALID_TOKEN = _CODES[expat.errors.XML_ERROR_INVALID_TOKEN]
_CUT = {
    _CODES[expat.errors.XML_ERROR_UNCLOSED_TOKEN]: "a tag",
    _CODES[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION]: "a CDATA section",
    _CODES[expat.errors.XML_ERROR_PARTIAL_CHAR]: "a character",
}


def shorten(text: str, limit: int = 40) -> str:
    """``text`` for a message: at most ``limit`` characters, an ellipsis showing a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class NotTestStand(ConversionError):
    """The document is XML, but not a TestStand report (another format's root element)."""


class Node:
    """One element: its tag, attributes, children, text (``Value``/``Comment`` only), place."""

    __slots__ = ("attrs", "children", "column", "line", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str], line: int, column: int) -> None:
        self.tag = tag
        self.attrs = attrs
        self.line = line
        self.column = column
        self.children: list[Node] = []
        self.text = ""

    @property
    def name(self) -> str:
        """The ``Name`` attribute ('' when it has none, as array items and results)."""
        return self.attrs.get("Name", "")

    @property
    def type(self) -> str:
        """The ``Type`` attribute: ``Obj``, ``Number``, ``String``, ``Array``, ``TEResult``…"""
        return self.attrs.get("Type", "")

    @property
    def place(self) -> str:
        """``line L, column C`` of the element's start tag."""
        return f"line {self.line}, column {self.column}"

    def label(self) -> str:
        """How a message names the element: ``<Prop Name='Numeric'>``."""
        if self.tag == "Prop":
            if self.name:
                return f"<Prop Name='{shorten(self.name)}'>"
            return f"<Prop Type='{shorten(self.type)}'>"
        if self.tag == "Value" and "ID" in self.attrs:
            return f"<Value ID='{shorten(self.attrs['ID'])}'>"
        if self.tag == "ReportInfo":
            return f"<ReportInfo key='{shorten(self.attrs.get('key', ''))}'>"
        return f"<{self.tag}>"

    def where(self) -> str:
        """``line L, column C, <Prop Name='X'>``: the start of a message about the element."""
        return f"{self.place}, {self.label()}"

    def props(self) -> Iterator[Node]:
        """The child ``<Prop>`` elements, in order."""
        return (child for child in self.children if child.tag == "Prop")

    def prop(self, *path: str) -> Node | None:
        """The property at ``path`` below this one (by ``Name``), or ``None``."""
        node: Node | None = self
        for name in path:
            assert node is not None
            node = next((c for c in node.props() if c.name == name), None)
            if node is None:
                return None
        return node

    def values(self) -> list[Node]:
        """The ``<Value>`` children (one for a scalar, one per item for an array)."""
        return [child for child in self.children if child.tag == "Value"]

    def value(self) -> Node | None:
        """The first ``<Value>`` child, or ``None``."""
        return next((child for child in self.children if child.tag == "Value"), None)

    def scalar(self, *path: str) -> str | None:
        """The text of the property at ``path``, or ``None`` when it or its value is missing."""
        node = self.prop(*path)
        value = node.value() if node is not None else None
        return value.text if value is not None else None

    def is_empty(self) -> bool:
        """Whether the property says nothing: no text, no items, no non-empty child.

        A reference to nothing (``Nothing``) is empty too. Walked without recursion: a property
        may nest as deep as the document does.
        """
        stack = [self]
        while stack:
            node = stack.pop()
            for child in node.children:
                if child.tag == "Value":
                    if node.type == "Reference":
                        said = child.text.strip() not in ("", "Nothing")
                    else:
                        said = child.text != ""
                    if said:
                        return False
                    stack.append(child)  # an array item may hold properties
                elif child.tag == "Prop":
                    stack.append(child)
        return True


class ReportReader:
    """An expat parser that builds the tree and collects each report element as it ends.

    Args:
        encoding: the encoding to read the file in, overriding its XML declaration (one-byte
            encodings only, as expat allows); ``None``: the declaration's, else UTF-8/UTF-16.
    """

    def __init__(self, encoding: str | None = None) -> None:
        try:
            self.parser = expat.ParserCreate(encoding)
        except (LookupError, ValueError) as exc:  # unknown, or multi-byte (expat has no codec)
            raise ConversionError(
                f"arguments.encoding {encoding!r} cannot be used: {exc}"
            ) from None
        self.parser.buffer_text = True
        self.parser.buffer_size = _CHUNK
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.XmlDeclHandler = self._declaration
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.encoding = encoding
        self.declared: str | None = None
        self.root: Node | None = None
        self.stack: list[Node] = []
        self.finished: list[Node] = []
        self.depth = 0
        self.skipping = 0  # > 0 inside an element that is not built
        self.bom = False
        self.offset = 0  # where the chunk being parsed starts in the file
        self.chunk = b""

    # --- feeding ---------------------------------------------------------------------------

    def feed(self, data: bytes, final: bool = False) -> None:
        """Parse the next bytes of the file.

        Raises:
            ConversionError: not well-formed (the place, and what is open there), a DOCTYPE,
                too deep, or not a TestStand report (:class:`NotTestStand`).
        """
        if self.offset == 0 and data:
            self.bom = any(data.startswith(bom) for bom, _ in BOMS)
        self.chunk = data
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise self._malformed(exc) from None
        except (LookupError, ValueError) as exc:  # an encoding expat cannot read
            if self.encoding is not None:
                raise ConversionError(
                    f"arguments.encoding {self.encoding!r} cannot be used: {exc}"
                ) from None
            raise ConversionError(
                f"line 1: the XML declaration names an encoding that cannot be read "
                f"({shorten(str(exc), 80)}); set arguments.encoding"
            ) from None
        self.offset += len(data)

    def current(self) -> Node | None:
        """The report element being read (or the last one finished): for a preview."""
        if self.finished:
            return self.finished[-1]
        for node in self.stack:
            if node.tag in _REPORT_ROOTS:
                return node
        return None

    # --- handlers ------------------------------------------------------------------------------

    def _here(self) -> tuple[int, int]:
        parser = self.parser
        line, column = parser.CurrentLineNumber, parser.CurrentColumnNumber
        return line, (column if line == 1 and self.bom else column + 1)

    def _column(self, line: int, column: int) -> int:
        # expat counts columns from 0, a byte-order mark as one: an editor shows neither.
        return column if line == 1 and self.bom else column + 1

    def _doctype(self, name: str, *_: object) -> None:
        # expat calls this at the end of "<!DOCTYPE name [": the line, not the column, is right.
        raise ConversionError(
            f"line {self.parser.CurrentLineNumber}: the document has a DOCTYPE declaration "
            f"(<!DOCTYPE {shorten(name)}>); TestStand reports have none, and it is refused "
            "(no entity declarations are read)"
        )

    def _declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        self.declared = encoding

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            line, column = self._here()
            raise ConversionError(
                f"line {line}, column {column}: <{shorten(tag)}> is nested {self.depth} "
                f"elements deep; more than {MAX_NESTING} (about 80 levels of sequence calls) "
                "is refused"
            )
        if self.skipping:
            self.skipping += 1
            return
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            self._check_root(tag, attrs)
        if tag in _NOT_BUILT or (tag == "Prop" and attrs.get("Name") in _NOT_BUILT_PROPS):
            self.skipping = 1
            return
        if parent is not None and parent.tag == "Reports" and tag != "Report":
            self.skipping = 1  # not a report: nothing to convert in it
            return
        line, column = self._here()
        node = Node(tag, attrs, line, column)
        if parent is None:
            self.root = node
        elif not (parent.tag == "Reports" and len(self.stack) == 1):
            # A <Report> under <Reports> is not kept by its parent: it is handed out at its end.
            parent.children.append(node)
        self.stack.append(node)

    def _check_root(self, tag: str, attrs: dict[str, str]) -> None:
        namespaced = ":" in tag or any(k == "xmlns" or k.startswith("xmlns:") for k in attrs)
        if tag not in _ROOTS or namespaced:
            line, column = self._here()
            raise NotTestStand(
                f"not a TestStand XML report: its root element is <{shorten(tag)}>"
                f"{' in a namespace' if namespaced else ''} (line {line}, column {column}); "
                "a TestStand report starts with <TSReport>, <Reports> or <Report>, without a "
                "namespace"
            )

    def _end(self, tag: str) -> None:
        self.depth -= 1
        if self.skipping:
            self.skipping -= 1
            return
        node = self.stack.pop()
        if node.tag in _REPORT_ROOTS and (not self.stack or self.stack[-1].tag == "Reports"):
            self.finished.append(node)

    def _text(self, data: str) -> None:
        if not self.skipping and self.stack and self.stack[-1].tag in _TEXT:
            self.stack[-1].text += data

    # --- errors ------------------------------------------------------------------------------

    def _open(self) -> str:
        if not self.stack:
            return ""
        inner = self.stack[-1]
        return f" inside {inner.label()} that starts at {inner.place}"

    def _malformed(self, exc: expat.ExpatError) -> ConversionError:
        line, column = exc.lineno, self._column(exc.lineno, exc.offset)
        where = f"line {line}, column {column}"
        if exc.code == _NO_ELEMENTS and self.root is not None:
            return ConversionError(
                f"the file ends at {where}{self._open()}: it is cut short (a copy that did not "
                "finish, or TestStand still writing it)"
            )
        if exc.code in _CUT and self.root is not None:
            return ConversionError(
                f"the file ends inside {_CUT[exc.code]} that starts at {where}{self._open()}: "
                "it is cut short (a copy that did not finish, or TestStand still writing it)"
            )
        if exc.code == _NO_ELEMENTS:
            return ConversionError(f"not an XML document: the file holds no element ({where})")
        reason = expat.errors.messages[exc.code]
        index = self.parser.ErrorByteIndex - self.offset
        if exc.code == _INVALID_TOKEN and 0 <= index < len(self.chunk) and self.chunk[index] > 127:
            encoding = self.encoding or self.declared or "UTF-8"
            said = (
                "given by arguments.encoding"
                if self.encoding
                else "the file declares"
                if self.declared
                else "read when the file declares none"
            )
            return ConversionError(
                f"{where}: byte {self.chunk[index]:#04x} is not {encoding} (the encoding "
                f"{said}){self._open()}; if the file is in another encoding (Windows-1252, "
                "Latin-1), set arguments.encoding"
            )
        return ConversionError(f"{where}: not well-formed XML: {reason}{self._open()}")


def read_reports(path: Path, encoding: str | None = None) -> Iterator[Node]:
    """Read a TestStand XML file and yield each report element as it ends, in order.

    Raises:
        ConversionError: the file is empty, not XML, not a TestStand report, or broken (naming
            the place).
    """
    reader = ReportReader(encoding)
    with path.open("rb") as handle:
        first = handle.read(_CHUNK)
        if not first.strip():
            raise ConversionError(
                "the file is empty" if not first else "the file holds only blanks"
            )
        chunk = first
        while chunk:
            reader.feed(chunk)
            yield from _take(reader)
            chunk = handle.read(_CHUNK)
        reader.feed(b"", final=True)
        yield from _take(reader)


def _take(reader: ReportReader) -> Iterator[Node]:
    finished, reader.finished = reader.finished, []
    yield from finished

"""Reading ATML test results: a streaming expat parse into small element trees, one per UUT.

An ATML document is ``<TestResults>`` (2.02, one UUT) or ``<TestResultsCollection>`` (5.00 and
6.01, one ``<TestResults>`` per UUT, after an optional ``<Extension>`` holding TestStand's batch
table). :func:`read_documents` parses the file in chunks and yields each ``<TestResults>``
element as soon as it is closed, as a :class:`Node` tree, so a batch file of many UUTs never
holds more than one UUT's tree. The report options TestStand copies into every file
(``Configuration``, ``TS_Configuration``, ``ReportOptions``: hundreds of elements of no use to a
report) are skipped while parsing.

Elements and attributes are matched by their *local* names: the namespaces differ from version
to version (and between TestStand releases), so they only serve :func:`namespace_version`.
``xsi:type`` keeps its prefix (``attrs["xsi:type"]``) because ATML also has plain ``type``
attributes.

Hostile input: a DOCTYPE is refused when it starts, before anything in it is read (no entity
can ever be declared, so none is expanded), elements nested deeper than
:data:`~pywats.formats._nesting.MAX_XML_NESTING` stop the parse, and every problem is a
:class:`~pywats_station.converters.api.ConversionError` naming the line and column, and the
element the file was inside when it ends too soon.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from pywats.formats._nesting import MAX_XML_NESTING
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._common import BOMS

__all__ = [
    "KNOWN_NAMESPACES",
    "bom_encoding",
    "check_encoding",
    "Document",
    "Node",
    "namespace_version",
    "read_documents",
]

_CHUNK = 64 * 1024
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Subtrees that only repeat TestStand's report options: not parsed into nodes at all.
_SKIPPED = frozenset({"Configuration", "TS_Configuration", "ReportOptions", "TSRData"})

KNOWN_NAMESPACES: dict[str, str] = {
    "http://www.ieee.org/ATML/2007/TestResults": "2.02",
    "urn:IEEE-1636.1:2011:01:TestResultsCollection": "5.00",
    "urn:IEEE-1636.1:2011:01:TestResults": "5.00",
    "urn:IEEE-1636.1:2013:TestResultsCollection": "6.01",
    "urn:IEEE-1636.1:2013:TestResults": "6.01",
}
"""The root namespaces TestStand writes, by ATML version."""

_CODES = expat.errors.codes
_NO_ELEMENTS = _CODES[expat.errors.XML_ERROR_NO_ELEMENTS]
_INVALID_TOKEN = _CODES[expat.errors.XML_ERROR_INVALID_TOKEN]
_CUT_SHORT = frozenset(
    _CODES[name]
    for name in (
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)


def namespace_version(namespace: str) -> str | None:
    """The ATML version a root namespace stands for; ``None`` when it is not ATML results.

    Besides the namespaces TestStand is known to write, any IEEE 1636.1 namespace counts (a
    later TestStand may date it differently), reported as ``"1636.1"``.
    """
    if namespace in KNOWN_NAMESPACES:
        return KNOWN_NAMESPACES[namespace]
    folded = namespace.casefold()
    if "1636.1" in folded or ("atml" in folded and "testresults" in folded):
        return "1636.1"
    return None


@dataclass(slots=True, eq=False)
class Node:
    """One element: local name, namespace, attributes, children, text and where it starts."""

    tag: str
    namespace: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's own character data (not its children's), stripped."""
        return "".join(self.parts).strip()

    def child(self, *path: str) -> Node | None:
        """The first descendant along ``path`` of local names (``child("UUT", "SerialNumber")``)."""
        node: Node | None = self
        for tag in path:
            assert node is not None
            node = next((c for c in node.children if c.tag == tag), None)
            if node is None:
                return None
        return node

    def all(self, tag: str) -> list[Node]:
        """The children with local name ``tag``, in document order."""
        return [c for c in self.children if c.tag == tag]

    def get(self, name: str) -> str | None:
        """An attribute, stripped; ``None`` when absent or blank."""
        value = self.attrs.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def walk(self) -> Iterator[Node]:
        """This element and every descendant, in document order (without recursion)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def where(self) -> str:
        """``<Test name="Video Test"> at line 12``: how messages name this element."""
        label = self.get("name") or self.get("ID")
        named = f' name="{_short(label)}"' if label else ""
        return f"<{self.tag}{named}> at line {self.line}"


@dataclass(slots=True)
class Document:
    """What :func:`read_documents` yields: the root, then each UUT's ``<TestResults>``.

    Attributes:
        kind: ``"root"`` (the root element, without children, first), ``"batch"`` (a
            collection's ``<Extension>``, e.g. TestStand's batch table) or ``"results"``.
        node: the element.
    """

    kind: str
    node: Node


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Refused(Exception):
    """Raised from a handler: a DOCTYPE, or elements nested too deeply."""


class _Reader:
    """The expat handlers: builds nodes, collects finished documents."""

    def __init__(self, encoding: str | None) -> None:
        self.parser = expat.ParserCreate(encoding=encoding, namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.XmlDeclHandler = self._declaration
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.encoding = encoding  # what the bytes are read as: the override, else declared
        self.stack: list[Node] = []  # the open elements that are kept
        self.depth = 0  # all open elements, skipped ones included
        self.skip_from: int | None = None  # depth of a skipped subtree's top
        self.open_tags: list[tuple[str, int]] = []  # every open element: tag, line (messages)
        self.done: list[Document] = []
        self.root: Node | None = None

    def _split(self, name: str) -> tuple[str, str]:
        namespace, _, local = name.rpartition(" ")
        return namespace, local

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, tag = self._split(name)
        line = self.parser.CurrentLineNumber
        column = self.parser.CurrentColumnNumber + 1
        self.depth += 1
        self.open_tags.append((tag, line))
        if self.depth > MAX_XML_NESTING:
            raise _Refused(
                f"line {line}, column {column}: elements are nested more than "
                f"{MAX_XML_NESTING} levels deep (<{tag}>); no test result nests that deep"
            )
        if self.skip_from is not None:
            return
        if self.stack and tag in _SKIPPED:
            self.skip_from = self.depth
            return
        attrs: dict[str, str] = {}
        for key, value in attributes.items():
            attr_ns, local = self._split(key)
            attrs["xsi:" + local if attr_ns == _XSI else local] = value
        node = Node(tag, namespace, attrs, line, column)
        if not self.stack:
            self.root = node
            self.done.append(Document("root", Node(tag, namespace, attrs, line, column)))
        else:
            parent = self.stack[-1]
            # Children of the root are documents on their own: they are not kept under it.
            if len(self.stack) > 1 or tag not in ("TestResults", "Extension"):
                parent.children.append(node)
        self.stack.append(node)

    def _end(self, name: str) -> None:
        self.open_tags.pop()
        depth, self.depth = self.depth, self.depth - 1
        if self.skip_from is not None:
            if depth == self.skip_from:
                self.skip_from = None
            return
        node = self.stack.pop()
        if not self.stack:
            if node.tag == "TestResults":  # 2.02: the root is the one UUT
                self.done.append(Document("results", node))
        elif len(self.stack) == 1 and node.tag in ("TestResults", "Extension"):
            self.done.append(Document("results" if node.tag == "TestResults" else "batch", node))

    def _text(self, data: str) -> None:
        if self.skip_from is None and self.stack:
            self.stack[-1].parts.append(data)

    def _declaration(self, version: str, encoding: str | None, standalone: int) -> None:
        if self.encoding is None:
            self.encoding = encoding

    def _doctype(self, name: str, *_: object) -> None:
        line = self.parser.CurrentLineNumber
        raise _Refused(
            f"line {line}: the document has a DOCTYPE (<!DOCTYPE {name}>); ATML test results "
            "need none, and its declarations (entities) are not read"
        )


def bom_encoding(head: bytes, encoding: str | None) -> str | None:
    """The encoding to parse with: a byte-order mark's, which wins over the XML declaration and
    ``encoding`` (a file re-saved as "Unicode" keeps its old declaration), else ``encoding``."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return "UTF-16" if name.startswith("utf-16") else "UTF-8"
    return encoding


def read_documents(path: Path, encoding: str | None = None) -> Iterator[Document]:
    """Parse an ATML file in chunks; yield its root, batch extension and each ``<TestResults>``.

    Args:
        path: the file.
        encoding: the file's encoding when its XML declaration is wrong (``None``: what the
            declaration or a byte-order mark says, else UTF-8).

    Raises:
        ConversionError: not well-formed, cut short, a DOCTYPE, nested too deeply, or a byte
            that is not in the encoding; the message names the line, the column and the
            element open there.
    """
    fed = 0  # bytes given to the parser so far
    with path.open("rb") as handle:
        chunk = handle.read(_CHUNK)
        reader = _Reader(bom_encoding(chunk, encoding))
        window = b""  # the last bytes fed: enough to name the byte an error stops at
        while True:
            if fed:
                chunk = handle.read(_CHUNK)
            final = not chunk
            fed += len(chunk)
            window = window[-16:] + chunk
            try:
                reader.parser.Parse(chunk, final)
            except _Refused as exc:
                raise ConversionError(str(exc)) from None
            except LookupError as exc:  # expat asks Python's codecs for a declared encoding
                line = reader.parser.CurrentLineNumber
                raise ConversionError(
                    f"line {line}: the XML declaration names an encoding Python does not know "
                    f"({exc}); set arguments.encoding to the file's encoding"
                ) from None
            except expat.ExpatError as exc:
                if fed == 0:
                    raise ConversionError("the file is empty") from None
                offset = reader.parser.ErrorByteIndex - (fed - len(window))
                raise ConversionError(_describe(reader, exc, window, offset)) from None
            if reader.done:
                yield from reader.done
                reader.done.clear()
            if final:
                return


def _inside(reader: _Reader) -> str:
    if not reader.open_tags:
        return ""
    tag, line = reader.open_tags[-1]
    return f"<{tag}> that starts at line {line}"


def _describe(reader: _Reader, exc: expat.ExpatError, window: bytes, offset: int) -> str:
    """The message for a parse error: where, what, and what was open there.

    Args:
        reader: the reader that failed.
        exc: expat's error.
        window: the last bytes fed to the parser.
        offset: where in ``window`` the error is (out of range when it is not in it).
    """
    where = f"line {exc.lineno}, column {exc.offset + 1}"
    reason = expat.errors.messages[exc.code]
    inside = _inside(reader)
    if exc.code == _NO_ELEMENTS:
        if reader.root is None:
            return f"{where}: the file holds no XML element (blank, or not XML)"
        return (
            f"the file ends at {where} inside {inside}: it is cut short (still being "
            "written, or copied incompletely)"
        )
    if exc.code in _CUT_SHORT:
        within = f" inside {inside}" if inside else ""
        return (
            f"the file ends inside an unfinished token that starts at {where}{within}: it is "
            "cut short (still being written, or copied incompletely)"
        )
    encoding = (reader.encoding or "UTF-8").upper().replace("_", "-")
    if exc.code == _INVALID_TOKEN and encoding in ("UTF-8", "UTF8") and 0 <= offset < len(window):
        try:
            window[offset : offset + 4].decode("utf-8")
        except UnicodeDecodeError as bad:
            if bad.start == 0:  # the byte expat stopped at does not begin a UTF-8 character
                named = "its XML declaration names" if reader.encoding else "XML's default"
                return (
                    f"{where}: byte {window[offset]:#04x} is not UTF-8 ({named}); the file is "
                    "in another encoding (set arguments.encoding)"
                )
    within = f" (inside {inside})" if inside else ""
    return f"{where}: {reason}{within}"


def check_encoding(name: str) -> None:
    """Raise ``ValueError`` when Python knows no codec ``name``."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"encoding {name!r} is not a known encoding") from None

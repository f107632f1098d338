"""Recognising ATML test results by the first bytes of a file (the ``validate()`` of ``atml``).

The first :data:`HEAD` bytes are parsed with expat (never the whole file): the root element and
its namespace say what the file is, and what the head also holds of the first UUT (its serial
and part number, the result) makes the preview. A TestStand file of one UUT is a few tens of
kilobytes, so the preview is usually complete; in a bigger file the UUT comes after the steps
and the preview may lack it.

Confidence: 1.0 for ``<TestResults>``/``<TestResultsCollection>`` in a namespace TestStand
writes (2.02, 5.00, 6.01), 0.9 in another IEEE 1636.1 namespace, 0.5 for those names in any
other namespace, 0.2 for another ATML document (a test description…), 0.1 for XML with a
DOCTYPE, 0.0 for anything else.
"""

from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

from pywats_station.converters.api import Preview, Validation
from pywats_station.converters.builtin._atml_values import outcome
from pywats_station.converters.builtin._atml_xml import (
    KNOWN_NAMESPACES,
    Node,
    bom_encoding,
    namespace_version,
)
from pywats_station.converters.builtin._common import read_head

__all__ = ["HEAD", "sniff"]

HEAD = 64 * 1024
"""How many bytes ``validate()`` reads."""

_ROOTS = ("TestResults", "TestResultsCollection")
_RESULT_LETTERS = {"P": "P", "F": "F", "E": "E", "T": "T", "D": "P"}


class _Stop(Exception):
    """Ends the scan: the first UUT is read, or a DOCTYPE starts."""


class _Scan:
    def __init__(self, encoding: str | None) -> None:
        self.parser = expat.ParserCreate(encoding=encoding, namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.path: list[str] = []
        self.root: tuple[str, str] | None = None
        self.doctype = False
        self.sn: str | None = None
        self.pn: str | None = None
        self.result: str | None = None
        self.text: list[str] = []

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        namespace, _, tag = name.rpartition(" ")
        if self.root is None:
            self.root = (namespace, tag)
        self.path.append(tag)
        self.text.clear()
        tail = self.path[-3:]
        if tag == "IdentificationNumber" and self.pn is None:
            self.pn = attrs.get("number")
        elif tail[-2:] == ["ResultSet", "Outcome"] and self.result is None:
            found = outcome(Node("Outcome", "", dict(attrs), 0, 0))
            self.result = _RESULT_LETTERS.get(found or "")

    def _end(self, name: str) -> None:
        tag = self.path.pop()
        if tag == "SerialNumber" and self.path[-1:] == ["UUT"] and self.sn is None:
            self.sn = "".join(self.text).strip() or None
        if tag == "TestResults" and len(self.path) <= 1:
            raise _Stop  # the first UUT is complete: nothing more is needed

    def _text(self, data: str) -> None:
        self.text.append(data)

    def _doctype(self, *_: object) -> None:
        self.doctype = True
        raise _Stop


def sniff(path: Path, encoding: str | None = None) -> Validation:
    """How surely ``path`` is ATML test results, from its first :data:`HEAD` bytes."""
    try:
        head = read_head(path, HEAD + 1)
    except OSError as exc:
        return Validation(confidence=0.0, message=f"cannot read the file: {exc.strerror}")
    complete = len(head) <= HEAD
    if not head:
        return Validation(confidence=0.0, message="the file is empty")
    scan = _Scan(bom_encoding(head, encoding))
    try:
        scan.parser.Parse(head[:HEAD], complete)
    except _Stop:
        pass
    except expat.ExpatError as exc:
        if scan.root is None:
            reason = expat.errors.messages[exc.code]
            return Validation(confidence=0.0, message=f"not XML: {reason} (line {exc.lineno})")
    except LookupError as exc:  # an encoding Python does not know, named in the declaration
        if scan.root is None:
            return Validation(confidence=0.0, message=f"not readable XML: {exc}")
    if scan.doctype:
        return Validation(confidence=0.1, message="XML with a DOCTYPE: ATML test results have none")
    if scan.root is None:
        return Validation(confidence=0.0, message="no XML element in the first bytes")
    namespace, tag = scan.root
    preview = Preview(serial_number=scan.sn, part_number=scan.pn, result=scan.result)
    version = namespace_version(namespace)
    if tag in _ROOTS:
        if namespace in KNOWN_NAMESPACES:
            return Validation(
                confidence=1.0,
                preview=preview,
                message=f"ATML {KNOWN_NAMESPACES[namespace]} test results (<{tag}>)",
            )
        if version is not None:
            return Validation(
                confidence=0.9,
                preview=preview,
                message=f"IEEE 1636.1 test results (<{tag}>) in namespace {namespace}",
            )
        shown = namespace or "no namespace"
        return Validation(
            confidence=0.5, preview=preview, message=f"<{tag}> in {shown}, not an ATML namespace"
        )
    if "atml" in namespace.casefold() or "ieee-16" in namespace.casefold():
        return Validation(
            confidence=0.2, message=f"ATML, but <{tag}> is not test results ({namespace})"
        )
    shown = f" in namespace {namespace}" if namespace else ""
    return Validation(
        confidence=0.0, message=f"not ATML test results: the root element is <{tag}>{shown}"
    )

"""WSBF, the WATS Standard BOM Format: a product revision's bill of materials as XML.

``PUT /api/Product/BOM`` takes one document; the revision shows it again inside its ``xmlData``
(``<Root>`` may hold a WSBF ``<BOM>`` element)::

    <BOM xmlns="http://wats.virinco.com/schemas/WATS/wsbf" Partnumber="100100" Revision="1.0"
         Desc="Product">
      <Component Number="100200" Rev="1.0" Qty="2" Desc="Resistor" Ref="R1;R2"
                 FunctionBlock="A"/>
    </BOM>

Mapping to :class:`~pywats.models.product.Bom`::

    BOM        Partnumber→part_number  Revision→revision  Desc→description
    Component  Number→part_number  Rev→revision  Qty→quantity  Desc→description
               Ref→reference  FunctionBlock→function_block

:func:`loads` reads a document, :func:`dumps` writes one, :func:`from_xml_data` finds the BOM
inside a revision's ``xmlData`` and :func:`replace_in_xml_data` puts one there. Elements in the
WSBF namespace and elements without a namespace are read alike (the server's own example spells
the namespace with a trailing blank, which is accepted too). Documents with a DOCTYPE are refused
(no entity declarations: no XML bombs), as are documents nested deeper than
:data:`~pywats.formats._nesting.MAX_XML_NESTING` elements.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pywats._errors import BomFormatError
from pywats.formats._nesting import MAX_XML_NESTING, DepthLimitedTreeBuilder, NestingTooDeep
from pywats.models.product import Bom, BomComponent

__all__ = [
    "NAMESPACE",
    "BomFormatError",
    "dumps",
    "from_xml_data",
    "loads",
    "parse_xml",
    "replace_in_xml_data",
    "strip_declaration",
]

NAMESPACE = "http://wats.virinco.com/schemas/WATS/wsbf"

# Characters XML 1.0 cannot carry (control characters, U+FFFE/U+FFFF, lone surrogates).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>", re.IGNORECASE)
_INT = re.compile(r"\s*[+-]?\d{1,9}\s*")


class _DoctypeFound(Exception):
    """Raised from inside the parser the moment a DOCTYPE declaration starts."""


class _SafeBuilder(DepthLimitedTreeBuilder):
    """Refuses DOCTYPE declarations (entity bombs live in them) and too deep nesting."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeFound(name)


def parse_xml(data: bytes | str, what: str) -> ET.Element:
    """Parse an XML document safely (no DOCTYPE, bounded nesting).

    Args:
        data: the document.
        what: how messages name the document (``"WSBF"``, ``"xmlData"``).

    Raises:
        BomFormatError: the document is not well-formed, has a DOCTYPE or nests too deeply.
    """
    parser = ET.XMLParser(target=_SafeBuilder(MAX_XML_NESTING))
    try:
        parser.feed(data)
        return parser.close()
    except _DoctypeFound as exc:
        raise BomFormatError(
            f"{what} must not contain a DOCTYPE declaration (found <!DOCTYPE {exc}>)"
        ) from None
    except NestingTooDeep as exc:
        raise BomFormatError(f"{what} nests elements more than {exc.limit} levels deep") from None
    except ET.ParseError as exc:
        raise BomFormatError(f"{what} is not well-formed XML: {exc}") from None
    except (LookupError, ValueError) as exc:
        # The XML declaration names an encoding without a codec ("uAf-8"), one that is no text
        # encoding ("rot13") or one expat cannot feed ("utf-32"): ElementTree lets those out.
        raise BomFormatError(
            f"{what} is not readable: its XML declaration (line 1) names an encoding that cannot "
            f"be read: {exc}"
        ) from None


def _local(tag: object) -> str | None:
    """The element's name if it is in the WSBF namespace or in none, else ``None``."""
    if not isinstance(tag, str):
        return None  # comments and processing instructions
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        # The server's own example writes the namespace with a trailing blank.
        return name if namespace.strip() == NAMESPACE else None
    return tag


def _text(elem: ET.Element, name: str) -> str | None:
    value = elem.get(name)
    return value if value else None  # an empty attribute reads as absent


def _required(elem: ET.Element, name: str, where: str) -> str:
    value = elem.get(name)
    if not value or not value.strip():
        raise BomFormatError(f"{where}: the {name} attribute is required")
    return value


def _read(root: ET.Element) -> Bom:
    if _local(root.tag) != "BOM":
        raise BomFormatError(
            f"not a WSBF document: the root element is <{root.tag}>, expected <BOM> "
            f"in namespace {NAMESPACE}"
        )
    part_number = _required(root, "Partnumber", "<BOM>")
    revision = _required(root, "Revision", "<BOM>")
    components: list[BomComponent] = []
    for n, elem in enumerate((e for e in root if _local(e.tag) == "Component"), 1):
        where = f"<Component> #{n}"
        number = _required(elem, "Number", where)
        qty = elem.get("Qty")
        quantity = 1
        if qty is not None and qty.strip() != "":
            if not _INT.fullmatch(qty) or int(qty) < 0:
                raise BomFormatError(
                    f"{where} (Number {number!r}): Qty must be a whole number of at least 0, "
                    f"not {qty!r}"
                )
            quantity = int(qty)
        components.append(
            BomComponent(
                part_number=number,
                revision=_text(elem, "Rev"),
                quantity=quantity,
                description=_text(elem, "Desc"),
                reference=_text(elem, "Ref"),
                function_block=_text(elem, "FunctionBlock"),
            )
        )
    return Bom(
        part_number=part_number,
        revision=revision,
        description=_text(root, "Desc"),
        components=components,
    )


def loads(data: bytes | str) -> Bom:
    """Read a WSBF document.

    A missing ``Qty`` reads as 1; empty attributes read as absent.

    Raises:
        BomFormatError: not well-formed XML (the message gives line and column), a DOCTYPE,
            a root other than ``<BOM>``, a missing ``Partnumber``/``Revision``/``Number``, or a
            ``Qty`` that is not a whole number of at least 0 (the message names the component).
    """
    return _read(parse_xml(data, "WSBF"))


def _check(value: str | None, where: str) -> str | None:
    if value is not None and _XML_INVALID.search(value):
        raise BomFormatError(f"{where} holds a character XML cannot carry: {value!r}")
    return value


def to_element(bom: Bom) -> ET.Element:
    """The BOM as a ``<BOM>`` element (WSBF namespace).

    Raises:
        BomFormatError: an empty part number or revision, a negative quantity, or a character
            XML cannot carry.
    """
    if not bom.part_number or not bom.revision:
        raise BomFormatError("a BOM needs its product's part number and revision")
    # Plain tags and a literal xmlns attribute: ElementTree would otherwise declare the
    # namespace on the outermost element written, which moves an enclosing <Root> into it.
    root = ET.Element("BOM", {"xmlns": NAMESPACE})
    attrs = {
        "Partnumber": bom.part_number,
        "Revision": bom.revision,
        "Desc": bom.description,
    }
    for name, value in attrs.items():
        if _check(value, f"BOM {name}") is not None:
            root.set(name, value)  # type: ignore[arg-type]
    for n, item in enumerate(bom.components, 1):
        where = f"component #{n}"
        if not item.part_number:
            raise BomFormatError(f"{where}: the part number (Number) is required")
        if item.quantity < 0:
            raise BomFormatError(f"{where} ({item.part_number}): quantity must be at least 0")
        elem = ET.SubElement(root, "Component")
        values = {
            "Number": item.part_number,
            "Rev": item.revision,
            "Qty": str(item.quantity),
            "Desc": item.description,
            "Ref": item.reference,
            "FunctionBlock": item.function_block,
        }
        for name, value in values.items():
            if _check(value, f"{where} {name}") is not None:
                elem.set(name, value)  # type: ignore[arg-type]
    return root


def _serialise(elem: ET.Element) -> str:
    return ET.tostring(elem, encoding="unicode")


def dumps(bom: Bom) -> bytes:
    """Write a WSBF document (UTF-8, with an XML declaration).

    Raises:
        BomFormatError: see :func:`to_element`.
    """
    text = _serialise(to_element(bom))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + text.encode("utf-8")


def strip_declaration(text: str) -> str:
    """``text`` without its XML declaration (whose ``encoding`` would lie once re-encoded)."""
    return _DECLARATION.sub("", text, count=1)


def from_xml_data(xml_data: str | None) -> Bom | None:
    """The WSBF BOM inside a product revision's ``xmlData``, or ``None`` when it has none.

    Raises:
        BomFormatError: ``xmlData`` is not well-formed, or holds a ``<BOM>`` that is invalid.
    """
    if not xml_data or not xml_data.strip():
        return None
    root = parse_xml(strip_declaration(xml_data), "xmlData")
    if _local(root.tag) == "BOM":
        return _read(root)
    for child in root:
        if _local(child.tag) == "BOM":
            return _read(child)
    return None


def replace_in_xml_data(xml_data: str | None, bom: Bom | None) -> str:
    """``xmlData`` with its BOM replaced by ``bom`` (or removed when ``None``).

    Other children of ``<Root>`` (key/value tags) are kept; a missing ``xmlData`` becomes
    ``<Root>`` with the BOM.

    Raises:
        BomFormatError: ``xmlData`` is not well-formed, or ``bom`` cannot be written.
    """
    root = ET.Element("Root")
    if xml_data and xml_data.strip():
        parsed = parse_xml(strip_declaration(xml_data), "xmlData")
        if _local(parsed.tag) != "BOM":  # a bare WSBF document holds nothing else to keep
            root = parsed
    for child in [c for c in root if _local(c.tag) == "BOM"]:
        root.remove(child)
    if bom is not None:
        root.append(to_element(bom))
    return _serialise(root)

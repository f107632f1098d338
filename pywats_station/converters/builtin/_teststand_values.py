"""TestStand property values: numbers, booleans, statuses, and property trees as additional data.

TestStand writes numbers as C formats them (``5.41e-05``, ``NaN``, ``Inf``, old versions
``1.#INF``/``-1.#IND``; a hexadecimal display format gives ``0x1F``), booleans as ``True`` and
``False``, and statuses as words (``Passed``, ``Done``…). What WATS has no member for keeps its
TestStand shape in WSJF's ``additionalData``/``additionalResults`` property trees (name, type,
flags, value, child properties, array items), which mirror TestStand's property objects.
"""

from __future__ import annotations

import math
import re

from pywats.models.report import (
    AdditionalData,
    AdditionalDataArray,
    AdditionalDataIndex,
    AdditionalDataProperty,
)
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._teststand_xml import Node, shorten

__all__ = [
    "IDENTITY",
    "Source",
    "additional",
    "boolean",
    "entry",
    "fit",
    "group",
    "identity",
    "integer",
    "number",
    "parse_float",
    "property_tree",
    "status",
    "text_of",
]

_STATUSES = {
    "passed": "P",
    "failed": "F",
    "done": "D",
    "skipped": "S",
    "error": "E",
    "terminated": "T",
}
_GROUPS = {"setup": "S", "main": "M", "cleanup": "C"}
# Visual C's spellings of the special values (TestStand before 2010 formatted with it).
_MSVC = re.compile(r"^([+-]?)1\.#(INF|IND|QNAN|SNAN)0*$", re.IGNORECASE)
_INDEX = re.compile(r"\[(-?\d+)\]")
IDENTITY = 50
"""The longest serial or part number, revision, station, fixture or batch serial number (the WATS
C# API's limit): an identity is never cut, a longer one fails the input."""
MAX_DEPTH = 64
"""The deepest property tree kept as additional data (real ones nest a few levels)."""


def _value_node(prop: Node) -> Node:
    value = prop.value()
    if value is None:
        raise ConversionError(f"{prop.where()}: the property has no <Value>")
    return value


def text_of(prop: Node | None) -> str | None:
    """The text of a scalar property (``None`` when the property or its value is missing)."""
    if prop is None:
        return None
    value = prop.value()
    return value.text if value is not None else None


def number(prop: Node, what: str | None = None) -> float:
    """The number a ``Number`` property holds (may be NaN or infinite).

    Raises:
        ConversionError: the text is not a number, naming the element.
    """
    value = _value_node(prop)
    found = parse_float(value.text)
    if found is None:
        label = what or prop.label()
        raise ConversionError(
            f"{value.place}, {label}: {shorten(value.text.strip())!r} is not a number"
        )
    return found


def parse_float(text: str) -> float | None:
    """A number as TestStand writes it (see the module docstring), ``None`` if it is none."""
    raw = text.strip()
    special = _MSVC.match(raw)
    if special:
        sign = -1.0 if special.group(1) == "-" else 1.0
        return sign * math.inf if special.group(2).upper() == "INF" else math.nan
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return float(int(raw, 0))  # 0x1F, 0b101: a hexadecimal or binary display format
    except ValueError:
        pass
    if raw.count(",") == 1 and "." not in raw:
        # The report option "use localized decimal point" on a comma locale.
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            pass
    return None


def integer(prop: Node, what: str | None = None) -> int:
    """A whole number (a socket index, an error code).

    Raises:
        ConversionError: not a number, or not a whole number that fits 32 bits.
    """
    found = number(prop, what)
    if not math.isfinite(found) or not found.is_integer() or abs(found) >= 2**31:
        raise ConversionError(
            f"{_value_node(prop).place}, {what or prop.label()}: {found!r} is not a whole number"
        )
    return int(found)


def boolean(prop: Node) -> bool:
    """``True``/``False`` (any case, or 1/0).

    Raises:
        ConversionError: anything else, naming the element.
    """
    value = _value_node(prop)
    word = value.text.strip().lower()
    if word in ("true", "1"):
        return True
    if word in ("false", "0"):
        return False
    raise ConversionError(
        f"{value.place}, {prop.label()}: {shorten(value.text.strip())!r} is not True or False"
    )


def status(word: str | None) -> str:
    """A TestStand status word as a WSJF step status; ``U`` for anything else (``Running``)."""
    return _STATUSES.get((word or "").strip().lower(), "U")


def group(word: str | None) -> str:
    """``Setup``/``Main``/``Cleanup`` as ``S``/``M``/``C`` (anything else: Main)."""
    return _GROUPS.get((word or "").strip().lower(), "M")


def fit(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters (WATS's own converter truncates the same way).

    Only for descriptive texts (names, comments, messages); identities are never cut.
    """
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _flags(node: Node) -> int | None:
    raw = node.attrs.get("Flags")
    if raw is None:
        return None
    try:
        return int(raw, 0)
    except ValueError:
        return None


def property_tree(node: Node, depth: int = 0) -> AdditionalDataProperty:
    """A TestStand property (and everything in it) as an additional-data property.

    Empty children are left out. Array items keep their index text (``[0][1]``) and numbers.

    Raises:
        ConversionError: the properties nest deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise ConversionError(
            f"{node.where()}: properties nested more than {MAX_DEPTH} levels deep are not converted"
        )
    comment = next((c.text for c in node.children if c.tag == "Comment"), None)
    prop = AdditionalDataProperty(
        name=node.name or None,
        type=node.type or None,
        flags=_flags(node),
        comment=comment.strip() or None if comment else None,
    )
    children = [child for child in node.props() if not child.is_empty()]
    if node.type == "Array":
        element = node.attrs.get("ElementType") or None
        items = [
            AdditionalDataIndex(
                text=item.attrs.get("ID"),
                indexes=[int(i) for i in _INDEX.findall(item.attrs.get("ID", ""))] or None,
                value=_item(item, element, depth + 1),
            )
            for item in node.values()
            if not (item.text == "" and item.is_empty())
        ]
        dimension = node.attrs.get("LBound", "").count("[") or None
        prop.array = AdditionalDataArray(dimension=dimension, type=element, indexes=items)
    elif children:
        prop.props = [property_tree(child, depth + 1) for child in children]
    else:
        value = node.value()
        prop.value = value.text if value is not None else None
    return prop


def _item(item: Node, element: str | None, depth: int) -> AdditionalDataProperty:
    inner = next(item.props(), None)
    if inner is not None:
        return property_tree(inner, depth)
    return AdditionalDataProperty(type=element, value=item.text)


def additional(name: str, props: list[Node]) -> AdditionalData | None:
    """An additional-data entry ``name`` holding ``props`` (``None`` when all are empty)."""
    kept = [property_tree(p) for p in props if not p.is_empty()]
    return AdditionalData(name=name, props=kept) if kept else None


def entry(node: Node) -> AdditionalData:
    """One property as an additional-data entry of its own name.

    A container's children become the entry's properties; a scalar or array is its only one.
    """
    children = [child for child in node.props() if not child.is_empty()]
    if children and node.type != "Array":
        return AdditionalData(name=node.name or None, props=[property_tree(c) for c in children])
    return AdditionalData(name=node.name or None, props=[property_tree(node)])


Source = tuple[Node | None, str] | tuple[str, dict[str, Node]]
"""Where a header value is: ``(property, member name)`` or ``(ReportInfo key, ReportInfo list)``."""


def _lookup(source: Source) -> tuple[str | None, Node | None]:
    first, second = source
    if isinstance(first, str):
        assert isinstance(second, dict)
        found = second.get(first)
        return (found.attrs.get("value") if found is not None else None), found
    assert isinstance(second, str)
    prop = first.prop(second) if first is not None else None
    value = prop.value() if prop is not None else None
    return (value.text if value is not None else None), value or prop


def identity(sources: list[Source], limit: int = IDENTITY, what: str = "value") -> str | None:
    """The first non-blank value of ``sources``, stripped; too long: an error naming it."""
    for source in sources:
        text, node = _lookup(source)
        if text is not None and text.strip():
            found = text.strip()
            if len(found) > limit:
                assert node is not None
                raise ConversionError(
                    f"{node.where()}: the {what} is {len(found):,} characters long; WATS takes "
                    f"at most {limit}"
                )
            return found
    return None

"""The values of ATML test results: outcomes, numbers, times, units, limits, data collections.

Everything here reads one element of the tree of :mod:`._atml_xml` and returns what the report
needs, or raises :class:`~pywats_station.converters.api.ConversionError` naming the element and
its line.

Limits and comparison operators (``wats-api.md`` §5.13: single-limit operators compare against
the *low* limit member):

* ``LimitPair`` ``AND`` (a value *between* the limits): the ``GT``/``GE`` limit is the low
  limit, the ``LT``/``LE`` one the high limit, whatever their order: ``GE``+``LE`` → ``GELE``.
* ``LimitPair`` ``OR`` (a value *outside*): the ``LT``/``LE`` limit is the low limit, the
  ``GT``/``GE`` one the high limit: ``LT``+``GT`` → ``LTGT``. Without the operator, the limits
  tell (a lower bound below the upper bound is *between*).
* ``SingleLimit`` and numeric ``Expected``: the comparator (``GT``, ``GE``, ``LT``, ``LE``,
  ``EQ``, ``NE``) with its value as the low limit.
* ``Expected`` with TestStand's threshold (``ts:ThresholdType`` percentage, ppm or delta, the
  "EQT" comparison): ``GELE`` between ``ThresholdLow`` and ``ThresholdHigh``, computed from the
  nominal value and the raw limits when TestStand did not write them.
* A limit at ±infinity bounds nothing: it is left out (``GELE`` from -inf to 5 is ``LE`` 5; a
  single infinite limit is ``LOG``).
* String ``Expected``: ``CIEQ`` → ``IGNORECASE``, ``EQ`` → ``CASESENSIT``, ``NE`` → ``NE``;
  other comparators (regular expressions) have no WATS operator: ``LOG``, with the expected
  value in the step's report text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from pywats.models.report import (
    AdditionalDataArray,
    AdditionalDataIndex,
    AdditionalDataProperty,
    ChartSeries,
    CompOp,
)
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._atml_xml import Node
from pywats_station.converters.builtin._equipment import EquipmentArguments, local_time

__all__ = [
    "Datum",
    "Limits",
    "array_series",
    "datum",
    "is_log",
    "numeric_limits",
    "outcome",
    "parse_number",
    "parse_time",
    "prop",
    "seconds",
    "string_limits",
    "unit",
]

# Outcome words (any case) and the WSJF step status they stand for. ATML's own words and the
# ones TestStand writes (Done, Skipped, NotStarted, Terminated; Error in a qualifier).
_OUTCOMES = {
    "passed": "P",
    "pass": "P",
    "failed": "F",
    "fail": "F",
    "done": "D",
    "informational": "D",
    "skipped": "S",
    "notstarted": "S",
    "error": "E",
    "errored": "E",
    "terminated": "T",
    "aborted": "T",
    "running": "U",
    "indeterminate": "U",
    "unknown": "U",
    "userdefined": "U",
}
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_LOWER = frozenset({"GT", "GE"})
_UPPER = frozenset({"LT", "LE"})
_STRING_OPS = {"CIEQ": CompOp.IGNORECASE, "EQ": CompOp.CASESENSIT, "NE": CompOp.NE}
_POSITION = re.compile(r"-?\d+")


def outcome(node: Node | None) -> str | None:
    """The step status of an ``Outcome``/``ActionOutcome`` element (``None`` without one).

    ``Aborted`` and ``UserDefined`` say what happened in their ``qualifier`` (TestStand:
    ``Skipped``, ``Error``, ``Terminated``); an unknown word is ``U`` (unknown).
    """
    if node is None:
        return None
    value = (node.get("value") or node.text or "").replace(" ", "").casefold()
    qualifier = (node.get("qualifier") or "").replace(" ", "").casefold()
    if value in ("aborted", "userdefined") and qualifier in _OUTCOMES:
        return _OUTCOMES[qualifier]
    if not value:
        return _OUTCOMES.get(qualifier)
    return _OUTCOMES.get(value, "U")


def parse_number(text: str, where: str) -> float:
    """A number as ATML writes it: decimal, ``0x`` hex, ``inf``/``-inf``/``nan`` (any case).

    The result may be infinite or NaN; the caller decides what WATS can hold.

    Raises:
        ConversionError: ``text`` is not a number (``where`` names the element).
    """
    raw = text.strip()
    try:
        if raw[:2].lower() == "0x" or raw[:3].lower() in ("-0x", "+0x"):
            return float(int(raw, 16))
        return float(raw)
    except ValueError:
        raise ConversionError(f"{where}: {_quote(raw)} is not a number") from None


def parse_time(text: str, where: str, args: EquipmentArguments) -> datetime:
    """An ATML ``xs:dateTime``: with its offset when it has one, else local (``args.timezone``).

    More than six fraction digits (.NET writes seven) are cut to microseconds.

    Raises:
        ConversionError: ``text`` is not a date and time.
    """
    found = _TIME.fullmatch(text.strip())
    if found is None:
        raise ConversionError(f"{where}: {_quote(text.strip())} is not a date and time")
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = (found.group(7) or "0")[:6].ljust(6, "0")
    try:
        when = datetime(year, month, day, hour, minute, second, int(fraction))
    except ValueError as exc:
        raise ConversionError(f"{where}: {_quote(text.strip())} is not a date ({exc})") from None
    zone = found.group(8)
    if zone is None:
        return local_time(when, args)
    if zone.upper() == "Z":
        return when.replace(tzinfo=UTC)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if offset >= timedelta(hours=24):
        raise ConversionError(f"{where}: {_quote(text.strip())} has no valid UTC offset")
    return when.replace(tzinfo=timezone(sign * offset))


def seconds(node: Node | None, where: str) -> float | None:
    """A ``value`` attribute in seconds (``TotalTime``): ``None`` when absent or not usable."""
    if node is None or node.get("value") is None:
        return None
    value = parse_number(node.get("value") or "", where)
    return value if math.isfinite(value) and value >= 0 else None


def unit(node: Node) -> str | None:
    """The unit of a datum: ``standardUnit`` or ``nonStandardUnit``, with its ``unitQualifier``.

    Units are kept as the file writes them (``V``, ``mV``, ``microseconds``): WATS takes any text,
    and a unit rewritten here would not match the same test's reports from other sources.
    """
    name = node.get("standardUnit") or node.get("nonStandardUnit") or node.get("unit")
    qualifier = node.get("unitQualifier")
    if name and qualifier:
        return f"{name} ({qualifier})"
    return name or qualifier


@dataclass(slots=True)
class Datum:
    """A test result's data: what kind, its value and unit, and the element.

    Attributes:
        kind: ``number``, ``string``, ``boolean``, ``array`` (an ``IndexedArray``),
            ``collection`` or ``none``.
        number: the value of a number (possibly NaN or infinite) or boolean (1.0/0.0).
        text: the value of a string, or a number's text.
        unit: the unit, see :func:`unit`.
        node: the ``Datum``/``Collection``/``IndexedArray`` element (``None`` for ``none``).
    """

    kind: str
    number: float | None = None
    text: str | None = None
    unit: str | None = None
    node: Node | None = None


def _xsi_type(node: Node) -> str:
    return (node.get("xsi:type") or "").rpartition(":")[2].casefold()


def datum(holder: Node | None, where: str) -> Datum:
    """The first ``Datum``, ``Collection`` or ``IndexedArray`` under ``holder`` (``TestData``,
    an ``Item``, ``Expected``…), classified by its ``xsi:type`` (or by its content).

    Raises:
        ConversionError: a numeric or boolean datum whose value is not one.
    """
    if holder is None:
        return Datum("none")
    node = next(
        (c for c in holder.children if c.tag in ("Datum", "Collection", "IndexedArray")), None
    )
    if node is None:
        return Datum("none")
    if node.tag == "Collection":
        return Datum("collection", node=node)
    if node.tag == "IndexedArray":
        return Datum("array", node=node, unit=unit(node))
    kind = _xsi_type(node)
    value = node.get("value")
    value_child = node.child("Value")
    text = value_child.text if value_child is not None else value
    here = f"{where}, <Datum> at line {node.line}"
    if "bool" in kind:
        word = (value or text or "").strip().casefold()
        if word not in ("true", "false", "1", "0"):
            raise ConversionError(f"{here}: {_quote(word)} is not a boolean")
        flag = word in ("true", "1")
        return Datum("boolean", number=float(flag), text=word, node=node)
    if "string" in kind or "date" in kind or (not kind and value is None):
        return Datum("string", text=text or "", unit=unit(node), node=node)
    if value is None:
        if text is None:
            return Datum("none", node=node)
        return Datum("string", text=text, unit=unit(node), node=node)
    return Datum("number", number=parse_number(value, here), text=value, unit=unit(node), node=node)


def _limit_properties(result: Node) -> Node | None:
    """TestStand's ``TSLimitProperties`` of a test result: under the result's ``Extension``
    (2.02) or its ``Limits``' (5.00, 6.01)."""
    return next((n for n in result.walk() if n.tag == "TSLimitProperties"), None)


def is_log(result: Node) -> bool:
    """Whether TestStand marked the result as logged only (comparison type LOG)."""
    props = _limit_properties(result)
    flag = props.child("IsComparisonTypeLog") if props is not None else None
    if flag is None:
        return False
    return (flag.get("value") or flag.text).casefold() in ("true", "1")


@dataclass(slots=True)
class Limits:
    """A numeric measurement's operator and limits, with what WATS cannot hold (``note``)."""

    op: CompOp
    low: float | None = None
    high: float | None = None
    note: str | None = None


def _value_of(node: Node, where: str) -> float:
    found = datum(node, where)
    if found.kind != "number" or found.number is None:
        raise ConversionError(f"{where}: <{node.tag}> at line {node.line} holds no number")
    return found.number


def _comparator(node: Node, where: str, allowed: frozenset[str]) -> str:
    word = (node.get("comparator") or "").upper()
    if word not in allowed:
        shown = _quote(node.get("comparator") or "")
        raise ConversionError(
            f"{where}: <{node.tag}> at line {node.line} has the comparator {shown}; "
            f"expected one of {', '.join(sorted(allowed))}"
        )
    return word


def _single(op: str, value: float, node: Node, where: str) -> Limits:
    """One limit compared with ``op``; an infinite limit bounds nothing (``LOG``)."""
    if math.isnan(value):
        raise ConversionError(f"{where}: <{node.tag}> at line {node.line} has a NaN limit")
    if math.isinf(value):
        return Limits(CompOp.LOG)
    return Limits(CompOp(op), value)


def _pair(pair: Node, where: str) -> Limits:
    sides = pair.all("Limit")
    if len(sides) != 2:
        raise ConversionError(
            f"{where}: <LimitPair> at line {pair.line} has {len(sides)} <Limit> elements, not 2"
        )
    comps = [_comparator(s, where, _LOWER | _UPPER) for s in sides]
    values = [_value_of(s, where) for s in sides]
    if any(math.isnan(v) for v in values):
        raise ConversionError(f"{where}: <LimitPair> at line {pair.line} has a NaN limit")
    lower = [i for i, c in enumerate(comps) if c in _LOWER]
    upper = [i for i, c in enumerate(comps) if c in _UPPER]
    if len(lower) != 1 or len(upper) != 1:
        raise ConversionError(
            f"{where}: <LimitPair> at line {pair.line} compares {comps[0]} and {comps[1]}: "
            "WATS has no operator for two limits on the same side"
        )
    lo, up = lower[0], upper[0]
    operator = (pair.get("operator") or "").upper()
    if operator not in ("AND", "OR"):
        operator = "AND" if values[lo] <= values[up] else "OR"
    if operator == "AND":  # between: low < v < high
        ends = [(comps[lo], values[lo]), (comps[up], values[up])]
        finite = [(c, v) for c, v in ends if math.isfinite(v)]
        if len(finite) == 2:
            return Limits(CompOp(comps[lo] + comps[up]), values[lo], values[up])
        return _single(*finite[0], pair, where) if finite else Limits(CompOp.LOG)
    # outside: v < low or v > high
    ends = [(comps[up], values[up]), (comps[lo], values[lo])]
    finite = [(c, v) for c, v in ends if math.isfinite(v)]
    if len(finite) == 2:
        return Limits(CompOp(comps[up] + comps[lo]), values[up], values[lo])
    return _single(*finite[0], pair, where) if finite else Limits(CompOp.LOG)


def _raw(props: Node | None, name: str, where: str) -> float | None:
    raw = props.child("RawLimits", name) if props is not None else None
    if raw is None or raw.get("value") is None:
        return None
    return parse_number(raw.get("value") or "", where)


def _threshold(result: Node, expected: float, where: str) -> Limits | None:
    """TestStand's "EQT" comparison: the nominal value within a threshold, as ``GELE``."""
    props = _limit_properties(result)
    kind_node = props.child("ThresholdType") if props is not None else None
    if kind_node is None:
        return None
    low, high = _raw(props, "ThresholdLow", where), _raw(props, "ThresholdHigh", where)
    if low is None or high is None:
        nominal = _raw(props, "Nominal", where)
        nominal = expected if nominal is None else nominal
        below, above = _raw(props, "Low", where), _raw(props, "High", where)
        if below is None or above is None:
            return None
        kind = kind_node.text.casefold()
        scale = {"percentage": abs(nominal) / 100, "ppm": abs(nominal) / 1e6}.get(kind, 1.0)
        low, high = nominal - below * scale, nominal + above * scale
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return Limits(CompOp.GELE, low, high)


def numeric_limits(result: Node, where: str) -> Limits:
    """The operator and limits of a numeric test result (``LOG`` without ``TestLimits``).

    Raises:
        ConversionError: limits WATS cannot express (two lower bounds, a NaN limit), naming the
            element.
    """
    limits = result.child("TestLimits", "Limits")
    if limits is None:
        return Limits(CompOp.LOG)
    for node in limits.children:
        if node.tag == "LimitPair":
            return _pair(node, where)
        if node.tag == "SingleLimit":
            op = _comparator(node, where, _LOWER | _UPPER | {"EQ", "NE"})
            return _single(op, _value_of(node, where), node, where)
        if node.tag == "Expected":
            op = (node.get("comparator") or "EQ").upper()
            value = _value_of(node, where)
            threshold = _threshold(result, value, where)
            if threshold is not None:
                return threshold
            if op not in ("EQ", "NE", *_LOWER, *_UPPER):
                raise ConversionError(
                    f"{where}: <Expected> at line {node.line} has the comparator "
                    f"{_quote(op)}, which no WATS operator expresses for a number"
                )
            return _single(op, value, node, where)
    return Limits(CompOp.LOG)


def string_limits(result: Node, where: str) -> tuple[CompOp, str | None, str | None]:
    """The operator and limit of a string test result, and a note for what WATS cannot hold.

    Returns:
        ``(op, limit, note)``: ``note`` is set when the comparator has no WATS operator (the
        measurement is then ``LOG``, and the note says what the limit was).
    """
    expected = result.child("TestLimits", "Limits", "Expected")
    if expected is None:
        return CompOp.LOG, None, None
    found = datum(expected, where)
    limit = found.text if found.text is not None else ""
    comparator = (expected.get("comparator") or "EQ").upper()
    op = _STRING_OPS.get(comparator)
    if op is None:
        return CompOp.LOG, None, f"limit ({expected.get('comparator')}): {limit}"
    return op, limit, None


# --- data collections -----------------------------------------------------------------------


def _positions(text: str | None) -> list[int]:
    return [int(n) for n in _POSITION.findall(text or "")]


def array_series(array: Node, name: str, where: str) -> list[ChartSeries] | None:
    """A numeric ``IndexedArray`` as chart series: 1-D → one series over the index, 2-D → one
    series per row (``name[i]``). ``None`` when the array is not numeric (or is empty).

    Raises:
        ConversionError: an element's value is not a number.
    """
    elements = [e for e in array.children if e.tag == "Element"]
    if not elements or "string" in _xsi_type(array) or "bool" in _xsi_type(array):
        return None
    rows: dict[int, list[tuple[int, float]]] = {}
    for element in elements:
        raw = element.get("value")
        if raw is None:
            value_child = element.child("Value")
            raw = value_child.text if value_child is not None else None
        if raw is None:
            return None
        value = parse_number(raw, f"{where}, <Element> at line {element.line}")
        if not math.isfinite(value):
            return None  # WATS charts hold finite numbers only: kept as data instead
        index = _positions(element.get("position"))
        if len(index) == 1:
            rows.setdefault(0, []).append((index[0], value))
        elif len(index) == 2:
            rows.setdefault(index[0], []).append((index[1], value))
        else:
            return None
    series = []
    for row, points in sorted(rows.items()):
        points.sort()
        label = name if len(rows) == 1 else f"{name}[{row}]"
        xs = [float(x) for x, _ in points]
        series.append(ChartSeries.from_points(label, xs, [y for _, y in points]))
    return series


def _value_type(node: Node) -> str:
    kind = _xsi_type(node)
    if "bool" in kind:
        return "Boolean"
    if "string" in kind or node.child("Value") is not None:
        return "String"
    return "Number"


def prop(name: str, node: Node | None) -> AdditionalDataProperty:
    """An ATML value (``Datum``, ``Collection``, ``IndexedArray``) as an additional-data
    property, recursively: a collection's items become ``props``, an array's elements
    ``array.indexes``.
    """
    if node is None:
        return AdditionalDataProperty(name=name, type="String", value="")
    if node.tag == "Collection":
        props = []
        for number, item in enumerate(node.all("Item")):
            inner = next(
                (c for c in item.children if c.tag in ("Datum", "Collection", "IndexedArray")),
                None,
            )
            props.append(prop(item.get("name") or f"[{number}]", inner))
        return AdditionalDataProperty(name=name, type="Obj", props=props)
    if node.tag == "IndexedArray":
        indexes = []
        element_type = "Number"
        for element in node.all("Element"):
            position = element.get("position") or ""
            element_type = _value_type(element) if element.get("value") is None else "Number"
            indexes.append(
                AdditionalDataIndex(
                    text=position,
                    indexes=_positions(position),
                    value=_leaf(position, element),
                )
            )
        dims = _positions(node.get("dimensions"))
        array = AdditionalDataArray(dimension=len(dims) or 1, type=element_type, indexes=indexes)
        return AdditionalDataProperty(name=name, type="Array", array=array)
    return _leaf(name, node)


def _leaf(name: str, node: Node) -> AdditionalDataProperty:
    value_child = node.child("Value")
    value = node.get("value")
    if value is None:
        value = value_child.text if value_child is not None else ""
    return AdditionalDataProperty(name=name, type=_value_type(node), value=value)


def _quote(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)

"""Build OData ``$filter`` expressions without string pasting; :data:`F` knows the report header.

>>> from pywats.odata import F
>>> str((F.part_number == "PN-1") & (F.result != "Passed"))
"partNumber eq 'PN-1' and result ne 'Passed'"
>>> str(F.serial_number.startswith("SN-") | F.sub_units.any(lambda s: s.part_number == "PCB-7"))
"startswith(serialNumber,'SN-') or subUnits/any(s: s/partNumber eq 'PCB-7')"

Attribute names are written snake_case and sent camelCase. Values are escaped (``'`` doubled),
date-times are sent as UTC literals (``2026-01-01T00:00:00Z``), as the server expects.

:data:`F`'s attributes are the fields of a report header (:class:`HeaderFields`, read from
:class:`~pywats.models.report_query.ReportHeader`), so editors complete them and ``dir(F)``
lists them; inside ``F.sub_units.any(lambda s: …)``, ``s`` offers a sub-unit's fields. An
expression remembers the fields it names, and ``api.report.query_headers`` refuses one naming a
field a header does not have, before sending (:meth:`Entity.check`). Other names still give a
field (other entities' queries use ``F`` too), and ``F("wireName")`` sends a name exactly as
written, unchecked.
"""

from __future__ import annotations

import difflib
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Generic, TypeVar

import msgspec

from pywats._errors import InvalidArgumentError
from pywats.models.report_query import (
    HeaderAsset,
    HeaderAttachment,
    HeaderMiscInfo,
    HeaderSubUnit,
    ReportHeader,
    UURHeaderAttachment,
    UURHeaderSubUnit,
)

__all__ = [
    "Collection",
    "Entity",
    "Expr",
    "F",
    "Field",
    "HeaderAssetFields",
    "HeaderAttachmentFields",
    "HeaderFields",
    "HeaderMiscInfoFields",
    "HeaderSubUnitFields",
    "UURHeaderAttachmentFields",
    "UURHeaderSubUnitFields",
    "literal",
]

Value = str | int | float | bool | datetime | date | uuid.UUID | None
E = TypeVar("E", bound="Entity")


def literal(value: Value) -> str:
    """Render a Python value as an OData literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))  # int() also turns an IntEnum member into its number
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
        return repr(float(value))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("OData date-times must be timezone-aware (the server speaks UTC)")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Expr:
    """A boolean filter expression; combine with ``&``, ``|`` and ``~``.

    ``fields`` are the fields it names that can be checked (``subUnits/partNumber`` inside an
    ``any``); names given as ``F("wireName")`` are not among them.
    """

    __slots__ = ("_prec", "_text", "fields")

    # Precedence: 3 atom/comparison, 2 and, 1 or.
    def __init__(self, text: str, prec: int = 3, fields: frozenset[str] = frozenset()) -> None:
        self._text = text
        self._prec = prec
        self.fields = fields

    def _wrapped(self, prec: int) -> str:
        return f"({self._text})" if self._prec < prec else self._text

    def __and__(self, other: Expr) -> Expr:
        return Expr(f"{self._wrapped(2)} and {other._wrapped(2)}", 2, self.fields | other.fields)

    def __or__(self, other: Expr) -> Expr:
        return Expr(f"{self._wrapped(1)} or {other._wrapped(1)}", 1, self.fields | other.fields)

    def __invert__(self) -> Expr:
        return Expr(f"not ({self._text})", 3, self.fields)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    def __bool__(self) -> bool:
        # `a == b and c` would silently drop `a == b`; make that mistake loud.
        raise TypeError("combine filter expressions with & and |, not 'and'/'or'")


class Field:
    """A property of the queried entity (``F.serial_number``, ``F.sub_units``…).

    ``path`` is what is sent (``s/partNumber`` inside an ``any``); ``name`` what a check looks
    up (``subUnits/partNumber``), ``None`` for a name sent unchecked.
    """

    __slots__ = ("_name", "_path")

    def __init__(self, path: str, name: str | None = None) -> None:
        self._path = path
        self._name = name

    def _cmp(self, op: str, value: Value) -> Expr:
        return Expr(f"{self._path} {op} {literal(value)}", 3, self._names())

    def _names(self) -> frozenset[str]:
        return frozenset() if self._name is None else frozenset({self._name})

    def __repr__(self) -> str:
        return f"Field({self._path!r})"

    def __eq__(self, value: Value) -> Expr:  # type: ignore[override]
        return self._cmp("eq", value)

    def __ne__(self, value: Value) -> Expr:  # type: ignore[override]
        return self._cmp("ne", value)

    def __gt__(self, value: Value) -> Expr:
        return self._cmp("gt", value)

    def __ge__(self, value: Value) -> Expr:
        return self._cmp("ge", value)

    def __lt__(self, value: Value) -> Expr:
        return self._cmp("lt", value)

    def __le__(self, value: Value) -> Expr:
        return self._cmp("le", value)

    __hash__ = None  # type: ignore[assignment]

    def in_(self, values: list[Value] | tuple[Value, ...]) -> Expr:
        """``field in (a, b, …)``."""
        if not values:
            raise ValueError("in_() needs at least one value")
        text = f"{self._path} in ({','.join(literal(v) for v in values)})"
        return Expr(text, 3, self._names())

    def contains(self, text: str) -> Expr:
        """``contains(field,'text')``."""
        return Expr(f"contains({self._path},{literal(text)})", 3, self._names())

    def startswith(self, text: str) -> Expr:
        """``startswith(field,'text')``."""
        return Expr(f"startswith({self._path},{literal(text)})", 3, self._names())

    def endswith(self, text: str) -> Expr:
        """``endswith(field,'text')``."""
        return Expr(f"endswith({self._path},{literal(text)})", 3, self._names())

    def any(self, condition: Callable[[Any], Expr], var: str = "s") -> Expr:
        """``collection/any(s: …)`` over a collection this library has no field list for."""
        inner = condition(_AnyFields(var + "/"))
        # "name/*": an any over it, which a check refuses where the field is no collection.
        over = frozenset() if self._name is None else frozenset({self._name + "/*"})
        return Expr(f"{self._path}/any({var}: {inner})", 3, self._names() | over)


class Collection(Field, Generic[E]):
    """A collection of a header (``F.sub_units``); :meth:`any` hands its element's fields."""

    __slots__ = ("_element",)

    def __init__(self, path: str, name: str | None, element: type[E]) -> None:
        super().__init__(path, name)
        self._element = element

    def any(self, condition: Callable[[E], Expr], var: str = "s") -> Expr:
        """``collection/any(s: …)``: ``condition`` gets the element's fields.

        >>> str(F.sub_units.any(lambda s: s.part_number == "PCB-7"))
        "subUnits/any(s: s/partNumber eq 'PCB-7')"
        """
        scope = None if self._name is None else self._name + "/"
        inner = condition(self._element(var + "/", scope))
        return Expr(f"{self._path}/any({var}: {inner})", 3, self._names() | inner.fields)


class _AnyFields:
    """Fields of an entity this library has no list for: ``x.some_name`` is ``someName``."""

    __slots__ = ("_prefix",)

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(self._prefix + _camel(name))

    def __call__(self, wire_name: str) -> Field:
        """A field by its exact wire name."""
        return Field(self._prefix + wire_name)


class _Attr:
    """One declared field of an :class:`Entity`: a :class:`Field`, or a :class:`Collection`."""

    def __init__(self, wire: str, element: type[Entity] | None) -> None:
        self.wire = wire
        self.element = element

    def __get__(self, obj: Entity | None, owner: type[Entity]) -> Any:
        if obj is None:
            return self
        path = obj._prefix + self.wire
        name = None if obj._scope is None else obj._scope + self.wire
        if self.element is None:
            return Field(path, name)
        return Collection(path, name, self.element)


class Entity:
    """The fields of one entity a ``$filter`` can name, read from its model.

    A subclass names its model (``_model``) and declares each field as an annotation, so that
    editors and type checkers know them; collections also name the entity of their elements
    (``_elements``). Attributes the model does not have still give a field, sent as its
    camelCase name, which :meth:`check` reports.
    """

    _model: ClassVar[type[msgspec.Struct]]
    _elements: ClassVar[dict[str, type[Entity]]] = {}
    _wire: ClassVar[dict[str, str]] = {}  # attribute name -> wire name
    __slots__ = ("_prefix", "_scope")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._wire = {f.name: f.encode_name for f in msgspec.structs.fields(cls._model)}
        for name, wire in cls._wire.items():
            setattr(cls, name, _Attr(wire, cls._elements.get(name)))

    def __init__(self, prefix: str = "", scope: str | None = "") -> None:
        self._prefix = prefix  # what is sent before a field's name (``s/`` inside an any)
        self._scope = scope  # what a check sees before it (``subUnits/``)

    def __getattr__(self, name: str) -> Field:
        # Only for names the model does not have (declared fields are class attributes).
        if name.startswith("__"):
            raise AttributeError(name)
        wire = _camel(name)
        return Field(self._prefix + wire, None if self._scope is None else self._scope + wire)

    def __call__(self, wire_name: str) -> Field:
        """A field by its exact wire name (``F("startUTC")``), sent as written, not checked."""
        return Field(self._prefix + wire_name)

    def __dir__(self) -> list[str]:
        return sorted({*self._wire, *super().__dir__()})

    def __repr__(self) -> str:
        return f"<fields of {self._model.__name__}: {', '.join(self._wire)}>"

    @classmethod
    def check(cls, expr: Expr, what: str = "filter") -> None:
        """Refuse an expression naming a field this entity (or an element of one of its
        collections) does not have.

        Raises:
            InvalidArgumentError: the unknown field, the closest known one, and every field.
        """
        for name in sorted(expr.fields):
            head, _, rest = name.partition("/")
            entity: type[Entity] = cls
            attr = _attribute(cls, head)
            if attr is not None and rest:
                element = cls._elements.get(attr)
                if element is None:
                    raise InvalidArgumentError(f"{what}: {attr} is not a collection (no any())")
                if rest == "*":  # an any() whose element fields this library does not know
                    continue
                entity, head = element, rest
                attr = _attribute(element, head)
            if attr is None:
                raise InvalidArgumentError(_unknown(entity, head, what))


def _attribute(entity: type[Entity], wire: str) -> str | None:
    return next((name for name, w in entity._wire.items() if w == wire), None)


def _unknown(entity: type[Entity], wire: str, what: str) -> str:
    known = list(entity._wire)
    guess = difflib.get_close_matches(_snake(wire), known, n=1)
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    return (
        f"{what}: {entity._model.__name__} has no field {_snake(wire)}{hint}; its fields: "
        f'{", ".join(known)}. F("{wire}") sends a name as written, unchecked.'
    )


def _snake(wire: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in wire).lstrip("_")


class HeaderSubUnitFields(Entity):
    """A sub-unit of a header, inside ``F.sub_units.any(lambda s: …)``."""

    _model = HeaderSubUnit
    part_type: Field
    serial_number: Field
    part_number: Field
    revision: Field


class HeaderMiscInfoFields(Entity):
    """A misc info of a header, inside ``F.misc_info.any(…)`` / ``F.uur_misc_info.any(…)``."""

    _model = HeaderMiscInfo
    description: Field
    value: Field


class HeaderAssetFields(Entity):
    """An asset of a header, inside ``F.assets.any(…)``."""

    _model = HeaderAsset
    serial_number: Field
    running_count: Field
    running_count_exceeded: Field
    total_count: Field
    total_count_exceeded: Field
    days_since_maintenance: Field
    maintenance_days_overdue: Field
    days_since_calibration: Field
    calibration_days_overdue: Field


class HeaderAttachmentFields(Entity):
    """A step attachment of a header, inside ``F.attachments.any(…)``."""

    _model = HeaderAttachment
    step_id: Field
    filename: Field


class UURHeaderSubUnitFields(Entity):
    """A sub-unit of a repair report's header, inside ``F.uur_sub_units.any(…)``."""

    _model = UURHeaderSubUnit
    serial_number: Field
    part_number: Field
    revision: Field


class UURHeaderAttachmentFields(Entity):
    """An attachment of a repair report's header, inside ``F.uur_attachments.any(…)``."""

    _model = UURHeaderAttachment
    id: Field
    filename: Field


class HeaderFields(Entity):
    """The fields of a report header (``GET /api/Report/Query/Header``): the type of :data:`F`."""

    _model = ReportHeader
    _elements: ClassVar[dict[str, type[Entity]]] = {
        "sub_units": HeaderSubUnitFields,
        "misc_info": HeaderMiscInfoFields,
        "assets": HeaderAssetFields,
        "attachments": HeaderAttachmentFields,
        "uur_sub_units": UURHeaderSubUnitFields,
        "uur_misc_info": HeaderMiscInfoFields,
        "uur_attachments": UURHeaderAttachmentFields,
    }
    uuid: Field
    serial_number: Field
    part_number: Field
    revision: Field
    report_type: Field
    start: Field
    result: Field
    batch_number: Field
    user_name: Field
    station_name: Field
    location: Field
    purpose: Field
    measures_deleted: Field
    time_stamp: Field
    process_code: Field
    process_name: Field
    comment: Field
    execution_time: Field
    sw_filename: Field
    sw_version: Field
    test_socket_index: Field
    fixture_id: Field
    error_code: Field
    error_message: Field
    run: Field
    receive_count: Field
    report_size: Field
    caused_uut_failure: Field
    caused_uut_failure_path: Field
    passed_in_run: Field
    referenced_uut: Field
    sub_units: Collection[HeaderSubUnitFields]
    misc_info: Collection[HeaderMiscInfoFields]
    assets: Collection[HeaderAssetFields]
    attachments: Collection[HeaderAttachmentFields]
    uur_sub_units: Collection[UURHeaderSubUnitFields]
    uur_misc_info: Collection[HeaderMiscInfoFields]
    uur_attachments: Collection[UURHeaderAttachmentFields]


F = HeaderFields()
"""The fields of a report header, for ``api.report.query_headers`` filters."""

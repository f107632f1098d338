"""Build OData ``$filter`` expressions for the report header query without string pasting.

>>> from pywats.odata import F
>>> str((F.part_number == "PN-1") & (F.result != "Passed"))
"partNumber eq 'PN-1' and result ne 'Passed'"
>>> str(F.serial_number.startswith("SN-") | F.sub_units.any(lambda s: s.part_number == "PCB-7"))
"startswith(serialNumber,'SN-') or subUnits/any(s: s/partNumber eq 'PCB-7')"

Attribute names are written snake_case and sent camelCase. Values are escaped (``'`` doubled),
date-times are sent as UTC literals (``2026-01-01T00:00:00Z``), as the server expects.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

__all__ = ["Expr", "F", "Field", "literal"]

Value = str | int | float | bool | datetime | date | uuid.UUID | None


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
    """A boolean filter expression; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("_prec", "_text")

    # Precedence: 3 atom/comparison, 2 and, 1 or.
    def __init__(self, text: str, prec: int = 3) -> None:
        self._text = text
        self._prec = prec

    def _wrapped(self, prec: int) -> str:
        return f"({self._text})" if self._prec < prec else self._text

    def __and__(self, other: Expr) -> Expr:
        return Expr(f"{self._wrapped(2)} and {other._wrapped(2)}", 2)

    def __or__(self, other: Expr) -> Expr:
        return Expr(f"{self._wrapped(1)} or {other._wrapped(1)}", 1)

    def __invert__(self) -> Expr:
        return Expr(f"not ({self._text})", 3)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    def __bool__(self) -> bool:
        # `a == b and c` would silently drop `a == b`; make that mistake loud.
        raise TypeError("combine filter expressions with & and |, not 'and'/'or'")


class Field:
    """A property of the queried entity (``F.serial_number``, ``F.sub_units``…)."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def _cmp(self, op: str, value: Value) -> Expr:
        return Expr(f"{self._path} {op} {literal(value)}")

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
        return Expr(f"{self._path} in ({','.join(literal(v) for v in values)})")

    def contains(self, text: str) -> Expr:
        """``contains(field,'text')``."""
        return Expr(f"contains({self._path},{literal(text)})")

    def startswith(self, text: str) -> Expr:
        """``startswith(field,'text')``."""
        return Expr(f"startswith({self._path},{literal(text)})")

    def endswith(self, text: str) -> Expr:
        """``endswith(field,'text')``."""
        return Expr(f"endswith({self._path},{literal(text)})")

    def any(self, condition: Callable[[_Fields], Expr], var: str = "s") -> Expr:
        """``collection/any(s: …)``: ``condition`` gets the element's fields.

        >>> str(F.sub_units.any(lambda s: s.part_number == "PCB-7"))
        "subUnits/any(s: s/partNumber eq 'PCB-7')"
        """
        return Expr(f"{self._path}/any({var}: {condition(_Fields(var + '/'))})")


class _Fields:
    """``F.some_name`` gives ``Field("someName")``."""

    __slots__ = ("_prefix",)

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(self._prefix + _camel(name))

    def __call__(self, wire_name: str) -> Field:
        """A field by its exact wire name (``F("startUTC")``)."""
        return Field(self._prefix + wire_name)


F = _Fields()

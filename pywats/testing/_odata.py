"""The OData subset the emulated WATS server understands: ``$filter`` parsing and evaluation,
plus ``$top``/``$skip``/``$orderby``/``$select``/``$expand`` handling.

The real server is ASP.NET Web API with Microsoft.AspNet.OData on SQL Server.  We implement
the part of OData v4 it is documented to accept for ``/api/Report/Query/Header``: comparisons,
``in``, ``and``/``or``/``not``, string functions and ``any``/``all`` on collections.
Arithmetic, date functions and ``has`` are rejected with an explanatory :class:`ODataError`.

>>> pred = compile_filter("startswith(SerialNumber,'sn-') and run gt 1", ["serialNumber", "run"])
>>> pred({"serialNumber": "SN-1", "run": 2})
True
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "CASE_INSENSITIVE_STRINGS", "MAX_FILTER_DEPTH", "And", "Call", "Compare", "In", "Lambda",
    "Literal", "Node", "Not", "ODataError", "Or", "Property", "Query", "apply", "compile_filter",
    "evaluate", "parse_filter", "parse_query",
]  # fmt: skip

# OData itself compares strings case-sensitively, but WATS stores data in SQL Server whose
# default collation is case-insensitive, so the real server matches 'sn-1' to 'SN-1' in eq,
# ordering and contains/startswith/endswith.  The emulator follows the real server.
CASE_INSENSITIVE_STRINGS = True


class ODataError(ValueError):
    """A query option the server would reject with 400 Bad Request."""


MAX_FILTER_DEPTH = 64
"""The deepest ``$filter`` expression tree accepted.

Parentheses, ``not``, function calls, ``any``/``all`` and each ``and``/``or`` of a chain add a
level. The parser recurses up to seven frames per level and the evaluator one, so the limit
keeps both far from the interpreter's recursion limit. ASP.NET OData's own default is stricter
still: at most 100 *nodes* (``MaxNodeCount``), where a comparison alone is three.
"""


# --- AST ---------------------------------------------------------------------------------


class Node:
    """Base class of filter expression nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: str, int, float, bool, None, datetime, date or UUID."""

    value: Any


@dataclass(frozen=True, slots=True)
class Property(Node):
    """A member path such as ``serialNumber`` or ``s/partNumber`` (``s`` a lambda variable)."""

    path: tuple[str, ...]
    pos: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """``left op right`` with op one of eq ne gt ge lt le."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    """``operand in (v1, v2, …)``."""

    operand: Node
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class And(Node):
    """Logical conjunction."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Logical disjunction."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    """Logical negation."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A built-in function call, name lower-cased."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """``collection/any(var: body)``, ``…/all(var: body)`` or ``…/any()`` (var/body None)."""

    kind: str
    collection: Property
    var: str | None
    body: Node | None


# --- Tokenizer ---------------------------------------------------------------------------

_DT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?"
# Order matters: a GUID may start with digits (not a number) or letters (not a name), and a
# date-time starts like a date.  The trailing lookahead stops `12abc` splitting into two tokens.
_TOKEN = re.compile(
    rf"""(?P<ws>\s+)
    |(?P<guid>[0-9a-fA-F]{{8}}-(?:[0-9a-fA-F]{{4}}-){{3}}[0-9a-fA-F]{{12}})(?![\w-])
    |(?P<datetime>{_DT}(?:Z|[+-]\d{{2}}:\d{{2}}))(?![\w:.])
    |(?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?![\w:.-])
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[lLmMdDfF]?(?![\w.:-])
    |(?P<v3>(?i:datetimeoffset|datetime|guid))'(?P<v3val>[^']*)'
    |(?P<string>'(?:[^']|'')*'(?!'))
    |(?P<keyword>(?i:true|false|null))(?!\w)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[(),:/])""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # literal | name | punct | end
    text: str
    pos: int
    value: Any = None


def _parse_datetime(text: str) -> datetime:
    # fromisoformat (3.11) handles Z and offsets but only 6 fractional digits; .NET sends 7.
    parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text))
    # OData v3 `datetime'…'` has no offset; the server's clock is UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _literal(m: re.Match[str]) -> Any:
    kind, raw = m.lastgroup, m.group()
    if kind == "guid":
        return uuid.UUID(raw)
    if kind == "v3val":
        v3 = m.group("v3").lower()
        return uuid.UUID(m.group(kind)) if v3 == "guid" else _parse_datetime(m.group(kind))
    if kind == "datetime":
        return _parse_datetime(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "number":
        num = m.group(kind)
        return float(num) if any(c in num for c in ".eE") else int(num)
    if kind == "keyword":
        return {"true": True, "false": False, "null": None}[raw.lower()]
    return raw[1:-1].replace("''", "'")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos] == "'":
                raise ODataError(f"unterminated string literal at position {pos}")
            if re.match(_DT, text[pos:]):
                raise ODataError(f"date-time literal at position {pos} needs a Z or ±hh:mm offset")
            raise ODataError(f"unexpected character {text[pos]!r} at position {pos}")
        if m.lastgroup in ("name", "punct"):
            tokens.append(_Token(m.lastgroup, m.group(), pos))
        elif m.lastgroup != "ws":
            try:
                tokens.append(_Token("literal", m.group(), pos, _literal(m)))
            except ValueError:  # e.g. month 13, a GUID with a typo
                raise ODataError(f"invalid literal {m.group()!r} at position {pos}") from None
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --- Parser ------------------------------------------------------------------------------

_COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
# name -> (min args, max args)
_FUNCTIONS = {
    "contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "tolower": (1, 1),
    "toupper": (1, 1), "length": (1, 1), "trim": (1, 1), "indexof": (2, 2),
    "substring": (2, 3), "concat": (2, 2),
}  # fmt: skip
_UNSUPPORTED_FUNCTIONS = {
    "year", "month", "day", "hour", "minute", "second", "fractionalseconds", "date", "time",
    "totaloffsetminutes", "now", "mindatetime", "maxdatetime", "totalseconds", "round", "floor",
    "ceiling", "cast", "isof", "matchespattern",
}  # fmt: skip
_UNSUPPORTED_OPERATORS = frozenset({"add", "sub", "mul", "div", "divby", "mod", "has"})
_RESERVED = _COMPARISONS | _UNSUPPORTED_OPERATORS | {"and", "or", "in"}


class _Parser:
    """Recursive descent; precedence (tightest first): not, comparison/in, and, or.

    Keywords and function names are matched case-insensitively (as the server's
    case-insensitive URI resolver does); lambda variable names are case-sensitive.
    """

    def __init__(self, text: str, properties: Collection[str] | None) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.nesting = 0  # recursive descents in progress: checked before each one
        self.scope: list[str] = []  # lambda variables visible at this point
        # casefolded -> declared spelling; None: names are not checked
        self.names = None if properties is None else {p.casefold(): p for p in properties}

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def _word(self) -> str:
        return self.tok.text.lower() if self.tok.kind == "name" else ""

    def _advance(self) -> _Token:
        tok = self.tok
        self.i += 1
        return tok

    def _fail(self, expected: str) -> ODataError:
        found = "end of input" if self.tok.kind == "end" else repr(self.tok.text)
        return ODataError(f"expected {expected} at position {self.tok.pos}, found {found}")

    def _accept(self, punct: str, ahead: int = 0) -> bool:
        tok = self.tokens[self.i + ahead]
        if tok.kind == "punct" and tok.text == punct:
            self.i += ahead + 1
            return True
        return False

    def _expect(self, punct: str) -> None:
        if not self._accept(punct):
            raise self._fail(repr(punct))

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ODataError("empty filter expression")
        node = self._or()
        if self.tok.kind != "end":
            raise self._fail("'and', 'or' or end of input")
        depth = _depth(node)
        if depth > MAX_FILTER_DEPTH:  # a long and/or chain: deep, though parsed without recursion
            raise _too_deep(f"{depth} levels deep")
        return node

    def _descend(self) -> None:
        """Count one more level of recursion, refusing it past :data:`MAX_FILTER_DEPTH`."""
        self.nesting += 1
        if self.nesting > MAX_FILTER_DEPTH:
            where = f"nested more than {MAX_FILTER_DEPTH} levels deep at position {self.tok.pos}"
            raise _too_deep(where)

    def _or(self) -> Node:
        node = self._and()
        while self._word() == "or":
            self.i += 1
            node = Or(node, self._and())
        return node

    def _and(self) -> Node:
        node = self._comparison()
        while self._word() == "and":
            self.i += 1
            node = And(node, self._comparison())
        return node

    def _comparison(self) -> Node:
        node = self._unary()
        while True:
            word = self._word()
            if word in _COMPARISONS:
                self.i += 1
                node = Compare(word, node, self._unary())
            elif word == "in":
                self.i += 1
                node = In(node, self._list())
            elif word in _UNSUPPORTED_OPERATORS:
                raise ODataError(
                    f"operator {self.tok.text!r} at position {self.tok.pos} is not supported"
                )
            else:
                return node

    def _list(self) -> tuple[Node, ...]:
        self._expect("(")
        values: list[Node] = []
        while not values or self._accept(","):
            if self.tok.kind != "literal":
                raise self._fail("a literal in the 'in' list")
            values.append(Literal(self._advance().value))
        self._expect(")")
        return tuple(values)

    def _unary(self) -> Node:
        if self._word() == "not":
            self.i += 1
            self._descend()
            operand = self._unary()
            self.nesting -= 1
            return Not(operand)
        return self._primary()

    def _primary(self) -> Node:
        tok = self.tok
        if tok.kind == "literal":
            self.i += 1
            return Literal(tok.value)
        if self._accept("("):
            self._descend()
            node = self._or()
            self.nesting -= 1
            self._expect(")")
            return node
        if tok.kind != "name" or self._word() in _RESERVED:
            raise self._fail("an expression")
        if self._accept("(", ahead=1):
            return self._call(tok)
        return self._member()

    def _call(self, tok: _Token) -> Node:
        name = tok.text.lower()
        if name in _UNSUPPORTED_FUNCTIONS:
            raise ODataError(f"function {tok.text!r} at position {tok.pos} is not supported")
        if name not in _FUNCTIONS:
            raise ODataError(f"unknown function {tok.text!r} at position {tok.pos}")
        self._descend()
        args = [self._or()]
        while self._accept(","):
            args.append(self._or())
        self.nesting -= 1
        self._expect(")")
        low, high = _FUNCTIONS[name]
        if not low <= len(args) <= high:
            want = str(low) if low == high else f"{low} or {high}"
            raise ODataError(
                f"function {name!r} at position {tok.pos} takes {want} arguments, got {len(args)}"
            )
        return Call(name, tuple(args))

    def _member(self) -> Node:
        start = self.tok.pos
        path = [self._advance().text]
        # A lambda variable alone is an element of a primitive collection.  Element properties
        # (`s/partNumber`) are not checked: we have no schema for them.
        if path[0] not in self.scope and self.names is not None:
            if path[0].casefold() not in self.names:
                raise ODataError(f"unknown property {path[0]!r} at position {start}")
            path[0] = self.names[path[0].casefold()]
        while self._accept("/"):
            if self.tok.kind != "name":
                raise self._fail("a property name after '/'")
            word = self._word()
            if word in ("any", "all") and self._accept("(", ahead=1):
                return self._lambda(word, Property(tuple(path), start))
            path.append(self._advance().text)
        return Property(tuple(path), start)

    def _lambda(self, kind: str, collection: Property) -> Node:
        if kind == "any" and self._accept(")"):
            return Lambda(kind, collection, None, None)
        if self.tok.kind != "name":
            raise self._fail(f"a lambda variable in {kind}()")
        var = self._advance().text
        self._expect(":")
        self.scope.append(var)
        self._descend()
        body = self._or()
        self.nesting -= 1
        self.scope.pop()
        self._expect(")")
        return Lambda(kind, collection, var, body)


def _too_deep(where: str) -> ODataError:
    return ODataError(f"the $filter expression is {where}; at most {MAX_FILTER_DEPTH} are allowed")


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Compare | And | Or):
        return (node.left, node.right)
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, In):
        return (node.operand, *node.values)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Lambda):
        return (node.collection,) if node.body is None else (node.collection, node.body)
    return ()


def _depth(root: Node) -> int:
    """The levels of an expression tree, counted without recursion."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in _children(node))
    return deepest


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` expression.

    Args:
        text: The URL-decoded ``$filter`` value.

    Returns:
        The expression tree.

    Raises:
        ODataError: Syntax errors, unknown or unsupported functions and operators.
    """
    return _Parser(text, None).parse()


# --- Evaluation --------------------------------------------------------------------------


def _lookup(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    folded = name.casefold()
    for key, value in row.items():
        if key.casefold() == folded:
            return value
    return None


def _fold(value: Any) -> Any:
    return value.casefold() if CASE_INSENSITIVE_STRINGS and isinstance(value, str) else value


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Bring two non-null operands to one Python type, or None if they cannot be compared."""
    if isinstance(a, uuid.UUID) or isinstance(b, uuid.UUID):
        # GUIDs are compared case-insensitively whatever the collation: they are not text.
        if isinstance(a, uuid.UUID | str) and isinstance(b, uuid.UUID | str):
            return str(a).lower(), str(b).lower()
        return None
    if isinstance(a, date) or isinstance(b, date):
        a, b = _as_datetime(a), _as_datetime(b)
        return (a, b) if a is not None and b is not None else None
    if isinstance(a, bool) or isinstance(b, bool):
        # bool is an int subclass, but `true eq 1` is a type error in OData.
        return (a, b) if isinstance(a, bool) and isinstance(b, bool) else None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return _fold(a), _fold(b)
    return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, str):  # rows read back from JSON may hold ISO text
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):  # Edm.Date compares as midnight UTC
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        # The server's LINQ query has C# null semantics, not SQL's three-valued logic:
        # null eq null is true, and any ordering comparison with null is false.
        return {"eq": a is b, "ne": a is not b}.get(op, False)
    pair = _comparable(a, b)
    if pair is None:
        return op == "ne"
    x, y = pair
    return bool(getattr(operator, op)(x, y))  # eq ne gt ge lt le are operator's names too


def _call(name: str, args: list[Any]) -> Any:
    if any(a is None for a in args):
        return False if name in ("contains", "startswith", "endswith") else None
    if name in ("contains", "startswith", "endswith", "indexof"):
        s, sub = args
        if not isinstance(s, str) or not isinstance(sub, str):
            return None
        s, sub = _fold(s), _fold(sub)
        if name == "indexof":
            return s.find(sub)
        return sub in s if name == "contains" else getattr(s, name)(sub)
    s = args[0]
    if name == "concat":
        return "".join(str(a) for a in args)
    if not isinstance(s, str):
        return None
    if name == "substring":
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args[1:]):
            return None
        start = max(args[1], 0)
        return s[start:] if len(args) == 2 else s[start : start + max(args[2], 0)]
    return {"tolower": str.lower, "toupper": str.upper, "length": len, "trim": str.strip}[name](s)


def _value(node: Node, row: Mapping[str, Any], scope: dict[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Property):
        head, *rest = node.path
        value: Any = scope[head] if head in scope else _lookup(row, head)
        for name in rest:
            value = _lookup(value, name) if isinstance(value, Mapping) else None
        return value
    if isinstance(node, Compare):
        return _compare(node.op, _value(node.left, row, scope), _value(node.right, row, scope))
    if isinstance(node, In):
        left = _value(node.operand, row, scope)
        return any(_compare("eq", left, _value(v, row, scope)) for v in node.values)
    if isinstance(node, And):
        return _value(node.left, row, scope) is True and _value(node.right, row, scope) is True
    if isinstance(node, Or):
        return _value(node.left, row, scope) is True or _value(node.right, row, scope) is True
    if isinstance(node, Not):
        return _value(node.operand, row, scope) is not True
    if isinstance(node, Call):
        return _call(node.name, [_value(a, row, scope) for a in node.args])
    if isinstance(node, Lambda):
        items = _value(node.collection, row, scope)
        items = items if isinstance(items, list | tuple) else []
        if node.var is None or node.body is None:
            return bool(items)
        body, var = node.body, node.var
        matches = (_value(body, row, {**scope, var: item}) is True for item in items)
        return any(matches) if node.kind == "any" else all(matches)
    raise TypeError(f"not a filter node: {node!r}")


def evaluate(node: Node, row: Mapping[str, Any]) -> bool:
    """Evaluate a filter against one row; property names are matched case-insensitively.

    Args:
        node: A tree from :func:`parse_filter`.
        row: The entity, keyed by wire (camelCase) names.

    Returns:
        Whether the row matches; a non-boolean result (a bare string property) is False.
    """
    return _value(node, row, {}) is True


def _checked_filter(text: str, properties: Collection[str]) -> Node:
    return _Parser(text, properties).parse()


def compile_filter(text: str, properties: Collection[str]) -> Callable[[Mapping[str, Any]], bool]:
    """Parse a ``$filter`` and check its property names against the entity's.

    Args:
        text: The ``$filter`` value.
        properties: Top-level property names of the entity (matched case-insensitively).
            Properties of collection elements inside ``any``/``all`` are not checked.

    Returns:
        A predicate over rows.

    Raises:
        ODataError: Syntax errors and unknown properties.
    """
    node = _checked_filter(text, properties)
    return lambda row: evaluate(node, row)


# --- Query options -----------------------------------------------------------------------


@dataclass
class Query:
    """Parsed query options; names are canonicalised to the spelling the server declared."""

    filter: Node | None = None
    top: int | None = None
    skip: int = 0
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    expand: list[str] = field(default_factory=list)
    select: list[str] | None = None


_OPTIONS = frozenset({"$filter", "$top", "$skip", "$orderby", "$select", "$expand"})


def _count(option: str, raw: str, maximum: int | None) -> int:
    # At most 18 digits: int() refuses texts of thousands of digits with a ValueError of its own.
    if re.fullmatch(r"\s*\d{1,18}\s*", raw) and (maximum is None or int(raw) <= maximum):
        return int(raw)
    bound = f"between 0 and {maximum}" if maximum is not None else ">= 0"
    raise ODataError(f"{option} must be an integer {bound}, got {raw!r}")


def _names(option: str, raw: str, allowed: Collection[str]) -> list[str]:
    canonical = {a.casefold(): a for a in allowed}
    out = []
    for item in (part.strip() for part in raw.split(",")):
        if "(" in item or "/" in item:
            raise ODataError(f"{option}: nested options and paths are not supported ({item!r})")
        if item.casefold() not in canonical:
            raise ODataError(f"{option}: unknown property {item!r}; allowed: {', '.join(allowed)}")
        out.append(canonical[item.casefold()])
    return out


def parse_query(
    params: Mapping[str, str],
    *,
    properties: Collection[str],
    orderable: Collection[str],
    expandable: Collection[str],
    default_top: int | None,
    max_top: int,
    default_orderby: list[tuple[str, bool]],
) -> Query:
    """Parse the OData system query options of a request.

    Args:
        params: Query parameters; ``$``-option names are matched case-insensitively and other
            parameters are ignored (the endpoint handles them).
        properties: Entity properties usable in ``$filter`` and ``$select``.
        orderable: Properties usable in ``$orderby``.
        expandable: Collections usable in ``$expand`` (``*`` expands all).
        default_top: ``$top`` when absent (None: no limit).
        max_top: Largest accepted ``$top``.
        default_orderby: ``$orderby`` when absent.

    Returns:
        The parsed options.

    Raises:
        ODataError: Unknown or duplicate options, and invalid option values.
    """
    opts: dict[str, str] = {}
    for key, value in params.items():
        if not key.startswith("$"):
            continue
        if key.lower() not in _OPTIONS:
            raise ODataError(f"query option {key!r} is not supported")
        if key.lower() in opts:
            raise ODataError(f"query option {key!r} given more than once")
        opts[key.lower()] = value
    query = Query(top=default_top, orderby=list(default_orderby))
    if opts.get("$filter", "").strip():
        query.filter = _checked_filter(opts["$filter"], properties)
    if "$top" in opts:
        query.top = _count("$top", opts["$top"], max_top)
    if "$skip" in opts:
        query.skip = _count("$skip", opts["$skip"], None)
    if opts.get("$orderby", "").strip():
        query.orderby = []
        for item in opts["$orderby"].split(","):
            if not item.strip():
                raise ODataError(f"$orderby: empty item in {opts['$orderby']!r}")
            name, *direction = item.split()
            if len(direction) > 1 or (direction and direction[0].lower() not in ("asc", "desc")):
                raise ODataError(f"$orderby: expected 'name [asc|desc]', got {item.strip()!r}")
            (name,) = _names("$orderby", name, orderable)
            query.orderby.append((name, bool(direction) and direction[0].lower() == "desc"))
    if opts.get("$select", "").strip() and opts["$select"].strip() != "*":
        query.select = _names("$select", opts["$select"], properties)
    if opts.get("$expand", "").strip():
        raw = opts["$expand"].strip()
        query.expand = list(expandable) if raw == "*" else _names("$expand", raw, expandable)
    return query


def _sort_key(value: Any) -> tuple[Any, ...]:
    # None sorts first ascending, as NULL does in SQL Server.  Types differ per column only.
    if value is None:
        return (0,)
    if isinstance(value, uuid.UUID):
        value = str(value)
    return (1, _as_datetime(value) if isinstance(value, date) else _fold(value))


def _row_key(name: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    return lambda row: _sort_key(_lookup(row, name))


def apply(query: Query, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Filter, order, page and project rows.

    Args:
        query: From :func:`parse_query`.
        rows: Entities keyed by wire names.

    Returns:
        New dicts.  With ``$select`` only selected and expanded keys are kept (expanded
        collections appear regardless of ``$select``, as in OData); adding or removing
        collections according to ``query.expand`` is left to the caller.
    """
    out = [row for row in rows if query.filter is None or evaluate(query.filter, row)]
    # Stable sorts from the last key to the first give a multi-key order with mixed directions.
    for name, descending in reversed(query.orderby):
        out.sort(key=_row_key(name), reverse=descending)
    out = out[query.skip :]
    if query.top is not None:
        out = out[: query.top]
    if query.select is None:
        return [dict(row) for row in out]
    wanted = {n.casefold() for n in (*query.select, *query.expand)}
    return [{k: v for k, v in row.items() if k.casefold() in wanted} for row in out]

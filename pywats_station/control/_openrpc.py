"""Build the OpenRPC 1.2 document of the control channel from method and notification specs.

Schemas come from :func:`msgspec.json.schema_components`, so they are exactly what the server
decodes and encodes; descriptions come from the types' docstrings: the summary part describes
the type, each ``Attributes:`` entry describes its field.

Choices (documented in ``docs/control-api.md``):

* ``methods`` lists only what a client can call. Server-to-client notifications are listed in the
  top-level extension ``x-notifications``, each shaped like an OpenRPC method object (name
  ``notify.<event>``, by-name ``params`` = the payload's fields, no ``result``) and marked
  ``"x-notification": true``. Generic OpenRPC tools thus never offer to *call* a notification.
* ``x-role`` on each method names the role a connection needs to call it: ``none`` (anyone),
  ``operator`` or ``admin`` (see :mod:`pywats_station.control.roles`).
* Params are by-name or by-position (``paramStructure: "either"``), positions in field order.
* Errors are shared ``components.errors`` referenced from each method.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from pywats_station.control._spec import MethodSpec, NotificationSpec
from pywats_station.control.protocol import ERRORS, ErrorCode
from pywats_station.control.roles import Role

__all__ = ["OPENRPC_VERSION", "build_openrpc", "describe_type"]

OPENRPC_VERSION = "1.2.6"
SCHEMA_REF = "#/components/schemas/{name}"
_ATTRIBUTE = re.compile(r"^(\w+)(?: \([^)]*\))?: (.*)$")
_GENERIC = (ErrorCode.RATE_LIMITED, ErrorCode.INTERNAL_ERROR)


def describe_type(tp: type) -> tuple[str, dict[str, str]]:
    """Split a type's docstring into its description and per-field descriptions.

    Args:
        tp: A class documented Google style (``Attributes:`` lists its fields).

    Returns:
        The text before ``Attributes:`` (paragraphs kept) and ``{field: description}``.
    """
    doc = inspect.getdoc(tp) or ""
    if tp.__doc__ is None or doc == inspect.getdoc(msgspec.Struct):
        return "", {}
    head, _, tail = doc.partition("\nAttributes:\n")
    fields: dict[str, str] = {}
    current: str | None = None
    for line in tail.splitlines():
        if not line.strip():
            continue
        # Entries are indented once; their continuation lines deeper.
        stripped = line.strip()
        match = _ATTRIBUTE.match(stripped)
        indent = len(line) - len(line.lstrip())
        if match and indent <= 4:
            current = match.group(1)
            fields[current] = match.group(2)
        elif current is not None:
            fields[current] += " " + stripped
    return head.strip(), fields


def _content(name: str, schema: dict[str, Any], required: bool, description: str) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": name, "required": required, "schema": schema}
    if description:
        descriptor["description"] = description
    return descriptor


class _Builder:
    """Collects the component schemas of every type while the methods are described."""

    def __init__(self, types: Iterable[Any]) -> None:
        types = list(types)
        refs, components = msgspec.json.schema_components(types, ref_template=SCHEMA_REF)
        self.refs = {_key(tp): ref for tp, ref in zip(types, refs, strict=True)}
        self.schemas: dict[str, Any] = components
        self._document_components(types)

    def _document_components(self, types: list[Any]) -> None:
        # Replace msgspec's raw-docstring descriptions with clean ones plus field descriptions.
        seen: set[type] = set()
        stack = [tp for tp in types if isinstance(tp, type)]
        while stack:
            tp = stack.pop()
            if tp in seen or not issubclass(tp, msgspec.Struct):
                continue
            seen.add(tp)
            schema = self.schemas.get(tp.__name__)
            if schema is None:
                continue
            description, fields = describe_type(tp)
            schema.pop("description", None)
            if description:
                schema["description"] = description
            for name, prop in schema.get("properties", {}).items():
                if name in fields:
                    prop.setdefault("description", fields[name])
            for info in msgspec.structs.fields(tp):
                stack.extend(_struct_types(info.type))

    def params(self, tp: type[msgspec.Struct]) -> list[dict[str, Any]]:
        schema = self.schemas[tp.__name__]
        required = set(schema.get("required", ()))
        return [
            _content(
                name,
                {k: v for k, v in prop.items() if k != "description"},
                name in required,
                prop.get("description", ""),
            )
            for name, prop in schema.get("properties", {}).items()
        ]

    def result(self, tp: Any) -> dict[str, Any]:
        name = tp.__name__ if isinstance(tp, type) else "result"
        description = describe_type(tp)[0] if isinstance(tp, type) else ""
        return _content(name, self.refs[_key(tp)], True, description)


def _key(tp: Any) -> str:
    return repr(tp)


def _struct_types(annotation: Any) -> list[type]:
    """Struct classes mentioned anywhere in a field's type (``list[X] | None`` …)."""
    found: list[type] = []
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        found.append(annotation)
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_struct_types(arg))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        found.extend(_struct_types(origin))
    return found


def _errors(spec: MethodSpec) -> list[dict[str, str]]:
    codes: list[ErrorCode] = []
    if msgspec.structs.fields(spec.params):
        codes.append(ErrorCode.INVALID_PARAMS)
    if spec.role > Role.NONE:
        codes.append(ErrorCode.UNAUTHORIZED)
    if spec.role > Role.OPERATOR:  # an authenticated connection holds operator at least
        codes.append(ErrorCode.FORBIDDEN)
    codes.extend(code for code in spec.errors if code not in codes)
    codes.extend(code for code in _GENERIC if code not in codes)
    return [{"$ref": f"#/components/errors/{ERRORS[code].name}"} for code in codes]


def build_openrpc(
    methods: Iterable[MethodSpec],
    notifications: Iterable[NotificationSpec],
    *,
    title: str,
    version: str,
    description: str = "",
) -> dict[str, Any]:
    """Build the OpenRPC document (a JSON-serialisable dict).

    Args:
        methods: The callable methods, in the order to list them.
        notifications: The server-to-client events.
        title: ``info.title``.
        version: ``info.version`` (the API's version: the package version).
        description: ``info.description``.
    """
    methods = list(methods)
    notifications = list(notifications)
    types: list[Any] = []
    for spec in methods:
        types += [spec.params, spec.result]
    types += [spec.payload for spec in notifications]
    builder = _Builder(dict.fromkeys(types))  # dict: unique, order kept

    method_objects = []
    for spec in methods:
        method: dict[str, Any] = {"name": spec.name, "summary": spec.summary}
        if spec.description:
            method["description"] = spec.description
        method["paramStructure"] = "either"
        method["params"] = builder.params(spec.params)
        method["result"] = builder.result(spec.result)
        method["errors"] = _errors(spec)
        method["x-role"] = spec.role.label
        method_objects.append(method)

    notification_objects = []
    for note in notifications:
        entry: dict[str, Any] = {"name": note.method, "summary": note.summary}
        body, _ = describe_type(note.payload)
        text = "\n\n".join(part for part in (note.description, body) if part)
        if text:
            entry["description"] = text
        entry["paramStructure"] = "by-name"
        entry["params"] = builder.params(note.payload)
        entry["x-notification"] = True
        entry["x-event"] = note.event
        notification_objects.append(entry)

    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {
        "openrpc": OPENRPC_VERSION,
        "info": info,
        "methods": method_objects,
        "components": {
            "schemas": builder.schemas,
            "errors": {
                info.name: {"code": int(code), "message": info.message}
                for code, info in ERRORS.items()
                if code is not ErrorCode.CONNECTION_CLOSED
            },
        },
        "x-notifications": notification_objects,
    }

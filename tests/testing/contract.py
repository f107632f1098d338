"""A small contract checker: the emulated WATS server against the server's OpenAPI description.

The descriptions live in ``../shared/reference/openapi/`` (``wats-public.openapi3.json`` and the
superset ``wats-internal.openapi3.json``); :func:`openapi_file` skips a test when the folder is
absent (override it with ``PYWATS_OPENAPI_DIR``), the way :mod:`tests.fixtures` does for the real
fixtures.

What this module offers:

* :class:`Description`: operations of one description, found by method and path (case-insensitive,
  ``{param}`` names ignored), their parameters and response schemas, ``$ref`` resolution.
* :func:`check_value`: a JSON value against a (resolved) schema; :class:`Finding` per problem.
* :func:`call`: one request to a :class:`~pywats.testing.FakeWATS`, sans-IO; an exception raised by
  the emulator becomes status 500 (that is what a client over TCP would see).
* :func:`library_calls`: the (method, path) of every operation the ``pywats`` library implements,
  obtained by running each operation's call builder (no I/O) with sample arguments.

How the description's schemas are read (Swashbuckle output of an ASP.NET Web API server):

* ``{"type": "object"}`` with neither ``properties`` nor ``additionalProperties`` is how
  Swashbuckle renders ``object``/``IHttpActionResult``/``HttpResponseMessage`` results: it says
  nothing about the answer, so any JSON value (and any media type) is accepted there.
* No schema declares ``nullable``, although the server serialises null members of reference and
  ``Nullable<T>`` types: ``null`` is accepted for every member and array item.
* Members the description does not list are reported as ``extra`` findings (the server may add
  members); members typed differently, and members named like a described one in another letter
  case (``pywats`` decodes case-sensitively), are ``mismatch`` findings.
"""

from __future__ import annotations

import io
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest

from pywats import pyWATS
from pywats._call import Call
from pywats._domain import Domain, operation
from pywats.api import DOMAINS
from pywats.models.report import UUTReport
from pywats.models.system import StationClient
from pywats.testing import FakeWATS, Request
from tests.fixtures import REAL
from tests.testing.samples import domain_samples

__all__ = [
    "INTERNAL",
    "LIBRARY_SAMPLES",
    "OPENAPI",
    "PUBLIC",
    "Answer",
    "Description",
    "Finding",
    "LibraryCall",
    "Operation",
    "call",
    "check_value",
    "description",
    "find_description",
    "is_untyped",
    "library_calls",
    "name_differences",
    "openapi_file",
    "path_parameters",
    "structure",
]

_DEFAULT = REAL.parent.parent / "reference" / "openapi"
OPENAPI = Path(os.environ.get("PYWATS_OPENAPI_DIR", _DEFAULT))

PUBLIC = "wats-public.openapi3.json"
INTERNAL = "wats-internal.openapi3.json"

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM = re.compile(r"\{([^}/]*)\}")

JSON = Any
Schema = Mapping[str, Any]


# --- finding the description ----------------------------------------------------------------


def openapi_file(name: str) -> Path:
    """One OpenAPI description file, or skip the test when it is not there."""
    path = OPENAPI / name
    if not path.is_file():
        pytest.skip(f"OpenAPI description not found at {path} (set PYWATS_OPENAPI_DIR)")
    return path


@cache
def _load(path: Path) -> Description:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Description(document, path.name)


def description(name: str) -> Description:
    """The parsed description ``name`` (cached), or skip the test when it is not there."""
    return _load(openapi_file(name))


def find_description(name: str) -> Description | None:
    """The parsed description ``name``, or ``None`` when absent (for test collection)."""
    path = OPENAPI / name
    return _load(path) if path.is_file() else None


# --- paths ----------------------------------------------------------------------------------


def structure(path: str) -> str:
    """``path`` lower-cased, without a trailing slash, with every ``{param}`` as ``{}``."""
    return _PARAM.sub("{}", path.rstrip("/").lower())


def path_parameters(path: str) -> list[str]:
    """The ``{param}`` names of a path template, in order."""
    return _PARAM.findall(path)


def name_differences(template: str, described: str) -> list[str]:
    """Path parameter names that differ between two templates of the same structure."""
    return [
        f"{{{ours}}} is {{{theirs}}} in the description"
        for ours, theirs in zip(path_parameters(template), path_parameters(described), strict=False)
        if ours != theirs
    ]


def _concrete_pattern(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template.rstrip("/"))
    # split() alternates literal text and parameter names.
    regex = "".join(re.escape(p) if i % 2 == 0 else "[^/]+" for i, p in enumerate(parts))
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


# --- the description ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a description."""

    method: str  # upper case
    path: str  # as the description spells it
    spec: Mapping[str, Any]
    path_item: Mapping[str, Any]

    @property
    def key(self) -> str:
        """``METHOD /path`` as the description spells it."""
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str:
        """The description's ``operationId`` (empty when it has none)."""
        return str(self.spec.get("operationId", ""))

    def __str__(self) -> str:
        return f"{self.key} ({self.operation_id})" if self.operation_id else self.key


class Description:
    """The operations and schemas of one OpenAPI 3 document."""

    def __init__(self, document: Mapping[str, Any], name: str) -> None:
        self.document = document
        self.name = name
        self.operations: list[Operation] = []
        for path, item in document.get("paths", {}).items():
            for method in _HTTP_METHODS:
                if method in item:
                    self.operations.append(Operation(method.upper(), path, item[method], item))
        self._by_structure: dict[str, list[Operation]] = {}
        for op in self.operations:
            self._by_structure.setdefault(structure(op.path), []).append(op)
        self._patterns = [(op, _concrete_pattern(op.path)) for op in self.operations]

    def __repr__(self) -> str:
        return f"Description({self.name!r}, {len(self.operations)} operations)"

    def same_structure(self, template: str) -> list[Operation]:
        """Operations (any method) whose path has the structure of ``template``."""
        return list(self._by_structure.get(structure(template), ()))

    def find(self, method: str, template: str) -> Operation | None:
        """The operation for ``method`` and a path template (case and ``{names}`` ignored)."""
        return next(
            (op for op in self.same_structure(template) if op.method == method.upper()), None
        )

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path is routed to (literal segments win)."""
        found = [
            op
            for op, pattern in self._patterns
            if op.method == method.upper() and pattern.match(path.split("?", 1)[0])
        ]
        found.sort(key=lambda op: len(path_parameters(op.path)))
        return found[0] if found else None

    # --- schemas --------------------------------------------------------------------------

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """``node`` with its ``$ref`` chain followed (local references only)."""
        seen: set[str] = set()
        while "$ref" in node:
            ref = str(node["$ref"])
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"cannot resolve $ref {ref!r} in {self.name}")
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def parameters(self, op: Operation, location: str | None = None) -> list[Mapping[str, Any]]:
        """The resolved parameters of ``op`` (path-level ones included), optionally by ``in``."""
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*op.path_item.get("parameters", ()), *op.spec.get("parameters", ())]:
            param = self.resolve(raw)
            merged[(str(param.get("in")), str(param.get("name")))] = param
        return [p for p in merged.values() if location is None or p.get("in") == location]

    def parameter_schema(self, param: Mapping[str, Any]) -> Mapping[str, Any]:
        """The resolved schema of a parameter (empty when it has none)."""
        return self.resolve(param.get("schema") or {})

    def request_body(self, op: Operation) -> Mapping[str, Any] | None:
        """The resolved request body of ``op``, if it has one."""
        body = op.spec.get("requestBody")
        return self.resolve(body) if body is not None else None

    def response_schema(
        self, op: Operation, status: str = "200", media: str = "application/json"
    ) -> Mapping[str, Any] | None:
        """The resolved schema of one response of ``op``, or ``None`` when undescribed."""
        response = op.spec.get("responses", {}).get(status)
        if response is None:
            return None
        content = self.resolve(response).get("content", {})
        schema = content.get(media, {}).get("schema")
        return self.resolve(schema) if schema is not None else None


# --- checking values against schemas ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between a JSON value and its schema."""

    kind: Literal["mismatch", "extra"]
    where: str  # JSON path, e.g. ``$[0].uuid``
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def is_untyped(schema: Schema) -> bool:
    """Whether a resolved schema says nothing about the value (see the module docstring)."""
    kind = schema.get("type")
    if kind is None:
        return not any(k in schema for k in ("properties", "items", "additionalProperties"))
    return (
        kind == "object"
        and not schema.get("properties")
        and not isinstance(schema.get("additionalProperties"), Mapping)
        and schema.get("additionalProperties") is not False
    )


def _json_type(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: JSON) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


_INT_RANGES = {"int32": 2**31, "int64": 2**63}


def _check_format(schema: Schema, value: JSON) -> str | None:
    """A problem with a scalar's ``format``, or ``None``."""
    fmt = schema.get("format")
    if isinstance(value, str):
        if fmt == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                return f"expected a uuid (format: uuid), got {_short(value)}"
        elif fmt == "date-time":
            text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
            try:
                datetime.fromisoformat(text)
            except ValueError:
                return f"expected an ISO 8601 date-time (format: date-time), got {_short(value)}"
        elif fmt == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"expected an ISO 8601 date (format: date), got {_short(value)}"
    elif isinstance(value, int) and isinstance(fmt, str) and fmt in _INT_RANGES:
        limit = _INT_RANGES[fmt]
        if not -limit <= value < limit:
            return f"expected an integer within {fmt}, got {value}"
    return None


def check_value(doc: Description, schema: Schema, value: JSON, where: str = "$") -> list[Finding]:
    """Every difference between ``value`` (decoded JSON) and ``schema`` (``$ref``s followed)."""
    schema = doc.resolve(schema)
    if value is None or is_untyped(schema):
        return []
    expected = schema.get("type")
    if expected is None:
        expected = "array" if "items" in schema else "object"
    got = _json_type(value)
    fits = got == expected or (expected == "number" and got == "integer")
    if not fits:
        return [
            Finding("mismatch", where, f"expected {_describe(schema)}, got {got} {_short(value)}")
        ]
    findings: list[Finding] = []
    if "enum" in schema and value not in schema["enum"]:
        findings.append(
            Finding("mismatch", where, f"expected one of {schema['enum']}, got {_short(value)}")
        )
    problem = _check_format(schema, value)
    if problem is not None:
        findings.append(Finding("mismatch", where, problem))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            findings.extend(check_value(doc, schema["items"], item, f"{where}[{i}]"))
    if isinstance(value, dict):
        findings.extend(_check_members(doc, schema, value, where))
    return findings


def _check_members(
    doc: Description, schema: Schema, value: Mapping[str, JSON], where: str
) -> list[Finding]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    folded = {name.lower(): name for name in properties}
    extra_schema = schema.get("additionalProperties")
    findings: list[Finding] = [
        Finding("mismatch", f"{where}.{name}", "required member is missing")
        for name in schema.get("required", ())
        if name not in value
    ]
    for name, member in value.items():
        here = f"{where}.{name}"
        if name in properties:
            findings.extend(check_value(doc, properties[name], member, here))
        elif name.lower() in folded:
            findings.append(
                Finding(
                    "mismatch",
                    here,
                    f"member is named {folded[name.lower()]!r} in the description "
                    "(letter case differs)",
                )
            )
        elif isinstance(extra_schema, Mapping):
            findings.extend(check_value(doc, extra_schema, member, here))
        elif extra_schema is False:
            findings.append(Finding("mismatch", here, "member not allowed (additionalProperties)"))
        else:
            findings.append(
                Finding("extra", here, f"member not in the description: {_short(member)}")
            )
    return findings


def _describe(schema: Schema) -> str:
    kind = str(schema.get("type", "object"))
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else kind


# --- talking to the emulator ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """The emulator's answer to one request."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    content_type: str
    body: bytes
    crash: str | None = None  # the exception the emulator raised (answered as 500)

    @property
    def is_json(self) -> bool:
        """Whether the answer says it is JSON."""
        return self.content_type.split(";", 1)[0].strip().lower() in (
            "application/json",
            "text/json",
        )

    def json(self) -> JSON:
        """The decoded JSON body."""
        return json.loads(self.body)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        target = f"{self.method} {self.path}" + (f"?{query}" if query else "")
        if len(target) > 160:
            target = target[:157] + "..."
        if self.crash is not None:
            return f"{target} -> crashed with {self.crash}"
        body = self.body[:200].decode("utf-8", "replace")
        return f"{target} -> {self.status} {self.content_type}: {body}"


def call(
    fake: FakeWATS,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    token: str = "test-token",
    content_type: str = "application/json",
) -> Answer:
    """Send one request to the emulator (sans-IO); an exception counts as a 500 answer."""
    headers = {"authorization": f"Basic {token}", "accept": "application/json"}
    if body:
        headers["content-type"] = content_type
    request = Request(method=method, path=path, query=list(query), headers=headers, body=body)
    try:
        _, response = fake.handle(request)
    except Exception as exc:
        return Answer(method, path, tuple(query), 500, "", b"", f"{type(exc).__name__}: {exc}")
    return Answer(method, path, tuple(query), response.status, response.content_type, response.body)


# --- what the library calls ------------------------------------------------------------------

_SAMPLE_ID = "33a2d408-3fc8-480b-b554-6866c77fd91c"

Args = tuple[tuple[Any, ...], dict[str, Any]]

# Sample arguments for every operation of the library (``domain.operation`` as on ``pyWATS``).
# Several entries for operations that reach different routes depending on their arguments.
LIBRARY_SAMPLES: dict[str, list[Args]] = {
    "report.submit_report": [((UUTReport(),), {"validate": False})],
    "report.submit_wsjf": [((b"{}",), {})],
    "report.submit_report_xml": [((b"<Reports/>",), {})],
    "report.get_report": [((_SAMPLE_ID,), {})],
    "report.get_report_xml": [((_SAMPLE_ID,), {})],
    "report.query_headers": [((), {})],
    "report.query_all_headers": [((), {})],
    "report.query_headers_by_misc_info": [((), {"description": "d"})],
    "report.get_attachment": [
        ((_SAMPLE_ID,), {"step_id": 1}),
        ((_SAMPLE_ID,), {"attachment_id": _SAMPLE_ID}),
    ],
    "report.get_attachments": [((_SAMPLE_ID,), {})],
    "report.download_attachments": [((_SAMPLE_ID, io.BytesIO()), {})],
    "report.get_certificate": [((_SAMPLE_ID,), {})],
    "app.get_version": [((), {})],
    "app.get_processes": [((), {})],
    "app.get_levels": [((), {})],
    "app.get_product_groups": [((), {"include_filters": True})],
    "process.get_processes": [((), {})],
    "process.get_test_operations": [((), {})],
    "process.get_repair_operations": [((), {})],
    "process.get_process": [((10,), {})],
    "auth.get_token": [((), {}), (("station-1",), {})],
    "system.get_system_status": [((), {})],
    "system.get_client": [((), {"name": "station-1"}), ((), {"identifier": "AA"})],
    "system.get_clients": [((), {})],
    "system.update_client": [((StationClient(client_id=1),), {})],
    "system.get_client_log": [(("AA",), {})],
    "system.get_level": [((["Site"],), {})],
    "system.create_level": [((["Site"],), {})],
    "system.register_client": [(("station-1",), {"mac": "00155D0A0B0C"})],
}
LIBRARY_SAMPLES.update(domain_samples())


@dataclass(frozen=True, slots=True)
class LibraryCall:
    """One HTTP request an operation of the library makes (its first one, for flows)."""

    operation: str  # ``domain.name``
    method: str
    path: str  # concrete, e.g. ``/api/Report/Wsjf/33a2…``
    parameters: tuple[str, ...] = ()  # every query parameter the operation may send
    query: tuple[tuple[str, str], ...] = ()  # the query sent with the sample arguments

    def __str__(self) -> str:
        return f"{self.operation}: {self.method} {self.path}"


def _operations(domain: Domain[Any]) -> Iterator[tuple[str, operation[Any, Any]]]:
    seen: set[str] = set()
    for cls in type(domain).__mro__:
        for name, value in vars(cls).items():
            # A predecessor's name (replaced_by) makes its operation's requests: not listed.
            if isinstance(value, operation) and value.replaced_by is None and name not in seen:
                seen.add(name)
                yield name, value


def library_calls() -> list[LibraryCall]:
    """The request of every operation of ``pyWATS``, built (not sent) with sample arguments.

    Raises:
        LookupError: an operation has no entry in :data:`LIBRARY_SAMPLES` (add one).
    """
    out: list[LibraryCall] = []
    fake = FakeWATS()
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        domains: dict[str, Domain[Any]] = {name: getattr(api, name) for name in DOMAINS}
        missing: list[str] = []
        for domain_name, domain in domains.items():
            for name, op in _operations(domain):
                key = f"{domain_name}.{name}"
                if key not in LIBRARY_SAMPLES:
                    missing.append(key)
                    continue
                for args, kwargs in LIBRARY_SAMPLES[key]:
                    built = op.calls(domain, *args, **kwargs)
                    if isinstance(built, Call):
                        first: Call[Any] = built
                    else:
                        first = next(built)
                        built.close()
                    out.append(
                        LibraryCall(
                            key,
                            first.method.upper(),
                            first.path,
                            tuple(first.params or ()),
                            tuple(first.query()),
                        )
                    )
    known = {c.operation for c in out} | set(missing)
    stale = sorted(set(LIBRARY_SAMPLES) - known)
    if missing or stale:
        raise LookupError(
            "contract.LIBRARY_SAMPLES is out of date: operations without sample arguments "
            f"{missing}; entries for operations the library does not have {stale}"
        )
    return out

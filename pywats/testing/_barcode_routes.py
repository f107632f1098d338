"""The emulator's ``barcode`` routes: barcode identifiers (tag BarcodeIdentifiers).

Identifiers are kept per emulator (:func:`barcode_state`). ``IdentifyBarcode`` tries them in
``order`` (then by id): the first whose ``pattern`` is found in the code gives the fields, each
read with its own expression (the text of its first capturing group, or of the whole match).
With no identifier matching, the code is read in the default format
``SerialNumber/PartNumber/Revision/BatchNumber/Process``; a code with more than five such parts
cannot be read, and is answered 404.

The server runs .NET regular expressions; Python's ``re`` reads the common subset, and .NET's
named groups ``(?<name>…)`` are translated.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from pywats.models.barcode import DEFAULT_FORMAT, BarcodeIdentifier, IdentifiedBarcode
from pywats.testing._http import HTTPFailure, Request, Response, Router, decode_json, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["BarcodeState", "add_barcode_routes", "barcode_state"]

# Fields of an identifier that hold an expression, by wire name and attribute.
_EXPRESSIONS = (
    ("pattern", "pattern"),
    ("serialNumber", "serial_number"),
    ("partNumber", "part_number"),
    ("revision", "revision"),
    ("batchNumber", "batch_number"),
    ("process", "process"),
)
# Bounds that keep a hostile request from tying up the emulator in a regular expression.
MAX_CODE = 4096
MAX_EXPRESSION = 1024
_INT32 = 2**31
_NET_NAMED_GROUP = re.compile(r"\(\?<(?![=!])(\w+)>")


@dataclass
class BarcodeState:
    """The identifiers the emulator was given (``emu.domain_state("barcode", …)``)."""

    identifiers: dict[int, BarcodeIdentifier] = field(default_factory=dict)
    last_id: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def in_order(self) -> list[BarcodeIdentifier]:
        """The identifiers in the order the server tries them."""
        with self.lock:
            found = list(self.identifiers.values())
        return sorted(found, key=lambda i: (i.order is None, i.order or 0, i.id or 0))


def barcode_state(emu: FakeWATS) -> BarcodeState:
    """The emulator's barcode identifiers."""
    return emu.domain_state("barcode", BarcodeState)


def add_barcode_routes(router: Router) -> None:
    """Register the barcode routes on ``router``."""
    router.add("GET", "/api/BarcodeIdentifiers/BarcodeIdentifiers", get_identifiers)
    router.add("PUT", "/api/BarcodeIdentifiers/BarcodeIdentifier", put_identifier)
    router.add("DELETE", "/api/BarcodeIdentifiers/BarcodeIdentifier/{id}", delete_identifier)
    router.add("GET", "/api/BarcodeIdentifiers/IdentifyBarcode", identify_barcode)


@functools.lru_cache(maxsize=512)
def _regex(expression: str) -> re.Pattern[str]:
    return re.compile(_NET_NAMED_GROUP.sub(r"(?P<\1>", expression))


def _compile(expression: str, name: str) -> re.Pattern[str]:
    """An identifier's expression compiled, or 400 naming the field."""
    if len(expression) > MAX_EXPRESSION:
        raise HTTPFailure(
            400, f"{name}: the expression is longer than {MAX_EXPRESSION} characters."
        )
    try:
        return _regex(expression)
    except re.error as exc:
        raise HTTPFailure(
            400, f"{name}: '{expression}' is not a valid regular expression ({exc})."
        ) from None


def get_identifiers(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/BarcodeIdentifiers/BarcodeIdentifiers``."""
    return json_response(barcode_state(emu).in_order())


def put_identifier(emu: FakeWATS, req: Request) -> Response:
    """``PUT /api/BarcodeIdentifiers/BarcodeIdentifier``: add (no id) or update (id)."""
    if not req.body.strip():
        raise HTTPFailure(400, "The barcode identifier is required.")
    given = decode_json(req.body, BarcodeIdentifier, "The barcode identifier is invalid.")
    if not (given.pattern or "").strip():
        raise HTTPFailure(400, "pattern: a barcode identifier needs a pattern.")
    for wire, attribute in _EXPRESSIONS:
        expression = getattr(given, attribute)
        if expression:
            _compile(expression, wire)
    if given.order is not None and not -_INT32 <= given.order < _INT32:
        raise HTTPFailure(400, f"order: {given.order} is outside the range of Int32.")
    state = barcode_state(emu)
    with state.lock:
        if given.id:
            if given.id not in state.identifiers:
                raise HTTPFailure(404, f"Barcode identifier {given.id} was not found.")
            saved = given
        else:
            state.last_id += 1
            order = given.order
            if order is None:  # a new identifier is tried after the others
                order = max((i.order or 0 for i in state.identifiers.values()), default=0) + 1
            saved = msgspec.structs.replace(given, id=state.last_id, order=order)
        state.identifiers[saved.id or 0] = saved
    return json_response(saved)


def _identifier_id(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,10}", text.strip()) or not -_INT32 <= int(text) < _INT32:
        raise HTTPFailure(400, f"The value '{text[:100]}' is not valid for id (Int32).")
    return int(text)


def delete_identifier(emu: FakeWATS, req: Request, id: str) -> Response:  # noqa: A002
    """``DELETE /api/BarcodeIdentifiers/BarcodeIdentifier/{id}``."""
    wanted = _identifier_id(id)
    state = barcode_state(emu)
    with state.lock:
        if state.identifiers.pop(wanted, None) is None:
            raise HTTPFailure(404, f"Barcode identifier {wanted} was not found.")
    # ASP.NET's Ok() without content: 200 and no body (nothing JSON to decode).
    return Response(status=200, content_type="text/plain; charset=utf-8")


def _value(expression: str | None, code: str, name: str) -> str | None:
    """What ``expression`` finds in ``code``: its first capturing group, or the whole match."""
    if not expression:
        return None
    found = _compile(expression, name).search(code)
    if found is None:
        return None
    groups = [g for g in found.groups() if g is not None]
    return groups[0] if groups else found.group(0)


def identify(state: BarcodeState, code: str) -> IdentifiedBarcode | None:
    """Read ``code`` with the identifiers, else in the default format; ``None``: unreadable."""
    for identifier in state.in_order():
        if _compile(identifier.pattern or "", "pattern").search(code) is None:
            continue
        return IdentifiedBarcode(
            id=identifier.id,
            pattern=identifier.pattern,
            serial_number=_value(identifier.serial_number, code, "serialNumber"),
            part_number=_value(identifier.part_number, code, "partNumber"),
            revision=_value(identifier.revision, code, "revision"),
            batch_number=_value(identifier.batch_number, code, "batchNumber"),
            process=_value(identifier.process, code, "process"),
            order=identifier.order,
            description=identifier.description,
        )
    parts = code.split("/")
    if len(parts) > len(DEFAULT_FORMAT):
        return None
    parts += [""] * (len(DEFAULT_FORMAT) - len(parts))
    serial, part, revision, batch, process = (p or None for p in parts)
    return IdentifiedBarcode(
        serial_number=serial,
        part_number=part,
        revision=revision,
        batch_number=batch,
        process=process,
    )


def identify_barcode(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/BarcodeIdentifiers/IdentifyBarcode?code=``."""
    code = req.param("code")
    if not code:
        raise HTTPFailure(400, "The code parameter is required.")
    if len(code) > MAX_CODE:
        raise HTTPFailure(400, f"code: a barcode is at most {MAX_CODE} characters long.")
    found = identify(barcode_state(emu), code)
    if found is None:
        raise HTTPFailure(
            404,
            f"The barcode '{code}' matches no barcode identifier and is not in the default "
            "format SerialNumber/PartNumber/Revision/BatchNumber/Process.",
        )
    return json_response(found)

"""JSON-RPC 2.0 as spoken on the control channel: messages as msgspec types, error codes, parsing.

This module does no I/O. The server parses every incoming websocket text frame with
:func:`parse_frame`, which turns *anything* (bytes, broken JSON, wrong shapes) into either
well-formed :class:`Request` objects or the error response the sender must get; nothing here
raises on bad input. The client uses :class:`Incoming` to read what the server sends.

Rules kept here (see ``docs/control-api.md``):

* one JSON-RPC message (or one batch array) per text frame;
* a request has an ``id`` (string, integer or null) and gets exactly one response with that id;
  a notification has no ``id`` member and gets none;
* ``params``, when present, is an object (by name) or an array (by position);
* members other than ``jsonrpc``, ``id``, ``method`` and ``params`` are refused, so a typo such
  as ``"param"`` is an error instead of a call without parameters;
* a batch holds 1 to :data:`MAX_BATCH` messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final

import msgspec

__all__ = [
    "ERRORS",
    "JSONRPC",
    "MAX_BATCH",
    "ControlError",
    "ErrorCode",
    "ErrorInfo",
    "ErrorObject",
    "Frame",
    "Incoming",
    "Notification",
    "Request",
    "RequestId",
    "Response",
    "echo",
    "encode",
    "error_response",
    "parse_frame",
]

JSONRPC: Final = "2.0"
MAX_BATCH: Final = 100
"""The most messages one batch may hold; a bigger batch is refused whole (-32600)."""

NOTIFY_PREFIX: Final = "notify."
"""Method-name prefix of server-to-client notifications (``notify.report_uploaded``)."""

RequestId = int | str | None
"""A request id. ``None`` is JSON ``null``: legal, but the reply cannot be told apart from the
error replies to unreadable messages, so clients should not use it."""

_MEMBERS = frozenset({"jsonrpc", "id", "method", "params"})
_ECHO_LIMIT = 80  # characters of a client-chosen name echoed back in an error message


class ErrorCode(enum.IntEnum):
    """Every error code the control channel uses; the table in ``docs/control-api.md``."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    CONNECTION_CLOSED = -32000
    UNAUTHORIZED = -32001
    FORBIDDEN_ORIGIN = -32002
    RATE_LIMITED = -32003
    MESSAGE_TOO_LARGE = -32004
    FORBIDDEN = -32005
    NOT_FOUND = -32010
    CONFLICT = -32011
    VALIDATION_FAILED = -32012
    STATION_ERROR = -32013


@dataclass(frozen=True)
class ErrorInfo:
    """What one error code means, for the documentation and OpenRPC ``components.errors``.

    Attributes:
        name: CamelCase name used as the OpenRPC component key.
        message: The default message.
        meaning: When it happens, for humans.
    """

    name: str
    message: str
    meaning: str


ERRORS: Final[dict[ErrorCode, ErrorInfo]] = {
    ErrorCode.PARSE_ERROR: ErrorInfo(
        "ParseError", "parse error", "The frame is not valid JSON (or is a binary frame)."
    ),
    ErrorCode.INVALID_REQUEST: ErrorInfo(
        "InvalidRequest",
        "invalid request",
        "Valid JSON but not a JSON-RPC 2.0 request: wrong or unknown members, empty or "
        f"oversized batch (more than {MAX_BATCH}).",
    ),
    ErrorCode.METHOD_NOT_FOUND: ErrorInfo(
        "MethodNotFound", "method not found", "No method of that name."
    ),
    ErrorCode.INVALID_PARAMS: ErrorInfo(
        "InvalidParams",
        "invalid params",
        "The params do not fit the method; the message and `data.field` name the field.",
    ),
    ErrorCode.INTERNAL_ERROR: ErrorInfo(
        "InternalError",
        "internal error",
        "The handler failed unexpectedly; `data.incident` is logged with the traceback.",
    ),
    ErrorCode.CONNECTION_CLOSED: ErrorInfo(
        "ConnectionClosed",
        "connection closed",
        "Client side only, never sent: the connection closed before the reply arrived.",
    ),
    ErrorCode.UNAUTHORIZED: ErrorInfo(
        "Unauthorized",
        "unauthorized",
        "The method needs authentication (`auth.login` or the `Authorization` header), or "
        "the token presented is wrong. Handshake: HTTP 401.",
    ),
    ErrorCode.FORBIDDEN_ORIGIN: ErrorInfo(
        "ForbiddenOrigin",
        "forbidden origin",
        "Handshake only (HTTP 403): the `Origin` header is not in the allowed origins.",
    ),
    ErrorCode.RATE_LIMITED: ErrorInfo(
        "RateLimited",
        "rate limited",
        "Too many requests on this connection, a wrong token while this address has failed "
        "too often (`data.retry_after` seconds), or no room for another authenticated "
        "connection. Handshake: HTTP 429 (failed logins), 503 (a pool is full).",
    ),
    ErrorCode.MESSAGE_TOO_LARGE: ErrorInfo(
        "MessageTooLarge",
        "message too large",
        "The frame exceeds the size limit; the server then closes the connection (1009).",
    ),
    ErrorCode.FORBIDDEN: ErrorInfo(
        "Forbidden",
        "forbidden",
        "The connection is authenticated, but its role may not do this (`config.set` needs "
        "the admin token); `data.needs` and `data.holds` name the roles.",
    ),
    ErrorCode.NOT_FOUND: ErrorInfo(
        "NotFound", "not found", "The object named in the params does not exist."
    ),
    ErrorCode.CONFLICT: ErrorInfo(
        "Conflict", "conflict", "The object is not in a state that allows the operation."
    ),
    ErrorCode.VALIDATION_FAILED: ErrorInfo(
        "ValidationFailed",
        "validation failed",
        "The new value was refused; `data.problems` lists `{path, message}` items.",
    ),
    ErrorCode.STATION_ERROR: ErrorInfo(
        "StationError",
        "station error",
        "The station could not do it (e.g. the WATS server is unreachable); see `data`.",
    ),
}


_BY_CODE: Final[dict[int, ErrorInfo]] = {int(code): info for code, info in ERRORS.items()}


class ControlError(Exception):
    """A JSON-RPC error: raised by method handlers, and by the client for an error reply.

    A handler raises it to answer with that error, e.g.
    ``raise ControlError(ErrorCode.NOT_FOUND, "no queue entry 42", {"entry": "42"})``. ``data``
    must be JSON-serialisable and must never hold a secret.

    Attributes:
        code: The error code (an :class:`ErrorCode` value, or any integer a server sent).
        message: A short human sentence.
        data: Extra structured details, or ``None``.
    """

    def __init__(self, code: int, message: str | None = None, data: Any = None) -> None:
        if message is None:
            info = _BY_CODE.get(code)
            message = info.message if info else "error"
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.data = data

    def to_object(self) -> ErrorObject:
        """The error as the ``error`` member of a response."""
        if self.data is None:
            return ErrorObject(code=int(self.code), message=self.message)
        return ErrorObject(code=int(self.code), message=self.message, data=self.data)


# --- messages --------------------------------------------------------------------------------


class ErrorObject(msgspec.Struct):
    """The ``error`` member of a response."""

    code: int
    message: str
    data: Any = msgspec.UNSET


class Request(msgspec.Struct, kw_only=True):
    """A client-to-server request (with ``id``) or notification (``id`` left ``UNSET``)."""

    jsonrpc: str = JSONRPC
    method: str
    params: dict[str, Any] | list[Any] | msgspec.UnsetType = msgspec.UNSET
    id: RequestId | msgspec.UnsetType = msgspec.UNSET

    @property
    def is_notification(self) -> bool:
        """Whether no response is expected."""
        return self.id is msgspec.UNSET

    @property
    def reply_id(self) -> RequestId:
        """The id a reply carries (``None`` for a notification, which gets no reply)."""
        return None if isinstance(self.id, msgspec.UnsetType) else self.id


class Response(msgspec.Struct, kw_only=True):
    """A server-to-client response: exactly one of ``result`` and ``error`` is set.

    ``result`` may be :class:`msgspec.Raw` (already encoded JSON), which is how the server
    checks the encoded bytes before sending them.
    """

    jsonrpc: str = JSONRPC
    id: RequestId
    result: Any = msgspec.UNSET
    error: ErrorObject | msgspec.UnsetType = msgspec.UNSET


class Notification(msgspec.Struct, kw_only=True):
    """A server-to-client event, ``method`` = ``notify.<event>``, ``params`` = the payload."""

    jsonrpc: str = JSONRPC
    method: str
    params: Any


class Incoming(msgspec.Struct):
    """Anything the server sends, as the client reads it (a response or a notification).

    ``result`` and ``params`` stay raw JSON so that they are decoded once, into the type the
    caller asked for.
    """

    jsonrpc: str = JSONRPC
    id: RequestId | msgspec.UnsetType = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: ErrorObject | msgspec.UnsetType = msgspec.UNSET
    method: str | msgspec.UnsetType = msgspec.UNSET
    params: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode(message: Request | Response | Notification | list[Response]) -> bytes:
    """Encode a message (or a batch of responses) as JSON."""
    return _encoder.encode(message)


def error_response(
    id: RequestId,  # noqa: A002 - the JSON-RPC member's name
    code: ErrorCode,
    message: str | None = None,
    data: Any = None,
) -> Response:
    """A response carrying an error (``message`` defaults to the code's standard message)."""
    return Response(id=id, error=ControlError(code, message, data).to_object())


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One incoming frame, parsed.

    Attributes:
        items: For each message, in order: a :class:`Request` to dispatch, or the error
            :class:`Response` it gets without dispatch (a malformed message).
        batch: Whether the frame was an array: the replies then go back as one array.
    """

    items: list[Request | Response]
    batch: bool


def parse_frame(data: str | bytes) -> Frame:
    """Parse one websocket frame into requests and the errors for malformed messages.

    Never raises: broken JSON is a parse error, a wrong shape an invalid-request error (with the
    message's ``id`` when that much could be read), an empty or oversized batch one error.

    Args:
        data: The frame's payload (``bytes`` for a binary frame, which is refused).
    """
    if isinstance(data, bytes):
        return _single(
            error_response(None, ErrorCode.PARSE_ERROR, "binary frames are not accepted: send text")
        )
    try:
        value = _decoder.decode(data)
    except msgspec.DecodeError:
        return _single(error_response(None, ErrorCode.PARSE_ERROR, "parse error: invalid JSON"))
    except RecursionError:  # msgspec's guard against deeply nested arrays/objects
        return _single(error_response(None, ErrorCode.PARSE_ERROR, "parse error: nested too deep"))
    except UnicodeError:  # a str holding lone surrogates (wsproto never delivers one)
        return _single(error_response(None, ErrorCode.PARSE_ERROR, "parse error: invalid text"))
    if isinstance(value, list):
        if not value:
            return _single(error_response(None, ErrorCode.INVALID_REQUEST, "empty batch"))
        if len(value) > MAX_BATCH:
            return _single(
                error_response(
                    None,
                    ErrorCode.INVALID_REQUEST,
                    f"batch of {len(value)} messages; at most {MAX_BATCH} are accepted",
                )
            )
        return Frame(items=[_message(item) for item in value], batch=True)
    return _single(_message(value))


def _single(item: Request | Response) -> Frame:
    return Frame(items=[item], batch=False)


def _message(value: Any) -> Request | Response:
    """Validate one decoded JSON value as a request; an error response if it is not one."""
    if not isinstance(value, dict):
        return _invalid(None, f"expected a JSON-RPC object, got {_json_type(value)}")
    raw_id = value.get("id", msgspec.UNSET)
    id_ok = raw_id is None or isinstance(raw_id, str) or _is_int(raw_id)
    if raw_id is not msgspec.UNSET and not id_ok:
        return _invalid(None, f"id must be a string, an integer or null, not {_json_type(raw_id)}")
    # From here on the reply can carry the sender's id (null for a notification gone wrong).
    reply_id: RequestId = None if raw_id is msgspec.UNSET else raw_id
    unknown = sorted(str(key) for key in value if key not in _MEMBERS)
    if unknown:
        return _invalid(reply_id, f"unexpected member {echo(unknown[0])!r}")
    if value.get("jsonrpc") != JSONRPC:
        return _invalid(reply_id, 'jsonrpc must be "2.0"')
    method = value.get("method")
    if not isinstance(method, str) or not method:
        return _invalid(reply_id, "method must be a non-empty string")
    params = value.get("params", msgspec.UNSET)
    if params is not msgspec.UNSET and not isinstance(params, dict | list):
        return _invalid(reply_id, "params must be an object or an array")
    return Request(method=method, params=params, id=raw_id)


def _invalid(id: RequestId, message: str) -> Response:  # noqa: A002
    return error_response(id, ErrorCode.INVALID_REQUEST, f"invalid request: {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def echo(name: str) -> str:
    """Shorten a client-chosen name (method, event) before echoing it in an error message."""
    return name if len(name) <= _ECHO_LIMIT else name[:_ECHO_LIMIT] + "…"

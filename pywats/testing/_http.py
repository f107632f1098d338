"""Plain request/response values and a case-insensitive router for the emulator.

The emulator's logic is sans-IO: :meth:`FakeWATS.handle` maps a :class:`Request` to a
:class:`Response`. The httpx transports and the ASGI application only translate to and from these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep

__all__ = [
    "MAX_BODY",
    "READ_TIMEOUT",
    "HTTPFailure",
    "Request",
    "Response",
    "Router",
    "decode_json",
    "error",
    "json_response",
]

MAX_BODY = 30_000_000
"""The default request body limit in bytes: IIS's default ``maxAllowedContentLength``."""

READ_TIMEOUT = 10.0
"""The default seconds a TCP client has to send a request's headers, and then its body."""

_encoder = msgspec.json.Encoder()
_T = TypeVar("_T")


@dataclass(slots=True)
class Request:
    """An HTTP request as the emulator sees it; header names are lower case."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: str | None = None  # who the Authorization header identified (set by the emulator)

    def param(self, name: str) -> str | None:
        """The first query value of ``name``, compared case-insensitively (as ASP.NET does)."""
        wanted = name.lower()
        for key, value in self.query:
            if key.lower() == wanted:
                return value
        return None

    def params(self, name: str) -> list[str]:
        """Every query value of ``name`` (case-insensitive)."""
        wanted = name.lower()
        return [value for key, value in self.query if key.lower() == wanted]

    def params_dict(self) -> dict[str, str]:
        """The query as a dict (last value wins), keys as sent."""
        return dict(self.query)


@dataclass(slots=True)
class Response:
    """An HTTP answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def header_list(self) -> list[tuple[str, str]]:
        """All headers, ``Content-Type`` and ``Content-Length`` included."""
        out = [("content-type", self.content_type), ("content-length", str(len(self.body)))]
        out.extend((k.lower(), v) for k, v in self.headers.items())
        return out


class HTTPFailure(Exception):
    """Raised inside a handler to answer with an error status and ``{"Message": …}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON answer (msgspec-encodable value)."""
    return Response(status=status, body=_encoder.encode(value))


def error(status: int, message: str) -> Response:
    """An ASP.NET-style error answer: ``{"Message": "…"}``."""
    return json_response({"Message": message}, status)


def decode_json(body: bytes, type: type[_T], prefix: str = "The request is invalid.") -> _T:  # noqa: A002
    """Decode a JSON request body as ``type``, or answer 400.

    The nesting is measured first: msgspec recurses once per nested array or object, and a
    body of ``[[[[…`` would otherwise end in RecursionError (a 500).

    Raises:
        HTTPFailure: 400 with ``prefix`` and what is wrong (too deep, not JSON, not UTF-8, a
            member of the wrong type, naming it).
    """
    depth = json_too_deep(body, MAX_JSON_NESTING)
    if depth is not None:
        raise HTTPFailure(
            400,
            f"{prefix} The JSON nests arrays and objects {depth} levels deep; "
            f"at most {MAX_JSON_NESTING} are allowed.",
        )
    try:
        return msgspec.json.decode(body, type=type)
    except msgspec.DecodeError as exc:
        raise HTTPFailure(400, f"{prefix} {exc}") from exc


Handler = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class Route:
    """One route: method, path pattern (``{name}`` segments) and handler."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Routes matched case-insensitively on method and path, as ASP.NET Web API does."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and ``template`` (e.g. ``/api/Report/Wsjf/{id}``)."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.routes.append(
            Route(method.upper(), template, re.compile(f"^{regex}/?$", re.IGNORECASE), handler)
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and path parameters for a request.

        Raises:
            HTTPFailure: 404 for an unknown path, 405 for a known path with another method
                (with ASP.NET's wording).
        """
        other_method = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method.upper():
                return route, found.groupdict()
            other_method = True
        if other_method:
            raise HTTPFailure(
                405, f"The requested resource does not support http method '{method.upper()}'."
            )
        raise HTTPFailure(404, f"No HTTP resource was found that matches the request URI '{path}'.")

"""Sans-IO requests: a :class:`Call` describes one HTTP exchange, a :data:`Flow` several.

Domain code builds calls and flows; it never touches a socket. ``pyWATS`` runs them with a
blocking ``httpx.Client`` and ``AsyncWATS`` awaits them with ``httpx.AsyncClient``, so every
operation is written once (the pattern of httpx's ``Auth.auth_flow``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from pywats._errors import PyWATSError
from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep

if TYPE_CHECKING:  # loaded by the first upload, not by ``import pywats``
    from pywats._body import Sink, StreamBody

__all__ = [
    "Call",
    "Flow",
    "Operation",
    "UnexpectedResponseError",
    "as_flow",
    "bytes_call",
    "download_call",
    "json_call",
    "query_value",
    "segment",
]

T = TypeVar("T")

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

QueryValue = str | int | float | bool | list[str]


class UnexpectedResponseError(PyWATSError):
    """A successful answer whose body is not what the operation expects."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: {message}")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One HTTP request and how to turn its successful answer into a ``T``.

    Attributes:
        method: HTTP method, upper case.
        path: path below the server's base URL, starting with ``/api/``.
        parse: turns the 2xx response into the result (may raise
            :class:`UnexpectedResponseError`).
        params: query parameters; ``None`` values are left out; lists repeat the key.
        content: the request body: bytes, or a :class:`~pywats._body.StreamBody` sent in
            chunks from its files (uploads; read again from them on a retry).
        content_type: ``Content-Type`` of ``content``.
        idempotent: safe to send again after a failure. GET/PUT/DELETE are; so is a report
            submit (the server overwrites a report re-posted with the same id).
        internal: an ``/api/internal`` endpoint (sends ``Referer`` as the server expects).
        sink: where a successful answer's body goes, in chunks, instead of memory (downloads
            with ``to=``); ``parse`` then sees a response whose body was written there.
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, QueryValue | None] | None = None
    content: bytes | StreamBody | None = None
    content_type: str | None = None
    idempotent: bool | None = None
    internal: bool = False
    accept: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    sink: Sink | None = None

    @property
    def retry_safe(self) -> bool:
        """Whether the call may be repeated after a failure."""
        if self.sink is not None and not self.sink.retry_safe:
            return False  # a pipe cannot be written again from its start
        if self.idempotent is not None:
            return self.idempotent
        return self.method in _IDEMPOTENT

    def query(self) -> list[tuple[str, str]]:
        """The query parameters as ordered string pairs."""
        out: list[tuple[str, str]] = []
        for key, value in (self.params or {}).items():
            if value is None:
                continue
            if isinstance(value, list):
                out.extend((key, item) for item in value)
            else:
                out.append((key, query_value(value)))
        return out


Flow = Generator[Call[Any], Any, T]
"""An operation made of several calls: yields calls, receives each result, returns ``T``."""

Operation = Call[T] | Flow[T]


def as_flow(op: Call[T] | Flow[T]) -> Flow[T]:
    """Return ``op`` as a flow (a single call becomes a one-step flow)."""
    if isinstance(op, Call):
        return _single(op)
    return op


def _single(call: Call[T]) -> Flow[T]:
    result: T = yield call
    return result


def segment(value: object) -> str:
    """One URL path segment: ``/``, ``?``, ``#`` and the rest escaped, so an id stays an id."""
    return quote(str(value), safe="")


def query_value(value: str | int | float | bool) -> str:
    """Render one query value the way ASP.NET expects (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_json = msgspec.json.Encoder()
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(result: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per result type, built once (building one costs more than a small decode)."""
    try:
        return _decoders[result]
    except KeyError:
        decoder = _decoders[result] = msgspec.json.Decoder(result)
        return decoder
    except TypeError:  # an unhashable type expression: do not cache
        return msgspec.json.Decoder(result)


def json_call(
    method: str,
    path: str,
    result: type[T] | Any,
    *,
    params: Mapping[str, QueryValue | None] | None = None,
    body: Any = msgspec.UNSET,
    raw_body: bytes | None = None,
    idempotent: bool | None = None,
    internal: bool = False,
    empty: T | None = None,
) -> Call[T]:
    """A call with a JSON answer decoded as ``result`` (a type msgspec can decode).

    Args:
        body: a value to send as JSON (msgspec-encodable), or ``raw_body`` for ready JSON bytes.
        empty: the value to return for an empty answer body; without it an empty body is an
            :class:`UnexpectedResponseError`.
    """
    decoder: msgspec.json.Decoder[T] = _decoder(result)

    def parse(response: httpx.Response) -> T:
        data = response.content
        if not data.strip():
            if empty is not None:
                return empty
            raise UnexpectedResponseError(
                "empty answer", method=method, url=str(response.request.url)
            )
        # A hostile or broken server must not crash the caller with a RecursionError: the
        # nesting is measured first, without recursion (pywats.formats._nesting).
        depth = json_too_deep(data, MAX_JSON_NESTING)
        if depth is not None:
            raise UnexpectedResponseError(
                f"answer nests {depth} levels deep; at most {MAX_JSON_NESTING} are accepted",
                method=method,
                url=str(response.request.url),
            )
        try:
            return decoder.decode(data)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise UnexpectedResponseError(
                f"answer does not match the expected shape: {exc}",
                method=method,
                url=str(response.request.url),
            ) from exc

    content = raw_body
    if body is not msgspec.UNSET:
        content = _json.encode(body)
    return Call(
        method=method,
        path=path,
        parse=parse,
        params=params,
        content=content,
        content_type="application/json" if content is not None else None,
        idempotent=idempotent,
        internal=internal,
    )


def _raw(response: httpx.Response) -> bytes:
    return response.content


def download_call(
    method: str,
    path: str,
    to: Any,
    *,
    params: Mapping[str, QueryValue | None] | None = None,
    accept: str = "*/*",
    what: str = "the download",
) -> Call[int]:
    """A call whose answer's body is written to ``to`` (a path or a binary file object) in
    chunks, never held in memory; its result is the number of bytes written.

    Raises:
        InvalidArgumentError: ``to`` is neither a path nor a writable binary file object.
    """
    from pywats._body import Sink

    sink = Sink(to, what)

    def written(_response: httpx.Response) -> int:
        return sink.written

    return Call(method=method, path=path, parse=written, params=params, accept=accept, sink=sink)


def bytes_call(
    method: str,
    path: str,
    *,
    params: Mapping[str, QueryValue | None] | None = None,
    accept: str = "*/*",
) -> Call[bytes]:
    """A call whose answer is returned as raw bytes (attachments, XML, certificates)."""
    return Call(method=method, path=path, parse=_raw, params=params, accept=accept)

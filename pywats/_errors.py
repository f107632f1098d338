"""The exceptions pywats raises.

::

    PyWATSError
    ├── ReportFormatError          a WSJF/WSXF document could not be read
    ├── BomFormatError             a WSBF (BOM) document could not be read or written
    ├── ReportInvalidError         report.validate() found problems; nothing was sent
    ├── InvalidArgumentError       an operation's argument cannot be sent; nothing was sent
    ├── TransportError             no HTTP answer
    │   ├── ConnectionError        connect failed / connection dropped (a builtins.ConnectionError)
    │   └── TimeoutError           no answer in time (also builtins.TimeoutError)
    └── HTTPError                  the server answered with a status >= 400
        ├── ValidationError        400
        ├── AuthenticationError    401
        ├── AuthorizationError     403
        ├── NotFoundError          404
        ├── ConflictError          409
        ├── RateLimitedError       429 (retry_after in seconds, when the server sent one)
        └── ServerError            5xx

Every :class:`HTTPError` carries ``status``, ``method``, ``url`` and the server's ``message``
(taken from a JSON body's ``Message``/``message``/``error``/``detail``/``title``, or the plain
text body). Errors after retries also carry ``attempts``, and their text says how many were made
and why the client gave up; a 429's text says the server's ``Retry-After``.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

import msgspec

from pywats.formats._nesting import MAX_JSON_NESTING, json_too_deep

if TYPE_CHECKING:
    from pywats.validation import Problem

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BomFormatError",
    "ConflictError",
    "ConnectionError",
    "HTTPError",
    "InvalidArgumentError",
    "NotFoundError",
    "PyWATSError",
    "RateLimitedError",
    "ReportFormatError",
    "ReportInvalidError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "error_for_status",
    "server_message",
]


class PyWATSError(Exception):
    """Base of every pywats exception."""


class ReportFormatError(PyWATSError, ValueError):
    """A report document (WSJF JSON or WSXF XML) could not be decoded."""


class BomFormatError(PyWATSError, ValueError):
    """A WSBF (bill of materials) document could not be read or written; the message says why."""


class ReportInvalidError(PyWATSError, ValueError):
    """A report failed validation before it was sent; ``problems`` lists why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"report is invalid ({len(problems)} problems):\n{lines}{more}")


class InvalidArgumentError(PyWATSError, ValueError, TypeError):
    """An operation was given an argument it cannot send (wrong type, malformed, too large).

    Raised before anything is sent. A ``ValueError`` and a ``TypeError`` too, so code written
    against either keeps working.
    """


def _details(*parts: str | None) -> str:
    """`` (a; b)`` from the parts given, or nothing."""
    shown = [part for part in parts if part]
    return f" ({'; '.join(shown)})" if shown else ""


def _attempts(attempts: int, gave_up: str | None) -> str | None:
    """How many attempts were made and why the retrying stopped, if there is anything to say."""
    if attempts <= 1:
        return gave_up
    if gave_up is None:
        return f"after {attempts} attempts"
    return f"gave up after {attempts} attempts, {gave_up}"


class TransportError(PyWATSError):
    """No HTTP answer was received.

    ``attempts`` is how many times the request was tried; ``gave_up`` why the client stopped
    (the retry policy's reason), when it stopped a retry.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        attempts: int = 1,
        gave_up: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        self.gave_up = gave_up
        super().__init__(f"{method} {url}: {message}{_details(_attempts(attempts, gave_up))}")


class ConnectionError(TransportError, builtins.ConnectionError):  # noqa: A001
    """Connecting failed or the connection dropped before a full answer."""


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001
    """The server did not answer in time."""


class HTTPError(PyWATSError):
    """The server answered with an error status.

    ``message`` is the server's own text; ``attempts`` how many times the request was sent, and
    ``gave_up`` why the client stopped retrying, when it did.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        method: str,
        url: str,
        body: bytes = b"",
        attempts: int = 1,
        gave_up: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.body = body
        self.attempts = attempts
        self.gave_up = gave_up
        details = _details(*self._notes(), _attempts(attempts, gave_up))
        super().__init__(f"{method} {url} -> {status}: {message}{details}")

    def _notes(self) -> list[str]:
        """What a subclass adds to the text, before the attempts."""
        return []


class ValidationError(HTTPError):
    """400: the server rejected the request's content (for a report: the reasons, one per line)."""


class AuthenticationError(HTTPError):
    """401: missing or wrong token."""


class AuthorizationError(HTTPError):
    """403: the token is valid but lacks a permission."""


class NotFoundError(HTTPError):
    """404: no such route or resource."""


class ConflictError(HTTPError):
    """409: the request conflicts with the server's state."""


class RateLimitedError(HTTPError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if it sent one."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        method: str,
        url: str,
        body: bytes = b"",
        retry_after: float | None = None,
        attempts: int = 1,
        gave_up: str | None = None,
    ) -> None:
        self.retry_after = retry_after  # before the text is made: it names the wait
        super().__init__(
            status, message, method=method, url=url, body=body, attempts=attempts, gave_up=gave_up
        )

    def _notes(self) -> list[str]:
        if self.retry_after is None:
            return ["no Retry-After"]
        return [f"Retry-After: {self.retry_after:g} s"]


class ServerError(HTTPError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[HTTPError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}

_MESSAGE_KEYS = ("Message", "message", "error", "detail", "title", "ExceptionMessage")


def server_message(status: int, body: bytes) -> str:
    """Extract the server's message from an error body (JSON object or string, or plain text)."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return f"HTTP {status}"
    if json_too_deep(body, MAX_JSON_NESTING) is not None:
        return text[:1000]  # not a message a server writes; never recurse into it
    try:
        parsed = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return text
    if isinstance(parsed, str):
        return parsed.strip() or f"HTTP {status}"
    if isinstance(parsed, dict):
        for key in _MESSAGE_KEYS:
            value = parsed.get(key)
            if isinstance(value, str) and value:
                detail = parsed.get("MessageDetail")
                return f"{value} {detail}" if isinstance(detail, str) and detail else value
            if isinstance(value, dict):
                inner = value.get("message") or value.get("Message")
                if isinstance(inner, str):
                    return inner
    return text


def error_for_status(
    status: int,
    body: bytes,
    *,
    method: str,
    url: str,
    retry_after: float | None = None,
    attempts: int = 1,
    gave_up: str | None = None,
) -> HTTPError:
    """Build the typed error for an HTTP error answer (sent ``attempts`` times)."""
    message = server_message(status, body)
    if status == 429:
        return RateLimitedError(
            status,
            message,
            method=method,
            url=url,
            body=body,
            retry_after=retry_after,
            attempts=attempts,
            gave_up=gave_up,
        )
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else HTTPError)
    return cls(
        status, message, method=method, url=url, body=body, attempts=attempts, gave_up=gave_up
    )

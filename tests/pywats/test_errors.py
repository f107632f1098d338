"""The exception hierarchy, the server-message extraction and the status → exception mapping."""

from __future__ import annotations

import builtins

import pytest

import pywats
from pywats._errors import error_for_status, server_message
from pywats.validation import Problem

# --- server_message ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"Message": "Authorization has been denied for this request."}',
            "Authorization has been denied for this request.",
        ),
        (b'{"message": "lower-case key"}', "lower-case key"),
        (b'{"error": {"message": "nested lower"}}', "nested lower"),
        (b'{"error": {"Message": "nested upper"}}', "nested upper"),
        (b'{"error": "plain error"}', "plain error"),
        (b'{"detail": "problem detail"}', "problem detail"),
        (
            b'{"title": "One or more validation errors occurred."}',
            "One or more validation errors occurred.",
        ),
        (b'{"ExceptionMessage": "NullReferenceException"}', "NullReferenceException"),
        (
            b'{"Message": "An error has occurred.", "MessageDetail": "No type was found."}',
            "An error has occurred. No type was found.",
        ),
        (
            b'{"Message": "The request is invalid.", "ModelState": {"x": ["bad"]}}',
            "The request is invalid.",
        ),
        (b'{"Message": "", "message": "second choice"}', "second choice"),
        (b'"a JSON string"', "a JSON string"),
        (b"plain text from IIS", "plain text from IIS"),
        (b"  padded text \r\n", "padded text"),
        (b"line 1.\r\nline 2.", "line 1.\r\nline 2."),
        (b"<html><body>Bad Gateway</body></html>", "<html><body>Bad Gateway</body></html>"),
        (b'{"unrelated": 1}', '{"unrelated": 1}'),
        (b"[1, 2]", "[1, 2]"),
        (b"", "HTTP 418"),
        (b"   \r\n", "HTTP 418"),
        ("Überlauf".encode(), "Überlauf"),
        (b"\xff\xfe broken utf-8", "\ufffd\ufffd broken utf-8"),
    ],
)
def test_server_message(body: bytes, message: str) -> None:
    assert server_message(418, body) == message


def test_server_message_names_the_status_when_empty() -> None:
    assert server_message(503, b"") == "HTTP 503"
    assert server_message(404, b"") == "HTTP 404"


# --- error_for_status -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, pywats.ValidationError),
        (401, pywats.AuthenticationError),
        (403, pywats.AuthorizationError),
        (404, pywats.NotFoundError),
        (409, pywats.ConflictError),
        (429, pywats.RateLimitedError),
        (500, pywats.ServerError),
        (501, pywats.ServerError),
        (502, pywats.ServerError),
        (503, pywats.ServerError),
        (504, pywats.ServerError),
        (599, pywats.ServerError),
        (405, pywats.HTTPError),
        (408, pywats.HTTPError),
        (418, pywats.HTTPError),
        (422, pywats.HTTPError),
    ],
)
def test_error_for_status(status: int, cls: type[pywats.HTTPError]) -> None:
    body = b'{"Message": "nope"}'
    error = error_for_status(status, body, method="PUT", url="https://h/api/x?y=1")
    assert type(error) is cls
    assert isinstance(error, pywats.HTTPError)
    assert isinstance(error, pywats.PyWATSError)
    assert error.status == status
    assert error.message == "nope"
    assert error.method == "PUT"
    assert error.url == "https://h/api/x?y=1"
    assert error.body == body
    suffix = " (no Retry-After)" if status == 429 else ""
    assert str(error) == f"PUT https://h/api/x?y=1 -> {status}: nope{suffix}"


def test_rate_limited_error_keeps_retry_after() -> None:
    error = error_for_status(429, b"slow down", method="GET", url="u", retry_after=2.5)
    assert isinstance(error, pywats.RateLimitedError)
    assert error.retry_after == 2.5
    assert error.message == "slow down"
    plain = error_for_status(429, b"", method="GET", url="u")
    assert isinstance(plain, pywats.RateLimitedError)
    assert plain.retry_after is None
    assert plain.message == "HTTP 429"


def test_a_429_says_its_retry_after() -> None:
    error = error_for_status(429, b"slow down", method="GET", url="u", retry_after=2.5)
    assert str(error) == "GET u -> 429: slow down (Retry-After: 2.5 s)"
    plain = error_for_status(429, b"", method="GET", url="u")
    assert str(plain) == "GET u -> 429: HTTP 429 (no Retry-After)"


@pytest.mark.parametrize(
    ("attempts", "gave_up", "text"),
    [
        (1, None, "GET u -> 503: busy"),
        (2, None, "GET u -> 503: busy (after 2 attempts)"),
        (
            4,
            "all that RetryPolicy.max_attempts allows",
            "GET u -> 503: busy (gave up after 4 attempts, all that RetryPolicy.max_attempts "
            "allows)",
        ),
    ],
)
def test_an_error_after_retries_says_how_many_attempts(
    attempts: int, gave_up: str | None, text: str
) -> None:
    error = error_for_status(
        503, b"busy", method="GET", url="u", attempts=attempts, gave_up=gave_up
    )
    assert str(error) == text
    assert error.attempts == attempts
    assert error.message == "busy"  # the server's words stay apart
    conn = pywats.ConnectionError("refused", method="GET", url="u", attempts=attempts)
    assert conn.attempts == attempts
    assert ("attempts" in str(conn)) is (attempts > 1)


def test_retry_after_is_only_on_rate_limited_errors() -> None:
    error = error_for_status(503, b"", method="GET", url="u", retry_after=2.5)
    assert type(error) is pywats.ServerError
    assert not hasattr(error, "retry_after")


# --- the hierarchy ------------------------------------------------------------------------------


def test_transport_errors_are_builtin_errors_too() -> None:
    conn = pywats.ConnectionError("refused", method="GET", url="https://h/api/x")
    assert isinstance(conn, builtins.ConnectionError)
    assert isinstance(conn, OSError)
    assert isinstance(conn, pywats.TransportError)
    assert isinstance(conn, pywats.PyWATSError)
    assert str(conn) == "GET https://h/api/x: refused"
    assert (conn.method, conn.url) == ("GET", "https://h/api/x")

    timeout = pywats.TimeoutError("timed out", method="POST", url="https://h/api/y")
    assert isinstance(timeout, builtins.TimeoutError)
    assert isinstance(timeout, pywats.TransportError)
    assert not isinstance(timeout, pywats.ConnectionError)
    assert str(timeout) == "POST https://h/api/y: timed out"


def test_http_errors_are_not_transport_errors() -> None:
    for cls in (
        pywats.ValidationError,
        pywats.AuthenticationError,
        pywats.AuthorizationError,
        pywats.NotFoundError,
        pywats.ConflictError,
        pywats.RateLimitedError,
        pywats.ServerError,
    ):
        assert issubclass(cls, pywats.HTTPError)
        assert not issubclass(cls, pywats.TransportError)
        assert not issubclass(cls, OSError)


def test_report_errors_are_value_errors() -> None:
    assert issubclass(pywats.ReportFormatError, ValueError)
    assert issubclass(pywats.ReportFormatError, pywats.PyWATSError)
    assert issubclass(pywats.ReportInvalidError, ValueError)
    assert issubclass(pywats.ReportInvalidError, pywats.PyWATSError)


def test_report_invalid_error_lists_at_most_twenty_problems() -> None:
    problems = [Problem("required", f"field{i}", "is required") for i in range(23)]
    error = pywats.ReportInvalidError(problems)
    assert error.problems == problems
    lines = str(error).split("\n")
    assert lines[0] == "report is invalid (23 problems):"
    assert lines[1] == "field0: is required"
    assert lines[20] == "field19: is required"
    assert lines[21] == "… and 3 more"
    assert len(lines) == 22


def test_report_invalid_error_with_few_problems() -> None:
    problems = [Problem("length", "root -> step V -> numericMeas", "too long")]
    assert str(pywats.ReportInvalidError(problems)) == (
        "report is invalid (1 problems):\nroot -> step V -> numericMeas : too long"
    )

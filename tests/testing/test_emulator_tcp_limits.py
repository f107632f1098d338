"""The emulator over TCP against malformed, slow and oversized requests (issue 10).

One server per module, started with a short read timeout. Raw sockets play the hostile clients
(httpx cannot send a short body or trickle one); an httpx client plays the normal one. Socket
timeouts below only stop a test from hanging on a broken server: nothing asserts how long an
answer took.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from pywats.formats import wsjf
from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from tests.testing.conftest import TOKEN, make_uut

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 3.0
MAX_BODY = 100_000
HANG_GUARD = 60.0  # far beyond READ_TIMEOUT: reached only when the server never answers
HEAD = (
    "POST /api/Report/WSJF HTTP/1.1\r\nHost: emulator\r\nAuthorization: Basic {token}\r\n"
    "Content-Type: application/json\r\n{length}\r\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorProcess]:
    emulator = start_emulator(read_timeout=READ_TIMEOUT, max_body=MAX_BODY)
    try:
        yield emulator
    finally:
        emulator.stop()


def connect(server: EmulatorProcess) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=HANG_GUARD)
    return sock


def head(length: str) -> bytes:
    return HEAD.format(token=TOKEN, length=length).encode()


def answered(sock: socket.socket) -> bool:
    """Whether the server has sent anything (or closed) yet, without waiting."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def read_to_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    # A server closing with unread request bytes resets the connection; what it sent before
    # is still read first.
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def normal_client(server: EmulatorProcess) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Basic {TOKEN}"}, timeout=HANG_GUARD
    )


def test_deeply_nested_json_over_tcp_is_a_400_not_a_500(server: EmulatorProcess) -> None:
    body = b'{"type":"T","root":' + b'{"steps":[' * 5_000 + b"{}" + b"]}" * 5_000 + b"}"
    with normal_client(server) as http:
        response = http.post("/api/Report/WSJF", content=body)

    assert response.status_code == 400
    assert "at most 256" in response.json()["Message"]


def test_a_short_body_is_a_408_while_another_client_is_served(server: EmulatorProcess) -> None:
    with connect(server) as stuck, normal_client(server) as http:
        stuck.sendall(head("Content-Length: 100\r\n") + b'{"type":')
        # The stuck request holds nothing up: a normal submit is served meanwhile.
        accepted = http.post("/api/Report/WSJF", content=wsjf.dumps(make_uut()))
        assert accepted.status_code == 200
        assert not answered(stuck)

        answer = read_to_close(stuck)

    assert status_of(answer) == 408
    assert b"connection: close" in answer.lower()
    assert b"read timeout of 3 seconds (8 bytes received of the 100 announced)" in answer


def test_headers_and_then_nothing_is_a_408(server: EmulatorProcess) -> None:
    with connect(server) as stuck:
        stuck.sendall(head("Content-Length: 10\r\n"))

        assert status_of(read_to_close(stuck)) == 408


def test_a_trickled_body_is_a_408_before_it_is_complete(server: EmulatorProcess) -> None:
    # One byte every half second keeps every single read quick; the whole body is what counts.
    with connect(server) as slow:
        slow.sendall(head("Content-Length: 1000\r\n"))
        sent = 0
        while not answered(slow) and sent < 1_000:
            slow.sendall(b" ")
            sent += 1
            select.select([slow], [], [], 0.5)

        answer = read_to_close(slow)

    assert status_of(answer) == 408
    assert sent < 1_000


def test_a_declared_body_over_the_limit_is_a_413_before_it_is_sent(
    server: EmulatorProcess,
) -> None:
    with connect(server) as big:
        big.sendall(head(f"Content-Length: {MAX_BODY + 1}\r\n"))

        answer = read_to_close(big)

    assert status_of(answer) == 413
    assert b"the limit is 100,000 bytes" in answer


def test_a_chunked_body_over_the_limit_is_a_413(server: EmulatorProcess) -> None:
    chunk = b"%x\r\n%s\r\n" % (50_000, b" " * 50_000)
    with connect(server) as big:
        big.sendall(head("Transfer-Encoding: chunked\r\n") + chunk * 2)
        with contextlib.suppress(OSError):  # the server may already have answered and closed
            big.sendall(chunk + b"0\r\n\r\n")
        answer = read_to_close(big)

    assert status_of(answer) == 413


def test_a_silent_connection_is_closed(server: EmulatorProcess) -> None:
    with connect(server) as silent:
        assert read_to_close(silent) == b""


def test_a_latency_fault_longer_than_the_read_timeout_is_still_answered(
    server: EmulatorProcess,
) -> None:
    # The read timeout is for the client's request; the server may take its time to answer.
    with server.admin() as admin:
        admin.post(
            "/_emulator/faults",
            json={"kind": "latency", "seconds": READ_TIMEOUT + 1, "count": 1, "match": "Version"},
        ).raise_for_status()
    with normal_client(server) as http:
        response = http.get("/api/App/Version")
    with server.admin() as admin:
        left = admin.get("/_emulator/faults").json()

    assert response.status_code == 200
    assert left == []  # the fault was used up by this request


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /api/Report/WSJF HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /api/Report/WSJF HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /api/Report/WSJF HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Content-Length: 6\r\n\r\n",
        b"POST /api/Report/WSJF HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GARBAGE\r\n\r\n",
        bytes(range(256)) + b"\r\n\r\n",
        b"GET /api/Report/Wsjf/\xc3\xa9%ff%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/Report/Query/Header?%ff=%fe&$top=%ff HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Basic test-token\r\nConnection: close\r\n\r\n",
        b"GET /api/App/Version HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \xff\xfe==\r\n"
        b"Connection: close\r\n\r\n",
    ],
    ids=[
        "content-length-text",
        "content-length-negative",
        "content-length-twice",
        "bad-chunk",
        "garbage-request-line",
        "binary",
        "non-ascii-path",
        "undecodable-query",
        "undecodable-authorization",
    ],
)
def test_malformed_http_is_a_4xx(server: EmulatorProcess, request_bytes: bytes) -> None:
    with connect(server) as client:
        client.sendall(request_bytes)

        assert 400 <= status_of(read_to_close(client)) < 500

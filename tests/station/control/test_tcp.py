"""The server over real TCP on loopback: handshake auth, origins, limits, binding rules."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pywats_station.control import (
    ControlConnectionError,
    ControlError,
    ErrorCode,
    open_control_client,
    serve_control,
)
from pywats_station.control.hub import ControlHub

from .helpers import SECRET, TOKEN, make_registry

pytestmark = pytest.mark.trio


@asynccontextmanager
async def tcp_server(**options: Any) -> AsyncIterator[tuple[str, ControlHub]]:
    """``serve_control`` on a free loopback port; yields its URL and hub."""
    registry, _ = make_registry()
    hub = ControlHub(registry)
    options.setdefault("host", "127.0.0.1")
    async with trio.open_nursery() as nursery:
        port = await nursery.start(
            partial(serve_control, registry, port=0, token=TOKEN, hub=hub, **options)
        )
        try:
            yield f"ws://127.0.0.1:{port}", hub
        finally:
            nursery.cancel_scope.cancel()


async def handshake(url: str, *headers: tuple[str, str]) -> tuple[int, dict[str, str]]:
    """Send a websocket upgrade request by hand; the HTTP status and headers of the answer."""
    host, port = url.removeprefix("ws://").split(":")
    lines = [
        "GET / HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some()
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = dict(line.split(": ", 1) for line in head[1:])
    return status, {name.lower(): value for name, value in fields.items()}


async def test_token_in_the_handshake_authenticates() -> None:
    async with tcp_server() as (url, hub), open_control_client(url, token=TOKEN) as client:
        assert (await client.call("station.ping"))["authenticated"] is True
        assert (await client.call("queue.list"))["total"] == 1
        (connection,) = hub.connections()
        assert connection.authenticated
        assert connection.peer.startswith("127.0.0.1:")


async def test_no_token_connects_unauthenticated_and_can_log_in() -> None:
    async with tcp_server() as (url, _), open_control_client(url) as client:
        assert (await client.call("station.ping"))["authenticated"] is False
        with pytest.raises(ControlError) as error:
            await client.call("queue.list")
        assert error.value.code == ErrorCode.UNAUTHORIZED
        await client.call("auth.login", [TOKEN])
        assert (await client.call("queue.list"))["total"] == 1


async def test_wrong_token_in_the_handshake_is_refused_with_401() -> None:
    async with tcp_server() as (url, _):
        with pytest.raises(ControlError) as error:
            async with open_control_client(url, token=TOKEN + "x"):
                pytest.fail("connected with a wrong token")
        assert error.value.code == ErrorCode.UNAUTHORIZED
        assert TOKEN not in str(error.value)
        status, _ = await handshake(url, ("Authorization", "Basic eDp5"))
        assert status == 401
        status, _ = await handshake(url)
        assert status == 101


async def test_failed_handshakes_are_throttled_with_429_but_never_the_right_token() -> None:
    async with tcp_server() as (url, _):
        for _ in range(5):
            with pytest.raises(ControlError):
                async with open_control_client(url, token="not-the-token-at-all"):
                    pass
        status, headers = await handshake(url, ("Authorization", "Bearer still-not-the-token"))
        assert status == 429
        assert headers["retry-after"] == "2"
        with pytest.raises(ControlError) as error:
            async with open_control_client(url, token="not-the-token-either"):
                pass
        assert error.value.code == ErrorCode.RATE_LIMITED
        # The address is throttled, and the right token still gets in at once.
        status, _ = await handshake(url, ("Authorization", f"Bearer {TOKEN}"))
        assert status == 101
        async with open_control_client(url, token=TOKEN) as client:
            assert (await client.call("station.ping"))["role"] == "operator"


@pytest.mark.parametrize(
    ("allowed", "origin", "accepted"),
    [
        ((), "https://evil.example", False),
        ((), "null", False),
        ((), "http://127.0.0.1:8765", False),
        (("https://mes.example",), "https://mes.example", True),
        (("https://mes.example",), "HTTPS://MES.EXAMPLE/", True),
        (("https://mes.example/",), "https://mes.example", True),
        (("https://mes.example",), "https://mes.example:8443", False),
        (("https://mes.example",), "http://mes.example", False),
    ],
)
async def test_browser_origins_are_refused_unless_allowed(
    allowed: tuple[str, ...], origin: str, accepted: bool
) -> None:
    async with tcp_server(allowed_origins=allowed) as (url, _):
        headers = [("Origin", origin)]
        if accepted:
            async with open_control_client(url, token=TOKEN, headers=headers) as client:
                assert (await client.call("station.ping"))["authenticated"]
            return
        with pytest.raises(ControlError) as error:
            async with open_control_client(url, token=TOKEN, headers=headers):
                pytest.fail("connected from a forbidden origin")
        assert error.value.code == ErrorCode.FORBIDDEN_ORIGIN
        status, _ = await handshake(url, ("Origin", origin))
        assert status == 403


async def test_too_many_connections_are_refused_with_503() -> None:
    async with (
        tcp_server(max_connections=1) as (url, _),
        open_control_client(url, token=TOKEN) as first,
    ):
        await first.call("station.ping")
        with pytest.raises(ControlError) as error:
            async with open_control_client(url, token=TOKEN):
                pass
        assert error.value.code == ErrorCode.RATE_LIMITED
        status, _ = await handshake(url, ("Authorization", f"Bearer {TOKEN}"))
        assert status == 503
        # Without a token a client goes to the other pool: the full one does not matter.
        status, _ = await handshake(url)
        assert status == 101


async def test_handler_secrets_do_not_cross_the_wire() -> None:
    async with tcp_server(secrets=[SECRET]) as (url, _), open_control_client(url) as client:
        with pytest.raises(ControlError) as error:
            await client.call("test.reveal", {"token": TOKEN})
        assert error.value.code == ErrorCode.INTERNAL_ERROR
        assert SECRET not in str(error.value.data)


async def test_unreachable_server_is_a_connection_error() -> None:
    async with tcp_server() as (url, _):
        pass  # closed again: nothing listens on that port now
    with pytest.raises(ControlConnectionError, match="cannot connect"):
        async with open_control_client(url, token=TOKEN, connect_timeout=5):
            pass


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "station.example.com", ""])
async def test_non_loopback_without_tls_is_refused_before_binding(host: str) -> None:
    registry, _ = make_registry()
    with pytest.raises(ValueError, match="without TLS"):
        await serve_control(registry, host=host, port=0, token=TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
async def test_loopback_hosts_are_allowed(host: str) -> None:
    registry, _ = make_registry()
    async with trio.open_nursery() as nursery:
        try:
            port = await nursery.start(
                partial(serve_control, registry, host=host, port=0, token=TOKEN)
            )
        except OSError as exc:  # e.g. no IPv6 in this sandbox
            pytest.skip(f"cannot bind {host}: {exc}")
        assert port > 0
        nursery.cancel_scope.cancel()


async def test_remote_binding_needs_tls_or_an_explicit_allow_remote() -> None:
    registry, _ = make_registry()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    for options in ({"allow_remote": True}, {"ssl_context": tls}):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(
                partial(serve_control, registry, host="0.0.0.0", port=0, token=TOKEN, **options)
            )
            assert port > 0
            nursery.cancel_scope.cancel()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_tls_end_to_end(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    client_tls = ssl.create_default_context(cafile=str(cert_file))
    registry, _ = make_registry()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(
            partial(serve_control, registry, port=0, token=TOKEN, ssl_context=server_tls)
        )
        url = f"wss://127.0.0.1:{port}"
        async with open_control_client(url, token=TOKEN, ssl_context=client_tls) as client:
            assert (await client.call("station.ping"))["authenticated"] is True
        with pytest.raises(ControlConnectionError, match="certificate"):  # unknown CA
            async with open_control_client(url, token=TOKEN):
                pass
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "127.0.0.1:8765", "ws://"])
async def test_client_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match="ws://"):
        async with open_control_client(url):
            pass


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # HTTP, but no websocket upgrade
        b"garbage\r\n\r\n",
        b"\x16\x03\x01\x00\xa5" * 10,  # a TLS hello on a plain port
        b"",
    ],
)
async def test_garbage_and_resets_do_not_stop_the_server(garbage: bytes) -> None:
    async with tcp_server() as (url, _):
        host, port = url.removeprefix("ws://").split(":")
        for reset in (False, True):
            sock = trio.socket.socket()
            await sock.connect((host, int(port)))
            if reset:  # SO_LINGER 0: close with a RST, before the server can answer
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await sock.send(garbage)
            sock.close()
        async with open_control_client(url, token=TOKEN) as client:
            assert (await client.call("station.ping"))["pong"]

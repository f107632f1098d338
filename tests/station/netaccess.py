"""A factory network for tests: a private CA with a server certificate, and an HTTP proxy that
wants Basic credentials (CONNECT tunnels for https://, absolute-URI forwarding for http://)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class PrivateCA:
    """PEM files: the CA's certificate, and a certificate for 127.0.0.1/localhost it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_private_ca(folder: Path) -> PrivateCA:
    """Create a CA and a server certificate for ``127.0.0.1`` and ``localhost`` in ``folder``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyWATS test factory CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = PrivateCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class ProxyLog:
    """What the proxy saw: tunnels opened, requests forwarded, requests refused (407)."""

    tunnels: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    refused: int = 0


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 30)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)


class _Handler(socketserver.StreamRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)
        }
        if headers.get("proxy-authorization") != self.server.expected:
            self.server.log.refused += 1
            self.request.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="factory"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.server.log.tunnels.append(target)
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            with upstream:
                _pipe(self.request, upstream)
            return
        # Forwarding: an absolute URI. One request per connection (Connection: close).
        url = urlsplit(target)
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            rest += chunk
        path = url.path + (f"?{url.query}" if url.query else "")
        kept = [
            line
            for line in header_lines
            if line.partition(":")[0].strip().lower()
            not in ("proxy-authorization", "connection", "proxy-connection")
        ]
        upstream = socket.create_connection((url.hostname or "", url.port or 80))
        self.server.log.forwarded.append(f"{method} {target}")
        with upstream:
            message = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close"])
            upstream.sendall(message.encode("latin-1") + b"\r\n\r\n" + rest)
            while data := upstream.recv(65536):
                self.request.sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, user: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}"
        self.log = ProxyLog()


@dataclass(frozen=True)
class RunningProxy:
    """A proxy listening on 127.0.0.1; ``url`` has no credentials."""

    url: str
    log: ProxyLog


@contextmanager
def basic_auth_proxy(user: str, password: str) -> Iterator[RunningProxy]:
    """Run an HTTP proxy that admits only ``user``/``password`` (407 otherwise)."""
    server = _ProxyServer(user, password)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningProxy(f"http://127.0.0.1:{server.server_address[1]}", server.log)
    finally:
        server.shutdown()
        with suppress(OSError):
            server.server_close()
        thread.join(5)

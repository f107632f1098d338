"""The client's side of a connection before the websocket: the TCP or TLS stream, and its end.

Kept apart from :mod:`.client` (the protocol) because it is plumbing: opening the stream (and
reporting a certificate problem as such), and noticing a server that closes the connection
before answering the handshake, which trio-websocket alone only notices at its timeout.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import trio

from pywats_station.control.protocol import ControlError, ErrorCode

__all__ = ["ControlConnectionError", "EndWatch", "HandshakeClosed", "open_stream"]


class ControlConnectionError(ControlError):
    """Not connected: the connection failed, or closed before the reply (code -32000).

    Attributes:
        close_code: The websocket close code, when the server closed it (1008: too slow,
            1009: message too large).
        close_reason: The server's close reason.
    """

    def __init__(self, message: str, close_code: int | None = None, reason: str | None = None):
        data = {"close_code": close_code, "reason": reason} if close_code else None
        super().__init__(ErrorCode.CONNECTION_CLOSED, message, data)
        self.close_code = close_code
        self.close_reason = reason


class HandshakeClosed(ControlConnectionError):
    """The server closed the connection before answering the handshake (nothing was done)."""


async def open_stream(
    url: str, hostname: str, port: int, secure: bool, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    """A TCP (or TLS, ``secure``) stream to ``hostname:port``, for ``url``.

    The caller bounds the time it may take (``trio.fail_after``).

    Raises:
        ControlConnectionError: It cannot be opened (TLS failures say so, with the reason).
    """
    # The stream is opened (and always closed) by us rather than by trio-websocket's
    # open_websocket, which leaves the socket of a refused handshake open.
    try:
        if not secure:
            return await trio.open_tcp_stream(hostname, port)
        tls = await trio.open_ssl_over_tcp_stream(
            hostname,
            port,
            ssl_context=ssl_context or ssl.create_default_context(),
            https_compatible=True,
        )
        try:  # now, so that a certificate problem is reported as such, at once
            await tls.do_handshake()
        except trio.BrokenResourceError as exc:
            await trio.aclose_forcefully(tls)
            raise ControlConnectionError(f"TLS with {url} failed: {exc.__cause__ or exc}") from None
        return tls
    except OSError as exc:
        raise ControlConnectionError(f"cannot connect to {url}: {exc!r}") from None


class EndWatch(trio.abc.Stream):
    """A stream that calls ``on_end`` when the peer closes it (or it breaks)."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.on_end: Callable[[], object] | None = None

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            data = await self.stream.receive_some(max_bytes)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._ended()
            raise
        if not data:
            self._ended()
        return data

    def _ended(self) -> None:
        if self.on_end is not None:
            self.on_end()

    async def aclose(self) -> None:
        await self.stream.aclose()

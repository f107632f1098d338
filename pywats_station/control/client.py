"""The Python client of the control channel: :class:`Client` (trio) and :class:`BlockingClient`.

::

    async with open_control_client("ws://127.0.0.1:8765", token=token) as client:
        role = (await client.ping()).role      # "operator" or "admin": which token it was
        status = await client.call("station.status", result_type=StationStatus)
        async with client.subscribe(["report_uploaded"]) as events:
            async for event, payload in events:
                ...

    with BlockingClient("ws://127.0.0.1:8765", token) as client:   # scripts, no async
        print(client.call("queue.list", {"state": "dead"}))

Replies are matched to calls by id, so any number of calls may be in flight on one connection
(from several tasks) and each gets its own reply; a reply arriving after its call was cancelled
is dropped. Errors: :class:`~pywats_station.control.protocol.ControlError` with the server's
code, message and data; :class:`ControlConnectionError` (a ControlError with code -32000) when
the connection fails or closes before the reply.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, overload
from urllib.parse import urlsplit

import msgspec
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    wrap_client_stream,
)

from pywats_station.control._connect import (
    ControlConnectionError,
    EndWatch,
    HandshakeClosed,
    open_stream,
)
from pywats_station.control._spec import LoginResult, PingResult
from pywats_station.control.protocol import NOTIFY_PREFIX, ControlError, ErrorCode, Incoming
from pywats_station.control.roles import Role

if TYPE_CHECKING:
    from pywats_station.control.server import ControlServer

__all__ = [
    "BlockingClient",
    "BlockingSubscription",
    "Client",
    "ControlConnectionError",
    "EventsDropped",
    "Subscription",
    "open_control_client",
    "open_memory_client",
]

log = logging.getLogger("pywats_station.control.client")

T = TypeVar("T")
MAX_REPLY_BYTES: Final = 64 << 20
"""The largest frame the client accepts (an OpenRPC document or a long log tail fit easily)."""
_CLOSE_TIMEOUT: Final = 5.0
HANDSHAKE_RETRIES: Final = (0.2, 0.5, 1.0)
"""Pauses before trying again when the server closes a handshake without answering it."""
_HANDSHAKE_CODES: Final = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.FORBIDDEN_ORIGIN}


class EventsDropped(Exception):
    """A subscription's buffer overflowed (the loop reading it was too slow); it has ended."""


class _Request(msgspec.Struct, omit_defaults=True):
    # omit_defaults drops params=None (no params) and id=None (a notification), never jsonrpc.
    jsonrpc: Literal["2.0"]
    method: str
    params: Any = None
    id: int | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Incoming | list[Incoming])


class _Pending:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.reply: Incoming | None = None


class Subscription:
    """The events of one :meth:`Client.subscribe`: ``(event, payload)`` pairs, payload a dict.

    Use it as ``async with client.subscribe([...]) as events: async for event, payload in
    events`` (unsubscribes on exit), or iterate it directly (subscribes on first use; then
    :meth:`aclose` it). If the reading loop falls ``buffer`` events behind, the iteration raises
    :class:`EventsDropped`; if the connection closes, :class:`ControlConnectionError`.
    """

    def __init__(self, client: Client, events: Iterable[str], buffer: int) -> None:
        self.events = frozenset(events)
        self._client = client
        self._send, self._receive = trio.open_memory_channel[tuple[str, Any]](buffer)
        self._started = False
        self._error: BaseException | None = None

    def wants(self, event: str) -> bool:
        """Whether this subscription asked for ``event``."""
        return event in self.events or "*" in self.events

    async def start(self) -> None:
        """Subscribe (done by ``async with`` or the first iteration)."""
        if not self._started:
            self._started = True
            self._client._subscriptions.add(self)  # before the call: no event is missed
            await self._client.call("events.subscribe", {"events": sorted(self.events)})

    async def aclose(self) -> None:
        """Unsubscribe from the events no other subscription of the client needs."""
        self._send.close()
        if self not in self._client._subscriptions:
            return
        self._client._subscriptions.discard(self)
        still = set().union(*(sub.events for sub in self._client._subscriptions))
        unneeded = sorted(self.events - still)
        if unneeded and not self._client.closed:
            with contextlib.suppress(ControlConnectionError):  # closed meanwhile: nothing to undo
                await self._client.call("events.unsubscribe", {"events": unneeded})

    async def __aenter__(self) -> Subscription:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> tuple[str, Any]:
        await self.start()
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None

    def _offer(self, event: str, payload: Any) -> None:
        try:
            self._send.send_nowait((event, payload))
        except trio.WouldBlock:
            self._end(EventsDropped(f"events were dropped: the reader of {event} fell behind"))
        except trio.ClosedResourceError:
            pass

    def _end(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        self._send.close()
        self._client._subscriptions.discard(self)


class Client:
    """A connection to the control channel; make one with :func:`open_control_client`.

    Args:
        ws: An open websocket (the client owns it from now on).
        event_buffer: Default buffer of each subscription.

    Attributes:
        role: The role the connection holds, as last learnt from :meth:`ping` or
            :meth:`login` (``None`` before either): the operator or the admin token, both
            work with this client; ``Role.NONE`` without a token.
    """

    def __init__(self, ws: WebSocketConnection, *, event_buffer: int = 256) -> None:
        self._ws = ws
        self._event_buffer = event_buffer
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._subscriptions: set[Subscription] = set()
        self._outbox, self._outgoing = trio.open_memory_channel[bytes](64)
        self._closed: tuple[str, int | None, str | None] | None = None
        self._orphan: ControlError | None = None
        self.role: Role | None = None

    async def ping(self) -> PingResult:
        """``station.ping``: the server's clock, and this connection's role (also in
        :attr:`role`)."""
        result = await self.call("station.ping", result_type=PingResult)
        self.role = Role.from_label(result.role)
        return result

    async def login(self, token: str) -> LoginResult:
        """``auth.login`` with the operator or the admin token; the role granted is also in
        :attr:`role`.

        Raises:
            ControlError: -32001 wrong token, -32003 throttled (``data.retry_after``).
        """
        result = await self.call("auth.login", {"token": token}, result_type=LoginResult)
        self.role = Role.from_label(result.role)
        return result

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self._closed is not None

    @overload
    async def call(self, method: str, params: Any = None) -> Any: ...
    @overload
    async def call(self, method: str, params: Any = None, *, result_type: type[T]) -> T: ...

    async def call(self, method: str, params: Any = None, *, result_type: Any = None) -> Any:
        """Call ``method`` and return its result.

        Args:
            method: The method name (``queue.list``).
            params: A dict (by name), a list (by position), a params Struct, or ``None``.
            result_type: Decode the result into this type (``QueueListResult``); plain JSON
                values (dicts, lists …) by default.

        Raises:
            ControlError: The server's error reply.
            ControlConnectionError: Not connected, or closed before the reply.
        """
        rid = next(self._ids)
        pending = self._pending[rid] = _Pending()
        try:
            await self._send(_Request("2.0", method, params, rid))
            await pending.done.wait()
        finally:
            del self._pending[rid]
        reply = pending.reply
        if reply is None:
            raise self._closed_error()
        if reply.error is not msgspec.UNSET:
            error = reply.error
            data = None if error.data is msgspec.UNSET else error.data
            raise ControlError(error.code, error.message, data)
        raw = b"null" if reply.result is msgspec.UNSET else reply.result
        if result_type is None:
            return msgspec.json.decode(raw)
        return msgspec.json.decode(raw, type=result_type)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification: the method runs, nothing is answered (not even errors)."""
        await self._send(_Request("2.0", method, params))

    def subscribe(self, events: Sequence[str], *, buffer: int | None = None) -> Subscription:
        """Events as they happen; see :class:`Subscription`. ``["*"]`` is every event."""
        if isinstance(events, str):
            raise TypeError("events is a list of names, e.g. ['report_uploaded']")
        return Subscription(self, events, buffer or self._event_buffer)

    async def _send(self, request: _Request) -> None:
        if self._closed is not None:
            raise self._closed_error()
        data = _encoder.encode(request)
        try:
            await self._outbox.send(data)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise self._closed_error() from None

    def _closed_error(self) -> ControlConnectionError:
        message, code, reason = self._closed or ("connection closed", None, None)
        if self._orphan is not None:  # e.g. -32004 before a 1009 close: the real cause
            message = f"{message}; the server said: {self._orphan.message}"
        return ControlConnectionError(message, code, reason)

    # -- background tasks ----------------------------------------------------------------------

    @asynccontextmanager
    async def _running(self) -> AsyncIterator[Client]:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_loop)
                nursery.start_soon(self._write_loop)
                try:
                    yield self
                finally:
                    self._close("the client was closed", None, None)
                    nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise _collapse(group) from None

    async def _write_loop(self) -> None:
        async for data in self._outgoing:
            try:
                await self._ws.send_message(data.decode())
            except ConnectionClosed:
                return  # the reader sees the close and records why

    async def _read_loop(self) -> None:
        try:
            while True:
                self._on_frame(await self._ws.get_message())
        except ConnectionClosed as exc:
            reason = exc.reason
            code = reason.code if reason is not None else None
            text = reason.reason if reason is not None else None
            self._close(f"connection closed by the server ({code}: {text})", code, text)

    def _on_frame(self, data: str | bytes) -> None:
        try:
            decoded = _decoder.decode(data)
        except (msgspec.DecodeError, RecursionError):  # RecursionError: nested too deep
            log.warning("ignored an unreadable frame from the control server")
            return
        for message in decoded if isinstance(decoded, list) else [decoded]:
            if isinstance(message.method, str):
                self._on_notification(message)
            elif isinstance(message.id, int) and message.id in self._pending:
                pending = self._pending[message.id]
                pending.reply = message
                pending.done.set()
            elif message.id is None and message.error is not msgspec.UNSET:
                self._orphan = ControlError(message.error.code, message.error.message)
                log.warning("control server error: %s", message.error.message)
            else:
                log.debug("dropped a reply to no pending call (id %r)", message.id)

    def _on_notification(self, message: Incoming) -> None:
        method = str(message.method)
        if not method.startswith(NOTIFY_PREFIX):
            return
        event = method[len(NOTIFY_PREFIX) :]
        payload = {} if message.params is msgspec.UNSET else msgspec.json.decode(message.params)
        for sub in list(self._subscriptions):
            if sub.wants(event):
                sub._offer(event, payload)

    def _close(self, message: str, code: int | None, reason: str | None) -> None:
        if self._closed is not None:
            return
        self._closed = (message, code, reason)
        self._outbox.close()
        for pending in self._pending.values():
            pending.done.set()  # reply None: the call raises the closed error
        for sub in list(self._subscriptions):
            sub._end(self._closed_error())


def _collapse(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception of a group (a user's error raised through our nursery), else it."""
    errors = [exc for exc in group.exceptions if not isinstance(exc, trio.Cancelled)]
    if len(group.exceptions) == 1 or len(errors) == 1:
        return (errors or list(group.exceptions))[0]
    return group


def _refused(exc: ConnectionRejected) -> ControlError:
    body = (exc.body or b"").decode("utf-8", "replace").strip()
    if exc.status_code in _HANDSHAKE_CODES:
        return ControlError(_HANDSHAKE_CODES[exc.status_code], f"refused by the server: {body}")
    if exc.status_code in (429, 503):
        return ControlError(ErrorCode.RATE_LIMITED, f"refused by the server: {body}")
    return ControlConnectionError(f"handshake refused: HTTP {exc.status_code} {body}".strip())


def _headers(token: str | None, headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    extra = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if token:
        extra.append((b"authorization", b"Bearer " + token.encode()))
    return extra


@asynccontextmanager
async def open_control_client(
    url: str,
    *,
    token: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    headers: Iterable[tuple[str, str]] = (),
    connect_timeout: float = 10.0,
    event_buffer: int = 256,
) -> AsyncIterator[Client]:
    """Connect to a control server.

    Args:
        url: ``ws://host:port`` or ``wss://host:port``.
        token: The operator or the admin token, sent in the handshake (``Authorization:
            Bearer``); without it, only ``rpc.discover``, ``station.ping`` and ``auth.login``
            work, and the server closes the connection if it has not logged in within 10 s.
        ssl_context: For ``wss://`` with a private CA or a self-signed certificate.
        headers: More handshake headers (``[("Origin", "https://mes.example")]``).
        connect_timeout: Seconds for the connection and handshake (each attempt).
        event_buffer: Default buffer of each subscription.

    A handshake the server closes without answering (a server pushing out handshakes under a
    flood of connections does) is tried again after 0.2, 0.5 and 1 s: nothing was done yet.

    Raises:
        ControlError: The server refused the handshake (-32001 wrong token, -32002 origin,
            -32003 throttled or full).
        ControlConnectionError: The server cannot be reached, or closed every attempt.
        ValueError: Not a ``ws://`` or ``wss://`` URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    handshake = _headers(token, headers)
    async with AsyncExitStack() as stack:
        for pause in (*HANDSHAKE_RETRIES, None):
            try:
                with trio.fail_after(connect_timeout):
                    stream = await open_stream(url, parts.hostname, port, secure, ssl_context)
            except trio.TooSlowError as exc:
                raise ControlConnectionError(f"cannot connect to {url}: {exc!r}") from None
            try:
                client = await stack.enter_async_context(
                    _session(stream, host, resource, handshake, event_buffer, connect_timeout)
                )
            except HandshakeClosed:
                if pause is None:
                    raise
                # Closed before any answer, so nothing was done: safe to try again. A server
                # under a flood of connections pushes out handshakes it had no time to read.
                log.debug("the control server closed the handshake; again in %.1f s", pause)
                await trio.sleep(pause)
            else:
                break
        yield client


@asynccontextmanager
async def _session(
    stream: trio.abc.Stream,
    host: str,
    resource: str,
    headers: list[tuple[bytes, bytes]],
    event_buffer: int,
    connect_timeout: float,
) -> AsyncIterator[Client]:
    """The websocket handshake over ``stream``, then a running :class:`Client`; closes both."""
    watched = EndWatch(stream)
    try:
        async with trio.open_nursery() as nursery:
            ws: WebSocketConnection | None = None
            with trio.fail_after(connect_timeout), trio.CancelScope() as handshake:
                # trio-websocket waits out the timeout when the server just closes the
                # connection (a busy server pushing out handshakes does): say so at once.
                watched.on_end = handshake.cancel
                ws = await wrap_client_stream(
                    nursery,
                    watched,  # type: ignore[arg-type]  # any stream works
                    host,
                    resource,
                    extra_headers=headers,
                    max_message_size=MAX_REPLY_BYTES,
                )
            watched.on_end = None
            if ws is None:
                raise HandshakeClosed(
                    "the server closed the connection during the handshake (busy? retry)"
                )
            try:
                async with Client(ws, event_buffer=event_buffer)._running() as client:
                    yield client
            finally:
                with trio.move_on_after(_CLOSE_TIMEOUT, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        error = _collapse(group)
        if isinstance(error, ConnectionRejected):
            raise _refused(error) from None
        if isinstance(error, trio.TooSlowError):
            raise ControlConnectionError("no websocket handshake from the server") from None
        raise error from None
    finally:
        await trio.aclose_forcefully(stream)


@asynccontextmanager
async def open_memory_client(
    server: ControlServer,
    *,
    token: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    lockstep: bool = False,
    event_buffer: int = 256,
) -> AsyncIterator[Client]:
    """Connect a client to ``server`` over an in-memory stream (tests, in-process tools).

    Args:
        server: The server; its ``handle`` runs the connection.
        token: As in :func:`open_control_client`.
        headers: More handshake headers.
        lockstep: Use a stream without buffer (``lockstep_stream_pair``): every send waits
            for the other side to read, like a TCP connection whose buffers are full.
        event_buffer: Default buffer of each subscription.
    """
    pair = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
    client_stream, server_stream = pair()
    served = trio.Event()

    async def serve() -> None:
        await server.serve_stream(server_stream)
        served.set()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            try:
                async with _session(
                    client_stream, "localhost", "/", _headers(token, headers), event_buffer, 10.0
                ) as client:
                    yield client
            finally:
                # The server's side runs in this nursery: let it finish its close.
                with trio.move_on_after(_CLOSE_TIMEOUT, shield=True):
                    await served.wait()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise _collapse(group) from None


# The blocking wrapper lives in its own module (it is a thread, not a protocol concern) but is
# part of this module's API; imported last, as it builds on everything above.
from pywats_station.control.blocking import BlockingClient, BlockingSubscription  # noqa: E402

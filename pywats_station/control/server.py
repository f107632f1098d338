"""The control channel's websocket server, and the hub the daemon publishes events through.

::

    registry = Registry()                      # + the daemon's handlers
    hub = ControlHub(registry)
    port = await nursery.start(partial(
        serve_control, registry, hub=hub, host="127.0.0.1", port=8765,
        token=ensure_control_token(paths.control_token_file)))
    ...
    hub.publish("report_uploaded", ReportUploaded(...))   # sync, never blocks

Security defaults (see ``docs/control-api.md``): loopback only unless TLS or ``allow_remote``;
browsers (an ``Origin`` header) refused unless their origin is allowed; every method but
``rpc.discover``, ``station.ping`` and ``auth.login`` needs the control token; failed logins are
throttled per address; messages are capped in size and rate; a client that cannot keep up with
its events is dropped instead of slowing the daemon; the token and the configured ``secrets`` are
never sent, whatever a handler returns.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import secrets as _secrets
from collections.abc import Collection
from typing import Any, Final, NoReturn

import msgspec
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    wrap_server_stream,
)

from pywats_station.control._connection import (
    Authenticator,
    CloseRequest,
    ControlConnection,
    TokenBucket,
)
from pywats_station.control.hub import ControlHub, HubStatistics
from pywats_station.control.protocol import (
    ControlError,
    ErrorCode,
    Request,
    Response,
    encode,
    error_response,
    parse_frame,
)
from pywats_station.control.registry import CallContext, RegisteredMethod, Registry, decode_params

__all__ = ["ControlHub", "ControlServer", "HubStatistics", "serve_control"]

log = logging.getLogger("pywats_station.control")

CLOSE_TIMEOUT: Final = 5.0
"""Seconds a closing handshake may take before the TCP connection is just closed."""
HANDSHAKE_TIMEOUT: Final = 10.0


class _Reply:
    """Where the responses to one frame go: straight out, or collected into a batch array."""

    def __init__(self, conn: ControlConnection, expected: int, batch: bool) -> None:
        self._conn = conn
        self._remaining = expected
        self._batch = batch
        self._responses: list[Response] = []

    async def add(self, response: Response | None) -> None:
        if not self._batch:
            if response is not None:
                await self._conn.put(encode(response).decode())
            return
        if response is not None:
            self._responses.append(response)
        self._remaining -= 1
        if self._remaining == 0 and self._responses:  # an all-notification batch gets nothing
            await self._conn.put(encode(self._responses).decode())


class ControlServer:
    """Serves the registry's methods to websocket clients, one :meth:`handle` per connection.

    :func:`serve_control` runs it over TCP; tests and in-process clients hand
    :meth:`serve_stream` any other trio stream (``open_memory_client`` does).

    Args:
        registry: The methods.
        token: The control token (``ensure_control_token``).
        hub: The hub the daemon publishes through; a new one by default.
        allowed_origins: Browser origins allowed to connect (``https://mes.example``); none by
            default. Clients that send no ``Origin`` header (non-browsers) are always allowed.
        secrets: More strings that must never be sent (the WATS API token …); any response or
            event containing one (or the control token) is replaced by an error.
        max_message_bytes: The largest frame accepted (UTF-8 bytes).
        rate: ``(burst, period)``: each connection may send ``burst`` messages at once, refilled
            at ``burst / period`` per second; excess requests get -32003.
        send_queue: Frames waiting for a slow client before it is dropped.
        max_connections: Clients at once; more are refused at the handshake (HTTP 503).
        max_in_flight: Requests one connection may have running; then its messages wait.
        login_failures: ``(burst, period)`` of the failed-login throttle per client address.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        token: str,
        hub: ControlHub | None = None,
        allowed_origins: Collection[str] = (),
        secrets: Collection[str] = (),
        max_message_bytes: int = 1 << 20,
        rate: tuple[int, float] = (50, 1.0),
        send_queue: int = 256,
        max_connections: int = 64,
        max_in_flight: int = 16,
        login_failures: tuple[int, float] = (5, 10.0),
    ) -> None:
        if len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token:
            raise ValueError("the control token must be at least 16 printable ASCII characters")
        if hub is not None and hub.registry is not registry:
            raise ValueError("the hub was made for another registry")
        if max_message_bytes < 1024 or send_queue < 1 or max_connections < 1 or max_in_flight < 1:
            raise ValueError("max_message_bytes >= 1024 and the other limits >= 1, please")
        TokenBucket(*rate, now=0.0)  # validates the rate before the first client finds out
        TokenBucket(*login_failures, now=0.0)
        self.registry = registry
        self.hub = hub if hub is not None else ControlHub(registry)
        self.hub._add_secrets([token, *secrets])
        self.max_message_bytes = max_message_bytes
        self._authenticator = Authenticator(token, failures=login_failures)
        self._origins = frozenset(_origin(value) for value in allowed_origins)
        self._rate = rate
        self._send_queue = send_queue
        self._max_connections = max_connections
        self._max_in_flight = max_in_flight
        self._ids = itertools.count(1)

    @property
    def frame_limit(self) -> int:
        """The websocket layer's own limit (characters): twice ours, so that a frame just over
        ``max_message_bytes`` still reaches us and gets its -32004 before the close."""
        return 2 * self.max_message_bytes

    # -- one connection ----------------------------------------------------------------------------

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one client over ``stream`` (TCP, TLS, in-memory): handshake, then
        :meth:`handle`; closes the stream, never raises (but ``Cancelled``)."""
        try:
            async with trio.open_nursery() as nursery:  # runs the websocket's reader task
                request: WebSocketRequest | None = None
                with trio.move_on_after(HANDSHAKE_TIMEOUT):  # slow or silent: dropped
                    request = await wrap_server_stream(
                        nursery, stream, max_message_size=self.frame_limit
                    )
                if request is not None:
                    await self.handle(request)
                nursery.cancel_scope.cancel()
        except Exception as exc:  # a broken handshake (garbage, reset): that client's problem
            log.debug("control connection broke during the handshake: %r", exc)
        finally:
            await trio.aclose_forcefully(stream)

    async def handle(self, request: WebSocketRequest) -> None:
        """Run one client from its handshake to its close; never raises (but ``Cancelled``)."""
        try:
            await self._handle(request)
        except Exception:  # one client's trouble must never stop the server
            log.exception("control connection failed")

    async def _handle(self, request: WebSocketRequest) -> None:
        peer, host = _peer(request.remote)
        admitted = self._admit(request.headers, host)
        if not isinstance(admitted, bool):
            status, body, headers = admitted
            log.info("control client %s refused at the handshake: HTTP %d", peer, status)
            await request.reject(status, extra_headers=headers, body=body)
            return
        ws = await request.accept()
        conn = ControlConnection(
            id=next(self._ids),
            peer=peer,
            host=host,
            authenticated=admitted,
            authenticator=self._authenticator,
            send_queue=self._send_queue,
            rate=self._rate,
            max_in_flight=self._max_in_flight,
        )
        self.hub._connections[conn.id] = conn
        log.info("control client %s connected (#%d, authenticated: %s)", peer, conn.id, admitted)
        try:
            with conn.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write_loop, ws, conn)
                    await self._read_loop(ws, conn, nursery)
                    nursery.cancel_scope.cancel()
        finally:
            del self.hub._connections[conn.id]
            with trio.CancelScope(deadline=trio.current_time() + CLOSE_TIMEOUT, shield=True):
                await ws.aclose(conn.close_code, conn.close_reason)
            log.info("control client %s disconnected (%s)", peer, conn.close_reason or "closed")

    def _admit(
        self, raw_headers: list[tuple[bytes, bytes]], host: str
    ) -> bool | tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """``True``/``False`` (authenticated or not) to accept, else the HTTP refusal."""
        plain = [(b"content-type", b"text/plain; charset=utf-8")]
        if len(self.hub._connections) >= self._max_connections:
            return 503, b"too many control connections\n", plain
        headers = [(name.lower(), value) for name, value in raw_headers]
        origins = [value for name, value in headers if name == b"origin"]
        if origins and (
            len(origins) > 1 or _origin(origins[0].decode("latin-1")) not in self._origins
        ):
            return 403, b"forbidden origin\n", plain
        authorization = [value for name, value in headers if name == b"authorization"]
        if not authorization:
            return False
        scheme, _, presented = authorization[0].decode("latin-1").strip().partition(" ")
        if len(authorization) > 1 or scheme.lower() != "bearer":
            return 401, b"use one header: Authorization: Bearer <control token>\n", plain
        try:
            self._authenticator.check(presented.strip(), host)
        except ControlError as exc:
            if exc.code == ErrorCode.RATE_LIMITED:
                retry = str(max(1, round((exc.data or {}).get("retry_after", 1))))
                return 429, b"too many failed logins\n", [*plain, (b"retry-after", retry.encode())]
            return 401, b"wrong control token\n", plain
        return True

    async def _write_loop(self, ws: WebSocketConnection, conn: ControlConnection) -> None:
        """The only task that sends: frames in queue order, then the close if one was asked."""
        try:
            async for item in conn.outgoing:
                if isinstance(item, CloseRequest):
                    if conn.close_reason is None:
                        conn.close_code, conn.close_reason = item.code, item.reason
                    break
                await ws.send_message(item)
                conn.sent += 1
        except ConnectionClosed:
            pass
        conn.scope.cancel()  # nothing more can be sent: end the connection

    async def _read_loop(
        self, ws: WebSocketConnection, conn: ControlConnection, nursery: trio.Nursery
    ) -> None:
        while True:
            try:
                data = await ws.get_message()
            except ConnectionClosed:
                return
            conn.received += 1
            if self._too_large(data):
                limit = self.max_message_bytes
                error = error_response(
                    None,
                    ErrorCode.MESSAGE_TOO_LARGE,
                    f"message too large: the limit is {limit} bytes",
                    {"limit": limit},
                )
                await conn.put(encode(error).decode())
                await conn.put(CloseRequest(1009, "message too large"))
                # The writer sends both and ends the connection; wait for it (bounded).
                await trio.sleep(CLOSE_TIMEOUT)
                return
            frame = parse_frame(data)
            reply = _Reply(conn, len(frame.items), frame.batch)
            for item in frame.items:
                if isinstance(item, Response):
                    await reply.add(item)
                else:
                    await self._dispatch(conn, item, reply, nursery)

    def _too_large(self, data: str | bytes) -> bool:
        limit = self.max_message_bytes
        if len(data) > limit:
            return True
        # A character takes at most 4 UTF-8 bytes: only count the bytes when it could matter.
        return isinstance(data, str) and len(data) * 4 > limit and len(data.encode()) > limit

    # -- one request -------------------------------------------------------------------------------

    async def _dispatch(
        self, conn: ControlConnection, request: Request, reply: _Reply, nursery: trio.Nursery
    ) -> None:
        """Check rate, method, auth and params in message order; then run the handler."""
        rid = request.reply_id
        refusal: Response | None = None
        entry = self.registry.get(request.method)
        now = trio.current_time()
        params: Any = None
        if not conn.rate.take(now):
            retry = round(conn.rate.retry_after(now), 3)
            refusal = error_response(
                rid,
                ErrorCode.RATE_LIMITED,
                "rate limited: too many requests",
                {"retry_after": retry},
            )
        elif entry is None:
            refusal = error_response(
                rid, ErrorCode.METHOD_NOT_FOUND, f"method not found: {_name(request.method)}"
            )
        elif entry.spec.auth and not conn.authenticated:
            refusal = error_response(
                rid,
                ErrorCode.UNAUTHORIZED,
                "unauthorized: log in first (auth.login, or the Authorization header)",
            )
        else:
            try:
                params = decode_params(entry.spec.params, request.params)
            except ControlError as exc:
                refusal = Response(id=rid, error=exc.to_object())
        if refusal is not None or entry is None:
            await reply.add(None if request.is_notification else refusal)
        elif entry.inline:
            await reply.add(await self._invoke(conn, entry, request, params))
        else:
            await conn.in_flight.acquire()
            nursery.start_soon(self._run, conn, entry, request, params, reply)

    async def _run(
        self,
        conn: ControlConnection,
        entry: RegisteredMethod,
        request: Request,
        params: Any,
        reply: _Reply,
    ) -> None:
        try:
            await reply.add(await self._invoke(conn, entry, request, params))
        finally:
            conn.in_flight.release()

    async def _invoke(
        self, conn: ControlConnection, entry: RegisteredMethod, request: Request, params: Any
    ) -> Response | None:
        """Call the handler; its result or error as a response (``None`` for a notification)."""
        rid = request.reply_id
        ctx = CallContext(connection=conn, method=entry.spec.name, id=rid)
        try:
            value = await entry.handler(ctx, params)
            response = self._result(rid, value)
        except ControlError as exc:
            response = self._error(rid, exc)
        except Exception:
            response = self._internal(rid, f"control method {entry.spec.name} failed")
        if request.is_notification:
            if response.error is not msgspec.UNSET:
                log.debug("notification %s failed: %s", entry.spec.name, response.error)
            return None
        return response

    def _result(self, rid: Any, value: Any) -> Response:
        try:
            raw = encode_result(value)
        except (TypeError, ValueError, OverflowError):
            return self._internal(rid, "a control method returned a value that cannot be sent")
        if self.hub._leaks(raw):
            return self._internal(rid, "a control method's result contained a secret", tb=False)
        return Response(id=rid, result=msgspec.Raw(raw))

    def _error(self, rid: Any, exc: ControlError) -> Response:
        error = exc.to_object()
        try:
            raw = encode_result(error)
        except (TypeError, ValueError, OverflowError):
            return self._internal(rid, "a control method raised an error that cannot be sent")
        if self.hub._leaks(raw):
            return self._internal(rid, "a control method's error contained a secret", tb=False)
        return Response(id=rid, error=error)

    def _internal(self, rid: Any, what: str, *, tb: bool = True) -> Response:
        incident = _secrets.token_hex(4)
        log.error("%s (incident %s)", what, incident, exc_info=tb)
        return error_response(
            rid, ErrorCode.INTERNAL_ERROR, "internal error", {"incident": incident}
        )


_result_encoder = msgspec.json.Encoder()


def encode_result(value: Any) -> bytes:
    """Encode a handler's result (or error object) as JSON."""
    return _result_encoder.encode(value)


def _name(method: str) -> str:
    return repr(method if len(method) <= 80 else method[:80] + "…")


def _origin(value: str) -> str:
    return value.strip().lower().rstrip("/")


def _peer(remote: object) -> tuple[str, str]:
    """``(host:port, host)`` of a client; in-memory streams have no address."""
    address, port = getattr(remote, "address", None), getattr(remote, "port", None)
    if address is None:
        return "in-process", "in-process"
    host = str(address)
    return (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"), host


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``); names resolve anywhere."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def serve_control(
    registry: Registry,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str,
    hub: ControlHub | None = None,
    allowed_origins: Collection[str] = (),
    ssl_context: Any = None,
    allow_remote: bool = False,
    max_message_bytes: int = 1 << 20,
    rate: tuple[int, float] = (50, 1.0),
    send_queue: int = 256,
    max_connections: int = 64,
    secrets: Collection[str] = (),
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Serve the control channel over TCP until cancelled.

    ``port = await nursery.start(partial(serve_control, registry, token=...))`` returns the
    bound port (``port=0`` picks a free one; a host name is then resolved and only its first
    address bound, so that there is one port to report). The other arguments are those of
    :class:`ControlServer`.

    Args:
        registry: The methods.
        host: The address to bind: loopback by default.
        port: The TCP port.
        token: The control token.
        hub: The daemon's hub.
        allowed_origins: Browser origins allowed (none by default).
        ssl_context: A server ``ssl.SSLContext`` for ``wss://``.
        allow_remote: Bind a non-loopback address without TLS (the token then crosses the
            network in clear text).
        max_message_bytes: The largest frame accepted.
        rate: Per-connection ``(burst, period)``.
        send_queue: Per-connection outgoing frames before a slow client is dropped.
        max_connections: Clients at once.
        secrets: More strings that must never be sent.
        task_status: Started with the bound port.

    Raises:
        ValueError: Before binding, for a non-loopback host without TLS or ``allow_remote``.
    """
    if not is_loopback(host) and ssl_context is None and not allow_remote:
        raise ValueError(
            f"refusing to serve the control channel on {host!r} without TLS: it is not a "
            "loopback address. Configure TLS (tls_cert/tls_key), or set allow_remote to accept "
            "that the control token crosses the network in clear text."
        )
    server = ControlServer(
        registry,
        token=token,
        hub=hub,
        allowed_origins=allowed_origins,
        secrets=secrets,
        max_message_bytes=max_message_bytes,
        rate=rate,
        send_queue=send_queue,
        max_connections=max_connections,
    )
    bind = host
    if port == 0 and not _is_ip(host):
        infos = await trio.socket.getaddrinfo(host, 0, type=trio.socket.SOCK_STREAM)
        bind = str(infos[0][4][0])
    listeners: list[trio.SocketListener] | list[trio.SSLListener[trio.SocketStream]]
    if ssl_context is None:
        listeners = await trio.open_tcp_listeners(port, host=bind)
        bound = listeners[0].socket.getsockname()[1]
    else:
        listeners = await trio.open_ssl_over_tcp_listeners(
            port, ssl_context, host=bind, https_compatible=True
        )
        transport = listeners[0].transport_listener
        assert isinstance(transport, trio.SocketListener)
        bound = transport.socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        # trio-websocket's serve_websocket is not used: a client that sends a malformed
        # handshake and resets makes its connection task raise, which ends the whole server.
        # serve_stream contains every connection's failure.
        await nursery.start(trio.serve_listeners, server.serve_stream, listeners)
        log.info(
            "control channel listening on %s port %d (tls: %s)",
            bind,
            bound,
            ssl_context is not None,
        )
        task_status.started(bound)
        await trio.sleep_forever()
    raise AssertionError("unreachable")  # pragma: no cover - sleep_forever never returns


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True

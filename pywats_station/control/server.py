"""The control channel's websocket server, and the hub the daemon publishes events through.

::

    registry = Registry()                      # + the daemon's handlers
    hub = ControlHub(registry)
    port = await nursery.start(partial(
        serve_control, registry, hub=hub, host="127.0.0.1", port=8765,
        token=ensure_control_token(paths.control_token_file),
        admin_token=ensure_control_token(paths.control_admin_token_file)))
    ...
    hub.publish("report_uploaded", ReportUploaded(...))   # sync, never blocks

Security defaults (see ``docs/control-api.md``): loopback only unless TLS or ``allow_remote``;
browsers (an ``Origin`` header) refused unless their origin is allowed; every method but
``rpc.discover``, ``station.ping`` and ``auth.login`` needs a token, and each method a role
(:mod:`~pywats_station.control.roles`): the operator token grants operator, the admin token
admin (operator only, from another machine, unless ``remote_admin``); messages are capped in
size and rate; a client that cannot keep up with its events is dropped instead of slowing the
daemon; the tokens and the configured ``secrets`` are never sent, whatever a handler returns.

Strangers (connections without a token) can never take the channel, or the daemon, down:
every connection sits in a bounded pool (:mod:`._admission`), a handshake must be complete
within 10 s and a login done within 10 s of connecting, a client presenting a correct token in
its handshake is admitted whatever the strangers hold, failed logins slow down and then close
the failing connection (:mod:`._login`), and running out of descriptors pauses accepting
without ending anything (:mod:`._accept`).
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
from collections.abc import Collection
from dataclasses import replace
from typing import Any, Final, NoReturn

import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    wrap_server_stream,
)

from pywats_station import fdlimit
from pywats_station.control._accept import defer_accept, serve_listeners
from pywats_station.control._admission import (
    Admission,
    AdmissionStatistics,
    ConnectionLimits,
    HeardStream,
    RefusalLog,
    Slot,
)
from pywats_station.control._bucket import TokenBucket
from pywats_station.control._connection import CloseRequest, ControlConnection
from pywats_station.control._dispatch import Dispatcher, Reply
from pywats_station.control._login import Authenticator, Grant, LoginPolicy
from pywats_station.control._peers import (
    IN_PROCESS,
    address_of,
    is_local,
    is_loopback,
    stream_address,
)
from pywats_station.control.hub import ControlHub, HubStatistics
from pywats_station.control.protocol import (
    ControlError,
    ErrorCode,
    Response,
    encode,
    error_response,
    parse_frame,
)
from pywats_station.control.registry import Registry
from pywats_station.control.roles import Role

__all__ = [
    "IN_PROCESS",
    "AdmissionStatistics",
    "ConnectionLimits",
    "ControlHub",
    "ControlServer",
    "HubStatistics",
    "LoginPolicy",
    "is_loopback",
    "serve_control",
]

log = logging.getLogger("pywats_station.control")

CLOSE_TIMEOUT: Final = 5.0
"""Seconds a closing handshake may take before the TCP connection is just closed."""
_Refusal = tuple[int, bytes, list[tuple[bytes, bytes]]]
_PLAIN: Final = [(b"content-type", b"text/plain; charset=utf-8")]


class ControlServer:
    """Serves the registry's methods to websocket clients, one :meth:`serve_stream` each.

    :func:`serve_control` runs it over TCP; tests and in-process clients hand
    :meth:`serve_stream` any other trio stream (``open_memory_client`` does).

    Args:
        registry: The methods.
        token: The operator token (``control-token``).
        admin_token: The admin token (``control-admin-token``); without it no connection can
            hold the admin role.
        remote_admin: Whether a client on another machine may hold the admin role; otherwise
            the admin token grants it operator.
        hub: The hub the daemon publishes through; a new one by default.
        allowed_origins: Browser origins allowed to connect (``https://mes.example``); none by
            default. Clients that send no ``Origin`` header (non-browsers) are always allowed.
        secrets: More strings that must never be sent (the WATS API token …); any response or
            event containing one (or a token) is replaced by an error.
        max_message_bytes: The largest frame accepted (UTF-8 bytes).
        rate: ``(burst, period)``: each connection may send ``burst`` messages at once, refilled
            at ``burst / period`` per second; excess requests get -32003.
        send_queue: Frames waiting for a slow client before it is dropped.
        max_connections: Authenticated clients at once (``limits.max_authenticated``); more
            are refused at the handshake (HTTP 503).
        limits: The pools and deadlines of connections (see :class:`ConnectionLimits`).
        max_in_flight: Requests one connection may have running; then its messages wait.
        login_failures: ``(burst, period)`` of the wrong-token throttle per client address.
        login_policy: How a connection that fails to log in is slowed down and closed.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        token: str,
        admin_token: str | None = None,
        remote_admin: bool = False,
        hub: ControlHub | None = None,
        allowed_origins: Collection[str] = (),
        secrets: Collection[str] = (),
        max_message_bytes: int = 1 << 20,
        rate: tuple[int, float] = (50, 1.0),
        send_queue: int = 256,
        max_connections: int | None = None,
        limits: ConnectionLimits | None = None,
        max_in_flight: int = 16,
        login_failures: tuple[int, float] = (5, 10.0),
        login_policy: LoginPolicy | None = None,
    ) -> None:
        tokens = {token: Role.OPERATOR}
        if admin_token is not None:
            if admin_token == token:
                raise ValueError("the admin token must differ from the operator token")
            tokens[admin_token] = Role.ADMIN
        for value in tokens:
            if len(value) < 16 or not value.isascii() or not value.isprintable() or " " in value:
                raise ValueError("a control token must be at least 16 printable ASCII characters")
        if hub is not None and hub.registry is not registry:
            raise ValueError("the hub was made for another registry")
        if max_message_bytes < 1024 or send_queue < 1 or max_in_flight < 1:
            raise ValueError("max_message_bytes >= 1024 and the other limits >= 1, please")
        limits = limits or ConnectionLimits()
        if max_connections is not None:
            limits = replace(limits, max_authenticated=max_connections)
        TokenBucket(*rate, now=0.0)  # validates the rate before the first client finds out
        self.registry = registry
        self.hub = hub if hub is not None else ControlHub(registry)
        self.hub._add_secrets([*tokens, *secrets])
        self.max_message_bytes = max_message_bytes
        self.limits = limits
        self.admission = Admission(limits)
        self._authenticator = Authenticator(
            tokens, failures=login_failures, remote_admin=remote_admin
        )
        self._login_policy = login_policy or LoginPolicy()
        self._dispatcher = Dispatcher(registry, self.hub)
        self._origins = frozenset(_origin(value) for value in allowed_origins)
        self._rate = rate
        self._send_queue = send_queue
        self._max_in_flight = max_in_flight
        self._ids = itertools.count(1)
        self._refusals = {
            401: RefusalLog("control handshakes refused: wrong or malformed token (HTTP 401)"),
            403: RefusalLog("control handshakes refused: browser origin not allowed (HTTP 403)"),
            429: RefusalLog("control handshakes refused: throttled address (HTTP 429)"),
            503: self.admission.refused,
        }

    @property
    def frame_limit(self) -> int:
        """The websocket layer's own limit (characters): twice ours, so that a frame just over
        ``max_message_bytes`` still reaches us and gets its -32004 before the close."""
        return 2 * self.max_message_bytes

    # -- one connection ----------------------------------------------------------------------------

    async def serve_stream(
        self, stream: trio.abc.Stream, *, remote: tuple[str, int] | None = None
    ) -> None:
        """Serve one client over ``stream`` (TCP, TLS, in-memory) until it closes.

        Closes the stream; never raises (but ``Cancelled``).

        Args:
            stream: The client's byte stream.
            remote: The client's ``(address, port)`` when the stream cannot tell (an in-memory
                stream is taken for an in-process client, which is local).
        """
        connected_at = trio.current_time()
        peer, host = address_of(remote) if remote is not None else stream_address(stream)
        heard = HeardStream(stream)
        try:
            async with trio.open_nursery() as nursery:  # runs the websocket's reader task
                request: WebSocketRequest | None = None
                # The pending pool may cancel this scope to make room for a newer connection.
                with trio.move_on_after(self.limits.handshake_timeout) as scope:
                    key = self.admission.start_handshake(scope, heard)
                    try:
                        if await heard.wait_heard():  # a silent socket costs no more
                            request = await wrap_server_stream(
                                nursery, heard, max_message_size=self.frame_limit
                            )
                    finally:
                        self.admission.end_handshake(key)
                if request is not None:
                    await self._handle(request, peer, host, connected_at)
                nursery.cancel_scope.cancel()
        except Exception as exc:  # a broken handshake (garbage, reset): that client's problem
            log.debug("control connection %s broke during the handshake: %r", peer, exc)
        finally:
            await trio.aclose_forcefully(stream)

    async def _handle(
        self, request: WebSocketRequest, peer: str, host: str, connected_at: float
    ) -> None:
        """Run one client from its handshake to its close; never raises (but ``Cancelled``)."""
        local = is_local(host)
        admitted = self._admit(request.headers, host, local)
        if isinstance(admitted, tuple):
            status, body, headers = admitted
            log.debug("control client %s refused at the handshake: HTTP %d", peer, status)
            self._refusals[status].add(peer)
            # A copy: trio-websocket adds its content-length to the list it is given.
            await request.reject(status, extra_headers=list(headers), body=body)
            return
        grant, slot = admitted.grant, admitted.slot
        try:
            ws = await request.accept()
            conn = ControlConnection(
                id=next(self._ids),
                peer=peer,
                host=host,
                local=local,
                role=grant.role if grant is not None else Role.NONE,
                slot=slot,
                login=self._login,
                send_queue=self._send_queue,
                rate=self._rate,
                max_in_flight=self._max_in_flight,
            )
            await self._run_connection(ws, conn, grant, connected_at)
        except Exception:  # one client's trouble must never stop the server
            log.exception("control connection %s failed", peer)
        finally:
            self.admission.release(slot)

    async def _run_connection(
        self,
        ws: WebSocketConnection,
        conn: ControlConnection,
        grant: Grant | None,
        connected_at: float,
    ) -> None:
        self.hub._connections[conn.id] = conn
        self.hub.joined()
        # A connection's coming and going is routine (every `pywats-station status` is one, and
        # strangers come by the thousand in a flood): debug only. What an operator must see,
        # refusals, throttling, a capped role, errors, is logged at INFO or above elsewhere.
        log.debug("control client %s connected (#%d, %s)", conn.peer, conn.id, conn.role.label)
        if grant is not None and grant.note is not None:
            log.info("control client %s: %s", conn.peer, grant.note)
        try:
            with conn.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write_loop, ws, conn)
                    if not conn.authenticated:
                        deadline = connected_at + self.limits.auth_timeout
                        nursery.start_soon(self._auth_deadline, conn, deadline)
                    await self._read_loop(ws, conn, nursery)
                    nursery.cancel_scope.cancel()
        finally:
            del self.hub._connections[conn.id]
            with trio.CancelScope(deadline=trio.current_time() + CLOSE_TIMEOUT, shield=True):
                await ws.aclose(conn.close_code, conn.close_reason)
            log.debug(
                "control client %s disconnected (%s)", conn.peer, conn.close_reason or "closed"
            )

    def _admit(
        self, raw_headers: list[tuple[bytes, bytes]], host: str, local: bool
    ) -> _Admitted | _Refusal:
        """The connection's role and pool place, or the HTTP refusal of its handshake."""
        headers = [(name.lower(), value) for name, value in raw_headers]
        origins = [value for name, value in headers if name == b"origin"]
        if origins and (
            len(origins) > 1 or _origin(origins[0].decode("latin-1")) not in self._origins
        ):
            return 403, b"forbidden origin\n", _PLAIN
        authorization = [value for name, value in headers if name == b"authorization"]
        grant: Grant | None = None
        if authorization:
            scheme, _, presented = authorization[0].decode("latin-1").strip().partition(" ")
            if len(authorization) > 1 or scheme.lower() != "bearer":
                return 401, b"use one header: Authorization: Bearer <control token>\n", _PLAIN
            try:
                grant = self._authenticator.check(presented.strip(), host, local=local)
            except ControlError as exc:
                if exc.code == ErrorCode.RATE_LIMITED:
                    retry = str(max(1, round((exc.data or {}).get("retry_after", 1))))
                    retry_after = [(b"retry-after", retry.encode())]
                    return 429, b"too many failed logins\n", [*_PLAIN, *retry_after]
                return 401, b"wrong control token\n", _PLAIN
        slot = self.admission.admit(host, authenticated=grant is not None)
        if isinstance(slot, str):
            return 503, f"{slot}\n".encode(), _PLAIN
        return _Admitted(grant, slot)

    async def _login(self, conn: ControlConnection, token: str) -> Grant:
        """``auth.login``: the per-connection throttle, the token, the move between pools."""
        await conn.logins.wait_turn()  # after a failure: later, and nothing else is read
        if conn.close_after_reply is not None:  # a batch of logins that already failed
            raise ControlError(ErrorCode.UNAUTHORIZED, "unauthorized: too many failed logins")
        try:
            grant = self._authenticator.check(token, conn.host, local=conn.local)
        except ControlError:
            if conn.logins.failed(self._login_policy):
                conn.close_after_reply = CloseRequest(1008, "too many failed logins")
            raise
        if not self.admission.promote(conn.slot):
            raise ControlError(
                ErrorCode.RATE_LIMITED,
                "too many authenticated control connections; retry later",
                {"retry_after": 1.0},
            )
        if grant.role is not conn.role:  # routine, like connecting: debug only
            log.debug("control client %s logged in (%s)", conn.peer, grant.role.label)
        if grant.note is not None:
            log.info("control client %s: %s", conn.peer, grant.note)
        conn.role = grant.role
        return grant

    async def _auth_deadline(self, conn: ControlConnection, deadline: float) -> None:
        await trio.sleep_until(deadline)
        if not conn.authenticated:
            self.admission.auth_timeouts += 1
            seconds = self.limits.auth_timeout
            conn.drop(1008, f"authentication timeout: no login within {seconds:g} s of connecting")

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
                await self._close_after(conn, CloseRequest(1009, "message too large"))
                return
            frame = parse_frame(data)
            reply = Reply(conn, len(frame.items), frame.batch)
            for item in frame.items:
                if isinstance(item, Response):
                    await reply.add(item)
                else:
                    await self._dispatcher.dispatch(conn, item, reply, nursery)
            if conn.close_after_reply is not None:
                await self._close_after(conn, conn.close_after_reply)
                return

    async def _close_after(self, conn: ControlConnection, close: CloseRequest) -> None:
        """Queue ``close`` behind the frames already queued; the writer sends them and ends
        the connection (this waits for it, bounded)."""
        await conn.put(close)
        await trio.sleep(CLOSE_TIMEOUT)

    def _too_large(self, data: str | bytes) -> bool:
        limit = self.max_message_bytes
        if len(data) > limit:
            return True
        # A character takes at most 4 UTF-8 bytes: only count the bytes when it could matter.
        return isinstance(data, str) and len(data) * 4 > limit and len(data.encode()) > limit

    def statistics(self) -> AdmissionStatistics:
        """The connection pools now, and the refusals since start."""
        return self.admission.statistics()


class _Admitted:
    """A handshake let in: the token's grant (``None``: no token) and the pool place."""

    __slots__ = ("grant", "slot")

    def __init__(self, grant: Grant | None, slot: Slot) -> None:
        self.grant = grant
        self.slot = slot


def _origin(value: str) -> str:
    return value.strip().lower().rstrip("/")


async def serve_control(
    registry: Registry,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str,
    admin_token: str | None = None,
    remote_admin: bool = False,
    hub: ControlHub | None = None,
    allowed_origins: Collection[str] = (),
    ssl_context: Any = None,
    allow_remote: bool = False,
    max_message_bytes: int = 1 << 20,
    rate: tuple[int, float] = (50, 1.0),
    send_queue: int = 256,
    max_connections: int | None = None,
    limits: ConnectionLimits | None = None,
    secrets: Collection[str] = (),
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Serve the control channel over TCP until cancelled.

    ``port = await nursery.start(partial(serve_control, registry, token=...))`` returns the
    bound port (``port=0`` picks a free one; a host name is then resolved and only its first
    address bound, so that there is one port to report). The other arguments are those of
    :class:`ControlServer`. The connection limits are shrunk, with a warning, when they would
    take more than a quarter of the process's descriptor limit
    (:func:`pywats_station.fdlimit.control_budget`).

    Args:
        registry: The methods.
        host: The address to bind: loopback by default.
        port: The TCP port.
        token: The operator token.
        admin_token: The admin token.
        remote_admin: Whether clients on other machines may hold the admin role.
        hub: The daemon's hub.
        allowed_origins: Browser origins allowed (none by default).
        ssl_context: A server ``ssl.SSLContext`` for ``wss://``.
        allow_remote: Bind a non-loopback address without TLS (the token then crosses the
            network in clear text).
        max_message_bytes: The largest frame accepted.
        rate: Per-connection ``(burst, period)``.
        send_queue: Per-connection outgoing frames before a slow client is dropped.
        max_connections: Authenticated clients at once.
        limits: The connection pools and deadlines.
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
    wanted = limits or ConnectionLimits()
    if max_connections is not None:
        wanted = replace(wanted, max_authenticated=max_connections)
    budget = fdlimit.control_budget()
    fitted = wanted if budget is None else wanted.fit(budget)
    if fitted != wanted:
        log.warning(
            "the open file limit (%s) leaves the control channel %d descriptors: it admits "
            "%d clients (and %d handshakes, %d without a token) instead of %d. Raise "
            "LimitNOFILE (see docs/operations.md).",
            fdlimit.soft_limit(),
            budget,
            fitted.max_authenticated,
            fitted.max_pending,
            fitted.max_unauthenticated,
            wanted.max_authenticated,
        )
    server = ControlServer(
        registry,
        token=token,
        admin_token=admin_token,
        remote_admin=remote_admin,
        hub=hub,
        allowed_origins=allowed_origins,
        secrets=secrets,
        max_message_bytes=max_message_bytes,
        rate=rate,
        send_queue=send_queue,
        limits=fitted,
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
    for listener in listeners:
        defer_accept(listener, server.limits.handshake_timeout)
    async with trio.open_nursery() as nursery:
        # trio-websocket's serve_websocket is not used: a client that sends a malformed
        # handshake and resets makes its connection task raise, which ends the whole server.
        # serve_stream contains every connection's failure; our serve_listeners logs running
        # out of descriptors once instead of ten times a second.
        await nursery.start(serve_listeners, server.serve_stream, listeners)
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

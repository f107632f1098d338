"""The server's side of one client: its outgoing queue, subscriptions, role and limits.

Time comes from trio's clock, so tests drive the rate limits with ``autojump_clock``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import msgspec
import trio

from pywats_station.control._admission import Slot
from pywats_station.control._bucket import TokenBucket
from pywats_station.control._login import ConnectionLogins, Grant
from pywats_station.control.roles import Role, RoleName

__all__ = [
    "CloseRequest",
    "ConnectionStatistics",
    "ControlConnection",
    "LoginFunction",
]

ALL_EVENTS: Final = "*"

LoginFunction = Callable[["ControlConnection", str], Awaitable[Grant]]
"""The server's login procedure: checks a token for a connection, sets and returns its role."""


@dataclass(frozen=True)
class CloseRequest:
    """Queued after a final error frame: the writer closes the websocket when it gets here."""

    code: int
    reason: str


class ConnectionStatistics(msgspec.Struct, kw_only=True):
    """One control connection, for ``ControlHub.connections()``.

    Attributes:
        id: Connection number (per server, from 1).
        peer: The client's address.
        authenticated: Whether it is authenticated.
        role: What it may do (``none``, ``operator``, ``admin``).
        subscriptions: Subscribed events, sorted.
        connected_at: When it connected (seconds since the epoch).
        received: Frames received.
        sent: Frames sent.
        queued: Frames waiting in its outgoing queue.
        closing: Why the server is closing it, if it is.
    """

    id: int
    peer: str
    authenticated: bool
    role: RoleName
    subscriptions: list[str]
    connected_at: float
    received: int
    sent: int
    queued: int
    closing: str | None = None


class ControlConnection:
    """The server's state for one websocket client; created by the server, read by handlers.

    Everything sent to the client goes through one bounded queue drained by a single writer
    task: responses wait for room (:meth:`put`, back-pressure on that client's own requests),
    notifications never wait (:meth:`offer`); a client whose queue is full when an event
    arrives is dropped (:meth:`drop`) rather than slowing the publisher.

    Attributes:
        id: Connection number.
        peer: The client's address (``host:port``) for logs and statistics.
        host: The client's address without port (the failed-login throttle's key).
        local: Whether the client is on this machine (loopback or in-process).
        role: What the connection may do; :attr:`Role.NONE` until it authenticates.
        slot: Its place in the server's pools.
        logins: Its failed logins (the per-connection login throttle).
        subscriptions: Subscribed events; ``"*"`` means all.
    """

    def __init__(
        self,
        *,
        id: int,  # noqa: A002
        peer: str,
        host: str,
        local: bool,
        role: Role,
        slot: Slot,
        login: LoginFunction,
        send_queue: int,
        rate: tuple[int, float],
        max_in_flight: int,
    ) -> None:
        self.id = id
        self.peer = peer
        self.host = host
        self.local = local
        self.role = role
        self.slot = slot
        self.logins = ConnectionLogins()
        self.subscriptions: set[str] = set()
        self.connected_at = time.time()
        self.received = 0
        self.sent = 0
        self.rate = TokenBucket(*rate, now=trio.current_time())
        self.in_flight = trio.Semaphore(max_in_flight)
        self.scope = trio.CancelScope()
        self.close_code = 1000
        self.close_reason: str | None = None
        # Set by a handler whose reply must be the last frame (too many failed logins): the
        # reader queues it after that reply and stops reading.
        self.close_after_reply: CloseRequest | None = None
        self._login = login
        self._outbox, self.outgoing = trio.open_memory_channel[str | CloseRequest](send_queue)

    # -- auth and subscriptions (used by the built-in methods) -----------------------------------

    @property
    def authenticated(self) -> bool:
        """Whether the connection holds a role (presented a correct token)."""
        return self.role > Role.NONE

    async def login(self, token: str) -> Grant:
        """Authenticate with ``token``; the role it now holds (``grant.role``).

        Raises:
            ControlError: -32001 wrong token, -32003 throttled or no room for it.
        """
        return await self._login(self, token)

    def wants(self, event: str) -> bool:
        """Whether this connection subscribed to ``event``."""
        return event in self.subscriptions or ALL_EVENTS in self.subscriptions

    # -- the outgoing queue ------------------------------------------------------------------------

    def offer(self, frame: str) -> bool:
        """Queue a frame without waiting; ``False`` if the queue is full or closed."""
        try:
            self._outbox.send_nowait(frame)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    async def put(self, item: str | CloseRequest) -> None:
        """Queue a frame (or the close request), waiting for room; dropped if closing."""
        # Closed: the connection is going away, nobody would read the reply.
        with contextlib.suppress(trio.ClosedResourceError, trio.BrokenResourceError):
            await self._outbox.send(item)

    def drop(self, code: int, reason: str) -> None:
        """Close the connection from synchronous code: stops its tasks; the server closes it.

        Idempotent; the first reason wins.
        """
        if self.close_reason is None:
            self.close_code, self.close_reason = code, reason
        self._outbox.close()
        self.scope.cancel()

    def statistics(self) -> ConnectionStatistics:
        """A snapshot for the hub's statistics."""
        return ConnectionStatistics(
            id=self.id,
            peer=self.peer,
            authenticated=self.authenticated,
            role=self.role.label,
            subscriptions=sorted(self.subscriptions),
            connected_at=self.connected_at,
            received=self.received,
            sent=self.sent,
            queued=self._outbox.statistics().current_buffer_used,
            closing=self.close_reason,
        )

"""The server's side of one client: its outgoing queue, subscriptions, auth state and limits.

Time comes from trio's clock, so tests drive the rate limits with ``autojump_clock``.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from dataclasses import dataclass
from typing import Final

import msgspec
import trio

from pywats_station.control.protocol import ControlError, ErrorCode

__all__ = [
    "Authenticator",
    "CloseRequest",
    "ConnectionStatistics",
    "ControlConnection",
    "TokenBucket",
]

ALL_EVENTS: Final = "*"


class TokenBucket:
    """A token bucket: ``burst`` tokens at most, refilled at ``burst / period`` per second.

    Args:
        burst: Capacity: how many takes may happen at once.
        period: Seconds to refill an empty bucket.
        now: The current time (``trio.current_time()``).
    """

    def __init__(self, burst: int, period: float, *, now: float) -> None:
        if burst < 1 or period <= 0:
            raise ValueError(f"rate limit needs burst >= 1 and period > 0, got {burst}/{period}")
        self.capacity = float(burst)
        self.per_second = burst / period
        self._tokens = float(burst)
        self._stamp = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.per_second)
        self._stamp = now

    def take(self, now: float) -> bool:
        """Take one token if there is one."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def available(self, now: float) -> bool:
        """Whether a take would succeed now (takes nothing)."""
        self._refill(now)
        return self._tokens >= 1.0

    def full(self, now: float) -> bool:
        """Whether the bucket is back to its capacity."""
        self._refill(now)
        return self._tokens >= self.capacity

    def retry_after(self, now: float) -> float:
        """Seconds until one token is available."""
        self._refill(now)
        return max(0.0, (1.0 - self._tokens) / self.per_second)


class Authenticator:
    """Checks presented control tokens; throttles failed attempts per client address.

    Only failures take from an address's bucket. While it is empty every attempt from that
    address is refused with -32003 *without* looking at the token (a correct one included), so a
    guesser learns nothing; a legitimate client retries after ``retry_after``.

    Args:
        token: The control token.
        failures: ``(burst, period)`` of the per-address failure bucket.
        max_tracked: Addresses remembered at most (full buckets are forgotten first).
    """

    def __init__(
        self, token: str, *, failures: tuple[int, float] = (5, 10.0), max_tracked: int = 1024
    ) -> None:
        self._token = _utf8(token)
        self._failures = failures
        self._max_tracked = max_tracked
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, presented: str, address: str) -> None:
        """Accept ``presented`` or raise.

        Raises:
            ControlError: -32003 while ``address`` is throttled, -32001 for a wrong token.
        """
        now = trio.current_time()
        bucket = self._buckets.get(address)
        if bucket is not None and not bucket.available(now):
            raise ControlError(
                ErrorCode.RATE_LIMITED,
                "too many failed logins; retry later",
                {"retry_after": round(bucket.retry_after(now), 3)},
            )
        if hmac.compare_digest(_utf8(presented), self._token):
            return
        if bucket is None:
            self._forget_some(now)
            bucket = self._buckets[address] = TokenBucket(*self._failures, now=now)
        bucket.take(now)
        raise ControlError(ErrorCode.UNAUTHORIZED, "unauthorized: wrong control token")

    def _forget_some(self, now: float) -> None:
        if len(self._buckets) < self._max_tracked:
            return
        for address in [a for a, b in self._buckets.items() if b.full(now)]:
            del self._buckets[address]
        while len(self._buckets) >= self._max_tracked:  # all throttled: forget the oldest
            del self._buckets[next(iter(self._buckets))]


def _utf8(text: str) -> bytes:
    # surrogatepass: a str from an in-process caller may hold lone surrogates; never raise on it.
    return text.encode("utf-8", "surrogatepass")


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
        authenticated: Whether the connection presented the control token.
        subscriptions: Subscribed events; ``"*"`` means all.
    """

    def __init__(
        self,
        *,
        id: int,  # noqa: A002
        peer: str,
        host: str,
        authenticated: bool,
        authenticator: Authenticator,
        send_queue: int,
        rate: tuple[int, float],
        max_in_flight: int,
    ) -> None:
        self.id = id
        self.peer = peer
        self.host = host
        self.authenticated = authenticated
        self.subscriptions: set[str] = set()
        self.connected_at = time.time()
        self.received = 0
        self.sent = 0
        self.rate = TokenBucket(*rate, now=trio.current_time())
        self.in_flight = trio.Semaphore(max_in_flight)
        self.scope = trio.CancelScope()
        self.close_code = 1000
        self.close_reason: str | None = None
        self._authenticator = authenticator
        self._outbox, self.outgoing = trio.open_memory_channel[str | CloseRequest](send_queue)

    # -- auth and subscriptions (used by the built-in methods) -----------------------------------

    def login(self, token: str) -> None:
        """Authenticate with ``token``; raises ``ControlError`` (-32001, -32003) if refused."""
        self._authenticator.check(token, self.host)
        self.authenticated = True

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
            subscriptions=sorted(self.subscriptions),
            connected_at=self.connected_at,
            received=self.received,
            sent=self.sent,
            queued=self._outbox.statistics().current_buffer_used,
            closing=self.close_reason,
        )

"""Who gets a place on the control channel: the pools of connections, and their limits.

Every TCP connection the server accepts is in exactly one pool, each bounded, so that
strangers can neither exhaust the daemon's file descriptors nor its memory, nor crowd out the
clients that hold a token:

=================  ====================================================================
pool               who, and what happens when it is full
=================  ====================================================================
pending            accepted, websocket handshake not complete (at most ``handshake_timeout``
                   seconds). Full: the oldest pending connection that has sent nothing yet
                   (else the oldest that sent part of a request and stopped, else the oldest)
                   is closed to make room. A real client sends its whole handshake at once and
                   is through in a round trip; idle and stalled sockets are what gets pushed
                   out.
unauthenticated    handshake done without a token; must log in within ``auth_timeout``
                   seconds of connecting. Bounded in total and per client address. Full: HTTP
                   503 at the handshake.
authenticated      presented a correct token (``Authorization: Bearer`` at the handshake, or
                   ``auth.login``). A client with the header goes straight here, whatever the
                   other pools hold. Full: HTTP 503 (or -32003 for ``auth.login``).
=================  ====================================================================

The limits' sum (:attr:`ConnectionLimits.descriptors`) is the most descriptors the channel
holds; :meth:`ConnectionLimits.fit` shrinks them to a budget so that the queue, converters and
uploads always have descriptors left. Refusals are counted and logged once, then summarised at
most once a minute (:class:`RefusalLog`): a flood must not flood the journal too.
"""

from __future__ import annotations

import logging
import math
import select
from dataclasses import dataclass, replace
from typing import Final

import msgspec
import trio

__all__ = [
    "Admission",
    "AdmissionStatistics",
    "ConnectionLimits",
    "HeardStream",
    "RefusalLog",
    "Slot",
]

log = logging.getLogger("pywats_station.control")

SUMMARY_PERIOD: Final = 60.0
"""Seconds between two log lines about the same kind of refusal."""


@dataclass(frozen=True)
class ConnectionLimits:
    """The pools' sizes and the deadlines of a connection that has not authenticated.

    Attributes:
        max_pending: Handshakes in progress at once; a new connection beyond it pushes out
            the oldest.
        max_unauthenticated: Connections without a token at once.
        max_unauthenticated_per_address: Of those, from one client address.
        max_authenticated: Authenticated connections at once.
        handshake_timeout: Seconds from connecting to a complete websocket handshake.
        auth_timeout: Seconds from connecting to a successful login (else closed, 1008).
    """

    max_pending: int = 64
    max_unauthenticated: int = 16
    max_unauthenticated_per_address: int = 8
    max_authenticated: int = 64
    handshake_timeout: float = 10.0
    auth_timeout: float = 10.0

    def __post_init__(self) -> None:
        counts = (self.max_pending, self.max_unauthenticated, self.max_authenticated)
        if min(counts) < 1 or self.max_unauthenticated_per_address < 1:
            raise ValueError("every connection limit must be 1 or more")
        if self.handshake_timeout <= 0 or self.auth_timeout <= 0:
            raise ValueError("the handshake and authentication timeouts must be positive")

    @property
    def descriptors(self) -> int:
        """The most file descriptors the control channel holds for its clients."""
        return self.max_pending + self.max_unauthenticated + self.max_authenticated

    def fit(self, budget: int) -> ConnectionLimits:
        """These limits, scaled down (never up) so that :attr:`descriptors` <= ``budget``."""
        if self.descriptors <= budget:
            return self
        scale = max(budget, 3) / self.descriptors

        def shrink(value: int) -> int:
            return max(1, math.floor(value * scale))

        unauthenticated = shrink(self.max_unauthenticated)
        return replace(
            self,
            max_pending=shrink(self.max_pending),
            max_unauthenticated=unauthenticated,
            max_unauthenticated_per_address=min(
                self.max_unauthenticated_per_address, unauthenticated
            ),
            max_authenticated=shrink(self.max_authenticated),
        )


class AdmissionStatistics(msgspec.Struct, kw_only=True):
    """The pools now, and the refusals since start.

    Attributes:
        pending: Handshakes in progress.
        unauthenticated: Connections that have not logged in.
        authenticated: Authenticated connections.
        pushed_out: Pending handshakes closed to make room for newer ones.
        refused: Handshakes refused for a full pool (HTTP 503).
        auth_timeouts: Connections closed for not logging in in time.
    """

    pending: int
    unauthenticated: int
    authenticated: int
    pushed_out: int
    refused: int
    auth_timeouts: int


class RefusalLog:
    """Logs one kind of refusal once, then a count at most every ``period`` seconds.

    Args:
        what: The refusal, as the log says it (``"control connections refused: ..."``).
        period: Seconds between two lines.
    """

    def __init__(self, what: str, *, period: float = SUMMARY_PERIOD) -> None:
        self.what = what
        self.period = period
        self.total = 0
        self._unlogged = 0
        self._logged_at: float | None = None

    def add(self, detail: str) -> None:
        """Count one refusal (``detail``: the client, for the first line)."""
        self.total += 1
        now = trio.current_time()
        if self._logged_at is None:
            log.warning(
                "%s (%s); more are counted and logged at most every %.0f s",
                self.what,
                detail,
                self.period,
            )
            self._logged_at = now
        elif now - self._logged_at >= self.period:
            log.warning(
                "%s: %d more in the last %.0f s",
                self.what,
                self._unlogged + 1,
                now - self._logged_at,
            )
            self._logged_at, self._unlogged = now, 0
        else:
            self._unlogged += 1


class HeardStream(trio.abc.Stream):
    """A stream that notes whether its client has sent anything yet (the pending pool asks).

    :meth:`wait_heard` reads the first bytes and keeps them for the first :meth:`receive_some`,
    so that nothing but this object and the task waiting exists for a socket that stays
    silent: the websocket machinery is built only for a client that speaks.

    Args:
        stream: The client's stream; this one reads and writes through it.
    """

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.heard = False
        self.complete = False  # a whole HTTP request head has come (it ends in a blank line)
        self._tail = b""
        self._first = b""
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        self._fd = transport.socket.fileno() if isinstance(transport, trio.SocketStream) else -1

    def spoke(self) -> bool:
        """Whether the client has sent anything that is still worth reading.

        Bytes read by us, or waiting in the kernel: under load the accept loop can run ahead
        of the connections' tasks, and a client's handshake may have arrived before its task
        had a turn to read it. A client that closed its side without a word has not spoken.
        """
        return self.heard or (self._fd >= 0 and _waiting(self._fd))

    async def wait_heard(self) -> bool:
        """Wait for the client's first bytes; ``False`` if it closed without a word."""
        data = bytes(await self.stream.receive_some())
        self._first, self.heard = data, bool(data)
        self._note(data)
        return self.heard

    def _note(self, data: bytes | bytearray) -> None:
        if not self.complete and data:
            seen = self._tail + data
            self.complete = b"\r\n\r\n" in seen
            self._tail = bytes(seen[-3:])

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send through the wrapped stream."""
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """As the wrapped stream."""
        await self.stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """The bytes kept by :meth:`wait_heard` first, then those of the wrapped stream."""
        if self._first:
            size = len(self._first) if max_bytes is None else max_bytes
            first, self._first = self._first[:size], self._first[size:]
            return first
        data = await self.stream.receive_some(max_bytes)
        if data:
            self.heard = True
            self._note(data)
        return data

    async def aclose(self) -> None:
        """Close the wrapped stream."""
        await self.stream.aclose()


def _waiting(fd: int) -> bool:
    """Whether ``fd`` has bytes to read now and its peer is still there (no read, no wait)."""
    try:
        if _poll is not None:
            poller = _poll()
            poller.register(fd, select.POLLIN | _RDHUP)
            events = poller.poll(0)
            return bool(events) and not events[0][1] & (_RDHUP | select.POLLHUP)
        return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows
    except (OSError, ValueError):  # closed meanwhile: nothing worth keeping
        return False


_poll = getattr(select, "poll", None)  # not select(): descriptors above 1023 are normal here
_RDHUP: int = getattr(select, "POLLRDHUP", 0)  # Linux: the peer closed its side


class _Pending:
    __slots__ = ("scope", "stream")

    def __init__(self, scope: trio.CancelScope, stream: HeardStream) -> None:
        self.scope = scope
        self.stream = stream


class Slot:
    """One connection's place in the unauthenticated or the authenticated pool.

    Attributes:
        host: The client's address (the per-address limit's key).
        authenticated: Which pool it is in.
    """

    __slots__ = ("authenticated", "host", "released")

    def __init__(self, host: str, authenticated: bool) -> None:
        self.host = host
        self.authenticated = authenticated
        self.released = False


class Admission:
    """The pools of one control server; see the module docstring.

    Args:
        limits: The pools' sizes.
    """

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._pending: dict[int, _Pending] = {}
        self._next_key = 0
        self._unauthenticated: dict[str, int] = {}  # address -> connections
        self._unauthenticated_total = 0
        self._authenticated = 0
        self.pushed_out = RefusalLog("control handshakes pushed out by newer connections")
        self.refused = RefusalLog("control connections refused: pool full")
        self.auth_timeouts = 0

    # -- pending handshakes --------------------------------------------------------------------

    def start_handshake(self, scope: trio.CancelScope, stream: HeardStream) -> int:
        """Enter a handshake that ``scope`` covers, over ``stream``.

        If the pool is full, one pending handshake is cancelled to make room, in this order:
        the oldest whose client has sent nothing (not even into the kernel's buffer), else
        the oldest that has sent part of a request and stopped, else the oldest. A real
        client sends its whole handshake at once and is through as soon as its task runs:
        under a flood the accept loop may run ahead of those tasks, so bytes waiting in the
        kernel count as sent.

        Returns:
            The key for :meth:`end_handshake`.
        """
        while len(self._pending) >= self.limits.max_pending:
            self._pending.pop(self._victim()).scope.cancel()
            self.pushed_out.add(f"{self.limits.max_pending} handshakes pending")
        self._next_key += 1
        self._pending[self._next_key] = _Pending(scope, stream)
        return self._next_key

    def _victim(self) -> int:
        stalled: int | None = None
        for key, pending in self._pending.items():
            stream = pending.stream
            if stream.heard:
                if stalled is None and not stream.complete:
                    stalled = key
            elif not stream.spoke():
                return key  # silent: the first choice
        return stalled if stalled is not None else next(iter(self._pending))

    def end_handshake(self, key: int) -> None:
        """Leave the pending pool (handshake done, failed or pushed out); idempotent."""
        self._pending.pop(key, None)

    # -- the two pools of websocket connections ------------------------------------------------

    def admit(self, host: str, *, authenticated: bool) -> Slot | str:
        """A place in the pool the connection belongs to, or why there is none."""
        if authenticated:
            if self._authenticated >= self.limits.max_authenticated:
                return "too many control connections"
            self._authenticated += 1
            return Slot(host, True)
        if self._unauthenticated_total >= self.limits.max_unauthenticated:
            return "too many control connections without a token"
        if self._unauthenticated.get(host, 0) >= self.limits.max_unauthenticated_per_address:
            return "too many control connections without a token from this address"
        self._unauthenticated_total += 1
        self._unauthenticated[host] = self._unauthenticated.get(host, 0) + 1
        return Slot(host, False)

    def promote(self, slot: Slot) -> bool:
        """Move a connection that just logged in to the authenticated pool; ``False`` if full."""
        if slot.authenticated:
            return True
        if self._authenticated >= self.limits.max_authenticated:
            return False
        self._leave_unauthenticated(slot.host)
        slot.authenticated = True
        self._authenticated += 1
        return True

    def release(self, slot: Slot) -> None:
        """Give the place back (the connection closed); idempotent."""
        if slot.released:
            return
        slot.released = True
        if slot.authenticated:
            self._authenticated -= 1
        else:
            self._leave_unauthenticated(slot.host)

    def _leave_unauthenticated(self, host: str) -> None:
        self._unauthenticated_total -= 1
        left = self._unauthenticated[host] - 1
        if left:
            self._unauthenticated[host] = left
        else:
            del self._unauthenticated[host]  # the map holds only addresses with connections

    def statistics(self) -> AdmissionStatistics:
        """The pools now and the refusals since start."""
        return AdmissionStatistics(
            pending=len(self._pending),
            unauthenticated=self._unauthenticated_total,
            authenticated=self._authenticated,
            pushed_out=self.pushed_out.total,
            refused=self.refused.total,
            auth_timeouts=self.auth_timeouts,
        )

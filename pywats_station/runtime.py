"""What the running daemon knows about itself: connection state, counters, and wake-up events.

One :class:`Runtime` is shared by the actors of a station. It holds no I/O objects' logic: actors
change it, the status file, systemd's STATUS line and the control channel read it.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import msgspec
import trio

if TYPE_CHECKING:
    from pywats_station.queue import Entry

__all__ = ["ConnectionState", "Counters", "Runtime", "StatusSnapshot", "UploadWait"]

# WSJF bytes of just-queued reports the uploader may be offered in memory (Runtime.hand_over):
# as much as one claim of the uploader reads from disk.
HAND_OVER_BYTES = 8 * 1024 * 1024


class ConnectionState(enum.StrEnum):
    """How the station stands with its server."""

    UNCONFIGURED = "unconfigured"  # no server URL
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"  # no answer: network or server down
    AUTH_FAILED = "auth_failed"  # the server refuses our token


class Counters(msgspec.Struct, kw_only=True):
    """Totals since the daemon started."""

    queued: int = 0
    uploaded: int = 0
    upload_failures: int = 0
    rejected: int = 0
    converted: int = 0
    conversion_failures: int = 0


class StatusSnapshot(msgspec.Struct, kw_only=True):
    """The daemon's status as ``pywats-station status --json`` prints it."""

    instance: str
    pid: int
    version: str
    started_at: float
    uptime: float
    station: str
    server_url: str
    connection: str
    connection_error: str | None = None
    server_version: str | None = None
    last_online_at: float | None = None
    registered_client_id: int | None = None
    queue: dict[str, object] = msgspec.field(default_factory=dict)
    counters: Counters = msgspec.field(default_factory=Counters)
    processes_cached: int = 0
    processes_synced_at: float | None = None
    tree: dict[str, object] | None = None
    converters: list[dict[str, object]] = msgspec.field(default_factory=list)
    # Where the control channel listens (state, url, port …), for clients to find it.
    control: dict[str, object] | None = None
    # The certificate of a `wss://` channel (absolute), so that a client on this machine can
    # verify it without reading the config file, which may be invalid by now.
    control_tls_cert: str | None = None
    # Why the config file on disk was not applied (it is invalid; the daemon runs on the one it
    # loaded before); None while the file in force is the one on disk.
    config_problem: str | None = None
    # Uploads wait for the request budget or a server's Retry-After, and until when; None: not.
    upload_wait: UploadWait | None = None
    written_at: float = 0.0


WAIT_NEWS = 5.0
"""Seconds by which a wait's end must move later to be announced again (``upload_waiting``)."""


WaitReason = Literal["rate_limit", "retry_after"]


class UploadWait(msgspec.Struct, kw_only=True, frozen=True):
    """Uploads wait, and until when (``status``, ``station.status``, ``upload_waiting``).

    ``reason``: ``rate_limit`` (the client's request budget, ``server.requests_per_minute``, is
    spent) or ``retry_after`` (the server answered with ``Retry-After``); ``until``: the wait's
    end, wall clock (seconds since the epoch); ``detail``: the same in words.
    """

    reason: WaitReason
    until: float
    detail: str


@dataclass
class Runtime:
    """Mutable state shared by the actors of one daemon (single trio thread: no locks)."""

    instance: str
    station_name: str
    server_url: str
    started_at: float = field(default_factory=time.time)
    connection: ConnectionState = ConnectionState.CONNECTING
    connection_error: str | None = None
    server_version: str | None = None
    last_online_at: float | None = None
    registered_client_id: int | None = None
    processes_cached: int = 0
    processes_synced_at: float | None = None
    counters: Counters = field(default_factory=Counters)
    # Why the config file on disk was refused at the last reload (the running config stays in
    # force); None once a reload accepted it. Shown by `status` and `station.status`.
    config_problem: str | None = None
    # The synced server metadata (processes…), kept by the sync actor; `Any` to keep this
    # module free of the actor's types.
    metadata: object | None = None
    # The latest wait of the uploads (request budget, Retry-After); see current_upload_wait.
    upload_wait: UploadWait | None = None
    # Set while the server answers; uploaders wait on it instead of failing report after report.
    online: trio.Event = field(default_factory=trio.Event)
    # Set to make the connection actor check now (an upload hit a network error).
    check_now: trio.Event = field(default_factory=trio.Event)
    # Set when a report was queued, so the uploader looks at the queue at once.
    queue_changed: trio.Event = field(default_factory=trio.Event)
    # Entries a converter has just queued, with their WSJF bytes, for the uploader to claim
    # without a folder walk and a read (``ReportQueue.claim_put``); a hint only: what is not
    # claimed from here is found on disk. Bounded by ``hand_over``.
    just_queued: list[tuple[Entry, bytes]] = field(default_factory=list)
    # Set by the connection actor on each (re)connect, for the sync actor.
    reconnected: trio.Event = field(default_factory=trio.Event)

    def set_connection(self, state: ConnectionState, error: str | None = None) -> None:
        """Change the connection state and the events that follow from it."""
        self.connection = state
        self.connection_error = error
        if state is ConnectionState.ONLINE:
            self.last_online_at = time.time()
            if not self.online.is_set():
                self.online.set()
                self.reconnected.set()
        elif self.online.is_set():
            self.online = trio.Event()

    def note_upload_wait(
        self, reason: WaitReason, seconds: float, detail: str, now: float | None = None
    ) -> UploadWait | None:
        """Record that uploads wait ``seconds`` from ``now`` (wall clock) for ``reason``.

        Returns the wait when it is news (none was in effect, the reason changed, or its end
        moved later by at least :data:`WAIT_NEWS` seconds): the one to announce.
        """
        now = time.time() if now is None else now
        until = now + max(0.0, seconds)
        current = self.current_upload_wait(now)
        if current is not None and current.until >= until:
            return None  # a wait already known to last at least as long: that one is shown
        self.upload_wait = UploadWait(reason=reason, until=until, detail=detail)
        if current is None or current.reason != reason or until - current.until >= WAIT_NEWS:
            return self.upload_wait
        return None

    def current_upload_wait(self, now: float | None = None) -> UploadWait | None:
        """The wait in effect at ``now`` (wall clock), if any."""
        wait = self.upload_wait
        if wait is None or wait.until <= (time.time() if now is None else now):
            return None
        return wait

    def wake_connection(self) -> None:
        """Ask the connection actor for a health check now."""
        self.check_now.set()

    def wake_uploader(self) -> None:
        """Tell the uploader that the queue has new work."""
        self.queue_changed.set()

    def hand_over(self, queued: Iterable[tuple[Entry, bytes]]) -> None:
        """Offer entries just queued to the uploader (see ``just_queued``), then wake it.

        Only while online (offline, the reports would wait in memory as well as on disk) and
        up to :data:`HAND_OVER_BYTES`: the rest is claimed from the queue's folder as before.
        """
        if self.online.is_set():
            held = sum(len(wsjf) for _, wsjf in self.just_queued)
            for entry, wsjf in queued:
                held += len(wsjf)
                if held > HAND_OVER_BYTES:
                    break
                self.just_queued.append((entry, wsjf))
        self.queue_changed.set()

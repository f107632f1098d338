"""The hub the daemon publishes events through: ``hub.publish(event, payload)``, never blocking.

::

    hub = ControlHub(registry)
    ...                                            # serve_control(registry, hub=hub, ...)
    hub.publish("report_uploaded", ReportUploaded(report_id=..., seq=..., duration=..., depth=...))

Each subscribed connection gets the notification in its bounded outgoing queue; a connection
whose queue is full (its client does not read) is dropped with close code 1008 ("too slow"),
so a stuck client never slows the daemon or the other clients.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Final

import msgspec
import trio

from pywats_station.control._connection import ConnectionStatistics, ControlConnection
from pywats_station.control.protocol import NOTIFY_PREFIX, Notification, encode
from pywats_station.control.registry import Registry

__all__ = ["ControlHub", "HubStatistics"]

log = logging.getLogger("pywats_station.control")

MIN_SECRET: Final = 8  # shorter "secrets" would match harmless text


class HubStatistics(msgspec.Struct, kw_only=True):
    """The hub at a glance.

    Attributes:
        connections: Clients connected now.
        published: Events published since start.
        delivered: Notifications queued to clients.
        dropped_connections: Clients dropped for not reading their events.
    """

    connections: int
    published: int
    delivered: int
    dropped_connections: int


class ControlHub:
    """Fans events out to the subscribed connections; held by the daemon, fed by its actors.

    :meth:`publish` is synchronous and never waits: call it from any task of the daemon's trio
    thread (from another thread: ``trio.from_thread.run_sync(hub.publish, ...)``).

    Args:
        registry: Declares the events; ``publish`` refuses others (catches typos early).
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._connections: dict[int, ControlConnection] = {}
        self._secrets: tuple[bytes, ...] = ()
        self._published = 0
        self._delivered = 0
        self._dropped = 0
        self._joined: trio.Event | None = None  # see wait_connected

    def joined(self) -> None:
        """A connection was added (called by the server): wakes :meth:`wait_connected`."""
        if self._joined is not None:
            self._joined.set()
            self._joined = None

    async def wait_connected(self) -> None:
        """Return once at least one client is connected (at once if one is)."""
        while not self._connections:
            if self._joined is None:
                self._joined = trio.Event()
            await self._joined.wait()

    def publish(self, event: str, payload: msgspec.Struct) -> int:
        """Send ``notify.<event>`` to every connection subscribed to ``event``.

        A connection whose outgoing queue is full is dropped (close code 1008, "too slow"):
        the publisher never waits for a client.

        Args:
            event: A declared event name (``report_uploaded``).
            payload: An instance of the event's payload type.

        Returns:
            How many connections it was queued for.

        Raises:
            ValueError: If the event is not declared.
            TypeError: If the payload is not of the declared type.
        """
        spec = self.registry.notification(event)
        if spec is None:
            raise ValueError(f"event {event!r} is not declared in the registry")
        if not isinstance(payload, spec.payload):
            raise TypeError(f"event {event!r} takes {spec.payload.__name__}, not {payload!r}")
        self._published += 1
        targets = [
            conn
            for conn in self._connections.values()
            if conn.wants(event) and conn.close_reason is None  # not one being dropped
        ]
        if not targets:
            return 0
        data = encode(Notification(method=NOTIFY_PREFIX + event, params=payload))
        if self._leaks(data):
            log.error("event %s not sent: its payload contains a secret", event)
            return 0
        frame = data.decode()
        delivered = 0
        for conn in targets:
            if conn.offer(frame):
                delivered += 1
            else:
                log.warning("control client %s dropped: not reading its events", conn.peer)
                conn.drop(1008, "too slow")
                self._dropped += 1
        self._delivered += delivered
        return delivered

    def connections(self) -> list[ConnectionStatistics]:
        """The connected clients."""
        return [conn.statistics() for conn in self._connections.values()]

    def statistics(self) -> HubStatistics:
        """Counts since start."""
        return HubStatistics(
            connections=len(self._connections),
            published=self._published,
            delivered=self._delivered,
            dropped_connections=self._dropped,
        )

    def _leaks(self, data: bytes) -> bool:
        return any(secret in data for secret in self._secrets)

    def _add_secrets(self, values: Collection[str]) -> None:
        extra = {value.encode() for value in values if len(value) >= MIN_SECRET}
        self._secrets = tuple(set(self._secrets) | extra)

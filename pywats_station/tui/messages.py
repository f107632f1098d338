"""What a station link tells the app: its connection state, a fresh snapshot, an event.

Links post these from their own thread (``App.post_message`` is thread-safe); the app applies
them to the station's :class:`~pywats_station.tui.model.StationModel` on the UI thread.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

__all__ = ["DaemonEvent", "EventBatch", "LinkState", "Snapshot"]


class LinkState(Message):
    """The link to a station changed state.

    Attributes:
        station: The station's label.
        state: ``connecting``, ``online``, ``retrying``, ``auth_failed`` or ``down`` (the
            daemon is not running or cannot be found; the link keeps looking).
        detail: Why it is not online, one line.
        retry_at: ``time.time()`` of the next attempt, when one is scheduled.
        role: The token's role once online (``operator`` or ``admin``).
    """

    def __init__(
        self,
        station: str,
        state: str,
        *,
        detail: str | None = None,
        retry_at: float | None = None,
        role: str | None = None,
    ) -> None:
        super().__init__()
        self.station = station
        self.state = state
        self.detail = detail
        self.retry_at = retry_at
        self.role = role


class Snapshot(Message):
    """The station's whole state as polled: ``station.status``, ``converters.list``,
    ``station.tree`` (each as plain JSON data)."""

    def __init__(
        self, station: str, status: dict[str, Any], converters: list[dict[str, Any]], tree: Any
    ) -> None:
        super().__init__()
        self.station = station
        self.status = status
        self.converters = converters
        self.tree = tree

    def can_replace(self, message: Message) -> bool:
        # A newer snapshot of the same station makes a queued older one worthless.
        return isinstance(message, Snapshot) and message.station == self.station


class DaemonEvent(Message):
    """A notification from the station (``report_uploaded``, ``log_record`` …)."""

    def __init__(self, station: str, event: str, payload: dict[str, Any]) -> None:
        super().__init__()
        self.station = station
        self.event = event
        self.payload = payload


class EventBatch(Message):
    """Notifications gathered over a moment, oldest first (``[(event, payload), …]``)."""

    def __init__(self, station: str, events: list[tuple[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.station = station
        self.events = events

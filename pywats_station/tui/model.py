"""What the UI knows of one station: the last snapshot, brought up to date by events.

Plain Python (no Textual), so the rules (what an event changes, how uploads per minute are
counted, what is kept and for how long) are tested without a terminal. Everything kept is
bounded: a station that uploads for a month does not grow the UI.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIVITY_EVENTS", "Activity", "Failure", "StationModel", "unit_text"]

ACTIVITY_EVENTS = frozenset({"report_queued", "report_uploaded", "report_rejected"})
MAX_ACTIVITY = 200
MAX_FAILURES = 50
MAX_LOG = 2000
SPARK_MINUTES = 30
"""Minutes of uploads the dashboard's sparkline covers."""


@dataclass(frozen=True)
class Activity:
    """One report event: what happened to which unit, and when."""

    time: float
    event: str
    report_id: str
    unit: dict[str, Any] | None
    detail: str | None = None


@dataclass(frozen=True)
class Failure:
    """A file that did not convert or a report the server rejected, with the reason."""

    time: float
    what: str
    reason: str


def unit_text(unit: dict[str, Any] | None) -> str:
    """``SN 1234 · PN ABC rev B · op 10 · Passed``: a unit in one short line."""
    if not unit:
        return ""
    parts = []
    if unit.get("serial_number"):
        parts.append(f"SN {unit['serial_number']}")
    if unit.get("part_number"):
        rev = f" rev {unit['revision']}" if unit.get("revision") else ""
        parts.append(f"PN {unit['part_number']}{rev}")
    if unit.get("process_code") is not None:
        parts.append(f"op {unit['process_code']}")
    if unit.get("result"):
        parts.append(str(unit["result"]))
    return " · ".join(parts)


@dataclass
class StationModel:
    """One station as the UI sees it.

    Attributes:
        label: How the UI names it (the ``--url``, the instance, or the config's ``name``).
        link: The link's state (see :class:`~pywats_station.tui.messages.LinkState`).
        status: The last ``station.status`` (None until the first answer).
        converters: The last ``converters.list`` entries.
        tree: The last ``station.tree``.
        updated_at: When data last came from the station; older data is shown greyed out.
    """

    label: str
    link: str = "connecting"
    link_detail: str | None = None
    retry_at: float | None = None
    role: str | None = None
    status: dict[str, Any] | None = None
    converters: list[dict[str, Any]] = field(default_factory=list)
    tree: dict[str, Any] | None = None
    updated_at: float | None = None
    activity: deque[Activity] = field(default_factory=lambda: deque(maxlen=MAX_ACTIVITY))
    failures: deque[Failure] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES))
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_LOG))
    log_seq: int = 0
    """Log records received so far (a screen showing the log appends what is newer)."""
    _uploads: deque[float] = field(default_factory=deque)

    @property
    def online(self) -> bool:
        return self.link == "online"

    @property
    def stale(self) -> bool:
        """What is shown is the last known state, not the live one."""
        return not self.online

    def set_link(
        self, state: str, detail: str | None, retry_at: float | None, role: str | None
    ) -> None:
        self.link, self.link_detail, self.retry_at = state, detail, retry_at
        if role is not None:
            self.role = role

    def apply_snapshot(
        self, status: dict[str, Any], converters: list[dict[str, Any]], tree: Any
    ) -> None:
        first = self.status is None
        self.status, self.converters = status, converters
        self.tree = tree if isinstance(tree, dict) else None
        self.updated_at = time.time()
        if first:
            # Failures from before the UI connected: each converter's last one, when it had it.
            for conv in converters:
                if conv.get("last_error") and conv.get("failed"):
                    # Its last file may be a later good one: the converter is what is known.
                    what = f"converter {conv.get('name')}"
                    stamp = conv.get("last_activity_at") or self.updated_at
                    self.failures.append(Failure(float(stamp), what, str(conv["last_error"])))

    def apply_event(
        self, event: str, payload: dict[str, Any], now: float | None = None
    ) -> set[str]:
        """Bring the model up to date with one event.

        Returns:
            The areas that changed: ``status``, ``converters``, ``tree``, ``activity``,
            ``failures``, ``log``.
        """
        now = time.time() if now is None else now
        self.updated_at = now
        changed: set[str] = set()
        if event == "counters" and self.status is not None:
            self.status["counters"] = payload.get("counters", self.status.get("counters"))
            self.status["queue"] = payload.get("queue", self.status.get("queue"))
            changed.add("status")
        elif event in ACTIVITY_EVENTS:
            self._on_report(event, payload, now, changed)
        elif event == "file_converted":
            self._bump(payload.get("converter"), "converted", payload.get("path"), None)
            changed.add("converters")
        elif event == "file_failed":
            reason = str(payload.get("error", ""))
            self._bump(payload.get("converter"), "failed", payload.get("path"), reason)
            self.failures.append(Failure(now, f"{payload.get('path', '?')}", reason))
            changed |= {"converters", "failures"}
        elif event == "actor_state":
            self._on_actor(payload)
            changed |= {"tree", "converters"}
        elif event == "log_record":
            self.log.append(payload)
            self.log_seq += 1
            changed.add("log")
        return changed

    def uploads_per_minute(self, now: float | None = None) -> list[int]:
        """Uploads in each of the last :data:`SPARK_MINUTES` minutes, oldest first."""
        now = time.time() if now is None else now
        buckets = [0] * SPARK_MINUTES
        for stamp in self._uploads:
            age = int((now - stamp) // 60)
            if 0 <= age < SPARK_MINUTES:
                buckets[SPARK_MINUTES - 1 - age] += 1
        return buckets

    def converter(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.converters if c.get("name") == name), None)

    def tree_nodes(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The supervision tree depth first, with each node's depth."""

        def walk(node: dict[str, Any], depth: int) -> Iterator[tuple[int, dict[str, Any]]]:
            yield depth, node
            for child in node.get("children") or []:
                yield from walk(child, depth + 1)

        if self.tree is not None:
            yield from walk(self.tree, 0)

    # --- event details -----------------------------------------------------------------------

    def _on_report(
        self, event: str, payload: dict[str, Any], now: float, changed: set[str]
    ) -> None:
        detail = payload.get("reason") if event == "report_rejected" else None
        unit = payload.get("unit") if isinstance(payload.get("unit"), dict) else None
        self.activity.append(Activity(now, event, str(payload.get("report_id", "")), unit, detail))
        changed.add("activity")
        if event == "report_uploaded":
            self._uploads.append(now)
            while self._uploads and now - self._uploads[0] > SPARK_MINUTES * 60:
                self._uploads.popleft()
        if event == "report_rejected":
            what = unit_text(unit) or str(payload.get("report_id", ""))
            self.failures.append(Failure(now, what, f"rejected: {detail}"))
            changed.add("failures")
        queue = self.status.get("queue") if self.status is not None else None
        if isinstance(queue, dict) and isinstance(payload.get("depth"), int):
            queue["depth"] = payload["depth"]
            changed.add("status")

    def _bump(self, name: Any, counter: str, path: Any, error: str | None) -> None:
        found = self.converter(str(name))
        if found is None:
            return
        found[counter] = int(found.get(counter) or 0) + 1
        found["last_file"] = path
        found["last_activity_at"] = time.time()
        if error is not None:
            found["last_error"] = error

    def _on_actor(self, payload: dict[str, Any]) -> None:
        path = str(payload.get("path", ""))
        names = path.split("/")
        node = self.tree
        # The path starts at the root's own name.
        if node is None or not names or node.get("name") != names[0]:
            return
        for name in names[1:]:
            node = next((c for c in node.get("children") or [] if c.get("name") == name), None)
            if node is None:
                return
        node["state"] = payload.get("state", node.get("state"))
        node["restarts"] = payload.get("restarts", node.get("restarts"))
        if payload.get("last_error"):
            node["last_error"] = payload["last_error"]
        if names[-1].startswith("converter:"):
            conv = self.converter(names[-1].removeprefix("converter:"))
            if conv is not None and conv.get("enabled", True):
                conv["state"] = node["state"]

"""The dashboard: the station at a glance, kept current by events."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from pywats_station.tui.model import Activity, StationModel
from pywats_station.tui.screens.base import StationView, ago
from pywats_station.tui.widgets import fill_table, state_text

__all__ = ["DashboardScreen", "server_text", "queue_text"]

_ACTIVITY_ROWS = 20
"""Recent reports listed (more scroll off the panel anyway; each row costs a redraw)."""
_EVENT_WORD = {
    "report_queued": "queued",
    "report_uploaded": "uploaded",
    "report_rejected": "rejected",
}


def server_text(model: StationModel, now: float | None = None) -> Text:
    """The server and the station's connection to it (not the TUI's link to the station)."""
    now = time.time() if now is None else now
    status = model.status
    text = Text()
    if status is None:
        text.append("no answer from the station yet", style="dim")
        return text
    text.append(f"{status.get('server_url', '?')}\n")
    state = str(status.get("connection", "?"))
    text.append_text(state_text(state))
    version = status.get("server_version")
    if version:
        text.append(f" · WATS {version}", style="dim")
    text.append("\n")
    if state != "online" and status.get("connection_error"):
        text.append(f"{status['connection_error']}\n", style="yellow")
    queue = status.get("queue") or {}
    next_at = queue.get("next_attempt_at")
    if isinstance(next_at, int | float) and next_at > now and queue.get("failed"):
        text.append(f"next send in {next_at - now:.0f} s\n", style="yellow")
    wait = status.get("upload_wait") or {}
    until = wait.get("until")
    if isinstance(until, int | float) and until > now:  # the request budget, a Retry-After
        text.append(f"uploads wait {until - now:.0f} s: {wait.get('detail')}\n", style="yellow")
    text.append(f"online {ago(status.get('last_online_at'), now)}\n", style="dim")
    text.append(
        f"{status.get('processes_cached', 0)} processes, synced "
        f"{ago(status.get('processes_synced_at'), now)}",
        style="dim",
    )
    return text


def queue_text(model: StationModel) -> Text:
    queue: dict[str, Any] = (model.status or {}).get("queue") or {}
    text = Text()
    if not queue:
        return Text("…", style="dim")
    for name, style in (
        ("queued", ""),
        ("uploading", "cyan"),
        ("failed", "yellow"),
        ("dead", "red"),
    ):
        count = int(queue.get(name) or 0)
        text.append(f"{name:<10}{count:>7}", style=style if count else "dim")
        corrupt = int(queue.get("corrupt") or 0)
        if name == "dead" and corrupt:  # rare: a line of its own would cost every station one
            text.append(f" +{corrupt} corrupt", style="red")
        text.append("\n")
    used = int(queue.get("bytes") or 0)
    text.append(f"{_size(used)} of {_size(int(queue.get('max_bytes') or 0))}", style="dim")
    return text


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


class DashboardScreen(StationView):
    TITLE = "Dashboard"
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dash-top"):
            yield Static(id="dash-server", classes="panel")
            yield Static(id="dash-queue", classes="panel")
            with Vertical(id="dash-uploads", classes="panel"):
                yield Sparkline([], id="dash-spark")
                yield Static(id="dash-counters")
        with Grid(id="dash-grid"):
            yield DataTable(id="dash-converters", cursor_type="row", zebra_stripes=False)
            yield DataTable(id="dash-activity", cursor_type="row")
            yield DataTable(id="dash-failures", cursor_type="row")
            yield DataTable(id="dash-tree", cursor_type="row")

    def on_mount(self) -> None:
        titles = {
            "#dash-server": "Server",
            "#dash-queue": "Queue",
            "#dash-uploads": "Uploads/min",
            "#dash-converters": "Converters",
            "#dash-activity": "Recent reports",
            "#dash-failures": "Last failures",
            "#dash-tree": "Supervision",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self.query_one("#dash-converters", DataTable).add_columns("name", "state", "ok", "fail")
        # The words that matter first: a narrow panel cuts the right of each row.
        self.query_one("#dash-activity", DataTable).add_columns("time", "news", "unit")
        self.query_one("#dash-failures", DataTable).add_columns("time", "why", "what")
        self.query_one("#dash-tree", DataTable).add_columns(
            "actor", "state", "rst", "up", "last error"
        )
        # Times shown as "12 s ago" age even without news.
        self.set_interval(5.0, lambda: self.refresh_view(frozenset({"status"})))

    def update_body(self, areas: frozenset[str]) -> None:
        model = self.model
        if areas & {"status", "link"}:
            _show(self.query_one("#dash-server", Static), server_text(model))
            _show(self.query_one("#dash-queue", Static), queue_text(model))
            self._counters(model)
        if areas & {"activity", "status"}:
            spark = self.query_one("#dash-spark", Sparkline)
            data = model.uploads_per_minute()
            if list(spark.data or []) != data:
                spark.data = data
        if "activity" in areas:
            # One row per report, its latest news: queued, then uploaded (or rejected).
            latest: dict[str, Activity] = {}
            for item in reversed(model.activity):
                latest.setdefault(item.report_id, item)
                if len(latest) == _ACTIVITY_ROWS:
                    break
            rows = [
                (
                    report_id,
                    [
                        time.strftime("%H:%M:%S", time.localtime(a.time)),
                        _news(a),
                        _unit_short(a.unit) or a.report_id,
                    ],
                )
                for report_id, a in latest.items()
            ]
            fill_table(self.query_one("#dash-activity", DataTable), rows)
        if "failures" in areas:
            rows = [
                (
                    f"{f.time}-{i}",
                    [time.strftime("%H:%M:%S", time.localtime(f.time)), f.reason, f.what],
                )
                for i, f in enumerate(reversed(model.failures))
            ]
            fill_table(self.query_one("#dash-failures", DataTable), rows)
        if "converters" in areas:
            rows = [
                (
                    str(c.get("name")),
                    [
                        c.get("name"),
                        state_text(c.get("state")),
                        c.get("converted", 0),
                        c.get("failed", 0),
                    ],
                )
                for c in model.converters
            ]
            fill_table(self.query_one("#dash-converters", DataTable), rows)
        if "tree" in areas:
            rows = [
                (
                    f"{i}",
                    [
                        "  " * depth + str(node.get("name")),
                        state_text(node.get("state")),
                        node.get("restarts", 0),
                        _uptime(node.get("uptime")),
                        node.get("last_error") or "",
                    ],
                )
                for i, (depth, node) in enumerate(model.tree_nodes())
            ]
            fill_table(self.query_one("#dash-tree", DataTable), rows)

    def _counters(self, model: StationModel) -> None:
        counters = (model.status or {}).get("counters") or {}
        text = Text()
        # Totals since the daemon started; the sparkline above covers the last 30 minutes.
        rejected = int(counters.get("rejected") or 0)
        failed = int(counters.get("conversion_failures") or 0)
        for label, value, bad in (
            ("uploaded", counters.get("uploaded", 0), False),
            ("rejected", rejected, rejected > 0),
            ("converted", counters.get("converted", 0), False),
            ("conv. failed", failed, failed > 0),
        ):
            text.append(f"{label:<13}{value:>6}\n", style="red" if bad else "")
        text.rstrip()
        _show(self.query_one("#dash-counters", Static), text)


def _news(activity: Activity) -> Text:
    """Uploaded: the unit's result (``Passed`` …); else ``queued`` or ``rejected``. One word,
    so a narrow panel keeps room for the serial number."""
    result = (activity.unit or {}).get("result")
    if activity.event == "report_uploaded" and result:
        return state_text(result)
    return state_text(_EVENT_WORD.get(activity.event, activity.event))


def _unit_short(unit: dict[str, Any] | None) -> str:
    """``SN-0012 PCBA-100 B op 10``: the serial number first, so a narrow panel keeps it."""
    if not unit:
        return ""
    words = [unit.get("serial_number"), unit.get("part_number"), unit.get("revision")]
    if unit.get("process_code") is not None:
        words.append(f"op {unit['process_code']}")
    return " ".join(str(w) for w in words if w)


def _show(widget: Static, text: Text) -> None:
    """Update ``widget`` only if its text changes: an unchanged panel costs no redraw."""
    if getattr(widget, "_pywats_shown", None) != text.markup:
        widget._pywats_shown = text.markup  # type: ignore[attr-defined]
        widget.update(text)


def _uptime(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"

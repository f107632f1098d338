"""The Connection screen: the station's way to the WATS server, and checks of it.

What it shows comes from the model's ``station.status`` (the station's connection to the
server, its processes cache) and the link (the TUI's own connection to the station), plus the
station's identity from ``config.get {"key": "station"}``. Two checks: ``connection.test``
(``t``: reachable, and accepting the station's token) and ``reports.send_test`` (``s``, after a
question, since it creates a report on the server), followed until the queue reports it
uploaded or rejected.

Times are shown as clock times, not "n s ago": the screen does not change while nothing does.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker

from pywats_station.tui.model import StationModel
from pywats_station.tui.screens.ask import Answer, ask
from pywats_station.tui.screens.base import StationView, link_text
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.widgets import fill_table, state_text

__all__ = [
    "ConnectionScreen",
    "clock",
    "processes_text",
    "server_state_text",
    "test_result_text",
]

_REASON_HINT = {
    "auth_failed": "the server refused the station's API token: run pywats-station login",
    "not_configured": "no server is configured: set server.url (Config screen, key 5)",
    "unreachable": "check the server's address and the network between them",
}
"""What to do about a failed ``connection.test``, by its ``data.reason``."""


def clock(stamp: Any) -> str:
    """``2026-05-28 14:02:03`` (local time), or ``never``."""
    if not isinstance(stamp, int | float):
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def server_state_text(model: StationModel) -> Text:
    """The station's connection to its server, and the TUI's link to the station."""
    status = model.status
    text = Text()
    if status is None:
        text.append("no answer from the station yet\n", style="dim")
    else:
        text.append(f"{status.get('server_url') or '(no server configured)'}\n", style="bold")
        state = str(status.get("connection", "?"))
        text.append("station  ")
        text.append_text(state_text(state))
        if status.get("server_version"):
            text.append(f" · WATS {status['server_version']}", style="dim")
        text.append("\n")
        if state != "online" and status.get("connection_error"):
            text.append(f"{status['connection_error']}\n", style="yellow")
        text.append(f"answered {clock(status.get('last_online_at'))}\n", style="dim")
    # Not the same thing: the station may be online while this UI has lost the station.
    text.append("this UI  ")
    text.append_text(link_text(model))
    if model.role:
        text.append(f" · {model.role}", style="dim")
    return text


def processes_text(model: StationModel) -> Text:
    """How many processes the station has cached for offline use, and when they were synced."""
    status = model.status or {}
    text = Text()
    cached = int(status.get("processes_cached") or 0)
    text.append(f"{cached}", style="bold" if cached else "yellow")
    text.append(" processes cached for offline use\n")
    synced = status.get("processes_synced_at")
    text.append(f"synced {clock(synced)}", style="" if synced else "yellow")
    if not cached:
        # Reports still queue, but a converter that looks up an operation by name cannot.
        text.append("\nnot synced yet: the station syncs once the server answers", style="dim")
    return text


def test_result_text(answer: Answer) -> Text:
    """The outcome of ``connection.test`` in a line or two."""
    if answer.ok and isinstance(answer.value, dict):
        result = answer.value
        text = Text("✓ reachable", style="bold green")
        text.append(f": {result.get('url', '?')}")
        if result.get("server_version"):
            text.append(f" · WATS {result['server_version']}")
        latency = result.get("latency")
        if isinstance(latency, int | float):
            text.append(f" · {latency * 1000:.0f} ms", style="dim")
        return text
    text = Text("✗ failed", style="bold red")
    text.append(f": {answer.error}")
    reason = answer.data.get("reason") if isinstance(answer.data, dict) else None
    if reason in _REASON_HINT:
        text.append(f"\n{_REASON_HINT[str(reason)]}", style="yellow")
    return text


class ConnectionScreen(StationView):
    """The server connection (key 6)."""

    TITLE = "Connection"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "test", "Test connection", id="connection.test"),
        Binding("s", "send_test", "Send test report", id="connection.send_test"),
        Binding("r", "reload", "Reload", id="connection.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.identity: dict[str, Any] | None = None
        """``[station]`` as ``config.get`` gave it (name, location, purpose)."""
        self._identity_error: str | None = None
        self._station: str | None = None
        self._was_online = False
        self._test: Text | None = None
        self._sent: dict[str, Any] | None = None
        self._worker: Worker[None] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="conn-body"):
            with Vertical(id="conn-left"):
                yield Static(id="conn-server", classes="panel")
                yield Static(id="conn-station", classes="panel")
                yield Static(id="conn-processes", classes="panel")
            with Vertical(id="conn-right"):
                yield Static(id="conn-checks", classes="panel")
                yield DataTable(id="conn-process-table", cursor_type="row")

    def on_mount(self) -> None:
        for selector, title in (
            ("#conn-server", "Server"),
            ("#conn-station", "Registration"),
            ("#conn-processes", "Processes"),
            ("#conn-checks", "Checks"),
            ("#conn-process-table", "Synced processes"),
        ):
            self.query_one(selector).border_title = title
        self.query_one("#conn-process-table", DataTable).add_columns("code", "name", "kind")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._load()

    def update_body(self, areas: frozenset[str]) -> None:
        model = self.model
        if self._station is not None and model.label != self._station:
            # Another station: nothing of the last one's checks applies.
            self.identity, self._test, self._sent = None, None, None
            self._load()
        elif "link" in areas and model.online and not self._was_online and self._station:
            self._load()  # back after a lost link: the identity may have changed meanwhile
        self._was_online = model.online
        if areas & {"status", "link"}:
            self.query_one("#conn-server", Static).update(server_state_text(model))
            self.query_one("#conn-processes", Static).update(processes_text(model))
            self._show_station()
        if "activity" in areas and self._sent is not None:
            self._follow_sent()
        self._show_checks()

    # --- registration ------------------------------------------------------------------------

    def _load(self) -> None:
        # Named when asked, not when answered: redraws meanwhile must not start it over.
        self._station = self.model.label
        self._worker = self.run_worker(self._fetch_identity, group="conn-get", exclusive=True)

    async def _fetch_identity(self) -> None:
        model = self.model
        answer = await ask(self.link, "config.get", {"key": "station"})
        if model is not self.model:
            return
        if answer.ok and isinstance(answer.value, dict):
            value = answer.value.get("value")
            self.identity = value if isinstance(value, dict) else None
            self._identity_error = None
        else:
            self._identity_error = answer.error  # the last identity shown stays
        self._show_station()
        listed = await ask(self.link, "processes.list")
        if model is self.model and listed.ok and isinstance(listed.value, dict):
            self._show_processes(listed.value.get("processes") or [])

    def _show_processes(self, processes: list[dict[str, Any]]) -> None:
        """The processes the station validates and names reports with (``processes.list``)."""
        rows = []
        for process in processes:
            kinds = [k for k in ("test", "repair", "wip") if process.get(k)]
            kind = Text(", ".join(kinds) or "—")
            if not process.get("active", True):
                kind.append(" (inactive)", style="yellow")
            rows.append(
                (str(process.get("code")), [process.get("code"), process.get("name") or "", kind])
            )
        fill_table(self.query_one("#conn-process-table", DataTable), rows)

    def _show_station(self) -> None:
        status = self.model.status or {}
        identity = self.identity or {}
        text = Text()
        # The name reports carry: the configured one, or the host name when it is empty.
        name = status.get("station") or identity.get("name") or "?"
        text.append("name      ")
        text.append(f"{name}\n", style="bold")
        if self.identity is not None and not identity.get("name"):
            text.append("          (the host name: station.name is empty)\n", style="dim")
        for field in ("location", "purpose"):
            value = identity.get(field) if self.identity is not None else None
            text.append(f"{field:<10}")
            text.append(f"{value or '(not set)'}\n", style="" if value else "yellow")
        text.append("server    ")
        text.append(f"{status.get('server_url') or '(not configured)'}\n")
        text.append(f"instance  {status.get('instance', '?')}", style="dim")
        if self._identity_error:
            text.append(f"\nconfig.get: {self._identity_error}", style="yellow")
        self.query_one("#conn-station", Static).update(text)

    # --- checks ------------------------------------------------------------------------------

    def _show_checks(self) -> None:
        text = Text()
        text.append("t", style="bold")
        text.append(" tests the server now · ")
        text.append("s", style="bold")
        text.append(" sends a test report\n")
        if self._test is not None:
            text.append("\nconnection test\n", style="bold")
            text.append_text(self._test)
        if self._sent is not None:
            text.append("\n\ntest report\n", style="bold")
            text.append_text(self._sent_text())
        self.query_one("#conn-checks", Static).update(text)

    def _sent_text(self) -> Text:
        sent = self._sent or {}
        if sent.get("error"):
            return Text(f"✗ not sent: {sent['error']}", style="red")
        text = Text(f"{sent.get('report_id')} (queue seq {sent.get('seq')})\n")
        state = sent.get("state", "queued")
        if state == "uploaded":
            text.append("✓ uploaded: the server accepted it", style="bold green")
        elif state == "rejected":
            text.append(f"✗ rejected: {sent.get('reason') or '?'}", style="bold red")
        else:
            text.append("queued, waiting for its upload…", style="yellow")
        return text

    def _follow_sent(self) -> None:
        sent = self._sent
        if sent is None or sent.get("state") != "queued":
            return
        for activity in self.model.activity:
            if activity.report_id != sent.get("report_id"):
                continue
            if activity.event == "report_uploaded":
                sent["state"] = "uploaded"
            elif activity.event == "report_rejected":
                sent["state"], sent["reason"] = "rejected", activity.detail

    def action_test(self) -> None:
        self._test = Text("testing…", style="dim")
        self._show_checks()
        self._worker = self.run_worker(self._run_test, group="conn-test", exclusive=True)

    async def _run_test(self) -> None:
        model = self.model
        answer = await ask(self.link, "connection.test", {})
        if model is self.model:  # not another station's answer on this one's screen
            self._test = test_result_text(answer)
            self._show_checks()

    def action_send_test(self) -> None:
        self.app.push_screen(
            Confirm(
                "Send a test report to the WATS server?",
                "A small passing UUT report (part number PYWATS-TEST) goes through the "
                "station's queue and is created on the server, like any other report.",
            ),
            self._send_answered,
        )

    async def _send_answered(self, send: bool | None) -> None:
        if not send:
            return
        model = self.model
        answer = await ask(self.link, "reports.send_test", {})
        if model is not self.model:
            return
        if answer.ok and isinstance(answer.value, dict):
            self._sent = {
                "report_id": answer.value.get("report_id"),
                "seq": answer.value.get("seq"),
                "state": "queued",
            }
            self._follow_sent()  # its upload may have been reported already
        else:
            self._sent = {"error": answer.error}
        self._show_checks()

    def action_reload(self) -> None:
        self._load()

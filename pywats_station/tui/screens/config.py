"""The Config screen: the station's effective configuration, and editing one value at a time.

``config.get`` gives the whole configuration with its secrets already replaced by ``"***"``
(the daemon's :func:`~pywats_station.config.redacted`: the API token, a password in the server
URL, converter arguments named like secrets). It is shown as ``section.key = value`` rows, keyed
by the TOML paths ``config.set`` takes: ``queue.upload_workers``, converters by name as
``converters.<name>.<field>`` and ``converters.<name>.arguments.<argument>``.

An edit is checked before anything is written: ``config.set`` with ``dry_run`` first, its
refusal shown under the field (the edit stays open), then the change (old → new, and what it
changes) and a question; only a "yes" sends the real ``config.set``. Values are typed as TOML
(:func:`parse_value`). ``config.set`` needs the admin role: with the operator token the screen
only shows the configuration and says how to get the admin token.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time
from typing import Any, ClassVar

import tomli_w
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from pywats_station.tui.screens.ask import ask, problems_text
from pywats_station.tui.screens.base import StationView
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.widgets import fill_table

__all__ = [
    "ADMIN_HINT",
    "ConfigScreen",
    "flatten_config",
    "parse_value",
    "toml_value",
]

ADMIN_HINT = "editing needs the admin token: pywats-station control token --admin"
REDACTED = "***"
"""What the daemon shows instead of a secret."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """``value`` as one line of TOML: what the edit field is prefilled with, and what is shown.

    Tables and arrays are written inline (``{name = "", location = ""}``, ``["*.txt"]``); a JSON
    ``null`` (TOML has none) shows as ``null``.
    """
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return tomli_w.dumps({"v": value})[4:].strip()


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def parse_value(text: str) -> Any:
    """What the user typed, as the value to set.

    Read as a TOML value (``8``, ``true``, ``"a b"``, ``["*.txt"]``, ``{name = "x"}``); text
    that is not one is taken as a plain string, trimmed. So paths and sizes can be typed
    without quotes (``/srv/ict/in``, ``500 MB``), and what the value became is shown in the
    diff before anything is saved. Quotes are needed only for a string that reads as another
    TOML value (``"8"``, ``"true"``). TOML dates and times cannot travel as JSON, so they stay
    the text typed.
    """
    try:
        document = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text.strip()
    if set(document) != {"v"} or _has_datetime(document["v"]):
        # "1\nx = 2" pasted in is two keys, not a value: keep what was typed.
        return text.strip()
    return document["v"]


def _has_datetime(value: Any) -> bool:
    if isinstance(value, date | datetime | time):
        return True
    if isinstance(value, list):
        return any(_has_datetime(item) for item in value)
    if isinstance(value, dict):
        return any(_has_datetime(item) for item in value.values())
    return False


def flatten_config(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """The configuration as ``(TOML path, value)`` rows, in the file's order.

    Sections give ``section.field``; converters (an array of tables in the file) are named by
    their ``name`` as ``config.set`` takes them, and their ``arguments`` one row each.
    """
    rows: list[tuple[str, Any]] = []
    for section, values in document.items():
        if section == "converters" and isinstance(values, list):
            for converter in values:
                if not isinstance(converter, dict):
                    continue
                prefix = f"converters.{converter.get('name', '')}"
                for field, value in converter.items():
                    if field == "arguments" and isinstance(value, dict) and value:
                        rows += [(f"{prefix}.arguments.{k}", v) for k, v in value.items()]
                    else:
                        rows.append((f"{prefix}.{field}", value))
        elif isinstance(values, dict):
            rows += [(f"{section}.{field}", value) for field, value in values.items()]
        else:
            rows.append((section, values))
    return rows


def _shown(value: Any) -> Text:
    if value == REDACTED:
        return Text("*** (hidden by the station)", style="dim")
    return Text(toml_value(value))


class ConfigScreen(StationView):
    """The configuration (key 5)."""

    TITLE = "Config"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", id="config.edit"),
        Binding("escape", "cancel", "Cancel edit", id="config.cancel"),
        Binding("r", "reload", "Reload", id="config.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        """The configuration as shown: TOML path → value."""
        self.path: str | None = None
        """The configuration file, as the station names it."""
        self.editing: str | None = None
        """The key being edited, if any."""
        self._station: str | None = None
        self._was_online = False
        self._error: str | None = None
        self._pending: tuple[str, Any] | None = None
        self._fetch_worker: Worker[None] | None = None
        self._check_worker: Worker[None] | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="config-head")
        yield DataTable(id="config-table", cursor_type="row")
        with Vertical(id="config-edit"):
            yield Static(id="config-edit-title")
            yield Input(id="config-input")
            yield Static(id="config-message")

    def on_mount(self) -> None:
        table = self.query_one("#config-table", DataTable)
        table.add_columns("key", "value")
        table.border_title = "Configuration"
        self.query_one("#config-edit").display = False
        table.focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._load()

    def update_body(self, areas: frozenset[str]) -> None:
        if self._station is not None and self.model.label != self._station:
            self.action_cancel()
            self._load()  # another station: its configuration
        elif "link" in areas and self.model.online and not self._was_online and self._station:
            self._load()  # back after a lost link: the file may have changed meanwhile
        self._was_online = self.model.online
        if areas & {"status", "link"}:
            self._show_head()
            self.refresh_bindings()  # the role decides whether editing is offered

    # --- showing -----------------------------------------------------------------------------

    def _load(self) -> None:
        # Named when asked, not when answered: redraws meanwhile must not start it over.
        self._station = self.model.label
        self._fetch_worker = self.run_worker(self._fetch, group="config-get", exclusive=True)

    async def _fetch(self) -> None:
        model = self.model
        answer = await ask(self.link, "config.get", {})
        if model is not self.model:
            return
        if not answer.ok or not isinstance(answer.value, dict):
            # The last configuration shown stays; the status line says why it is not newer.
            self._error = answer.error or "no answer"
            self._show_head()
            return
        self._error = None
        value = answer.value.get("value")
        self.path = str(answer.value.get("path") or "") or None
        self.values = dict(flatten_config(value if isinstance(value, dict) else {}))
        fill_table(
            self.query_one("#config-table", DataTable),
            [(key, [key, _shown(v)]) for key, v in self.values.items()],
        )
        self._show_head()

    def _show_head(self) -> None:
        text = Text()
        text.append(f" {self.path or 'the configuration file'}", style="bold")
        if self._error:
            text.append(f" · config.get: {self._error}", style="yellow")
        if self.model.role == "operator":
            text.append(f"\n read only: {ADMIN_HINT}", style="yellow")
        problem = (self.model.status or {}).get("config_problem")
        if problem:
            # The file on disk is not what runs: what is shown here is what runs.
            text.append(f"\n the file on disk is not applied: {problem}", style="red")
        self.query_one("#config-head", Static).update(text)

    def _highlighted(self) -> str | None:
        table = self.query_one("#config-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return str(key) if key is not None else None

    # --- editing -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit":
            # Greyed out, not hidden: the key exists, the token does not allow it.
            return None if self.model.role == "operator" else True
        if action == "cancel":
            return self.editing is not None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter on a row edits it, as ``e`` does (when editing is allowed at all).
        if event.data_table.id == "config-table" and self.check_action("edit", ()):
            self.action_edit()

    def action_edit(self) -> None:
        if self.model.role == "operator":
            self.notify(ADMIN_HINT, title="read only", severity="warning")
            return
        key = self._highlighted()
        if key is None:
            return
        value = self.values.get(key)
        if value == REDACTED:
            # Prefilling "***" would save it as the value; the secret itself never comes here.
            self.notify(
                f"{key} is a secret the station does not show: set it in the configuration "
                "file (the API token with pywats-station login)",
                title="hidden",
                severity="warning",
            )
            return
        self.editing = key
        self._pending = None
        self.query_one("#config-edit").display = True
        self.query_one("#config-edit-title", Static).update(
            Text.assemble(
                ("edit ", ""),
                (key, "bold"),
                ("  TOML, Enter checks, Esc cancels", "dim"),
            )
        )
        self._message(Text(f"now: {toml_value(value)}", style="dim"))
        # The table shrinks to make room for the editor: keep the edited row in view.
        table = self.query_one("#config-table", DataTable)
        self.call_after_refresh(table.move_cursor, row=table.cursor_row, animate=False)
        field = self.query_one("#config-input", Input)
        field.value = "" if value is None else toml_value(value)
        field.focus()
        self.refresh_bindings()

    def action_cancel(self) -> None:
        if self.editing is None:
            return
        self.editing = None
        self._pending = None
        self.query_one("#config-edit").display = False
        self.query_one("#config-table", DataTable).focus()
        self.refresh_bindings()

    def action_reload(self) -> None:
        self._load()

    def _message(self, text: Text) -> None:
        self.query_one("#config-message", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "config-input" or self.editing is None:
            return
        key, value = self.editing, parse_value(event.value)
        self._message(Text("checking…", style="dim"))

        async def check() -> None:
            await self._check(key, value)

        # Functions, not coroutines: a worker cancelled before it starts leaves nothing behind.
        self._check_worker = self.run_worker(check, group="config-set", exclusive=True)

    async def _check(self, key: str, value: Any) -> None:
        answer = await ask(self.link, "config.set", {"key": key, "value": value, "dry_run": True})
        if self.editing != key:
            return  # cancelled meanwhile
        if not answer.ok:
            self._refused("not valid", answer.error, problems_text(answer))
            return
        result = answer.value if isinstance(answer.value, dict) else {}
        changed = [str(k) for k in result.get("changed") or []]
        if not changed:
            self._message(Text("that is the value it has already: nothing to save", style="yellow"))
            return
        diff = self._diff(key, value, changed, [str(a) for a in result.get("restarted") or []])
        self._message(Text(diff))
        self._pending = (key, value)
        self.app.push_screen(
            Confirm(f"Save {key} in the station's configuration file?", diff), self._answered
        )

    def _refused(self, what: str, error: str | None, lines: list[str]) -> None:
        text = Text(f"{what}: ", style="bold red")
        if len(lines) == 1:
            text.append(lines[0], style="red")
        else:
            text.append(error or "", style="red")
            for line in lines:
                text.append(f"\n  {line}", style="red")
        self._message(text)

    def _diff(self, key: str, value: Any, changed: list[str], restarted: list[str]) -> str:
        old = self.values.get(key)
        lines = [
            f"{key}",
            f"  old: {toml_value(old) if key in self.values else '(not set)'}",
            f"  new: {toml_value(value)}",
            f"changes: {', '.join(changed)}",
        ]
        if restarted:
            lines.append(f"restarts: {', '.join(restarted)}")
        return "\n".join(lines)

    async def _answered(self, save: bool | None) -> None:
        pending, self._pending = self._pending, None
        if pending is None or self.editing != pending[0]:
            return
        if not save:
            self._message(Text("not saved: change the value, or Esc to leave it", style="yellow"))
            self.query_one("#config-input", Input).focus()
            return
        key, value = pending
        self._message(Text("saving…", style="dim"))
        answer = await ask(self.link, "config.set", {"key": key, "value": value})
        if not answer.ok:
            # The file may have changed meanwhile (-32011): the edit stays, to try again.
            self._refused("not saved", answer.error, problems_text(answer))
            return
        result = answer.value if isinstance(answer.value, dict) else {}
        changed = ", ".join(str(k) for k in result.get("changed") or []) or "nothing"
        restarted = ", ".join(str(a) for a in result.get("restarted") or [])
        note = f"saved {key}: changed {changed}" + (f"; restarted {restarted}" if restarted else "")
        if "server.url" in (result.get("changed") or []):
            note += (
                ". The API token goes to the new server only once someone on the station "
                "confirms it with pywats-station login"
            )
        self.action_cancel()
        self.notify(note, title="saved", timeout=8)
        await self._fetch()

"""The Converters screen: every converter, the highlighted one's details, and what to do with it.

Keys act on the highlighted converter: ``e`` enable, ``d`` disable (asks first: it stops
conversions), ``r`` restart, ``t`` try a file (a dry run, :class:`TryFileScreen`). The table
follows the model (snapshots and events); an action's answer (the converter's new
``ConverterInfo``) is put in the model at once, so its effect shows before the next snapshot.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from pywats_station.tui.model import StationModel
from pywats_station.tui.screens.base import StationView, ago
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.screens.tryfile import TryFileScreen
from pywats_station.tui.widgets import fill_table, state_text

__all__ = ["ConvertersScreen", "details_text"]

_LABEL = 12
"""Width of the labels in the details panel."""


def _count(value: Any) -> Text:
    return Text(str(value or 0), justify="right")


def details_text(converter: dict[str, Any] | None) -> Text:
    """Everything the station says about one converter, a line per fact."""
    if converter is None:
        return Text("no converter configured", style="dim")
    text = Text()
    text.append(str(converter.get("name")), style="bold")
    text.append(f"  {converter.get('kind', '?')} · {converter.get('type', '?')} · ")
    if converter.get("enabled"):
        text.append("enabled · ")
        text.append_text(state_text(converter.get("state")))
    else:
        text.append_text(state_text("disabled"))

    def line(label: str, value: Any, style: str = "") -> None:
        text.append(f"\n{label:<{_LABEL}}", style="bold")
        text.append("—" if value in (None, "", []) else str(value), style=style)

    line("watch", converter.get("watch"))
    line("patterns", " ".join(str(p) for p in converter.get("patterns") or []))
    line("last file", converter.get("last_file"))
    line("last error", converter.get("last_error"), "red")
    line("last active", ago(converter.get("last_activity_at")))
    refused = int(converter.get("refused") or 0)
    line("refused", f"{refused} now" if refused else "none now", "yellow" if refused else "")
    if converter.get("last_refused"):
        line("last refused", converter.get("last_refused"), "yellow")
    line("restarts", converter.get("restarts", 0))
    station = converter.get("station")
    if isinstance(station, dict):
        line(
            "station",
            " · ".join(
                str(station.get(k)) for k in ("name", "location", "purpose") if station.get(k)
            ),
        )
    return text


class ConvertersScreen(StationView):
    """Converters: a table, the highlighted one's details beside (wide) or below (narrow)."""

    TITLE = "Converters"
    # Wide terminals put the details beside the table instead of under it. (Textual types it
    # as a plain attribute: a ClassVar annotation here is an error for mypy.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012

    DEFAULT_CSS = """
    #conv-body {
        height: 1fr;
    }
    #conv-table {
        height: 1fr;
        min-height: 6;
    }
    #conv-details {
        height: auto;
        max-height: 13;
    }
    ConvertersScreen.-wide #conv-body {
        layout: horizontal;
    }
    ConvertersScreen.-wide #conv-table {
        width: 3fr;
    }
    ConvertersScreen.-wide #conv-details {
        width: 2fr;
        height: 1fr;
        max-height: 100%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "enable", "Enable", id="converters.enable"),
        Binding("d", "disable", "Disable", id="converters.disable"),
        Binding("r", "restart", "Restart", id="converters.restart"),
        Binding("t", "try_file", "Try a file", id="converters.try"),
    ]

    def compose_body(self) -> ComposeResult:
        with Container(id="conv-body"):
            yield DataTable(id="conv-table", cursor_type="row")
            yield Static(id="conv-details", classes="panel")

    def on_mount(self) -> None:
        table: DataTable[Any] = self.query_one("#conv-table", DataTable)
        table.border_title = "Converters"
        table.add_columns("name", "kind", "state", "converted", "failed", "refused")
        self.query_one("#conv-details").border_title = "Details"
        table.focus()

    def update_body(self, areas: frozenset[str]) -> None:
        if "converters" not in areas:
            return
        rows = [
            (
                str(c.get("name")),
                [
                    c.get("name"),
                    c.get("kind", ""),
                    state_text(c.get("state")),
                    _count(c.get("converted")),
                    _count(c.get("failed")),
                    _count(c.get("refused")),
                ],
            )
            for c in self.model.converters
        ]
        fill_table(self.query_one("#conv-table", DataTable), rows)
        self._show_details()

    @on(DataTable.RowHighlighted, "#conv-table")
    def _highlighted(self) -> None:
        self._show_details()

    def _show_details(self) -> None:
        self.query_one("#conv-details", Static).update(details_text(self.highlighted()))

    def highlighted(self) -> dict[str, Any] | None:
        """The converter under the cursor (None when there is none)."""
        table: DataTable[Any] = self.query_one("#conv-table", DataTable)
        if not table.row_count or table.cursor_row >= table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.model.converter(str(key))

    def _target(self) -> dict[str, Any] | None:
        converter = self.highlighted()
        if converter is None:
            self.notify("no converter to act on", severity="warning")
        return converter

    # --- actions -----------------------------------------------------------------------------

    def action_enable(self) -> None:
        if (converter := self._target()) is not None:
            self._change("converters.enable", str(converter["name"]), "enabled")

    def action_disable(self) -> None:
        if (converter := self._target()) is not None:
            self._disable(converter)

    def action_restart(self) -> None:
        if (converter := self._target()) is not None:
            self._change("converters.restart", str(converter["name"]), "restarted")

    def action_try_file(self) -> None:
        converter = self._target()
        if converter is None:
            return
        watch = converter.get("watch")
        self.app.push_screen(
            TryFileScreen(
                self.link,
                self.model.label,
                str(converter["name"]),
                str(watch) if watch else None,
            )
        )

    @work(group="converters-action")
    async def _disable(self, converter: dict[str, Any]) -> None:
        name = str(converter["name"])
        where = f" from {converter['watch']}" if converter.get("watch") else ""
        question = Confirm(
            f"Disable converter {name}?",
            f"It stops converting files{where} until it is enabled again; the configuration "
            "file is changed. Files already converted stay queued.",
        )
        if await self.app.push_screen_wait(question):
            await self._apply("converters.disable", name, "disabled")

    @work(group="converters-action")
    async def _change(self, method: str, name: str, done: str) -> None:
        await self._apply(method, name, done)

    async def _apply(self, method: str, name: str, done: str) -> None:
        model = self.model
        info = await self.call(method, {"name": name})
        if not isinstance(info, dict):
            return  # refused or the link is down: base.call has said so
        self._remember(model, info)
        self.notify(f"converter {name} {done} ({info.get('state', '?')})", title=model.label)

    def _remember(self, model: StationModel, info: dict[str, Any]) -> None:
        """Put the converter's new info in the model it came from, and show it if shown."""
        for i, converter in enumerate(model.converters):
            if converter.get("name") == info.get("name"):
                model.converters[i] = info
        if model is self.model:
            self.refresh_view(frozenset({"converters"}))

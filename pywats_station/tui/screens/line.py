"""The line view: one row per station; Enter opens that station's dashboard."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from pywats_station.tui.model import StationModel
from pywats_station.tui.screens.base import ScreenTabs, ago, top_bar
from pywats_station.tui.widgets import fill_table, state_text

if TYPE_CHECKING:
    from pywats_station.tui.app import StationTui

__all__ = ["LineScreen", "station_row"]


def station_row(model: StationModel, now: float | None = None) -> list[object]:
    """station, link, server, queued, dead, uploads in the last minute, failures, last failure."""
    now = time.time() if now is None else now
    status = model.status or {}
    queue = status.get("queue") or {}
    last = model.failures[-1] if model.failures else None
    link = state_text(model.link.replace("_", " "))
    stale = "dim" if model.stale else ""
    # The last column has the rest of the row: why a station is not online, else its last
    # failure. Words first: a narrow terminal cuts the right end.
    if model.online:
        note = Text(f"{last.reason} ({ago(last.time, now)})" if last else "", style="dim")
    else:
        note = Text(model.link_detail or "", style="yellow")
        if model.retry_at is not None and model.retry_at > now:
            note.append(f" · next try in {model.retry_at - now:.0f} s", style="dim")
    dead = int(queue.get("dead") or 0)
    return [
        Text(model.label, style="bold"),
        link,
        Text(str(status.get("connection", "—")), style=stale),
        Text(str(queue.get("depth", "—")), style=stale),
        Text(str(dead), style="red" if dead else stale),
        Text(str(model.uploads_per_minute(now)[-1]), style=stale),
        Text(str(len(model.failures)), style="red" if model.failures else stale),
        note,
    ]


class LineScreen(Screen[None]):
    """Every station given on the command line or in the stations file."""

    TITLE = "Line"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open dashboard", id="line.open"),
    ]

    def compose(self) -> ComposeResult:
        yield from top_bar(Static(id="station-bar"))
        yield DataTable(id="line-table", cursor_type="row")
        yield Footer()

    @property
    def tui(self) -> StationTui:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Stations"
        table.add_columns("station", "link", "server", "queue", "dead", "up/min", "fail", "note")
        self.set_interval(5.0, self._refresh)

    def on_screen_resume(self) -> None:
        self._refresh()
        self.query_one(DataTable).focus()

    def model_changed(self, station: str, areas: Iterable[str]) -> None:
        self._refresh()

    def _refresh(self) -> None:
        models = self.tui.models
        online = sum(1 for m in models.values() if m.online)
        bar = Text()
        bar.append(" the line ", style="bold reverse")
        bar.append(f" {online} of {len(models)} online · Enter opens one")
        self.query_one("#station-bar", Static).update(bar)
        self.query_one(ScreenTabs).show("line", self.app.size.width)
        rows = [(label, station_row(model)) for label, model in models.items()]
        fill_table(self.query_one(DataTable), rows)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
            if key is not None:
                self.tui.select_station(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.tui.select_station(event.row_key.value)

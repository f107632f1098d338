"""What every station screen shares: the station bar, the footer, and how it is kept current.

The app applies messages to the station's model and tells the screen on show which areas
changed (:meth:`StationView.refresh_view`); a screen that is not shown does no work, and
catches up in full when it is shown again (``on_screen_resume``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from pywats_station.control import ControlError
from pywats_station.tui.model import StationModel

if TYPE_CHECKING:
    from pywats_station.tui.app import StationTui
    from pywats_station.tui.link import Link

__all__ = [
    "ALL_AREAS",
    "SCREENS",
    "ScreenTabs",
    "StationBar",
    "StationView",
    "ago",
    "link_text",
    "top_bar",
]

SCREENS: dict[str, tuple[str, str, str]] = {
    # mode: (key, title, short title for narrow terminals)
    "dashboard": ("1", "Dashboard", "Dash"),
    "converters": ("2", "Converters", "Conv"),
    "queue": ("3", "Queue", "Queue"),
    "log": ("4", "Log", "Log"),
    "config": ("5", "Config", "Conf"),
    "connection": ("6", "Connection", "Conn"),
    "line": ("l", "Line", "Line"),
}
"""The screens and their keys, shown as tabs in the top bar (the footer keeps to the keys of
the screen shown: at 80 columns it has room for nothing else)."""
_WIDE = 110
"""From this many columns on, the tabs have their whole titles."""

ALL_AREAS = frozenset({"status", "converters", "tree", "activity", "failures", "log", "link"})

_LINK_STYLE = {
    "online": "green",
    "connecting": "yellow",
    "retrying": "yellow",
    "auth_failed": "red",
    "down": "red",
}


def ago(stamp: float | None, now: float | None = None) -> str:
    """``12 s ago``, ``3 min ago``, ``2 h ago``; ``never`` for None."""
    if stamp is None:
        return "never"
    seconds = max(0.0, (time.time() if now is None else now) - stamp)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"


def link_text(model: StationModel, now: float | None = None) -> Text:
    """The link's state in a few words: ``online``, ``retrying in 4 s (reason)`` …"""
    now = time.time() if now is None else now
    text = Text(model.link.replace("_", " "), style=_LINK_STYLE.get(model.link, ""))
    if model.link != "online" and model.retry_at is not None and model.retry_at > now:
        text.append(f" (next try in {model.retry_at - now:.0f} s)")
    if model.link != "online" and model.link_detail:
        text.append(f": {model.link_detail}", style="dim")
    return text


class ScreenTabs(Static):
    """The screens and their keys, the one shown highlighted (right of the station bar)."""

    def show(self, current: str, width: int) -> None:
        text = Text()
        for mode, (key, title, short) in SCREENS.items():
            if mode == "line" and not getattr(self.app, "several", False):
                continue
            label = title if width >= _WIDE else short
            style = "bold reverse" if mode == current else ""
            text.append(f" {key}", style=f"{style} bold" if style else "bold")
            text.append(f" {label} ", style=style or "dim")
        self.update(text)


def top_bar(bar: Static) -> ComposeResult:
    """The top line: ``bar`` (the station, or the line) and the screen tabs."""
    with Horizontal(id="top-bar"):
        yield bar
        yield ScreenTabs(id="screen-tabs")


class StationBar(Static):
    """The top line's left part: which station, and the link to it."""

    def show(self, model: StationModel, screen_title: str, stations: int) -> None:
        text = Text()
        text.append(f" {model.label} ", style="bold reverse")
        if stations > 1:
            text.append(f" one of {stations}", style="dim")
        text.append(" · ")
        # The reason (when not online) has a line of its own below: here, the state only.
        text.append(model.link.replace("_", " "), style=_LINK_STYLE.get(model.link, ""))
        if model.role:
            text.append(f" · {model.role}", style="dim")
        self.update(text)
        self.set_class(model.stale, "-stale")


class StationView(Screen[None]):
    """A screen about the current station (everything but the line view)."""

    TITLE = "Station"
    """Shown in the station bar."""

    def compose(self) -> ComposeResult:
        yield from top_bar(StationBar(id="station-bar"))
        yield Static(id="link-banner")
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets (between the bar and the footer)."""
        yield from ()

    @property
    def tui(self) -> StationTui:
        return self.app  # type: ignore[return-value]

    @property
    def model(self) -> StationModel:
        return self.tui.model

    @property
    def link(self) -> Link:
        return self.tui.link

    def on_screen_resume(self) -> None:
        self.refresh_view(ALL_AREAS)

    def model_changed(self, station: str, areas: Iterable[str]) -> None:
        if station == self.model.label:
            self.refresh_view(frozenset(areas))

    def refresh_view(self, areas: frozenset[str]) -> None:
        """Show the model; ``areas``: what changed since the last call."""
        self.query_one(StationBar).show(self.model, self.TITLE, len(self.tui.models))
        self.query_one(ScreenTabs).show(self.tui.current_mode, self.app.size.width)
        self.set_class(self.model.stale, "-stale")
        banner = self.query_one("#link-banner", Static)
        banner.display = self.model.stale
        if self.model.stale:
            text = link_text(self.model)
            if self.model.updated_at is not None:
                text.append(f" · showing what it said {ago(self.model.updated_at)}")
            banner.update(text)
        self.update_body(areas)

    def update_body(self, areas: frozenset[str]) -> None:
        """Screens redraw what depends on ``areas``."""

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any | None:
        """Call the station; a refusal or failure is shown as a toast and gives None."""
        try:
            return await self.link.call(method, params)
        except ControlError as exc:
            self.notify(f"{method}: {exc.message}", title="refused", severity="error", timeout=8)
            return None
        except TimeoutError:
            # The link waits a bounded time for an answer; the call may still run on the station.
            self.notify(
                f"{method}: no answer from the station in time",
                title="no answer",
                severity="error",
                timeout=8,
            )
            return None

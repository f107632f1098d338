"""The Textual app: screens as modes, one model and one link per station.

Messages from the links (:mod:`pywats_station.tui.messages`) are applied to the models at once,
but the shown screen redraws at most every :data:`REDRAW_INTERVAL` seconds: a station uploading
hundreds of reports a second costs the UI a few redraws a second, and an idle one none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from pywats_station.tui.link import Link
from pywats_station.tui.messages import DaemonEvent, EventBatch, LinkState, Snapshot
from pywats_station.tui.model import StationModel
from pywats_station.tui.screens.base import ALL_AREAS, SCREENS, StationView
from pywats_station.tui.screens.config import ConfigScreen
from pywats_station.tui.screens.connection import ConnectionScreen
from pywats_station.tui.screens.converters import ConvertersScreen
from pywats_station.tui.screens.dashboard import DashboardScreen
from pywats_station.tui.screens.help import Help
from pywats_station.tui.screens.line import LineScreen
from pywats_station.tui.screens.log import LogScreen
from pywats_station.tui.screens.queue import QueueScreen

__all__ = ["REDRAW_INTERVAL", "StationTui"]

REDRAW_INTERVAL = 0.5


class StationTui(App[None]):
    """``pywats-tui``: one station, or several (the line view first).

    Args:
        links: One per station, in the order they are shown.
    """

    CSS_PATH = "app.tcss"
    TITLE = "pywats-tui"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, type[Screen[None]]]] = {  # type: ignore[assignment]
        "dashboard": DashboardScreen,
        "converters": ConvertersScreen,
        "queue": QueueScreen,
        "log": LogScreen,
        "config": ConfigScreen,
        "connection": ConnectionScreen,
        "line": LineScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            # The tabs in the top bar show these keys; the footer keeps to the screen's own.
            Binding(key, f"show('{mode}')", title, show=False, id=f"app.{mode}")
            for mode, (key, title, _short) in SCREENS.items()
        ),
        Binding("greater_than_sign", "station(1)", "Next station", show=False, id="app.next"),
        Binding("less_than_sign", "station(-1)", "Previous station", show=False, id="app.prev"),
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(self, links: Sequence[Link]) -> None:
        super().__init__()
        if not links:
            raise ValueError("no station to show")
        self.links: dict[str, Link] = {link.label: link for link in links}
        self.models: dict[str, StationModel] = {label: StationModel(label) for label in self.links}
        self.current = next(iter(self.links))
        self.several = len(self.links) > 1
        """Whether there is a line to show (several stations)."""
        self._dirty: dict[str, set[str]] = {}
        self._redraw: Timer | None = None
        self._been_online: set[str] = set()

    @property
    def model(self) -> StationModel:
        """The station the station screens show."""
        return self.models[self.current]

    @property
    def link(self) -> Link:
        return self.links[self.current]

    def on_mount(self) -> None:
        for link in self.links.values():
            link.attach(self.post_message)
        self.switch_mode("line" if len(self.links) > 1 else "dashboard")
        if not self.is_headless:
            self._watch_terminal()

    def _watch_terminal(self) -> None:
        """Exit when the terminal goes away (an SSH session dropped).

        Without it, a UI whose terminal is gone keeps running, and Textual's input thread spins
        on the closed terminal (most of a core): the one thing a UI left on a Raspberry Pi must
        never do. A hang-up signal ends it at once; a terminal closed without one is noticed
        within two seconds.
        """
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        try:
            fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
        except (OSError, ValueError):
            return
        if fd < 0 or not os.isatty(fd):
            return
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)

        def check() -> None:
            if any(
                events & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
                for _, events in poller.poll(0)
            ):
                self.exit(return_code=1)

        self.set_interval(2.0, check)

    def on_unmount(self) -> None:
        for link in self.links.values():
            link.close()

    # --- from the links ----------------------------------------------------------------------

    def on_link_state(self, message: LinkState) -> None:
        model = self.models.get(message.station)
        if model is not None:
            was_online, seen = model.online, model.label in self._been_online
            model.set_link(message.state, message.detail, message.retry_at, message.role)
            # A toast when a station is lost or back; the bar and the line view keep saying it.
            if was_online and not model.online:
                why = f": {message.detail}" if message.detail else ""
                self.notify(f"{message.station}: connection lost{why}", severity="warning")
            elif model.online and not was_online and seen:
                self.notify(f"{message.station}: connected again")
            if model.online:
                self._been_online.add(model.label)
            self._changed(message.station, {"link"})

    def on_snapshot(self, message: Snapshot) -> None:
        model = self.models.get(message.station)
        if model is not None:
            model.apply_snapshot(message.status, message.converters, message.tree)
            self._changed(message.station, {"status", "converters", "tree", "failures"})

    def on_daemon_event(self, message: DaemonEvent) -> None:
        model = self.models.get(message.station)
        if model is not None:
            self._changed(message.station, model.apply_event(message.event, message.payload))

    def on_event_batch(self, message: EventBatch) -> None:
        model = self.models.get(message.station)
        if model is not None:
            areas: set[str] = set()
            for event, payload in message.events:
                areas |= model.apply_event(event, payload)
            self._changed(message.station, areas)

    def _changed(self, station: str, areas: Iterable[str]) -> None:
        self._dirty.setdefault(station, set()).update(areas)
        if self._redraw is None:
            self._redraw = self.set_timer(REDRAW_INTERVAL, self._redraw_changed)

    def _redraw_changed(self) -> None:
        self._redraw = None
        dirty, self._dirty = self._dirty, {}
        try:
            screen = self.screen
        except ScreenStackError:
            # Between screens (a mode switch, start-up, exit): the next screen shown draws
            # everything when it resumes, so nothing is lost by skipping this redraw.
            return
        for station, areas in dirty.items():
            if areas and isinstance(screen, StationView | LineScreen):
                screen.model_changed(station, areas)

    # --- actions -----------------------------------------------------------------------------

    def action_show(self, mode: str) -> None:
        if mode != self.current_mode:
            self.switch_mode(mode)
        self._follow_logs()

    def _follow_logs(self) -> None:
        """Only the station whose log is on screen streams its log records."""
        for label, link in self.links.items():
            link.want_logs(self.current_mode == "log" and label == self.current)

    def action_station(self, step: int) -> None:
        labels = list(self.links)
        self.select_station(labels[(labels.index(self.current) + step) % len(labels)], None)

    def select_station(self, label: str, mode: str | None = "dashboard") -> None:
        """Show ``label`` on the station screens (and switch to ``mode``)."""
        self.current = label
        if mode is not None and mode != self.current_mode:
            self.switch_mode(mode)
        elif isinstance(self.screen, StationView):
            self.screen.refresh_view(ALL_AREAS)
        self._follow_logs()

    def action_help(self) -> None:
        if not isinstance(self.screen, Help):
            self.push_screen(Help(self.screen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show" and parameters and parameters[0] == self.current_mode:
            return None  # the footer greys out the screen already shown
        if action == "station" or (action == "show" and parameters == ("line",)):
            return self.several  # no line of one station
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, (key, title, _short) in SCREENS.items():
            yield SystemCommand(
                f"Show {title.lower()}",
                f"The {title} screen (key {key})",
                lambda mode=mode: self.action_show(mode),
            )
        if len(self.links) > 1:
            for label in self.links:
                yield SystemCommand(
                    f"Open station {label}",
                    "Its dashboard",
                    lambda label=label: self.select_station(label),
                )

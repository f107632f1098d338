"""The Log screen: the daemon's log, live, with a level filter, a search and a pause.

On show it reads the last records with ``logs.tail`` and then appends the ``log_record`` events
the model has received since (:attr:`StationModel.log_seq` says which are new). The screen keeps
its own bounded copy of the records, so changing the filter or the search redraws from it
without asking the station again (a new level does ask: the tail holds only what the old level
let through).

Every line goes through :func:`mask_secrets` before it is shown. The daemon never logs its
tokens and masks the ones it knows, so this is defence in depth: a secret the daemon did not
know about (a password in a converter's error message, a header a library logged) is hidden
here too, as far as it looks like one.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Input, RichLog, Static
from textual.worker import Worker

from pywats_station.tui.screens.ask import ask
from pywats_station.tui.screens.base import StationView

__all__ = ["LEVELS", "MAX_LINES", "TAIL_LINES", "LogScreen", "log_line", "mask_secrets"]

LEVELS = ("debug", "info", "warning", "error", "critical")
"""Lowest first, as ``logs.tail``'s ``level`` takes them."""
FILTER_LEVELS = ("debug", "info", "warning", "error")
"""The levels ``v`` cycles through (``critical`` alone would show next to nothing)."""
TAIL_LINES = 500
"""Records asked for when the screen is shown."""
MAX_LINES = 2000
"""Records the screen keeps (the model keeps as many); older ones scroll away."""

_OVERLAP = 200
"""The tail's last records compared with live ones (far more than are logged while it is read)."""

_LEVEL_STYLE = {
    "debug": "dim",
    "info": "",
    "warning": "yellow",
    "error": "red",
    "critical": "bold red",
}
_MASK = "***"
_SECRET_NAME = r"[\w.-]*(?:token|password|passwd|secret|api[_-]?key|credential)[\w.-]*"
_SECRET_PATTERNS = (
    # Authorization: Bearer abc / Authorization: Basic abc= / authorization=abc (the scheme
    # word stays: it says what kind of secret was there).
    re.compile(
        r"(?P<keep>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?)"
        r"(?P<secret>[^\s\"',;&]+)",
        re.IGNORECASE,
    ),
    # A bearer token anywhere else ("sending Bearer abc").
    re.compile(r"(?P<keep>\bbearer\s+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE),
    # token=abc, api_key=abc, ?access_token=abc&… (a query string, key=value logging).
    re.compile(rf"(?P<keep>\b{_SECRET_NAME}\s*=\s*[\"']?)(?P<secret>[^\s\"',;&]+)", re.IGNORECASE),
    # "token": "abc" and 'password': 'abc' (a dict or JSON in a message). The quotes around the
    # name are required: "refused the token: it expired" is prose, not a secret.
    re.compile(
        rf"(?P<keep>[\"']{_SECRET_NAME}[\"']\s*:\s*[\"'])(?P<secret>[^\"']+)", re.IGNORECASE
    ),
    # https://user:password@host
    re.compile(r"(?P<keep>://[^/\s:@]+:)(?P<secret>[^/\s@]+)(?=@)"),
)


def mask_secrets(line: str) -> str:
    """``line`` with anything that looks like a secret replaced by ``***``.

    Masked: a bearer token, the value of an ``Authorization`` header, ``token=…`` and the like
    (any name containing token, password, secret, api_key or credential), such names quoted as
    dictionary keys (``"token": "…"``), and the password in a URL. A value already ``***``
    stays. Prose that merely mentions a token ("the station refused the token") is left alone.
    A secret with no such name next to it cannot be recognised; the daemon's own masking is the
    first line of defence.
    """

    def hide(match: re.Match[str]) -> str:
        return match["keep"] + _MASK

    for pattern in _SECRET_PATTERNS:
        line = pattern.sub(hide, line)
    return line


def _level(record: dict[str, Any]) -> int:
    level = str(record.get("level", "info"))
    return LEVELS.index(level) if level in LEVELS else LEVELS.index("info")


def log_line(record: dict[str, Any], search: str = "") -> Text:
    """One record as a line: ``12:00:01 WARNING uploader: message`` (secrets masked, the search
    term highlighted)."""
    stamp = record.get("time")
    clock = (
        time.strftime("%H:%M:%S", time.localtime(stamp)) if isinstance(stamp, int | float) else ""
    )
    level = str(record.get("level", ""))
    # Every logger of the daemon starts with the package's name: it says nothing here.
    logger = str(record.get("logger", "")).removeprefix("pywats_station.")
    message = mask_secrets(str(record.get("message", "")))
    text = Text()
    text.append(f"{clock} ", style="dim")
    text.append(f"{level.upper():<8} ", style=_LEVEL_STYLE.get(level, ""))
    text.append(f"{logger}: ", style="bold" if _level(record) >= 2 else "")
    text.append(message, style=_LEVEL_STYLE.get(level, "") if _level(record) >= 2 else "")
    if search:
        text.highlight_words([search], style="reverse", case_sensitive=False)
    return text


def _key(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record.get("time"), record.get("level"), record.get("logger"), record.get("message"))


class LogScreen(StationView):
    """The daemon's log (key 4)."""

    TITLE = "Log"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="log.search"),
        Binding("escape", "clear_search", "Clear search", id="log.clear_search"),
        Binding("v", "cycle_level", "Level", id="log.level"),
        Binding("d", "level('debug')", "Debug and up", show=False, id="log.level_debug"),
        Binding("i", "level('info')", "Info and up", show=False, id="log.level_info"),
        Binding("w", "level('warning')", "Warnings and up", show=False, id="log.level_warning"),
        Binding("e", "level('error')", "Errors only", show=False, id="log.level_error"),
        Binding("space,f", "toggle_follow", "Pause/follow", id="log.follow"),
        Binding("r", "reload", "Reload", id="log.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.level = "info"
        """The lowest level shown (and asked of ``logs.tail``)."""
        self.search = ""
        """Only records containing this (case-insensitive) are shown; empty: all."""
        self.following = True
        """New records are appended and the view kept at the end; False: paused."""
        self.records: deque[dict[str, Any]] = deque(maxlen=MAX_LINES)
        self._seen_seq = 0
        self._station: str | None = None
        self._was_online = False
        self._generation = 0
        """Counts reloads; only the latest one's answer is used."""
        self._loaded = 0
        """The generation whose tail is shown (``_generation`` when none is being read)."""
        self._pending = 0
        self._tail_error: str | None = None
        self._tail_keys: set[tuple[Any, ...]] = set()
        self._tail_worker: Worker[None] | None = None
        self._width = 0
        self._width_known = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="log-status")
        yield RichLog(id="log-view", max_lines=MAX_LINES, wrap=True, markup=False)
        yield Input(id="log-search", placeholder="search: Enter keeps it, Esc clears it")

    def on_mount(self) -> None:
        self.query_one("#log-search", Input).display = False
        self.query_one("#log-view", RichLog).focus()

    def on_resize(self) -> None:
        # Written lines keep the width they were wrapped at: wrap them again for the new one.
        width = self.query_one("#log-view", RichLog).scrollable_content_region.width
        if width != self._width:
            self._width = width
            if self._width_known:
                self._redraw()
            self._width_known = True

    def on_screen_resume(self) -> None:
        # The tail first: the full redraw that follows then does not append the model's
        # records only for the tail to replace them a moment later.
        self._reload()
        super().on_screen_resume()

    # --- keeping up with the model -----------------------------------------------------------

    def update_body(self, areas: frozenset[str]) -> None:
        model = self.model
        if self._station is not None and model.label != self._station:
            self._reload()  # another station is shown now: its log, not the last one's
        elif "link" in areas and model.online and not self._was_online and self._station:
            # Records logged while the link was down never came as events: read them.
            self._reload()
        elif "log" in areas and not self._loading:
            self._append_new()
        self._was_online = model.online
        self._show_status()

    def _append_new(self) -> None:
        model = self.model
        new = model.log_seq - self._seen_seq
        self._seen_seq = model.log_seq
        if new <= 0:
            return
        fresh = list(model.log)[-new:] if new < len(model.log) else list(model.log)
        self._add(self._not_in_tail(fresh))

    def _not_in_tail(self, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``fresh`` without the records the tail already showed.

        A record logged while ``logs.tail`` was read comes in the tail and as an event, and the
        event may arrive before or after the tail's answer. Live records are compared with the
        tail's until the first one that is not in it: from there on, all are new.
        """
        if not self._tail_keys:
            return fresh
        for index, record in enumerate(fresh):
            if _key(record) not in self._tail_keys:
                self._tail_keys = set()
                return fresh[index:]
        return []

    def _add(self, fresh: Iterable[dict[str, Any]]) -> None:
        lines = []
        for record in fresh:
            self.records.append(record)
            if self._shows(record):
                lines.append(record)
        if not lines:
            return
        if not self.following:
            self._pending += len(lines)
            return
        self._write(lines)

    def _shows(self, record: dict[str, Any]) -> bool:
        if _level(record) < LEVELS.index(self.level):
            return False
        if not self.search:
            return True
        # Searched as shown (masked): a secret cannot be probed for by searching it.
        return self.search.casefold() in log_line(record).plain.casefold()

    def _write(self, records: list[dict[str, Any]]) -> None:
        # One write for the lot: RichLog renders each write separately, and a tail of 500
        # records written one by one costs a visible pause.
        text = Text("\n").join(log_line(record, self.search) for record in records)
        view = self.query_one("#log-view", RichLog)
        # Wrapped at the log's own width (RichLog would take the console's, and crop).
        width = view.scrollable_content_region.width
        view.write(text, width=width if width > 0 else None, scroll_end=self.following)

    def _redraw(self) -> None:
        """Show the kept records again, as the filter and the search now say."""
        view = self.query_one("#log-view", RichLog)
        view.clear()
        self._pending = 0
        shown = [record for record in self.records if self._shows(record)]
        if shown:
            self._write(shown)
        self._show_status()

    def _show_status(self) -> None:
        shown = sum(1 for record in self.records if self._shows(record))
        text = Text()
        text.append(" level ")
        text.append(f"{self.level}+", style="bold")
        text.append(" (v) · ")
        if self.following:
            text.append("following", style="green")
        else:
            text.append("paused", style="bold yellow")
            if self._pending:
                text.append(f", {self._pending} new")
        text.append(f" (space) · {shown} of {len(self.records)} records")
        if self.search:
            text.append(" · search ")
            text.append(self.search, style="reverse")
        if self._loading:
            text.append(" · reading the log…", style="dim")
        elif self._tail_error:
            text.append(f" · logs.tail: {self._tail_error}", style="yellow")
        self.query_one("#log-status", Static).update(text)

    # --- reading the tail --------------------------------------------------------------------

    @property
    def _loading(self) -> bool:
        return self._loaded != self._generation

    def _reload(self) -> None:
        # The station is named when asked, not when answered: until then, the next redraw
        # must not see "another station" and start over (under a stream of events, forever).
        self._station = self.model.label
        self._generation += 1
        self._show_status()
        generation = self._generation

        async def load() -> None:
            await self._load_tail(generation)

        # A function, not a coroutine: a reload cancelled before it starts leaves nothing behind.
        self._tail_worker = self.run_worker(load, group="log-tail", exclusive=True)

    async def _load_tail(self, generation: int) -> None:
        model, level = self.model, self.level
        before = model.log_seq
        answer = await ask(self.link, "logs.tail", {"lines": TAIL_LINES, "level": level})
        if generation != self._generation:
            return  # a newer reload (another level, another station) has the last word
        self._loaded = generation
        self._was_online = model.online
        if answer.ok:
            self._tail_error = None
            records: list[dict[str, Any]] = list(answer.value.get("records") or [])
            self._tail_keys = {_key(record) for record in records[-_OVERLAP:]}
            self._seen_seq = before  # what came as events meanwhile is appended below
        else:
            # Show what came as events at least; the reason stays in the status line.
            self._tail_error = answer.error
            records = list(model.log)
            self._tail_keys = set()
            self._seen_seq = model.log_seq
        self.records = deque(records, maxlen=MAX_LINES)
        self._redraw()
        self._append_new()

    # --- actions -----------------------------------------------------------------------------

    def action_search(self) -> None:
        field = self.query_one("#log-search", Input)
        field.display = True
        field.value = self.search
        field.focus()
        self.refresh_bindings()

    def action_clear_search(self) -> None:
        field = self.query_one("#log-search", Input)
        field.display = False
        self.query_one("#log-view", RichLog).focus()
        if self.search:
            self.search = ""
            field.value = ""
            self._redraw()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "log-search" and event.value != self.search:
            self.search = event.value
            self._redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "log-search":
            # The search stays in force (the status line shows it); the log gets the keys back.
            event.input.display = False
            self.query_one("#log-view", RichLog).focus()

    def action_cycle_level(self) -> None:
        index = FILTER_LEVELS.index(self.level) if self.level in FILTER_LEVELS else 0
        self.action_level(FILTER_LEVELS[(index + 1) % len(FILTER_LEVELS)])

    def action_level(self, level: str) -> None:
        if level not in LEVELS or level == self.level:
            return
        self.level = level
        self._redraw()  # at once from what is kept, then completed by the tail
        self._reload()

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        view = self.query_one("#log-view", RichLog)
        view.auto_scroll = self.following
        if self.following and self._pending:
            self._redraw()
        elif self.following:
            view.scroll_end(animate=False)
        self._show_status()

    def action_reload(self) -> None:
        self._reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            # Hidden when there is nothing to clear or close.
            try:
                open_field = self.query_one("#log-search", Input).display
            except NoMatches:  # asked before the screen is composed
                return False
            return bool(self.search) or open_field
        return True

"""The Queue screen: the station's report queue a page at a time, dead letters first.

The entries are not in the model (a queue may hold a million): the screen asks the station for
one page (``queue.list``) when it is shown, when the filter or the page changes, after each
action, and when the queue's counts in the status change, but not more often than every
:data:`REFETCH_INTERVAL` seconds for those (a busy station sends new counts every 2 s).

Keys: ``x`` dead, ``f`` failed, ``u`` queued, ``s`` uploading, ``a`` all; ``[`` and ``]`` (or
PgUp/PgDn past the first or last row) turn pages; Enter shows an entry; ``r`` retries the
highlighted entry, ``R`` retries every dead and failed one, ``p`` purges the highlighted one
(those two ask first); F5 reloads.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static

from pywats_station.tui.model import unit_text
from pywats_station.tui.screens.base import StationView, ago
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.widgets import fill_table, state_text

__all__ = [
    "PAGE_SIZE",
    "REFETCH_INTERVAL",
    "EntryScreen",
    "QueueScreen",
    "QueueTable",
    "entry_text",
]

PAGE_SIZE = 100
"""Entries per page: a fixed number, so a page is the same whatever the terminal's size."""
REFETCH_INTERVAL = 2.0
"""Seconds at least between fetches caused by new queue counts."""
COLUMNS = ("seq", "state", "serial", "part", "att", "age", "last error / reason")
REASON_MIN = 16
"""The reason column is cut to the table's width, but not below this (the line under the
table and Enter show it whole)."""

FILTERS: tuple[tuple[str | None, str], ...] = (
    # (state for queue.list, word shown); in the order shown
    (None, "all"),
    ("dead", "dead"),
    ("failed", "failed"),
    ("queued", "queued"),
    ("uploading", "uploading"),
)


def _when(stamp: Any) -> str:
    """A time as the station's clock gives it, in this machine's zone."""
    if not isinstance(stamp, int | float):
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _age(stamp: Any, now: float) -> str:
    """``45s``, ``12m``, ``3h``, ``5d``: a column's worth of age."""
    if not isinstance(stamp, int | float):
        return ""
    seconds = max(0.0, now - stamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _one_line(text: Any, limit: int) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _reason(entry: dict[str, Any]) -> str:
    """Why the entry is where it is: the server's rejection, else the last failure."""
    return str(entry.get("dead_reason") or entry.get("last_error") or "")


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def entry_text(shown: dict[str, Any], now: float | None = None) -> Text:
    """One ``queue.show`` answer: the unit, the entry's state and history, the reasons whole."""
    now = time.time() if now is None else now
    entry: dict[str, Any] = shown.get("entry") or {}
    header = shown.get("report") if isinstance(shown.get("report"), dict) else None
    unit = header or (entry.get("unit") if isinstance(entry.get("unit"), dict) else None)
    text = Text()
    text.append(unit_text(unit) or "(the report's header cannot be read)", style="bold")

    def line(label: str, value: Any, style: str = "") -> None:
        text.append(f"\n{label:<14}", style="bold")
        if isinstance(value, Text):
            text.append_text(value)
        else:
            text.append("—" if value in (None, "") else str(value), style=style)

    if unit:
        line("started", unit.get("start"))
        line("station", unit.get("station"))
    line("seq", entry.get("seq"))
    line("report id", entry.get("report_id"))
    line("state", state_text(entry.get("state")))
    line("queued", f"{_when(entry.get('created_at'))} ({ago(entry.get('created_at'), now)})")
    line("source", entry.get("source"))
    line("size", f"{entry.get('size', 0)} bytes")
    checksum = str(entry.get("checksum") or "")
    # Enough of it to compare by eye; the whole is in queue.show's JSON.
    line("checksum", checksum if len(checksum) <= 30 else checksum[:30] + "…")
    line("attempts", entry.get("attempts", 0))
    next_at = entry.get("next_attempt_at")
    if isinstance(next_at, int | float):
        due = "due now" if next_at <= now else f"in {next_at - now:.0f} s"
        line("next attempt", f"{_when(next_at)} ({due})")
    else:
        line("next attempt", None)
    # The reasons under their label, at the full width: they are long, and the point.
    for label, key, style in (
        ("last error", "last_error", "yellow"),
        ("dead reason", "dead_reason", "red"),
    ):
        if entry.get(key):
            text.append(f"\n{label}\n", style="bold")
            text.append(str(entry[key]), style=style)
        else:
            line(label, None)
    return text


class QueueTable(DataTable[Any]):
    """The entries; PgUp on the first row and PgDn on the last turn the page."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Show", id="queue.show"),
    ]

    class Resized(Message):
        """The table's size changed: the reasons are cut again to fit."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    class Edge(Message):
        """PgUp/PgDn went past the page: ``step`` is -1 or 1."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.Edge(-1))
        else:
            super().action_page_up()

    def action_page_down(self) -> None:
        if self.cursor_row >= self.row_count - 1:
            self.post_message(self.Edge(1))
        else:
            super().action_page_down()


class EntryScreen(ModalScreen[str | None]):
    """One entry whole; dismissed with ``retry``, ``purge`` or None (Esc)."""

    DEFAULT_CSS = """
    EntryScreen {
        align: center middle;
    }
    #entry-box {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Close", id="queue.entry.close"),
        Binding("r", "dismiss('retry')", "Retry", id="queue.entry.retry"),
        Binding("p", "dismiss('purge')", "Purge", id="queue.entry.purge"),
    ]

    def __init__(self, shown: dict[str, Any]) -> None:
        super().__init__()
        self._shown = shown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="entry-box"):
            yield Static(entry_text(self._shown), id="entry-text")
        yield Footer()

    def on_mount(self) -> None:
        entry = self._shown.get("entry") or {}
        self.query_one("#entry-box").border_title = f"Queue entry {entry.get('seq', '?')}"


class QueueScreen(StationView):
    """The queue by state, a page at a time."""

    TITLE = "Queue"

    DEFAULT_CSS = """
    #queue-head {
        height: 1;
        padding: 0 1;
    }
    #queue-table {
        height: 1fr;
    }
    #queue-line {
        height: auto;
        max-height: 3;
        padding: 0 1;
    }
    """

    # The most used first: a narrow footer shows the first ones (F1 lists them all).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry", id="queue.retry"),
        Binding("R", "retry_all", "Retry all", id="queue.retry_all"),
        Binding("p", "purge", "Purge", id="queue.purge"),
        Binding("x", "state('dead')", "Dead", id="queue.dead"),
        Binding("a", "state(None)", "All", id="queue.all"),
        Binding("f", "state('failed')", "Failed", id="queue.failed"),
        Binding("u", "state('queued')", "Queued", id="queue.queued"),
        Binding("s", "state('uploading')", "Uploading", id="queue.uploading"),
        Binding("left_square_bracket", "page(-1)", "Page back", id="queue.page_back"),
        Binding("right_square_bracket", "page(1)", "Page on", id="queue.page_on"),
        Binding("f5", "reload", "Reload", id="queue.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._station: str | None = None
        self._state: str | None = None
        self._offset = 0
        self._total = 0
        self._entries: list[dict[str, Any]] = []
        self._chosen = False
        """The opening filter is chosen (dead if there are dead letters): once per station."""
        self._fetched_counts: tuple[int, ...] | None = None
        self._last_fetch = float("-inf")
        self._pending: Timer | None = None
        self._resuming = False
        self._under_modal = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="queue-head")
        yield QueueTable(id="queue-table", cursor_type="row")
        yield Static(id="queue-line")

    def on_mount(self) -> None:
        table = self.query_one(QueueTable)
        table.add_columns(*COLUMNS)
        table.focus()

    # --- keeping current ---------------------------------------------------------------------

    def on_screen_suspend(self) -> None:
        # Under a question, an entry or the help, the page stays as it was; under another
        # screen the queue may have changed all over.
        self._under_modal = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        # The page is fetched once here, not also by update_body seeing the counts.
        self._resuming = True
        try:
            super().on_screen_resume()
        finally:
            self._resuming = False
        if not self._under_modal:
            self._fetch()
        elif self._counts() != self._fetched_counts:
            self._fetch_soon()
        self._under_modal = False

    def update_body(self, areas: frozenset[str]) -> None:
        if self.model.label != self._station:
            self._forget(self.model.label)
        if areas & {"status", "link"}:
            self._show_head()
        if "status" in areas and not self._resuming:
            counts = self._counts()
            if not self._chosen and counts is not None:
                self._fetch()
            elif counts is not None and counts != self._fetched_counts:
                self._fetch_soon()

    def _forget(self, station: str) -> None:
        """Another station is shown: its queue starts afresh, dead letters first."""
        self._station, self._chosen = station, False
        self._state, self._offset, self._total, self._entries = None, 0, 0, []
        self._fetched_counts = None
        self._show_rows()

    def _counts(self) -> tuple[int, ...] | None:
        queue = (self.model.status or {}).get("queue")
        if not isinstance(queue, dict):
            return None
        return tuple(int(queue.get(state or "depth") or 0) for state, _ in FILTERS)

    def _fetch_soon(self) -> None:
        """Fetch now, or when :data:`REFETCH_INTERVAL` has passed since the last fetch."""
        wait = self._last_fetch + REFETCH_INTERVAL - time.monotonic()
        if wait <= 0:
            self._fetch()
        elif self._pending is None:
            self._pending = self.set_timer(wait, self._fetch)

    def _fetch(
        self,
        state: str | None = None,
        offset: int = 0,
        *,
        keep: bool = True,
        at_end: bool = False,
    ) -> None:
        """Ask for a page: the one shown (``keep``), or ``state`` at ``offset``; ``at_end``
        puts the cursor on its last row (paging back)."""
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
        if not self.is_current:
            return  # fetched again when shown
        if not self._chosen:
            status = self.model.status
            if status is None:
                return  # no status yet: the first one decides the opening filter
            dead = int(((status.get("queue") or {}).get("dead")) or 0)
            self._state, self._offset, self._chosen = ("dead" if dead else None), 0, True
        if keep:
            state, offset = self._state, self._offset
        self._last_fetch = time.monotonic()
        self._fetched_counts = self._counts()
        self._load(state, offset, at_end)

    @work(exclusive=True, group="queue-fetch")
    async def _load(self, state: str | None, offset: int, at_end: bool) -> None:
        station = self.model.label
        page = await self.call("queue.list", {"state": state, "offset": offset, "limit": PAGE_SIZE})
        if isinstance(page, dict) and not page.get("entries") and offset > 0:
            # The page emptied meanwhile (uploaded, purged): show the last page there is.
            total = int(page.get("total") or 0)
            offset = max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)
            page = await self.call(
                "queue.list", {"state": state, "offset": offset, "limit": PAGE_SIZE}
            )
        if not isinstance(page, dict) or station != self.model.label:
            return  # refused or the link is down (base.call said so): what is shown stays
        self._state, self._offset = state, offset
        self._entries = [e for e in page.get("entries") or [] if isinstance(e, dict)]
        self._total = int(page.get("total") or 0)
        self._show_rows()
        self._show_head()
        table = self.query_one(QueueTable)
        if at_end and table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)

    # --- showing -----------------------------------------------------------------------------

    def _show_head(self) -> None:
        queue = (self.model.status or {}).get("queue") or {}
        counts = {state: int(queue.get(state) or 0) for state, _ in FILTERS if state}
        text = Text()
        for state, word in FILTERS:
            count = sum(counts.values()) if state is None else counts[state]
            label = f" {word} {count} "
            if state == self._state and self._chosen:
                text.append(label, style="bold reverse")
            else:
                style = "red" if state == "dead" and count else ""
                text.append(label, style=style)
        pages = max(1, -(-self._total // PAGE_SIZE))
        page = self._offset // PAGE_SIZE + 1
        text.append(f"   page {page} of {pages} · {_entries(self._total)}", style="dim")
        self.query_one("#queue-head", Static).update(text)

    def _show_rows(self) -> None:
        now = time.time()
        rows = []
        for entry in self._entries:
            # Entries queued by a version that did not record the unit have none.
            unit: dict[str, Any] = entry["unit"] if isinstance(entry.get("unit"), dict) else {}
            rows.append(
                (
                    str(entry.get("report_id")),
                    [
                        Text(str(entry.get("seq", "")), justify="right"),
                        state_text(entry.get("state")),
                        _one_line(unit.get("serial_number"), 24),
                        _one_line(unit.get("part_number"), 20),
                        Text(str(entry.get("attempts", 0)), justify="right"),
                        _age(entry.get("created_at"), now),
                        _one_line(_reason(entry), 1000),
                    ],
                )
            )
        table = self.query_one(QueueTable)
        width = self._reason_width(table, [cells for _, cells in rows])
        for _, cells in rows:
            cells[-1] = _one_line(cells[-1], width)
        fill_table(table, rows)
        self._show_line()

    @staticmethod
    def _reason_width(table: DataTable[Any], rows: list[list[Any]]) -> int:
        """What the reason column may take for the table to fit its width: the columns before
        it as wide as their widest cell, one cell of padding each side, and the scrollbar when
        there are more rows than fit."""
        if not table.size.width:
            return 1000  # not laid out yet: the resize that follows shows it again
        used = 2  # the reason's own padding (size is inside the border already)
        if len(rows) > table.size.height - 1:  # more rows than fit under the header
            used += table.styles.scrollbar_size_vertical
        for i, label in enumerate(COLUMNS[:-1]):
            used += max([cell_len(label), *(cell_len(str(row[i])) for row in rows)]) + 2
        return max(REASON_MIN, table.size.width - used)

    @on(QueueTable.Resized)
    def _resized(self) -> None:
        self._show_rows()

    @on(DataTable.RowHighlighted, "#queue-table")
    def _show_line(self) -> None:
        """The highlighted entry's reason whole, under the table (the column is cut)."""
        entry = self.highlighted()
        text = Text()
        if entry is not None:
            text.append(f"seq {entry.get('seq')} · ", style="bold")
            text.append(f"{entry.get('attempts', 0)} attempts · from {entry.get('source') or '?'}")
            reason = _reason(entry)
            if reason:
                text.append(
                    f"\n{_one_line(reason, 1000)}",
                    style="red" if entry.get("dead_reason") else "yellow",
                )
        elif self._chosen:
            word = dict(FILTERS)[self._state]
            text.append(f"no {word} entries" if self._state else "the queue is empty", style="dim")
        self.query_one("#queue-line", Static).update(text)

    def highlighted(self) -> dict[str, Any] | None:
        """The entry under the cursor (None on an empty page)."""
        table = self.query_one(QueueTable)
        if not table.row_count or table.cursor_row >= table.row_count:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((e for e in self._entries if str(e.get("report_id")) == key), None)

    # --- keys --------------------------------------------------------------------------------

    def action_state(self, state: str | None) -> None:
        self._chosen = True  # the user's choice stands over "dead letters first"
        self._fetch(state, 0, keep=False)

    def action_page(self, step: int) -> None:
        offset = self._offset + step * PAGE_SIZE
        if offset < 0 or offset >= self._total:
            self.notify("no page before this one" if step < 0 else "this is the last page")
            return
        self._fetch(self._state, offset, keep=False, at_end=step < 0)

    @on(QueueTable.Edge)
    def _edge(self, message: QueueTable.Edge) -> None:
        self.action_page(message.step)

    def action_reload(self) -> None:
        self._fetch()

    def action_retry(self) -> None:
        if (entry := self._target()) is not None:
            self._retry(entry)

    def action_retry_all(self) -> None:
        self._retry_all()

    def action_purge(self) -> None:
        if (entry := self._target()) is not None:
            self._purge(entry)

    @on(DataTable.RowSelected, "#queue-table")
    def _selected(self) -> None:
        if (entry := self._target()) is not None:
            self._show_entry(entry)

    def _target(self) -> dict[str, Any] | None:
        entry = self.highlighted()
        if entry is None:
            self.notify("no entry here", severity="warning")
        return entry

    # --- actions -----------------------------------------------------------------------------

    @work(group="queue-action")
    async def _show_entry(self, entry: dict[str, Any]) -> None:
        shown = await self.call("queue.show", {"entry": str(entry["report_id"])})
        if not isinstance(shown, dict):
            return
        choice = await self.app.push_screen_wait(EntryScreen(shown))
        if choice == "retry":
            await self._retry_now(entry)
        elif choice == "purge":
            await self._purge_now(entry)

    @work(group="queue-action")
    async def _retry(self, entry: dict[str, Any]) -> None:
        await self._retry_now(entry)

    async def _retry_now(self, entry: dict[str, Any]) -> None:
        answer = await self.call("queue.retry", {"selector": str(entry["report_id"])})
        if isinstance(answer, dict):
            count = int(answer.get("count") or 0)
            if count:
                self.notify(f"{_entries(count)} queued again", title=self.model.label)
            else:
                self.notify(
                    f"seq {entry.get('seq')} is not dead or failed: nothing to send again",
                    severity="warning",
                )
            self._fetch()

    @work(group="queue-action")
    async def _retry_all(self) -> None:
        queue = (self.model.status or {}).get("queue") or {}
        dead, failed = int(queue.get("dead") or 0), int(queue.get("failed") or 0)
        question = Confirm(
            "Send every dead and failed entry again now?",
            f"{dead} dead and {failed} failed (as last counted). Dead letters were rejected by "
            "the server: unless its reason is fixed, they are rejected again.",
        )
        if not await self.app.push_screen_wait(question):
            return
        answer = await self.call("queue.retry", {"selector": "all"})
        if isinstance(answer, dict):
            self.notify(
                f"{_entries(int(answer.get('count') or 0))} queued again", title=self.model.label
            )
            self._fetch()

    @work(group="queue-action")
    async def _purge(self, entry: dict[str, Any]) -> None:
        await self._purge_now(entry)

    async def _purge_now(self, entry: dict[str, Any]) -> None:
        unit = entry.get("unit") if isinstance(entry.get("unit"), dict) else None
        question = Confirm(
            f"Purge queue entry {entry.get('seq')}?",
            f"{unit_text(unit) or entry.get('report_id')}: the report is deleted for good and "
            "never reaches the server.",
        )
        if not await self.app.push_screen_wait(question):
            return
        answer = await self.call("queue.purge", {"selector": str(entry["report_id"])})
        if isinstance(answer, dict):
            self.notify(f"{_entries(int(answer.get('count') or 0))} purged", title=self.model.label)
            self._fetch()

"""The Queue screen through Pilot, against a scripted queue checked against the API's types."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from pywats_station.control import ControlError, ErrorCode
from pywats_station.control import events as ev
from pywats_station.control import models as m
from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens import queue as queue_screen
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.screens.queue import EntryScreen, QueueScreen
from tests.tui.fake import NOW, FakeLink, sample_status, unit

pytestmark = pytest.mark.anyio

REJECTED = "400 Bad Request: process code 10 is not a test operation on this server"


def entry(seq: int, state: str = "queued", **changes: Any) -> dict[str, Any]:
    """One ``QueueEntry`` as ``queue.list`` sends it."""
    item: dict[str, Any] = {
        "seq": seq,
        "report_id": f"report-{seq:04d}",
        "state": state,
        "size": 1000 + seq,
        "checksum": "sha256:" + "ab" * 32,
        "created_at": NOW - 60 * seq,
        "attempts": 0,
        "source": f"ict: board-{seq}.txt",
        "unit": unit(f"SN-{seq:04d}"),
    }
    if state == "dead":
        item.update(attempts=2, dead_reason=REJECTED)
    if state == "failed":
        item.update(attempts=1, last_error="connection refused", next_attempt_at=NOW + 30)
    item.update(changes)
    msgspec.convert(item, m.QueueEntry)
    return item


class ScriptedQueue:
    """``queue.list/show/retry/purge`` over a list of entries, as the daemon answers them."""

    def __init__(self, link: FakeLink, entries: list[dict[str, Any]]) -> None:
        self.link = link
        self.entries = entries
        link.handlers.update(
            {
                "queue.list": self.list,
                "queue.show": self.show,
                "queue.retry": self.retry,
                "queue.purge": self.purge,
            }
        )
        self.sync_status()

    def sync_status(self) -> None:
        """The status counts what the list holds (what the screen opens on depends on it)."""
        states = ("queued", "uploading", "failed", "dead")
        counts = {s: sum(e["state"] == s for e in self.entries) for s in states}
        queue = {**self.link.status["queue"], **counts}
        queue["depth"] = counts["queued"] + counts["failed"] + counts["uploading"]
        self.link.status = sample_status(queue=queue)

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        query = msgspec.convert(params, m.QueueListParams)
        matching = [e for e in self.entries if query.state in (None, e["state"])]
        result = {
            "entries": matching[query.offset : query.offset + query.limit],
            "total": len(matching),
            "offset": query.offset,
            "limit": query.limit,
        }
        msgspec.convert(result, m.QueueListResult)
        return result

    def find(self, selector: str) -> dict[str, Any]:
        for item in self.entries:
            if selector in (item["report_id"], str(item["seq"])):
                return item
        raise ControlError(ErrorCode.NOT_FOUND, f"no queue entry {selector!r}")

    def show(self, params: dict[str, Any]) -> dict[str, Any]:
        query = msgspec.convert(params, m.QueueShowParams)
        item = self.find(query.entry)
        result = {"entry": item, "report": item.get("unit")}
        msgspec.convert(result, m.QueueShowResult)
        return result

    def retry(self, params: dict[str, Any]) -> dict[str, Any]:
        query = msgspec.convert(params, m.QueueRetryParams)
        if query.selector in ("all", "dead", "failed"):
            chosen = [e for e in self.entries if e["state"] in ("dead", "failed")]
            chosen = [e for e in chosen if query.selector in ("all", e["state"])]
        else:
            item = self.find(query.selector)
            chosen = [item] if item["state"] in ("dead", "failed") else []
        for item in chosen:
            item.update(state="queued", dead_reason=None, next_attempt_at=None)
        self.sync_status()
        return {"count": len(chosen)}

    def purge(self, params: dict[str, Any]) -> dict[str, Any]:
        selector = msgspec.convert(params, m.QueuePurgeParams).selector
        if selector in ("all", "dead", "failed"):
            chosen = [e for e in self.entries if selector in ("all", e["state"])]
        else:
            chosen = [self.find(selector)]
        self.entries[:] = [e for e in self.entries if e not in chosen]
        self.sync_status()
        return {"count": len(chosen)}


async def settle(pilot: Pilot[None]) -> None:
    """Let redraws, calls and toasts happen: until the screen shown runs no worker (one of a
    screen under a question waits for the answer, and is not waited for)."""
    await pilot.pause(REDRAW_INTERVAL * 2)
    app = pilot.app
    for _ in range(200):
        if not any(w.is_running and w.node is app.screen for w in app.workers):
            break
        await pilot.pause(0.02)
    await pilot.pause()


def rows(app: StationTui) -> list[list[str]]:
    table = app.screen.query_one("#queue-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def seqs(app: StationTui) -> list[int]:
    return [int(row[0]) for row in rows(app)]


def text_of(app: StationTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def toasts(app: StationTui) -> list[str]:
    return [n.message for n in app._notifications]


def lists(link: FakeLink) -> list[dict[str, Any]]:
    return [params for method, params in link.calls if method == "queue.list"]


def actions(link: FakeLink) -> list[tuple[str, dict[str, Any]]]:
    return [c for c in link.calls if c[0] in ("queue.retry", "queue.purge", "queue.show")]


def mixed_queue() -> list[dict[str, Any]]:
    return [entry(1), entry(2), entry(3, "dead"), entry(4, "failed"), entry(5, "dead")]


async def open_queue(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, QueueScreen)


# --- what is shown ---------------------------------------------------------------------------


async def test_dead_letters_first() -> None:
    link = FakeLink()
    ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        assert lists(link) == [{"state": "dead", "offset": 0, "limit": 100}]
        assert seqs(app) == [3, 5]
        first = rows(app)[0]
        assert first[1:5] == ["dead", "SN-0003", "PCBA-100", "2"]
        # Cut to fit 80 columns; the line under the table has it whole.
        assert first[6].endswith("…")
        assert REJECTED.startswith(first[6][:-1])
        head = text_of(app, "#queue-head")
        assert "dead 2" in head
        assert "all 5" in head
        assert "page 1 of 1 · 2 entries" in head
        # The highlighted entry's reason, whole, under the table.
        assert REJECTED in text_of(app, "#queue-line")
        await pilot.press("a")
        await settle(pilot)
        assert lists(link)[-1] == {"state": None, "offset": 0, "limit": 100}
        assert seqs(app) == [1, 2, 3, 4, 5]
        await pilot.press("f")
        await settle(pilot)
        assert seqs(app) == [4]
        assert rows(app)[0][6] == "connection refused"
        await pilot.press("u")
        await settle(pilot)
        assert seqs(app) == [1, 2]
        await pilot.press("s")
        await settle(pilot)
        assert seqs(app) == []
        assert "no uploading entries" in text_of(app, "#queue-line")


async def test_without_dead_letters_it_opens_on_all() -> None:
    link = FakeLink()
    ScriptedQueue(link, [entry(1), entry(2, "failed")])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        assert lists(link) == [{"state": None, "offset": 0, "limit": 100}]
        assert seqs(app) == [1, 2]


async def test_an_entry_without_its_unit_shows_empty_cells() -> None:
    link = FakeLink()
    ScriptedQueue(link, [entry(1, unit=None)])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        assert rows(app)[0][2:4] == ["", ""]


async def test_paging_over_250_entries() -> None:
    link = FakeLink()
    ScriptedQueue(link, [entry(seq) for seq in range(1, 251)])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        assert seqs(app) == list(range(1, 101))
        assert "page 1 of 3 · 250 entries" in text_of(app, "#queue-head")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert lists(link)[-1] == {"state": None, "offset": 100, "limit": 100}
        assert seqs(app) == list(range(101, 201))
        assert "page 2 of 3" in text_of(app, "#queue-head")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert seqs(app) == list(range(201, 251))
        assert "page 3 of 3" in text_of(app, "#queue-head")
        calls = len(lists(link))
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert len(lists(link)) == calls  # no page 4 asked for
        assert any("last page" in t for t in toasts(app))
        # PgUp on the first row goes back a page, to its last row.
        await pilot.press("pageup")
        await settle(pilot)
        assert seqs(app)[0] == 101
        assert app.screen.query_one("#queue-table", DataTable).cursor_row == 99
        assert "seq 200" in text_of(app, "#queue-line")
        # PgDn on the last row turns the page on.
        await pilot.press("pagedown")
        await settle(pilot)
        assert seqs(app)[0] == 201
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert seqs(app)[0] == 1
        assert "page 1 of 3" in text_of(app, "#queue-head")


async def test_show_an_entry_then_retry_it_from_there() -> None:
    link = FakeLink()
    queue = ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        fetched = len(lists(link))
        await pilot.press("enter")
        await settle(pilot)
        assert actions(link) == [("queue.show", {"entry": "report-0003"})]
        assert isinstance(app.screen, EntryScreen)
        shown = text_of(app, "#entry-text")
        for fact in (
            "SN SN-0003 · PN PCBA-100 rev B · op 10 · Passed",
            "report-0003",
            "ict: board-3.txt",
            REJECTED,
        ):
            assert fact in shown
        assert "attempts      2" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert len(lists(link)) == fetched  # the page under an entry shown is still good
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert actions(link)[-1] == ("queue.retry", {"selector": "report-0003"})
        assert queue.find("report-0003")["state"] == "queued"
        assert any("1 entry queued again" in t for t in toasts(app))
        # The list is fetched again: the retried entry left the dead letters.
        assert seqs(app) == [5]


async def test_retry_the_highlighted_entry() -> None:
    link = FakeLink()
    ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_queue(pilot)
        assert rows(app)[1][6] == REJECTED  # wide enough for all of it
        await pilot.press("down", "r")
        await settle(pilot)
        assert actions(link) == [("queue.retry", {"selector": "report-0005"})]
        assert seqs(app) == [3]


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_retry_all_asks_first(answer: str) -> None:
    link = FakeLink()
    queue = ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press(answer)
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        if answer == "y":
            assert actions(link) == [("queue.retry", {"selector": "all"})]
            assert any("3 entries queued again" in t for t in toasts(app))
            assert [e["state"] for e in queue.entries] == ["queued"] * 5
            assert seqs(app) == []  # no dead letters left on the page shown
        else:
            assert actions(link) == []
            assert seqs(app) == [3, 5]


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_purge_asks_first(answer: str) -> None:
    link = FakeLink()
    queue = ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        await pilot.press("down", "p")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert "SN SN-0005" in str(app.screen.query_one("#confirm-detail", Static).render())
        await pilot.press(answer)
        await settle(pilot)
        if answer == "y":
            assert actions(link) == [("queue.purge", {"selector": "report-0005"})]
            assert any("1 entry purged" in t for t in toasts(app))
            assert [e["seq"] for e in queue.entries] == [1, 2, 3, 4]
            assert seqs(app) == [3]
        else:
            assert actions(link) == []
            assert seqs(app) == [3, 5]


async def test_a_lost_link_is_a_toast_and_the_rows_stay() -> None:
    link = FakeLink()
    ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        link.go_down("the station closed the connection")
        await pilot.press("r")
        await settle(pilot)
        assert any("not connected" in t for t in toasts(app))
        assert seqs(app) == [3, 5]
        await pilot.press("a")  # a filter that cannot be fetched leaves the page as it was
        await settle(pilot)
        assert seqs(app) == [3, 5]
        assert "page 1 of 1 · 2 entries" in text_of(app, "#queue-head")
        assert isinstance(app.screen, QueueScreen)


async def test_new_counts_fetch_again_at_most_every_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Longer than the real 2 s, so that the test has room to look between fetches.
    monkeypatch.setattr(queue_screen, "REFETCH_INTERVAL", 3.0)
    link = FakeLink()
    queue = ScriptedQueue(link, mixed_queue())
    app = StationTui([link])

    def counters() -> None:
        queue.sync_status()
        payload = {
            "time": NOW,
            "counters": link.status["counters"],
            "queue": copy.deepcopy(link.status["queue"]),
        }
        msgspec.convert(payload, ev.CountersUpdate)
        link.event("counters", payload)

    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        assert len(lists(link)) == 1
        counters()  # the same counts: nothing to fetch
        await settle(pilot)
        assert len(lists(link)) == 1
        await pilot.pause(3.0)
        # The station rejects a report: the counts change, long after the last fetch.
        queue.entries.append(entry(6, "dead"))
        counters()
        await settle(pilot)
        assert len(lists(link)) == 2
        assert seqs(app) == [3, 5, 6]
        # Two more at once after it: one fetch for both, when the interval is over.
        queue.entries.append(entry(7, "dead"))
        counters()
        await pilot.pause(0.6)
        queue.entries.append(entry(8, "dead"))
        counters()
        await pilot.pause(0.6)
        assert len(lists(link)) == 2
        await pilot.pause(2.5)
        await settle(pilot)
        assert len(lists(link)) == 3
        assert seqs(app) == [3, 5, 6, 7, 8]


async def test_showing_the_screen_again_fetches_again() -> None:
    link = FakeLink()
    queue = ScriptedQueue(link, mixed_queue())
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_queue(pilot)
        await pilot.press("1")
        await settle(pilot)
        queue.entries.append(entry(6, "dead"))
        await pilot.press("3")
        await settle(pilot)
        assert len(lists(link)) == 2
        assert seqs(app) == [3, 5, 6]

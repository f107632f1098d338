"""The Log screen through Pilot: the tail, live records, level filter, search, pause, masking."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from textual.widgets import RichLog, Static

from pywats_station.control import ErrorCode
from pywats_station.control import events as ev
from pywats_station.control import models as m
from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens.log import LogScreen, mask_secrets
from tests.tui.fake import NOW, FakeLink

pytestmark = pytest.mark.anyio

TOKEN = "Zm9vYmFyLXNlY3JldC10b2tlbi0xMjM0NTY3ODkw"


def record(
    message: str, level: str = "info", logger: str = "pywats_station.uploader"
) -> dict[str, Any]:
    rec = {"time": NOW, "level": level, "logger": logger, "message": message}
    msgspec.convert(rec, ev.LogRecord)
    return rec


def serve_tail(link: FakeLink, records: list[dict[str, Any]]) -> None:
    """``logs.tail`` answering ``records`` at or above the level asked (as the daemon does)."""
    order = ["debug", "info", "warning", "error", "critical"]

    def tail(params: dict[str, Any]) -> dict[str, Any]:
        asked = msgspec.convert(params, m.LogsTailParams)  # the screen sends valid params
        lowest = order.index(asked.level)
        kept = [r for r in records if order.index(r["level"]) >= lowest][-asked.lines :]
        result = {"records": kept}
        msgspec.convert(result, m.LogsTailResult)
        return result

    link.handlers["logs.tail"] = tail


def shown(app: StationTui) -> list[str]:
    view = app.screen.query_one("#log-view", RichLog)
    return [line.text.rstrip() for line in view.lines]


def status(app: StationTui) -> str:
    return str(app.screen.query_one("#log-status", Static).render())


async def settle(pilot: Any) -> None:
    await pilot.pause(REDRAW_INTERVAL * 2)


def tail_calls(link: FakeLink) -> list[dict[str, Any]]:
    return [params for method, params in link.calls if method == "logs.tail"]


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"GET /api Authorization: Bearer {TOKEN}", TOKEN),
        (f"headers={{'Authorization': 'Basic {TOKEN}'}}", TOKEN),
        (f"sending bearer {TOKEN} to the server", TOKEN),
        (f"https://wats.example.com/api?token={TOKEN}&x=1", TOKEN),
        (f"api_key={TOKEN}", TOKEN),
        (f'config {{"token": "{TOKEN}", "url": "x"}}', TOKEN),
        (f"{{'password': '{TOKEN}'}}", TOKEN),
        ("proxy https://user:hunter2secret@proxy.local:3128", "hunter2secret"),
    ],
)
def test_mask_secrets_hides_token_like_values(line: str, secret: str) -> None:
    masked = mask_secrets(line)
    assert secret not in masked
    assert "***" in masked


def test_mask_secrets_leaves_prose_and_masked_values_alone() -> None:
    for line in (
        "the station refused the token: it expired",
        "control token created (0600)",
        'token = "***"',
        "uploaded report 5d9c0e1a-1111-2222-3333-444455556666 in 0.2 s",
    ):
        assert mask_secrets(line) == line


# --- the screen ------------------------------------------------------------------------------


async def test_tail_is_shown_then_live_records_are_appended() -> None:
    link = FakeLink()
    serve_tail(link, [record("daemon started"), record("uploader ready")])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        assert tail_calls(link) == [{"lines": 500, "level": "info"}]
        lines = shown(app)
        assert len(lines) == 2
        assert "INFO" in lines[0]
        assert "uploader: daemon started" in lines[0]
        link.event("log_record", record("report 42 uploaded"))
        link.event("log_record", record("queue empty", logger="pywats_station.queue"))
        await settle(pilot)
        lines = shown(app)
        assert len(lines) == 4
        assert lines[-2].endswith("uploader: report 42 uploaded")
        assert lines[-1].endswith("queue: queue empty")
        assert "4 of 4 records" in status(app)


async def test_a_record_in_the_tail_and_the_events_is_shown_once() -> None:
    link = FakeLink()
    both = record("seen twice")

    def tail(params: dict[str, Any]) -> dict[str, Any]:
        # The record is logged while the tail is read: it comes as an event too.
        link.event("log_record", both)
        return {"records": [record("before"), both]}

    link.handlers["logs.tail"] = tail
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert [line.split(": ", 1)[1] for line in shown(app)] == ["before", "seen twice"]


async def test_level_filter_asks_the_tail_again_and_hides_lower_live_records() -> None:
    link = FakeLink()
    serve_tail(link, [record("chatty", "debug"), record("normal"), record("disk low", "warning")])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert len(shown(app)) == 2  # info and up
        await pilot.press("w")
        await settle(pilot)
        assert tail_calls(link)[-1] == {"lines": 500, "level": "warning"}
        assert [line.split(": ", 1)[1] for line in shown(app)] == ["disk low"]
        link.event("log_record", record("another normal one"))
        link.event("log_record", record("upload failed", "error"))
        await settle(pilot)
        lines = shown(app)
        assert not any("another normal one" in line for line in lines)
        assert lines[-1].endswith("upload failed")
        assert "level warning+" in status(app)
        # v cycles: after warning comes error, then debug.
        await pilot.press("v", "v")
        await settle(pilot)
        assert [p["level"] for p in tail_calls(link)[-2:]] == ["error", "debug"]
        assert any(line.endswith("chatty") for line in shown(app))


async def test_search_shows_matching_lines_and_esc_clears_it() -> None:
    link = FakeLink()
    serve_tail(
        link,
        [record("converted board-1.txt"), record("uploaded r1"), record("converted board-2.txt")],
    )
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("slash", *"BOARD", "enter")
        await settle(pilot)
        lines = shown(app)
        assert len(lines) == 2
        assert all("board-" in line for line in lines)
        assert "search BOARD" in status(app)
        # The search holds for new records too.
        link.event("log_record", record("uploaded r2"))
        link.event("log_record", record("converted board-3.txt"))
        await settle(pilot)
        assert len(shown(app)) == 3
        await pilot.press("escape")
        await settle(pilot)
        assert len(shown(app)) == 5
        assert "search" not in status(app)


async def test_pause_holds_new_lines_until_follow() -> None:
    link = FakeLink()
    serve_tail(link, [record("first")])
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("space")
        link.event("log_record", record("while paused"))
        await settle(pilot)
        assert len(shown(app)) == 1
        assert "paused, 1 new" in status(app)
        await pilot.press("f")
        await settle(pilot)
        assert shown(app)[-1].endswith("while paused")
        assert "following" in status(app)


async def test_token_like_values_are_masked_on_screen() -> None:
    link = FakeLink()
    serve_tail(link, [record(f"request failed; Authorization: Bearer {TOKEN}", "warning")])
    app = StationTui([link])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        link.event("log_record", record(f"retrying https://wats.example.com/?token={TOKEN}"))
        await settle(pilot)
        lines = shown(app)
        assert len(lines) == 2
        assert all(TOKEN not in line and "***" in line for line in lines)
        # A search for the secret finds nothing: it cannot be probed for.
        await pilot.press("slash", *TOKEN[:12], "enter")
        await settle(pilot)
        assert shown(app) == []


async def test_a_refused_tail_still_shows_live_records() -> None:
    link = FakeLink()
    link.refuse("logs.tail", ErrorCode.RATE_LIMITED, "rate limited")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert "rate limited" in status(app)
        link.event("log_record", record("still here"))
        await settle(pilot)
        assert shown(app)[-1].endswith("still here")
        link.go_down()
        await settle(pilot)
        await pilot.press("r")  # a reload while the link is down does not crash
        await settle(pilot)
        assert shown(app)[-1].endswith("still here")
        assert "not connected" in status(app)


async def test_switching_station_shows_the_other_stations_log() -> None:
    a, b = FakeLink("line-a"), FakeLink("line-b")
    serve_tail(a, [record("from a")])
    serve_tail(b, [record("from b")])
    app = StationTui([a, b])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")  # the line view's first station
        await pilot.press("4")
        await settle(pilot)
        assert [line.split(": ", 1)[1] for line in shown(app)] == ["from a"]
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert app.current == "line-b"
        assert [line.split(": ", 1)[1] for line in shown(app)] == ["from b"]
        # Live records of the station not shown do not appear.
        a.event("log_record", record("a again"))
        await settle(pilot)
        assert [line.split(": ", 1)[1] for line in shown(app)] == ["from b"]

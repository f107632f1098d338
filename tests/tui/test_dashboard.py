"""The dashboard and the app's frame (bar, keys, help, station switching) through Pilot."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens.dashboard import DashboardScreen
from tests.tui.fake import FakeLink, unit

pytestmark = pytest.mark.anyio


def cells(app: StationTui, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(app: StationTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def settle(pilot: object) -> None:
    await pilot.pause(REDRAW_INTERVAL * 2)  # type: ignore[attr-defined]


async def test_dashboard_shows_the_snapshot() -> None:
    link = FakeLink()
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "https://wats.example.com" in text_of(app, "#dash-server")
        assert "online" in text_of(app, "#dash-server")
        queue = text_of(app, "#dash-queue")
        assert "dead" in queue
        assert "1" in queue
        assert ["ict", "watching", "80", "2"] in cells(app, "#dash-converters")
        tree = [row[0].strip() for row in cells(app, "#dash-tree")]
        assert tree == ["station", "connection", "uploader", "converters", "converter:ict"]
        assert "ict-01" in text_of(app, "#station-bar")


async def test_events_update_the_dashboard_without_a_poll() -> None:
    link = FakeLink()
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        link.event(
            "report_queued",
            {"report_id": "r1", "seq": 1, "size": 900, "depth": 3, "unit": unit("SN-0042")},
        )
        link.event(
            "report_uploaded",
            {"report_id": "r1", "seq": 1, "duration": 0.1, "depth": 2, "unit": unit("SN-0042")},
        )
        link.event(
            "file_failed", {"converter": "ict", "path": "bad.txt", "error": "line 1: no header"}
        )
        link.event(
            "actor_state",
            {
                "path": "station/converters/converter:ict",
                "state": "backoff",
                "previous": "running",
                "restarts": 2,
            },
        )
        await settle(pilot)
        [recent] = cells(app, "#dash-activity")  # queued, then uploaded: one row, its latest
        assert recent[1] == "Passed"  # uploaded: its result says more
        assert recent[2] == "SN-0042 PCBA-100 B op 10"
        failures = [row[1:] for row in cells(app, "#dash-failures")]
        # The new failure first, then the one the converter had before the UI connected.
        assert failures == [
            ["line 1: no header", "bad.txt"],
            ["line 3: not a Spectrum log", "converter ict"],
        ]
        assert ["ict", "backoff", "80", "3"] in cells(app, "#dash-converters")
        assert sum(app.model.uploads_per_minute()) == 1


async def test_a_lost_station_is_shown_stale_then_comes_back() -> None:
    link = FakeLink()
    app = StationTui([link])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        link.go_down("cannot connect to ws://127.0.0.1:8765: connection refused")
        await settle(pilot)
        assert "retrying" in text_of(app, "#station-bar")
        banner = app.screen.query_one("#link-banner", Static)
        assert banner.display
        assert "connection refused" in str(banner.render())
        assert "next try in" in str(banner.render())
        assert app.screen.has_class("-stale")
        # The last known state stays on screen.
        assert ["ict", "watching", "80", "2"] in cells(app, "#dash-converters")
        toasts = [n.message for n in app._notifications]
        assert any("connection lost: cannot connect" in t for t in toasts)
        link.go_online()
        await settle(pilot)
        assert "ict-01: connected again" in [n.message for n in app._notifications]
        assert not app.screen.has_class("-stale")
        assert not app.screen.query_one("#link-banner", Static).display
        assert "online" in text_of(app, "#station-bar")


async def test_keys_switch_screens_and_help_lists_them() -> None:
    app = StationTui([FakeLink()])
    async with app.run_test(size=(80, 24)) as pilot:
        for key, mode in (
            ("2", "converters"),
            ("3", "queue"),
            ("4", "log"),
            ("5", "config"),
            ("6", "connection"),
            ("1", "dashboard"),
        ):
            await pilot.press(key)
            assert app.current_mode == mode
        await pilot.press("f1")
        help_text = str(app.screen.query_one("#help-keys", Static).render())
        assert "Converters" in help_text
        assert "Quit" in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_line_view_opens_a_station_and_shows_one_that_is_down() -> None:
    a, b = FakeLink("line-a"), FakeLink("line-b")
    b.online = False
    app = StationTui([a, b])
    async with app.run_test(size=(80, 24)) as pilot:
        b.go_down("the daemon of instance 'line-b' is not running")
        await settle(pilot)
        assert app.current_mode == "line"
        rows = cells(app, "#line-table")
        assert rows[0][0] == "line-a"
        assert rows[0][1] == "online"
        assert rows[1][0] == "line-b"
        assert rows[1][1] == "retrying"
        assert rows[1][-1].startswith("the daemon of instance 'line-b' is not running")
        await pilot.press("down", "enter")
        assert app.current_mode == "dashboard"
        assert app.current == "line-b"
        assert "line-b" in text_of(app, "#station-bar")
        await pilot.press("greater_than_sign")
        assert app.current == "line-a"


def test_a_redraw_due_while_no_screen_is_shown_is_skipped() -> None:
    """The redraw timer can fire between screens (start-up, a mode switch, exit): it must not
    take the UI down (it did, seen in an end-to-end run)."""
    app = StationTui([FakeLink()])
    app._dirty = {"ict-01": {"status"}}  # what the timer finds when it fires
    app._redraw_changed()  # no app is running, so no screen is on the stack
    assert app._dirty == {}

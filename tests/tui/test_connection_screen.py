"""The Connection screen through Pilot: state, registration, processes, and both checks."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from textual.widgets import DataTable, Static

from pywats_station.actors.control_config import lookup
from pywats_station.config import config_from_dict, redacted
from pywats_station.control import ControlError, ErrorCode
from pywats_station.control import models as m
from pywats_station.tui.app import REDRAW_INTERVAL, StationTui
from pywats_station.tui.screens.confirm import Confirm
from pywats_station.tui.screens.connection import ConnectionScreen, clock
from tests.tui.fake import NOW, FakeLink, sample_status

pytestmark = pytest.mark.anyio

REPORT_ID = "5d9c0e1a-1111-2222-3333-444455556666"


def station_link(**status: Any) -> FakeLink:
    """A station whose ``config.get {"key": "station"}`` answers as the daemon's does."""
    link = FakeLink()
    link.status = sample_status(**status)
    config, _, _ = config_from_dict(
        {"station": {"name": "", "location": "Line 3", "purpose": "Production"}}, env={}
    )

    def get(params: dict[str, Any]) -> dict[str, Any]:
        asked = msgspec.convert(params, m.ConfigGetParams)
        result = {
            "key": asked.key,
            "value": lookup(redacted(config), asked.key),
            "path": "config.toml",
        }
        msgspec.convert(result, m.ConfigGetResult)
        return result

    link.handlers["config.get"] = get
    link.handlers["processes.list"] = answer(
        {
            "synced_at": NOW - 300,
            "server_version": "24.1.0",
            "processes": [
                {"code": 10, "name": "ICT", "test": True},
                {"code": 500, "name": "Repair", "repair": True},
                {"code": 40, "name": "Old FCT", "test": True, "active": False},
            ],
        },
        m.ProcessesListResult,
    )
    return link


def answer(result: dict[str, Any], type_: type[Any]) -> Any:
    """A handler answering ``result``, checked against the daemon's result type."""
    msgspec.convert(result, type_)
    return lambda _params: result


def text_of(app: StationTui, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def calls_of(link: FakeLink, method: str) -> list[dict[str, Any]]:
    return [params for name, params in link.calls if name == method]


async def settle(pilot: Any) -> None:
    await pilot.pause(REDRAW_INTERVAL * 2)


async def show(pilot: Any, app: StationTui) -> None:
    await pilot.press("6")
    await settle(pilot)
    assert isinstance(app.screen, ConnectionScreen)


async def test_shows_state_registration_and_synced_processes() -> None:
    link = station_link()
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        server = text_of(app, "#conn-server")
        assert "https://wats.example.com" in server
        assert "station  online · WATS 24.1.0" in server
        assert "this UI  online · admin" in server
        station = text_of(app, "#conn-station")
        assert "ict-01" in station  # the effective name, from the status
        assert "station.name is empty" in station
        assert "Line 3" in station
        assert "Production" in station
        assert calls_of(link, "config.get") == [{"key": "station"}]
        processes = text_of(app, "#conn-processes")
        assert "12 processes cached" in processes
        assert f"synced {clock(NOW - 300)}" in processes
        table = app.screen.query_one("#conn-process-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [
            ["10", "ICT", "test"],
            ["500", "Repair", "repair"],
            ["40", "Old FCT", "test (inactive)"],
        ]


async def test_never_synced_and_an_offline_station_are_said() -> None:
    link = station_link(
        connection="auth_failed",
        connection_error="the server refused the token (401)",
        server_version=None,
        processes_cached=0,
        processes_synced_at=None,
    )
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        server = text_of(app, "#conn-server")
        assert "auth_failed" in server
        assert "the server refused the token (401)" in server
        processes = text_of(app, "#conn-processes")
        assert "0 processes cached" in processes
        assert "synced never" in processes
        link.go_down("connection refused")
        await settle(pilot)
        # The station's last known state stays, and the UI's own link is shown lost.
        server = text_of(app, "#conn-server")
        assert "this UI  retrying" in server
        assert "connection refused" in server
        assert "auth_failed" in server


async def test_connection_test_success_is_shown() -> None:
    link = station_link()
    link.handlers["connection.test"] = answer(
        {"url": "https://wats.example.com", "server_version": "24.1.0", "latency": 0.0421},
        m.ConnectionTestResult,
    )
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        assert "reachable" not in text_of(app, "#conn-checks")
        await pilot.press("t")
        await settle(pilot)
        checks = text_of(app, "#conn-checks")
        assert "✓ reachable" in checks
        assert "WATS 24.1.0" in checks
        assert "42 ms" in checks
        assert calls_of(link, "connection.test") == [{}]


async def test_connection_test_failure_is_shown_with_what_to_do() -> None:
    link = station_link()

    def refuse(_params: dict[str, Any]) -> Any:
        raise ControlError(
            ErrorCode.STATION_ERROR,
            "https://wats.example.com answered 401: unauthorized",
            {"reason": "auth_failed", "status": 401, "url": "https://wats.example.com"},
        )

    link.handlers["connection.test"] = refuse
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        await pilot.press("t")
        await settle(pilot)
        checks = text_of(app, "#conn-checks")
        assert "✗ failed" in checks
        assert "answered 401" in checks
        assert "pywats-station login" in checks
        # With the link lost the test fails too, and says why.
        link.go_down()
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "not connected" in text_of(app, "#conn-checks")


async def test_send_test_report_asks_first_then_follows_its_upload() -> None:
    link = station_link()

    def send(params: dict[str, Any]) -> dict[str, Any]:
        msgspec.convert(params, m.SendTestParams)
        result = {"report_id": REPORT_ID, "seq": 813}
        msgspec.convert(result, m.SendTestResult)
        return result

    link.handlers["reports.send_test"] = send
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        await pilot.press("s")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await settle(pilot)
        assert calls_of(link, "reports.send_test") == []
        await pilot.press("s")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(pilot)
        assert calls_of(link, "reports.send_test") == [{}]
        checks = text_of(app, "#conn-checks")
        assert REPORT_ID in checks
        assert "seq 813" in checks
        assert "waiting for its upload" in checks
        link.event(
            "report_uploaded", {"report_id": REPORT_ID, "seq": 813, "duration": 0.2, "depth": 0}
        )
        await settle(pilot)
        assert "✓ uploaded" in text_of(app, "#conn-checks")


async def test_a_refused_test_report_is_shown() -> None:
    link = station_link()
    link.refuse("reports.send_test", ErrorCode.STATION_ERROR, "the queue is full")
    app = StationTui([link])
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, app)
        await pilot.press("s", "y")
        await settle(pilot)
        assert "not sent: the queue is full" in text_of(app, "#conn-checks")

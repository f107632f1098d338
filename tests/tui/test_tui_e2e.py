"""The real pywats-tui (its app, its link) against the real daemon process and the emulator
over TCP, driven by keys: files dropped appear converted and uploaded with their units, a dead
letter is retried, a converter disabled and enabled, a config value changed and seen in
``pywats-station config show``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.paths import instance_paths
from pywats_station.tui.app import StationTui
from pywats_station.tui.link import StationLink, local_resolver
from pywats_station.tui.screens.confirm import Confirm
from tests.station.e2e.harness import Station, add_fault, emulator, make_report, server_ids

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(
    tmp_path: Path, server: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    drop = tmp_path / "drop"
    drop.mkdir()
    st.write_config(f'[[converters]]\nname = "drop"\nkind = "wsjf"\nwatch = "{drop}"\n')
    monkeypatch.setenv("PYWATS_STATION_HOME", str(st.home))
    st.start()
    yield st
    if st.running():
        st.stop()


def cells(app: StationTui, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def until(pilot: Any, condition: Callable[[], bool], what: str, limit: float = 40) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def drop_file(folder: Path, n: int) -> str:
    report_id, data = make_report(n)
    (folder / f".{n}.tmp").write_bytes(data)
    (folder / f".{n}.tmp").rename(folder / f"r{n}.json")
    return report_id


async def answer_yes_if_asked(pilot: Any, app: StationTui) -> None:
    await pilot.pause(0.3)
    if isinstance(app.screen, Confirm):
        await pilot.press("y")


async def test_an_operator_session(
    station: Station, server: EmulatorProcess, tmp_path: Path
) -> None:
    paths = instance_paths(station.instance)
    link = StationLink("e2e", local_resolver(paths), poll_interval=0.5)
    app = StationTui([link])
    drop = tmp_path / "drop"
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.model.online and app.model.status is not None, "online")

        # Files dropped: converted, queued, uploaded, each named by its unit on the dashboard.
        for n in range(3):
            drop_file(drop, n)
        await until(pilot, lambda: len(server_ids(server)) == 3, "3 reports on the server")

        def uploaded() -> list[list[str]]:
            return [r for r in cells(app, "#dash-activity") if r[1] == "Passed"]

        await until(pilot, lambda: len(uploaded()) == 3, "3 uploads on the dashboard")
        assert {r[2].split()[0] for r in uploaded()} == {f"E2E-{n:06d}" for n in range(3)}
        assert ["drop", "running", "3", "0"] in cells(app, "#dash-converters")

        # The server refuses one report for good: a dead letter, retried from the queue screen.
        add_fault(server, kind="reject", count=1, message="Unknown part number")
        dead_id = drop_file(drop, 7)
        await until(
            pilot,
            lambda: ((app.model.status or {}).get("queue") or {}).get("dead") == 1,
            "a dead letter",
        )
        await pilot.press("3")
        await until(
            pilot,
            lambda: any("E2E-000007" in " ".join(r) for r in cells(app, "#queue-table")),
            "the dead entry listed",
        )
        await pilot.press("r")
        await answer_yes_if_asked(pilot, app)
        await until(pilot, lambda: dead_id in server_ids(server), "the retried report uploaded")

        # A converter disabled, then enabled again.
        await pilot.press("2")
        await until(pilot, lambda: bool(cells(app, "#conv-table")), "the converters listed")
        await pilot.press("d")
        await answer_yes_if_asked(pilot, app)
        await until(pilot, lambda: app.model.converter("drop")["enabled"] is False, "disabled")  # type: ignore[index]
        [shown] = json.loads(station.cli("status", "--json").stdout)["converters"]
        assert shown["enabled"] is False
        await pilot.press("e")
        await answer_yes_if_asked(pilot, app)
        await until(pilot, lambda: app.model.converter("drop")["enabled"] is True, "enabled")  # type: ignore[index]

        # A config value changed through the config screen.
        await pilot.press("5")
        await until(pilot, lambda: "queue.upload_workers" in config_rows(app), "the config shown")
        keys = list(config_rows(app))
        await pilot.press(*["down"] * keys.index("queue.upload_workers"), "e")
        await pilot.press("ctrl+u", "2", "enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm), "the diff to confirm")
        await pilot.press("y")
        await until(
            pilot,
            lambda: '"upload_workers": 2' in station.cli("config", "show").stdout,
            "the value in config show",
        )
        await until(pilot, lambda: config_rows(app).get("queue.upload_workers") == "2", "shown")
    # The UI has let go of the station: the daemon runs on, and stops cleanly.
    await asyncio.sleep(0)
    assert station.stop() == 0


def config_rows(app: StationTui) -> dict[str, str]:
    table = app.screen.query_one("#config-table", DataTable)
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }

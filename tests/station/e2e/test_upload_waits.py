"""Uploads that wait say so: ``status``, ``status --json``, ``station.status`` and the
``upload_waiting`` event name the reason (a server's ``Retry-After``, the client's request
budget) and the wall-clock end of the wait. The real daemon against the emulator over TCP."""

from __future__ import annotations

import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import open_control_client
from tests.station.e2e.harness import Station, add_fault, emulator, make_report, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.trio]

RETRY_AFTER = 30  # seconds: longer than the client waits by itself, so the uploader schedules it


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, server: EmulatorProcess) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    yield st
    if st.running():
        st.stop(signal.SIGKILL)


def with_converter(station: Station, inbox: Path, server_lines: str = "") -> None:
    """Config with one WSJF converter on ``inbox``; ``server_lines`` go into ``[server]``."""
    inbox.mkdir()
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "wsjf"
            kind = "wsjf"
            watch = "{inbox}"
            settle = 0.2
            """
        )
    )
    if server_lines:
        config = station.config_dir / "config.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[server]\n", f"[server]\n{server_lines}\n", 1), "utf-8")


def shown_wait(station: Station) -> dict[str, Any] | None:
    wait: dict[str, Any] | None = station.status().get("upload_wait")
    return wait


def waiting_line(station: Station) -> str:
    """The line of ``pywats-station status`` about the uploads' wait ('' if none)."""
    out = station.cli("status", check=False).stdout
    return next((line for line in out.splitlines() if line.startswith("uploads: waiting")), "")


async def test_a_retry_after_is_shown_with_its_end(
    tmp_path: Path, station: Station, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "inbox"
    with_converter(station, inbox)
    station.start()
    url = await trio.to_thread.run_sync(station.control_url)
    token = (await trio.to_thread.run_sync(station.cli, "control", "token")).stdout.strip()
    assert shown_wait(station) is None
    async with open_control_client(url, token=token) as client:
        async with client.subscribe(["upload_waiting"]) as events:
            add_fault(server, kind="rate_limit", retry_after=RETRY_AFTER, count=1, match="WSJF")
            asked = time.time()
            (inbox / "unit.json").write_bytes(make_report(1)[1])
            received: list[tuple[str, Any]] = []
            with trio.fail_after(30):
                async for item in events:
                    received.append(item)
                    break
        [(event, payload)] = received
        assert event == "upload_waiting"
        assert payload["reason"] == "retry_after"
        assert asked + RETRY_AFTER - 1 <= payload["until"] <= time.time() + RETRY_AFTER
        assert f"Retry-After: {RETRY_AFTER} s" in payload["detail"]
        live = (await client.call("station.status"))["upload_wait"]
        assert live == payload

    wait = await trio.to_thread.run_sync(shown_wait, station)
    assert wait is not None
    assert (wait["reason"], wait["until"]) == ("retry_after", payload["until"])
    line = await trio.to_thread.run_sync(waiting_line, station)
    end = time.strftime("%H:%M:%S", time.localtime(payload["until"]))
    assert end in line, line
    assert f"Retry-After: {RETRY_AFTER} s" in line
    assert station.stop() == 0


async def test_a_spent_request_budget_is_shown_with_its_end(
    tmp_path: Path, station: Station
) -> None:
    # Five requests a minute: the health checks (one a second here), the registration and the
    # process sync spend them at once; the next request waits for the window to move.
    inbox = tmp_path / "inbox"
    with_converter(station, inbox, "requests_per_minute = 5")
    started = time.time()
    station.start()
    (inbox / "unit.json").write_bytes(make_report(1)[1])
    found: list[dict[str, Any]] = []

    def budget_wait() -> bool:
        wait = shown_wait(station)
        if wait is not None and wait["reason"] == "rate_limit":
            found.append(wait)
        return bool(found)

    await trio.to_thread.run_sync(lambda: wait_for(budget_wait, 40, what="a budget wait"))
    wait = found[0]
    # The window is a minute from the first request, made after the start.
    assert started < wait["until"] <= time.time() + 60
    assert "5 requests a minute" in wait["detail"]
    assert "requests_per_minute" in wait["detail"]
    line = await trio.to_thread.run_sync(waiting_line, station)
    assert "request budget is spent" in line, line
    assert station.stop() == 0

"""StationLink, the TUI's only way to a station, against the real daemon process and the
emulator over TCP: online with a snapshot, events, calls from asyncio, the daemon going away
and coming back (on another port), a wrong token."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import ControlError
from pywats_station.paths import instance_paths
from pywats_station.tui.link import LinkDown, StationLink, local_resolver, remote_resolver
from pywats_station.tui.messages import EventBatch, LinkState, Snapshot
from tests.station.e2e.harness import Station, emulator

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


class Inbox:
    """What a link posted (from its thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Any] = []

    def __call__(self, message: Any) -> None:
        with self._lock:
            self.messages.append(message)

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [m for m in self.messages if isinstance(m, kind)]

    def events(self) -> list[str]:
        return [name for batch in self.of(EventBatch) for name, _ in batch.events]

    def state(self) -> str | None:
        states = self.of(LinkState)
        return states[-1].state if states else None


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def station(tmp_path: Path, server: EmulatorProcess) -> Iterator[Station]:
    st = Station(tmp_path / "home", server)
    st.write_config()
    yield st
    if st.running():
        st.stop()


def paths_of(station: Station) -> Any:
    return instance_paths(station.instance, config_file=station.config_dir / "config.toml")


async def until(condition: Any, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_local_link_follows_the_daemon_through_a_restart(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(station.home))
    inbox = Inbox()
    link = StationLink("local", local_resolver(paths_of(station)), poll_interval=0.5)
    link.attach(inbox)
    try:
        # Not started yet: the link says why and keeps looking.
        await until(lambda: inbox.state() == "down", "down")
        assert "not running" in (inbox.of(LinkState)[-1].detail or "")
        with pytest.raises(LinkDown):
            await link.call("station.ping")

        station.start()
        await until(lambda: inbox.state() == "online", "online")
        assert inbox.of(LinkState)[-1].role == "admin"  # this user may read the admin token
        await until(lambda: inbox.of(Snapshot), "a snapshot")
        snap = inbox.of(Snapshot)[-1]
        assert snap.status["instance"] == "default"
        assert snap.tree["name"]
        ping = await link.call("station.ping")
        assert ping["role"] == "admin"
        with pytest.raises(ControlError, match="queue"):
            await link.call("queue.show", {"entry": "no-such-report"})

        # A report sent through the daemon arrives as events; log records only when wanted.
        await link.call("reports.send_test", {})
        await until(lambda: "report_uploaded" in inbox.events(), "report_uploaded")
        assert "log_record" not in inbox.events()
        link.want_logs(True)
        await asyncio.sleep(0.5)
        await link.call("reports.send_test", {})
        await until(lambda: "log_record" in inbox.events(), "log records")

        assert station.stop() == 0
        await until(lambda: inbox.state() in ("retrying", "down"), "the loss noticed")
        station.start()
        await until(lambda: inbox.state() == "online", "online again")
    finally:
        link.close()


async def test_remote_link_with_a_wrong_token_says_so_and_recovers(
    station: Station, tmp_path: Path
) -> None:
    station.start()
    url = station.control_url()
    real = station.cli("control", "token").stdout.strip()
    token_file = tmp_path / "token"
    token_file.write_text(real[::-1] + "\n")  # well formed, but not the station's
    token_file.chmod(0o600)
    inbox = Inbox()
    link = StationLink("remote", remote_resolver(url, token_file), poll_interval=0.5)
    link.attach(inbox)
    try:
        await until(lambda: inbox.state() == "auth_failed", "auth_failed")
        assert "refused the token" in (inbox.of(LinkState)[-1].detail or "")
        # The operator fixes the file; the link reads it again on its next try.
        token_file.write_text(real + "\n")
        await until(lambda: inbox.state() == "online", "online", limit=40)
        assert inbox.of(LinkState)[-1].role == "operator"
    finally:
        link.close()

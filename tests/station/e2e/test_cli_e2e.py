"""The command line against the real daemon: an invalid config saved while it runs, health.

``pywats-station run`` is started as systemd would (``harness.Station``), against the emulator
over TCP; every command is a real ``pywats-station`` process.
"""

from __future__ import annotations

import json
import signal
import textwrap
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import BlockingClient
from pywats_station.paths import instance_paths
from pywats_station.status import status_file
from tests.station.control.test_tcp import self_signed
from tests.station.e2e.harness import Station, emulator, make_report, wait_for

pytestmark = pytest.mark.e2e

PROBLEM = "queue.upload_workers: must be 1-64; got 0"


def break_config(station: Station) -> str:
    """Save an invalid edit of the config file; returns the good text, to put back."""
    config = station.config_dir / "config.toml"
    good = config.read_text(encoding="utf-8")
    assert f"upload_workers = {station.workers}\n" in good
    bad = good.replace(f"upload_workers = {station.workers}\n", "upload_workers = 0\n")
    config.write_text(bad, encoding="utf-8")
    return good


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


def converter(name: str, kind: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "{kind}"
        watch = "{folder}"
        """
    )


def live(station: Station) -> dict[str, Any]:
    """``status --json`` once the channel answers (not the status file alone) and online."""
    found: list[dict[str, Any]] = []

    def ready() -> bool:
        data = station.status()
        found[:] = [data]
        return data.get("source") == "control" and data.get("connection") == "online"

    wait_for(ready, what="the daemon online, answering on its channel")
    return found[0]


def channel(station: Station) -> BlockingClient:
    """A client of the daemon's control channel, as an MES tool on the station would hold."""
    token = station.cli("control", "token").stdout.strip()
    client = BlockingClient(station.status()["control"]["url"], token, timeout=10)
    client.open()
    return client


def test_an_invalid_config_saved_while_running_does_not_blind_the_operator(
    station: Station, tmp_path: Path
) -> None:
    station.write_config(converter("ict", "wsjf", tmp_path / "in"))
    station.enqueue([make_report(1)])
    station.start()
    assert live(station)["healthy"] is True
    assert station.cli("status").returncode == 0

    good = break_config(station)
    with closing(channel(station)) as client:
        wait_for(
            lambda: PROBLEM in (client.call("station.status").get("config_problem") or ""),
            what="the daemon to report the refused file over its channel",
        )
    assert "config reload refused" in station.log_text()
    assert station.running()
    # The status file carries it too (what `status` shows when the channel does not answer).
    paths = instance_paths(station.instance, env=station.env)

    def on_file() -> str:
        data = json.loads(status_file(paths).read_text(encoding="utf-8"))
        return str(data["config_problem"])

    wait_for(lambda: PROBLEM in on_file(), what="the status file's next write")

    text = station.cli("status", check=False)
    assert text.returncode == 9, text.stderr
    assert "instance default: running" in text.stdout
    assert ": online\n" in text.stdout
    assert "config file: invalid and not applied" in text.stdout
    assert PROBLEM in text.stdout
    assert "needs attention:\n  - the configuration file is invalid and was not applied" in (
        text.stdout
    )

    data = station.cli("status", "--json", check=False)
    assert data.returncode == 9
    status = json.loads(data.stdout)
    assert (status["running"], status["source"], status["healthy"]) == (True, "control", False)
    assert PROBLEM in status["config_problem"]
    assert [c["name"] for c in status["converters"]] == ["ict"]  # the running config's

    listed = station.cli("queue", "list", check=False)
    assert listed.returncode == 0, listed.stderr
    assert "the configuration file is invalid and was not applied" in listed.stderr
    assert PROBLEM in listed.stderr
    assert listed.stdout.startswith("     SEQ REPORT ID") or listed.stdout == "no entries\n"
    as_json = station.cli("queue", "list", "--json", check=False)
    assert as_json.returncode == 0
    assert isinstance(json.loads(as_json.stdout), list)

    # Fixed: the daemon takes it, and the station is healthy again.
    (station.config_dir / "config.toml").write_text(good, encoding="utf-8")
    wait_for(
        lambda: station.status().get("config_problem") is None,
        what="the daemon to accept the fixed file",
    )
    assert station.cli("status").returncode == 0
    assert station.stop() == 0


def test_queue_commands_reach_a_tls_channel_with_an_invalid_config(
    station: Station, tmp_path: Path
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    cert_file, key_file = self_signed(certs)
    station.write_config(control=f'tls_cert = "{cert_file}"\ntls_key = "{key_file}"')
    station.start()
    assert live(station)["control"]["url"].startswith("wss://")
    break_config(station)
    wait_for(
        lambda: PROBLEM in (station.status().get("config_problem") or ""),
        what="the refused file",
    )
    # The certificate comes from the status file: the file on disk says nothing usable now.
    assert station.status()["source"] == "control"
    listed = station.cli("queue", "list", check=False)
    assert (listed.returncode, listed.stdout) == (0, "no entries\n"), listed.stderr
    assert station.stop() == 0


def test_a_broken_converter_fails_config_check_and_status(station: Station, tmp_path: Path) -> None:
    station.write_config(
        converter("good", "wsjf", tmp_path / "a") + converter("ict", "cvs", tmp_path / "b")
    )
    check = station.cli("config", "check", check=False)
    assert check.returncode == 3
    assert "converters.ict.kind: unknown converter kind 'cvs'" in check.stderr
    assert "did you mean 'csv'?" in check.stderr

    station.start()
    data = live(station)
    assert data["healthy"] is False
    assert [r for r in data["reasons"] if r.startswith("converter ict is broken: ")]
    text = station.cli("status", check=False)
    assert text.returncode == 9
    assert "  - converter ict is broken: unknown converter kind 'cvs'" in text.stdout
    assert station.stop() == 0


def test_without_a_token_status_says_so_in_the_daemons_words(station: Station) -> None:
    station.write_config()
    station.start({"PYWATS_API_TOKEN": ""})
    wait_for(lambda: station.status().get("connection") == "auth_failed", what="auth_failed")
    text = station.cli("status", check=False)
    assert text.returncode == 9
    assert "no API token is set: run `pywats-station login`" in text.stdout
    assert "refused" not in text.stdout
    assert station.stop() == 0

    stopped = station.cli("status", check=False)
    assert stopped.returncode == 10
    assert "  - the daemon is not running\n" in stopped.stdout


def test_a_dangling_link_in_a_watch_folder_is_said_in_status(
    station: Station, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    station.write_config(converter("wsjf", "wsjf", inbox))
    (inbox / "gone.json").symlink_to(tmp_path / "nowhere.json")
    station.start()
    wait_for(
        lambda: "left alone" in station.cli("status", check=False).stdout,
        what="the dangling link in status",
    )
    text = station.cli("status", check=False).stdout
    assert "1 left alone in the watch folder: gone.json" in text, text
    [conv] = station.status()["converters"]
    assert conv["refused"] == 1
    assert "gone.json" in conv["last_refused"]
    assert station.log_text().count("gone.json") == 1  # said once, not at every rescan
    assert station.stop() == 0

"""``pywats-station status``: the channel's data over the status file's, the fallback, health.

The daemon is stood in for by its status file (written here, with this process's pid, exactly as
the daemon writes it); the real daemon is in ``e2e/test_cli_e2e.py``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pywats_station._cli_status import _merge, live_status
from pywats_station.cli import main
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.runtime import StatusSnapshot
from pywats_station.status import status_file


def file_data() -> dict[str, Any]:
    return {
        "running": True,
        "source": "status_file",
        "connection": "offline",
        "counters": {"uploaded": 1},
        "queue": {"depth": 3, "dead": 0},
        "converters": [
            {"name": "ict", "kind": "csv", "state": "watching", "converted": 1, "reports": 1},
            {"name": "gone", "kind": "wsjf", "state": "broken", "error": "no module"},
        ],
    }


def test_the_channel_wins_and_converter_states_stay_the_converters() -> None:
    live = {
        "connection": "online",
        "counters": {"uploaded": 5},
        "queue": {"depth": 0, "dead": 0, "queued": 0},
        "control_connections": 1,
        "converters": [
            {
                "name": "ict",
                "kind": "csv",
                "state": "running",
                "enabled": True,
                "converted": 4,
                "failed": 1,
                "restarts": 0,
                "last_file": "u.csv",
            },
            {
                "name": "new",
                "kind": "wsjf",
                "state": "running",
                "enabled": True,
                "converted": 0,
                "failed": 0,
                "restarts": 0,
                "last_file": None,
            },
        ],
    }
    merged = _merge(file_data(), live)
    assert merged["source"] == "control"
    assert merged["connection"] == "online"
    assert merged["counters"] == {"uploaded": 5}
    assert merged["queue"]["depth"] == 0
    ict, new, gone = merged["converters"]
    assert (ict["state"], ict["actor_state"], ict["converted"], ict["reports"]) == (
        "watching",
        "running",
        4,
        1,
    )
    assert (new["name"], new["state"]) == ("new", "running")
    assert gone == file_data()["converters"][1]


def test_an_unreachable_channel_gives_none(tmp_path: Path) -> None:
    paths = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path)})
    paths.control_token_file.parent.mkdir(parents=True, mode=0o700)
    paths.control_token_file.write_text("t" * 43 + "\n", encoding="ascii")
    paths.control_token_file.chmod(0o600)
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{sock.getsockname()[1]}"
        assert live_status(paths, url) is None
    assert live_status(paths, "not a url") is None


def test_a_converter_broken_since_the_status_file_keeps_its_reason() -> None:
    live = {
        "converters": [
            {
                "name": "late",
                "kind": "cvs",
                "state": "broken",
                "enabled": True,
                "converted": 0,
                "failed": 0,
                "restarts": 0,
                "last_file": None,
                "last_error": "unknown converter kind 'cvs'",
            }
        ]
    }
    [late, *_] = _merge({"converters": []}, live)["converters"]
    assert (late["state"], late["error"]) == ("broken", "unknown converter kind 'cvs'")


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstancePaths:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path))
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)
    monkeypatch.delenv("PYWATS_SERVER_URL", raising=False)
    found = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path)})
    found.config_file.parent.mkdir(parents=True)
    found.config_file.write_text('[station]\nname = "s1"\n', encoding="utf-8")
    return found


def write_status(paths: InstancePaths, **fields: Any) -> None:
    """A status file as a running daemon (this process stands in for it) writes it."""
    snapshot = StatusSnapshot(
        instance="default",
        pid=os.getpid(),
        version="0",
        started_at=time.time() - 60,
        uptime=60.0,
        station="s1",
        server_url="http://wats.test",
        connection=fields.pop("connection", "online"),
        queue={"depth": 0, "dead": 0, "failed": 0},
        **fields,
    )
    status_file(paths).parent.mkdir(parents=True, exist_ok=True)
    status_file(paths).write_bytes(msgspec.json.encode(snapshot))


def status(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    code = main(["status", *options])
    return code, capsys.readouterr().out


def test_a_healthy_daemon_exits_0(paths: InstancePaths, capsys: pytest.CaptureFixture[str]) -> None:
    write_status(paths)
    code, out = status(capsys)
    assert code == 0
    assert out.endswith("healthy\n")
    code, out = status(capsys, "--json")
    data = json.loads(out)
    assert (code, data["healthy"], data["reasons"], data["config_problem"]) == (0, True, [], None)


def test_no_token_shows_the_daemons_reason_not_a_refusal(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    why = "no API token is set: run `pywats-station login` on the station"
    write_status(paths, connection="auth_failed", connection_error=why)
    code, out = status(capsys)
    assert code == 9
    assert f"server: http://wats.test: auth_failed ({why})\n" in out
    assert f"needs attention:\n  - not authorized: {why}\n" in out
    assert "refused" not in out
    code, out = status(capsys, "--json")
    data = json.loads(out)
    assert (code, data["healthy"], data["reasons"]) == (9, False, [f"not authorized: {why}"])


def test_a_broken_converter_makes_status_exit_9(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {"name": "ict", "kind": "cvs", "type": "file", "state": "broken", "error": "no kind"}
    write_status(paths, converters=[broken])
    code, out = status(capsys)
    assert code == 9
    assert "  - converter ict is broken: no kind\n" in out


def test_the_daemons_refused_config_is_shown_with_an_invalid_file(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.config_file.write_text("[queue]\nupload_workers = 0\n", encoding="utf-8")
    refused = f"{paths.config_file}: queue.upload_workers: must be 1-64; got 0"
    write_status(paths, config_problem=refused)
    code, out = status(capsys)
    assert code == 9
    assert "instance default: running" in out
    assert "config file: invalid and not applied" in out
    assert f"\n  {refused}\n" in out
    code, out = status(capsys, "--json")
    data = json.loads(out)
    assert (code, data["running"], data["config_problem"]) == (9, True, refused)


def test_an_invalid_file_the_daemon_has_not_seen_yet_is_shown_too(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    write_status(paths)  # written before the file went bad: the daemon has not looked yet
    paths.config_file.write_text("[queue]\nupload_workers = 0\n", encoding="utf-8")
    code, out = status(capsys, "--json")
    data = json.loads(out)
    assert code == 9
    assert "queue.upload_workers: must be 1-64; got 0" in data["config_problem"]


def test_no_daemon_and_an_invalid_file(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.config_file.write_text("[queue]\npath = 5\n", encoding="utf-8")
    code, out = status(capsys)
    assert code == 10
    assert "instance default: daemon not running\n" in out
    assert "queue: not read: the configuration that says where the queue is is invalid" in out
    assert "config file: cannot be used:\n" in out
    assert "queue.path: expected str, got int" in out
    code, out = status(capsys, "--json")
    data = json.loads(out)
    assert (code, data["running"], data["healthy"]) == (10, False, False)
    assert "queue.path: expected str, got int" in data["config_problem"]


def test_a_daemon_that_holds_the_queue_but_wrote_no_status_yet_is_starting(
    paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """The moment between a daemon taking its queue and writing its first status: "starting",
    not "not running" with a queue error (scripts polling ``status --json`` saw that)."""
    from pywats_station.queue import ReportQueue

    with ReportQueue.open(paths.queue_dir):  # this process stands in for the starting daemon
        code, out = status(capsys)
        assert code == 9
        assert out.startswith("instance default: starting (a daemon holds the queue")
        code, out = status(capsys, "--json")
    data = json.loads(out)
    assert (code, data["starting"], data["running"]) == (9, True, False)
    assert data["reasons"] == ["the daemon is starting"]
    code, out = status(capsys, "--json")
    assert (code, "starting" in json.loads(out)) == (10, False)

"""Whether ``status`` calls a station healthy, why not, and the exit code that follows."""

from __future__ import annotations

from typing import Any

from pywats_station._cli_common import ExitCode
from pywats_station._cli_health import exit_code, reasons


def running(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "running": True,
        "connection": "online",
        "connection_error": None,
        "queue": {"depth": 3, "dead": 0, "failed": 2},
        "converters": [
            {"name": "ict", "state": "watching", "error": None},
            {"name": "off", "state": "disabled"},
            {"name": "nightly", "state": "scheduled"},
        ],
        "tree": {
            "name": "station",
            "state": "running",
            "children": [
                {"name": "uploader", "state": "running"},
                {"name": "converters", "state": "running", "children": []},
            ],
        },
        "config_problem": None,
    }
    data.update(changes)
    return data


def test_a_working_station_is_healthy_offline_and_retrying_included() -> None:
    for data in (running(), running(connection="offline", connection_error="timed out")):
        assert reasons(data) == []
        assert exit_code(data, []) == ExitCode.OK == 0


def test_no_token_says_what_the_daemon_says() -> None:
    why = "no API token is set: run `pywats-station login` on the station"
    found = reasons(running(connection="auth_failed", connection_error=why))
    assert found == [f"not authorized: {why}"]
    assert "refused" not in found[0]
    assert exit_code(running(), found) == ExitCode.UNHEALTHY == 9


def test_each_thing_that_needs_a_person_is_a_reason() -> None:
    data = running(
        connection="unconfigured",
        queue={"depth": 0, "dead": 2},
        converters=[
            {"name": "ict", "state": "broken", "error": "unknown converter kind 'cvs'"},
            {"name": "share", "state": "waiting", "error": "watch folder lost: gone"},
            {"name": "twin", "state": "refused", "error": "held by pid 7 (instance a)"},
        ],
        tree={
            "name": "station",
            "state": "running",
            "children": [
                {"name": "converters", "state": "running", "children": []},
                {"name": "uploader", "state": "failed", "last_error": "RuntimeError: bug"},
            ],
        },
        config_problem="/etc/x/config.toml: 2 problems:\n  queue.upload_workers: must be 1-64; "
        "got 0\n  sync.interval: must be a number greater than 0; got 0",
    )
    assert reasons(data) == [
        "the configuration file is invalid and was not applied: /etc/x/config.toml: 2 problems: "
        "queue.upload_workers: must be 1-64; got 0; sync.interval: must be a number greater "
        "than 0; got 0",
        "uploader was given up on: RuntimeError: bug",
        "no server is configured (server.url): reports wait in the queue",
        "converter ict is broken: unknown converter kind 'cvs'",
        "converter share is waiting: watch folder lost: gone",
        "converter twin is refused: held by pid 7 (instance a)",
        "2 reports wait as dead letters, rejected by the server "
        "(pywats-station queue list --state dead)",
    ]


def test_a_daemon_that_does_not_run_is_its_own_exit_code() -> None:
    data = {"running": False, "instance": "default", "queue": {"depth": 0, "dead": 5}}
    found = reasons(data)
    assert found == [
        "the daemon is not running",
        "5 reports wait as dead letters, rejected by the server "
        "(pywats-station queue list --state dead)",
    ]
    assert exit_code(data, found) == ExitCode.NOT_RUNNING == 10
    data = {"running": False, "queue": {"error": "not read"}}
    data["config_problem"] = "no configuration at /x/config.toml; create one"
    assert reasons(data) == [
        "the daemon is not running",
        "the configuration cannot be used: no configuration at /x/config.toml; create one",
    ]

"""``pywats-station status``: the channel's data over the status file's, and the fallback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from pywats_station._cli_status import _merge, live_status
from pywats_station.config import StationConfig
from pywats_station.paths import instance_paths


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
        assert live_status(paths, url, StationConfig()) is None
    assert live_status(paths, "not a url", StationConfig()) is None

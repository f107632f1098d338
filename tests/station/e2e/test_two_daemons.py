"""Two real daemons, one configuration, one watch folder: one converts, the other waits.

The mistake this guards against: the same config started twice (two ``PYWATS_STATION_HOME``\\ s,
a copied unit, a test instance left running). Both daemons used to take files from the same
folder (11 conversions of 10 files, moves racing each other). Now the first claims the folder,
the second shows its converter ``refused``, naming the first, and takes over by itself once the
first stops.
"""

from __future__ import annotations

import json
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from tests.station.e2e.harness import (
    Station,
    emulator,
    make_report,
    server_ids,
    server_log,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def pair(tmp_path: Path, server: EmulatorProcess, inbox: Path) -> Iterator[list[Station]]:
    """Two instances with their own homes and the very same converter section."""
    section = textwrap.dedent(
        f"""
        [[converters]]
        name = "wsjf"
        kind = "wsjf"
        watch = "{inbox}"
        settle = 0.2
        """
    )
    stations = [Station(tmp_path / f"home-{n}", server) for n in (1, 2)]
    for station in stations:
        station.write_config(section)
    yield stations
    for station in stations:
        if station.running():
            station.stop(signal.SIGKILL)


def status(station: Station) -> dict[str, Any]:
    """``status --json``, whatever it exits with (a refused converter may count as unhealthy)."""
    data: dict[str, Any] = json.loads(station.cli("status", "--json", check=False).stdout)
    return data


def converter(station: Station) -> dict[str, Any]:
    """The ``wsjf`` converter's entry in ``status --json`` (empty until the daemon runs)."""
    entries = status(station).get("converters") or [{}]
    entry: dict[str, Any] = entries[0]
    return entry


def drop(inbox: Path, first: int, count: int) -> set[str]:
    """Write ``count`` report files into the inbox; their report ids."""
    ids = set()
    for n in range(first, first + count):
        report_id, data = make_report(n)
        staged = inbox.parent / f"unit-{n}.json"
        staged.write_bytes(data)
        staged.rename(inbox / staged.name)  # whole at once, as equipment finishing a file
        ids.add(report_id)
    return ids


def submits(server: EmulatorProcess) -> int:
    return sum(1 for e in server_log(server) if e["method"] == "POST" and "WSJF" in e["path"])


def test_one_folder_is_converted_by_one_daemon_and_the_other_takes_over(
    pair: list[Station], server: EmulatorProcess, inbox: Path
) -> None:
    first, second = pair
    first.start()
    wait_for(lambda: converter(first).get("state") == "watching", what="the first watching")
    second.start()
    wait_for(lambda: converter(second).get("state") == "refused", what="the second refused")
    assert first.process is not None
    refused = converter(second)
    assert refused["error"] == (
        f"watch folder {inbox.resolve()} is used by another pywats-station "
        f"(pid {first.process.pid}, instance default, "
        f"config {first.config_dir / 'config.toml'}, converter wsjf)"
    )
    # The second daemon runs on (its control channel, its uploader): only this converter waits.
    assert second.running()
    assert status(second)["control"]["state"] == "listening"

    ids = drop(inbox, 0, 10)
    wait_for(lambda: set(server_ids(server)) >= ids, timeout=60, what="ten reports on the server")
    wait_for(lambda: converter(first).get("converted") == 10, what="ten conversions")
    assert converter(second).get("converted") == 0
    assert submits(server) == 10  # each file converted and sent exactly once
    assert sorted(p.name for p in (inbox / "Done").iterdir()) == sorted(
        f"unit-{n}.json" for n in range(10)
    )
    assert not (inbox / "Error").exists() or not any((inbox / "Error").iterdir())

    # The first stops: the second claims the folder by itself, and converts what comes next.
    assert first.stop() == 0
    wait_for(lambda: converter(second).get("state") == "watching", what="the take-over")
    assert converter(second).get("error") is None
    more = drop(inbox, 100, 3)
    wait_for(lambda: set(server_ids(server)) >= ids | more, timeout=60, what="three more")
    wait_for(lambda: converter(second).get("converted") == 3, what="three conversions")
    assert submits(server) == 13
    assert "used by another pywats-station" in second.log_text()


def test_the_second_daemons_control_port_says_in_use_and_is_no_restart_loop(
    pair: list[Station], inbox: Path
) -> None:
    """With a fixed ``listen`` port both daemons want it; the second one retries, and says why."""
    first, second = pair
    first.start()

    def listening() -> bool:
        return (status(first).get("control") or {}).get("state") == "listening"

    wait_for(listening, what="the first control channel")
    port = int(status(first)["control"]["port"])
    # The same fixed port for the second instance (its config differs only in this line).
    config = second.config_dir / "config.toml"
    text = config.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    config.write_text(text)
    second.start()

    def retrying() -> bool:
        control = status(second).get("control") or {}
        return control.get("state") == "retrying"

    wait_for(retrying, what="the second control channel retrying")
    seen = status(second)
    error = seen["control"]["error"]
    assert error == (
        f"port {port} is in use by another process "
        "(another pywats-station with the same [control] listen?)"
    )
    tree = seen["tree"]
    [control] = [child for child in tree["children"] if child["name"] == "control"]
    assert control["restarts"] == 0  # retried inside the actor, not by the supervisor
    assert second.running()

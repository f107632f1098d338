"""The settle wait's fast path in the real daemon: a file that arrives whole is not kept waiting.

The converter's ``settle`` is long here (20 s) so that a file converted within a few seconds
can only have taken the fast path, and one still waiting after a few seconds cannot have.
"""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.actors import _inotify
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not _inotify.available(), reason="close-after-write events: Linux inotify"),
]

SETTLE = 20.0
FAST = 10.0  # seconds: well inside the settle time, generous for a loaded CI machine


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fast-path")


@pytest.fixture(scope="module")
def station(home: Path, server: EmulatorProcess) -> Iterator[Station]:
    """One daemon for the module's tests (each uses files of its own)."""
    tmp_path = home
    station = Station(tmp_path / "home", server)
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "wsjf"
            kind = "wsjf"
            watch = "{tmp_path / "in"}"
            settle = {SETTLE}
            """
        )
    )
    (tmp_path / "in").mkdir()
    station.start()
    try:

        def watching() -> bool:
            converters = station.status().get("converters") or [{}]
            return bool(converters[0].get("state") == "watching")

        wait_for(watching, what="the converter watching")
        yield station
    finally:
        assert station.stop() == 0


def test_a_complete_report_moved_into_place_is_converted_without_the_settle_wait(
    home: Path, server: EmulatorProcess, station: Station
) -> None:
    report_id, data = make_report(1)
    staged = home / "staging.json"  # same file system: the move is a rename
    staged.write_bytes(data)
    staged.rename(home / "in" / "moved.json")
    wait_for(lambda: report_id in server_ids(server), timeout=FAST, what="the report")
    wait_for(lambda: (home / "in" / "Done" / "moved.json").exists(), what="the post action")


def test_a_truncated_report_waits_and_is_converted_once_whole(
    home: Path, server: EmulatorProcess, station: Station
) -> None:
    report_id, data = make_report(2)
    path = home / "in" / "paused.json"
    half = len(data) // 2
    with open(path, "wb") as handle:  # written, and closed, half-way: a writer that paused
        handle.write(data[:half])
    time.sleep(3.0)
    # Not read half-written: neither sent, nor sent to the error folder as invalid.
    assert report_id not in server_ids(server)
    assert path.exists()
    assert not (home / "in" / "Error").exists() or not os.listdir(home / "in" / "Error")
    with open(path, "ab") as handle:  # the rest, then closed: now it proves itself whole
        handle.write(data[half:])
    wait_for(lambda: report_id in server_ids(server), timeout=FAST, what="the report")

"""The supervision policy in the real daemon: a failing auxiliary never stops the uploads."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.paths import instance_paths
from pywats_station.status import status_file
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def test_a_status_file_that_cannot_be_written_does_not_stop_the_station(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    station = Station(tmp_path / "home", server)
    station.write_config()
    paths = instance_paths(station.instance, env=station.env)
    # A folder where the status file should be: every write fails (as with a full disk or no
    # descriptors left). Before the policy, the status actor's restarts made the station give up.
    status_file(paths).mkdir(parents=True)
    first = [make_report(i) for i in range(5)]
    station.enqueue(first)
    station.start()
    try:
        wait_for(lambda: len(server_ids(server)) == 5, what="the queued reports")
        # Longer than the old restart intensity (3 restarts in 5 s) allows.
        time.sleep(8)
        assert station.running(), station.log_text()
        log = station.log_text()
        assert log.count("cannot write the status file") == 1, log
        assert "giving up" not in log
        # And it goes on taking reports (here one sent over its control channel) and uploading.
        station.cli("send-test-report")
        wait_for(lambda: len(server_ids(server)) == 6, what="the test report")
    finally:
        if station.running():
            assert station.stop(signal.SIGTERM) == 0

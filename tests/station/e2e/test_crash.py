"""kill -9 at random moments never loses or duplicates a report (the delivery guarantee)."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from pywats_station.queue import ReportQueue
from tests.station.e2e.harness import (
    Station,
    add_fault,
    emulator,
    make_report,
    server_ids,
    wait_for,
)

pytestmark = pytest.mark.e2e

REPORTS = 500
KILLS = 20


def test_random_sigkills_lose_nothing_and_send_each_report_once(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    with emulator() as server:
        # A little latency keeps uploads in flight, so kills land mid-upload too.
        add_fault(server, kind="latency", seconds=0.01)
        station = Station(tmp_path / "home", server, workers=4)
        station.write_config()
        reports = [make_report(i) for i in range(REPORTS)]
        # Half queued before the first start, the rest between kills while the daemon is down.
        station.enqueue(reports[: REPORTS // 2])
        later = reports[REPORTS // 2 :]
        per_round = len(later) // KILLS + 1
        kills = 0
        while kills < KILLS:
            station.start()
            time.sleep(rng.uniform(0.3, 1.2))  # start-up, then part of the backlog
            station.stop(signal.SIGKILL)
            kills += 1
            batch, later = later[:per_round], later[per_round:]
            if batch:
                station.enqueue(batch)
        station.start()
        expected = sorted(rid for rid, _ in reports)
        wait_for(lambda: len(server_ids(server)) >= REPORTS, timeout=120, what="every report")
        wait_for(lambda: station.status()["queue"]["depth"] == 0, timeout=60, what="drained queue")
        assert station.stop() == 0
        ids = server_ids(server)
        # Exactly once by id: every report there, none twice, nothing foreign.
        assert sorted(ids) == expected
        assert len(set(ids)) == len(ids) == REPORTS
        with ReportQueue.open(station.queue_dir) as queue:
            stats = queue.stats()
            verify = queue.verify()
        assert (stats.depth, stats.dead, stats.corrupt) == (0, 0, 0)
        assert verify.corrupt == 0

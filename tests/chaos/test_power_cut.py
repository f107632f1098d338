"""Power cuts: whatever was not fsynced is gone, and still no report is lost or doubled.

The daemon runs with the file-system journal of ``pywats_station._fsjournal`` over its state,
config and watch folders. Each round feeds the station, starts the daemon, SIGKILLs it (at a
random moment, or aimed with a failpoint at a moment where durability matters: just after a
source moved, just after an entry's rename, just after the server accepted a report) and then
rolls every folder back to what a disk keeping only fsynced data would hold
(``tests/chaos/_powercut.py``). After the last cut the daemon drains everything and
``Scenario.check`` asserts the delivery guarantee.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from pywats_station._failpoints import ENV as FAILPOINTS
from tests.chaos._powercut import Baseline, journal_env, roll_back
from tests.chaos._scenario import Scenario
from tests.chaos.test_kills import converter_config, wait_dead
from tests.station.e2e.harness import Station, add_fault, emulator, make_report

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.chaos,
    pytest.mark.skipif(
        not Path("/proc/self/fd").is_dir(),
        reason="the file-system journal finds a descriptor's file through /proc/self/fd (Linux)",
    ),
]

CUTS = 30
FILES_PER_ROUND = 4
QUEUED_PER_ROUND = 2
# Where a cut hurts most if a write was not made durable before the next step relied on it.
AIMS = [
    "queue.put.durable",  # the entry is renamed into place and its folder flushed
    "queue.write.before_dir_fsync",  # renamed, folder not flushed: must not count as queued
    "source.moved",  # the source renamed into Done, Done not yet flushed
    "convert.source_moved",  # the post action returned
    "upload.accepted",  # the server has it, the queue still does
    "queue.remove.after_unlink",  # the entry's payload unlinked, without a folder fsync
]


def test_power_cuts_lose_and_double_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261207)
    inbox = tmp_path / "inbox"
    journal = tmp_path / "journal"
    journal.mkdir()
    with emulator() as server:
        add_fault(server, kind="latency", seconds=0.005)
        station = Station(tmp_path / "home", server, workers=4)
        station.write_config(converter_config(inbox, 0.2))
        roots = [station.home / "state", station.home / "config", inbox]
        env = journal_env(journal, roots)
        with Scenario("power-cut", tmp_path, server, station) as sc:
            sc.watch(inbox)
            n = 0
            dropped = revived = records = aimed = 0
            for round_no in range(CUTS):
                batch = [make_report(n + i) for i in range(FILES_PER_ROUND + QUEUED_PER_ROUND)]
                n += len(batch)
                for i, (rid, data) in enumerate(batch[:FILES_PER_ROUND]):
                    sc.drop(inbox, f"p{round_no:03d}-{i}.json", data, rid)
                station.enqueue(batch[FILES_PER_ROUND:])
                sc.expect([rid for rid, _ in batch[FILES_PER_ROUND:]])
                base = Baseline.take(roots)  # the state after the last cut: durable
                if round_no % 2:
                    point = AIMS[(round_no // 2) % len(AIMS)]
                    station.start({**env, FAILPOINTS: f"{point}={rng.randint(1, 3)}"})
                    if wait_dead(station, 6.0) is None:
                        station.stop(signal.SIGKILL)
                    else:
                        station.process = None
                        aimed += 1
                else:
                    station.start(env)
                    time.sleep(rng.uniform(0.3, 1.5))
                    station.stop(signal.SIGKILL)
                undone = roll_back(base, journal)
                dropped += undone.entries_dropped
                revived += undone.entries_revived
                records += undone.records
                sc.counts.rounds += 1
            sc.counts.extra.update(
                aimed=aimed, journal_records=records, names_dropped=dropped, names_revived=revived
            )
            sc.drain(timeout=180)
            sc.check()
            # The model bit: cuts really took back what was not flushed.
            assert dropped + revived > 0, "no cut undid anything: the journal is not working"

"""SIGKILL aimed at every phase of the daemon's work, and at random moments: none lost or doubled.

Each round feeds the station (files dropped in its watch folder, reports put straight in its
queue while it is down), starts the real daemon with one failpoint armed
(``PYWATS_STATION_FAILPOINTS``, see ``pywats_station._failpoints``) so that it SIGKILLs itself
at that phase, or starts it unarmed and kills it after a random time. After the last round the
daemon runs unharmed until everything is delivered, and ``Scenario.check`` asserts the delivery
guarantee: every report on the server exactly once by id, no corrupt queue entry, every source
in Done, Error or its watch folder.
"""

from __future__ import annotations

import random
import signal
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from pywats_station._failpoints import ENV
from tests.chaos._scenario import Scenario
from tests.station.e2e.harness import Station, add_fault, emulator, make_report, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

# The phase boundaries, in the order a report passes them. Each is aimed at AIMED_ROUNDS times,
# at its 1st to 3rd occurrence in that run (a later one lands in another input or upload).
PHASES: dict[str, list[str]] = {
    "settling": ["claim.taken", "convert.settled"],
    "converting": ["convert.before_convert", "convert.converted"],
    "enqueuing": [
        "queue.put.before_write",
        "queue.write.before_rename",
        "queue.write.before_dir_fsync",
        "queue.put.durable",
        "convert.put",
    ],
    "moving the source": ["convert.queued", "source.moved", "convert.source_moved"],
    "uploading": ["upload.before_send", "upload.accepted"],
    "removing the entry": ["queue.complete.before_remove", "queue.remove.after_unlink"],
    "reloading config": [
        "config.reload.loaded",
        "config.reload.converter_stopped",
        "config.reload.applied",
    ],
}
AIMED_ROUNDS = 3  # per failpoint: 19 points, 57 aimed rounds
RANDOM_ROUNDS = 15
FILES_PER_ROUND = 3
QUEUED_PER_ROUND = 3
AIM_TIMEOUT = 8.0  # an armed point not reached by then: the round ends with our own kill


def converter_config(watch: Path, settle: float) -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "wsjf"
        kind = "wsjf"
        watch = "{watch}"
        settle = {settle}
        """
    )


def wait_dead(station: Station, timeout: float) -> int | None:
    """The daemon's exit code once it died by itself within ``timeout``; ``None`` if alive."""
    assert station.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = station.process.poll()
        if code is not None:
            return code
        time.sleep(0.02)
    return None


def test_sigkill_at_every_phase_and_at_random_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261206)
    inbox = tmp_path / "inbox"
    plan = [point for points in PHASES.values() for point in points for _ in range(AIMED_ROUNDS)]
    plan += [""] * RANDOM_ROUNDS  # "": a random moment, no failpoint
    rng.shuffle(plan)
    with emulator() as server:
        # A little latency keeps uploads in flight, so random kills land mid-upload too.
        add_fault(server, kind="latency", seconds=0.005)
        station = Station(tmp_path / "home", server, workers=4)
        settle = 0.2
        station.write_config(converter_config(inbox, settle))
        with Scenario("kills", tmp_path, server, station) as sc:
            sc.watch(inbox)
            n = 0
            hit: Counter[str] = Counter()
            missed: Counter[str] = Counter()
            for round_no, point in enumerate(plan):
                # Fed while the daemon is down: the queue is its to lock when it runs.
                batch = [make_report(n + i) for i in range(FILES_PER_ROUND + QUEUED_PER_ROUND)]
                n += len(batch)
                for i, (rid, data) in enumerate(batch[:FILES_PER_ROUND]):
                    sc.drop(inbox, f"r{round_no:03d}-{i}.json", data, rid)
                station.enqueue(batch[FILES_PER_ROUND:])
                sc.expect([rid for rid, _ in batch[FILES_PER_ROUND:]])
                if not point:
                    station.start()
                    time.sleep(rng.uniform(0.2, 1.5))
                    station.stop(signal.SIGKILL)
                    sc.counts.rounds += 1
                    continue
                nth = rng.randint(1, 3) if point.startswith(("queue.", "upload.")) else 1
                station.start({ENV: f"{point}={nth}"})
                if point.startswith("config.reload.") and point != "config.reload.loaded":
                    # A real change of the converter's entry, seen by the config watcher once
                    # the daemon runs with the old one.
                    wait_for(
                        lambda: "running; queue" in station.logs[-1].read_text(),
                        timeout=AIM_TIMEOUT,
                        what="the daemon running",
                    )
                    settle = 0.25 if settle == 0.2 else 0.2
                    station.write_config(converter_config(inbox, settle))
                code = wait_dead(station, AIM_TIMEOUT)
                if code is None:
                    missed[point] += 1
                    station.stop(signal.SIGKILL)
                else:
                    station.process = None
                    assert code == -signal.SIGKILL, f"the daemon exited {code}, not by SIGKILL"
                    assert f"failpoint {point} hit" in station.logs[-1].read_text(), point
                    hit[point] += 1
                sc.counts.rounds += 1
            sc.counts.extra["aimed"] = sum(hit.values())
            sc.counts.extra["aimed_missed"] = dict(missed)  # not reached in AIM_TIMEOUT
            sc.counts.extra["random"] = RANDOM_ROUNDS
            sc.drain(timeout=180)
            sc.check()
            # Aim is part of the claim: every phase was actually interrupted at least once.
            never = sorted(p for points in PHASES.values() for p in points if not hit[p])
            assert not never, f"failpoints never reached: {never} (missed: {dict(missed)})"
            assert sc.counts.rounds >= 50

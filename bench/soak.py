"""Sustained load on the station daemon: does anything grow that should not?

Run with the project's venv: ``.venv/bin/python bench/soak.py`` (``--quick`` for a smoke run).

The real ``pywats-station run`` process with one ``wsjf`` converter (``post_action =
"delete"``) uploads to the emulator over loopback TCP. Reports are dropped into the watch folder
in rounds of 1,000 files; after each round has reached the emulator the daemon's VmRSS, open file
descriptors and threads are read from ``/proc``. A station converts files for months: memory that
grows per file, descriptors or threads that are never closed, show here long before they would
on a test line.

Target (ours; the issue asks for memory under load without a figure): after a warm-up of two
rounds, RSS grows by at most ``TARGET_GROWTH_MIB`` per 10,000 reports, and descriptors and
threads stay within a few of where they started.

The report is printed and written to ``bench/.results/soak.md``. A benchmark, not a test: the
exit status is non-zero only when something crashed. Linux only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from station import (
    RESULTS,
    Daemon,
    Emulator,
    NotifySocket,
    Processes,
    Reports,
    code_description,
    mib,
    proc_status_kib,
)

WORK = RESULTS / "soak-work"
TARGET_GROWTH_MIB = 2.0  # RSS growth per 10,000 reports after the warm-up
TARGET_HANDLES = 4  # descriptors or threads above the warm-up figure
WARM_UP = 2  # rounds before the baseline sample


@dataclass(frozen=True)
class Sample:
    """The daemon after one round (all of its reports on the emulator)."""

    reports: int  # reports uploaded so far
    seconds: float  # the round's duration
    rss_kib: int
    fds: int
    threads: int


def open_fds(pid: int) -> int:
    """Open file descriptors of ``pid``."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def soak(rounds: int, per_round: int) -> list[Sample]:
    """Run the daemon through ``rounds`` rounds of ``per_round`` files; sample after each."""
    procs = Processes()
    emulator = Emulator()
    reports = Reports()
    inbox = WORK / "inbox"
    samples: list[Sample] = []
    try:
        converter = (
            f'[[converters]]\nname = "soak"\nkind = "wsjf"\nwatch = "{inbox}"\n'
            'settle = 0.2\npost_action = "delete"\n'
        )
        daemon: Daemon = procs.new(
            WORK / "daemon", emulator.url, unthrottled=True, extra_config=converter
        )
        inbox.mkdir(parents=True, exist_ok=True)
        notify = NotifySocket()
        try:
            daemon.start(notify)
            notify.wait_ready(daemon.running, timeout=60)
        finally:
            notify.close()
        daemon.wait_online()
        total = 0
        for n in range(rounds):
            batch = reports.make(per_round)
            started = time.monotonic()
            for report_id, data in batch:
                (inbox / f"{report_id}.json").write_bytes(data)
            total += per_round
            deadline = started + 60 + per_round / 10
            while emulator.count() < total:
                if time.monotonic() > deadline or not daemon.running():
                    raise RuntimeError(
                        f"round {n + 1}: {emulator.count()}/{total} reports\n{daemon.log_tail()}"
                    )
                time.sleep(0.1)
            seconds = time.monotonic() - started
            time.sleep(1.0)  # the round's last removals and status writes
            sample = Sample(
                reports=total,
                seconds=seconds,
                rss_kib=proc_status_kib(daemon.pid, "VmRSS"),
                fds=open_fds(daemon.pid),
                threads=proc_status_kib(daemon.pid, "Threads"),
            )
            samples.append(sample)
            print(
                f"  round {n + 1}: {total:,} reports, {mib(sample.rss_kib):.1f} MiB, "
                f"{sample.fds} fds, {sample.threads} threads",
                file=sys.stderr,
            )
        if any(inbox.glob("*.json")):
            raise RuntimeError("files were left in the watch folder")
        _, code = daemon.terminate()
        if code != 0:
            raise RuntimeError(f"exit code {code}:\n{daemon.log_tail()}")
    finally:
        procs.kill_all()
        emulator.close()
    return samples


def render(samples: list[Sample], per_round: int, quick: bool) -> str:
    """The report (Markdown)."""
    base, last = samples[WARM_UP - 1], samples[-1]
    growth = mib(last.rss_kib - base.rss_kib)
    per_10k = growth / (last.reports - base.reports) * 10_000
    fds_up = max(s.fds for s in samples[WARM_UP - 1 :]) - base.fds
    threads_up = max(s.threads for s in samples[WARM_UP - 1 :]) - base.threads
    rate = statistics.median(per_round / s.seconds for s in samples)

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    lines = [
        "# Sustained load: the station daemon converting and uploading",
        "",
        f"- code: {code_description()}",
        f"- run: {'quick' if quick else 'full'}; {len(samples)} rounds of {per_round:,} WSJF "
        f'files through one `wsjf` converter (`post_action = "delete"`), '
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- median rate, file written to report on the emulator: {rate:,.0f} reports/s",
        "",
        "| target (after a warm-up of "
        f"{WARM_UP} rounds, {mib(base.rss_kib):.1f} MiB) | measured | goal | |",
        "| --- | --- | --- | --- |",
        f"| RSS growth per 10,000 reports | {per_10k:+.2f} MiB "
        f"({growth:+.1f} MiB over {last.reports - base.reports:,}) | ≤ {TARGET_GROWTH_MIB} MiB | "
        f"{verdict(per_10k <= TARGET_GROWTH_MIB)} |",
        f"| open file descriptors above the baseline ({base.fds}) | {fds_up:+d} | "
        f"≤ {TARGET_HANDLES} | {verdict(fds_up <= TARGET_HANDLES)} |",
        f"| threads above the baseline ({base.threads}) | {threads_up:+d} | ≤ {TARGET_HANDLES} | "
        f"{verdict(threads_up <= TARGET_HANDLES)} |",
        "",
        "| reports | round | VmRSS | fds | threads |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s.reports:,} | {s.seconds:.1f} s | {mib(s.rss_kib):.1f} MiB | {s.fds} | {s.threads} |"
        for s in samples
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the report and write it to ``bench/.results/soak.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 rounds of 300 files (a smoke run: too short to judge growth)",
    )
    parser.add_argument("--rounds", type=int, default=20, help="rounds (default 20)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench/soak.py needs Linux (/proc)", file=sys.stderr)
        return 2
    rounds, per_round = (5, 300) if args.quick else (max(args.rounds, WARM_UP + 1), 1000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    samples = soak(rounds, per_round)
    report = render(samples, per_round, args.quick)
    (RESULTS / "soak.md").write_text(report, encoding="utf-8")
    print(report)
    print(
        f"({time.perf_counter() - started:.0f} s; written to {RESULTS / 'soak.md'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

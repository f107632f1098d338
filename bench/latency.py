"""Benchmark the time from a file moved into a watch folder to its report on the server.

Run with the project's venv: ``.venv/bin/python bench/latency.py`` (``--files 20`` for a
quicker run, ``--settle 2`` to set the converter's settle time; 2 s is the default shipped).

The real daemon (``python -m pywats_station run``) runs against the emulator over TCP with one
WSJF converter, configured as shipped (``settle = 2``, post action ``delete``). ``--files``
small WSJF reports (one step) are then moved into its watch folder one at a time, as equipment
that writes a temporary file and renames it does: each is written beside the folder, on the
same file system, and renamed into it; the next one goes once the previous report has reached
the server. The latency of a file is from just before its rename to the emulator's answer to
the upload (the time in the emulator's request log; both clocks are this machine's).

Goal (issue 18): p50 < 0.3 s, p99 < 1 s. This is a benchmark, not a test: it prints the
figures, and exits non-zero only when something crashed. Linux only.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemon import daemon, emulator

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf

TIMEOUT = 30.0  # seconds a report may take before the run is called broken


def report(n: int) -> tuple[str, bytes]:
    b = ReportBuilder.uut(
        pn="LAT-PN",
        sn=f"LAT-{n:06d}",
        rev="A",
        process_code=10,
        station="bench",
        location="Lab",
        purpose="Test",
    )
    b.root.numeric("Voltage", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
    built = b.build()
    return str(built.id), wsjf.dumps(built)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--settle", type=float, default=2.0)
    args = parser.parse_args()
    latencies: list[float] = []
    with emulator() as server, tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        home = Path(tmp)
        with daemon(home, server, 1, settle=args.settle) as running, server.admin() as admin:
            inbox = running.inboxes[0]
            time.sleep(1.0)  # start-up done
            for n in range(args.files):
                report_id, data = report(n)
                staged = home / f"staging-{n}.json"
                staged.write_bytes(data)
                moved_at = time.time()
                staged.rename(inbox / f"unit-{n}.json")
                deadline = time.monotonic() + TIMEOUT
                while report_id not in admin.get("/_emulator/reports").json()["ids"]:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"report {n} not on the server after {TIMEOUT} s")
                    time.sleep(0.01)
                log = admin.get("/_emulator/log").json()
                accepted = [e["time"] for e in log if e.get("report_id") == report_id]
                latencies.append(min(accepted) - moved_at)
    print(f"# File-to-server latency: {platform.machine()}, Python {platform.python_version()}")
    print(f"{args.files} files moved in one at a time, settle = {args.settle:g} s\n")
    print("| p50 | p90 | p99 | max | mean |")
    print("|---:|---:|---:|---:|---:|")
    p50, p90, p99 = (percentile(latencies, s) for s in (0.5, 0.9, 0.99))
    print(
        f"| {p50:.3f} s | {p90:.3f} s | {p99:.3f} s | {max(latencies):.3f} s "
        f"| {statistics.fmean(latencies):.3f} s |"
    )
    print(f"\ngoal p50 < 0.3 s: {'met' if p50 < 0.3 else 'not met'}; ", end="")
    print(f"p99 < 1 s: {'met' if p99 < 1.0 else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

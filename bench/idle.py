"""Benchmark what the station daemon costs when it has nothing to do.

Run with the project's venv: ``.venv/bin/python bench/idle.py`` (``--seconds 10`` for a quicker
run, ``--converters 1 8`` to choose the converter counts, ``--strace`` to add a summary of the
system calls, when ``strace`` is installed).

For each converter count, the real daemon (``python -m pywats_station run``) is started against
the emulator over TCP with that many WSJF converters (one empty watch folder each), the
configuration otherwise as shipped. Once it is online and every converter watches, it is left
alone for a few seconds (start-up), then for ``--seconds`` seconds:

* **wake-ups**: the voluntary + involuntary context switches of all its threads, read from
  ``/proc/<pid>/task/*/status`` every half second (a thread that ends takes at most its last
  half second's switches with it; one that starts counts from zero);
* **CPU**: user + system time from ``/proc/<pid>/stat``, as a share of one core.

Goal (issue 18): at most 1 wake-up per second with 8 converters. This is a benchmark, not a
test: it prints a table (and the busiest threads), and exits non-zero only when something
crashed. Linux only.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _daemon import context_switches, cpu_seconds, daemon, emulator, thread_names

STARTUP = 5.0  # seconds left alone after it is online and watching, before measuring
SAMPLE = 0.5  # seconds between reads of /proc
GOAL = 1.0  # wake-ups per second with 8 converters


def measure(pid: int, seconds: float) -> tuple[float, float, Counter[str], int]:
    """Wake-ups per second, CPU share of a core, switches by thread name, threads seen."""
    names = thread_names(pid)
    first = context_switches(pid)
    last = dict(first)
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    seen = set(first)
    while time.monotonic() - start < seconds:
        time.sleep(SAMPLE)
        now = context_switches(pid)
        if set(now) - set(names):
            names.update(thread_names(pid))
        last.update(now)
        seen |= set(now)
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(pid) - start_cpu
    by_name: Counter[str] = Counter()
    for tid, (vol, invol) in last.items():
        before = first.get(tid, (0, 0))
        by_name[names.get(tid, "?")] += vol + invol - before[0] - before[1]
    total = sum(by_name.values())
    return total / elapsed, cpu / elapsed, by_name, len(seen)


def strace_summary(pid: int, seconds: float) -> str:
    """``strace -f -c`` over the daemon for ``seconds`` (its own wake-ups are not measured)."""
    tool = shutil.which("strace")
    if tool is None:
        return "(strace is not installed)"
    proc = subprocess.Popen(
        [tool, "-f", "-c", "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(seconds)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=10)
    return err.decode(errors="replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--converters", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--strace", action="store_true", help="add strace -f -c (10 s)")
    args = parser.parse_args()
    print(f"# Idle daemon: {platform.machine()}, Python {platform.python_version()}")
    print(f"measured over {args.seconds:.0f} s after {STARTUP:.0f} s of start-up\n")
    print("| converters | wake-ups/s | CPU % of a core | threads |")
    print("|---:|---:|---:|---:|")
    details: list[str] = []
    with emulator() as server:
        for count in args.converters:
            with (
                tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp,
                daemon(Path(tmp), server, count) as running,
            ):
                time.sleep(STARTUP)
                rate, cpu, by_name, seen = measure(running.pid, args.seconds)
                print(f"| {count} | {rate:.1f} | {100 * cpu:.2f} | {seen} |", flush=True)
                busiest = ", ".join(
                    f"{name} {n / args.seconds:.1f}/s" for name, n in by_name.most_common(6)
                )
                details.append(f"{count} converter(s): {busiest}")
                if args.strace:
                    details.append(strace_summary(running.pid, 10.0))
    print()
    for line in details:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

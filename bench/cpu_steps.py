"""Where a WSJF report's CPU goes: each step of the daemon's path, timed alone in one process.

Run with the project's venv: ``.venv/bin/python bench/cpu_steps.py`` (``--rounds N``).

``bench/cpu_per_report.py`` measures the whole path in the real daemon; this splits it into the
steps the converter actor and the uploader take for one 3.9 kB WSJF file (20 steps), each run
``N`` times on fresh files in a temporary folder of the same file system as ``bench/.results``,
CPU time of this process (all threads) per call: a trip to a worker thread and back, the
input's check, ``validate()``, the conversion, the content key, the encoding, the durable
``put`` (fsync of the file and of the queue's folder), the post action ``delete`` (fsync of the
watch folder), the uploader's claim and removal, and the upload itself (the emulator in its own
process, not counted). Linux or not; the fsyncs cost what this disk makes them cost.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trio
from cpu_per_report import wsjf_files
from station import RESULTS

from pywats import AsyncWATS, RetryPolicy
from pywats.formats import wsjf
from pywats.testing.pytest_plugin import start_emulator
from pywats_station.converters import (
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    StationInfo,
)
from pywats_station.converters._intake import InputPolicy, check_input
from pywats_station.converters._sources import content_key, post_process
from pywats_station.converters.registry import create_converter
from pywats_station.converters.sandbox import OutputLimits, run_conversion
from pywats_station.queue import ReportQueue, unit_of

TOKEN = "bench-steps"


def per_call(fn: Callable[[int], object], rounds: int) -> float:
    """CPU seconds of this process per call of ``fn(i)``, ``i`` in ``range(rounds)``."""
    start = time.process_time()
    for i in range(rounds):
        fn(i)
    return (time.process_time() - start) / rounds


def measure(rounds: int) -> list[tuple[str, float]]:
    """(step, CPU ms per call) for each step of the path."""
    work = Path(tempfile.mkdtemp(prefix="cpu-steps-", dir=RESULTS))
    inbox, queue_dir = work / "inbox", work / "queue"
    inbox.mkdir()
    files = wsjf_files(rounds)
    paths = []
    for name, data in files:
        (inbox / name).write_bytes(data)
        paths.append(inbox / name)
    policy = InputPolicy(
        root=inbox.resolve(), folders=False, follow_symlinks=False, max_size=1 << 30
    )
    converter = create_converter("wsjf")
    assert isinstance(converter, FileConverter)
    ctx = ConverterContext(
        station=StationInfo(name="bench", location="Lab", purpose="Test"),
        processes=[],
        arguments=None,
        log=logging.getLogger("bench"),
    )
    limits = OutputLimits(max_report_size=1 << 30, max_output_size=1 << 30, settings="bench")
    out: list[tuple[str, float]] = []

    async def hops() -> float:
        start = time.process_time()
        for _ in range(rounds):
            await trio.to_thread.run_sync(lambda: None)
        return (time.process_time() - start) / rounds

    out.append(("a trip to a worker thread and back", trio.run(hops)))
    out.append(
        ("check the input (open, fstat)", per_call(lambda i: check_input(paths[i], policy), rounds))
    )
    out.append(("validate()", per_call(lambda i: converter.validate(paths[i], ctx), rounds)))
    results: list[ConversionResult] = []
    out.append(
        (
            "convert (read, parse, check the reports)",
            per_call(
                lambda i: results.append(run_conversion(converter, paths[i], ctx, limits=limits)),
                rounds,
            ),
        )
    )
    out.append(
        (
            "content key (read again, sha256)",
            per_call(lambda i: content_key(paths[i], policy), rounds),
        )
    )
    reports = [r.reports[0] for r in results if isinstance(r, Converted)]
    encoded = []
    out.append(
        (
            "encode the report (WSJF) and read its unit",
            per_call(
                lambda i: encoded.append((wsjf.dumps(reports[i]), unit_of(reports[i]))), rounds
            ),
        )
    )
    with ReportQueue.open(queue_dir) as queue:
        out.append(
            (
                "queue put (write, fsync file and folder)",
                per_call(
                    lambda i: queue.put(
                        str(reports[i].id), encoded[i][0], source="bench", unit=encoded[i][1]
                    ),
                    rounds,
                ),
            )
        )
        state = check_input(paths[0], policy)
        out.append(
            (
                "post action delete (unlink, fsync the watch folder)",
                per_call(lambda i: post_process("delete", paths[i], work, state, policy), rounds),
            )
        )
        # One entry at a time, as in a station keeping up: each claimed, then removed.
        for taken, _ in queue.claim(time.time(), rounds, (), 1 << 30):
            queue.abandon(taken)
        claim_cpu = remove_cpu = 0.0
        for _ in range(rounds):
            start = time.process_time()
            [(entry, _data)] = queue.claim(time.time(), 1, (), 1 << 20)
            claim_cpu += time.process_time() - start
            start = time.process_time()
            queue.try_complete(entry)
            remove_cpu += time.process_time() - start
        out.append(("uploader: claim the entry (walk, read)", claim_cpu / rounds))
        out.append(("uploader: remove the accepted entry (unlink)", remove_cpu / rounds))
    emulator = start_emulator(token=TOKEN)
    try:

        async def uploads() -> float:
            async with AsyncWATS(
                emulator.url, TOKEN, rate_limit=None, retry=RetryPolicy(max_attempts=2)
            ) as api:
                await api.report.submit_wsjf(encoded[0][0])  # connection made
                start = time.process_time()
                for data, _ in encoded:
                    await api.report.submit_wsjf(data)
                return (time.process_time() - start) / rounds

        out.append(("upload (AsyncWATS.report.submit_wsjf, keep-alive)", trio.run(uploads)))
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    return [(step, seconds * 1000) for step, seconds in out]


def main(argv: list[str] | None = None) -> int:
    """Print the table (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=300, help="calls per step (default 300)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = measure(args.rounds)
    lines = ["| step | CPU ms per report |", "| --- | --- |"]
    lines += [f"| {step} | {ms:.3f} |" for step, ms in rows]
    lines.append(f"| sum of the steps | {sum(ms for _, ms in rows):.3f} |")
    report = "\n".join(lines) + "\n"
    (RESULTS / "cpu_steps.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

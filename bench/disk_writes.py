"""What the station writes to its disk: bytes and fsyncs per report, and while idle.

Run with the project's venv: ``.venv/bin/python bench/disk_writes.py`` (``--reports N``,
``--idle SECONDS``). For an SD card, the figures that matter are the bytes the daemon sends to
the storage and how often it forces them out (each ``fsync`` is at least one flash write,
however small). The real daemon (``python -m pywats_station run``) runs against the emulator
over TCP with one WSJF converter (``post_action = "move"``), under
``strace --seccomp-bpf -e trace=fsync,fdatasync,…`` which counts the sync calls of every thread
and child; ``/proc/<pid>/io`` gives ``write_bytes`` (bytes the process caused to be written to
storage, counted when the page is dirtied) and ``cancelled_write_bytes`` (of those, bytes never
written because the file was deleted first: a queue entry uploaded and removed before the
kernel wrote it back).

Three phases: idle while online (status file, logs), ``N`` reports dropped into the watch folder
and uploaded, and the same ``N`` converted and queued while the server is unreachable (what a
station writes when it is offline; their upload later deletes files, writing nothing more).
The files the "equipment" writes into the watch folder are not the daemon's and not counted;
moving a converted file to ``Done`` is a rename. Linux only; needs ``strace``. This is a
benchmark, not a test: it prints a table for docs/performance.md and docs/raspberry-pi.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.station.e2e.harness import (  # noqa: E402  (the checkout's tests, by path)
    Station,
    count_reports,
    emulator,
    make_report,
    wait_for,
)

_NUMBERS = re.compile(r"[0-9a-f]{8,}(-[0-9a-f]{4,})*|\d+")  # seqs, report ids, pids
SYNC_CALLS = "fsync,fdatasync,sync,syncfs,sync_file_range,msync"


@dataclass
class TmpfsRuntimeStation(Station):
    """A station whose runtime folder (status file, pid) is on tmpfs, as ``/run`` is under
    systemd; its commands (``status``) look there too."""

    runtime: Path = Path("/dev/shm")

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "RUNTIME_DIRECTORY": str(self.runtime)}


@dataclass(frozen=True)
class Sample:
    """The daemon's I/O counters and the sync calls strace has logged, at one instant."""

    at: float
    write_bytes: int
    cancelled: int
    syncs: int

    def __sub__(self, other: Sample) -> Sample:
        return Sample(
            self.at - other.at,
            self.write_bytes - other.write_bytes,
            self.cancelled - other.cancelled,
            self.syncs - other.syncs,
        )


class Traced:
    """The daemon of ``station`` started under strace; samples of its writes."""

    def __init__(self, station: Station, log: Path) -> None:
        self.log = log
        self.work = log.parent
        self.strace = subprocess.Popen(
            [
                *("strace", "-f", "-y", "--seccomp-bpf", "-qq", "-e", f"trace={SYNC_CALLS}"),
                *("-e", "signal=none", "-o", str(log)),
                *(sys.executable, "-m", "pywats_station", "run"),
            ],
            env=station.env,
            cwd=log.parent,  # not the checkout: `-m` would import the package from the cwd
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Log lines go to a pipe, as to journald under systemd: not the daemon's disk writes.
        self.output: deque[bytes] = deque(maxlen=200)
        assert self.strace.stderr is not None
        threading.Thread(target=self.output.extend, args=(self.strace.stderr,), daemon=True).start()
        self.station = station
        self.pid = 0  # known once it serves (its status file names it)

    def sample(self) -> Sample:
        io = dict(
            line.split(": ", 1) for line in Path(f"/proc/{self.pid}/io").read_text().splitlines()
        )
        syncs = len(self.calls())
        return Sample(
            time.monotonic(),
            int(io["write_bytes"]),
            int(io["cancelled_write_bytes"]),
            syncs,
        )

    def calls(self) -> list[str]:
        """The sync calls so far, each as the path it synced (``-y``), digits as ``N``."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            call = re.search(r"(\w+)\(\d+<([^>]*)>", line)
            if call is not None and "resumed>" not in line:
                path = call.group(2).replace(str(self.work), "…")
                path = _NUMBERS.sub("N", path)
                found.append(f"{call.group(1)} {path}")
        return found

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        self.strace.wait(30)

    def check(self) -> None:
        """Stop the benchmark with the daemon's own words if it has died."""
        if self.strace.poll() is not None:
            log = b"".join(self.output).decode(errors="replace")
            raise SystemExit(f"the daemon ended ({self.strace.returncode}):\n{log[-3000:]}")


def _serving(station: Station, daemon: Traced) -> None:
    """Wait until the daemon serves its control channel (its supervision tree is up).

    Its pid comes from its status file: the program strace starts may be a launcher (a pyenv
    shim) whose child is the daemon.
    """
    try:
        station.control_url()
    except AssertionError:
        daemon.check()
        raise
    daemon.pid = int(station.status()["pid"])


def _drop(inbox: Path, first: int, count: int) -> int:
    """Write ``count`` reports into the watch folder (as equipment would); their WSJF bytes."""
    size = 0
    for n in range(first, first + count):
        _, data = make_report(n)
        tmp = inbox.parent / f"r{n}.json"
        tmp.write_bytes(data)
        tmp.rename(inbox / tmp.name)  # whole files only: the bench measures writes, not settling
        size += len(data)
    return size


def _row(what: str, delta: Sample, per: float, unit: str) -> str:
    return (
        f"| {what} | {delta.write_bytes / per:,.0f} | {delta.cancelled / per:,.0f} | "
        f"{(delta.write_bytes - delta.cancelled) / per:,.0f} | {delta.syncs / per:.1f} | {unit} |"
    )


def run(reports: int, idle: float) -> str:
    if shutil.which("strace") is None:
        raise SystemExit("strace is needed (apt install strace)")
    work = Path(tempfile.mkdtemp(prefix="pywats-disk-writes-"))
    # The status file and the pid live in the runtime folder: /run (tmpfs) under systemd.
    runtime = Path(tempfile.mkdtemp(prefix="pywats-disk-writes-", dir="/dev/shm"))
    rows: list[str] = []
    try:
        with emulator() as server:
            station = TmpfsRuntimeStation(work / "home", server, workers=4, runtime=runtime)
            inbox = work / "inbox"
            inbox.mkdir()
            station.write_config(
                f'[[converters]]\nname = "wsjf"\nkind = "wsjf"\nwatch = "{inbox}"\nsettle = 0.2\n'
            )
            daemon = Traced(station, work / "strace.log")
            try:
                _serving(station, daemon)
                time.sleep(3)  # start-up writes (tokens, cache, first status) settle
                start = daemon.sample()
                time.sleep(idle)
                quiet = daemon.sample() - start
                rows.append(_row("idle, online", quiet, quiet.at / 60, "a minute"))

                before = daemon.sample()
                size = _drop(inbox, 1, reports)
                wait_for(lambda: count_reports(server) >= reports, 300, "the uploads")
                wait_for(lambda: not any(station.queue_dir.rglob("*.wsjf")), 60, "an empty queue")
                time.sleep(2)
                online = daemon.sample() - before
                rows.append(_row("a report, online", online, reports, "a report"))
                synced = Counter(daemon.calls()[before.syncs :])
                what = [f"- {n / reports:.1f} x `{call}`" for call, n in synced.most_common()]
            finally:
                daemon.stop()

            # Offline: the server's URL points at a closed port; reports are queued, kept.
            closed = _closed_port()
            config = station.config_dir / "config.toml"
            text = config.read_text(encoding="utf-8").replace(server.url, closed)
            config.write_text(text, encoding="utf-8")
            daemon = Traced(station, work / "strace-offline.log")
            try:
                _serving(station, daemon)
                time.sleep(3)
                before = daemon.sample()
                _drop(inbox, reports + 1, reports)
                wait_for(
                    lambda: len(list(inbox.glob("*.json"))) == 0, 300, "conversions while offline"
                )
                time.sleep(2)
                offline = daemon.sample() - before
                rows.append(_row("a report, offline (queued)", offline, reports, "a report"))
            finally:
                daemon.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    header = [
        f"{reports} reports of {size / reports:,.0f} bytes of WSJF each; idle for {idle:.0f} s; "
        f"Python {platform.python_version()}, {platform.machine()}, {_filesystem()}",
        "",
        "| | write_bytes | cancelled | written to storage | fsyncs | per |",
        "|---|---:|---:|---:|---:|---|",
    ]
    footer = ["", "What a report online fsyncs (per report):", *what]
    return "\n".join(header + rows + footer)


def _closed_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _filesystem() -> str:
    done = subprocess.run(
        ["df", "--output=fstype", tempfile.gettempdir()],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.split()
    return f"{lines[-1]} file system" if lines else "file system unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=200, help="reports per phase")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of the idle phase")
    parser.add_argument(
        "--commit", help="measure this commit's daemon (exported with git archive), not the tree"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as export:
        code = "the working tree"
        if args.commit:
            sha = subprocess.run(
                ["git", "rev-parse", "--short", args.commit],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            archive = subprocess.run(
                ["git", "archive", sha, "pywats", "pywats_station"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", export], input=archive.stdout, check=True)
            os.environ["PYTHONPATH"] = export  # the daemon (and emulator) import this code
            code = f"commit {sha}"
        print(f"code: {code}")
        print(run(args.reports, args.idle))


if __name__ == "__main__":
    main()

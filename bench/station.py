"""Benchmark the station daemon ``pywats-station``: real processes over loopback TCP.

Run with the project's venv: ``.venv/bin/python bench/station.py`` (``--quick`` for a smoke run;
``--commit HEAD`` to measure a commit, exported to ``bench/.results/``, rather than a working
tree that others may be editing).

Four parts, each against the emulator (``python -m pywats.testing serve``, its own process):

1. upload throughput from the durable queue to the emulator with 1, 4 and 16 upload workers,
   beside a ceiling: the same reports sent straight with ``AsyncWATS.report.submit_wsjf`` from
   as many trio tasks; plus one run of the daemon exactly as shipped, whose client keeps WATS's
   budget of 500 requests a minute;
2. the daemon's memory (VmRSS, VmHWM): idle online, under load, and offline with a backlog of
   100,000 queued reports;
3. start-up time to ``READY=1`` (the systemd notify protocol) with an empty queue and with the
   backlog;
4. SIGTERM to exit.

The report is printed and written to ``bench/.results/station.md``; all data (the daemons' home
folders and logs, the pre-filled backlog, reused while its count matches) stays in
``bench/.results/``. This is a benchmark, not a test: targets are shown as met or not met, and
the exit status is non-zero only when something crashed. Linux only (``/proc``, ``AF_UNIX``).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import msgspec
import trio

import pywats
from pywats import AsyncWATS, CompOp, ReportBuilder, RetryPolicy
from pywats.formats import wsjf
from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.daemon import DRAIN_TIMEOUT, status_file
from pywats_station.paths import HOME_ENV, InstancePaths, instance_paths
from pywats_station.queue import QueueError, ReportQueue

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / ".results"
WORK = RESULTS / "station-work"  # daemon homes and logs of the last run (wiped on start)
# Set in a benchmark re-executed by ``--commit``: the commit whose code it runs.
CODE_ENV = "PYWATS_BENCH_STATION_CODE"

TOKEN = "bench-station-token"
INSTANCE = "default"

TARGET_SHARE = 0.80  # daemon throughput with 4 workers: at least this share of the ceiling
TARGET_WORKERS = 4
TARGET_BACKLOG_MIB = 10.0  # RSS with the backlog: at most this much above an empty queue
TARGET_STARTUP = 2.0  # seconds from process start to READY=1 with the backlog
TARGET_EXIT = 5.0  # seconds from SIGTERM to exit, idle

# The predecessor's service, as documented (not run here; see the notes of the report).
PREDECESSOR_IDLE_MB = 86

BUDGET_REQUESTS = 500  # the client's default rate limit: requests per BUDGET_PERIOD
BUDGET_PERIOD = 60.0


@dataclass(frozen=True)
class Settings:
    """How much to measure; ``--quick`` trades precision for a run of well under a minute."""

    reports: int  # reports per throughput run
    workers: tuple[int, ...]  # upload_workers (and ceiling tasks) to measure
    rounds: int  # throughput runs per worker count and side; the report keeps the best
    throttled: int  # reports for the as-shipped (rate-limited) run; 0 skips it
    backlog: int  # queued reports for the memory and start-up measurements
    settle: float  # seconds an idle daemon is left alone before its RSS is read
    startups: int  # start-ups timed per queue (empty, backlog); the report shows the median


FULL = Settings(
    reports=2000,
    workers=(1, 4, 16),
    rounds=2,
    throttled=700,
    backlog=100_000,
    settle=3.0,
    startups=3,
)
QUICK = Settings(
    reports=200,
    workers=(1, 4, 16),
    rounds=1,
    throttled=0,
    backlog=5_000,
    settle=1.0,
    startups=1,
)


# --------------------------------------------------------------------------------------------
# Processes: /proc, the emulator, the daemon
# --------------------------------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        text = handle.read()
    # The command name (field 2) may hold spaces: split after its closing parenthesis, where
    # field 3 (state) is index 0, utime (field 14) index 11 and stime (field 15) index 12.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def mib(kib: int) -> float:
    """KiB to MiB."""
    return kib / 1024


class Emulator:
    """The emulator process with one keep-alive admin client (reset, counts, request log)."""

    def __init__(self) -> None:
        self.process: EmulatorProcess = start_emulator(token=TOKEN)
        self.admin = self.process.admin()

    @property
    def url(self) -> str:
        """The emulator's base URL."""
        return self.process.url

    @property
    def pid(self) -> int:
        """The emulator's process id."""
        return self.process.process.pid

    def reset(self) -> None:
        """Forget reports, faults and the request log."""
        self.admin.post("/_emulator/reset").raise_for_status()

    def count(self) -> int:
        """How many reports the emulator holds."""
        answer = self.admin.get("/_emulator/reports")
        answer.raise_for_status()
        count: int = answer.json()["count"]
        return count

    def accepted(self) -> list[tuple[float, str]]:
        """(time, report id) of every accepted report submit in the request log, in order."""
        answer = self.admin.get("/_emulator/log")
        answer.raise_for_status()
        return sorted(
            (float(e["time"]), str(e["report_id"]))
            for e in answer.json()
            if e["method"] == "POST" and e["status"] == 200 and e.get("report_id")
        )

    def close(self) -> None:
        """Stop the emulator."""
        self.admin.close()
        self.process.stop()


@contextmanager
def closed_port() -> Iterator[str]:
    """A URL on which nothing listens: a bound, never listening socket refuses connections.

    Holding the socket keeps the port from being taken by anything else during the run.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class NotifySocket:
    """The listening end of the systemd notify protocol: one datagram per message."""

    def __init__(self) -> None:
        # The abstract namespace (a leading NUL; ``@`` in NOTIFY_SOCKET): no file, no length
        # trouble with a deep checkout path, gone when closed.
        self.name = f"pywats-bench-station-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.sock.settimeout(0.05)

    @property
    def env_value(self) -> str:
        """The value of ``NOTIFY_SOCKET`` for the daemon."""
        return "@" + self.name

    def wait_ready(self, alive: Callable[[], bool], timeout: float) -> float:
        """Wait for a ``READY=1`` message; return ``time.perf_counter()`` at its arrival.

        Raises:
            RuntimeError: the process died or did not become ready in time.
        """
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                if not alive():
                    raise RuntimeError("the daemon exited before READY=1") from None
                continue
            if "READY=1" in data.decode("utf-8", "replace").splitlines():
                return time.perf_counter()
        raise RuntimeError(f"no READY=1 within {timeout} s")

    def close(self) -> None:
        """Close (and so remove) the socket."""
        self.sock.close()


@dataclass
class Daemon:
    """One ``pywats-station`` process with its own home folder (config, state, log)."""

    home: Path
    url: str
    workers: int = 4
    queue_path: Path | None = None  # None: the instance's own queue folder
    unthrottled: bool = False
    extra_config: str = ""  # TOML appended to the generated config (e.g. converters)
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0  # perf_counter() just before the process was created
    started_wall: float = 0.0  # time.time() at the same moment, to compare with the emulator
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.home / "daemon.log"

    @property
    def paths(self) -> InstancePaths:
        """The instance's paths, as the daemon computes them from ``PYWATS_STATION_HOME``."""
        return instance_paths(INSTANCE, env={HOME_ENV: str(self.home)})

    @property
    def queue_dir(self) -> Path:
        """The queue folder this daemon uses."""
        return self.queue_path or self.paths.queue_dir

    @property
    def pid(self) -> int:
        """The process id (the daemon must be running)."""
        assert self.process is not None
        return self.process.pid

    def write_config(self) -> None:
        """The instance's ``config.toml``: server, station, queue; defaults for the rest."""
        lines = [
            "[server]",
            f'url = "{self.url}"',
            "timeout = 10.0",
            # The throughput runs lift WATS's 500 requests/minute budget to measure the uploader.
            f"requests_per_minute = {0 if self.unthrottled else 500}",
            "[station]",
            'name = "bench"',
            'location = "Lab"',
            "[queue]",
            f"upload_workers = {self.workers}",
            *([f'path = "{self.queue_path}"'] if self.queue_path is not None else []),
            "[control]",
            'listen = "127.0.0.1:0"',
        ]
        if self.extra_config:
            lines.append(self.extra_config)
        config = self.paths.config_file
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def env(self, notify: NotifySocket | None) -> dict[str, str]:
        """The daemon's environment: ours minus anything systemd-ish, plus its home and token."""
        drop = ("NOTIFY_", "WATCHDOG_", "INVOCATION_ID", "JOURNAL_STREAM", "PYWATS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(
            {
                HOME_ENV: str(self.home),
                "PYWATS_API_TOKEN": TOKEN,
                "PYWATS_INSTANCE": INSTANCE,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.env_value
        return env

    def start(self, notify: NotifySocket | None = None) -> None:
        """Start ``pywats-station run``, output to the log."""
        self.write_config()
        command = [sys.executable, "-m", "pywats_station", "run"]
        env = self.env(notify)
        with open(self.log, "ab") as handle:
            self.started_wall = time.time()
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=self.home
            )

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def status(self) -> dict[str, Any]:
        """The daemon's status file ({} before it is written)."""
        try:
            data = msgspec.json.decode(status_file(self.paths).read_bytes())
        except (FileNotFoundError, msgspec.DecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def connection(self) -> str | None:
        """The connection state the daemon last published in its status file."""
        state = self.status().get("connection")
        return str(state) if state is not None else None

    def queue_depth(self) -> int | None:
        """The queue depth the daemon last published in its status file."""
        queue = self.status().get("queue")
        depth = queue.get("depth") if isinstance(queue, dict) else None
        return depth if isinstance(depth, int) else None

    def wait_online(self, timeout: float = 30.0) -> None:
        """Wait until the status file says ``online`` (it is rewritten every 2 s)."""
        wait_for(lambda: self.connection() == "online", timeout, "the daemon to go online", self)

    def terminate(self, timeout: float = 30.0) -> tuple[float, int]:
        """SIGTERM; return (seconds until the process was gone, exit code)."""
        assert self.process is not None
        sent = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return time.perf_counter() - sent, code

    def kill(self) -> None:
        """SIGKILL if still running (cleanup after an error)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The end of the daemon's output, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """Every daemon started, so that an error anywhere still kills them all (by their pid)."""

    def __init__(self) -> None:
        self.daemons: list[Daemon] = []

    def new(self, home: Path, url: str, **kwargs: Any) -> Daemon:
        """A daemon in a fresh home folder (not started)."""
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        daemon = Daemon(home, url, **kwargs)
        self.daemons.append(daemon)
        return daemon

    def kill_all(self) -> None:
        """Kill whatever is still running."""
        for daemon in self.daemons:
            daemon.kill()


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, daemon: Daemon | None = None
) -> None:
    """Poll ``condition`` every 50 ms; raise after ``timeout`` s or when ``daemon`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if daemon is not None and not daemon.running():
            raise RuntimeError(f"the daemon exited while waiting for {what}:\n{daemon.log_tail()}")
        time.sleep(0.05)
    tail = f":\n{daemon.log_tail()}" if daemon is not None else ""
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}{tail}")


# --------------------------------------------------------------------------------------------
# Reports and queues
# --------------------------------------------------------------------------------------------


class Reports:
    """Small valid test reports that differ only in their id (one template, re-stamped)."""

    def __init__(self) -> None:
        builder = ReportBuilder.uut(
            pn="BENCH-PN",
            sn="BENCH-000001",
            rev="A",
            process_code=10,
            station="BENCH",
            location="Lab",
            purpose="Test",
        )
        builder.root.numeric("Voltage", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
        report = builder.build()
        self.template_id = str(report.id)
        self.template = wsjf.dumps(report)
        self.put_options = _put_options(report)
        # Re-stamping is a byte replace, much faster than building or re-encoding 100,000
        # reports; it is only sound if the id occurs once (the steps' ids are integers).
        if self.template.count(self.template_id.encode()) != 1:
            raise RuntimeError("the template report's id is not unique in its WSJF")

    @property
    def size(self) -> int:
        """Bytes of WSJF per report."""
        return len(self.template)

    def make(self, count: int) -> list[tuple[str, bytes]]:
        """``count`` reports with fresh ids, as (id, WSJF bytes)."""
        old = self.template_id.encode()
        out = []
        for _ in range(count):
            new = str(uuid.uuid4())
            out.append((new, self.template.replace(old, new.encode(), 1)))
        return out


def _put_options(report: Any) -> dict[str, Any]:
    """What the daemon's converters give ``put`` besides the bytes: the report's unit (read once
    from the template: the re-stamped reports share it), so that the backlog's headers are the
    daemon's; nothing for code from before units (``--commit`` of an older version)."""
    try:
        from pywats_station.queue import unit_of
    except ImportError:
        return {}
    return {"unit": unit_of(report)}


def fill(folder: Path, reports: Sequence[tuple[str, bytes]], put_options: dict[str, Any]) -> float:
    """Put ``reports`` into the queue in ``folder``; return the seconds it took.

    ``fsync=False``: only the filling is faster; renames stay atomic and the daemon that opens
    the queue afterwards uses ``fsync`` as always.
    """
    start = time.perf_counter()
    with ReportQueue.open(folder, fsync=False) as queue:
        for report_id, data in reports:
            queue.put(report_id, data, source="bench", **put_options)
    return time.perf_counter() - start


def queue_depth(folder: Path) -> int | None:
    """Entries waiting in the queue in ``folder`` (all QUEUED), or ``None`` if unusable."""
    try:
        with ReportQueue.open(folder, fsync=False) as queue:
            stats = queue.stats()
    except (QueueError, OSError):
        return None
    if stats.queued != stats.depth or stats.dead or stats.corrupt:
        return None
    return stats.depth


@dataclass(frozen=True)
class Backlog:
    """The pre-filled queue for the memory and start-up parts."""

    folder: Path
    count: int
    fill_seconds: float | None  # None: reused from an earlier run
    disk_bytes: int


def ensure_backlog(count: int, reports: Reports) -> Backlog:
    """The queue folder with ``count`` reports, filled now or reused if its count matches."""
    folder = RESULTS / f"station-backlog-{count}"
    seconds: float | None = None
    if not folder.exists() or queue_depth(folder) != count:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"  filling a queue with {count:,} reports…", file=sys.stderr)
        seconds = 0.0
        chunk = 10_000  # bounded memory: the reports are generated per chunk
        for start in range(0, count, chunk):
            seconds += fill(folder, reports.make(min(chunk, count - start)), reports.put_options)
        if queue_depth(folder) != count:
            raise RuntimeError(f"the backlog in {folder} does not hold {count} reports")
    disk = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
    return Backlog(folder, count, seconds, disk)


# --------------------------------------------------------------------------------------------
# Part 1: throughput
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One throughput run: N reports into the emulator, by the daemon or the direct client."""

    side: str  # "daemon", "ceiling" or "shipped"
    workers: int
    reports: int
    times: list[float]  # emulator's acceptance times (time.time()), sorted
    emulator_cpu: float  # emulator CPU seconds over the window (see client_seconds)
    client_cpu: float  # CPU seconds of the sender (daemon, or this process) over the window
    client_seconds: float  # the window: wall seconds the CPU times were counted over
    client_reports: int  # reports accepted within the window
    start_to_all: float | None = None  # daemon: from process creation to the last acceptance
    peak_rss_kib: int = 0  # daemon: highest VmRSS sampled while uploading
    hwm_kib: int = 0  # daemon: VmHWM just before SIGTERM
    exit_seconds: float = 0.0  # daemon: SIGTERM to exit after the run

    @property
    def span(self) -> float:
        """Seconds from the first to the last accepted report."""
        return self.times[-1] - self.times[0]

    @property
    def rate(self) -> float:
        """Accepted reports per second between the first and the last (start-up excluded)."""
        return (len(self.times) - 1) / self.span if self.span > 0 else float("nan")

    @property
    def emulator_load(self) -> float:
        """The emulator's CPU use during the upload, as a share of one core."""
        return self.emulator_cpu / self.client_seconds if self.client_seconds > 0 else float("nan")

    @property
    def client_load(self) -> float:
        """The sender's (daemon's or direct client's) CPU use, as a share of one core."""
        return self.client_cpu / self.client_seconds if self.client_seconds > 0 else float("nan")

    @property
    def cpu_per_report(self) -> float:
        """The sender's CPU seconds per report."""
        return self.client_cpu / self.client_reports if self.client_reports else float("nan")

    def rate_between(self, first: int, last: int) -> float:
        """Reports per second from acceptance ``first`` to ``last`` (indexes)."""
        span = self.times[last] - self.times[first]
        return (last - first) / span if span > 0 else float("nan")


def check_delivery(run_ids: list[str], expected: set[str], what: str) -> None:
    """Every report arrived (re-sends are allowed: the server overwrites by id)."""
    missing = expected - set(run_ids)
    if missing:
        raise RuntimeError(f"{what}: {len(missing)} reports never reached the emulator")


def daemon_run(
    procs: Processes,
    emulator: Emulator,
    reports: Reports,
    workers: int,
    count: int,
    *,
    unthrottled: bool,
    label: str,
) -> Run:
    """Pre-fill a daemon's queue with ``count`` reports, start it, wait for all to arrive."""
    emulator.reset()
    daemon = procs.new(WORK / label, emulator.url, workers=workers, unthrottled=unthrottled)
    batch = reports.make(count)
    fill(daemon.queue_dir, batch, reports.put_options)
    notify = NotifySocket()
    try:
        daemon.start(notify)
        ready = notify.wait_ready(daemon.running, timeout=60)
    finally:
        notify.close()
    # CPU is counted from the first poll that sees reports arrive to the last one: the daemon
    # uploading, without its start-up (imports, first health check, process sync).
    window: list[tuple[float, float, float, int]] = []  # (perf_counter, daemon, emulator, done)
    at_ready = (ready, cpu_seconds(daemon.pid), cpu_seconds(emulator.pid), 0)
    peak = 0
    # The slowest case is the as-shipped run (8.3 reports/s once the budget is spent).
    deadline = time.monotonic() + 60 + count / 5
    next_count = 0.0
    done = 0
    while done < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: {done}/{count} reports after the deadline")
        if not daemon.running():
            raise RuntimeError(f"{label}: the daemon exited:\n{daemon.log_tail()}")
        with suppress(FileNotFoundError, ProcessLookupError):
            peak = max(peak, proc_status_kib(daemon.pid, "VmRSS"))
        # Counting asks the emulator for every id: poll it less often than the RSS, so that
        # the measurement itself costs the emulator little.
        if time.monotonic() >= next_count:
            done = emulator.count()
            next_count = time.monotonic() + 0.25
            if done:
                sample = (time.perf_counter(), cpu_seconds(daemon.pid), cpu_seconds(emulator.pid))
                window[1:] = []  # keep the first sample, replace the last
                window.append((*sample, done))
        time.sleep(0.05)
    if len(window) < 2:  # all arrived between two polls: count from READY=1 instead
        window.insert(0, at_ready)
    (t0, daemon0, emulator0, done0), (t1, daemon1, emulator1, done1) = window[0], window[-1]
    hwm = proc_status_kib(daemon.pid, "VmHWM")
    exit_seconds, code = daemon.terminate()
    if code != 0:
        raise RuntimeError(f"{label}: exit code {code}:\n{daemon.log_tail()}")
    accepted = emulator.accepted()
    check_delivery([i for _, i in accepted], {i for i, _ in batch}, label)
    times = [t for t, _ in accepted]
    return Run(
        side="daemon" if unthrottled else "shipped",
        workers=workers,
        reports=count,
        times=times,
        emulator_cpu=emulator1 - emulator0,
        client_cpu=daemon1 - daemon0,
        client_seconds=t1 - t0,
        client_reports=done1 - done0,
        start_to_all=times[-1] - daemon.started_wall,
        peak_rss_kib=peak,
        hwm_kib=hwm,
        exit_seconds=exit_seconds,
    )


async def _submit_all(url: str, payloads: list[bytes], workers: int) -> None:
    # The daemon's client settings (timeout, retry) without the rate limit: the same wire
    # traffic, so that any difference is the queue and the uploader.
    api = AsyncWATS(
        url,
        TOKEN,
        timeout=10.0,
        retry=RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=5.0),
        rate_limit=None,
    )
    pending = iter(payloads)

    async def worker() -> None:
        # One trio thread: next() on the shared iterator needs no lock.
        for data in pending:
            await api.report.submit_wsjf(data)

    async with api, trio.open_nursery() as nursery:
        for _ in range(workers):
            nursery.start_soon(worker)


def ceiling_run(emulator: Emulator, reports: Reports, workers: int, count: int) -> Run:
    """Send ``count`` reports straight from ``workers`` trio tasks; the daemon's upper bound."""
    emulator.reset()
    batch = reports.make(count)
    emulator_cpu = cpu_seconds(emulator.pid)
    own_cpu = time.process_time()
    started = time.perf_counter()
    trio.run(_submit_all, emulator.url, [data for _, data in batch], workers)
    own_seconds = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    emulator_cpu = cpu_seconds(emulator.pid) - emulator_cpu
    accepted = emulator.accepted()
    check_delivery([i for _, i in accepted], {i for i, _ in batch}, f"ceiling x{workers}")
    return Run(
        side="ceiling",
        workers=workers,
        reports=count,
        times=[t for t, _ in accepted],
        emulator_cpu=emulator_cpu,
        client_cpu=own_cpu,
        client_seconds=own_seconds,
        client_reports=count,
    )


@dataclass
class Throughput:
    """Part 1: every run, by side and worker count."""

    daemon: dict[int, list[Run]] = field(default_factory=dict)
    ceiling: dict[int, list[Run]] = field(default_factory=dict)
    shipped: Run | None = None

    def best(self, side: str, workers: int) -> Run:
        """The fastest run of a side (noise on a shared machine only ever slows a run down)."""
        runs = (self.daemon if side == "daemon" else self.ceiling)[workers]
        return max(runs, key=lambda r: r.rate)


def bench_throughput(
    procs: Processes, emulator: Emulator, reports: Reports, settings: Settings
) -> Throughput:
    """Part 1: daemon and ceiling for each worker count, alternating who goes first."""
    result = Throughput()
    for n in range(settings.rounds):
        for workers in settings.workers:
            sides = ("ceiling", "daemon") if n % 2 == 0 else ("daemon", "ceiling")
            for side in sides:
                if side == "daemon":
                    run = daemon_run(
                        procs,
                        emulator,
                        reports,
                        workers,
                        settings.reports,
                        unthrottled=True,
                        label=f"throughput-w{workers}-r{n + 1}",
                    )
                    result.daemon.setdefault(workers, []).append(run)
                else:
                    run = ceiling_run(emulator, reports, workers, settings.reports)
                    result.ceiling.setdefault(workers, []).append(run)
                print(
                    f"  throughput: {side} x{workers} round {n + 1}: {run.rate:,.0f} reports/s",
                    file=sys.stderr,
                )
    if settings.throttled:
        result.shipped = daemon_run(
            procs,
            emulator,
            reports,
            TARGET_WORKERS,
            settings.throttled,
            unthrottled=False,
            label="throughput-shipped",
        )
        print(f"  throughput: as shipped: {result.shipped.rate:,.1f} reports/s", file=sys.stderr)
    return result


# --------------------------------------------------------------------------------------------
# Parts 2-4: memory, start-up, SIGTERM
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Idle:
    """One idle daemon: its start-up, memory after settling, and SIGTERM."""

    label: str
    startup: float  # process creation to READY=1
    rss_kib: int
    hwm_kib: int
    exit_seconds: float
    exit_code: int


def idle_run(
    procs: Processes,
    label: str,
    url: str,
    settings: Settings,
    *,
    queue_path: Path | None = None,
    depth: int = 0,
    online: bool = False,
    measure: bool = True,
) -> Idle:
    """Start a daemon, time READY=1, (if ``measure``) settle and read its memory, SIGTERM it.

    ``depth``: the entries in its queue (``queue_path``, or its own empty one), checked.
    """
    daemon = procs.new(WORK / label, url, queue_path=queue_path)
    notify = NotifySocket()
    try:
        daemon.start(notify)
        ready = notify.wait_ready(daemon.running, timeout=60)
    finally:
        notify.close()
    startup = ready - daemon.started
    # The daemon must have opened the queue meant for it (a config that put `path` in the wrong
    # table once measured an empty queue): its status file says how deep its queue is.
    wait_for(lambda: daemon.queue_depth() is not None, 10, "the status file", daemon)
    if daemon.queue_depth() != depth:
        raise RuntimeError(
            f"{label}: the daemon reports {daemon.queue_depth()} queued, not {depth}"
        )
    rss = hwm = 0
    if measure:
        if online:
            daemon.wait_online()
        # Settle: the first health check, registration and process sync are done, the status
        # file has been written a few times; what is left is the daemon at rest.
        time.sleep(settings.settle)
        rss = proc_status_kib(daemon.pid, "VmRSS")
        hwm = proc_status_kib(daemon.pid, "VmHWM")
    exit_seconds, code = daemon.terminate()
    return Idle(label, startup, rss, hwm, exit_seconds, code)


@dataclass
class Resting:
    """Parts 2-4: idle daemons, online and offline, with an empty queue and the backlog."""

    online: Idle
    offline_empty: list[Idle]
    offline_backlog: list[Idle]


def bench_resting(
    procs: Processes, emulator: Emulator, backlog: Backlog, settings: Settings
) -> Resting:
    """Idle online, then offline with an empty queue and with the backlog (alternating)."""
    emulator.reset()
    online = idle_run(procs, "idle-online", emulator.url, settings, online=True)
    print(f"  idle online: {mib(online.rss_kib):.1f} MiB", file=sys.stderr)
    empty: list[Idle] = []
    full: list[Idle] = []
    with closed_port() as url:
        for n in range(settings.startups):
            measure = n == 0  # memory once; further runs only time the start-up
            empty.append(idle_run(procs, f"offline-empty-{n + 1}", url, settings, measure=measure))
            full.append(
                idle_run(
                    procs,
                    f"offline-backlog-{n + 1}",
                    url,
                    settings,
                    queue_path=backlog.folder,
                    depth=backlog.count,
                    measure=measure,
                )
            )
            print(
                f"  start-up {n + 1}: empty {empty[-1].startup:.2f} s, "
                f"backlog {full[-1].startup:.2f} s",
                file=sys.stderr,
            )
    # The backlog must still be whole: a daemon that could reach a server would have sent it.
    if queue_depth(backlog.folder) != backlog.count:
        raise RuntimeError(f"the backlog in {backlog.folder} changed during the run")
    return Resting(online, empty, full)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


BUSY_LOAD = 0.8  # a process using this share of a core (or more) is taken as CPU-bound


def limiter(run: Run) -> str:
    """Which process a run's CPU figures point at as its bottleneck (short, for a table)."""
    sender = "daemon" if run.side != "ceiling" else "client"
    busy = [
        name
        for name, load in ((sender, run.client_load), ("emulator", run.emulator_load))
        if load >= BUSY_LOAD
    ]
    return " + ".join(busy) if busy else "neither (waits)"


def verdict(ok: bool) -> str:
    """Met or not met, as shown in the targets table."""
    return "**met**" if ok else "**not met**"


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, if it says."""
    with suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def render(
    settings: Settings,
    quick: bool,
    reports: Reports,
    backlog: Backlog,
    tput: Throughput,
    rest: Resting,
) -> str:
    """The markdown report."""
    out: list[str] = []
    add = out.append
    add("# The station daemon (`pywats-station`)\n")
    add(f"- machine: `{platform.platform()}`, {os.cpu_count()} CPUs ({cpu_model()})")
    add(
        f"- pywats {pywats.__version__} on Python {platform.python_version()} "
        f"(trio {dist_version('trio')}, httpx {dist_version('httpx')}, "
        f"hypercorn {dist_version('hypercorn')} serving the emulator)"
    )
    add(f"- code: {code_description()}")
    add(
        f"- run: {'--quick (smoke run, figures are rough)' if quick else 'full'}; "
        f"{settings.reports:,} reports of {reports.size} bytes WSJF per throughput run, best of "
        f"{settings.rounds} run(s); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )

    # Targets first: they are what the figures are for.
    daemon4 = tput.best("daemon", TARGET_WORKERS)
    ceiling4 = tput.best("ceiling", TARGET_WORKERS)
    share = daemon4.rate / ceiling4.rate
    empty = rest.offline_empty[0]
    full = rest.offline_backlog[0]
    growth = mib(full.rss_kib - empty.rss_kib)
    startup = statistics.median(i.startup for i in rest.offline_backlog)
    add("## Targets\n")
    add("| target | measured | goal | |")
    add("| --- | --- | --- | --- |")
    add(
        f"| upload throughput, {TARGET_WORKERS} workers, vs. the direct client (both without "
        f"the 500/min rate limit) | {daemon4.rate:,.0f} vs. {ceiling4.rate:,.0f} reports/s = "
        f"{share:.0%} | ≥{TARGET_SHARE:.0%} | {verdict(share >= TARGET_SHARE)} |"
    )
    add(
        f"| RSS with {backlog.count:,} queued vs. an empty queue (offline) | "
        f"{mib(full.rss_kib):.1f} vs. {mib(empty.rss_kib):.1f} MiB = {growth:+.1f} MiB | "
        f"≤{TARGET_BACKLOG_MIB:g} MiB | {verdict(growth <= TARGET_BACKLOG_MIB)} |"
    )
    add(
        f"| start-up to READY=1 with {backlog.count:,} queued (median of "
        f"{len(rest.offline_backlog)}) | {startup:.2f} s | <{TARGET_STARTUP:g} s | "
        f"{verdict(startup < TARGET_STARTUP)} |"
    )
    add(
        f"| SIGTERM to exit, idle | {rest.online.exit_seconds:.2f} s | ≤{TARGET_EXIT:g} s | "
        f"{verdict(rest.online.exit_seconds <= TARGET_EXIT)} |\n"
    )

    add("## 1. Upload throughput: queue → emulator\n")
    add(
        f"{settings.reports:,} reports pre-filled in the queue, then the daemon started; rate "
        "from the first to the last report the emulator accepted (its request log), so the "
        "daemon's start-up is not in it. Ceiling: the same reports sent by "
        "`AsyncWATS.report.submit_wsjf` from as many trio tasks in one process, same client "
        "settings. Both sides with `rate_limit=None` (see below for the daemon as shipped). "
        "Load: CPU seconds divided by wall seconds (1.00 = one core); in the daemon's runs "
        "counted between the first and the last poll (every 0.25 s) of the emulator's report "
        "count, so without the daemon's start-up.\n"
    )
    add(
        "| workers | daemon | ceiling | daemon/ceiling | daemon: start to last report | "
        "CPU per report: daemon / direct client | load in daemon run: daemon / emulator | "
        "load in ceiling run: client / emulator | CPU-bound: daemon run / ceiling run |"
    )
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for workers in settings.workers:
        d = tput.best("daemon", workers)
        c = tput.best("ceiling", workers)
        start_to_all = f"{d.start_to_all:.2f} s" if d.start_to_all is not None else "—"
        add(
            f"| {workers} | {d.rate:,.0f}/s | {c.rate:,.0f}/s | {d.rate / c.rate:.0%} | "
            f"{start_to_all} | {d.cpu_per_report * 1e3:.2f} / {c.cpu_per_report * 1e3:.2f} ms | "
            f"{d.client_load:.2f} / {d.emulator_load:.2f} | "
            f"{c.client_load:.2f} / {c.emulator_load:.2f} | {limiter(d)} / {limiter(c)} |"
        )
    add("")
    add(
        f"CPU-bound: a process using at least {BUSY_LOAD:.0%} of a core (a Python process gets "
        "about one core for Python code: the GIL); `neither (waits)`: the run is bound by "
        "round trips and hand-offs, not by either process's CPU.\n"
    )
    if settings.rounds > 1:
        add("All runs (reports/s):\n")
        add("| workers | daemon | ceiling |")
        add("| --- | --- | --- |")
        for workers in settings.workers:
            d_all = ", ".join(f"{r.rate:,.0f}" for r in tput.daemon[workers])
            c_all = ", ".join(f"{r.rate:,.0f}" for r in tput.ceiling[workers])
            add(f"| {workers} | {d_all} | {c_all} |")
        add("")
    shipped = tput.shipped
    budget_rate = BUDGET_REQUESTS / BUDGET_PERIOD
    if shipped is not None and shipped.start_to_all is not None:
        started = shipped.times[-1] - shipped.start_to_all  # the daemon's start, emulator clock
        gaps = [b - a for a, b in zip(shipped.times, shipped.times[1:], strict=False)]
        pause = max(range(len(gaps)), key=gaps.__getitem__)
        add(
            f"**As shipped** (`pywats-station run`, {TARGET_WORKERS} workers, "
            f"{shipped.reports} reports): the daemon's client keeps the library's default "
            f"budget of {BUDGET_REQUESTS} requests in any {BUDGET_PERIOD:g} s (WATS's limit; "
            "health checks, registration and the process sync share it), so it sends in bursts "
            "and waits for the window to move.\n"
        )
        add("| | |")
        add("| --- | --- |")
        add(f"| first report accepted | {shipped.times[0] - started:.2f} s after start |")
        add(
            f"| reports accepted before the longest pause | {pause + 1} "
            f"({shipped.rate_between(0, pause):,.0f}/s) |"
        )
        add(f"| longest pause between two reports | {gaps[pause]:.1f} s |")
        add(
            f"| last report accepted | {shipped.start_to_all:.1f} s after start "
            f"({shipped.reports / shipped.start_to_all:.1f} reports/s on average) |\n"
        )
    else:
        add("**As shipped** (with the client's rate limit): not measured in a `--quick` run.\n")
    add(
        f"At the budget, a backlog of {backlog.count:,} reports takes "
        f"{backlog.count / budget_rate / 60:,.0f} minutes to drain.\n"
    )

    add("## 2. Memory (VmRSS, VmHWM from /proc)\n")
    add(
        f"Idle figures after {settings.settle:g} s of rest (online: counted from the first "
        "`online` in the status file). Offline: the server URL is a port on which nothing "
        f"listens, so the backlog stays queued.\n"
    )
    add("| daemon | VmRSS | VmHWM (peak) |")
    add("| --- | --- | --- |")
    add(
        f"| idle, online, empty queue | {mib(rest.online.rss_kib):.1f} MiB | "
        f"{mib(rest.online.hwm_kib):.1f} MiB |"
    )
    add(
        f"| idle, offline, empty queue | {mib(empty.rss_kib):.1f} MiB | "
        f"{mib(empty.hwm_kib):.1f} MiB |"
    )
    add(
        f"| idle, offline, {backlog.count:,} queued | {mib(full.rss_kib):.1f} MiB | "
        f"{mib(full.hwm_kib):.1f} MiB |"
    )
    for workers in settings.workers:
        d = tput.best("daemon", workers)
        add(
            f"| uploading, {workers} workers (peak sampled every 50 ms) | "
            f"{mib(d.peak_rss_kib):.1f} MiB | {mib(d.hwm_kib):.1f} MiB |"
        )
    add(
        f"| predecessor's service, idle (documented, not measured) | {PREDECESSOR_IDLE_MB} MB | — |"
    )
    add("")
    fill_text = (
        f"filled in {backlog.fill_seconds:.1f} s with `fsync` off"
        if backlog.fill_seconds is not None
        else "reused from an earlier run"
    )
    add(
        f"The backlog: `{backlog.folder.relative_to(ROOT)}`, {backlog.count:,} entries, "
        f"{backlog.disk_bytes / 2**20:,.0f} MiB on disk, {fill_text}.\n"
    )

    add("## 3. Start-up: process creation to READY=1\n")
    add(
        "`NOTIFY_SOCKET` points at an `AF_UNIX` datagram socket of this script; the time runs "
        "from just before the process is created (interpreter start and imports included) to "
        "the arrival of `READY=1`. Offline, so nothing competes with the start-up.\n"
    )
    add("| queue | median | min | max | runs |")
    add("| --- | --- | --- | --- | --- |")
    for name, runs in (
        ("empty", rest.offline_empty),
        (f"{backlog.count:,} queued", rest.offline_backlog),
    ):
        values = [r.startup for r in runs]
        add(
            f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f} s | "
            f"{max(values):.2f} s | {len(values)} |"
        )
    add(f"| online, empty (the idle run) | {rest.online.startup:.2f} s | | | 1 |\n")

    add("## 4. SIGTERM to exit\n")
    add(
        f"Time from `SIGTERM` until the process is gone (`wait()` returns). The uploader may "
        f"finish uploads in flight for up to {DRAIN_TIMEOUT:g} s; when idle there are none.\n"
    )
    add("| daemon | SIGTERM to exit | exit code |")
    add("| --- | --- | --- |")
    add(f"| idle, online | {rest.online.exit_seconds:.2f} s | {rest.online.exit_code} |")
    add(f"| idle, offline, empty queue | {empty.exit_seconds:.2f} s | {empty.exit_code} |")
    add(
        f"| idle, offline, {backlog.count:,} queued | {full.exit_seconds:.2f} s | "
        f"{full.exit_code} |"
    )
    last = max((r for runs in tput.daemon.values() for r in runs), key=lambda r: r.exit_seconds)
    add(f"| after an upload run (slowest of all runs) | {last.exit_seconds:.2f} s | 0 |")
    add("| predecessor's service (documented, not measured) | never exits on SIGTERM | — |\n")

    add("## Notes\n")
    add(
        "- The emulator is one Python process (hypercorn on trio) that parses, validates and "
        "stores every report; a real WATS server answers differently. On a "
        f"{os.cpu_count()}-CPU machine the emulator, the daemon (or the direct client) and "
        "this script share the CPUs."
    )
    add(
        "- The daemon writes every report once (pre-filled here, with `fsync` in real use) and "
        "deletes it after upload; the direct client has no queue. The difference between the "
        "two is the price of the delivery guarantee plus the uploader's bookkeeping."
    )
    add(
        "- The throughput runs set `server.requests_per_minute = 0` (no client-side limit; "
        "WATS allows 500 a minute, the default, which would cap any run at 8.3 reports/s); "
        "both sides run without a limit. Memory, start-up and SIGTERM use the default."
    )
    add(
        "- Predecessor figures are quoted from the issue (its service idles at "
        f"{PREDECESSOR_IDLE_MB} MB and does not exit on SIGTERM); its service was not run here."
    )
    return "\n".join(out) + "\n"


def git(*args: str) -> str:
    """A git command's output in this repository (stripped).

    Raises:
        subprocess.CalledProcessError: git failed (not a checkout, unknown revision).
    """
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def export_commit(rev: str) -> tuple[str, Path]:
    """``pywats/`` and ``pywats_station/`` of ``rev`` in ``bench/.results`` (kept for reuse).

    Others may be half-way through editing the working tree: a commit is code that holds still.
    """
    sha = git("rev-parse", "--short=12", f"{rev}^{{commit}}")
    dest = RESULTS / f"station-code-{sha}"
    if not (dest / "pywats_station").is_dir():
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", sha, "pywats", "pywats_station"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    return sha, dest


def code_description() -> str:
    """Which code was measured: a commit (``--commit``) or the working tree."""
    import pywats_station

    where = Path(pywats_station.__file__).resolve().parent.parent
    sha = os.environ.get(CODE_ENV)
    if sha:
        return f"commit {sha} (`git archive` in `{where.relative_to(ROOT)}`)"
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--", "pywats", "pywats_station")
    except (OSError, subprocess.CalledProcessError):
        return f"`{where}` (not a git checkout)"
    changes = ", with uncommitted changes in pywats/ or pywats_station/" if dirty else ""
    return f"working tree at commit {head}{changes}"


def main(argv: list[str] | None = None) -> int:
    """Run the parts, print the report and write it to ``bench/.results/station.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few, small runs: a smoke run")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure the committed code of REV (exported to bench/.results) instead of the "
        "working tree",
    )
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench/station.py needs Linux (/proc, AF_UNIX notify socket)", file=sys.stderr)
        return 2
    if args.commit and CODE_ENV not in os.environ:
        sha, code = export_commit(args.commit)
        # Start again with the exported code first on the path, for this process and every
        # process it starts (emulator, daemons): nothing of the working tree is imported then.
        path = os.pathsep.join(p for p in (str(code), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, CODE_ENV: sha}
        again = [sys.executable, str(Path(__file__).resolve()), "--commit", sha]
        os.execve(sys.executable, again + (["--quick"] if args.quick else []), env)
    settings = QUICK if args.quick else FULL
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.perf_counter()

    reports = Reports()
    print("backlog…", file=sys.stderr)
    backlog = ensure_backlog(settings.backlog, reports)
    procs = Processes()
    emulator = Emulator()
    try:
        print("1. throughput…", file=sys.stderr)
        tput = bench_throughput(procs, emulator, reports, settings)
        print("2-4. memory, start-up, SIGTERM…", file=sys.stderr)
        rest = bench_resting(procs, emulator, backlog, settings)
    finally:
        procs.kill_all()
        emulator.close()

    report = render(settings, args.quick, reports, backlog, tput, rest)
    (RESULTS / "station.md").write_text(report, encoding="utf-8")
    print(report)
    print(
        f"({time.perf_counter() - started:.0f} s; written to {RESULTS / 'station.md'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start the real ``pywats-station`` daemon against the emulator over TCP, for the benchmarks.

Shared by :mod:`bench.idle` and :mod:`bench.latency`: a home folder with a config of ``n`` WSJF
converters (one watch folder each), the daemon process, and what ``/proc`` says about it.
Linux only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.paths import HOME_ENV, instance_paths
from pywats_station.status import status_file

TOKEN = "bench-frugal-token"
INSTANCE = "default"


@dataclass
class Daemon:
    """A running daemon: its process, home folder and watch folders."""

    process: subprocess.Popen[bytes]
    home: Path
    inboxes: list[Path]

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self) -> dict[str, object]:
        """The status file the daemon writes (empty until it has written one)."""
        path = status_file(instance_paths(INSTANCE, env={HOME_ENV: str(self.home)}))
        try:
            data: dict[str, object] = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data


def write_config(home: Path, server: EmulatorProcess, converters: int, settle: float) -> list[Path]:
    """The daemon's config as shipped, plus ``converters`` WSJF converters; their inboxes."""
    inboxes = [home / f"inbox-{i}" for i in range(converters)]
    lines = [
        "[server]",
        f'url = "{server.url}"',
        "[station]",
        'name = "bench-frugal"',
        'location = "Lab"',
        "[control]",
        'listen = "127.0.0.1:0"',
    ]
    for i, inbox in enumerate(inboxes):
        inbox.mkdir(parents=True, exist_ok=True)
        lines += [
            "[[converters]]",
            f'name = "wsjf-{i}"',
            'kind = "wsjf"',
            f'watch = "{inbox}"',
            f"settle = {settle}",
            'post_action = "delete"',
        ]
    config = home / "config" / INSTANCE / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return inboxes


@contextmanager
def emulator() -> Iterator[EmulatorProcess]:
    server = start_emulator(token=TOKEN)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def daemon(
    home: Path, server: EmulatorProcess, converters: int, *, settle: float = 2.0
) -> Iterator[Daemon]:
    """Run the daemon until the block ends; it is online and watching when the block starts."""
    inboxes = write_config(home, server, converters, settle)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    env.update(
        {
            "PYWATS_STATION_HOME": str(home),
            "PYWATS_API_TOKEN": server.token,
            "PYWATS_INSTANCE": INSTANCE,
        }
    )
    log = open(home / "daemon.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "pywats_station", "run"], env=env, stdout=log, stderr=log
    )
    running = Daemon(process, home, inboxes)
    try:
        deadline = time.monotonic() + 60.0
        while not _ready(running, converters):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not come up; see {home / 'daemon.log'}")
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _ready(running: Daemon, converters: int) -> bool:
    status = running.status()
    if status.get("connection") != "online":
        return False
    found = status.get("converters")
    if not isinstance(found, list) or len(found) != converters:
        return False
    return all(isinstance(c, dict) and c.get("state") == "watching" for c in found)


def context_switches(pid: int) -> dict[int, tuple[int, int]]:
    """Each live thread's (voluntary, involuntary) context switches so far, by thread id."""
    found: dict[int, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # the thread ended while we looked
        counts = dict(line.split(":", 1) for line in text.splitlines() if "ctxt_switches" in line)
        found[int(task.name)] = (
            int(counts["voluntary_ctxt_switches"]),
            int(counts["nonvoluntary_ctxt_switches"]),
        )
    return found


def thread_names(pid: int) -> dict[int, str]:
    names: dict[int, str] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            names[int(task.name)] = (task / "comm").read_text().strip()
        except OSError:
            continue
    return names


def threads(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all threads) so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")

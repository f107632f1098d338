"""Run the real ``pywats-station`` process against the emulator over TCP, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf
from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.queue import ReportQueue

TOKEN = "station-e2e-token"


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def make_report(n: int, *, process_code: int = 10) -> tuple[str, bytes]:
    """A small valid test report as (id, WSJF bytes)."""
    b = ReportBuilder.uut(
        pn="E2E-PN",
        sn=f"E2E-{n:06d}",
        rev="A",
        process_code=process_code,
        station="E2E",
        location="Lab",
        purpose="Test",
    )
    b.root.numeric("Voltage", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
    report = b.build()
    return str(report.id), wsjf.dumps(report)


@dataclass
class Station:
    """One station instance: its home folder, config and (when running) its process."""

    home: Path
    server: EmulatorProcess
    instance: str = "default"
    workers: int = 4
    process: subprocess.Popen[str] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        env.update(
            {
                "PYWATS_STATION_HOME": str(self.home),
                "PYWATS_API_TOKEN": self.server.token,
                "PYWATS_INSTANCE": self.instance,
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    @property
    def queue_dir(self) -> Path:
        return self.home / "state" / self.instance / "queue"

    def write_config(self, converters: str = "", *, control: str = "", **extra: str) -> None:
        """Write the instance's config; ``control``: more lines for ``[control]``."""
        path = self.home / "config" / self.instance / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "[server]",
            f'url = "{self.server.url}"',
            "timeout = 5.0",
            "[station]",
            f'name = "e2e-{self.instance}"',
            'location = "Lab"',
            "[queue]",
            f"upload_workers = {self.workers}",
            # Any free port: stations of parallel tests (and a real one) never collide.
            "[control]",
            'listen = "127.0.0.1:0"',
            control,
            "[connection]",
            "check_interval = 1.0",
        ]
        lines += [f"{k} = {v}" for k, v in extra.items()]
        path.write_text("\n".join(lines) + "\n" + converters, encoding="utf-8")

    @property
    def config_dir(self) -> Path:
        return self.home / "config" / self.instance

    def enqueue(self, reports: list[tuple[str, bytes]]) -> None:
        """Put reports in the queue (the daemon must not be running: it holds the lock)."""
        with ReportQueue.open(self.queue_dir, fsync=False) as queue:
            for report_id, data in reports:
                queue.put(report_id, data, source="e2e")

    def cli(
        self, *args: str, check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``pywats-station ARGS`` for this instance (``input_text`` on its stdin)."""
        return subprocess.run(
            [sys.executable, "-m", "pywats_station", *args],
            env=self.env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def status(self) -> dict[str, Any]:
        """``status --json``; while the daemon is starting (it holds the queue but has not
        written its status yet) it is asked again, so callers always get a whole status."""
        deadline = time.monotonic() + 30.0
        while True:
            # Not checked: status exits 9 (not healthy) or 10 (not running) with its JSON.
            done = self.cli("status", "--json", check=False)
            data: dict[str, Any] = json.loads(done.stdout)
            if not data.get("starting") or time.monotonic() > deadline:
                return data
            time.sleep(0.05)

    def control_url(self, timeout: float = 30.0) -> str:
        """Where the running daemon's control channel listens (from its status file)."""
        found: list[str] = []

        def listening() -> bool:
            control = self.status().get("control") or {}
            if control.get("state") == "listening":
                found.append(control["url"])
            return bool(found)

        wait_for(listening, timeout, what="the control channel")
        return found[0]

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        log = self.home / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pywats_station", "run"],
                env={**self.env, **(extra_env or {})},
                stdout=handle,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def server_ids(server: EmulatorProcess) -> list[str]:
    with server.admin() as admin:
        answer = admin.get("/_emulator/reports")
        answer.raise_for_status()
        ids: list[str] = answer.json()["ids"]
        return ids


def server_log(server: EmulatorProcess) -> list[dict[str, Any]]:
    with server.admin() as admin:
        entries: list[dict[str, Any]] = admin.get("/_emulator/log").json()
        return entries


def add_fault(server: EmulatorProcess, **fault: Any) -> None:
    with server.admin() as admin:
        admin.post("/_emulator/faults", json=fault).raise_for_status()


@contextmanager
def emulator(**kwargs: Any) -> Iterator[EmulatorProcess]:
    server = start_emulator(token=TOKEN, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def count_reports(server: EmulatorProcess) -> int:
    try:
        return len(server_ids(server))
    except httpx.HTTPError:
        return -1

"""Strangers holding connections to the daemon's control port: does the daemon's memory stay put?

Run with the project's venv: ``.venv/bin/python bench/control_flood.py`` (``--quick`` for a
smoke run; ``--connections``, ``--hold``).

The real ``pywats-station run`` process, started with a service's default open-file limit
(1024, soft and hard: it cannot raise its way out), against the emulator. This process then
opens ``--connections`` TCP connections to the control port at once and holds them for
``--hold`` seconds, in two rounds:

* **silent**: connect, say nothing (what exhausted the descriptors before: ~1,100 of them ended
  the process);
* **partial**: connect and send half a websocket handshake (past ``TCP_DEFER_ACCEPT``: these
  reach the pool of pending handshakes at once; 19,900 of them took RSS from 69 to 282 MB).

Meanwhile a client with the token connects afresh every second and asks ``station.status``.
The daemon's VmRSS and open descriptors are read from ``/proc`` every half second.

Target (the issue's): RSS within a few MB of idle while 20,000 connections are in flight, and
every probe answered. The report is printed and written to ``bench/.results/control-flood.md``.
A benchmark, not a test: the exit status is non-zero only when something crashed. Linux only.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import trio
from station import RESULTS, Daemon, Emulator, mib, proc_status_kib, wait_for

from pywats_station.control import ControlError, open_control_client, read_control_token

WORK = RESULTS / "control-flood-work"
SERVICE_NOFILE = 1024
TARGET_GROWTH_MIB = 5.0
HALF_HANDSHAKE = b"GET / HTTP/1.1\r\nHost: station\r\nUpgrade: websocket\r\n"


@dataclass
class Round:
    """One flood: what was held, what the daemon did."""

    mode: str
    wanted: int
    opened: int = 0
    failed: int = 0
    closed_by_daemon: int = 0
    rss_before_kib: int = 0
    rss_peak_kib: int = 0
    rss_after_kib: int = 0
    fds_peak: int = 0
    steady: int = 0
    steady_failed: int = 0
    probes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def fds(pid: int) -> int:
    """Open descriptors of ``pid``."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def service_limits() -> None:  # runs in the child before exec
    """A service's default open-file limit, hard too."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVICE_NOFILE, SERVICE_NOFILE))


def start(daemon: Daemon) -> None:
    """Start the daemon as ``Daemon.start`` does, with a service's descriptor limit."""
    daemon.write_config()
    with open(daemon.log, "ab") as handle:
        daemon.process = subprocess.Popen(
            [sys.executable, "-m", "pywats_station", "run"],
            env=daemon.env(None),
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=daemon.home,
            preexec_fn=service_limits,
        )


async def hold(
    host: str, port: int, mode: str, tally: Round, done: trio.Event, gate: trio.Semaphore
) -> None:
    """One stranger's connection, held until ``done``."""
    async with gate:  # at most so many connects in progress at once
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            tally.failed += 1
            return
    tally.opened += 1
    async with stream:
        if mode == "partial":
            try:
                await stream.send_all(HALF_HANDSHAKE)
            except trio.BrokenResourceError:
                tally.closed_by_daemon += 1
                return
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                try:
                    data = await stream.receive_some()
                except trio.BrokenResourceError:
                    data = b""
                if data == b"":
                    tally.closed_by_daemon += 1
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            await done.wait()
            nursery.cancel_scope.cancel()


async def flood(
    daemon: Daemon, url: str, token: str, mode: str, count: int, seconds: float
) -> Round:
    """Hold ``count`` connections for ``seconds``; sample the daemon meanwhile."""
    parts = urlsplit(url)
    host, port = str(parts.hostname), int(parts.port or 0)
    pid = daemon.pid
    tally = Round(mode, count)
    tally.rss_before_kib = tally.rss_peak_kib = proc_status_kib(pid, "VmRSS")
    done = trio.Event()
    gate = trio.Semaphore(512)
    started = time.perf_counter()
    async with (
        open_control_client(url, token=token) as steady,
        trio.open_nursery() as nursery,
    ):
        for _ in range(count):
            nursery.start_soon(hold, host, port, mode, tally, done, gate)
        next_probe = 0.0
        while time.perf_counter() - started < seconds and daemon.running():
            tally.rss_peak_kib = max(tally.rss_peak_kib, proc_status_kib(pid, "VmRSS"))
            tally.fds_peak = max(tally.fds_peak, fds(pid))
            try:
                with trio.fail_after(10):  # a client connected before keeps its answers
                    await steady.call("station.status")
                tally.steady += 1
            except (ControlError, trio.TooSlowError):
                tally.steady_failed += 1
            if time.perf_counter() >= next_probe:
                next_probe = time.perf_counter() + 1.0
                try:
                    with trio.fail_after(10):
                        async with open_control_client(url, token=token) as client:
                            await client.call("station.status")
                    tally.probes["answered"] += 1
                except ControlError as exc:
                    tally.probes[exc.message] += 1
                except trio.TooSlowError:
                    tally.probes["no answer within 10 s"] += 1
            await trio.sleep(0.5)
        done.set()
    tally.seconds = time.perf_counter() - started
    await trio.sleep(5)  # let the daemon settle
    tally.rss_after_kib = proc_status_kib(pid, "VmRSS") if daemon.running() else 0
    return tally


def render(rounds: list[Round], idle_kib: int, alive: bool) -> str:
    """The report (markdown)."""
    lines = [
        "# Control port flood",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `bench/control_flood.py`; the daemon at "
        f"{SERVICE_NOFILE} open files (soft and hard), idle VmRSS {mib(idle_kib):.1f} MiB.",
        "",
        "| round | held | opened | closed by the daemon | VmRSS before | peak | after | "
        "peak fds | connected client | new clients |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    failures: list[str] = []
    for r in rounds:
        probes = sum(r.probes.values())
        lines.append(
            f"| {r.mode} | {r.wanted:,} for {r.seconds:.0f} s | {r.opened:,} | "
            f"{r.closed_by_daemon:,} | {mib(r.rss_before_kib):.1f} MiB | "
            f"{mib(r.rss_peak_kib):.1f} MiB (+{mib(r.rss_peak_kib - r.rss_before_kib):.1f}) | "
            f"{mib(r.rss_after_kib):.1f} MiB | {r.fds_peak} | "
            f"{r.steady}/{r.steady + r.steady_failed} answered | "
            f"{r.probes['answered']}/{probes} answered |"
        )
        failures += [
            f"{r.mode}: {n} x {what}" for what, n in r.probes.items() if what != "answered"
        ]
    worst = max((r.rss_peak_kib - r.rss_before_kib for r in rounds), default=0)
    verdict = "met" if alive and mib(worst) <= TARGET_GROWTH_MIB else "NOT met"
    lines += [
        "",
        f"Target: RSS within {TARGET_GROWTH_MIB:.0f} MiB of idle, daemon alive: **{verdict}** "
        f"(worst growth {mib(worst):.1f} MiB, daemon {'alive' if alive else 'DEAD'}).",
        "",
        "A client connected before the flood is asked `station.status` twice a second; a new",
        "client connects once a second (the Python client tries a handshake the daemon closed",
        "unanswered again, up to 3 times). New clients that failed: "
        + ("; ".join(failures) if failures else "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


async def run(connections: int, hold_seconds: float) -> int:
    """The whole benchmark."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = hard if hard != resource.RLIM_INFINITY else connections + 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (room, hard))
    connections = min(connections, room - 256)
    emulator = Emulator()
    WORK.mkdir(parents=True, exist_ok=True)
    daemon = Daemon(WORK / f"home-{os.getpid()}", emulator.url)
    daemon.home.mkdir(parents=True)
    try:
        start(daemon)
        wait_for(
            lambda: daemon.status().get("control", {}).get("state") == "listening",
            60,
            "the control channel",
            daemon,
        )
        url = daemon.status()["control"]["url"]
        token = read_control_token(daemon.paths.control_token_file)
        await trio.sleep(3)
        idle = proc_status_kib(daemon.pid, "VmRSS")
        rounds = []
        for mode in ("silent", "partial"):
            print(f"{mode}: {connections:,} connections for {hold_seconds:.0f} s ...", flush=True)
            rounds.append(await flood(daemon, url, token, mode, connections, hold_seconds))
            if not daemon.running():
                print(f"the daemon died:\n{daemon.log_tail()}")
                break
        alive = daemon.running()
        report = render(rounds, idle, alive)
        print(report)
        (RESULTS / "control-flood.md").write_text(report, encoding="utf-8")
        return 0 if alive else 1
    finally:
        if daemon.running():
            daemon.terminate()
        emulator.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def main(argv: list[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="bench/control_flood.py")
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--hold", type=float, default=40.0, help="seconds each round holds them")
    parser.add_argument("--quick", action="store_true", help="2,000 connections for 15 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.connections, args.hold = 2000, 15.0
    return trio.run(run, args.connections, args.hold)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark ``pywats-tui`` as a person runs it: a whole process in a real pseudo-terminal.

Run with the project's venv: ``.venv/bin/python bench/tui.py`` (``--quick``: fewer runs).

Against a real daemon (``pywats-station run``) and the emulator, both their own processes:

1. start-up: from creating the ``pywats-tui`` process to the dashboard painted on the
   terminal (its frame: the station bar names the screen) and to the station's data painted
   (the station's server URL in the Server panel), at 80x24; then Ctrl+Q to exit;
2. the TUI's own CPU while it shows a station at rest, and while the station is busy (test
   reports sent through it continuously, so report events, counters and log records stream
   to the TUI), each over ``--seconds``; and its memory (VmRSS) at the end.

The report is printed and written to ``bench/.results/tui.md``. A benchmark, not a test: it
exits non-zero only when something crashed. Linux only (``/proc``, ptys).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from station import RESULTS, Emulator, Processes, cpu_seconds, mib, proc_status_kib, wait_for

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf

WORK = RESULTS / "tui-work"


class Terminal:
    """A process on the slave side of a pty of a given size; its output is collected."""

    def __init__(self, argv: list[str], cols: int = 80, rows: int = 24) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        env.pop("TEXTUAL_ANIMATIONS", None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()

    def read_until(self, needle: bytes, timeout: float) -> float:
        """Read until ``needle`` was printed; the seconds since the process was created."""
        deadline = time.perf_counter() + timeout
        while needle not in self.output:
            left = deadline - time.perf_counter()
            if left <= 0 or self.process.poll() is not None:
                tail = self.output[-400:].decode(errors="replace")
                raise RuntimeError(f"no {needle!r} within {timeout} s; last output: {tail!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    break
        return time.perf_counter() - self.started

    def drain(self) -> None:
        """Keep reading (a terminal that is not read blocks the writer) until closed."""

        def run() -> None:
            while True:
                try:
                    if not os.read(self.master, 65536):
                        return
                except OSError:
                    return

        threading.Thread(target=run, daemon=True).start()

    def quit(self) -> int:
        os.write(self.master, b"\x11")  # Ctrl+Q
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


def tui_argv(url: str, token_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pywats_station.tui",
        "--url",
        url,
        "--token-file",
        str(token_file),
    ]


def drop_files(folder: Path, per_second: float, stop: threading.Event, counter: list[int]) -> None:
    """WSJF files into the station's watch folder at ``per_second`` until ``stop``: each is
    converted, queued and uploaded, so every kind of event streams to the TUI."""
    while not stop.is_set():
        report = ReportBuilder.uut(
            pn="BENCH-TUI",
            sn=f"SN-{counter[0]:07d}",
            rev="A",
            process_code=10,
            station="bench",
            location="Lab",
            purpose="Test",
        )
        report.root.numeric("Voltage", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
        temp = folder / f".{counter[0]}.tmp"
        temp.write_bytes(wsjf.dumps(report.build()))
        temp.rename(folder / f"r{counter[0]}.json")
        counter[0] += 1
        stop.wait(1 / per_second)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/tui.py")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="files per second when busy")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 3, 10.0
    procs = Processes()
    emulator = Emulator()
    try:
        drop = WORK / "drop"
        daemon = procs.new(
            WORK / "station",
            emulator.url,
            unthrottled=True,
            extra_config=f'[[converters]]\nname = "drop"\nkind = "wsjf"\nwatch = "{drop}"\n',
        )
        drop.mkdir(parents=True, exist_ok=True)
        daemon.start()
        daemon.wait_online()
        wait_for(
            lambda: (daemon.status().get("control") or {}).get("state") == "listening",
            30,
            "the control channel",
            daemon,
        )
        url = str(daemon.status()["control"]["url"])
        token_file = daemon.paths.control_token_file
        server = emulator.url.encode()

        frame, data = [], []
        for _ in range(args.runs):
            term = Terminal(tui_argv(url, token_file))
            frame.append(term.read_until(b"Uploads/min", 30))
            data.append(term.read_until(server[:30], 30))
            term.quit()

        term = Terminal(tui_argv(url, token_file))
        term.read_until(server[:30], 30)
        term.drain()
        time.sleep(2.0)  # past start-up
        pid = term.process.pid
        cpu0 = cpu_seconds(pid)
        time.sleep(args.seconds)
        idle_cpu = (cpu_seconds(pid) - cpu0) / args.seconds
        stop, sent = threading.Event(), [0]
        sender = threading.Thread(
            target=drop_files, args=(drop, args.rate, stop, sent), daemon=True
        )
        sender.start()
        time.sleep(2.0)
        cpu0, d0, s0 = cpu_seconds(pid), cpu_seconds(daemon.pid), sent[0]
        time.sleep(args.seconds)
        busy_cpu = (cpu_seconds(pid) - cpu0) / args.seconds
        daemon_cpu = (cpu_seconds(daemon.pid) - d0) / args.seconds
        rate = (sent[0] - s0) / args.seconds
        stop.set()
        sender.join(30)
        rss = mib(proc_status_kib(pid, "VmRSS"))
        term.quit()
    finally:
        procs.kill_all()
        emulator.close()

    lines = [
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
        f"| start to dashboard frame (s, {args.runs} runs) | {statistics.median(frame):.2f} | "
        f"{min(frame):.2f} | {max(frame):.2f} |",
        f"| start to the station's data (s) | {statistics.median(data):.2f} | "
        f"{min(data):.2f} | {max(data):.2f} |",
        "",
        "| the TUI's CPU (one core = 100 %) | value |",
        "|---|---:|",
        f"| station at rest, {args.seconds:.0f} s | {idle_cpu * 100:.1f} % |",
        f"| station busy ({rate:.0f} files/s converted and uploaded), {args.seconds:.0f} s | "
        f"{busy_cpu * 100:.1f} % (the daemon: {daemon_cpu * 100:.0f} %) |",
        f"| the TUI's memory at the end (VmRSS) | {rss:.1f} MiB |",
    ]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tui.md").write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

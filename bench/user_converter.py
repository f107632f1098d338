"""CPU per report of a user converter in the real daemon, beside the same code run in-process.

Run with the project's venv: ``.venv/bin/python bench/user_converter.py`` (``--files 200``,
``--modes user,in-process``). For each mode it starts the real ``pywats-station run`` against
the emulator over TCP with one converter of ``config-examples/converters/line_tester.py``
(the complete example: 15-line LT200 logs) and measures:

* ``user``: the converter configured as users do (``kind = ".../line_tester.py"``): it runs in
  the sandbox (a child process);
* ``in-process``: the same class registered as a built-in before the daemon starts (what
  the converter would cost if it were one of the station's own): no child at all.

Each run drops 5 logs first (warm-up: the sandbox worker starts, the connection opens), waits
for their reports on the server, then drops ``--files`` logs at once (each written under a
temporary name and renamed in) and waits until the server holds all of them. CPU is the
daemon's user + system time over the timed part, plus its children's: those it has reaped
(``cutime``/``cstime`` of ``/proc/<pid>/stat``) and those still running (the warm worker and
whatever it started, from their own ``/proc/<pid>/stat``). The emulator's CPU is not counted.
The client's request budget is turned off (``requests_per_minute = 0``) so that the run is not
paced by it; ``post_action = "delete"``, ``settle = 0.2``.

Linux only (``/proc``). A benchmark, not a test: it prints a table and exits 0, non-zero only
when a run failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.paths import HOME_ENV, instance_paths
from pywats_station.status import status_file

ROOT = Path(__file__).resolve().parents[1]
CONVERTER = ROOT / "config-examples" / "converters" / "line_tester.py"
TOKEN = "bench-user-converter"
WARM_UP = 5
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

LOG = """LT200 RESULT v2
serial: PSU-{n:05d}
product: PSU-48V-200 rev C
operator: anna.berg
started: 2024-05-02 14:03:11
---
3V3 rail | 3.312 V | 3.2..3.4
5V rail | 5.02 V | 4.9..5.1
Ripple | 0.021 V | ..0.05
Idle current | 0.41 A
Fan | PASS
Firmware | 1.4.2 | =1.4.2
---
verdict: PASS
end
"""

# Runs the daemon with the example registered as a built-in (same code, in-process).
IN_PROCESS = """
import sys
from pywats_station.converters import registry
registry.BUILTINS["line_tester"] = registry.load_converter(sys.argv[1])
from pywats_station.cli import main
raise SystemExit(main(["run"]))
"""


@dataclass
class Result:
    mode: str
    files: int
    seconds: float
    cpu: float  # daemon + children, seconds
    daemon_cpu: float
    children_cpu: float

    @property
    def ms_per_report(self) -> float:
        return self.cpu / self.files * 1000


def stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu(pid: int) -> tuple[float, float]:
    """(the daemon's own CPU seconds, its children's: reaped ones and live ones)."""
    fields = stat_fields(pid)
    own = (int(fields[11]) + int(fields[12])) / TICK
    reaped = (int(fields[13]) + int(fields[14])) / TICK
    live = 0.0
    for child in descendants(pid):
        try:
            f = stat_fields(child)
        except OSError:
            continue  # ended meanwhile: its time moves to the reaped count (a small miss)
        live += (int(f[11]) + int(f[12])) / TICK
    return own, reaped + live


def server_count(server: EmulatorProcess) -> int:
    with server.admin() as admin:
        answer = admin.get("/_emulator/reports")
        answer.raise_for_status()
        return len(answer.json()["ids"])


def wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def write_config(home: Path, server: EmulatorProcess, inbox: Path, kind: str) -> None:
    lines = [
        "[server]",
        f'url = "{server.url}"',
        "requests_per_minute = 0",
        "[station]",
        'name = "bench-user-converter"',
        'location = "Lab"',
        "[control]",
        'listen = "127.0.0.1:0"',
        "[[converters]]",
        'name = "line-tester"',
        f'kind = "{kind}"',
        f'watch = "{inbox}"',
        'patterns = ["*.log"]',
        "settle = 0.2",
        'post_action = "delete"',
        "[converters.arguments]",
        'process = "PCBA test"',
    ]
    config = home / "config" / "default" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def drop(inbox: Path, staging: Path, first: int, count: int) -> None:
    for n in range(first, first + count):
        path = staging / f"unit-{n:05d}.log"
        path.write_text(LOG.format(n=n), encoding="utf-8")
        path.rename(inbox / path.name)


def run_mode(mode: str, files: int, work: Path) -> Result:
    home, inbox, staging = (work / mode / name for name in ("home", "inbox", "staging"))
    for folder in (home, inbox, staging):
        folder.mkdir(parents=True)
    server = start_emulator(token=TOKEN)
    try:
        kind = str(CONVERTER) if mode == "user" else "line_tester"
        write_config(home, server, inbox, kind)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        env.update({HOME_ENV: str(home), "PYWATS_API_TOKEN": TOKEN, "PYWATS_INSTANCE": "default"})
        if mode == "user":
            command = [sys.executable, "-m", "pywats_station", "run"]
        else:
            command = [sys.executable, "-c", IN_PROCESS, str(CONVERTER)]
        log = open(home / "daemon.log", "wb")  # noqa: SIM115 - closed below
        daemon = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            status = status_file(instance_paths("default", env={HOME_ENV: str(home)}))

            def watching() -> bool:
                try:
                    text = status.read_text()
                except OSError:
                    return False
                return '"online"' in text and '"watching"' in text

            wait(watching, 60, "the daemon to watch its folder")
            drop(inbox, staging, 0, WARM_UP)
            wait(lambda: server_count(server) == WARM_UP, 60, "the warm-up reports")
            own0, kids0 = cpu(daemon.pid)
            t0 = time.monotonic()
            drop(inbox, staging, WARM_UP, files)
            wait(lambda: server_count(server) == WARM_UP + files, 600, "the reports")
            seconds = time.monotonic() - t0
            own1, kids1 = cpu(daemon.pid)
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            log.close()
    finally:
        server.stop()
    own, kids = own1 - own0, kids1 - kids0
    return Result(mode, files, seconds, own + kids, own, kids)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {model or 'unknown CPU'}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--modes", default="user,in-process")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the median is shown")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        print("Linux only (/proc)")
        return 0
    work = Path(tempfile.mkdtemp(prefix="pywats-bench-user-"))
    results: list[Result] = []
    runs: dict[str, list[Result]] = {}
    try:
        modes = [mode.strip() for mode in args.modes.split(",")]
        runs.update({mode: [] for mode in modes})
        for i in range(args.repeat):  # the modes take turns: a change of load hits both
            for mode in modes:
                runs[mode].append(run_mode(mode, args.files, work / str(i)))
        for mode in modes:
            ordered = sorted(runs[mode], key=lambda r: r.cpu)
            each = ", ".join(f"{r.ms_per_report:.2f}" for r in runs[mode])
            print(f"{mode}: CPU ms/report of each run: {each}")
            results.append(ordered[len(ordered) // 2])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {machine()}")
    print(
        f"{args.files} LT200 logs (15 lines) through line_tester.py, daemon + children CPU "
        f"(median of {args.repeat} runs)"
    )
    print(
        f"{'mode':<11} {'seconds':>8} {'files/s':>8} {'CPU ms/report':>14} "
        f"{'daemon':>8} {'children':>9}"
    )
    for r in results:
        print(
            f"{r.mode:<11} {r.seconds:>8.2f} {r.files / r.seconds:>8.1f} {r.ms_per_report:>14.2f} "
            f"{r.daemon_cpu / r.files * 1000:>8.2f} {r.children_cpu / r.files * 1000:>9.2f}"
        )
    by_mode = {r.mode: r for r in results}
    if "user" in by_mode and "in-process" in by_mode:
        extra = by_mode["user"].ms_per_report - by_mode["in-process"].ms_per_report
        pairs = sorted(
            u.ms_per_report - p.ms_per_report
            for u, p in zip(runs["user"], runs["in-process"], strict=True)
        )
        print(
            f"user converter extra CPU per report: {extra:.2f} ms (medians); run by run: "
            + ", ".join(f"{d:.2f}" for d in pairs)
            + f" (median {pairs[len(pairs) // 2]:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

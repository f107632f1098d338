"""``pywats-station demo``: the whole station on the embedded emulator, in one command.

It starts the emulated WATS server on a free loopback port, writes a station configuration with a
WSJF, a CSV and an ``auto`` converter watching demo folders, runs the real daemon, and drops
sample files into the folders (written in chunks, as test equipment does, some with failing units,
one broken). The ``equipment`` folder gets real files of real test equipment (ATML, TestStand, a
Teradyne ICT log, TAKAYA, XJTAG: ``demo_samples/``, provenance in its ``NOTICE``), each read by
the built-in that recognises it. Progress is shown live, and the command that opens
``pywats-tui`` on the demo station once its control channel listens. It runs until Ctrl-C (or
SIGTERM); with ``--duration`` it stops by itself. Then it waits for the queue to drain and
prints what the equipment files became and ``N reports uploaded``.
"""

from __future__ import annotations

import collections
import importlib.resources
import math
import os
import random
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import trio

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf
from pywats.testing import FakeWATS
from pywats.testing._serve import serve as serve_emulator
from pywats_station.converters.builtin.auto import MISC_DESCRIPTION
from pywats_station.daemon import Daemon, run_daemon
from pywats_station.paths import instance_paths

__all__ = ["run_demo", "tui_command"]

FOLDERS = ("wsjf", "csv", "equipment")
# Real equipment files shipped with the package: (file in demo_samples/, the name its tester
# writes it under). Each is dropped once: dropped again, it would make the same reports.
EQUIPMENT = (
    ("TSWithWats.xml", "TSWithWats.xml"),
    ("43420_BIO2.LOG", "43420_BIO2.LOG"),
    (
        "ATML-2.02-[123456789][2-30-27-PM][5-15-2019].XML",
        "ATML 2.02 [123456789][2 30 27 PM][5 15 2019].XML",
    ),
    ("11111-BV0001-(AT33).ATD", "11111-BV0001 (AT33).ATD"),
    ("1234_14_25_32_10.08.2018_Pass.xjlog", "1234_14_25_32_10.08.2018_Pass.xjlog"),
)
_DRAIN = 20.0  # seconds allowed for the last reports to upload once the duration is over


def _config(url: str, inbox: Path, token_file: Path) -> str:
    return f"""# Written by `pywats-station demo`.
[server]
url = "{url}"
token_file = "{token_file}"

[station]
name = "demo-station"
location = "Demo lab"
purpose = "Development"

[connection]
check_interval = 2.0

[control]
listen = "127.0.0.1:0"  # any free port: a station on this machine keeps its own

[[converters]]
name = "wsjf"
kind = "wsjf"
watch = "{inbox / "wsjf"}"
settle = 0.5

[[converters]]
name = "csv"
kind = "csv"
watch = "{inbox / "csv"}"
patterns = ["*.csv"]
settle = 0.5

[converters.arguments]
layout = "units"
part_number = "PSU-12"
process_code = 50
measurements = [
  {{column = "V_3V3", name = "3V3 rail", low = 3.2, high = 3.4, comp = "GELE", unit = "V"}},
  {{column = "V_5V0", name = "5V rail", low = 4.9, high = 5.1, comp = "GELE", unit = "V"}},
  {{column = "FW", type = "string", limit = "1.4.2"}},
]

# Real test equipment's files, each read by the built-in that recognises it.
[[converters]]
name = "equipment"
kind = "auto"
watch = "{inbox / "equipment"}"
settle = 0.5
"""


def _wsjf_sample(n: int, rng: random.Random) -> bytes:
    b = ReportBuilder.uut(
        pn="DEMO-BOARD",
        sn=f"DEMO-{n:05d}",
        rev="B",
        process_code=10,
        station="demo-station",
        location="Demo lab",
        purpose="Development",
        operator="demo",
    )
    power = b.root.sequence("Power")
    power.numeric(
        "3V3 rail", round(rng.gauss(3.3, 0.04), 3), CompOp.GELE, low=3.2, high=3.4, unit="V"
    )
    power.numeric("Ripple", round(abs(rng.gauss(0.02, 0.012)), 4), CompOp.LE, low=0.05, unit="V")
    b.root.pass_fail("LED check", rng.random() > 0.05)
    b.root.string("Firmware", "1.4.2", CompOp.CASESENSIT, limit="1.4.2")
    return wsjf.dumps(b.build())


def _csv_sample(first: int, rng: random.Random) -> bytes:
    rows = ["Serial\tRev\tOperator\tV_3V3\tV_5V0\tFW\tResult"]
    for n in range(first, first + 3):
        v33, v50 = rng.gauss(3.3, 0.05), rng.gauss(5.0, 0.04)
        ok = 3.2 <= v33 <= 3.4 and 4.9 <= v50 <= 5.1
        rows.append(
            f"CSV-{n:05d}\tB\tdemo\t{v33:.3f}\t{v50:.3f}\t1.4.2\t{'PASS' if ok else 'FAIL'}"
        )
    return ("\n".join(rows) + "\n").encode()


async def _write_slowly(path: Path, data: bytes) -> None:
    """Write in chunks under a temporary name, then rename: the way most equipment does it."""
    tmp = path.with_name("." + path.name + ".part")
    with open(tmp, "wb") as handle:  # noqa: ASYNC230 - tiny writes, paced on purpose
        step = max(1, len(data) // 3)
        for i in range(0, len(data), step):
            handle.write(data[i : i + step])
            handle.flush()
            await trio.sleep(0.05)
    os.replace(tmp, path)


def _equipment_sample(name: str) -> bytes:
    return importlib.resources.files("pywats_station").joinpath("demo_samples", name).read_bytes()


async def _drop_samples(inbox: Path, stop: Callable[[], bool], rng: random.Random) -> None:
    n = 0
    equipment = list(EQUIPMENT)
    while not stop():
        n += 1
        if n % 4 == 0:
            await _write_slowly(inbox / "csv" / f"line-{n:04d}.csv", _csv_sample(n * 10, rng))
        else:
            await _write_slowly(inbox / "wsjf" / f"uut-{n:04d}.json", _wsjf_sample(n, rng))
        if n % 2 == 1 and equipment:
            sample, name = equipment.pop(0)
            await _write_slowly(inbox / "equipment" / name, _equipment_sample(sample))
        if n == 6:  # one broken file, to show the error folder
            (inbox / "wsjf" / "broken.json").write_bytes(b'{"type": "T", "pn": ')
        await trio.sleep(0.6)


def _progress(daemon: Daemon, emulator: FakeWATS, elapsed: float) -> str:
    stats = daemon.queue.stats()
    counters = daemon.runtime.counters
    return (
        f"[{elapsed:5.1f} s] {daemon.runtime.connection.value}: converted {counters.converted}, "
        f"failed {counters.conversion_failures}, queued {stats.depth}, "
        f"uploaded {counters.uploaded}, on the server {len(emulator.reports)}"
    )


async def run_demo(duration: float | None, folder: Path | None) -> int:
    """Run the demo; returns the exit code (0 when reports were uploaded).

    Without ``duration`` it runs until Ctrl-C or SIGTERM. Either ends it as the duration does
    (the last files are converted and uploaded, for up to 20 s); a second one ends it at once.
    """
    # The demo's own signal handling from the first line: a Ctrl-C while things start is a stop
    # like any other, not a traceback.
    interrupts = _Interrupts()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as early:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(interrupts.count, early)
            code = await _demo(nursery, duration, folder, interrupts)
            nursery.cancel_scope.cancel()
    return code


class _Interrupts:
    """Ctrl-C and SIGTERM received so far (the first stops the demo, the second the drain)."""

    def __init__(self) -> None:
        self.received = 0
        self.first = trio.Event()
        self.second = trio.Event()

    async def count(self, signals: AsyncIterator[int]) -> None:
        async for _ in signals:
            self.received += 1
            (self.first if self.received == 1 else self.second).set()


async def _demo(
    nursery: trio.Nursery, duration: float | None, folder: Path | None, interrupts: _Interrupts
) -> int:
    base = folder or Path(tempfile.mkdtemp(prefix="pywats-demo-"))
    base = base.absolute()
    inbox = base / "in"
    for sub in FOLDERS:
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYWATS_STATION_HOME": str(base / "home")}
    env.pop("PYWATS_API_TOKEN", None)
    env.pop("PYWATS_SERVER_URL", None)
    paths = instance_paths("demo", env=env)
    # A fresh token each run: a fixed word could turn up in a path of the config, and the
    # control channel refuses to send anything that contains a secret.
    token = f"demo-{secrets.token_urlsafe(16)}"
    emulator = FakeWATS(token)
    rng = random.Random(7)
    tty = sys.stdout.isatty()
    print(f"pywats-station demo in {base}")
    if duration is None:
        print("runs until stopped: Ctrl-C to stop", flush=True)
    else:
        print(f"stops after {duration:g} s (Ctrl-C to stop sooner)", flush=True)
    port = await nursery.start(partial(serve_emulator, emulator, "127.0.0.1", 0, announce=False))
    url = f"http://127.0.0.1:{port}"
    print(f"emulated WATS server on {url}")
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    token_file = paths.config_file.parent / "api-token"
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    paths.config_file.write_text(_config(url, inbox, token_file), encoding="utf-8")
    print(f"station config {paths.config_file}")
    print(f"drop files into {inbox}/wsjf, csv or equipment (any format a built-in reads)")
    # While it starts, the daemon's own handler has the signals: a Ctrl-C then stops the daemon
    # (``daemon.stopping``), which ends the demo below as well.
    daemon: Daemon = await nursery.start(partial(run_daemon, paths, env=env))
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        # Opened last, so the demo gets the signals from here on, not the daemon.
        nursery.start_soon(interrupts.count, signals)

        def stopped() -> bool:
            return interrupts.first.is_set() or daemon.stopping.is_set()

        if not stopped():
            await _announce_control(daemon)
        started = time.monotonic()
        dropping = True
        nursery.start_soon(_drop_samples, inbox, lambda: not dropping, rng)
        deadline = math.inf if duration is None else started + duration
        while time.monotonic() < deadline and not stopped():
            line = _progress(daemon, emulator, time.monotonic() - started)
            print("\r" + line if tty else line, end="" if tty else "\n", flush=True)
            with trio.move_on_after(1.0):
                await interrupts.first.wait()
        dropping = False
        if not daemon.stopping.is_set():
            # Let what was dropped convert and upload, within a bound (a second Ctrl-C: now).
            with trio.move_on_after(_DRAIN) as drain:
                nursery.start_soon(_cancel_when, interrupts.second, drain)
                while True:
                    await trio.sleep(0.5)
                    if not daemon.queue.stats().depth and not _settling(inbox):
                        break
            if daemon.tree is not None:
                await daemon.tree.stop()
    print()
    _summary(emulator, inbox)
    uploaded = len(emulator.reports)
    print(f"{uploaded} reports uploaded")
    return 0 if uploaded > 0 else 1


async def _cancel_when(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def tui_command(url: str, token_file: Path) -> str:
    """The command that opens ``pywats-tui`` on the station at ``url``, ready to copy.

    Run as ``.venv/bin/pywats-station`` (the README's way), the TUI is named by its path
    beside it, as the shell would not find it by name; otherwise by name.
    """
    program = "pywats-tui"
    here = Path(sys.argv[0])
    beside = here.with_name(program)
    if here.name == "pywats-station" and beside.is_file():
        found = shutil.which(program)
        if found is None or Path(found).resolve() != beside.resolve():
            program = str(beside)
    return shlex.join([program, "--url", url, "--token-file", str(token_file)])


async def _announce_control(daemon: Daemon) -> None:
    """Say how to watch the demo with ``pywats-tui``, once the control channel listens."""
    with trio.move_on_after(5.0):
        await daemon.control_settled.wait()
    url = daemon.control.url
    if url:
        command = tui_command(url, daemon.paths.control_token_file)
        print(f"terminal UI on this station (in another terminal): {command}", flush=True)
    else:
        print(f"the control channel is not listening: {daemon.control.error}", flush=True)


def _settling(inbox: Path) -> bool:
    """Whether sample files are still waiting in the watch folders."""
    return any(
        p.is_file() and not p.name.startswith(".") and p.name != "broken.json"
        for sub in FOLDERS
        for p in (inbox / sub).iterdir()
    )


def _summary(emulator: FakeWATS, inbox: Path) -> None:
    """What the equipment files became (by the kind that read them), and what failed."""
    kinds: collections.Counter[str] = collections.Counter()
    for report_id in emulator.report_ids():
        report = emulator.get_report(report_id)
        for misc in (report.misc_infos or ()) if report is not None else ():
            if misc.description == MISC_DESCRIPTION and misc.text:
                kinds[misc.text] += 1
    if kinds:
        read = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        print(f"equipment reports by the converter that read them: {read}")
    for sub in FOLDERS:
        errors = sorted(p.name for p in (inbox / sub / "Error").glob("*.error.txt"))
        if errors:
            print(f"in {sub}/Error: {', '.join(errors)} (the reason is in each file)")

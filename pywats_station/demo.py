"""``pywats-station demo``: the whole station on the embedded emulator, in one command.

It starts the emulated WATS server on a free loopback port, writes a station configuration with a
WSJF, a CSV and an ``auto`` converter watching demo folders, runs the real daemon, and drops
sample files into the folders (written in chunks, as test equipment does, some with failing units,
one broken). The ``equipment`` folder gets real files of real test equipment (ATML, TestStand, a
Teradyne ICT log, TAKAYA, XJTAG: ``demo_samples/``, provenance in its ``NOTICE``), each read by
the built-in that recognises it. Progress is shown live; with ``--duration`` it stops by itself,
waits for the queue to drain, and prints what the equipment files became and
``N reports uploaded``.
"""

from __future__ import annotations

import collections
import importlib.resources
import math
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
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

__all__ = ["run_demo"]

TOKEN = "demo-token"
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
    """Run the demo; returns the exit code (0 when reports were uploaded)."""
    base = folder or Path(tempfile.mkdtemp(prefix="pywats-demo-"))
    base = base.absolute()
    inbox = base / "in"
    for sub in FOLDERS:
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYWATS_STATION_HOME": str(base / "home")}
    env.pop("PYWATS_API_TOKEN", None)
    env.pop("PYWATS_SERVER_URL", None)
    paths = instance_paths("demo", env=env)
    emulator = FakeWATS(TOKEN)
    rng = random.Random(7)
    tty = sys.stdout.isatty()
    print(f"pywats-station demo in {base}")
    async with trio.open_nursery() as nursery:
        port = await nursery.start(
            partial(serve_emulator, emulator, "127.0.0.1", 0, announce=False)
        )
        url = f"http://127.0.0.1:{port}"
        print(f"emulated WATS server on {url} (token {TOKEN})")
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        token_file = paths.config_file.parent / "demo-token"
        token_file.write_text(TOKEN + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        paths.config_file.write_text(_config(url, inbox, token_file), encoding="utf-8")
        print(f"station config {paths.config_file}")
        print(f"drop files into {inbox}/wsjf, csv or equipment (any format a built-in reads)")
        daemon: Daemon = await nursery.start(partial(run_daemon, paths, env=env))
        await _announce_control(daemon)
        started = time.monotonic()
        stopping = False
        nursery.start_soon(_drop_samples, inbox, lambda: stopping, rng)
        deadline = math.inf if duration is None else started + duration
        # Ctrl-C or SIGTERM ends the demo as the duration does (this receiver, opened last,
        # gets the signals instead of the daemon's).
        interrupted = trio.Event()
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

            async def on_signal() -> None:
                async for _ in signals:
                    interrupted.set()
                    return

            nursery.start_soon(on_signal)
            while time.monotonic() < deadline and not interrupted.is_set():
                line = _progress(daemon, emulator, time.monotonic() - started)
                print("\r" + line if tty else line, end="" if tty else "\n", flush=True)
                await trio.sleep(1.0)
        stopping = True
        # Let what was dropped convert and upload, within a bound.
        with trio.move_on_after(_DRAIN):
            while True:
                await trio.sleep(0.5)
                if not daemon.queue.stats().depth and not _settling(inbox):
                    break
        if daemon.tree is not None:
            await daemon.tree.stop()
        nursery.cancel_scope.cancel()
    print()
    _summary(emulator, inbox)
    uploaded = len(emulator.reports)
    print(f"{uploaded} reports uploaded")
    return 0 if uploaded > 0 else 1


async def _announce_control(daemon: Daemon) -> None:
    """Say where the control channel listens (``pywats-tui`` and scripts can watch the demo)."""
    with trio.move_on_after(5.0):
        await daemon.control_settled.wait()
    if daemon.control.url:
        print(f"control channel on {daemon.control.url} (token: {daemon.paths.control_token_file})")


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

"""A user converter's warm worker inside the real daemon, against the emulator over TCP.

One child serves the converter's inputs one after another; a crash, a hang or a memory blow-up
fails that input alone (the next gets a fresh child), a clean stop ends the child, and so does
the daemon's death by SIGKILL.
"""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from tests.station.e2e.harness import Station, emulator, server_ids, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the daemon's children"),
]

CONVERTER = """
import os, time

from pywats import CompOp, ReportBuilder
from pywats_station.converters import Converted, FileConverter


class Scripted(FileConverter):
    name = "scripted"
    patterns = ("*.txt",)

    def convert(self, path, ctx):
        word = path.read_text().strip()
        if word == "crash":
            os._exit(3)
        if word == "hang":
            time.sleep(3600)
        if word == "eat":
            blob = bytearray(8 * 1024**3)
        b = ReportBuilder.uut(pn="WARM-PN", sn=word, rev="A", process_code=10,
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("Value", 1.0, CompOp.LOG)
        return Converted(reports=[b.build()])
"""


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def workers(daemon: int) -> set[int]:
    """The daemon's warm converter children."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) != daemon or fields[0] in ("Z", "X"):
                continue
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if b"--serve" in cmdline and b"pywats_station.converters._child" in cmdline:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_one_warm_worker_serves_the_inputs_and_faults_fail_only_their_input(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "scripted.py").write_text(CONVERTER, encoding="utf-8")
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "scripted"
            kind = "scripted.py"
            watch = "{inbox}"
            settle = 0.2
            timeout = 2.0
            memory_mb = 256
            """
        )
    )
    station.start()
    assert station.process is not None
    daemon = station.process.pid

    def drop(n: int, word: str) -> None:
        path = inbox / f"{n:02d}-{word}.txt"
        path.write_text(word, encoding="utf-8")
        wait_for(lambda: not path.exists(), timeout=30, what=f"{path.name} to be handled")

    try:
        wait_for(lambda: (inbox / "Done").is_dir(), what="the converter to watch")
        drop(1, "SN-1")
        drop(2, "SN-2")
        first = workers(daemon)
        assert len(first) == 1, first  # one child served both inputs
        drop(3, "crash")
        drop(4, "SN-4")  # a crash in one input does not affect the next
        drop(5, "hang")
        drop(6, "SN-6")
        drop(7, "eat")
        drop(8, "SN-8")
        wait_for(lambda: len(server_ids(server)) == 5, what="the five good reports")
        error = inbox / "Error"
        reasons = {p.name: p.read_text() for p in error.glob("*.error.txt")}
        assert "exited with code 3" in reasons["03-crash.txt.error.txt"]
        assert "timed out after 2 s" in reasons["05-hang.txt.error.txt"]
        assert "ran out of memory (limit 256 MB)" in reasons["07-eat.txt.error.txt"]
        assert len(reasons) == 3
        now = workers(daemon)
        assert len(now) == 1
        assert not now & first  # replaced after the crash (and the hang, and the memory)
        assert not any(alive(pid) for pid in first)
        # The daemon dies without a word: its worker goes too (the end of its stdin).
        (last,) = now
        assert station.stop(signal.SIGKILL) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while alive(last) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(last), "the warm worker outlived the daemon"
    finally:
        if station.running():
            station.stop()


def test_a_stop_does_not_wait_out_a_hung_conversion(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "scripted.py").write_text(CONVERTER, encoding="utf-8")
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "scripted"
            kind = "scripted.py"
            watch = "{inbox}"
            settle = 0.2
            timeout = 120.0
            """
        )
    )
    station.start()
    assert station.process is not None
    daemon = station.process.pid
    try:
        wait_for(lambda: (inbox / "Done").is_dir(), what="the converter to watch")
        (inbox / "unit.txt").write_text("hang", encoding="utf-8")
        wait_for(lambda: bool(workers(daemon)), what="the warm worker")
        (child,) = workers(daemon)
        time.sleep(1.0)  # inside convert(), asleep for an hour
        stopping = time.monotonic()
        assert station.stop(timeout=60) == 0
        assert time.monotonic() - stopping < 15, "the stop waited for the hung conversion"
        assert not alive(child)
        # The input was not converted, nor failed: it stays for the next start.
        assert (inbox / "unit.txt").read_text() == "hang"
        error = inbox / "Error"
        assert not error.exists() or not any(error.iterdir())
    finally:
        if station.running():
            station.stop(signal.SIGKILL)

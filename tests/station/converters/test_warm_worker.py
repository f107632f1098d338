"""The warm sandbox worker: one child per user converter, reused, replaced when it must be."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.converters import Converted, Failed, Skipped
from pywats_station.converters._warm import WarmWorker
from pywats_station.converters.sandbox import ChildReply, ContextData
from tests.station.converters.helpers import PROCESSES, STATION

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; POSIX process groups")

# A user converter whose behaviour the input's first word picks.
CONVERTER = """
import os, signal, subprocess, sys, time
from pathlib import Path

from pywats.report_builder import ReportBuilder
from pywats_station.converters import Converted, FileConverter, Skipped, Validation

CALLS = 0  # a module global: it lives as long as the worker


class Scripted(FileConverter):
    name = "scripted"

    def validate(self, path, ctx):
        if path.read_text().split()[0] == "hang-validate":
            time.sleep(60)
        return Validation(confidence=0.9)

    def convert(self, path, ctx):
        global CALLS
        CALLS += 1
        word, _, rest = path.read_text().partition(" ")
        if word == "crash":
            os._exit(3)
        if word == "hang":
            time.sleep(60)
        if word == "eat":
            blob = bytearray(8 * 1024**3)
            return Skipped(reason=str(len(blob)))
        if word == "raise":
            raise ValueError("column 3 is empty")
        if word == "calls":
            return Skipped(reason=f"call {CALLS}")
        if word == "stdout":
            os.write(1, b"garbage on fd 1\\n")
            print("a print")
        if word == "spawn":
            child = subprocess.Popen(["sleep", "60"])
            Path(rest.strip()).write_text(str(child.pid))
        b = ReportBuilder.uut(pn="PN-1", sn=word, rev="A", process_code=10,
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("V", 3.3, "GELE", low=3.2, high=3.4, unit="V")
        return Converted(reports=[b.build()])
"""

DATA = ContextData(station=STATION, processes=PROCESSES, arguments={})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "scripted.py").write_text(CONVERTER, encoding="utf-8")
    return tmp_path


@pytest.fixture
def worker(folder: Path) -> Iterator[WarmWorker]:
    w = WarmWorker("scripted.py", folder, memory_mb=384, log=logging.getLogger("test.warm"))
    yield w
    w.close()


def run(
    worker: WarmWorker, folder: Path, content: str, timeout: float = 20.0
) -> ChildReply | Failed:
    target = folder / f"in-{time.monotonic_ns()}.txt"
    target.write_text(content, encoding="utf-8")
    return worker.run("run", target, DATA, timeout=timeout, reject_below=0.2)


def result(reply: ChildReply | Failed) -> object:
    return reply if isinstance(reply, Failed) else reply.result


def alive(pid: int) -> bool:
    """Running, not a zombie (a reaped or exited process is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_one_child_serves_many_inputs_in_one_trip_each(worker: WarmWorker, folder: Path) -> None:
    pids = set()
    for n in range(5):
        reply = run(worker, folder, f"SN-{n}")
        assert isinstance(reply, ChildReply)
        # validate() and convert() in the same trip
        assert reply.validation is not None
        assert reply.validation.confidence == 0.9
        assert isinstance(reply.result, Converted)
        assert reply.result.reports[0].sn == f"SN-{n}"
        pids.add(worker.pid)
    assert len(pids) == 1
    assert worker.started == 1


def test_below_the_reject_threshold_nothing_is_converted(worker: WarmWorker, folder: Path) -> None:
    target = folder / "x.txt"
    target.write_text("calls", encoding="utf-8")
    reply = worker.run("run", target, DATA, timeout=20, reject_below=0.95)
    assert isinstance(reply, ChildReply)
    assert reply.result is None
    assert result(run(worker, folder, "calls")) == Skipped(reason="call 1")


def test_module_globals_live_as_long_as_the_worker(worker: WarmWorker, folder: Path) -> None:
    # Documented: a converter may not assume a fresh module per input.
    assert result(run(worker, folder, "calls")) == Skipped(reason="call 1")
    assert result(run(worker, folder, "calls")) == Skipped(reason="call 2")


def test_a_crash_fails_that_input_only(worker: WarmWorker, folder: Path) -> None:
    assert isinstance(result(run(worker, folder, "SN-1")), Converted)
    first = worker.pid
    assert first is not None
    assert run(worker, folder, "crash") == Failed(reason="converter process exited with code 3")
    assert wait_gone(first)
    third = result(run(worker, folder, "SN-3"))
    assert isinstance(third, Converted)
    assert worker.pid != first
    assert worker.started == 2


def test_an_exception_keeps_the_worker(worker: WarmWorker, folder: Path) -> None:
    assert isinstance(result(run(worker, folder, "SN-1")), Converted)
    first = worker.pid
    assert result(run(worker, folder, "raise")) == Failed(
        reason="converter raised ValueError: column 3 is empty"
    )
    assert isinstance(result(run(worker, folder, "SN-2")), Converted)
    assert worker.pid == first


@pytest.mark.parametrize("word", ["hang", "hang-validate"])
def test_a_hang_is_killed_and_the_next_input_gets_a_fresh_worker(
    worker: WarmWorker, folder: Path, word: str
) -> None:
    assert isinstance(result(run(worker, folder, "SN-1")), Converted)
    first = worker.pid
    assert first is not None
    started = time.monotonic()
    assert run(worker, folder, word, timeout=1.5) == Failed(
        reason="converter timed out after 1.5 s"
    )
    assert time.monotonic() - started < 5
    assert not alive(first)
    assert isinstance(result(run(worker, folder, "SN-3")), Converted)
    assert worker.started == 2


def test_a_memory_blow_up_fails_the_input_and_retires_the_worker(
    worker: WarmWorker, folder: Path
) -> None:
    assert isinstance(result(run(worker, folder, "SN-1")), Converted)
    first = worker.pid
    assert first is not None
    assert result(run(worker, folder, "eat")) == Failed(
        reason="converter ran out of memory (limit 384 MB)"
    )
    assert wait_gone(first)  # its heap may stay large: replaced
    assert isinstance(result(run(worker, folder, "SN-3")), Converted)
    assert worker.started == 2


def test_replaced_after_max_files(folder: Path) -> None:
    worker = WarmWorker("scripted.py", folder, memory_mb=384, max_files=2)
    try:
        for n in range(5):
            assert isinstance(result(run(worker, folder, f"SN-{n}")), Converted)
        assert worker.started == 3
    finally:
        worker.close()


def test_an_edited_converter_gets_a_fresh_worker(worker: WarmWorker, folder: Path) -> None:
    assert result(run(worker, folder, "calls")) == Skipped(reason="call 1")
    source = folder / "scripted.py"
    source.write_text(source.read_text().replace('f"call {CALLS}"', 'f"edited {CALLS}"'))
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert result(run(worker, folder, "calls")) == Skipped(reason="edited 1")
    assert worker.started == 2


def test_fd_1_goes_to_the_log_not_the_replies(
    worker: WarmWorker, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert isinstance(result(run(worker, folder, "stdout")), Converted)
    assert "garbage on fd 1" in caplog.text
    assert "a print" in caplog.text
    assert isinstance(result(run(worker, folder, "SN-2")), Converted)
    assert worker.started == 1


def test_a_load_error_fails_the_input_and_is_tried_again(folder: Path) -> None:
    (folder / "late.py").write_text("def broken(:\n", encoding="utf-8")
    worker = WarmWorker("late.py", folder, memory_mb=384)
    try:
        first = run(worker, folder, "SN-1")
        assert isinstance(first, Failed)
        assert "syntax error in converter file" in first.reason
        (folder / "late.py").write_text(CONVERTER, encoding="utf-8")  # fixed
        assert isinstance(result(run(worker, folder, "SN-2")), Converted)
    finally:
        worker.close()


def test_close_ends_the_worker_and_what_it_started(worker: WarmWorker, folder: Path) -> None:
    note = folder / "grandchild.pid"
    assert isinstance(result(run(worker, folder, f"spawn {note}")), Converted)
    pid, grandchild = worker.pid, int(note.read_text())
    assert pid is not None
    assert alive(grandchild)
    worker.close()
    assert not alive(pid)
    assert wait_gone(grandchild)
    assert run(worker, folder, "SN-1") == Failed(reason="converter stopped")


HOLDER = """
import sys, threading, time
from pathlib import Path
from pywats_station.converters._warm import WarmWorker
from pywats_station.converters.sandbox import ContextData
from tests.station.converters.helpers import PROCESSES, STATION

folder = Path(sys.argv[1])
worker = WarmWorker("scripted.py", folder, memory_mb=384)
target = folder / "in.txt"
target.write_text(sys.argv[2])
data = ContextData(station=STATION, processes=PROCESSES)
worker.run("run", target, data, timeout=60)
if sys.argv[3] == "busy":  # the station dies while the converter hangs in a conversion
    hang = folder / "hang.txt"
    hang.write_text("hang")
    threading.Thread(target=worker.run, args=("run", hang, data), daemon=True).start()
    time.sleep(1)
print(worker.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("busy", [False, True])
def test_the_worker_dies_with_the_station_even_by_sigkill(folder: Path, busy: bool) -> None:
    # busy: the worker is in the middle of a (hanging) conversion when the station dies.
    note = folder / "grandchild.pid"
    root = Path(__file__).resolve().parents[3]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), f"spawn {note}", "busy" if busy else "idle"],
        stdout=subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert holder.stdout is not None
        pid = int(holder.stdout.readline())
        grandchild = int(note.read_text())
        assert alive(pid)
        holder.kill()
        holder.wait()
        assert wait_gone(pid), "the warm worker outlived the station"
        assert wait_gone(grandchild), "a process the converter started outlived the station"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_the_child_reads_frames_written_in_pieces() -> None:
    # A request larger than a pipe's buffer arrives in pieces: the child waits for all of it.
    from io import BytesIO

    from pywats_station.converters._warm import read_frame, write_frame

    buffer = BytesIO()
    write_frame(buffer, b"x" * 200_000)
    write_frame(buffer, b"")
    buffer.seek(0)
    assert read_frame(buffer) == b"x" * 200_000
    assert read_frame(buffer) == b""
    assert read_frame(buffer) is None
    assert read_frame(BytesIO(b"\x00\x00\x00\x05abc")) is None  # cut off


def test_an_idle_worker_ends_and_the_next_input_starts_a_fresh_one(folder: Path) -> None:
    worker = WarmWorker("scripted.py", folder, memory_mb=384, idle_exit=0.5)
    try:
        assert isinstance(result(run(worker, folder, "SN-1")), Converted)
        first = worker._proc
        assert first is not None
        assert wait_gone(first.pid, timeout=10), "the idle worker did not end"
        assert isinstance(result(run(worker, folder, "SN-2")), Converted)
        assert worker.started == 2
        # The request crosses the idle exit (the child is gone, not yet noticed): it is sent
        # again to a fresh child, and nothing is lost.
        gone = worker._proc
        assert gone is not None
        assert wait_gone(gone.pid, timeout=10)
        gone.poll = lambda: None  # type: ignore[method-assign]
        assert isinstance(result(run(worker, folder, "SN-3")), Converted)
        assert worker.started == 3
    finally:
        worker.close()

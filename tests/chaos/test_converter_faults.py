"""Converter faults inside the real daemon: each fails alone, the rest keeps converting.

One daemon, three converters, against the emulator over TCP:

* ``faulty``: a user converter (a ``.py`` file, run in its child process with ``timeout`` and
  ``memory_mb``) whose input says what to do: convert the WSJF after the first line, or raise,
  hang past the timeout, ``os._exit``, die of SIGSEGV, allocate far past its memory limit, or
  read the file again after a pause (the test deletes it meanwhile). Good inputs are
  interleaved with the bad ones in the same folder;
* ``plain``: the built-in ``wsjf`` converter, with a small ``max_file_size``: a huge file goes to
  Error unread, a file held open and written in pieces is read once, whole;
* ``transient``: a built-in whose watch folder is removed while the daemon runs and created
  again: the converter watches the new folder and converts its files.

Each fault costs its own input only: it lands in Error with a reason saying what happened
(the deleted one simply vanishes), every good input on every converter is delivered once, the
daemon never restarts an actor over it, and the delivery invariants hold
(:class:`tests.chaos._scenario.Scenario`).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.chaos._scenario import Scenario
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

FAULTY = """
import os
import signal
import time
from pathlib import Path

from pywats.formats import wsjf
from pywats_station.converters import Converted, FileConverter


class Faulty(FileConverter):
    name = "faulty"
    patterns = ("*.job",)
    keeps_report_ids = True  # the WSJF's own id: the test knows it

    def convert(self, path, ctx):
        command, _, body = Path(path).read_bytes().partition(b"\\n")
        if command == b"RAISE":
            raise RuntimeError("asked to raise")
        if command == b"HANG":
            time.sleep(3600)
        if command == b"EXIT":
            os._exit(3)
        if command == b"SEGV":
            os.kill(os.getpid(), signal.SIGSEGV)
        if command == b"HOG":
            hoard = [bytearray(64 << 20) for _ in range(64)]  # 4 GiB, far past memory_mb
            return hoard
        if command.startswith(b"REREAD "):
            Path(command[7:].decode()).touch()  # tell the test: it deletes the file now
            time.sleep(2.0)
            Path(path).read_bytes()
        return Converted(reports=[wsjf.loads(body)])
"""
# The reason each fault leaves in Error, as docs/converters.md promises it.
FAULTS = {
    "RAISE": "converter raised RuntimeError: asked to raise",
    "HANG": "timed out after 2 s",
    "EXIT": "exited with code 3",
    "SEGV": "signal 11",
    "HOG": "memory",
}
MAX_FILE = 256 * 1024  # plain's max_file_size
GOOD_PER_FAULT = 2  # good inputs dropped in faulty's folder after each bad one


def config(folders: dict[str, Path]) -> str:
    entries = {
        "faulty": 'kind = "faulty.py"\ntimeout = 2.0\nmemory_mb = 256\n',
        "plain": f'kind = "wsjf"\nmax_file_size = {MAX_FILE}\nsettle = 1.0\n',
        "transient": 'kind = "wsjf"\n',
    }
    text = ""
    for name, extra in entries.items():
        text += f'\n[[converters]]\nname = "{name}"\nwatch = "{folders[name]}"\n'
        text += "settle = 0.3\n" if "settle" not in extra else ""
        text += extra
    return text


def write_slowly(path: Path, data: bytes, pieces: int, pause: float) -> None:
    """A tester writing its result file in pieces, holding it open the whole time."""
    step = len(data) // pieces + 1
    with open(path, "wb") as handle:
        for start in range(0, len(data), step):
            handle.write(data[start : start + step])
            handle.flush()
            time.sleep(pause)


def reason(folder: Path, name: str) -> str:
    return (folder / "Error" / f"{name}.error.txt").read_text(errors="replace")


def test_each_converter_fault_fails_alone(tmp_path: Path) -> None:
    with emulator() as server:
        station = Station(tmp_path / "home", server, workers=4)
        station.config_dir.mkdir(parents=True)
        (station.config_dir / "faulty.py").write_text(FAULTY, encoding="utf-8")
        folders = {name: tmp_path / "in" / name for name in ("faulty", "plain", "transient")}
        station.write_config(config(folders))
        n = 0

        def good() -> tuple[str, bytes]:
            nonlocal n
            n += 1
            return make_report(n)

        with Scenario("converter faults", tmp_path, server, station) as sc:
            for folder in folders.values():
                sc.watch(folder)
            station.start()
            wait_for(
                lambda: (
                    [c.get("state") for c in station.status().get("converters", [])]
                    == ["watching"] * 3
                ),
                30,
                "three converters watching",
            )
            faulty, plain, transient = folders["faulty"], folders["plain"], folders["transient"]

            # A stream of good files on plain all along: the other converters keep going.
            stop = threading.Event()

            def stream() -> None:
                i = 0
                while not stop.wait(0.3):
                    rid, data = good()
                    sc.drop(plain, f"stream-{i:03d}.json", data, rid)
                    i += 1

            streamer = threading.Thread(target=stream, daemon=True)
            streamer.start()
            try:
                # Faults interleaved with good inputs in faulty's own folder.
                for fault in FAULTS:
                    sc.drop(faulty, f"{fault.lower()}.job", fault.encode() + b"\n")
                    for k in range(GOOD_PER_FAULT):
                        rid, data = good()
                        sc.drop(faulty, f"after-{fault.lower()}-{k}.job", b"OK\n" + data, rid)
                sc.allowed_errors += len(FAULTS)

                # Deleted while the converter reads it: it vanishes, nothing else happens.
                marker = tmp_path / "reread-taken"
                (faulty / "reread.job").write_bytes(b"REREAD " + bytes(marker) + b"\n")
                wait_for(marker.exists, 30, "reread.job taken by the converter")
                (faulty / "reread.job").unlink()
                rid, data = good()
                sc.drop(faulty, "after-reread.job", b"OK\n" + data, rid)

                # Huge: over max_file_size, to Error unread.
                sc.drop(plain, "huge.json", b" " * (MAX_FILE * 4) + good()[1])
                sc.allowed_errors += 1

                # Held open and written in pieces (pauses shorter than settle): read once, whole.
                rid, data = good()
                write_slowly(plain / "slow.json", data, pieces=6, pause=0.3)
                sc.watched[plain].names.add("slow.json")
                sc.expect([rid])

                # The watch folder removed and created again while the daemon runs.
                early = [good() for _ in range(3)]
                for i, (_, data) in enumerate(early):
                    (transient / f"early-{i}.json").write_bytes(data)
                sc.expect([rid for rid, _ in early])
                wait_for(
                    lambda: {rid for rid, _ in early} <= set(server_ids(server)),
                    60,
                    "the transient folder's first files",
                )
                shutil.rmtree(transient)
                time.sleep(0.5)
                sc.watch(transient)  # created again (its Done/Error by the converter)
                for i in range(3):
                    rid, data = good()
                    sc.drop(transient, f"late-{i}.json", data, rid)
            finally:
                stop.set()
                streamer.join(10)

            sc.drain(timeout=120)
            for fault, expected in FAULTS.items():
                wait_for((faulty / "Error" / f"{fault.lower()}.job.error.txt").exists, 30, fault)
                got = reason(faulty, f"{fault.lower()}.job")
                assert expected in got, f"{fault}: {got!r}"
            assert "max_file_size" in reason(plain, "huge.json")
            assert not (faulty / "reread.job").exists()
            assert not (faulty / "Error" / "reread.job").exists()
            assert "reread.job was deleted meanwhile" in station.log_text()
            assert "reread.job cannot be moved" not in station.log_text()
            status: dict[str, Any] = {c["name"]: c for c in station.status()["converters"]}
            sc.counts.extra["faults"] = len(FAULTS) + 4  # + deleted, huge, held open, folder
            sc.counts.extra["converted"] = {k: v["converted"] for k, v in status.items()}
            sc.counts.extra["failed"] = {k: v["failed"] for k, v in status.items()}
            sc.counts.rounds = len(FAULTS) + 4
            assert status["transient"]["state"] == "watching"
            assert status["faulty"]["failed"] >= len(FAULTS)
            supervisor = [line for line in station.log_text().splitlines() if "supervisor" in line]
            assert not [line for line in supervisor if " failed: " in line], supervisor
            sc.check()

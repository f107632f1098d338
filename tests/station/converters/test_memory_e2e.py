"""A 50 MB input of 1.2 million rows, in the real daemon: refused, in bounded memory.

Before, the daemon converted such a CSV in its own thread: 3.45 GB at the peak, 400 MB left
afterwards, and a 225 MB report no server would take. Now the report is refused once it is
certainly over the server's limit (30 MB), in a child process, and the daemon's own peak
(``VmHWM``, measured by the kernel) stays small. A bound, not a timing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from tests.station.converters.helpers import DATA
from tests.station.e2e.harness import Station, emulator, server_ids, wait_for

pytestmark = pytest.mark.e2e

MIB = 1 << 20
DAEMON_PEAK = 300 * MIB  # generous: the idle daemon is about 60 MB
SIZE = 50 * 10**6


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def write_until(path: Path, size: int, head: str, row: Callable[[int], str], tail: str = "") -> int:
    """Write ``head``, rows until ``size`` bytes, ``tail``; return the number of rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head)
        written = len(head)
        while written < size:
            chunk = "".join(row(n) for n in range(rows, rows + 10_000))
            out.write(chunk)
            written += len(chunk)
            rows += 10_000
        out.write(tail)
    return rows


def steps_csv(path: Path) -> int:
    return write_until(
        path,
        SIZE,
        "SerialNumber;Sequence;Step;Value;Low;High;Unit\n",
        lambda n: f"SN-4711;Seq{n % 100};Step{n};{3.3 + n % 7 / 1000:.4f};3.2;3.4;V\n",
    )


def units_csv(path: Path) -> int:
    return write_until(
        path, SIZE, "SerialNumber;V1;V2;Result\n", lambda n: f"SN-{n:08d};3.301;5.002;PASS\n"
    )


def wstf(path: Path) -> int:
    head, tail = (DATA / "wstf_single.txt").read_text().split("--Step-Data-End--")
    head = head.split("StepType\t")[0]  # the default columns
    return write_until(
        path,
        SIZE,
        head,
        lambda n: f"NumericLimitTest\tStep {n}\t\t{n % 97}.5\t0\t100\tGELE\tV\tPassed\n",
        "--Step-Data-End--" + tail,
    )


CASES = {
    "csv-steps": ("csv", "layout = 'steps'", steps_csv, "max_report_size"),
    "csv-units": ("csv", "layout = 'units'", units_csv, "max_output_size"),
    "wstf": ("wstf", "", wstf, "max_report_size"),
}


def watching(station: Station) -> bool:
    converters = station.status().get("converters") or [{}]
    return bool(converters[0].get("state") == "watching")


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("case", CASES)
def test_a_50_mb_input_is_refused_and_the_daemon_stays_small(
    tmp_path: Path, server: EmulatorProcess, case: str
) -> None:
    kind, arguments, write, limit = CASES[case]
    staged = tmp_path / f"big.{'txt' if kind == 'wstf' else 'csv'}"
    rows = write(staged)
    assert staged.stat().st_size >= SIZE
    assert rows > 900_000
    inbox = tmp_path / "in"
    inbox.mkdir()
    station = Station(tmp_path / "home", server)
    station.write_config(
        textwrap.dedent(
            f"""
            [[converters]]
            name = "big"
            kind = "{kind}"
            watch = "{inbox}"
            settle = 0.3
            [converters.arguments]
            {arguments}
            """
        )
        + ("part_number = 'PCBA-1'\nrevision = 'A'\nprocess_code = 10\n" if kind == "csv" else "")
    )
    station.start()
    try:
        assert station.process is not None
        pid = station.process.pid
        wait_for(lambda: watching(station), what="the converter watching")
        staged.rename(inbox / staged.name)  # all at once, as a finished file
        note = inbox / "Error" / f"{staged.name}.error.txt"
        wait_for(note.exists, timeout=300, what="the refusal")
        reason = note.read_text()
        assert f"(converters.big.{limit})" in reason
        assert "30 MB" in reason
        assert "conversion stopped there" in reason
        assert kib(pid, "VmHWM") < DAEMON_PEAK, station.log_text()
        assert kib(pid, "VmRSS") < DAEMON_PEAK
        assert server_ids(server) == []
    finally:
        assert station.stop() == 0

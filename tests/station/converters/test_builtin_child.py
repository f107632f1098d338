"""Built-in converters: small inputs in the daemon's thread, big ones in a child process.

A big conversion leaves a grown heap behind in the process that made it; in a child process it
is given back when the child exits. The reports must be the same either way.
"""

from __future__ import annotations

import gc
import logging
import shutil
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio

from pywats.models.report import UURReport, UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters._placement import (
    ReleasedReports,
    convert_builtin,
    release_memory,
    release_soon,
)
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.sandbox import ContextData, run_conversion
from tests.fixtures import real_file
from tests.station.control.daemon_helpers import running_station, wait_until
from tests.station.converters.helpers import DATA, PROCESSES, STATION, make_ctx

CSV_ARGS: dict[str, Any] = {"part_number": "PCBA-1", "revision": "A", "process_code": 10}
SAME_ID = uuid.UUID(int=1)


def steps_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("SerialNumber;Sequence;Step;Value;Low;High;Unit\n")
        for i in range(rows):
            out.write(f"SN-1;Seq{i % 10};Step {i};{3.3 + i % 7 / 1000:.4f};3.2;3.4;V\n")
    return path


def builtin(
    converter: Any, path: Path, arguments: dict[str, Any], **options: Any
) -> tuple[object, object]:
    """The same input through ``convert_builtin`` (with ``options``) and in this thread."""
    ctx = make_ctx(type(converter), arguments)
    data = ContextData(station=STATION, processes=PROCESSES, arguments=arguments)
    options = {"limits": OutputLimits(), "timeout": 60.0, **options}
    through = convert_builtin(converter, converter.name, path, ctx, data, **options)
    return through, run_conversion(converter, path, ctx)


def same_ids(reports: list[UUTReport | UURReport]) -> list[UUTReport | UURReport]:
    """The reports with one id: the station gives converted reports ids of its own."""
    return [msgspec.structs.replace(r, id=SAME_ID) for r in reports]


@pytest.mark.parametrize(
    ("converter", "source", "arguments"),
    [
        (CsvConverter(), None, CSV_ARGS),
        (CsvConverter(), DATA / "csv_units.tsv", {"layout": "units", **CSV_ARGS}),
        (WstfConverter(), DATA / "wstf_multi.txt", {}),
        (WsjfConverter(), "uut-wsjf-export.json", {}),
    ],
)
def test_above_the_threshold_a_child_converts_to_the_same_reports(
    tmp_path: Path, converter: Any, source: Path | str | None, arguments: dict[str, Any]
) -> None:
    if source is None:
        path = steps_csv(tmp_path / "in.csv", 3000)
    else:
        found = real_file("wsjf", source) if isinstance(source, str) else source
        path = tmp_path / found.name
        shutil.copy2(found, path)  # the same modification time: the csv start time
    child, thread = builtin(converter, path, arguments, child_above=0)
    assert isinstance(child, Converted), child
    assert isinstance(thread, Converted), thread
    if converter.keeps_report_ids:
        assert child == thread
    else:
        assert same_ids(child.reports) == same_ids(thread.reports)


def test_the_input_size_decides_where() -> None:
    # Proof of where it ran: a child that has no time at all cannot convert.
    path = real_file("wsjf", "uur_example.json")
    size = path.stat().st_size
    in_child, _ = builtin(WsjfConverter(), path, {}, child_above=size - 1, timeout=0.001)
    assert in_child == Failed(reason="converter timed out after 0.001 s")
    in_thread, _ = builtin(WsjfConverter(), path, {}, child_above=size, timeout=0.001)
    assert isinstance(in_thread, Converted)


def test_a_small_input_with_big_reports_moves_to_a_child(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = steps_csv(tmp_path / "in.csv", 400)  # 14 kB that make 72 kB of WSJF
    child, thread = builtin(CsvConverter(), path, CSV_ARGS, child_above=20_000)
    assert "in.csv: over 20 kB of reports; converting it again in a child process" in caplog.text
    assert isinstance(child, Converted)
    assert isinstance(thread, Converted)
    assert same_ids(child.reports) == same_ids(thread.reports)
    timed, _ = builtin(CsvConverter(), path, CSV_ARGS, child_above=20_000, timeout=0.001)
    assert timed == Failed(reason="converter timed out after 0.001 s")


def test_a_child_refuses_reports_over_the_cap_before_sending_them(tmp_path: Path) -> None:
    path = steps_csv(tmp_path / "in.csv", 3000)
    limits = OutputLimits(max_report_size=100_000, settings="converters.line")
    child, _ = builtin(CsvConverter(), path, CSV_ARGS, child_above=0, limits=limits)
    assert isinstance(child, Failed)
    assert child.reason.startswith("the report is over 100 kB as WSJF by line ")
    assert child.reason.endswith("(converters.line.max_report_size)")


def test_the_reports_of_a_child_say_when_they_are_gone(tmp_path: Path) -> None:
    path = steps_csv(tmp_path / "in.csv", 300)
    released: list[str] = []
    child, thread = builtin(
        CsvConverter(), path, CSV_ARGS, child_above=0, on_release=lambda: released.append("x")
    )
    assert isinstance(child, Converted)
    assert isinstance(child.reports, ReleasedReports)
    assert isinstance(thread, Converted)
    assert same_ids(child.reports) == same_ids(thread.reports)  # a list like any other
    kept = list(child.reports)  # a copy (as the queueing makes) does not count
    del child
    gc.collect()
    assert released == ["x"]
    assert kept
    # In the thread nothing comes back from a child: nothing to release.
    small, _ = builtin(
        CsvConverter(), path, CSV_ARGS, child_above=1 << 30, on_release=lambda: released.append("y")
    )
    assert isinstance(small, Converted)
    assert not isinstance(small.reports, ReleasedReports)
    del small
    gc.collect()
    assert released == ["x"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_memory_hands_the_heap_back() -> None:
    assert release_memory() is True


@pytest.mark.trio
async def test_the_release_runs_after_the_reports_are_gone() -> None:
    seen: list[int] = []
    reports: list[object] = [object()]
    done = trio.Event()

    def release() -> None:  # in a worker thread, as release_memory runs
        seen.append(len(reports))
        trio.from_thread.run_sync(done.set)

    holder = ReleasedReports([], release_soon(trio.lowlevel.current_trio_token(), release))
    del holder  # the callback only schedules: the release runs once the loop has control
    reports.clear()  # what the freeing list would still have held
    assert seen == []
    with trio.fail_after(30):
        await done.wait()
    assert seen == [0]


# --- in the daemon ------------------------------------------------------------------------------


def csv_converter(name: str, watch: Path, extra: str) -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "csv"
        watch = "{watch}"
        settle = 0.05
        {extra}
        [converters.arguments]
        part_number = "PCBA-1"
        revision = "A"
        process_code = 10
        """
    )


@pytest.mark.trio
async def test_the_daemon_converts_a_big_file_in_a_child_to_the_same_report(
    tmp_path: Path,
) -> None:
    # 1.6 MB of CSV, over the default threshold (1 MiB): converted in a child by one converter,
    # in the daemon's thread by another (threshold raised); the server gets the same report. A
    # third converter's child has no time at all: proof that the daemon used a child.
    source = steps_csv(tmp_path / "big.csv", 40_000)
    assert source.stat().st_size > 1 << 20
    child_in, thread_in, timed_in = tmp_path / "child", tmp_path / "thread", tmp_path / "timed"
    extra = (
        csv_converter("child", child_in, "")
        + csv_converter("thread", thread_in, 'child_process_above = "10 MiB"')
        + csv_converter("timed", timed_in, "timeout = 0.001")
    )
    async with running_station(tmp_path, extra=extra) as station:
        folders = (child_in, thread_in, timed_in)
        await wait_until(lambda: all(f.is_dir() for f in folders), what="the folders")
        for folder in folders:
            shutil.copy2(source, tmp_path / "staged.csv")
            (tmp_path / "staged.csv").rename(folder / "big.csv")

        def done() -> bool:
            return all((folder / "Done" / "big.csv").exists() for folder in folders[:2])

        await wait_until(done, seconds=120, what="both conversions")
        await wait_until(lambda: len(station.fake.report_ids()) == 2, seconds=60, what="uploads")
        reports = [station.fake.get_report(rid) for rid in station.fake.report_ids()]
        assert all(r is not None for r in reports)
        first, second = same_ids([r for r in reports if r is not None])
        assert first == second
        assert len(first.steps()) == 1 + 10 + 40_000
        note = timed_in / "Error" / "big.csv.error.txt"
        await wait_until(note.exists, seconds=60, what="the timed-out conversion")
        assert "converter timed out after 0.001 s" in note.read_text()

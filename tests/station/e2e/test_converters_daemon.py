"""Converters inside the real daemon, against the emulator over TCP."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats.formats import wsjf
from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.actors._folder_claim import CLAIM_FILE
from tests.fixtures import REAL, WSJF_FILES, real_file
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def converter(name: str, kind: str, watch: Path, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "{kind}"
        watch = "{watch}"
        settle = 0.3
        """
    ) + textwrap.dedent(extra)


def files(folder: Path, pattern: str = "*") -> list[str]:
    """The files in ``folder`` (not the hidden claim file a running converter holds there)."""
    return sorted(p.name for p in folder.glob(pattern) if p.is_file() and p.name != CLAIM_FILE)


CSV_ARGS = """
[converters.arguments]
layout = "units"
part_number = "PSU-12"
revision = "A"
process_code = 50
"""


def test_wsjf_wsxf_csv_folders_to_exactly_one_report_each(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    station = Station(tmp_path / "home", server)
    station.write_config(
        converter("wsjf", "wsjf", inbox / "wsjf")
        + converter("wsxf", "wsxf", inbox / "wsxf")
        + converter("csv", "csv", inbox / "csv", 'patterns = ["*.csv"]\n' + CSV_ARGS)
    )
    for sub in ("wsjf", "wsxf", "csv"):
        (inbox / sub).mkdir(parents=True)
    # Present before the daemon starts: picked up by the start-up scan.
    early = [make_report(i) for i in range(3)]
    for n, (_, data) in enumerate(early):
        (inbox / "wsjf" / f"early-{n}.json").write_bytes(data)
    shutil.copy(real_file("wsjf", "uut-wsxf-export.xml"), inbox / "wsxf" / "export.xml")
    station.start()
    try:
        # Dropped while it runs: one written slowly in chunks (the settle check must wait).
        late_id, late = make_report(100)
        slow = inbox / "wsjf" / "slow.json"
        with open(slow, "wb") as handle:
            for i in range(0, len(late), max(1, len(late) // 5)):
                handle.write(late[i : i + max(1, len(late) // 5)])
                handle.flush()
                time.sleep(0.15)
        (inbox / "csv" / "line.csv").write_text(
            "Serial\tV_3V3\tResult\nU-1\t3.31\tPASS\nU-2\t3.50\tFAIL\n", encoding="utf-8"
        )
        (inbox / "wsjf" / "broken.json").write_text('{"type": "T", "pn": ', encoding="utf-8")
        expected = 3 + 1 + 1 + 2  # early + slow + the WSXF export + two CSV units
        wait_for(lambda: len(server_ids(server)) >= expected, timeout=60, what="all reports")
        wait_for(lambda: files(inbox / "wsjf" / "Error", "*.txt") != [], what="the error note")
        time.sleep(1.0)  # nothing more may arrive
        ids = server_ids(server)
        assert len(ids) == expected
        assert {rid for rid, _ in early} | {late_id} <= set(ids)
        assert "33a2d408-3fc8-480b-b554-6866c77fd91c" in ids  # the WSXF export's own id
        assert files(inbox / "wsjf") == ["broken.json"] or files(inbox / "wsjf") == []
        assert files(inbox / "wsjf" / "Done") == sorted(
            ["early-0.json", "early-1.json", "early-2.json", "slow.json"]
        )
        assert files(inbox / "wsxf" / "Done") == ["export.xml"]
        assert files(inbox / "csv" / "Done") == ["line.csv"]
        assert files(inbox / "wsjf" / "Error") == ["broken.json", "broken.json.error.txt"]
        note = (inbox / "wsjf" / "Error" / "broken.json.error.txt").read_text()
        assert "converter: wsjf" in note
        assert "invalid WSJF" in note

        def names() -> dict[str, dict[str, Any]]:
            return {c["name"]: c for c in station.status()["converters"]}

        wait_for(lambda: names()["wsjf"]["failed"] == 1, what="the status file")
        by_name = names()
        assert by_name["wsjf"]["converted"] == 4
        assert by_name["wsjf"]["failed"] == 1
        assert by_name["csv"]["reports"] == 2
    finally:
        assert station.stop() == 0


BAD_CONVERTERS = """
import os
import time

from pywats_station.converters import FileConverter


class Raises(FileConverter):
    name = "raises"
    patterns = ("*.dat",)

    def convert(self, path, ctx):
        raise ValueError("this converter is broken")


class Hangs(FileConverter):
    name = "hangs"
    patterns = ("*.dat",)

    def convert(self, path, ctx):
        time.sleep(3600)


class Exits(FileConverter):
    name = "exits"
    patterns = ("*.dat",)

    def convert(self, path, ctx):
        os._exit(3)
"""


def test_a_renamed_watch_folder_is_recreated_and_watched_again(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    station = Station(tmp_path / "home", server)
    station.write_config(converter("wsjf", "wsjf", inbox))
    station.start()
    try:
        first_id, first = make_report(1)
        wait_for(inbox.is_dir, what="the watch folder")
        (inbox / "first.json").write_bytes(first)
        wait_for(lambda: first_id in server_ids(server), what="the first report")
        inbox.rename(tmp_path / "in-old")  # someone tidies up (or a share is remounted)
        # The daemon puts the folder back and watches the new one: a file dropped there is
        # converted at once, not at the next safety-net rescan (every 10 s).
        wait_for(lambda: (inbox / "Done").is_dir(), timeout=15, what="the folder back")
        wait_for(lambda: station.status()["converters"][0]["state"] == "watching", what="watching")
        second_id, second = make_report(2)
        dropped = time.monotonic()
        (inbox / "second.json").write_bytes(second)
        wait_for(lambda: second_id in server_ids(server), timeout=30, what="the second report")
        assert time.monotonic() - dropped < 8.0
        assert files(inbox / "Done") == ["second.json"]
        assert files(tmp_path / "in-old" / "Done") == ["first.json"]
        assert station.running()
    finally:
        assert station.stop() == 0


def test_raising_hanging_and_exiting_converters_are_contained(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "bad.py").write_text(BAD_CONVERTERS, encoding="utf-8")
    station.write_config(
        converter("raises", "bad.py:Raises", inbox / "raises")
        + converter("hangs", "bad.py:Hangs", inbox / "hangs", "timeout = 2.0\n")
        + converter("exits", "bad.py:Exits", inbox / "exits")
        + converter("wsjf", "wsjf", inbox / "wsjf")
        + converter("missing", "no_such_module:Nope", inbox / "missing")
    )
    for sub in ("raises", "hangs", "exits", "wsjf"):
        (inbox / sub).mkdir(parents=True)
        if sub != "wsjf":
            (inbox / sub / "unit.dat").write_text("data", encoding="utf-8")
    good = [make_report(i) for i in range(6)]
    station.start()
    try:
        for n, (_, data) in enumerate(good):
            (inbox / "wsjf" / f"good-{n}.json").write_bytes(data)
            time.sleep(0.2)
        wait_for(lambda: len(server_ids(server)) == 6, timeout=60, what="the good reports")
        for sub in ("raises", "hangs", "exits"):
            note = inbox / sub / "Error" / "unit.dat.error.txt"
            wait_for(note.exists, timeout=30, what=f"{sub} to fail")
        reason = {
            sub: (inbox / sub / "Error" / "unit.dat.error.txt").read_text()
            for sub in ("raises", "hangs", "exits")
        }
        assert "converter raised ValueError: this converter is broken" in reason["raises"]
        assert "timed out after 2 s" in reason["hangs"]
        assert "exited with code 3" in reason["exits"]

        def by_names() -> dict[str, dict[str, Any]]:
            return {c["name"]: c for c in station.status()["converters"]}

        wait_for(lambda: by_names().get("wsjf", {}).get("converted") == 6, what="status")
        by_name = by_names()
        assert by_name["raises"]["failed"] == 1
        assert "this converter is broken" in by_name["raises"]["last_error"]
        assert by_name["missing"]["state"] == "broken"
        assert "no_such_module" in by_name["missing"]["error"]
        assert by_name["wsjf"]["converted"] == 6
        assert station.running()
    finally:
        assert station.stop() == 0


FOLDER_AND_SCHEDULED = """
from pywats import CompOp, ReportBuilder
from pywats_station.converters import Converted, FolderConverter, ScheduledConverter


def report(ctx, sn, value):
    b = ReportBuilder.uut(pn="FOLDER-PN", sn=sn, rev="A", process_code=10,
                          station=ctx.station.name, location=ctx.station.location,
                          purpose=ctx.station.purpose)
    b.root.numeric("Value", value, CompOp.LOG)
    return b.build()


class RunFolder(FolderConverter):
    name = "run-folder"
    patterns = ("RUN-*",)
    ready_marker = "COMPLETE.marker"

    def convert(self, folder, ctx):
        values = [float(p.read_text()) for p in sorted(folder.glob("*.val"))]
        return Converted(reports=[report(ctx, folder.name, sum(values))])


class Poller(ScheduledConverter):
    name = "poller"
    schedule = "every 1s"
    run_at_startup = True

    def run(self, ctx):
        return Converted(reports=[report(ctx, "POLLED", 1.0)])
"""


def test_folder_and_scheduled_converters_run_inside_the_daemon(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "mine.py").write_text(FOLDER_AND_SCHEDULED, encoding="utf-8")
    station.write_config(
        converter("runs", "mine.py:RunFolder", inbox / "runs", 'type = "folder"\n')
        + textwrap.dedent(
            """
            [[converters]]
            name = "poller"
            kind = "mine.py:Poller"
            type = "scheduled"
            schedule = "every 1s"
            run_at_startup = true
            """
        )
    )
    run = inbox / "runs" / "RUN-001"
    run.mkdir(parents=True)
    (run / "a.val").write_text("1.5", encoding="utf-8")
    station.start()
    try:
        wait_for(lambda: len(server_ids(server)) >= 2, timeout=30, what="scheduled runs")
        time.sleep(1.0)
        assert not (inbox / "runs" / "Done" / "RUN-001").exists()  # not ready: no marker yet
        (run / "b.val").write_text("2.0", encoding="utf-8")
        (run / "COMPLETE.marker").write_text("", encoding="utf-8")
        wait_for(lambda: (inbox / "runs" / "Done" / "RUN-001").is_dir(), timeout=30, what="done")

        def converters() -> dict[str, dict[str, Any]]:
            return {c["name"]: c for c in station.status()["converters"]}

        wait_for(lambda: converters()["runs"]["converted"] == 1, what="the status file")
        status = converters()
        assert status["runs"]["converted"] == 1
        assert status["poller"]["converted"] >= 2
        assert status["poller"]["state"] == "scheduled"
    finally:
        assert station.stop() == 0


@pytest.mark.parametrize("name", WSJF_FILES)
def test_every_real_wsjf_file_converts_with_the_cli(name: str, tmp_path: Path) -> None:
    path = real_file("wsjf", name)
    done = subprocess.run(
        [sys.executable, "-m", "pywats_station", "convert", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYWATS_STATION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    converted = wsjf.loads(done.stdout)
    assert converted == wsjf.loads(path.read_bytes())


def test_convert_prints_a_readable_tree_and_fails_clearly(tmp_path: Path) -> None:
    env = {"PYWATS_STATION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    tree = subprocess.run(
        [sys.executable, "-m", "pywats_station", "convert", str(REAL / "wsjf" / WSJF_FILES[0])],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    if not (REAL / "wsjf").is_dir():
        pytest.skip("real fixtures missing")
    assert tree.returncode == 0
    assert "FATTest-325" in tree.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "pywats_station", "convert", str(bad), "--kind", "wsjf"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert failed.returncode == 1
    assert "invalid WSJF" in failed.stdout


def test_demo_runs_and_uploads(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pywats_station",
            "demo",
            "--duration",
            "20",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    count = int(last.split()[0])
    assert last == f"{count} reports uploaded"
    assert count >= 10
    assert (tmp_path / "in" / "wsjf" / "Error" / "broken.json.error.txt").exists()
    assert signal.SIGTERM  # (the demo handles it; exercised by hand)

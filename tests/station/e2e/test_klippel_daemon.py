"""Klippel QC runs in the real daemon, against the strict emulator over TCP.

A Klippel station writes its header file and the folder of curves beside it one after the
other; the daemon must send exactly one report, and only once both are there and have stopped
changing. A header whose folder never comes goes to Error, with the reason beside it.
"""

from __future__ import annotations

import shutil
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats import pyWATS
from pywats.models.report import UUTReport
from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.actors._folder_claim import CLAIM_FILE
from tests.fixtures import real_dir
from tests.station.e2e.harness import Station, emulator, server_ids, wait_for

pytestmark = pytest.mark.e2e

FIXTURE = "DUT-xyz115-2020-05-14-10-01-37-5-UTC+0200"
SPACED = "DUT xyz115 2020-05-14 10-01-37-5 UTC+0200"  # the name the station writes


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator(strict=True) as running:
        yield running


def klippel(watch: Path, *, settle: float, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "klippel"
        kind = "klippel"
        type = "folder"
        watch = "{watch}"
        settle = {settle}
        post_action = "move"

        [converters.arguments]
        part_number = "SPK-8-WOOFER"
        revision = "B"
        """
    ) + textwrap.dedent(extra)


def entries(folder: Path) -> list[str]:
    """What a folder holds (not the daemon's hidden claim file)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name != CLAIM_FILE)


def test_header_first_curves_later_makes_one_report_once_both_are_complete(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    real = real_dir("klippel")
    inbox = tmp_path / "klippel"
    inbox.mkdir()
    station = Station(tmp_path / "home", server)
    station.write_config(klippel(inbox, settle=1.0))
    station.start()
    try:
        wait_for(lambda: (inbox / "Done").is_dir(), what="the converter watching")
        # The header first: the pair is incomplete, so the daemon waits (and says why).
        shutil.copyfile(real / f"{FIXTURE}.txt", inbox / f"{SPACED}.txt")

        def suspended() -> bool:
            found = {c["name"]: c for c in station.status()["converters"]}
            return int(found["klippel"]["suspended"]) >= 1

        wait_for(suspended, what="the header alone seen and waited for")
        assert server_ids(server) == []
        assert entries(inbox) == sorted(["Done", "Error", f"{SPACED}.txt"])
        # Then the folder, its curves one by one (each pause shorter than settle).
        folder = inbox / SPACED
        folder.mkdir()
        for source in sorted((real / FIXTURE).iterdir()):
            name = source.name.replace("Sound-Pressure", "Sound Pressure")
            shutil.copyfile(source, folder / name)
            time.sleep(0.2)
        wait_for(lambda: len(server_ids(server)) >= 1, timeout=60, what="the report")
        wait_for(lambda: entries(inbox / "Done") == [SPACED, f"{SPACED}.txt"], what="Done")
        time.sleep(1.5)  # nothing more may arrive
        (report_id,) = server_ids(server)
        assert entries(inbox) == ["Done", "Error"]
        assert entries(inbox / "Done" / SPACED) == [
            "Impedance-imp.txt",
            "Impedance-values.txt",
            "Sound Pressure-rbz.txt",
            "Sound Pressure-resp.txt",
            "Sound Pressure-thd.txt",
            "Sound Pressure-values.txt",
        ]
        with pyWATS(server.url, server.token) as api:
            report = api.report.get_report(report_id)
        assert isinstance(report, UUTReport)
        assert (report.sn, report.pn, report.result) == ("xyz115", "SPK-8-WOOFER", "F")
        assert report.start is not None
        assert report.start.isoformat() == "2020-05-14T10:01:37.563000+02:00"
        names = [s.name for s in report.root.steps or []] if report.root else []
        assert names == ["Impedance", "Sound Pressure", "Results without data"]
        assert len([s for s in report.steps() if s.chart is not None]) == 4
    finally:
        assert station.stop() == 0


def test_a_header_whose_folder_never_comes_goes_to_error_with_its_reason(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    real = real_dir("klippel")
    inbox = tmp_path / "klippel"
    inbox.mkdir()
    shutil.copyfile(real / f"{FIXTURE}.txt", inbox / f"{SPACED}.txt")
    station = Station(tmp_path / "home", server)
    station.write_config(klippel(inbox, settle=0.3, extra="incomplete_timeout = 2\n"))
    station.start()
    try:
        note = inbox / "Error" / f"{SPACED}.error.txt"
        wait_for(note.is_file, timeout=60, what="the header in Error")
        assert entries(inbox / "Error") == sorted([f"{SPACED}.txt", f"{SPACED}.error.txt"])
        text = note.read_text(encoding="utf-8")
        assert "converter: klippel" in text
        assert f"reason: incomplete: the folder {SPACED} still missing " in text
        assert "(arguments.incomplete_timeout = 2 s)" in text
        assert server_ids(server) == []
    finally:
        assert station.stop() == 0

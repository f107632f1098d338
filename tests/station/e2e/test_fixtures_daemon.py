"""Every real fixture end to end, on the command line and in the daemon, to the strict emulator.

One emulator with the live server's validation (``--strict``) and one daemon with two
converters: ``auto`` on one watch folder for every file format (each kind with the arguments a
real station would give it: a process the server knows, TestStand's missing part number), and
``klippel`` on another for the folder format. Every fixture is copied in under a name a real
station writes (spaces and brackets); each file's reports must reach the server (the ids the
converter gives them when it converts the file here, in this process) and nothing may land in
Error. ``pywats-station convert`` with the same configuration must make the same reports, and
the strict emulator must accept them.

The WATS exports among the fixtures are the exception the live server makes itself: they break
its own consistency rules (loop indexes, a measurement's status) or point to a test report that
is not on this server, so it refuses them. They are converted (the file goes to Done, its
reports keep their ids) and then held as dead letters with the server's reason, as the delivery
guarantee promises: never lost, never hidden.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats import pyWATS
from pywats.formats import wsjf
from pywats.testing import FakeWATS
from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.actors._folder_claim import CLAIM_FILE
from pywats_station.converters import Converted
from pywats_station.converters.tryit import try_convert
from tests.fixtures import REAL
from tests.station.converters.real_inputs import Fixture, own_kind, real_inputs
from tests.station.e2e.harness import Station, emulator, server_ids, wait_for

pytestmark = pytest.mark.e2e

EQUIPMENT = ("atml", "teststand", "teradyne_gr228x", "teradyne_spectrum", "spea_3030", "xjtag",
             "takaya_atd")  # fmt: skip
# What a station gives each kind: a process this server knows (the files name none, or one of
# their own), and the part number a plain TestStand report lacks.
ARGUMENTS: dict[str, dict[str, Any]] = {kind: {"process": 50} for kind in EQUIPMENT}
ARGUMENTS["teststand"]["part_number"] = "TS-BOARD-1"
KLIPPEL = {"process": 50, "part_number": "SPK-115"}
EXPORTS = ("wsjf", "wsxf")  # the server's own exports: refused by its consistency rules


def toml_table(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + "}"


def config(inbox: Path, folders: Path) -> str:
    kinds = "\n".join(f"{kind} = {toml_table(args)}" for kind, args in ARGUMENTS.items())
    klippel = "\n".join(f"{key} = {json.dumps(value)}" for key, value in KLIPPEL.items())
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "files"
        kind = "auto"
        watch = "{inbox}"
        settle = 0.3

        [converters.arguments]
        """
    ) + kinds + textwrap.dedent(
        f"""

        [[converters]]
        name = "audio"
        kind = "klippel"
        type = "folder"
        watch = "{folders}"
        settle = 0.3

        [converters.arguments]
        """
    ) + klippel + "\n"  # fmt: skip


def station_name(name: str) -> str:
    """The name a real station writes (the fixtures' dashes were its spaces), with brackets.

    ``ATML-5.00-[2-31-11-PM][5-15-2019].xml`` -> ``ATML 5.00 [2 31 11 PM][5 15 2019] [L3].xml``;
    a folder and its companion header change alike, so the pair still matches.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot or " " in suffix or len(suffix) > 6:  # no suffix: a folder's name
        stem, dot, suffix = name, "", ""
    return f"{stem.replace('-', ' ')} [L3]{dot}{suffix}"


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator(strict=True) as running:
        yield running


def inputs() -> list[Fixture]:
    """The fixtures a converter is made for (files, and the Klippel run folder)."""
    found = [f for f in real_inputs() if own_kind(f) is not None]
    if not found:
        pytest.skip(f"real fixtures not found at {REAL} (set PYWATS_REAL_FIXTURES)")
    return found


def place(fixture: Fixture, inbox: Path, folders: Path) -> Path:
    """Copy a fixture where its converter watches, under a real station's name."""
    if not fixture.folder:
        target = inbox / station_name(fixture.path.name)
        shutil.copyfile(fixture.path, target)
        return target
    target = folders / station_name(fixture.path.name)
    shutil.copytree(fixture.path, target)
    header = fixture.path.with_name(fixture.path.name + ".txt")  # the run's companion
    shutil.copyfile(header, folders / (target.name + ".txt"))
    return target


def expected(path: Path, fixture: Fixture) -> Converted:
    """The reports the converter makes of ``path`` here: the daemon must deliver these."""
    if fixture.folder:
        tried = try_convert(path, kind="klippel", arguments=KLIPPEL, processes=[])
    else:
        tried = try_convert(path, kind="auto", arguments=ARGUMENTS, processes=[])
    assert isinstance(tried.result, Converted), (path.name, tried.result)
    return tried.result


def files(folder: Path) -> list[str]:
    """The names in ``folder`` (none if it does not exist), the claim file aside."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name != CLAIM_FILE)


def test_every_fixture_converts_on_the_command_line_and_in_the_daemon(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    fixtures = inputs()
    stage, inbox, folders = tmp_path / "stage", tmp_path / "in" / "files", tmp_path / "in" / "audio"
    for folder in (stage / "files", stage / "audio", inbox, folders):
        folder.mkdir(parents=True)
    station = Station(tmp_path / "home", server)
    station.write_config(config(inbox, folders))
    staged = [(f, place(f, stage / "files", stage / "audio")) for f in fixtures]
    want = {path.name: expected(path, f) for f, path in staged}

    # The command line, with the station's configuration: the same reports, which the strict
    # emulator accepts (the server's own exports aside, see the module docstring).
    fake = FakeWATS(token="cli", strict=True)
    with pyWATS("http://wats.test", "cli", transport=fake) as api:
        for fixture, path in staged:
            name = "audio" if fixture.folder else "files"
            done = station.cli("convert", str(path), "--converter", name, "--json", check=False)
            assert done.returncode == 0, f"{path.name}: {done.stdout}\n{done.stderr}"
            data = json.loads(done.stdout)
            reports = [
                wsjf.loads(json.dumps(r)) for r in (data if isinstance(data, list) else [data])
            ]
            if not fixture.folder:  # a folder's reports get their ids from the station
                assert [r.id for r in reports] == [r.id for r in want[path.name].reports]
            if own_kind(fixture) not in EXPORTS:
                for report in reports:
                    api.report.submit_report(report)
    fake.close()

    # The daemon: every input dropped in while it runs, under its station name.
    station.start()
    try:
        for fixture, path in staged:
            if fixture.folder:
                shutil.copytree(path, folders / path.name)
                shutil.copyfile(path.with_name(path.name + ".txt"), folders / (path.name + ".txt"))
            else:
                shutil.copyfile(path, inbox / path.name)
        accepted = [(f, p) for f, p in staged if own_kind(f) not in EXPORTS]
        count = sum(len(want[p.name].reports) for _, p in accepted)
        wait_for(lambda: len(server_ids(server)) >= count, timeout=180, what=f"{count} reports")
        on_server = set(server_ids(server))
        missing = {
            p.name: ids
            for f, p in accepted
            if not f.folder and not (ids := {str(r.id) for r in want[p.name].reports}) <= on_server
        }
        assert missing == {}
        assert len(on_server) == count  # the Klippel run's report(s) included

        exports = [p.name for f, p in staged if own_kind(f) in EXPORTS]
        refused = sum(len(want[name].reports) for name in exports)
        wait_for(
            lambda: station.status()["queue"]["dead"] == refused, what="the exports' dead letters"
        )
        dead = json.loads(station.cli("queue", "list", "--state", "dead", "--json").stdout)
        reasons = " ".join(entry["dead_reason"] for entry in dead)
        assert "endingIndex" in reasons
        assert "was not found" in reasons  # the repair report's test report
        assert files(inbox / "Error") == []
        assert files(folders / "Error") == []
        assert files(inbox / "Done") == sorted(p.name for f, p in staged if not f.folder)
        assert files(folders / "Done") != []
    finally:
        assert station.stop() == 0

"""Hub mode in the real daemon: one station collects several testers' files, each as itself.

Each converter may carry a ``[converters.station]`` whose keys override ``[station]``'s in its
reports. Checked here end to end: the reports on the emulator name each converter's station,
``status`` and ``converters.list`` say it, a changed ``[converters.station]`` reloads the
converter, and a changed ``[station]`` reaches the converters that inherit from it.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from pywats import pyWATS
from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.control import open_control_client
from tests.station.e2e.harness import Station, emulator, server_ids, wait_for

pytestmark = pytest.mark.e2e

CSV = "Serial\tV_3V3\tResult\n{sn}\t3.31\tPASS\n"


def ict(name: str, watch: Path, station: str = "") -> str:
    """A CSV converter (one unit per row) with its own station table, if given."""
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "csv"
        watch = "{watch}"
        patterns = ["*.tsv"]
        settle = 0.3

        [converters.arguments]
        layout = "units"
        part_number = "PCBA-7"
        revision = "A"
        process_code = 50
        """
    ) + textwrap.dedent(station)


ICT_1 = """
[converters.station]
name = "ICT-1"
location = "Line 3"
"""
ICT_2 = """
[converters.station]
name = "ICT-2"
location = "Line 3"
purpose = "Debug"
"""


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def drop(folder: Path, sn: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{sn}.part"
    tmp.write_text(CSV.format(sn=sn), encoding="utf-8")
    tmp.rename(folder / f"{sn}.tsv")


def headers(server: EmulatorProcess) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Serial number -> (machineName, location, purpose) of every report on the server."""
    with pyWATS(server.url, server.token) as api:
        reports = [api.report.get_report(rid) for rid in server_ids(server)]
    return {r.sn or "": (r.machine_name, r.location, r.purpose) for r in reports}


def converters_list(station: Station) -> list[dict[str, Any]]:
    """``converters.list`` over the running daemon's control channel."""
    url = station.control_url()
    token = station.cli("control", "token").stdout.strip()

    async def call() -> list[dict[str, Any]]:
        async with open_control_client(url, token=token) as client:
            found: list[dict[str, Any]] = (await client.call("converters.list"))["converters"]
            return found

    return trio.run(call)


def test_each_converter_reports_as_its_own_station(tmp_path: Path, server: EmulatorProcess) -> None:
    inbox = tmp_path / "in"
    station = Station(tmp_path / "home", server)
    config = ict("ict-1", inbox / "ict-1", ICT_1) + ict("ict-2", inbox / "ict-2", ICT_2)
    config += ict("fct", inbox / "fct")  # no table of its own: the hub's [station]
    station.write_config(config)
    station.start()
    try:
        for name, sn in (("ict-1", "A-1"), ("ict-2", "B-1"), ("fct", "C-1")):
            drop(inbox / name, sn)
        wait_for(lambda: len(server_ids(server)) == 3, timeout=60, what="three reports")
        assert headers(server) == {
            "A-1": ("ICT-1", "Line 3", "Production"),  # purpose: [station]'s default
            "B-1": ("ICT-2", "Line 3", "Debug"),
            "C-1": ("e2e-default", "Lab", "Production"),
        }

        status = station.cli("status", check=False).stdout
        lines = {line.split(":")[0]: line for line in status.splitlines()}
        assert lines["converter ict-1"].endswith(", as station ICT-1 (Line 3, Production)")
        assert lines["converter ict-2"].endswith(", as station ICT-2 (Line 3, Debug)")
        assert "as station" not in lines["converter fct"]
        as_json = json.loads(station.cli("status", "--json", check=False).stdout)
        by_name = {c["name"]: c for c in as_json["converters"]}
        assert by_name["ict-2"]["station"] == {
            "name": "ICT-2",
            "location": "Line 3",
            "purpose": "Debug",
        }
        assert by_name["fct"]["station"] is None
        listed = {c["name"]: c["station"] for c in converters_list(station)}
        assert listed["ict-1"] == {"name": "ICT-1", "location": "Line 3", "purpose": "Production"}
        assert listed["fct"] == {"name": "e2e-default", "location": "Lab", "purpose": "Production"}

        # A new name for one tester: its converter is reloaded; [station] moves: the converter
        # that inherits follows without a reload, the others keep what they set themselves.
        config = config.replace('name = "ICT-2"', 'name = "ICT-2B"')
        config_file = station.config_dir / "config.toml"
        text = config_file.read_text(encoding="utf-8").split("\n[[converters]]")[0]
        text = text.replace('location = "Lab"', 'location = "Hall 2"')
        config_file.write_text(text + "\n" + config, encoding="utf-8")
        wait_for(
            lambda: (
                {c["name"]: c["station"] for c in converters_list(station)}["ict-2"]["name"]
                == "ICT-2B"
            ),
            what="the reloaded converter",
        )
        time.sleep(0.5)  # the reloaded actor claims its folder and scans it
        for name, sn in (("ict-1", "A-2"), ("ict-2", "B-2"), ("fct", "C-2")):
            drop(inbox / name, sn)
        wait_for(lambda: len(server_ids(server)) == 6, timeout=60, what="three more reports")
        found = headers(server)
        assert found["A-2"] == ("ICT-1", "Line 3", "Production")
        assert found["B-2"] == ("ICT-2B", "Line 3", "Debug")
        assert found["C-2"] == ("e2e-default", "Hall 2", "Production")
    finally:
        assert station.stop() == 0

"""The worked example in ``config-examples/converters/``: it converts its sample."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pywats_station.converters import Converted, Failed, Skipped, Suspended
from pywats_station.converters.registry import load_converter
from pywats_station.converters.sandbox import ContextData, convert_in_child
from pywats_station.converters.tryit import try_convert
from tests.station.converters.helpers import DATA, PROCESSES, STATION

EXAMPLES = Path(__file__).resolve().parents[3] / "config-examples" / "converters"
KIND = str(EXAMPLES / "line_tester.py")
SAMPLE = DATA / "line_tester_sample.log"


def test_the_readme_shows_the_sample() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    block = re.search(r"## The input\n\n```text\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    assert block.group(1) == SAMPLE.read_text()


def test_the_example_converts_its_sample() -> None:
    result = try_convert(SAMPLE, kind=KIND, station=STATION, processes=PROCESSES)
    assert result.converter == "line-tester"
    assert result.validation is not None
    assert result.validation.confidence == 1.0
    assert result.validation.preview.serial_number == "PSU-0042"
    assert isinstance(result.result, Converted), result.result
    (report,) = result.result.reports
    assert (report.sn, report.pn, report.rev, report.process_code) == (
        "PSU-0042",
        "PSU-48V-200",
        "C",
        50,
    )
    assert report.result == "P"
    names = [s.name for s in report.steps()]
    assert names == ["MainSequence Callback", "Line test", "3V3 rail", "5V rail", "Ripple",
                     "Idle current", "Fan", "Firmware"]  # fmt: skip
    assert any("LT200 log of PSU-0042" in line for line in result.log)


def test_the_example_through_the_sandbox() -> None:
    data = ContextData(station=STATION, processes=PROCESSES, arguments={"process": "PCBA test"})
    result = convert_in_child(KIND, None, SAMPLE, data, timeout=20)
    assert isinstance(result, Converted), result
    assert result.reports[0].sn == "PSU-0042"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("end\n", ""), Suspended),
        (lambda t: t.replace("LT200 RESULT", "LT200 CALIBRATION"), Skipped),
        (lambda t: t.replace("3.312 V", "3.3x V"), Failed),
        (lambda t: t.replace("verdict: PASS", "verdict: FAIL"), Converted),
    ],
)
def test_the_example_outcomes(tmp_path: Path, edit: object, expected: type) -> None:
    assert callable(edit)
    path = tmp_path / "edited.log"
    path.write_text(edit(SAMPLE.read_text()))
    result = try_convert(path, kind=KIND, station=STATION, processes=PROCESSES)
    assert isinstance(result.result, expected), result.result
    if isinstance(result.result, Failed):
        assert result.result.reason == "line 7: could not convert string to float: '3.3x'"
    if isinstance(result.result, Converted):
        assert result.result.reports[0].result == "F"


def test_the_example_loads_as_one_converter_class() -> None:
    assert load_converter(KIND).name == "line-tester"


def test_converted_reports_are_accepted_by_the_emulator() -> None:
    # As docs/converters.md shows: convert with the server's processes, then submit.
    from pywats import pyWATS
    from pywats.testing import FakeWATS

    fake = FakeWATS(token="test-token", strict=True)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        processes = api.app.get_processes()
        result = try_convert(SAMPLE, kind=KIND, station=STATION, processes=processes)
        assert isinstance(result.result, Converted), result.result
        for report in result.result.reports:
            api.report.submit_report(report)
    stored = fake.get_report(str(result.result.reports[0].id))
    assert stored is not None
    assert stored.sn == "PSU-0042"
    fake.close()

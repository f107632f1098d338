"""The worked example of ``docs/converters.md`` works as shown, with its configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pywats_station.converters import Converted, Failed, Skipped
from pywats_station.converters.tryit import try_convert
from tests.station.converters.helpers import PROCESSES, STATION

DOC = Path(__file__).resolve().parents[3] / "docs" / "converters.md"


def block(language: str, first_line: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    for found in re.finditer(rf"```{language}\n(.*?)```", text, re.DOTALL):
        if found.group(1).startswith(first_line):
            return found.group(1)
    raise AssertionError(f"no ```{language} block starting {first_line!r} in {DOC}")


@pytest.fixture
def converter(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    (tmp_path / "converters").mkdir()
    (tmp_path / "converters" / "kv_tester.py").write_text(
        block("python", "# converters/kv_tester.py")
    )
    config = tomllib.loads(block("toml", '[[converters]]\nname = "kv"'))
    (entry,) = config["converters"]
    return tmp_path, entry


def test_the_worked_example_converts_its_sample(converter: tuple[Path, dict[str, object]]) -> None:
    base, entry = converter
    sample = block("text", "# results/unit-7.kv")
    path = base / "unit-7.kv"
    path.write_text(sample)
    arguments = entry["arguments"]
    assert isinstance(arguments, dict)
    result = try_convert(path, kind=str(entry["kind"]), arguments=arguments, base_dir=base,
                         station=STATION, processes=PROCESSES)  # fmt: skip
    assert result.converter == "kv-tester"
    assert isinstance(result.result, Converted), result.result
    (report,) = result.result.reports
    assert (report.sn, report.pn, report.process_code, report.result) == (
        "SN-0007",
        "PCBA-100",
        50,
        "P",
    )
    assert result.validation is not None
    assert result.validation.preview.serial_number == "SN-0007"


def test_the_worked_example_outcomes(converter: tuple[Path, dict[str, object]]) -> None:
    base, entry = converter
    arguments = entry["arguments"]
    assert isinstance(arguments, dict)

    def run(text: str) -> object:
        path = base / "x.kv"
        path.write_text(text)
        return try_convert(path, kind=str(entry["kind"]), arguments=arguments, base_dir=base,
                           station=STATION, processes=PROCESSES).result  # fmt: skip

    high = run("serial=SN-1\nvoltage=3.5\ncurrent=0.1\nled=ok\n")
    assert isinstance(high, Converted)
    assert high.reports[0].result == "F"
    assert run("kind=calibration\n") == Skipped(reason="a calibration file")
    assert run("voltage=3.3\n") == Failed(reason="no serial= line")
    assert run("serial=SN-1\nvoltage=x\n") == Failed(
        reason="bad or missing value: could not convert string to float: 'x'"
    )

"""``docs/converters.md`` says what the converters do: its worked example, its messages.

Every block of the guide runs in ``tests/test_docs_examples.py``; here are the checks that need
more than "it runs": the worked example's outcomes, the argument errors the guide lists, and the
messages it quotes for a broken input, each produced from an input.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pywats_station.converters import (
    ConversionError,
    Converted,
    ConverterConfigError,
    Failed,
    Skipped,
)
from pywats_station.converters.api import parse_arguments
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.wsjf import read_wsjf
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import read_wsxf
from pywats_station.converters.registry import load_converter
from pywats_station.converters.sandbox import run_conversion
from pywats_station.converters.tryit import try_convert
from tests.doc_examples import ROOT, blocks, group
from tests.station.converters.helpers import PROCESSES, STATION, make_ctx

DOC = ROOT / "docs" / "converters.md"


@pytest.fixture
def converter(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """The worked example's converter file and configuration entry, as the guide shows them."""
    kv = group(DOC, "kv")
    (module,) = [b for b in kv if b.options.get("file", "").endswith(".py")]
    (tmp_path / module.options["file"]).parent.mkdir(parents=True)
    (tmp_path / module.options["file"]).write_text(module.text)
    (config,) = [b for b in kv if b.kind == "config"]
    (entry,) = tomllib.loads(config.text)["converters"]
    return tmp_path, entry


def test_the_worked_example_converts_its_sample(converter: tuple[Path, dict[str, object]]) -> None:
    base, entry = converter
    (sample,) = [b for b in group(DOC, "kv") if b.kind == "input"]
    path = base / "unit-7.kv"
    path.write_text(sample.text)
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


def test_the_argument_errors_the_guide_lists(converter: tuple[Path, dict[str, object]]) -> None:
    base, _ = converter
    (listed,) = [b for b in blocks(DOC) if b.text.startswith("arguments.part_number:")]
    kv = load_converter(str(base / "converters" / "kv_tester.py"))

    def error(cls: type, raw: dict[str, object]) -> str:
        with pytest.raises(ConverterConfigError) as caught:
            parse_arguments(cls, raw)
        return str(caught.value)

    produced = [
        error(kv, {}),
        error(kv, {"part_number": "P", "voltage_limits": "3.2-3.4"}),
        error(kv, {"part_number": "P", "colour": "red"}),
        error(CsvConverter, {"measurements": [{"column": "V", "low": "low"}]}),
    ]
    assert listed.text.splitlines() == produced


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    return text[start : text.index("\n### ", start + 1)]


def _quoted(section: str) -> list[str]:
    """The code spans of a section (``…`` spans too), each joined onto one line."""
    spans = re.findall(r"``(.+?)``|`([^`]+)`", section, re.DOTALL)
    return [" ".join((a or b).split()) for a, b in spans]


def _message(read: object, data: bytes) -> str:
    assert callable(read)
    with pytest.raises(ConversionError) as caught:
        read(data)
    return str(caught.value)


def _failure(tmp_path: Path, cls: type, name: str, data: bytes, args: dict[str, object]) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    result = run_conversion(cls(), path, make_ctx(cls, args))
    assert isinstance(result, Failed), result
    return result.reason


def test_the_messages_the_guide_quotes_for_a_broken_input_are_what_the_converters_say(
    tmp_path: Path,
) -> None:
    """The guide promised "the line and column"; a truncated file said neither."""
    csv_args: dict[str, object] = {"part_number": "P", "revision": "A", "process_code": 10}
    wstf = (
        b"--Header-Start--\nSerialNumber\tSN-1\nPartNumber\tP\nRevision\tA\n"
        b"OperationTypeCode\t10\n--Step-Data-Start--\nNumericLimitTest\t3V3\t\t3.31\n"
    )
    cut_xml = b"<Reports>\n  <Report type='UUT'>\n    <Step Name='Main'>\n      <Step"
    said = {
        _message(read_wsjf, b'{"type": "T",\n  "sn" "SN-0007"}'),
        _message(read_wsjf, b'{"type": "T",\n  "sn": "SN-00'),
        _message(read_wsjf, b'{"type": "T",\n  "processCode": "ten"}'),
        _message(read_wsxf, b"<Reports>\n  <Report type='UUT'>\n  </Reports>"),
        _message(read_wsxf, cut_xml),
        _message(
            read_wsxf,
            b"<Reports>\n<Report type='UUT'>\n  <Step><Step Id='4'>\n"
            b"   <NumericLimit/><NumericLimit NumericValue='x'/></Step></Step></Report></Reports>",
        ),
        _failure(tmp_path, CsvConverter, "a.csv",
                 b"SerialNumber;Step;Value;Low;High\nSN-1;3V3;3.31;3.2;3.4\nSN-1;Ripple;0.x2;;0.05\n",
                 csv_args),
        _failure(tmp_path, CsvConverter, "b.csv",
                 b'SerialNumber;Step;Value\nSN-1;3V3;3.31\nSN-1;"Ripple;0.02\n', csv_args),
        _failure(tmp_path, CsvConverter, "c.csv",
                 "SerialNumber;Step;Value\nSN-1;Temp \u00b0C;21\n".encode("latin-1"), csv_args),
        _failure(tmp_path, WstfConverter, "d.txt", wstf, {}),
    }  # fmt: skip
    quoted = [span for span in _quoted(_section("What a broken input says")) if "line " in span]
    assert len(quoted) == len(said)
    assert set(quoted) == said

"""Trying a converter on a file, and the text views the CLI prints."""

from __future__ import annotations

from pathlib import Path

import msgspec

from pywats.formats import wsjf
from pywats.report_builder import ReportBuilder
from pywats_station.converters import Converted, Failed
from pywats_station.converters.tryit import TryResult, render, render_tree, try_convert
from tests.fixtures import real_file
from tests.station.converters.helpers import DATA, PROCESSES, STATION


def test_try_a_builtin_on_a_sample() -> None:
    result = try_convert(DATA / "wstf_multi.txt", kind="wstf", station=STATION, processes=PROCESSES)
    assert result.converter == "wstf"
    assert result.validation is not None
    assert result.validation.confidence == 1.0
    assert result.verdict == "ok"
    assert isinstance(result.result, Converted)
    assert [r.sn for r in result.result.reports] == ["SN-1001", "SN-1002"]
    text = render(result)
    assert "confidence: 1.00 (ok)" in text
    assert "outcome: converted, 2 report(s)" in text
    assert "UUT sn SN-1002  pn PCBA-100  rev B  process 50  result Failed" in text


def test_the_kind_is_guessed_from_the_built_ins() -> None:
    for name, kind in (("uut-wsjf-export.json", "wsjf"), ("uut-wsxf-export.xml", "wsxf")):
        result = try_convert(real_file("wsjf", name))
        assert result.kind == kind
        assert isinstance(result.result, Converted)
        assert any(f"kind {kind} chosen" in line for line in result.log)


def test_load_and_argument_errors_are_results(tmp_path: Path) -> None:
    result = try_convert(tmp_path / "x.txt", kind="nope:Nothing")
    assert result.result == Failed(reason="module 'nope' not found")
    assert result.converter == ""
    bad = try_convert(DATA / "csv_steps.csv", kind="csv", arguments={"layout": "rows"})
    assert isinstance(bad.result, Failed)
    assert bad.result.reason.startswith("arguments.layout: invalid enum value 'rows'")


def test_failed_conversion_shows_its_reason_and_log() -> None:
    result = try_convert(DATA / "csv_steps.csv", kind="csv", station=STATION, processes=PROCESSES)
    assert isinstance(result.result, Failed)
    text = render(result)  # without skip_rows the comment line is taken as the header
    assert "confidence: 0.20 (alarm) — no column Step, Value" in text
    assert "outcome: failed: line 2: no serial number" in text


def test_try_result_encodes_to_json() -> None:
    result = try_convert(real_file("wsjf", "uur_example.json"), kind="wsjf")
    data = msgspec.json.encode(result)
    back = msgspec.json.decode(data, type=TryResult)
    assert back == result
    assert b'"outcome":"converted"' in data


def test_render_tree_shows_names_statuses_values_and_limits() -> None:
    b = ReportBuilder.uut(pn="PN-1", sn="SN-1", rev="A", process_code=10, station="ST",
                          location="L", purpose="Production")  # fmt: skip
    rails = b.root.sequence("Rails")
    rails.numeric("3V3", 3.31, "GELE", low=3.2, high=3.4, unit="V")
    rails.numeric("Ripple", 0.07, "LE", low=0.05, unit="V")
    rails.numeric("Spare", 1.5)
    b.root.string("FW", "1.4.2", "CASESENSIT", limit="1.4.2")
    b.root.pass_fail("LED", True)
    b.root.numeric_loop("Retry", [1.0, 2.0], "GT", low=0.5)
    from pywats.report_builder import Measure

    b.root.multi_numeric("Multi", [Measure("a", 1.0, "LTGT", 0.0, 2.0), Measure("b", 3.0)])
    text = render_tree(b.build())
    lines = text.splitlines()
    assert lines[0] == "UUT sn SN-1  pn PN-1  rev A  process 10  result Failed"
    assert "MainSequence Callback  [Failed]" in lines
    assert "  Rails  [Failed]" in lines
    assert "    3V3  [Passed]  3.31 V  (3.2 <= x <= 3.4)" in lines
    assert "    Ripple  [Failed]  0.07 V  (x <= 0.05)" in lines
    assert "    Spare  [Passed]  1.5  (log)" in lines
    assert "  FW  [Passed]  '1.4.2'  (== '1.4.2', CASESENSIT)" in lines
    assert "  LED  [Passed]" in lines
    assert "  Retry  [Passed]  2  (x > 0.5)  (loop: 2 iterations, 0 failed)" in lines
    assert "  Retry  [Passed]  1  (x > 0.5)  (iteration 0)" in lines
    assert "    - a  [Failed]  1  (x < 0 or x > 2)" in lines
    assert "    - b  [Passed]  3  (log)" in lines


def test_render_tree_of_a_repair_report() -> None:
    report = wsjf.loads(real_file("wsjf", "uur_example.json").read_bytes())
    text = render_tree(report)
    assert text.startswith(f"UUR sn {report.sn}  pn {report.pn}")
    assert "unit 0:" in text


def test_a_raising_converter_shows_its_traceback(tmp_path: Path) -> None:
    path = tmp_path / "boom.py"
    path.write_text(
        "from pathlib import Path\n"
        "from pywats_station.converters import ConverterContext, FileConverter\n\n\n"
        "class Boom(FileConverter):\n"
        "    def convert(self, path: Path, ctx: ConverterContext):\n"
        "        return {}['sn']\n"
    )
    result = try_convert(path, kind=str(path))
    assert result.result == Failed(reason="converter raised KeyError: 'sn'")
    text = render(result)
    assert "Traceback (most recent call last):" in text
    assert f'File "{path}", line 7, in convert' in text


def test_render_of_skipped_and_suspended(tmp_path: Path) -> None:
    kind = str(Path(__file__).resolve().parents[3] / "config-examples/converters/line_tester.py")
    log = tmp_path / "cal.log"
    log.write_text("LT200 CALIBRATION\nend\n")
    assert "outcome: skipped: a calibration log" in render(try_convert(log, kind=kind))
    log.write_text("LT200 RESULT v2\nserial: X\n")
    text = render(try_convert(log, kind=kind))
    assert "outcome: suspended: the log has no 'end' line yet (retry after 30 s)" in text

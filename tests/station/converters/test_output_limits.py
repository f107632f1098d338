"""Report size caps: every converter's reports are refused above the limit, naming it.

``max_report_size`` is the largest report the server accepts (IIS's 30,000,000 bytes by
default), ``max_output_size`` the most WSJF the station takes from one input. The built-ins that
make many steps from few bytes (``csv``, ``wstf``) stop as soon as their report is certainly too
large, instead of building the whole file first.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pywats.formats import wsjf
from pywats_station.config import ConfigError, load_config, save_config
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin._budget import (
    SERVER_REQUEST_LIMIT,
    OutputBudget,
    OutputLimits,
    OutputTooLarge,
    human_size,
    using_budget,
)
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter
from pywats_station.converters.sandbox import ContextData, convert_in_child, run_conversion
from tests.fixtures import WSJF_FILES, real_file
from tests.station.converters.helpers import DATA, PROCESSES, STATION, make_ctx

CSV_STEPS: dict[str, Any] = {"part_number": "PCBA-1", "revision": "A", "process_code": 10}
CSV_UNITS: dict[str, Any] = {**CSV_STEPS, "layout": "units"}


def limits(report: int = SERVER_REQUEST_LIMIT, output: int = SERVER_REQUEST_LIMIT) -> OutputLimits:
    return OutputLimits(max_report_size=report, max_output_size=output, settings="converters.x")


def reason(result: object) -> str:
    assert isinstance(result, Failed), result
    return result.reason


def steps_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("SerialNumber;Sequence;Step;Value;Low;High;Unit\n")
        for i in range(rows):
            out.write(f"SN-1;Seq{i % 10};Step {i};{3.3 + i % 7 / 1000:.4f};3.2;3.4;V\n")
    return path


def units_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("SerialNumber;V1;V2;Result\n")
        for i in range(rows):
            out.write(f"SN-{i:07d};3.301;5.002;PASS\n")
    return path


def test_the_default_is_what_iis_accepts() -> None:
    assert SERVER_REQUEST_LIMIT == 30_000_000
    assert OutputLimits() == OutputLimits(max_report_size=30_000_000, max_output_size=30_000_000)
    assert human_size(30_000_000) == "30 MB"
    assert human_size(186_234_567) == "186.2 MB"
    assert human_size(812) == "812 bytes"


# --- each converter ---------------------------------------------------------------------------


def test_a_wsjf_report_over_the_cap_is_refused_naming_the_limit() -> None:
    path = real_file("wsjf", "uut-wsjf-export.json")
    size = len(wsjf.dumps(wsjf.loads(path.read_bytes())))
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter), limits=limits(20_000))
    assert reason(result) == (
        f"the report (sn 'FATTest-325') is {human_size(size)} as WSJF; the server accepts at "
        "most 20 kB (converters.x.max_report_size)"
    )
    fits = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter), limits=limits(size))
    assert isinstance(fits, Converted)


def test_wsjf_reports_over_the_input_cap_together_are_refused(tmp_path: Path) -> None:
    docs = [real_file("wsjf", name).read_bytes() for name in WSJF_FILES]
    path = tmp_path / "batch.json"
    path.write_bytes(b"[" + b",".join(docs) + b"]")
    total = sum(len(wsjf.dumps(wsjf.loads(d))) for d in docs)
    result = run_conversion(
        WsjfConverter(), path, make_ctx(WsjfConverter), limits=limits(output=total - 1)
    )
    assert reason(result) == (
        f"the 3 reports of this input are {human_size(total)} as WSJF together; the station "
        f"takes at most {human_size(total - 1)} of reports from one input "
        "(converters.x.max_output_size): split the file or raise the limit"
    )


def test_a_wsxf_report_over_the_cap_is_refused() -> None:
    path = real_file("wsjf", "uut-wsxf-export.xml")
    result = run_conversion(WsxfConverter(), path, make_ctx(WsxfConverter), limits=limits(10_000))
    assert reason(result).startswith("the report (sn 'FATTest-325') is ")
    assert reason(result).endswith(
        "as WSJF; the server accepts at most 10 kB (converters.x.max_report_size)"
    )


def test_a_wstf_report_over_the_cap_stops_at_the_step_that_crosses_it(tmp_path: Path) -> None:
    head, tail = (DATA / "wstf_single.txt").read_text().split("--Step-Data-End--")
    rows = "".join(f"NumericLimitTest\tStep {i}\t\t{i}\t0\t1000000\tGELE\tV\n" for i in range(5000))
    path = tmp_path / "long.txt"
    path.write_text(head + rows + "--Step-Data-End--" + tail)
    result = run_conversion(WstfConverter(), path, make_ctx(WstfConverter), limits=limits(20_000))
    text = reason(result)
    assert text.startswith("the report is over 20 kB as WSJF by line ")
    assert text.endswith(
        "conversion stopped there); the server accepts at most 20 kB (converters.x.max_report_size)"
    )
    line = int(text.split("by line ")[1].split(" ")[0].replace(",", ""))
    assert line < 300  # about 100 steps of 5,000: not read to the end


def test_a_csv_steps_report_over_the_cap_stops_early(tmp_path: Path) -> None:
    path = steps_csv(tmp_path / "long.csv", 100_000)
    result = run_conversion(
        CsvConverter(), path, make_ctx(CsvConverter, CSV_STEPS), limits=limits(50_000)
    )
    text = reason(result)
    assert text.startswith("the report is over 50 kB as WSJF by line ")
    assert "(converters.x.max_report_size)" in text
    line = int(text.split("by line ")[1].split(" ")[0].replace(",", ""))
    assert line < 1_000  # of 100,001


def test_csv_units_over_the_input_cap_stop_early(tmp_path: Path) -> None:
    path = units_csv(tmp_path / "units.csv", 100_000)
    result = run_conversion(
        CsvConverter(), path, make_ctx(CsvConverter, CSV_UNITS), limits=limits(output=100_000)
    )
    text = reason(result)
    assert text.startswith("the reports of this input are over 100 kB as WSJF together by line ")
    assert text.endswith(
        "conversion stopped there); the station takes at most 100 kB of reports from one input "
        "(converters.x.max_output_size): split the file or raise the limit"
    )
    line = int(text.split("by line ")[1].split(" ")[0].replace(",", ""))
    assert line < 1_000


def test_one_csv_unit_over_the_report_cap_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    columns = [f"M{i}" for i in range(400)]
    path.write_text(
        "SerialNumber;" + ";".join(columns) + "\n" + "SN-7;" + ";".join(["1.5"] * 400) + "\n"
    )
    result = run_conversion(
        CsvConverter(), path, make_ctx(CsvConverter, CSV_UNITS), limits=limits(report=20_000)
    )
    assert reason(result).startswith("the report is over 20 kB as WSJF by line 2 (")


def test_within_the_caps_nothing_changes(tmp_path: Path) -> None:
    path = steps_csv(tmp_path / "short.csv", 50)
    ctx = make_ctx(CsvConverter, CSV_STEPS)
    capped = run_conversion(CsvConverter(), path, ctx, limits=limits(100_000))
    assert isinstance(capped, Converted)
    (report,) = capped.reports
    assert len(report.steps()) == 1 + 10 + 50  # root, sequences, rows


def test_a_user_converters_reports_are_capped_in_its_child(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(
        textwrap.dedent(
            """
            from pywats.report_builder import ReportBuilder
            from pywats_station.converters import Converted, FileConverter

            class Big(FileConverter):
                def convert(self, path, ctx):
                    b = ReportBuilder.uut(pn="P", sn="BIG-1", rev="A", process_code=10,
                                          station="S", location="L", purpose="P")
                    for i in range(2000):
                        b.root.numeric(f"step {i}", 1.0, "LOG")
                    return Converted(reports=[b.build()])
            """
        )
    )
    target = tmp_path / "in.txt"
    target.write_text("x")
    data = ContextData(station=STATION, processes=PROCESSES)
    result = convert_in_child("big.py", tmp_path, target, data, timeout=30, limits=limits(50_000))
    text = reason(result)
    assert text.startswith("the report (sn 'BIG-1') is ")
    assert text.endswith("the server accepts at most 50 kB (converters.x.max_report_size)")


def test_the_budget_counts_steps_as_a_lower_bound_of_the_report() -> None:
    result = run_conversion(
        CsvConverter(),
        DATA / "csv_steps.csv",
        make_ctx(CsvConverter, {"skip_rows": 1, **CSV_STEPS}),
    )
    assert isinstance(result, Converted)
    (report,) = result.reports
    budget = OutputBudget(OutputLimits())
    with using_budget(budget):
        for step in report.steps():
            # As the converter counts it while building: no id yet, no children (a sequence's
            # children are counted on their own).
            budget.add_step(msgspec.structs.replace(step, id=None, steps=None), 1)
    assert len(wsjf.dumps(report)) - 400 < budget.report < len(wsjf.dumps(report))
    with pytest.raises(OutputTooLarge):
        OutputBudget(limits(report=10)).add_step(report.steps()[1], 7)


# --- configuration ----------------------------------------------------------------------------


CONVERTER = """
[[converters]]
name = "line-csv"
kind = "csv"
watch = "in"
"""


def test_the_settings_load_and_save_as_sizes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONVERTER)
    default = load_config(path, env={}).converters[0]
    assert (default.max_report_size, default.max_output_size) == (30_000_000, 30_000_000)
    assert default.child_process_above == 1 << 20
    path.write_text(
        CONVERTER
        + 'max_report_size = "100 MB"\nmax_output_size = "1 GB"\nchild_process_above = 0\n'
    )
    saved = tmp_path / "saved.toml"
    save_config(load_config(path, env={}), saved, env={})
    conv = load_config(saved, env={}).converters[0]
    assert (conv.max_report_size, conv.max_output_size, conv.child_process_above) == (
        100_000_000,
        1_000_000_000,
        0,
    )
    assert 'max_report_size = "100 MB"' in saved.read_text()


@pytest.mark.parametrize("key", ["max_report_size", "max_output_size"])
def test_a_zero_cap_is_a_named_error(tmp_path: Path, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONVERTER + f"{key} = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert [str(p) for p in caught.value.problems] == [
        f"converters[0].{key}: must be greater than 0; got 0"
    ]

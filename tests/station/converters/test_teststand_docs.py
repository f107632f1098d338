"""``docs/converters/teststand.md``: its marked examples work as written, and say what happens.

The configuration is loaded as the station loads it; the sample report is converted with that
configuration's arguments, and the report the page describes below it is checked member by
member.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from pywats.models.report import UUTReport
from pywats_station.config import read_config
from pywats_station.converters.api import Converted, parse_arguments
from pywats_station.converters.builtin.teststand import TestStandConverter
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.tryit import try_convert
from tests.doc_examples import KINDS, ROOT, blocks, group
from tests.station.converters.helpers import PROCESSES, STATION

PAGE = ROOT / "docs" / "converters" / "teststand.md"


def test_every_block_says_how_it_is_tested() -> None:
    found = blocks(PAGE)
    assert found
    for block in found:
        assert block.kind in KINDS, f"{block.where}: no <!-- example: … --> marker"


def test_the_configuration_loads_and_the_sample_converts(tmp_path: Path) -> None:
    config, sample = group(PAGE, "teststand")
    assert (config.kind, sample.kind) == ("config", "input")
    path = tmp_path / "config.toml"
    path.write_text(config.text, encoding="utf-8")
    loaded = read_config(path, env={})
    assert not loaded.warnings, [str(w) for w in loaded.warnings]
    (converter,) = loaded.config.converters
    assert converter.kind == "teststand"
    assert BUILTINS[converter.kind] is TestStandConverter
    parse_arguments(TestStandConverter, converter.arguments)
    report_file = tmp_path / sample.options["file"]
    assert " " in report_file.name  # TestStand's own naming: spaces and brackets
    report_file.parent.mkdir(parents=True)
    report_file.write_text(sample.text, encoding="utf-8")
    tried = try_convert(
        report_file,
        kind=converter.kind,
        arguments=converter.arguments,
        station=STATION,
        processes=PROCESSES,
    )
    assert isinstance(tried.result, Converted), tried.result
    (report,) = tried.result.reports
    assert isinstance(report, UUTReport)
    # What the page says it becomes.
    assert (report.sn, report.pn, report.rev, report.process_code) == (
        "SN-4711",
        "MB-2021",
        "B",
        50,
    )
    plus1 = timezone(timedelta(hours=1))
    assert report.start == datetime(2024, 3, 4, 9, 30, tzinfo=plus1)
    assert report.uut is not None
    assert report.uut.user == "anna"
    assert [(m.description, m.text) for m in report.misc_infos or []] == [
        ("TestStand station", "TS-LINE-2")
    ]
    assert report.root is not None
    assert report.root.name == "MainSequence Callback"
    (step,) = report.root.steps or []
    (m,) = step.numeric_meas or []
    assert (step.name, m.value, m.unit, m.comp_op, m.low_limit, m.high_limit, m.status) == (
        "3V3 rail",
        3.31,
        "V",
        "GELE",
        3.2,
        3.4,
        "P",
    )
    assert step.start == datetime(2024, 3, 4, 9, 30, 0, 500000, tzinfo=plus1)

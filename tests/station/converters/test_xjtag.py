"""The ``xjtag`` converter on the real XJTAG files: every value read checked by hand.

The fixtures (``../shared/fixtures/real/xjtag/``):

* ``1234_14_25_32_10.08.2018_Pass.xjlog``: XJTAG 3.7; a ZIP of ``Info.xml``, ``Run 1.xml``,
  ``Run 1.checksum`` and the connection test's data ``12164_636695079402994186``;
* ``567567_14_29_24_17_06_2020_Pass.xjlog``: XJTAG 3.10, the same members (data
  ``10199_637280009689789873``);
* ``567567_14_29_24_17_06_2020_Pass.xml``: the XML export of that same 2020 run.

Line numbers in the comments are those of ``Run 1.xml`` inside each archive (unzip it to look;
the XML export's own lines are given where a test reads it).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest

from pywats import pyWATS
from pywats.models.app import Process
from pywats.models.report import Step, UUTReport
from pywats.testing import FakeWATS
from pywats_station.config import read_config
from pywats_station.converters import Converted, Failed
from pywats_station.converters.api import parse_arguments
from pywats_station.converters.builtin.xjtag import DEFAULT_PROCESS, XjtagConverter
from pywats_station.converters.sandbox import run_conversion
from tests.doc_examples import ROOT, blocks
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import PROCESSES, enlarger, make_ctx

LOG_2018 = "1234_14_25_32_10.08.2018_Pass.xjlog"
LOG_2020 = "567567_14_29_24_17_06_2020_Pass.xjlog"
XML_2020 = "567567_14_29_24_17_06_2020_Pass.xml"
# 210 is the process WATS's own XJTAG converter uses; a synced list must know it.
BOUNDARY_SCAN = Process(code=210, name="Boundary scan", is_test_operation=True)
WITH_210 = [*PROCESSES, BOUNDARY_SCAN]
OSLO = {"timezone": "Europe/Oslo"}
PAGE = ROOT / "docs" / "converters" / "xjtag.md"


def convert(path: Path, arguments: Mapping[str, object] | None = None) -> list[UUTReport]:
    ctx = make_ctx(XjtagConverter, OSLO if arguments is None else arguments, processes=WITH_210)
    result = run_conversion(XjtagConverter(), path, ctx, strict=True)
    assert isinstance(result, Converted), result
    reports = [r for r in result.reports if isinstance(r, UUTReport)]
    assert len(reports) == len(result.reports)
    return reports


def steps_by_name(report: UUTReport) -> dict[str, Step]:
    found: dict[str, Step] = {}
    for step in report.steps():
        assert step.name is not None
        found.setdefault(step.name, step)
    return found


def groups(report: UUTReport) -> list[tuple[str | None, list[tuple[str | None, str | None]]]]:
    """The root's sequences and, in each, (name, status) of its steps."""
    assert report.root is not None
    return [
        (group.name, [(s.name, s.status) for s in group.steps or ()])
        for group in report.root.steps or ()
    ]


def additional(step: Step) -> dict[str | None, str | None]:
    (data,) = step.additional_results or []
    assert data.name == "XJTAG"
    return {prop.name: prop.value for prop in data.props or ()}


# --- the 2018 log (XJTAG 3.7) ---------------------------------------------------------------


def test_2018_log_header() -> None:
    (report,) = convert(real_file("xjtag", LOG_2018))
    assert report.sn == "1234"  # line 433 <serial>1234</serial> (also the file name's start)
    assert (report.pn, report.rev) == ("PN", "1.0")  # the log names none: WATS's defaults
    assert report.process_code == DEFAULT_PROCESS == 210
    assert report.result == "P"  # line 436 <result>Passed</result>
    # Line 2 <testrun datetime="2018-08-10T12:25:32.9968057Z">: the 7th digit is cut, the
    # instant shown in Oslo (+02:00 in August). The file name's 14_25_32 is that local time.
    assert report.start == datetime(
        2018, 8, 10, 14, 25, 32, 996805, tzinfo=timezone(timedelta(hours=2))
    )
    assert report.start.astimezone(UTC) == datetime(2018, 8, 10, 12, 25, 32, 996805, tzinfo=UTC)
    assert report.uut is not None
    assert report.uut.user == "ADMINISTRATOR"  # line 432 <user>
    assert report.uut.comment == "Demonstration hardware"  # line 431 <project-description>
    # equipment-formats.md §6.2 expects no duration for this log: it has no <time-taken>, but
    # its summary's TOTAL TIME row (line 419 <th class="totaltime">45,583</th>, seconds with
    # a decimal comma) holds it, and WATS has a field for it.
    assert report.uut.exec_time == 45.583
    assert report.uut.fixture_id == "12164"  # line 434 <xjlink-serial>; <xjlink-name /> empty
    assert [(m.description, m.text) for m in report.misc_infos or []] == [
        ("XJLink serial", "12164")  # no xjtag-version, no xjlink-name in this log
    ]
    # The station's identity, not the log's empty <xjlink-name/> (line 435).
    assert (report.machine_name, report.location, report.purpose) == (
        "FCT-1",
        "Plant A",
        "Production",
    )
    assert report.root is not None
    assert report.root.seq_call is not None
    # Info.xml's <ProjectPath> (line 5 of Info.xml); XJTAG 3.7 writes no version.
    assert report.root.seq_call.path == (
        "C:\\Users\\Public\\Documents\\XJTAG 3.7\\Demo Board v3\\Board Test\\demo.xjp"
    )
    assert (report.root.seq_call.name, report.root.seq_call.version) == (
        "Demonstration hardware",
        "unknown",
    )
    # The run's <header> banner (line 423): "Serial number set to 1234 by XJRunner".
    assert report.root.report_text is not None
    assert "Serial number set to 1234 by XJRunner" in report.root.report_text


def test_2018_log_steps() -> None:
    (report,) = convert(real_file("xjtag", LOG_2018))
    # 12 <testgroup>s (lines 3-293) holding 19 <testfunction>s; the snippets (lines 438-693)
    # list 4 more, skipped: IC3.TestDestructive (line 509) and three in Program Flash.
    assert groups(report) == [
        ("Enter Serial Number", [("NEW_SERIAL_NUMBER", "P")]),
        ("Check Chain", [("CheckChain", "P")]),
        ("Connection Test", [("CONNTEST", "P")]),
        ("SRAM Test", [("IC5.Test", "P")]),
        (
            "Flash Tests",
            [("ProgrammedFlashCheck", "P"), ("IC3.TestNonDestructive", "P"),
             ("IC3.TestDestructive", "S")],
        ),
        ("I2C PROM Tests", [("IC7.Test", "P"), ("EEPROM_PIO_Test", "P")]),
        ("Crystal Oscillator Test", [("Y1.TestOscillator", "P"), ("Y1FrequencyTest", "P")]),
        ("ADC and Voltage Tests", [("IC6.IIC_CheckPresent", "P"), ("ADC_Test", "P")]),
        ("Push Button Test", [("SW1.Test", "P")]),
        ("LED Tests", [("D1.Test", "P"), ("D2.Test", "P"), ("D3.Test", "P"), ("D4.Test", "P")]),
        (
            "Program Flash",
            [("VerifyIC3", "P"), ("EraseIC3", "S"), ("ProgramIC3", "S"),
             ("VerifyIC3 (Post programming)", "S")],
        ),
        ("Program CPLD", [("RunStaplFile", "P")]),
    ]  # fmt: skip
    assert len(list(report.steps())) == 1 + 12 + 23
    steps = steps_by_name(report)
    first = steps["NEW_SERIAL_NUMBER"]
    assert first.step_type == "ET_PFT"
    assert [m.status for m in first.boolean_meas or []] == ["P"]
    assert first.tot_time == 4.474  # its snippet row: <td class="testtime">4,474</td>
    assert first.report_text == (  # lines 6-12: its three text outputs
        "Checking voltage on CN1 pin 1 using XJLink2 voltage measurement.\n"
        "Voltage read: 3264 mV - within tolerance.\n"
        "NEW_SERIAL_NUMBER passed\n"
        "Serial number set to 1234 by the test system"
    )
    skipped = steps["IC3.TestDestructive"]  # only in the snippet (line 509): "Skipped", 0,000
    assert (skipped.step_type, skipped.status, skipped.tot_time) == ("ET_PFT", "S", 0.0)
    assert skipped.boolean_meas is None
    # Run-level <text-output> after the Flash Tests group (line 96) goes to that sequence.
    assert steps["Flash Tests"].report_text == "IC3.TestDestructive skipped"
    assert steps["Flash Tests"].tot_time == 0.204  # its summary row
    adc = steps["ADC_Test"]  # line 168; snippet row (line 575): 12,862 s
    assert adc.tot_time == 12.862
    assert adc.report_text is not None
    # A <span> inside a text output (line 174) is HTML: the tag is dropped, its text kept.
    assert "    Calibration aborted. Using default value.\n" in adc.report_text
    assert "<span" not in adc.report_text
    # Line 49: "Testing SRAM Device " + inline link "IC5" + "...": joined as XJTAG shows it.
    assert (steps["IC5.Test"].report_text or "").startswith("Testing SRAM Device IC5...\n")
    conntest = steps["CONNTEST"]  # line 27; its HTML output links to the data file (line 38)
    assert conntest.attachment is not None
    assert (conntest.attachment.name, conntest.attachment.content_type) == (
        "12164_636695079402994186",
        "text/plain",
    )
    data = base64.b64decode(conntest.attachment.data or "")
    assert len(data) == 45319  # the member's size in the archive
    assert data.startswith(b"ConnTestFullOutputFileVersionText,2\r\nDC test data:")


# --- the 2020 log (XJTAG 3.10) and its XML export ---------------------------------------------

STEPS_2020 = [
    ("Enter Serial Number", [("NEW_SERIAL_NUMBER", "P")]),
    ("Check Chain", [("CheckChain", "P")]),
    ("Connection Test", [("CONNTEST", "P")]),
    ("SRAM Test", [("IC5.Test", "P")]),
    (
        "Flash Tests",
        [("ProgrammedFlashCheck", "P"), ("IC3.TestNonDestructive", "S"),
         ("IC3.TestDestructive", "P")],
    ),
    ("I2C PROM Tests", [("IC7.Test", "P"), ("EEPROM_PIO_Test", "P")]),
    ("Crystal Oscillator Test", [("Y1.TestOscillator", "P"), ("Y1FrequencyTest", "P")]),
    ("ADC and Voltage Tests", [("IC6.IIC_CheckPresent", "P"), ("ADC_Test", "P")]),
    ("Push Button Test", [("SW1.Test", "P")]),
    ("LED Tests", [("D1.Test", "P"), ("D2.Test", "P"), ("D3.Test", "P"), ("D4.Test", "P")]),
    (
        "Program Flash",
        [("VerifyIC3", "S"), ("EraseIC3", "P"), ("ProgramIC3", "P"),
         ("VerifyIC3 (Post programming)", "P")],
    ),
    ("Program CPLD", [("RunStaplFile", "P")]),
    ("Program Serial Number", [("WriteSerialNumber", "P")]),
]  # fmt: skip


@pytest.mark.parametrize("name", [LOG_2020, XML_2020])
def test_2020_run_header(name: str) -> None:
    (report,) = convert(real_file("xjtag", name))
    assert report.sn == "567567"  # Run 1.xml line 690 / export line 826 <serial>
    assert (report.pn, report.rev, report.process_code) == ("PN", "1.0", 210)
    assert report.result == "P"  # line 693 / 829 <result>Passed</result>
    # Line 2 <testrun datetime="2020-06-17T13:29:24.2586780Z"> (UTC), shown in Oslo (+02:00).
    # The file name's 14_29_24 is neither: the tester's clock ran at UTC+1 (a UK station in
    # summer time), which the log itself does not say.
    assert report.start == datetime(
        2020, 6, 17, 15, 29, 24, 258678, tzinfo=timezone(timedelta(hours=2))
    )
    assert report.uut is not None
    assert report.uut.user == "ADMINISTRATOR"  # line 689 / 825
    assert report.uut.comment == "Demonstration hardware"  # line 688 / 824
    assert report.uut.exec_time == 47.96  # line 694 / 830 <time-taken>47960</time-taken> (ms)
    assert report.uut.fixture_id == "10199"  # line 691 / 827 <xjlink-serial>
    assert [(m.description, m.text) for m in report.misc_infos or []] == [
        ("XJLink serial", "10199"),
        ("XJTAG version", "3.10.0.0"),  # line 695 / 831 <xjtag-version>
    ]
    assert report.root is not None
    assert report.root.seq_call is not None
    assert (report.root.seq_call.name, report.root.seq_call.version) == (
        "Demonstration hardware",
        "3.10.0.0",
    )


@pytest.mark.parametrize("name", [LOG_2020, XML_2020])
def test_2020_run_steps(name: str) -> None:
    (report,) = convert(real_file("xjtag", name))
    # 13 <testgroup>s, 24 <testfunction>s, two of them <result value="Skipped" /> (Run 1.xml
    # lines 112 and 427; export lines 141 and 531).
    assert groups(report) == STEPS_2020
    assert len(list(report.steps())) == 1 + 13 + 24
    steps = steps_by_name(report)
    skipped = steps["IC3.TestNonDestructive"]  # line 112: output "… skipped", 0 ms
    assert (skipped.step_type, skipped.status, skipped.tot_time) == ("ET_PFT", "S", 0.0)
    assert skipped.report_text == "IC3.TestNonDestructive skipped"
    sram = steps["IC5.Test"]  # line 69 (export 88)
    assert sram.tot_time == 0.059  # <time-taken>59</time-taken>
    assert additional(sram) == {"Devices": "XJDemo,IC5"}  # <device-ref board=… device="IC5"/>
    # XJTAG 3.10 escapes '&' as HTML inside the CDATA ("Bus &amp; Data", line 78): decoded.
    assert "Starting Optimised Address Bus & Data Bus Test..\n" in (sram.report_text or "")
    frequency = steps["Y1FrequencyTest"]  # line 236 (export 294)
    assert frequency.tot_time == 1.029
    assert additional(frequency) == {"Devices": "XJDemo,CN1", "Pins": "XJDemo,CN1,17"}
    assert frequency.report_text == (
        "Checking frequency on CN1 pin 17 using XJLink2 frequency measurement.\n"
        "Frequency read: 3686271 Hz - within tolerance.\n"
        "Y1FrequencyTest passed"
    )
    conntest = steps["CONNTEST"]  # line 37; <conntest-errors>No errors</conntest-errors> (51)
    assert additional(conntest) == {"ConnectionTestErrors": "No errors"}
    assert steps["ProgramIC3"].tot_time == 11.426  # line 477 <time-taken>11426</time-taken>
    # Oscillator lines keep their own indentation (the export re-indents only <plain-text>).
    assert "\n    Oscillator test took 88 ms\n" in (steps["Y1.TestOscillator"].report_text or "")
    assert steps["Flash Tests"].tot_time == 0.496  # the summary's group row


def test_the_log_and_its_xml_export_give_the_same_report() -> None:
    """Everything but what only the archive holds: its project path and the data file."""
    (log,) = convert(real_file("xjtag", LOG_2020))
    (export,) = convert(real_file("xjtag", XML_2020))
    assert log.root is not None
    assert export.root is not None
    assert log.root.seq_call is not None
    assert export.root.seq_call is not None
    assert log.root.seq_call.path == (
        "C:\\Users\\Public\\Documents\\XJTAG 3.10\\Demo Board v3\\Board Test\\Demo.xjp"
    )
    assert export.root.seq_call.path == XML_2020  # no Info.xml: the file's name
    conntest = log.root.steps[2].steps[0] if log.root.steps and log.root.steps[2].steps else None
    assert conntest is not None
    assert conntest.name == "CONNTEST"
    assert conntest.attachment is not None
    assert conntest.attachment.name == "10199_637280009689789873"

    def comparable(report: UUTReport) -> object:
        data = msgspec.to_builtins(report)
        data.pop("id")
        data["root"]["seqCall"].pop("path")
        data["root"]["steps"][2]["steps"][0].pop("attachment", None)
        return data

    assert comparable(log) == comparable(export)


# --- the station's side: emulator, process, arguments --------------------------------------


def test_every_real_file_is_accepted_by_the_strict_emulator() -> None:
    folder = REAL / "xjtag"
    files = sorted(folder.glob("*")) if folder.is_dir() else []
    if not files:
        pytest.skip(f"real fixtures not found at {folder}")
    fake = FakeWATS(token="test-token", strict=True)
    fake.state.processes.append(
        msgspec.structs.replace(BOUNDARY_SCAN, process_id=uuid.uuid4(), state=1)
    )
    try:
        with pyWATS("http://wats.test", "test-token", transport=fake) as api:
            processes = api.app.get_processes()
            for path in files:
                ctx = make_ctx(XjtagConverter, {}, processes=processes)
                result = run_conversion(XjtagConverter(), path, ctx, strict=True)
                assert isinstance(result, Converted), (path.name, result)
                for report in result.reports:
                    assert report.validate() == []  # server rules included
                    api.report.submit_report(report)
                    stored = fake.get_report(str(report.id))
                    assert stored is not None
                    assert stored.sn == report.sn
                    assert stored.process_code == 210
    finally:
        fake.close()


def test_the_process_the_pn_and_the_revision_come_from_the_arguments() -> None:
    arguments = {"process": "PCBA test", "part_number": "XJDEMO-3", "revision": "C",
                 "operator": "nobody"}  # fmt: skip
    (report,) = convert(real_file("xjtag", XML_2020), arguments)
    assert (report.process_code, report.pn, report.rev) == (50, "XJDEMO-3", "C")
    assert report.uut is not None
    assert report.uut.user == "ADMINISTRATOR"  # the file's operator wins


def test_without_a_timezone_the_start_is_in_the_stations_zone() -> None:
    (report,) = convert(real_file("xjtag", XML_2020), {})
    assert report.start is not None
    assert report.start.utcoffset() == datetime(2020, 6, 17, 13).astimezone().utcoffset()
    assert report.start.astimezone(UTC) == datetime(2020, 6, 17, 13, 29, 24, 258678, tzinfo=UTC)


def test_a_server_without_process_210_fails_saying_what_to_set() -> None:
    ctx = make_ctx(XjtagConverter, {}, processes=PROCESSES)
    result = run_conversion(XjtagConverter(), real_file("xjtag", XML_2020), ctx)
    assert isinstance(result, Failed)
    assert "unknown process 210" in result.reason
    assert "set arguments.process" in result.reason


def test_the_connection_test_data_can_be_left_out() -> None:
    (report,) = convert(real_file("xjtag", LOG_2020), {"attach_connection_test": False})
    assert all(step.attachment is None for step in report.steps())


def test_the_kind_is_a_builtin() -> None:
    # Imported here: the registry imports every built-in, and another's may be in the making.
    from pywats_station.converters.registry import BUILTINS

    assert BUILTINS["xjtag"] is XjtagConverter


# --- recognition ------------------------------------------------------------------------------


def all_real_files() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.rglob("*") if p.is_file() and p.name.lower() != "readme.md")


@pytest.mark.parametrize("path", all_real_files(), ids=lambda p: p.relative_to(REAL).as_posix())
def test_confidence_is_high_for_xjtag_files_and_low_for_every_other(path: Path) -> None:
    ctx = make_ctx(XjtagConverter, {}, processes=WITH_210)
    validation = XjtagConverter().validate(path, ctx)
    assert validation.message
    if path.parent.name == "xjtag":
        assert validation.confidence >= 0.9, validation
    else:
        assert validation.confidence <= 0.2, validation


def test_validation_previews_what_is_known_without_reading_the_runs() -> None:
    ctx = make_ctx(XjtagConverter, {}, processes=WITH_210)
    log = XjtagConverter().validate(real_file("xjtag", LOG_2018), ctx)
    # From the name XJRunner gives (serial, time, result): the run itself is not read.
    assert (log.preview.serial_number, log.preview.result) == ("1234", "P")
    assert log.message == "XJTAG log (1 run(s))"  # Info.xml's <TestRunCount>1</TestRunCount>
    export = XjtagConverter().validate(real_file("xjtag", XML_2020), ctx)
    assert (export.preview.serial_number, export.preview.result) == ("567567", "P")


# --- the documentation page --------------------------------------------------------------------


def test_the_page_examples_are_marked_and_its_configuration_loads(tmp_path: Path) -> None:
    found = blocks(PAGE)
    assert found
    configs = 0
    for block in found:
        assert block.marker is not None, f"{block.where}: no <!-- example: … --> marker"
        if block.kind == "config":
            configs += 1
            path = tmp_path / "config.toml"
            path.write_text(block.text, encoding="utf-8")
            loaded = read_config(path, env={})
            assert not loaded.warnings, [str(w) for w in loaded.warnings]
            (converter,) = loaded.config.converters
            assert converter.kind == "xjtag"
            parse_arguments(XjtagConverter, converter.arguments)
        else:
            assert block.kind == "illustrative", f"{block.where}: {block.kind}"
    assert configs == 1


# --- the benchmark's enlarged inputs ----------------------------------------------------------


@pytest.mark.parametrize("name", [LOG_2018, LOG_2020, XML_2020])
def test_enlarged_inputs_are_valid_and_bigger(tmp_path: Path, name: str) -> None:
    enlarge = enlarger("xjtag")

    source = real_file("xjtag", name)
    path = tmp_path / name
    path.write_bytes(enlarge(source.read_bytes(), 3))
    (original,) = convert(source)
    enlarged = convert(path)
    if name.endswith(".xjlog"):  # three runs, their serial numbers made unique
        assert [r.sn for r in enlarged] == [original.sn, f"{original.sn}-2", f"{original.sn}-3"]
        assert path.stat().st_size > 2.5 * source.stat().st_size
    else:  # one run, its groups three times
        (report,) = enlarged
        assert report.root is not None
        assert original.root is not None
        assert len(report.root.steps or []) == 3 * len(original.root.steps or [])
        assert path.stat().st_size > 2 * source.stat().st_size

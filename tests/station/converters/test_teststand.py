"""The TestStand XML converter on the two real reports: every value checked by hand in the file.

``TSWithWats.xml`` was written with the WATS TestStand add-on (``<TSReport>``, ``ReportInfo``);
``TsWithoutWats.xml`` is TestStand's own XML report (``<Reports><Report>``). The comments give the
line each expected value stands on. ``equipment-formats.md`` §2.2 states the reference's
expectations; they agree, except where a comment says why this converter differs: the station
is the converting station's unless ``station_from_file`` is set (the file's station is then the
reference's), the plain report's part number comes from ``arguments.part_number`` (the reference
sends an empty one), its offset is that of its date in the station's zone (not of the day it is
converted), and its id is derived from the file's content (not a new GUID at every conversion).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pywats import pyWATS
from pywats.models.app import Process
from pywats.models.report import Step, StepKind, UUTReport
from pywats.testing import FakeWATS
from pywats_station.converters.api import Converted, Failed
from pywats_station.converters.builtin.teststand import TestStandConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import real_file
from tests.station.converters.helpers import PROCESSES, STATION, enlarger, make_ctx

WITH = ("teststand-xml", "TSWithWats.xml")
WITHOUT = ("teststand-xml", "TsWithoutWats.xml")
# The add-on's report names process 60; the test server is told it exists.
PCBA = Process(code=60, name="PCBA final", is_test_operation=True)
OSLO = {"timezone": "Europe/Oslo"}  # 1 July 2022: +02:00 (summer time)
PLUS2 = timezone(timedelta(hours=2))


def convert(path: Path, arguments: dict[str, Any] | None = None) -> list[UUTReport]:
    ctx = make_ctx(TestStandConverter, arguments, processes=[*PROCESSES, PCBA])
    result = run_conversion(TestStandConverter(), path, ctx, strict=True)
    assert isinstance(result, Converted), result
    reports = [r for r in result.reports if isinstance(r, UUTReport)]
    assert len(reports) == len(result.reports)
    return reports


def one(path: Path, arguments: dict[str, Any] | None = None) -> UUTReport:
    (report,) = convert(path, arguments)
    return report


def fail(path: Path, arguments: dict[str, Any] | None = None) -> str:
    ctx = make_ctx(TestStandConverter, arguments, processes=[*PROCESSES, PCBA])
    result = run_conversion(TestStandConverter(), path, ctx)
    assert isinstance(result, Failed), result
    return result.reason


@pytest.fixture(scope="module")
def with_wats() -> UUTReport:
    return one(real_file(*WITH))


@pytest.fixture(scope="module")
def without_wats() -> UUTReport:
    return one(real_file(*WITHOUT), {"part_number": "MB-2021", **OSLO})


def by_name(report: UUTReport, name: str) -> Step:
    (found,) = [s for s in report.steps() if s.name == name]
    return found


# --- with the WATS add-on ----------------------------------------------------------------------


def test_with_wats_header(with_wats: UUTReport) -> None:
    r = with_wats
    assert r.id == uuid.UUID("f4fb0a29-93b1-4f7f-ada7-672b382774ab")  # line 3, ReportInfo ID
    assert r.sn == "12345"  # line 14, UUT.SerialNumber
    assert r.pn == "PN1"  # line 39, UUT.UUTPartNumber (PartNumber, line 34, says the same)
    assert r.rev == "1.0"  # line 42, UUT.UUTPartRevisionNumber
    assert r.process_code == 60  # line 45, UUT.UUTOperationType
    assert r.result == "P"  # line 224, the main result's Status
    # The report names this station (the project's rule: a converter reports as its station,
    # [station] or [converters.station]); the reference's VIC-PCBA-003, "Norautron Horten",
    # "PCBA Test" (lines 85, 93, 96) come with station_from_file (test below). The file's
    # station ID stays searchable as a misc info.
    assert (r.machine_name, r.location, r.purpose) == (
        STATION.name,
        STATION.location,
        STATION.purpose,
    )
    assert [(m.description, m.text) for m in r.misc_infos or []] == [
        ("TestStand station", "VIC-PCBA-003")  # line 85
    ]
    # Line 4, ReportInfo Start, its offset kept (7 fraction digits read as microseconds).
    assert r.start == datetime(2022, 6, 23, 10, 55, 4, 370000, tzinfo=PLUS2)
    assert r.start is not None
    assert r.start.utcoffset() == timedelta(hours=2)
    assert r.uut is not None
    assert r.uut.user == "administrator"  # line 88, StationInfo.LoginName
    assert r.uut.exec_time == 0.0539233  # line 185, the main result's TS.TotalTime
    assert r.uut.test_socket_index == -1  # line 31, UUT.TestSocketIndex
    assert r.uut.batch_loop_index == 1  # line 17, UUT.UUTLoopIndex (WATS's choice)
    assert r.uut.batch_fail_count == 0  # line 23, UUT.BatchFailCount
    assert r.uut.error_code is None  # lines 214, 220: Error.Code 0, Occurred False
    assert (r.uut.comment, r.uut.fixture_id, r.uut.batch_sn) == (None, None, None)  # empty
    assert r.sub_units is None  # lines 70-73: UUT_Part_Info (and Misc_UUT_Info) are empty


def test_with_wats_what_has_no_member_is_additional_data(with_wats: UUTReport) -> None:
    found = {d.name: {p.name: p for p in d.props or []} for d in with_wats.additional_data or []}
    assert set(found) == {"UUT", "StationInfo", "ReportInfo"}
    assert found["UUT"]["BatchLoopIndex"].value == "0"  # line 20
    # Lines 47-63: OpTypeCodeInt 0 is a value; the empty strings are left out.
    details = found["UUT"]["UUTOperationTypeDetails"]
    assert [(p.name, p.value) for p in details.props or []] == [("OpTypeCodeInt", "0")]
    assert found["StationInfo"]["Location"].value == "Norautron Horten"  # line 93
    assert found["StationInfo"]["Purpose"].value == "PCBA Test"  # line 96
    assert found["StationInfo"]["StationComputerName"].value == "VIC-PCBA-003"  # line 99
    assert found["StationInfo"]["StationGuid"].value == "901B0EB71897"  # line 102
    # Lines 5, 6 (SN, PN, Rev, PCode on lines 7-10 repeat the UUT's values).
    assert found["ReportInfo"]["EngineStarted"].value == "2022-06-23T08:51:29.9940000Z"
    assert found["ReportInfo"]["ReportWritten"].value == "2022-06-23T10:55:04.5055940+02:00"


def test_with_wats_steps(with_wats: UUTReport) -> None:
    root = with_wats.root
    assert root is not None
    assert root.seq_call is not None
    assert (root.id, root.name, root.step_type, root.status) == (
        1,
        "MainSequence Callback",  # line 194, TS.StepName
        "SequenceCall",  # line 206, TS.StepType
        "P",
    )
    assert (root.seq_call.path, root.seq_call.name, root.seq_call.version) == (
        "C:\\Users\\Vicotee\\Desktop\\Sequence File 1.seq",  # line 166
        "MainSequence",  # line 172
        "0.0.0.0",  # line 169
    )
    assert root.ts_guid == "ID#:xnW0PT0ORE2el7wF7uaxyB"  # line 200
    # EngineStarted (line 5) 08:51:29.994Z + TS.StartTime 214.3985775 s (line 182) is
    # 08:55:04.3925775Z; in microseconds .392577 (the double nearest 214.3985775 is below it).
    assert root.start == datetime(2022, 6, 23, 10, 55, 4, 392577, tzinfo=PLUS2)
    (step,) = root.steps or []
    assert step.kind is StepKind.PASS_FAIL
    assert (step.id, step.name, step.step_type, step.group, step.status) == (
        2,
        "Pass/Fail Test",  # line 144
        "ET_PFT",  # line 156: the add-on's type name, kept
        "M",  # line 147
        "P",  # line 123
    )
    assert [m.status for m in step.boolean_meas or []] == ["P"]  # line 126, PassFail True
    assert step.tot_time == 5.41e-05  # line 138
    assert step.start == datetime(2022, 6, 23, 10, 55, 4, 440357, tzinfo=PLUS2)  # + 214.4463569
    assert step.ts_guid == "ID#:YUT20dHy7BGprpAbDrcYlD"  # line 150
    assert step.report_text is None
    assert step.additional_results is None


# --- TestStand's own report ---------------------------------------------------------------------


def test_without_wats_needs_the_part_number_argument() -> None:
    # Line 35: UUT.PartNumber is empty; the reference would send an empty PN, which the server
    # rejects. The report fails instead, naming the argument that supplies one.
    reason = fail(real_file(*WITHOUT))
    assert reason == (
        "line 5, column 1, <Prop Name='UUT'>: the report has no part number (UUT.PartNumber is "
        "empty); set arguments.part_number in the converter's configuration"
    )


def test_without_wats_header(without_wats: UUTReport) -> None:
    r = without_wats
    assert r.sn == "2342343"  # line 7
    assert r.pn == "MB-2021"  # arguments.part_number (line 35 is empty)
    assert r.rev == "1.0"  # nothing in the file: WATS's converter's default revision
    assert r.process_code == 10  # nothing in the file: WATS's converter's default process
    assert r.result == "P"  # line 1437, the main result's Status (line 4 UUTResult agrees)
    assert (r.machine_name, r.location, r.purpose) == (
        STATION.name,
        STATION.location,
        STATION.purpose,
    )
    assert [(m.description, m.text) for m in r.misc_infos or []] == [
        ("TestStand station", "TS-2021-BETA")  # line 357, StationInfo.StationID
    ]
    # Lines 323-332 (15:47:48.927) and 343-349 (2022-07-01), in Europe/Oslo: +02:00 on that
    # day. (The reference takes the converting PC's offset at conversion time.)
    assert r.start == datetime(2022, 7, 1, 15, 47, 48, 927000, tzinfo=PLUS2)
    assert r.uut is not None
    assert r.uut.user == "administrator"  # line 360
    assert r.uut.exec_time == 6.0831833  # line 1398, the main result's TS.TotalTime
    assert r.uut.test_socket_index == -1  # line 32
    assert r.uut.batch_loop_index == 1  # line 10, UUTLoopIndex
    assert r.additional_data is None  # nothing left over: AdditionalData (line 37) is empty
    # No id in the file: one derived from its content, the same at every conversion (the
    # reference makes a new GUID each time, so a file converted twice is two reports).
    assert r.id == one(real_file(*WITHOUT), {"part_number": "MB-2021", **OSLO}).id
    assert r.id.version == 5


def test_without_wats_steps(without_wats: UUTReport) -> None:
    root = without_wats.root
    assert root is not None
    assert root.seq_call is not None
    assert root.seq_call.path == (  # line 1379
        "C:\\Users\\Public\\Documents\\National Instruments\\TestStand 2021 (64-bit)\\Examples"
        "\\Demos\\Computer Motherboard Test\\LabVIEW\\Computer Motherboard Test Sequence.seq"
    )
    assert (root.seq_call.name, root.seq_call.version) == ("MainSequence", "21.0.0.49156")
    # Line 4: StepCount='17' results below the root; 13 in the main sequence (line 368,
    # ResultList HBound [12]), 4 in CPU Test (line 595, HBound [3]).
    assert len(without_wats.steps()) == 1 + 17
    top = [(s.name, s.step_type, s.group, s.status) for s in root.steps or []]
    assert top == [
        ("Simulation Dialog", "Action", "S", "D"),  # lines 406, 418, 409, 385
        ("Turn Vacuum Table On", "Action", "S", "D"),  # lines 461, 473, 464, 440
        ("Powerup Test", "PassFailTest", "M", "P"),  # lines 519, 531, 522, 495
        ("If", "NI_Flow_If", "M", "D"),  # lines 571, 583, 574, 553
        ("CPU Test", "SequenceCall", "M", "P"),  # lines 860, 872, 863, 890
        ("ROM Test", "PassFailTest", "M", "P"),  # lines 937, 949, 940, 913
        ("RAM Test", "PassFailTest", "M", "P"),  # lines 995, 1007, 998, 971
        ("Video Test", "NumericLimitTest", "M", "P"),  # lines 1064, 1076, 1067, 1029
        ("Keyboard Test", "NumericLimitTest", "M", "P"),  # lines 1138, 1150, 1141, 1109
        ("If", "NI_Flow_If", "M", "D"),  # lines 1198, 1210, 1201, 1180
        ("End", "NI_Flow_End", "M", "D"),  # lines 1250, 1262, 1253, 1232
        ("End", "NI_Flow_End", "M", "D"),  # lines 1302, 1314, 1305, 1284
        ("Turn Vacuum Table Off", "Action", "C", "D"),  # lines 1357, 1369, 1360, 1336
    ]
    cpu = by_name(without_wats, "CPU Test")
    assert cpu.seq_call is not None
    assert (cpu.seq_call.name, cpu.seq_call.version) == ("CPU Test", "21.0.0.49156")  # 838, 835
    assert [s.name for s in cpu.steps or []] == [  # lines 636, 694, 752, 810
        "Register Test",
        "Instruction Set Test",
        "Cache Test",
        "FPU Test",
    ]
    kinds = [s.kind for s in without_wats.steps()]
    assert kinds.count(StepKind.PASS_FAIL) == 7  # 3 in MainSequence, 4 in CPU Test
    assert kinds.count(StepKind.NUMERIC_LIMIT) == 2
    assert kinds.count(StepKind.SEQUENCE_CALL) == 2  # the root and CPU Test
    flows = [s.report_text for s in without_wats.steps() if s.step_type == "NI_Flow_If"]
    assert flows == ["{True}", "{False}"]  # lines 556, 1183: the If conditions


def test_without_wats_measurements(without_wats: UUTReport) -> None:
    video = by_name(without_wats, "Video Test")
    (m,) = video.numeric_meas or []
    # Line 1032 value 5, 1040 unit, 1084/1087 Limits.Low/High 0 and 10, 1091 Comp GTLT.
    assert (m.value, m.unit, m.comp_op, m.low_limit, m.high_limit, m.status) == (
        5.0,
        "microseconds",
        "GTLT",
        0.0,
        10.0,
        "P",
    )
    keyboard = by_name(without_wats, "Keyboard Test")
    (k,) = keyboard.numeric_meas or []
    # Line 1112 value 6, no Units, 1158 Limits.Low 5 (the only limit), 1162 Comp GT.
    assert (k.value, k.unit, k.comp_op, k.low_limit, k.high_limit, k.status) == (
        6.0,
        None,
        "GT",
        5.0,
        None,
        "P",
    )
    powerup = by_name(without_wats, "Powerup Test")
    assert [b.status for b in powerup.boolean_meas or []] == ["P"]  # line 498, PassFail True


def test_without_wats_step_times(without_wats: UUTReport) -> None:
    root = without_wats.root
    assert root is not None
    # The main result (TS.StartTime 141.9007959, line 1395) starts at the report's start; the
    # steps are placed by their TS.StartTime relative to it.
    assert root.start == datetime(2022, 7, 1, 15, 47, 48, 927000, tzinfo=PLUS2)
    dialog = by_name(without_wats, "Simulation Dialog")
    assert dialog.tot_time == 5.8377732  # line 397
    # Line 394: 142.0194893 s, 0.1186934 s after the main result.
    assert dialog.start == datetime(2022, 7, 1, 15, 47, 49, 45693, tzinfo=PLUS2)
    video = by_name(without_wats, "Video Test")
    assert video.tot_time == 0.0008776  # line 1055
    assert video.start == datetime(2022, 7, 1, 15, 47, 54, 980050, tzinfo=PLUS2)  # 147.953846


def test_without_wats_start_in_the_station_zone() -> None:
    # Without arguments.timezone the station's own zone at that date.
    report = one(real_file(*WITHOUT), {"part_number": "MB-2021"})
    assert report.start == datetime(2022, 7, 1, 15, 47, 48, 927000).astimezone()


def test_the_station_as_the_file_names_it() -> None:
    # station_from_file: what WATS's converter does, and the reference expects (§2.2).
    report = one(real_file(*WITH), {"station_from_file": True})
    # Lines 85, 93, 96: StationInfo.StationID, Location, Purpose.
    station = (report.machine_name, report.location, report.purpose)
    assert station == ("VIC-PCBA-003", "Norautron Horten", "PCBA Test")
    assert report.misc_infos is None
    found = {d.name: d for d in report.additional_data or []}
    assert [p.name for p in found["StationInfo"].props or []] == [
        "StationComputerName",  # line 99
        "StationGuid",  # line 102
    ]
    plain = one(real_file(*WITHOUT), {"part_number": "MB-2021", "station_from_file": True})
    assert plain.machine_name == "TS-2021-BETA"  # line 357
    # A plain StationInfo has no Location/Purpose (lines 355-364): the station's own.
    assert (plain.location, plain.purpose) == (STATION.location, STATION.purpose)


# --- the emulated server, strict ----------------------------------------------------------------


def test_the_server_accepts_both_reports() -> None:
    fake = FakeWATS(token="test-token", strict=True)
    fake.state.processes = [*fake.state.processes, PCBA]
    try:
        with pyWATS("http://wats.test", "test-token", transport=fake) as api:
            processes = api.app.get_processes()
            for parts, arguments in ((WITH, {}), (WITHOUT, {"part_number": "MB-2021"})):
                ctx = make_ctx(TestStandConverter, arguments, processes=processes)
                result = run_conversion(TestStandConverter(), real_file(*parts), ctx, strict=True)
                assert isinstance(result, Converted), result
                for report in result.reports:
                    assert report.validate(server_rules=True) == []
                    api.report.submit_report(report)
        stored = fake.get_report("f4fb0a29-93b1-4f7f-ada7-672b382774ab")
        assert stored is not None
        assert (stored.sn, stored.pn, stored.process_code) == ("12345", "PN1", 60)
        assert len(fake.report_ids()) == 2
    finally:
        fake.close()


# --- recognition --------------------------------------------------------------------------------


def test_validate_recognises_both_with_a_preview() -> None:
    ctx = make_ctx(TestStandConverter)
    rated = TestStandConverter().validate(real_file(*WITH), ctx)
    assert rated.confidence == 1.0
    assert rated.message == "TestStand XML report with WATS add-on data"
    preview = rated.preview
    assert (preview.serial_number, preview.part_number, preview.result) == ("12345", "PN1", "P")
    rated = TestStandConverter().validate(real_file(*WITHOUT), ctx)
    assert rated.confidence == 1.0
    # Line 4: UUTResult='Passed'; no part number in the file and none configured.
    preview = rated.preview
    assert (preview.serial_number, preview.part_number, preview.result) == ("2342343", None, "P")


# --- the benchmark's enlarged inputs ------------------------------------------------------------


def test_the_benchmarks_enlarged_files_convert(tmp_path: Path) -> None:
    enlarge = enlarger("teststand")

    data = real_file(*WITH).read_bytes()
    path = tmp_path / "with.xml"
    path.write_bytes(enlarge(data, 5))
    assert 4.5 < path.stat().st_size / len(data) < 5.5
    report = one(path)  # one UUT, its main sequence's step repeated
    assert report.sn == "12345"
    assert len(report.steps()) > 10
    assert {s.name for s in report.steps()[1:]} == {"Pass/Fail Test"}
    data = real_file(*WITHOUT).read_bytes()
    path = tmp_path / "without.xml"
    path.write_bytes(enlarge(data, 3))
    assert 2.9 < path.stat().st_size / len(data) < 3.1
    reports = convert(path, {"part_number": "MB-2021"})  # three UUTs of their own
    assert [r.sn for r in reports] == ["2342343", "2342343-2", "2342343-3"]
    assert [len(r.steps()) for r in reports] == [18, 18, 18]
    assert len({r.id for r in reports}) == 3

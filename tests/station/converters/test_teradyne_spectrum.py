"""The Teradyne Spectrum ICT converter on the real CTRD file, its variants and broken copies.

Every expected value below was read by hand in ``sample_ict_data.txt``; the comments give its
line. ``equipment-formats.md`` §4.3 lists the reference's expectations for C1, FU1_IN, L3,
SMBJ33A[V6]_REV_V_1 and C118_DSG: the values, units, limits and operators agree; where this
converter departs from WATS's (the report text, the last STEP kept, pages without a value as
pass/fail steps, ``Ω`` for ``O``) a comment says why.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats import pyWATS
from pywats.models.app import Process
from pywats.models.report import Step, UUTReport
from pywats.testing import FakeWATS
from pywats_station.converters.api import Converted, Failed
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.teradyne_spectrum import SpectrumConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import PROCESSES, STATION, make_ctx
from tests.station.converters.test_teradyne_gr228x import mutate

SAMPLE = ("teradyne-spectrum", "sample_ict_data.txt")
# WATS's Spectrum converter reports to process 30; the test server is told it is ICT.
ICT = Process(code=30, name="ICT", is_test_operation=True)
OSLO = {"timezone": "Europe/Oslo"}  # February: +01:00


def convert(path: Path, arguments: dict[str, Any] | None = None) -> UUTReport:
    ctx = make_ctx(SpectrumConverter, arguments, processes=[*PROCESSES, ICT])
    result = run_conversion(SpectrumConverter(), path, ctx)
    assert isinstance(result, Converted), result
    (report,) = result.reports
    assert isinstance(report, UUTReport)
    return report


def fail(path: Path, arguments: dict[str, Any] | None = None) -> str:
    ctx = make_ctx(SpectrumConverter, arguments, processes=[*PROCESSES, ICT])
    result = run_conversion(SpectrumConverter(), path, ctx)
    assert isinstance(result, Failed), result
    return result.reason


@pytest.fixture(scope="module")
def real() -> UUTReport:
    return convert(real_file(*SAMPLE), OSLO)


def steps(report: UUTReport) -> list[Step]:
    return [s for s in report.steps() if s is not report.root]


def step(report: UUTReport, name: str) -> Step:
    (found,) = [s for s in steps(report) if s.name == name]
    return found


def meas(found: Step) -> tuple[Any, ...]:
    (m,) = found.numeric_meas or []
    return (m.value, m.unit, m.comp_op, m.low_limit, m.high_limit, m.status)


def at_oslo(hour: int, minute: int, second: int) -> datetime:
    """9 February 2023 (the file's date, MM/dd/yyyy) in Oslo, +01:00 in winter."""
    return datetime(2023, 2, 9, hour, minute, second, tzinfo=timezone(timedelta(hours=1)))


# --- the real file ----------------------------------------------------------------------------


def test_the_header(real: UUTReport) -> None:
    assert real.pn == "PB3187900"  # line 1: (PROGRAM_NAME: "PB3187900")
    assert real.sn == "1111111111"  # line 30: (USER:  Serialnumber:1111111111)
    assert real.rev == "1"  # the file has no revision; WATS needs one
    assert real.process_code == 30  # WATS's Spectrum converter's process
    assert real.result == "P"  # line 7898: (USER:  STATUS: BOARD PASSED)
    assert real.machine_name == STATION.name
    assert real.uut is not None
    assert real.uut.user == "1234567"  # line 36: (USER:  Operator:1234567)
    # Line 6: the first STEP's (TIME: 02/09/2023 16:44:11 ), 9 February (MM/dd/yyyy).
    assert real.start == at_oslo(16, 44, 11)
    # Line 7900: (USER:  EndTime:16:44:38:124) -> 27.124 s after 16:44:11 (the reference
    # takes the last STEP's 16:44:38, 27 s).
    assert real.uut.exec_time == pytest.approx(27.124)
    assert real.root is not None
    assert real.root.seq_call is not None
    # Line 2 (SUBPROGRAM_NAME: "SubProgram-1"), line 42 (USER:  version: V2.0.0.0).
    assert (real.root.seq_call.path, real.root.seq_call.name, real.root.seq_call.version) == (
        "SubProgram-1",
        "PB3187900",
        "V2.0.0.0",
    )
    misc = {m.description: m.text for m in real.misc_infos or []}
    assert misc == {
        "File": "sample_ict_data.txt",
        "Subprogram": "SubProgram-1",
        "CustomerSerialnumber": "AAAAAAAAAAA",  # line 32
        "OrderNumber": "222222222",  # line 34
        "Date": "02/09/2023",  # line 38
        "StartTime": "16:44:27:988",  # line 40
        "version": "V2.0.0.0",  # line 42
        "EndTime": "16:44:38:124",  # line 7900
    }


def test_sections_steps_and_counts(real: UUTReport) -> None:
    assert real.root is not None
    # The 11 (SECTION_NAME: …) lines (3, 43, 436, 449, 3362, 3378, 5735, 6535, 7495, 7496,
    # 7504), in order; ANALOG holds no STEP.
    assert [s.name for s in real.root.steps or []] == [
        "Header",
        "DISCHARGE",
        "APC",
        "JUMPERS",
        "SHORTS",
        "CAPACITORS",
        "RESISTORS",
        "ZENERS",
        "ANALOG",
        "Trailer",
        "DISCHARGE",
    ]
    kinds = [s.step_type for s in steps(real)]
    # 519 PAGEs: 457 with a MEASVAL (numeric), 62 without (pass/fail on their STAT).
    assert (kinds.count("ET_NLT"), kinds.count("ET_PFT")) == (457, 62)
    # 11 sections + the 3 STEPs with several PAGEs: START (line 5, 2 pages), SMDA05C[V100]
    # and SMDA05C[V101] (line 7439, 6 pages each).
    assert kinds.count("SequenceCall") == 14
    assert len(kinds) == 519 + 14
    assert all(s.status == "P" for s in steps(real))  # every STAT is PASS


def test_sampled_pages(real: UUTReport) -> None:
    # Lines 3380-3389: CAP[C1], MEASVAL 4.6900024 n F, LOLIM 3.64 n, HILIM 5.76 n: GELE.
    c1 = step(real, "C1")
    assert meas(c1) == (4.6900024, "nF", "GELE", 3.64, 5.76, "P")
    assert c1.start == at_oslo(16, 44, 30)  # line 3381
    # The reference's report text is the DESC (line 3383) only; here the rest of the page
    # too, so the nominal value and the nodes are not lost.
    assert c1.report_text == (
        "CAPACITOR 4n7 TOP 3.326 2.831\n"
        "ANA CAP PASS: NOMVAL 4.6999993 nF; MEAS 35 CH_/OUT14_B; GUARD 110 CH_24V_GND; "
        "STIM 766 CH_MC"
    )
    # Lines 5741-5747: FU1_IN 193.4001 mO; LOLIM 2.24 nO -> 2.24e-6 mO; HILIM 250 mO.
    fu1 = step(real, "FU1_IN")
    assert meas(fu1) == (193.4001, "mΩ", "GELE", 2.24e-06, 250.0, "P")
    assert (fu1.report_text or "").startswith("TRACK FROM P1 TROUGH L3 TO J1\nANA RES PASS")
    # Lines 453-459: L3, HILIM 5 O only -> LE, the limit in the low member; MEASVAL in the
    # INTC_RESULT.
    l3 = step(real, "L3")
    assert meas(l3) == (1.4330307, "Ω", "LE", 5.0, None, "P")
    assert (l3.report_text or "").startswith("FERRITE BEAD BOTTOM 14.501 1.856\n")
    # Lines 6541-6546: SMBJ33A[V6]_REV_V_1, 38.324821 V within 36.7 to 40.6.
    zener = step(real, "SMBJ33A[V6]_REV_V_1")
    assert meas(zener) == (38.324821, "V", "GELE", 36.7, 40.6, "P")
    assert (zener.report_text or "").startswith(
        "TVS DIODE SMBJ33A BOTTOM 3.694 1.687\nAnalysis Comments: place marker.\n"
    )


def test_pages_without_a_value(real: UUTReport) -> None:
    assert real.root is not None
    discharge = (real.root.steps or [])[1]
    first = (discharge.steps or [])[0]
    # Lines 45-57: C118_DSG has a HILIM but no MEASVAL: the reference makes an action and
    # drops the limit; here the page's verdict (STAT PASS) and the limit as text.
    assert (first.name, first.step_type, first.status) == ("C118_DSG", "ET_PFT", "P")
    assert (
        first.report_text
        == "ANA DISCHARGE PASS: HILIM 30 mV; MEAS 512 CH_/INC15; GUARD 110 CH_24V_GND"
    )
    # Lines 3365-3376: the SHORTS page, two INTC blocks with a LOLIM each.
    (shorts,) = [s for s in steps(real) if s.name == "SHORTS" and s.step_type == "ET_PFT"]
    assert shorts.report_text == "INTC SPECIAL PASS: LOLIM 5 Ω\nINTC SHORTS PASS: LOLIM 5 Ω"
    # Line 7502: FAIL_MSG between PAGE_NAME and STAT is text, not part of the name.
    assert step(real, "POWEROFF").report_text == (
        "All power supplies were turned off in reverse order.\nTYPE POWER"
    )
    # Line 11: the external program a page ran.
    assert step(real, "showconnections").report_text == (
        "EXTPROG C:\\TP\\PB3187900\\img\\start.bat\nTYPE EXT_PROG"
    )
    # Lines 7885-7896: the last STEP, which WATS's converter never converts, is here.
    last = (real.root.steps or [])[-1]
    assert [s.name for s in last.steps or []][-1] == "C145_DSG"
    assert len(last.steps or []) == 28


def test_a_step_with_several_pages_is_a_sequence(real: UUTReport) -> None:
    # Lines 7437-7493: SMDA05C[V101], DESC on line 7440, six REV_V pages.
    seq = step(real, "SMDA05C[V101]")
    assert seq.step_type == "SequenceCall"
    assert seq.report_text == "TVS DIODE SMDA05C ARRAY BOTTOM 10.376 2.437"
    assert [s.name for s in seq.steps or []] == [f"SMDA05CA[V101]_REV_V_{n}" for n in range(1, 7)]
    assert meas((seq.steps or [])[0]) == (7.4436603, "V", "GELE", 6.5, 8.5, "P")


def test_accepted_by_the_strict_emulator() -> None:
    fake = FakeWATS(token="test-token", strict=True)
    fake.state.processes.append(ICT)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        processes = api.app.get_processes()
        ctx = make_ctx(SpectrumConverter, processes=processes)
        result = run_conversion(SpectrumConverter(), real_file(*SAMPLE), ctx)
        assert isinstance(result, Converted), result
        (report,) = result.reports
        assert report.validate() == []
        api.report.submit_report(report)
    stored = fake.get_report(str(report.id))
    assert stored is not None
    assert stored.sn == "1111111111"
    fake.close()


def test_the_default_process_must_be_known_to_the_server() -> None:
    ctx = make_ctx(SpectrumConverter)  # a server without process 30
    result = run_conversion(SpectrumConverter(), real_file(*SAMPLE), ctx)
    assert isinstance(result, Failed)
    assert result.reason.startswith("no process found in the file, so arguments.process decides")
    assert convert(real_file(*SAMPLE), {"process": "PCBA test"}).process_code == 50


# --- recognition ------------------------------------------------------------------------------


def test_validate_recognises_spectrum_text_and_no_other_fixture() -> None:
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL}")
    converter, ctx = SpectrumConverter(), make_ctx(SpectrumConverter)
    for path in sorted(p for p in REAL.rglob("*") if p.is_file()):
        found = converter.validate(path, ctx)
        assert found.message
        if path.parent.name == "teradyne-spectrum":
            assert found.confidence >= 0.9, (path, found)
            assert (found.preview.part_number, found.preview.serial_number) == (
                "PB3187900",
                "1111111111",
            )
        else:
            assert found.confidence <= 0.2, (path, found)


# --- what real stations write beyond the fixture -------------------------------------------------

BOARD = """\
(PROGRAM_NAME: "PB 100 [A]")
(SECTION_NAME: "RESISTORS")

(STEP:
    (TYPE: RAW) (TIME: 03/02/2024 08:00:00 )
     (SNAME: "R1 [top]")
    (DESC: "RESISTOR 10k  ") (PAGE:
        (TYPE: RES) (PAGE_NAME: "R1 [top]") (COMMENT: "a comment that wraps
            over two lines") (STAT: FAIL)
        (ANA:
            (TYPE: RES) (STAT: FAIL)
            (LOLIM: (VAL: 9) (SCALE: k) (UNIT: O) )
            (MEASVAL: (VAL: 12.5) (SCALE: k) (UNIT: O) )
            (HILIM: (VAL: 11000) (UNIT: O) )
            (MEAS: (TPNUM: 1) (TPNAME: N$1) ,
                  (TPNUM: 2) (TPNAME: N$2) ) )
        ) (STAT: FAIL))

(STEP:
    (TYPE: RAW) (TIME: 03/02/2024 08:00:03 )
     (SNAME: "PROG")
    (PAGE:
        (TYPE: EXT_PROG) (PAGE_NAME: "tool") (STAT: PASS)
        (EXTPROG:
            (PROG_NAME: C:\\Program Files (x86)\\t.exe)
            )
        ) (STAT: PASS))

    (USER:  Serialnumber:SN 7 [b])

    (USER:  Operator:Jörg Müller)

    (USER:  STATUS: BOARD FAILED)

    (USER:  EndTime:08:00:04:500     )
"""
R1_TEXT = "RESISTOR 10k\na comment that wraps over two lines\nANA RES FAIL: MEAS 1 N$1, 2 N$2"


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "board.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_failed_board_with_wrapped_lines_brackets_and_scales(tmp_path: Path) -> None:
    report = convert(write(tmp_path, BOARD))
    assert (report.pn, report.sn, report.result) == ("PB 100 [A]", "SN 7 [b]", "F")
    assert report.uut is not None
    assert report.uut.user == "Jörg Müller"
    assert report.uut.exec_time == pytest.approx(4.5)  # 08:00:00 to 08:00:04.500
    r1 = step(report, "R1 [top]")
    # HILIM 11000 O shown in the value's scale: 11 kΩ; the tester's FAIL is kept.
    assert meas(r1) == (12.5, "kΩ", "GELE", 9.0, 11.0, "F")
    assert r1.report_text == R1_TEXT
    assert report.uut.step_id_caused_uut_failure == r1.id
    # A "(" in a bare value that opens no group is text.
    tool = step(report, "tool")
    assert tool.report_text == "EXTPROG C:\\Program Files (x86)\\t.exe\nTYPE EXT_PROG"


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("utf-16", "\r\n"), ("utf-16-le", "\n"),
     ("latin-1", "\r\n"), ("cp1252", "\n")],
)  # fmt: skip
def test_encodings_and_line_endings(tmp_path: Path, encoding: str, newline: str) -> None:
    report = convert(write(tmp_path, BOARD.replace("\n", newline), encoding))
    assert report.uut is not None
    assert report.uut.user == "Jörg Müller"
    assert step(report, "R1 [top]").report_text == R1_TEXT


def test_the_arguments(tmp_path: Path) -> None:
    text = BOARD.replace("03/02/2024", "2024-03-02")
    args = {
        "time_format": "%Y-%m-%d %H:%M:%S",
        "revision": "C",
        "timezone": "America/New_York",
        "process": 50,
    }
    report = convert(write(tmp_path, text), args)
    assert (report.rev, report.process_code) == ("C", 50)
    assert report.start == datetime(2024, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert "is not a time in '%m/%d/%Y %H:%M:%S'" in fail(write(tmp_path, text))


def test_a_file_still_being_written_fails(tmp_path: Path) -> None:
    # Cut inside a STEP: the open group is named.
    cut = BOARD[: BOARD.index("(HILIM")]
    reason = fail(write(tmp_path, cut))
    assert reason.startswith(
        "the file ends at line 14, column 13, inside (ANA: that starts at line 10, column 9"
    )
    assert "cut short, or still being written" in reason
    # Cut between groups, before the result: the missing STATUS says so.
    cut = BOARD[: BOARD.index("    (USER:  STATUS")]
    assert fail(write(tmp_path, cut)).startswith("no result found in the file (USER: STATUS:")
    # Unless the file's result is not needed: then the steps decide.
    assert convert(write(tmp_path, cut), {"require_status": False}).result == "F"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("(SCALE: k) (UNIT: O) )\n            (MEASVAL", "(SCALE: k) (UNIT: V) )\n  (MEASVAL",
         "line 12: the low limit is in V but the measured value in Ω"),
        ("(VAL: 12.5) (SCALE: k)", "(VAL: 12.5) (SCALE: q)", "line 13: (MEASVAL: scale 'q'"),
        ("(VAL: 12.5)", "(VAL: 1x2)", "line 13, measured value: '1x2' is not a number"),
        ("(VAL: 12.5)", "(VAL: 1E999)", "'1E999' is not a finite number"),
        ("(STAT: FAIL)\n        (ANA", "(STAT: MAYBE)\n        (ANA",
         "line 9, STAT: 'MAYBE' is not a status"),
        ("BOARD FAILED", "BOARD WOBBLY", "line 33, USER STATUS: 'WOBBLY' is not a status"),
        ("(USER:  Serialnumber:SN 7 [b])", "", "no serial number found in the file"),
        ('(PROGRAM_NAME: "PB 100 [A]")', "", "no part number found in the file"),
        ("(TIME: 03/02/2024 08:00:00 )", "(TIME: 13/02/2024 08:00:00 )", "line 5: '13/02/"),
        ('(SNAME: "PROG")', '(SNAME: "PROG"))', "line 27, column 23: ')' closes no group"),
        ("(USER:  Operator", "stray (USER:  Operator", "line 31, column 5: text outside"),
    ],
)  # fmt: skip
def test_broken_files_fail_naming_the_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in BOARD
    assert expected in fail(write(tmp_path, BOARD.replace(old, new, 1)))


def test_limits_on_the_wrong_side_and_huge_or_deep_input(tmp_path: Path) -> None:
    swapped = BOARD.replace("(VAL: 9) (SCALE: k)", "(VAL: 90) (SCALE: k)")
    assert "low limit 90.0 is above high limit 11.0" in fail(write(tmp_path, swapped))
    deep = BOARD.replace("(SNAME:", "(X: " * 40 + "1" + ")" * 40 + " (SNAME:", 1)
    assert "groups nested over 32 deep" in fail(write(tmp_path, deep))
    long = BOARD.replace("RESISTOR 10k", "R" * 70_000)
    assert "line 7: the line is 70,0" in fail(write(tmp_path, long))
    assert fail(write(tmp_path, "")).startswith("no part number found in the file")


def test_an_unclosed_group_stops_at_its_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "runaway.txt"
    page = '    (PAGE: (TYPE: X) (PAGE_NAME: "n") (STAT: PASS))\n'
    path.write_text('(PROGRAM_NAME: "P")\n(STEP:\n' + page * 90_000)
    assert "the (STEP: group that starts at line 2, column 1 is over 4 MiB" in fail(path)


def test_the_report_budget() -> None:
    ctx = make_ctx(SpectrumConverter, processes=[*PROCESSES, ICT])
    limits = OutputLimits(max_report_size=50_000)
    result = run_conversion(SpectrumConverter(), real_file(*SAMPLE), ctx, limits=limits)
    assert isinstance(result, Failed)
    assert result.reason.startswith("the report is over 50 kB as WSJF by line ")


# --- hostile input: the real file broken at random ---------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    how=st.sampled_from(["cut", "flip", "drop", "duplicate"]),
    at=st.integers(0, 8000),
    mask=st.integers(1, 255),
)
def test_a_broken_real_file_converts_or_fails_naming_the_line(
    tmp_path: Path, how: str, at: int, mask: int
) -> None:
    path = tmp_path / "broken.txt"
    # Positions spread over the whole 300 kB file.
    path.write_bytes(mutate(real_file(*SAMPLE).read_bytes(), how, at * 37, mask))
    ctx = make_ctx(SpectrumConverter, processes=[*PROCESSES, ICT])
    result = run_conversion(SpectrumConverter(), path, ctx)
    if isinstance(result, Failed):
        assert "line " in result.reason or "found in the file" in result.reason, result.reason
        assert not result.reason.startswith("converter raised"), result.reason
    else:
        assert isinstance(result, Converted)
        assert result.reports[0].validate() == []

"""The Teradyne GR228x ICT log converter on the real logs, their variants and broken copies.

Every expected value below was read by hand in the fixture; the comments give its line
(``43420_BIO2.LOG`` unless said otherwise). ``equipment-formats.md`` §3.4 states the reference's
expectations: the same three boards, serial numbers, results and WATS_ header values, which
these tests agree with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats import pyWATS
from pywats.models.report import Step, UUTReport
from pywats.testing import FakeWATS
from pywats_station.converters.api import Converted, Failed
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.teradyne_gr228x import Gr228xConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import STATION, make_ctx

PLAIN = ("teradyne-gr228x", "43420_BIO2.LOG")
EXTENDED = ("teradyne-gr228x", "43420_BIO2_Extended.LOG")
OSLO = {"timezone": "Europe/Oslo"}  # July 2012 in Oslo: +02:00
PROGRAM = "F:\\BOARDS\\43420_BIO2_PROGRAM\\43420_BIO2.obc"


def convert(path: Path, arguments: dict[str, Any] | None = None) -> list[UUTReport]:
    result = run_conversion(Gr228xConverter(), path, make_ctx(Gr228xConverter, arguments))
    assert isinstance(result, Converted), result
    return [r for r in result.reports if isinstance(r, UUTReport)]


def fail(path: Path, arguments: dict[str, Any] | None = None) -> str:
    result = run_conversion(Gr228xConverter(), path, make_ctx(Gr228xConverter, arguments))
    assert isinstance(result, Failed), result
    return result.reason


def steps(report: UUTReport) -> list[Step]:
    """Every step below the root, depth first."""
    return [s for s in report.steps() if s is not report.root]


def named(report: UUTReport, name: str) -> list[Step]:
    return [s for s in steps(report) if s.name == name]


def oslo(hour: int, minute: int, second: int) -> datetime:
    """31 July 2012 (the log's date) in Oslo, +02:00 in summer."""
    return datetime(2012, 7, 31, hour, minute, second, tzinfo=timezone(timedelta(hours=2)))


# --- the real logs ----------------------------------------------------------------------------


def test_the_plain_log_has_three_boards_with_their_header() -> None:
    boards = convert(real_file(*PLAIN), OSLO)
    # Lines 3, 8 and 54: "@<date> SN <serial>"; lines 7, 53, 103: "?", "/", '"' end events.
    assert [(r.sn, r.result) for r in boards] == [
        ("65428553938829725787", "T"),
        ("24422984989544535753", "F"),
        ("42842937739687688567", "P"),
    ]
    for report in boards:
        # Line 2: the program 43420_BIO2.obc; the part number is its name up to "_" (as WATS's
        # converter reads it), the revision WATS's converter's fixed 1.
        assert (report.pn, report.rev, report.process_code) == ("43420", "1", 10)
        assert report.machine_name == STATION.name  # the station's own identity
        assert report.uut is not None
        assert report.uut.user is None
        assert report.root is not None
        assert report.root.seq_call is not None
        assert report.root.seq_call.name == PROGRAM
        assert report.root.seq_call.version == "0.0.0"
        misc = {m.description: m.text for m in report.misc_infos or []}
        assert misc["Program date"] == "31-JUL-12  14:17:35"  # line 2, after "["
    first, second, third = boards
    # Line 3: @31-JUL-12  14:18:51, line 7: ?31-JUL-12  14:18:53 (2 s).
    assert first.start == oslo(14, 18, 51)
    assert second.start == oslo(14, 19, 32)  # line 8; ends 14:19:49 (line 53)
    assert third.start == oslo(14, 25, 12)  # line 54; ends 14:25:28 (line 103)
    assert [r.uut.exec_time for r in boards if r.uut] == [2.0, 17.0, 16.0]
    assert {m.description: m.text for m in first.misc_infos or []}["End event"] == "aborted (?)"


def test_board_one_is_two_fixture_contact_failures() -> None:
    first = convert(real_file(*PLAIN))[0]
    # Lines 4 and 6: "(F <pins>"; the pin list is the report text, the "+" kept as written.
    assert [(s.name, s.status, s.report_text) for s in steps(first)] == [
        ("CONTACT fixture failure", "F", "300,301,303"),
        (
            "CONTACT fixture failure",
            "F",
            "90,156,172,176,186,187,189,200,201,202,204,237,238,239,248,254,255,256 +",
        ),
    ]


def test_board_two_groups_by_reference_letter() -> None:
    second = convert(real_file(*PLAIN))[1]
    assert second.root is not None
    top = [(s.name, s.status) for s in second.root.steps or []]
    # Line 9 "(O 397,398," fails the board; then the references R, C, S(ETCR), V, K, D, P.
    assert top == [
        ("OPENS test, failed", "F"),
        ("R-Group1", "P"),
        ("C-Group1", "P"),
        ("S-Group1", "P"),
        ("V-Group1", "P"),
        ("K-Group1", "P"),
        ("D-Group1", "P"),
        ("P-Group1", "P"),
    ]
    assert second.root.status == "F"
    # Lines 10-52, 43 measurement lines: 18 with a value (numeric), 8 verdicts without one
    # (pass/fail), 17 source settings IS/VS without a value (actions, Done).
    kinds = [s.step_type for s in steps(second) if s.step_type != "SequenceCall"]
    assert (kinds.count("ET_NLT"), kinds.count("ET_PFT"), kinds.count("Action")) == (18, 9, 17)
    assert len(steps(second)) == 1 + 7 + 43


def test_board_three_counts() -> None:
    third = convert(real_file(*PLAIN))[2]
    # Lines 55-102, 48 measurement lines: 18 numeric, 13 verdicts, 17 settings; 7 groups.
    kinds = [s.step_type for s in steps(third)]
    assert (kinds.count("ET_NLT"), kinds.count("ET_PFT"), kinds.count("Action")) == (18, 13, 17)
    assert kinds.count("SequenceCall") == 7
    assert all(s.status in ("P", "D") for s in steps(third))


def meas(step: Step) -> tuple[Any, ...]:
    (m,) = step.numeric_meas or []
    return (m.value, m.unit, m.comp_op, m.low_limit, m.high_limit, m.status)


def test_measurements_with_limits_units_and_operators() -> None:
    second = convert(real_file(*PLAIN))[1]
    # Line 10: R508=100.20007K(92.919K,105.131K)R -> kΩ, both limits: GELE.
    assert meas(named(second, "R508(R)")[0]) == (100.20007, "kΩ", "GELE", 92.919, 105.131, "P")
    # Line 13: R402=45.131532MEG(500K,)R -> the low limit moves to the value's prefix (MΩ),
    # exactly 0.5; low only: GE.
    assert meas(named(second, "R402(R)")[0]) == (45.131532, "MΩ", "GE", 0.5, None, "P")
    # Line 15: R211#10.636159(,)R -> "#" logged: LOG, no limits (a one-measurement step is
    # P, not the reference's Done: WATS rejects a step whose status differs from its only
    # measurement's).
    assert meas(named(second, "R211(R)")[0]) == (10.636159, "Ω", "LOG", None, None, "P")
    # Line 16: R211=10.636159(8.049,12.855)AR -> an arithmetic test: no physical unit.
    assert meas(named(second, "R211(AR)")[0]) == (10.636159, None, "GELE", 8.049, 12.855, "P")
    # Line 18: C206=10.212763N(7.999999N,12.000001N)CP -> nF.
    c206 = (10.212763, "nF", "GELE", 7.999999, 12.000001, "P")
    assert meas(named(second, "C206(CP)")[0]) == c206
    # Line 20: C500=197.461958N(159.999985N,219.99999N)CS -> series capacitance, nF.
    assert meas(named(second, "C500(CS)")[0])[:2] == (197.461958, "nF")
    # Line 24: V230=520.747483M(474.999994M,954.999983M)V -> mV.
    assert meas(named(second, "V230(V)")[0])[:4] == (520.747483, "mV", "GELE", 474.999994)
    # Lines 30 and 32: K500_RLY1_NO twice, in V then in mV with a negative low limit.
    relay = [meas(s) for s in named(second, "K500_RLY1_NO(V)")]
    assert relay == [
        (2.000115, "V", "GELE", 1.5, 2.5, "P"),
        (62.061187, "mV", "GELE", -500.0, 500.0, "P"),
    ]
    # Line 51: PS_OFF=(1.6,5.5)V -> a verdict without value: pass/fail, limits as text.
    (ps_off,) = named(second, "PS_OFF(V)")
    assert (ps_off.step_type, ps_off.status, ps_off.report_text) == (
        "ET_PFT",
        "P",
        "limits (1.6,5.5)",
    )
    # Line 45: D103_B1= -> passed.
    assert [(s.step_type, s.status) for s in named(second, "D103_B1")] == [("ET_PFT", "P")]
    # Line 21: SETCR#(,)IS -> a current source set: an action, Done.
    assert [(s.step_type, s.status) for s in named(second, "SETCR(IS)")] == [("Action", "D")]
    third = convert(real_file(*PLAIN))[2]
    # Line 60: R407=275.073156K(245K,300.279K)AR -> plain number (a prefix alone is no unit).
    assert meas(named(third, "R407(AR)")[0]) == (275073.156, None, "GELE", 245000.0, 300279.0, "P")


def test_the_extended_log_takes_its_wats_lines() -> None:
    first, second, third = convert(real_file(*EXTENDED))
    # Board 1 has no WATS_ lines (lines 3-7): as in the plain log.
    assert (first.pn, first.rev, first.machine_name) == ("43420", "1", STATION.name)
    # Lines 9-14 after board 2's @ line.
    assert (second.pn, second.rev, second.machine_name) == ("123456", "C", "AREL1001")
    assert second.uut is not None
    assert second.uut.user == "KB"
    assert second.root is not None
    assert second.root.seq_call is not None
    assert (second.root.seq_call.name, second.root.seq_call.version) == ("CPU02", "1.1")
    # Lines 61-64: no sequence lines for board 3, so the program path and 0.0.0.
    assert (third.pn, third.rev, third.machine_name) == ("123456", "C", "AREL1002")
    assert third.uut is not None
    assert third.uut.user == "KB"
    assert third.root is not None
    assert third.root.seq_call is not None
    assert (third.root.seq_call.name, third.root.seq_call.version) == (PROGRAM, "0.0.0")
    assert [r.result for r in (first, second, third)] == ["T", "F", "P"]


@pytest.mark.parametrize("name", [PLAIN[1], EXTENDED[1]])
def test_every_report_is_accepted_by_the_strict_emulator(name: str) -> None:
    fake = FakeWATS(token="test-token", strict=True)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        ctx_processes = api.app.get_processes()
        path = real_file("teradyne-gr228x", name)
        ctx = make_ctx(Gr228xConverter, processes=ctx_processes)
        result = run_conversion(Gr228xConverter(), path, ctx)
        assert isinstance(result, Converted), result
        for report in result.reports:
            assert report.validate() == []  # the server's rules included
            api.report.submit_report(report)
    assert len(fake.report_ids()) == 3
    fake.close()


# --- recognition ------------------------------------------------------------------------------


def test_validate_recognises_gr228x_logs_and_no_other_fixture() -> None:
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL}")
    converter, ctx = Gr228xConverter(), make_ctx(Gr228xConverter)
    for path in sorted(p for p in REAL.rglob("*") if p.is_file()):
        found = converter.validate(path, ctx)
        assert found.message
        if path.parent.name == "teradyne-gr228x":
            assert found.confidence >= 0.9, (path, found)
            assert found.preview.serial_number == "65428553938829725787"  # line 3
            assert found.preview.part_number == "43420"  # line 2
        else:
            assert found.confidence <= 0.2, (path, found)


def test_validate_reads_only_the_head(tmp_path: Path) -> None:
    data = real_file(*PLAIN).read_bytes()
    big = tmp_path / "big.log"
    big.write_bytes(data + b"R1=1(0,2)R\n" * 200_000)  # 2 MB: rated at once by its head
    assert Gr228xConverter().validate(big, make_ctx(Gr228xConverter)).confidence == 1.0


def test_validate_without_a_program_line(tmp_path: Path) -> None:
    lines = real_file(*PLAIN).read_bytes().splitlines(keepends=True)
    path = tmp_path / "noprog.log"
    path.write_bytes(b"".join(lines[2:]))
    found = Gr228xConverter().validate(path, make_ctx(Gr228xConverter))
    assert found.confidence == 0.9
    assert len(convert(path)) == 3


# --- what real stations write beyond the fixtures ------------------------------------------------

BOARD = """\
F:\\BOARDS\\X [Rev B]\\PANEL_A.obc[02-MAR-24  08:00:00
TOP_OF_LOOP-B
@02-MAR-24  08:00:05 SN AB 12 [3]
WATS_operator=Jörg Müller
WATS_Line=SMT 2
R1=1.2K(1K,1.5K)R
R2>20K(1K,10K)R =too high
C1<1.1N(2N,3N)CP
U1[3]%(,)
*02-MAR-24  08:00:09
"""


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "panel.log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_names_with_spaces_and_brackets_failures_socket_and_an_error_end(tmp_path: Path) -> None:
    (report,) = convert(write(tmp_path, BOARD))
    assert report.sn == "AB 12 [3]"
    assert report.pn == "PANEL"  # "PANEL_A.obc" up to "_"
    assert report.root is not None
    assert report.root.seq_call is not None
    assert report.root.seq_call.name == "F:\\BOARDS\\X [Rev B]\\PANEL_A.obc"
    assert report.uut is not None
    assert (report.uut.user, report.uut.test_socket_index) == ("Jörg Müller", 2)
    assert report.result == "E"  # "*": an error (WATS's converter missed this end)
    misc = {m.description: m.text for m in report.misc_infos or []}
    assert misc["WATS_Line"] == "SMT 2"
    assert misc["End event"] == "error (*)"
    (r2,) = named(report, "R2(R)")
    assert meas(r2) == (20.0, "kΩ", "GELE", 1.0, 10.0, "F")
    assert (r2.report_text, r2.error_message) == ("too high", "resistance failed ('>')")
    assert meas(named(report, "C1(CP)")[0])[-1] == "F"
    (u1,) = named(report, "U1[3]")
    assert (u1.step_type, u1.status) == ("ET_PFT", "F")
    assert report.uut.step_id_caused_uut_failure == r2.id


def test_a_socket_line_inside_a_board_before_its_header_lines(tmp_path: Path) -> None:
    text = BOARD.replace("TOP_OF_LOOP-B\n", "").replace("WATS_Line", "TOP_OF_LOOP-H\nWATS_Line")
    (report,) = convert(write(tmp_path, text))
    assert report.uut is not None
    assert report.uut.test_socket_index == 8
    assert report.uut.user == "Jörg Müller"


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("utf-16", "\r\n"), ("utf-16-le", "\n"),
     ("latin-1", "\r\n"), ("cp1252", "\n")],
)  # fmt: skip
def test_encodings_and_line_endings(tmp_path: Path, encoding: str, newline: str) -> None:
    path = write(tmp_path, BOARD.replace("\n", newline), encoding)
    (report,) = convert(path)
    assert report.uut is not None
    assert report.uut.user == "Jörg Müller"
    assert report.sn == "AB 12 [3]"


def test_a_configured_encoding_wins_and_a_wrong_one_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, BOARD, "latin-1")
    assert fail(path, {"encoding": "utf-8"}).startswith("line 4, column 16: the file is not utf-8")
    (report,) = convert(path, {"encoding": "latin-1"})
    assert report.uut is not None
    assert report.uut.user == "Jörg Müller"


def test_a_log_still_being_written_fails_naming_its_open_board(tmp_path: Path) -> None:
    data = real_file(*PLAIN).read_text()
    cut = data[: data.index("/31-JUL-12")]  # board 2 without its end line (line 53)
    reason = fail(write(tmp_path, cut))
    assert reason.startswith(
        "the file ends at line 53, column 1, inside the board that starts at line 8"
    )
    assert "cut short, or still being written" in reason


def test_the_arguments(tmp_path: Path) -> None:
    args = {
        "process": "PCBA test",
        "part_number_pattern": r"^(?P<part_number>\d+)_BIO",
        "revision": "B",
        "operator": "night shift",
        "timezone": "Asia/Tokyo",
    }
    first = convert(real_file(*PLAIN), args)[0]
    assert (first.process_code, first.pn, first.rev) == (50, "43420", "B")
    assert first.uut is not None
    assert first.uut.user == "night shift"
    assert first.start is not None
    assert first.start.utcoffset() == timedelta(hours=9)
    # WATS_ lines win over the arguments (extended log, board 2, lines 9-13).
    second = convert(real_file(*EXTENDED), args)[1]
    assert (second.pn, second.rev) == ("123456", "C")
    assert second.uut is not None
    assert second.uut.user == "KB"


def test_a_process_the_server_does_not_know(tmp_path: Path) -> None:
    reason = fail(real_file(*PLAIN), {"process": 77})
    assert reason.startswith("no process found in the file, so arguments.process decides")
    assert "unknown process 77" in reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file holds no board"),
        (
            "@02-MAR-24  08:00:05 SN X\nR1=1(0,2)R\n",
            "the file ends at line 3, column 1, inside the board",
        ),
        ("R1=1(0,2)R\n", "line 1: a measurement outside a board"),
        ("@02-MAR-24  08:00:05 SN X\n@02-MAR-24  08:00:06 SN Y\n", "line 2: a board starts"),
        ("/02-MAR-24  08:00:05\n", "line 1: a board end line without a board"),
        ("@02-MAR-24  08:00:05 SN X\nhello world\n", "line 2: not a GR228x log record"),
        ("@31-FOO-24  08:00:05 SN X\n", "line 1: 'FOO' in '31-FOO-24  08:00:05' is not a month"),
        ("@32-JAN-24  08:00:05 SN X\n", "line 1: '32-JAN-24  08:00:05' is not a date"),
        ("@02-MAR-24  08:00:05 SN \n", "line 1: the board has no serial number"),
        ("@02-MAR-24  08:00:05 SN X\nR1=5(9,2)R\n/02-MAR-24  08:00:06\n", "line 2: step"),
        ("@02-MAR-24  08:00:05 SN X\nR1=1E999(,)R\n", "line 2, value: '1E999' is not a finite"),
        ("@02-MAR-24  08:00:05 SN " + "9" * 60 + "\n/02-MAR-24  08:00:06\n", "line 1 to line 2"),
        ("@02-MAR-24  08:00:05 SN X\n" + "R" * 70_000 + "\n", "line 2: the line is 70,000"),
    ],
)
def test_broken_logs_fail_naming_the_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in fail(write(tmp_path, text))


def test_the_report_budget_stops_a_huge_log(tmp_path: Path) -> None:
    text = "@02-MAR-24  08:00:05 SN X\n" + "R1=1.5K(1K,2K)R\n" * 50_000 + "/02-MAR-24  08:00:06\n"
    path = write(tmp_path, text)
    limits = OutputLimits(max_report_size=200_000)
    result = run_conversion(Gr228xConverter(), path, make_ctx(Gr228xConverter), limits=limits)
    assert isinstance(result, Failed)
    reason = result.reason
    assert reason.startswith("the report is over 200 kB as WSJF by line ")


# --- hostile input: the real logs broken at random ---------------------------------------------


def mutate(data: bytes, how: str, at: int, mask: int) -> bytes:
    """``data`` cut, with a byte flipped, a line dropped or a line written twice, at ``at``."""
    lines = data.splitlines(keepends=True)
    index = at % max(1, len(lines))
    if how == "cut":
        return data[: at % (len(data) + 1)]
    if how == "flip":
        broken = bytearray(data)
        broken[at % len(broken)] ^= mask
        return bytes(broken)
    if how == "drop":
        return b"".join(lines[:index] + lines[index + 1 :])
    return b"".join(lines[: index + 1] + lines[index:])  # a line written twice


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from([PLAIN[1], EXTENDED[1]]),
    how=st.sampled_from(["cut", "flip", "drop", "duplicate"]),
    at=st.integers(0, 4000),
    mask=st.integers(1, 255),
)
def test_a_broken_real_log_converts_or_fails_naming_the_line(
    tmp_path: Path, name: str, how: str, at: int, mask: int
) -> None:
    data = real_file("teradyne-gr228x", name).read_bytes()
    path = tmp_path / "broken.log"
    path.write_bytes(mutate(data, how, at, mask))
    result = run_conversion(Gr228xConverter(), path, make_ctx(Gr228xConverter))
    if isinstance(result, Failed):
        assert "line " in result.reason or "holds no board" in result.reason, result.reason
        assert not result.reason.startswith("converter raised"), result.reason
    else:
        assert isinstance(result, Converted)
        for report in result.reports:
            assert report.validate() == []

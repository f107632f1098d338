"""The ``takaya_atd`` converter on the two real TAKAYA files, and on what real stations make.

Every value asserted on the real files was read by hand in the file; the comments say on which
line. ``V682780_B_BOT-20230301082027.ATD`` is the tab-separated layout (a panel of two boards),
``11111-BV0001-(AT33).ATD`` the APT-94xx quoted layout (one board). Where
``equipment-formats.md`` §8 gives an expected value, the test agrees with it or says why not.
"""

from __future__ import annotations

import codecs
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.models.app import Process
from pywats.models.report import Step, StepKind, UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters._placement import convert_builtin
from pywats_station.converters.builtin._budget import (
    OutputBudget,
    OutputLimits,
    OutputTooLarge,
    using_budget,
)
from pywats_station.converters.builtin._takaya_rows import parse_quantity
from pywats_station.converters.builtin.takaya_atd import (
    TakayaAtdConverter,
    parse_model,
    read_takaya,
)
from pywats_station.converters.sandbox import ContextData, run_conversion
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import PROCESSES, STATION, enlarger, make_ctx

OSLO = {"timezone": "Europe/Oslo"}
CET = timezone(timedelta(hours=1))  # Oslo in January and March
ICT = [
    *PROCESSES,
    Process(code=30, name="ICT", is_test_operation=True),
    Process(code=31, name="ICT bottom", is_test_operation=True),
]


def tab() -> Path:
    return real_file("takaya-atd", "V682780_B_BOT-20230301082027.ATD")


def apt() -> Path:
    return real_file("takaya-atd", "11111-BV0001-(AT33).ATD")


def convert(path: Path, arguments: dict[str, object] | None = None) -> list[UUTReport]:
    ctx = make_ctx(TakayaAtdConverter, {**OSLO, **(arguments or {})}, processes=ICT)
    result = run_conversion(TakayaAtdConverter(), path, ctx)
    assert isinstance(result, Converted), result
    reports = [r for r in result.reports if isinstance(r, UUTReport)]
    assert len(reports) == len(result.reports)
    return reports


def fail(path: Path, arguments: dict[str, object] | None = None) -> str:
    ctx = make_ctx(TakayaAtdConverter, {**OSLO, **(arguments or {})}, processes=ICT)
    result = run_conversion(TakayaAtdConverter(), path, ctx)
    assert isinstance(result, Failed), result
    return result.reason


def leaves(report: UUTReport) -> list[Step]:
    """The steps made from rows: everything but the root and the sequences."""
    return [s for s in report.steps() if s.kind is not StepKind.SEQUENCE_CALL]


def named(report: UUTReport, name: str) -> Step:
    found = [s for s in leaves(report) if s.name == name]
    assert found, name
    return found[0]


def misc(report: UUTReport) -> dict[str, str | None]:
    return {m.description or "": m.text for m in report.misc_infos or []}


# --- the tab layout ---------------------------------------------------------------------------


def test_a_panel_is_one_report_per_board() -> None:
    first, second = convert(tab())  # §8.4: 2 reports, Passed, process code 30: agreed
    # Lines 14 and 76: Serial No.:0601994566 / 0601994567 (§8.4 agrees).
    assert (first.sn, second.sn) == ("0601994566", "0601994567")
    # Line 4: Model:V682780_B_BOT.SWX. §8.2 has WATS's converter take the whole model as the
    # part number; the program's name says part V682780 (the rows' Index column, line 17,
    # says so too), revision B and the bottom side.
    assert (first.pn, first.rev) == ("V682780", "B")
    assert (first.result, second.result) == ("P", "P")  # lines 12 and 74: * PASS *
    assert first.process_code == second.process_code == 30
    # Line 5: DATE 1/3/2023 08:20:27, day first: 1 March 2023 (§8.2 agrees).
    assert first.start == second.start == datetime(2023, 3, 1, 8, 20, 27, tzinfo=CET)
    assert first.uut is not None
    assert second.uut is not None
    assert first.uut.exec_time == second.uut.exec_time == 14.0  # line 7: Test time:14 s
    # Lines 11 and 73: * GROUP No.1 * / * GROUP No.2 *: the board's place in the panel.
    assert (first.uut.test_socket_index, second.uut.test_socket_index) == (1, 2)
    assert first.uut.user is None  # no "User name :" line
    # Station identity is the station's; the tester's id (line 8, TAK4: §8.2's station) is kept.
    assert (first.machine_name, first.location, first.purpose) == (
        "FCT-1",
        "Plant A",
        "Production",
    )
    assert misc(first) == {
        "Tester ID": "TAK4",  # line 8
        "Side": "Bottom",  # BOT in the model, line 4
        "Counters": "D.T:24 D.P:24 D.F:0 G.T:414 G.P:414 G.F:0",  # line 13
        "Panel counters": "D.T:27 D.P:24 D.F:3 G.T:434 G.P:412 G.F:22",  # line 3
        "Panel result": "PASS",  # line 2
    }
    assert first.root is not None
    assert first.root.seq_call is not None
    seq = first.root.seq_call
    assert (seq.path, seq.name, seq.version) == ("V682780_B_BOT.SWX", "V682780_B_BOT", "B")


def test_every_row_is_a_step_in_a_sequence_per_component() -> None:
    first, second = convert(tab())
    # Rows: lines 17-71 (group 01) and 79-133 (group 02), 55 each.
    assert len(leaves(first)) == len(leaves(second)) == 55
    assert first.root is not None
    # Parts in order of first appearance: * (line 17, no letters+digit: Other), P1P2, L2, R7,
    # I13, C1*(NM).
    assert [s.name for s in first.root.steps or []] == ["Other", "P", "L", "R", "I", "C"]
    flat = convert(tab(), {"group_by_component": False})[0]
    assert flat.root is not None
    assert len(flat.root.steps or []) == 55


def test_tab_measurements_with_limits_units_and_operators() -> None:
    first, second = convert(tab())
    # Line 19: L2 10 uH … PASS, reference L 5.52E-6 5.52 UH, test value 1 L 5.3E-6 5.30 UH,
    # 7.0 ms, +30% -30%, function **: GELE over the reference ±30 %, in henries.
    l2 = named(first, "L2_+12VB_12V")
    (m,) = l2.numeric_meas or []
    assert (m.value, m.unit, m.comp_op, m.status) == (5.3e-6, "H", "GELE", "P")
    assert m.low_limit == pytest.approx(5.52e-6 * 0.7)
    assert m.high_limit == pytest.approx(5.52e-6 * 1.3)
    assert l2.tot_time == pytest.approx(0.007)
    assert l2.report_text is not None
    assert "reference 5.52 UH" in l2.report_text
    # Line 22: R7 10 KO … reference R 10000 10.00 KO, value R 9970 9.97 KO, +1% -1%, **.
    (m,) = named(first, "R7_GND_NVG").numeric_meas or []
    assert (m.value, m.unit, m.comp_op) == (9970.0, "ohm", "GELE")
    assert (m.low_limit, m.high_limit) == pytest.approx((9900.0, 10100.0))
    # Line 20: P1P3 … reference 0.83 O, value 0.43 O, function SH (short): LT 10 ohms.
    (m,) = named(first, "P1P3_+12VB_12V").numeric_meas or []
    assert (m.value, m.unit, m.comp_op, m.low_limit, m.high_limit) == (
        0.43,
        "ohm",
        "LT",
        10.0,
        None,
    )
    # Line 18: P1P2 … reference 400.0 O, value 409.5 O, function OP (open): GT 100 ohms.
    (m,) = named(first, "P1P2_+12VB_3V3").numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit) == (409.5, "GT", 100.0)
    # Line 67: I2 8-GP … judgement ......, function JP: jumped, no measurement.
    jumped = named(first, "I2_SDA_uCConfig_GND")
    assert (jumped.status, jumped.step_type, jumped.kind) == ("S", "ET_NLT", StepKind.GENERIC)
    # Line 17: After-correct. (parts *), jumped too, named after its comment.
    assert named(first, "After-correct._*_*").status == "S"
    # Line 128 (group 2): C4 10 pF, reference 18.34 pF, test value 1 16.82 pF, test value 2
    # 17.46 pF, +5% -7%: the re-test is the value judged; the first stays in the report text.
    c4 = named(second, "C4_GND_SCL_uCConfig")
    (m,) = c4.numeric_meas or []
    assert (m.value, m.unit) == (1.746e-11, "F")
    assert (m.low_limit, m.high_limit) == pytest.approx((1.834e-11 * 0.93, 1.834e-11 * 1.05))
    assert c4.report_text is not None
    assert "first measurement 16.82 pF" in c4.report_text


def test_the_options_of_the_tab_layout() -> None:
    # Thresholds are arguments: WATS's converter's 100 and 10 ohms by default.
    first = convert(tab(), {"open_threshold": 200, "short_threshold": 1.5})[0]
    (m,) = named(first, "P1P2_+12VB_3V3").numeric_meas or []
    assert (m.comp_op, m.low_limit) == ("GT", 200.0)
    (m,) = named(first, "P1P3_+12VB_12V").numeric_meas or []
    assert (m.comp_op, m.low_limit) == ("LT", 1.5)
    # The side picks the process through process_map; arguments name part and revision.
    mapped = convert(tab(), {"process_map": {"bottom": "ICT bottom"}, "revision": "C"})[0]
    assert (mapped.process_code, mapped.pn, mapped.rev) == (31, "V682780", "C")


# --- the APT-94xx layout ---------------------------------------------------------------------


def test_the_apt_layout_board() -> None:
    (report,) = convert(apt())  # §8.4: 1 report, Passed, process code 30: agreed
    # Line 13: Serial No.:11111-BV0001 (AT33). §8.4 splits batch 11111 and serial BV0001, as
    # WATS's APT-94xx converter does; that reads a dash of any serial as a batch separator, so
    # here it is the split_batch argument, off by default.
    assert report.sn == "11111-BV0001"
    assert report.uut is not None
    assert report.uut.user == "AT33"  # the name in brackets (§8.4 agrees)
    # Line 4: Model:DEMO-PANEL-C_V1.SWX2: part DEMO-PANEL-C (agreed), revision V1 (§8.2 keeps
    # the program's file type too, V1.SWX2).
    assert (report.pn, report.rev, report.result, report.process_code) == (
        "DEMO-PANEL-C",
        "V1",
        "P",  # lines 2 and 11: * PASS *
        30,  # no side in the model: top (§8.2)
    )
    assert report.start == datetime(2024, 1, 1, 8, 0, tzinfo=CET)  # line 5: 01/01/24 08:00:00
    assert report.uut.test_socket_index == 20  # line 10: * GROUP No.20  *
    # No "Test time:": the sum of the rows' times ("15.0 ms" … on lines 15-63), 208 ms.
    assert report.uut.exec_time == pytest.approx(0.208)
    assert misc(report)["Tester ID"] == "FP1"  # line 7: Test ID :FP1 (§8.4's station)
    assert len(leaves(report)) == 49  # rows on lines 15-63
    assert report.root is not None
    assert [s.name for s in report.root.steps or []] == ["P", "G", "SHRT", "R", "C", "L", "U", "J"]
    split = convert(apt(), {"split_batch": True})[0]
    assert split.uut is not None
    assert (split.sn, split.uut.batch_sn) == ("BV0001", "11111")  # §8.4's reading


def test_apt_measurements_with_limits_units_and_operators() -> None:
    (report,) = convert(apt())
    # Line 15: 000932 "P2P1" "P-Auto" "VNET1-VNET2" … "400.0 O" "409.5 O" … "15.0 ms" … "OP"
    step = named(report, "P2P1_VNET1-VNET2")
    (m,) = step.numeric_meas or []
    assert (m.value, m.unit, m.comp_op, m.low_limit) == (409.5, "ohm", "GT", 100.0)
    assert step.tot_time == pytest.approx(0.015)
    # Line 29: 000946 "R1" "4.7KO" "EXPART-3" … " 4.21 KO " " 4.30 KO " … +5% -5% … "**"
    (m,) = named(report, "R1_EXPART-3").numeric_meas or []
    assert (m.value, m.unit, m.comp_op) == (4300.0, "ohm", "GELE")
    assert (m.low_limit, m.high_limit) == pytest.approx((4210 * 0.95, 4210 * 1.05))
    # Line 34: 000951 "C10" "100NF" … "100.0 nF " "100.6 nF " … +20% -20% … "**"
    (m,) = named(report, "C10_EXPART-14").numeric_meas or []
    assert m.value == pytest.approx(100.6e-9)
    assert (m.low_limit, m.high_limit) == pytest.approx((80e-9, 120e-9))
    assert m.unit == "F"
    # Line 37: 000954 "L1" … " 0.38 O  " " 0.47 O  " … +30% -30% … "SH": LT 10 ohms.
    (m,) = named(report, "L1_EXPART-15").numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit) == (0.47, "LT", 10.0)
    # Line 41: 000958 "U1" "P1-G" "IC-MAIN-1" … "0.622 V  " "0.619 V  " … +20% -20% … "**"
    (m,) = named(report, "U1_IC-MAIN-1").numeric_meas or []
    assert (m.value, m.unit, m.comp_op) == (0.619, "V", "GELE")
    assert (m.low_limit, m.high_limit) == pytest.approx((0.622 * 0.8, 0.622 * 1.2))


def test_the_emulator_accepts_every_report_in_strict_mode() -> None:
    from pywats import pyWATS
    from pywats.testing import FakeWATS

    fake = FakeWATS(token="test-token", strict=True)
    fake.state.processes += [p for p in ICT if p.code in (30, 31)]
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        processes = api.app.get_processes()
        ctx = make_ctx(TakayaAtdConverter, OSLO, processes=processes)
        for path in (tab(), apt()):
            result = run_conversion(TakayaAtdConverter(), path, ctx)
            assert isinstance(result, Converted)
            for report in result.reports:
                assert report.validate() == []
                api.report.submit_report(report)
                stored = fake.get_report(str(report.id))
                assert stored is not None
                assert stored.sn == report.sn
    fake.close()


@pytest.mark.parametrize("child_above", [0, 40_000])
def test_the_daemon_converts_it_in_a_child_to_the_same_reports(child_above: int) -> None:
    # A big input (0: any), or reports outgrowing what the daemon builds in a thread
    # (40,000 bytes of WSJF: TooBigForThread), go to a child process: the same reports.
    arguments: dict[str, object] = {**OSLO, "process": 50}
    ctx = make_ctx(TakayaAtdConverter, arguments)
    data = ContextData(station=STATION, processes=PROCESSES, arguments=arguments)
    child = convert_builtin(
        TakayaAtdConverter(),
        TakayaAtdConverter.name,
        tab(),
        ctx,
        data,
        limits=OutputLimits(),
        child_above=child_above,
        timeout=120.0,
    )
    thread = run_conversion(TakayaAtdConverter(), tab(), ctx)
    assert isinstance(child, Converted), child
    assert isinstance(thread, Converted), thread
    same = uuid.UUID(int=1)  # the station gives converted reports ids of its own
    assert [msgspec.structs.replace(r, id=same) for r in child.reports] == [
        msgspec.structs.replace(r, id=same) for r in thread.reports
    ]


# --- recognition ------------------------------------------------------------------------------


def test_validate_recognises_its_files_and_no_other() -> None:
    ctx = make_ctx(TakayaAtdConverter)
    mine = {tab(), apt()}
    for path in mine:
        assert TakayaAtdConverter().validate(path, ctx).confidence >= 0.9
    preview = TakayaAtdConverter().validate(tab(), ctx).preview
    assert (preview.serial_number, preview.part_number) == ("0601994566", "V682780")
    others = [p for p in sorted(REAL.rglob("*")) if p.is_file() and p not in mine]
    assert others
    for path in others:
        seen = TakayaAtdConverter().validate(path, ctx)
        assert seen.confidence <= 0.2, (path, seen)
        assert seen.message


def test_validate_reads_only_the_head(tmp_path: Path) -> None:
    path = tmp_path / "big.atd"
    path.write_bytes(tab().read_bytes()[:12_000] + b"\xff\xfe\x00" * 100_000)
    assert TakayaAtdConverter().validate(path, make_ctx(TakayaAtdConverter)).confidence == 1.0


def test_the_benchmarks_enlarged_files_convert(tmp_path: Path) -> None:
    enlarge = enlarger("takaya_atd")

    path = tmp_path / "panel.atd"
    path.write_bytes(enlarge(tab().read_bytes(), 3))  # a panel of six boards
    reports = convert(path)
    assert [r.uut.test_socket_index for r in reports if r.uut] == [1, 2, 3, 4, 5, 6]
    assert len({r.sn for r in reports}) == 6
    path.write_bytes(enlarge(apt().read_bytes(), 3))
    assert [r.sn for r in convert(path)] == ["11111-BV0001", "11111-BV0001-2", "11111-BV0001-3"]


def test_reports_over_the_size_cap_stop_at_the_line() -> None:
    ctx = make_ctx(TakayaAtdConverter, processes=ICT)
    with (
        using_budget(OutputBudget(OutputLimits(max_report_size=5_000))),
        pytest.raises(OutputTooLarge, match=r"over 5,000 bytes as WSJF by line \d+ \("),
    ):
        list(read_takaya(tab(), ctx))


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("4.21 KO", 4210.0, "ohm"),
        ("1.5 MO", 1.5e6, "ohm"),  # megohms: an open
        ("5 MV", 0.005, "V"),  # no tester measures megavolts: millivolts
        ("12 mV", 0.012, "V"),
        ("100.0 nF", 1e-7, "F"),
        ("3 µF", 3e-6, "F"),
        ("2 UH", 2e-6, "H"),
        ("10 pF", 1e-11, "F"),
        ("7 XX", 7.0, "XX"),  # a unit it does not know: as written
    ],
)
def test_values_are_read_in_base_units(text: str, value: float, unit: str) -> None:
    found = parse_quantity(text, 1, "reference")
    assert found is not None
    assert (found.value, found.unit) == (value, unit)


def test_model_names() -> None:
    assert parse_model("V682780_B_BOT.SWX").side == "Bottom"
    assert parse_model("12345T_PANEL_V2.SWX").part == "12345"  # a side letter after a digit
    assert parse_model("12345T_PANEL_V2.SWX").side == "Top"
    assert parse_model("12345T_PANEL_V2.SWX").revision == "V2"
    assert parse_model(r"Y:\TAKAYA\SWX VALOR\ABC_TOP.SWX").program == "ABC_TOP"
    assert parse_model("ABC.SWX").revision is None


# --- what real stations produce --------------------------------------------------------------

APT = [
    "@",
    "* FAIL *",
    "D.T:2     D.P:1     D.F:1    G.T:2     G.P:1     G.F:1    ",
    "Model:PCB [7] 12B_PANEL_R3.SWX",
    "DATE 28/02/25 13:45:10",
    "Lot No.:L 42",
    "Test ID :FP2",
    "@",
    "* GROUP No.3  *",
    "* FAIL *",
    "Serial No.:SN 77 [x] (Åse Berg - Kim)",
    '000001 "R1         " "4.7KO      " "EXPART-3   " 338   324   " 4.21 KO " " 4.30 KO "'
    ' "........" +5% -5% "PASS   " "DC-CC" "Range 5" "2.0 ms" "( -, N, +, N) " 0     0     "**"',
    '000002 "C2         " "1UF        " "EXPART-4   " 338   324   "1.000 UF " "0.500 UF "'
    ' "0.610 UF " +20% -20% "FAIL   " "AC1.6K" "Range 4" "7.0 ms" "( -, N, N, +) " 0   0   "**"',
    "@",
]


def write(tmp_path: Path, lines: list[str], name: str = "board.atd") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_names_with_spaces_and_brackets_and_a_failed_board(tmp_path: Path) -> None:
    (report,) = convert(write(tmp_path, APT, "SN 77 [x] (Åse Berg).ATD"))
    assert (report.sn, report.pn, report.rev) == ("SN 77 [x]", "PCB [7] 12", "R3")
    assert report.process_code == 31  # the B after the 12: bottom, the APT-94xx default 31
    assert report.uut is not None
    assert report.uut.user == "Åse Berg"
    assert misc(report)["Operator 2"] == "Kim"
    assert misc(report)["Lot No."] == "L 42"  # any other header line is kept
    assert report.start == datetime(2025, 2, 28, 13, 45, 10, tzinfo=CET)
    assert report.result == "F"
    c2 = named(report, "C2_EXPART-4")
    assert c2.status == "F"
    assert report.uut.step_id_caused_uut_failure == c2.id
    (m,) = c2.numeric_meas or []
    assert m.value == pytest.approx(0.61e-6)
    assert m.status == "F"


@pytest.mark.parametrize("between", [" - ", "+", ", ", " / "])
def test_two_operators_in_the_serial_line(tmp_path: Path, between: str) -> None:
    lines = [line.replace("Åse Berg - Kim", f"Jean-Luc{between}Kim") for line in APT]
    (report,) = convert(write(tmp_path, lines))
    assert report.uut is not None
    assert report.uut.user == "Jean-Luc"
    assert misc(report)["Operator 2"] == "Kim"


def test_a_passed_board_keeps_its_verdict_over_a_failed_row(tmp_path: Path) -> None:
    lines = [line.replace("* FAIL *", "* PASS *") for line in APT]
    (report,) = convert(write(tmp_path, lines))
    assert report.result == "P"  # the tester's verdict
    assert named(report, "C2_EXPART-4").status == "F"
    assert report.root is not None
    assert [s.status for s in report.root.steps or []] == ["P", "F"]  # R, C


def test_no_test_is_terminated_and_dates_month_first(tmp_path: Path) -> None:
    lines = [line.replace("* FAIL *", "NO-TEST") for line in APT]
    lines[4] = "DATE 02/28/25 13:45:10"
    (report,) = convert(write(tmp_path, lines), {"day_first": False})
    assert report.result == "T"
    assert report.start == datetime(2025, 2, 28, 13, 45, 10, tzinfo=CET)


def test_several_panels_in_one_file(tmp_path: Path) -> None:
    # The APT-94xx writes bottom and top (or a re-test) one after the other; the closing @ of
    # one may open the next header, or a header of its own may follow.
    second = [line.replace("GROUP No.3", "GROUP No.4") for line in APT[1:]]
    reports = convert(write(tmp_path, [*APT, *second, "@", *APT[1:]]))
    assert [r.uut.test_socket_index for r in reports if r.uut] == [3, 4, 3]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-le", b""),
        ("cp1252", b""),  # Å is one byte in the Windows code page
        ("latin-1", b""),
    ],
)
def test_encodings_and_line_endings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "board.atd"
    path.write_bytes(bom + ("\r\n".join(APT) + "\r\n").encode(encoding))
    (report,) = convert(path)
    assert report.uut is not None
    assert report.uut.user == "Åse Berg"
    assert len(leaves(report)) == 2


def test_the_real_tab_file_with_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.ATD"
    path.write_bytes(tab().read_bytes().replace(b"\n", b"\r\n"))
    assert [len(leaves(r)) for r in convert(path)] == [55, 55]


def test_the_real_file_under_its_original_name(tmp_path: Path) -> None:
    path = tmp_path / "11111-BV0001 (AT33).ATD"  # as the tester wrote it, with a space
    path.write_bytes(apt().read_bytes())
    assert [r.sn for r in convert(path)] == ["11111-BV0001"]
    debug = tmp_path / "V682780_B_BOT_debug.ATD"  # WATS's converter: debug runs go to 10
    debug.write_bytes(tab().read_bytes())
    assert {r.process_code for r in convert(debug)} == {10}


# --- broken files -------------------------------------------------------------------------------


def _tab_lines() -> list[str]:
    return tab().read_text(encoding="ascii").split("\n")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda x: [], "the file holds no board (no '* GROUP No.n *' between @ lines)"),
        (
            lambda x: x[:100],  # still being written
            "the file ends at line 100 inside the panel that starts at line 1, before its "
            "closing @ (cut short, or still being written)",
        ),
        (
            lambda x: x[:72] + x[73:],  # * GROUP No.2 * dropped
            "line 73: '* PASS *' is not a TAKAYA ATD step row",
        ),
        (
            lambda x: x[:72] + x[76:],  # the head of GROUP No.2 dropped
            "line 75: a row of group 2 inside GROUP No.1 (line 11): a GROUP line is missing",
        ),
        (
            lambda x: x[:8] + x[9:],  # the header's closing @ dropped
            "line 10: '* GROUP No.1   *' is not a TAKAYA ATD header line",
        ),
        (
            lambda x: [*x[:3], "Model:ABC.SWX", *x[4:]],
            "line 4: the panel header's Model 'ABC.SWX' names no revision: set arguments.revision",
        ),
        (
            lambda x: [*x[:4], "DATE 31/02/2023 08:20:27", *x[5:]],
            "line 5: DATE '31/02/2023 08:20:27' is not a date (day/month/year) and a time",
        ),
        (
            lambda x: x[:13] + x[14:],  # Serial No. dropped
            "line 11: GROUP No.1 has no serial number (no 'Serial No.:')",
        ),
        (
            lambda x: [*x[:17], x[17][:60], *x[18:]],  # a row cut short
            "line 18: a row with 8 columns, at least 56 expected (a line cut short?)",
        ),
        (
            lambda x: [*x[:17], x[17].replace("\t409.5\t", "\t409,5\t"), *x[18:]],
            "line 18, test value 1 (figure column 22): '409,5' is not a number",
        ),
        (
            lambda x: [*x[:17], "9" * 100_000, *x[17:]],  # a line that never ends
            "line 18: '" + "9" * 40 + "…' is not a TAKAYA ATD step row",
        ),
        (
            lambda x: [*x[:17], x[17].replace("P1P2       ", "P" * 300 + "1"), *x[18:]],
            "line 18: the step name is 311 characters long; WATS stores at most 255",
        ),
    ],
)
def test_broken_files_fail_naming_the_line(tmp_path: Path, edit: Any, reason: str) -> None:
    assert fail(write(tmp_path, edit(_tab_lines()))) == reason


def test_a_process_the_server_lacks_names_the_line() -> None:
    ctx = make_ctx(TakayaAtdConverter, processes=PROCESSES)  # no 30: a new WATS has none
    result = run_conversion(TakayaAtdConverter(), tab(), ctx)
    assert isinstance(result, Failed)
    assert result.reason == (
        "line 4: unknown process 30 (known: 10 SW Debug, 50 PCBA test, 500 Repair)"
    )


def test_unknown_encodings_are_refused_with_the_configuration() -> None:
    with pytest.raises(ValueError, match="encoding 'klingon' is not 'auto' nor an encoding"):
        make_ctx(TakayaAtdConverter, {"encoding": "klingon"})
    with pytest.raises(ValueError, match="open_threshold must be a number of ohms above 0"):
        make_ctx(TakayaAtdConverter, {"open_threshold": 0})


_MUTATION = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("drop"), st.floats(0, 1)),
    st.tuples(st.just("twice"), st.floats(0, 1)),
    st.tuples(st.just("encode"), st.sampled_from(["utf-16", "utf-16-le", "cp1252"])),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=_MUTATION, which=st.booleans())
def test_hostile_variants_of_the_real_files(
    tmp_path: Path, mutation: tuple[Any, ...], which: bool
) -> None:
    data = (tab() if which else apt()).read_bytes()
    lines = data.splitlines(keepends=True)
    kind, *how = mutation
    if kind == "cut":
        broken = data[: int(len(data) * how[0])]
    elif kind == "flip":
        at = min(int(len(data) * how[0]), len(data) - 1)
        broken = data[:at] + bytes([data[at] ^ how[1]]) + data[at + 1 :]
    elif kind == "drop":
        at = min(int(len(lines) * how[0]), len(lines) - 1)
        broken = b"".join(lines[:at] + lines[at + 1 :])
    elif kind == "twice":
        at = min(int(len(lines) * how[0]), len(lines) - 1)
        broken = b"".join(lines[: at + 1] + lines[at:])
    else:
        broken = data.decode("ascii").encode(how[0])
    path = tmp_path / "hostile.ATD"
    path.write_bytes(broken)
    ctx = make_ctx(TakayaAtdConverter, processes=ICT)
    result = run_conversion(TakayaAtdConverter(), path, ctx)
    if isinstance(result, Failed):
        assert not result.reason.startswith("converter "), result.reason
        assert "line " in result.reason or "holds no board" in result.reason, result.reason
    else:
        assert isinstance(result, Converted)
    if kind == "cut" and len(broken) < data.rindex(b"\n@") + 2:
        assert isinstance(result, Failed)  # no closing @ yet: never half-converted

"""The ``spea_3030`` converter on the real SPEA 3030 file, and on what real stations make of it.

Every value asserted on the real file (``spea-3030/testdata_SN9871234012.csv``) was read by
hand in the file; the comments say on which line. Where ``equipment-formats.md`` §5 gives an
expected value, the test agrees with it or says why not.
"""

from __future__ import annotations

import codecs
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.models.report import Step, StepKind, UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters._placement import convert_builtin
from pywats_station.converters.builtin._budget import (
    OutputBudget,
    OutputLimits,
    OutputTooLarge,
    using_budget,
)
from pywats_station.converters.builtin.spea_3030 import Spea3030Converter, read_spea
from pywats_station.converters.sandbox import ContextData, run_conversion
from tests.fixtures import REAL, real_file
from tests.station.converters.helpers import PROCESSES, STATION, enlarger, make_ctx

OSLO = {"timezone": "Europe/Oslo"}
CEST = timezone(timedelta(hours=2))  # Oslo on 12 October 2024


def spea() -> Path:
    return real_file("spea-3030", "testdata_SN9871234012.csv")


def convert(path: Path, arguments: dict[str, object] | None = None) -> list[UUTReport]:
    ctx = make_ctx(Spea3030Converter, {**OSLO, **(arguments or {})})
    result = run_conversion(Spea3030Converter(), path, ctx)
    assert isinstance(result, Converted), result
    reports = [r for r in result.reports if isinstance(r, UUTReport)]
    assert len(reports) == len(result.reports)
    return reports


def fail(path: Path, arguments: dict[str, object] | None = None) -> str:
    ctx = make_ctx(Spea3030Converter, {**OSLO, **(arguments or {})})
    result = run_conversion(Spea3030Converter(), path, ctx)
    assert isinstance(result, Failed), result
    return result.reason


def write(tmp_path: Path, lines: list[str], name: str = "board.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def leaves(report: UUTReport) -> list[Step]:
    """The steps made from records: everything but the root and the sequences."""
    return [s for s in report.steps() if s.kind is not StepKind.SEQUENCE_CALL]


def named(report: UUTReport, name: str) -> Step:
    found = [s for s in leaves(report) if s.name == name]
    assert found, name
    return found[0]


@pytest.fixture(scope="module")
def boards() -> list[UUTReport]:
    return convert(spea())


# --- the real file -----------------------------------------------------------------------------


def test_every_board_is_a_report_with_its_header(boards: list[UUTReport]) -> None:
    # §5.4: 10 reports, all SN SN9871234012, nine FAIL then one PASS: agreed.
    assert len(boards) == 10  # ten START…END blocks (START on lines 2, 1206, …, 10844)
    assert {r.sn for r in boards} == {"SN9871234012"}  # SN records, lines 1202, 2406, …, 13256
    assert [r.result for r in boards] == ["F"] * 9 + [
        "P"
    ]  # END;FAIL lines 1204…10842, END;PASS 13258
    first, last = boards[0], boards[-1]
    # Line 2: START;Programme;23462-TS;1.0.2;23462-TS;Test Operator op1;10/12/2024;16:15:03
    # (FORMAT;mmdd on line 1: month first). §5.2's PN is the reference's argument (PN1) and its
    # revision empty: the file names neither, so the program name and version stand for them.
    assert (first.pn, first.rev, first.process_code) == ("23462-TS", "1.0.2", 10)
    assert first.start == datetime(2024, 10, 12, 16, 15, 3, tzinfo=CEST)
    assert last.start == datetime(2024, 10, 12, 16, 22, 3, tzinfo=CEST)  # line 10844
    assert first.uut is not None
    assert last.uut is not None
    assert first.uut.user == "Test Operator op1"
    assert first.uut.exec_time == 19.0  # END on line 1204 at 16:15:22
    assert last.uut.exec_time == 438.0  # END on line 13258 at 16:29:21: 7 min 18 s
    assert first.uut.test_socket_index == 1  # ANL field 2 (line 4)
    assert first.uut.batch_sn is None  # LOT; on line 3 is empty
    assert first.root is not None
    assert first.root.seq_call is not None
    seq = first.root.seq_call
    assert (seq.path, seq.name, seq.version) == ("Programme", "23462-TS", "1.0.2")  # START 2-4
    assert (first.machine_name, first.location, first.purpose) == (
        "FCT-1",
        "Plant A",
        "Production",
    )  # the station's identity, not the file's
    assert first.misc_infos is None  # START field 5 repeats field 3, BOARDRESULT repeats END


def test_every_record_is_a_step(boards: list[UUTReport]) -> None:
    # Lines 4-1201 hold 1,198 ANL records; the last board (lines 10844-13258) 2,395 ANL and
    # 15 FUNC records, which WATS's converter drops and this one keeps.
    counts = [len(leaves(r)) for r in boards]
    assert counts[0] == 1198
    assert counts[-1] == 2410
    assert sum(counts) == 13183 + 15  # every ANL and FUNC record of the file
    assert sum(len(r.steps()) for r in boards) == sum(counts) + 10 + sum(
        len([s for s in r.steps()[1:] if s.kind is StepKind.SEQUENCE_CALL]) for r in boards
    )
    # The groups of lines 4-132, in order: ADA_… (ADA), Counter, DSC-… (Capacitors), Board,
    # FLOAT, LNK…, JP6, L9 (Inductors), R1 (Resistors).
    top = [s.name for s in boards[0].root.steps or []]  # type: ignore[union-attr]
    assert top[:9] == [
        "ADA",
        "Counter",
        "Capacitors",
        "Board",
        "FLOAT",
        "LNK",
        "JP",
        "Inductors",
        "Resistors",
    ]


def test_measurements_with_limits_units_and_operators(boards: list[UUTReport]) -> None:
    first = boards[0]
    # Line 6: ANL;1;ADA_ICT;2;2;Adapter ist angesaugt…;;PASS;9.046875e+00;1.000000e+00;
    # 1.200000e+01;V
    step = named(first, "Adapter ist angesaugt, keine Verschiebung moeglich!")
    (m,) = step.numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit, m.high_limit, m.unit, m.status) == (
        9.046875,
        "GELE",
        1.0,
        12.0,
        "V",
        "P",
    )
    assert step.report_text == "ANL test 2.2; reference ADA_ICT; index 2399"
    # Line 4: value, low and high 0, no unit: a test without a measurement (pass/fail).
    assert named(first, "ADA_POS_ICT").kind is StepKind.PASS_FAIL
    # Line 133: LNK2TP $$SIGNAL1 … 1.085938e+00;0.000000e+00;1.000000e+01;ohm: a genuine low
    # limit of 0 (§5.5: WATS's converter reads it as "no limit" and logs LE 10).
    (m,) = named(first, "LNK2TP $$SIGNAL1 387-1106").numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit, m.high_limit, m.unit) == (
        1.085938,
        "GELE",
        0.0,
        10.0,
        "ohm",
    )
    # Line 132: FLOAT;;PASS;Automatic;;236: the tester chose the limits: no measurement.
    floating = named(first, "FLOAT")
    assert floating.kind is StepKind.PASS_FAIL
    assert floating.status == "P"
    assert floating.report_text is not None
    assert "value Automatic" in floating.report_text
    # Line 840: CAPC332 1nF … FAIL(+/-);-NAN;8.500000e-10;1.150000e-09;F: no value to log.
    c332 = named(first, "CAPC332 1nF 10% -10%")
    assert c332.kind is StepKind.PASS_FAIL
    assert c332.status == "F"
    assert c332.report_text == (
        "ANL test 763.1; nodes 30 250; result FAIL(+/-); index 972; "
        "value -NAN; limits 8.500000e-10 to 1.150000e-09 F"
    )
    assert first.uut is not None
    assert first.uut.step_id_caused_uut_failure == c332.id
    # Line 695: RESR707 75K 1% … PASS;4.417205e+04;6.975000e+04;8.025000e+04;ohm: the tester
    # passed it outside its limits; its verdict is the status.
    (m,) = named(first, "RESR707 75K 1%").numeric_meas or []
    assert (m.value, m.low_limit, m.high_limit, m.status) == (44172.05, 69750.0, 80250.0, "P")
    # Line 5659 (board 5): CAPC335 … FAIL(+);1.153988e-09;8.500000e-10;1.150000e-09;F
    (m,) = named(boards[4], "CAPC335 1nF 10% -10%").numeric_meas or []
    assert (m.value, m.comp_op, m.unit, m.status) == (1.153988e-09, "GELE", "F", "F")


def test_functional_records_are_kept(boards: list[UUTReport]) -> None:
    last = boards[-1]
    # Line 12645: FUNC;1;FKT;0;1000;CAN-Initialisierung;;PASS;1.000000e+00;1.000000e+00;0.000000e+00
    # a high limit of 0 under a low of 1 is how FUNC records write "no high limit".
    step = named(last, "CAN-Initialisierung")
    (m,) = step.numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit, m.high_limit, m.unit) == (1.0, "GE", 1.0, None, None)
    assert step.report_text == "FUNC test 0.1000; reference FKT"
    # Line 12932: FUNC;…;5.11 SPI acceleration sensor;;PASS;1.663400e+04;1.560000e+04;1.800000e+04
    (m,) = named(last, "5.11 SPI acceleration sensor").numeric_meas or []
    assert (m.value, m.comp_op, m.low_limit, m.high_limit) == (16634.0, "GELE", 15600.0, 18000.0)


def test_a_passed_board_keeps_its_verdict_over_failed_steps(boards: list[UUTReport]) -> None:
    # The last board: END;PASS (line 13258) though 21 records say FAIL(+/-), the discharge
    # checks the tester repeats ("DSC-CP[C128](2) Check capacitor voltage", line 10953 on).
    last = boards[-1]
    failed = [s for s in leaves(last) if s.status == "F"]
    assert len(failed) == 21
    assert last.result == "P"
    assert last.root is not None
    assert last.root.status == "P"
    assert last.uut is not None
    assert last.uut.step_id_caused_uut_failure is None
    groups = [s for s in last.root.steps or [] if s.status == "F"]
    assert groups
    assert {g.name for g in groups} == {"Capacitors"}


def test_the_arguments_name_what_the_file_does_not(tmp_path: Path) -> None:
    first = convert(spea(), {"part_number": "PCBA-23462", "revision": "C", "process": 50})[0]
    assert (first.pn, first.rev, first.process_code) == ("PCBA-23462", "C", 50)
    mapped = convert(spea(), {"process_map": {"23462-ts": "PCBA test"}})[0]
    assert mapped.process_code == 50  # keyed by the program name, any case
    utc = convert(spea(), {"timezone": "UTC"})[0]
    assert utc.start == datetime(2024, 10, 12, 16, 15, 3, tzinfo=UTC)


def test_the_emulator_accepts_every_report_in_strict_mode(boards: list[UUTReport]) -> None:
    from pywats import pyWATS
    from pywats.testing import FakeWATS

    fake = FakeWATS(token="test-token", strict=True)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        ctx = make_ctx(Spea3030Converter, OSLO, processes=api.app.get_processes())
        result = run_conversion(Spea3030Converter(), spea(), ctx)
        assert isinstance(result, Converted)
        for report in result.reports:
            assert report.validate() == []
            api.report.submit_report(report)
        stored = fake.get_report(str(result.reports[-1].id))
    assert stored is not None
    assert (stored.sn, stored.result) == ("SN9871234012", "P")
    fake.close()


@pytest.mark.parametrize("child_above", [0, 40_000])
def test_the_daemon_converts_it_in_a_child_to_the_same_reports(child_above: int) -> None:
    # A big input (0: any), or reports outgrowing what the daemon builds in a thread
    # (40,000 bytes of WSJF: TooBigForThread), go to a child process: the same reports.
    arguments: dict[str, object] = {**OSLO}
    ctx = make_ctx(Spea3030Converter, arguments)
    data = ContextData(station=STATION, processes=PROCESSES, arguments=arguments)
    child = convert_builtin(
        Spea3030Converter(),
        Spea3030Converter.name,
        spea(),
        ctx,
        data,
        limits=OutputLimits(),
        child_above=child_above,
        timeout=120.0,
    )
    thread = run_conversion(Spea3030Converter(), spea(), ctx)
    assert isinstance(child, Converted), child
    assert isinstance(thread, Converted), thread
    same = uuid.UUID(int=1)  # the station gives converted reports ids of its own
    assert [msgspec.structs.replace(r, id=same) for r in child.reports] == [
        msgspec.structs.replace(r, id=same) for r in thread.reports
    ]


# --- recognition ------------------------------------------------------------------------------


def test_validate_recognises_its_files_and_no_other() -> None:
    ctx = make_ctx(Spea3030Converter)
    mine = spea()
    others = [p for p in sorted(REAL.rglob("*")) if p.is_file() and p != mine]
    assert others
    found = Spea3030Converter().validate(mine, ctx)
    assert found.confidence >= 0.9
    assert found.preview.part_number == "23462-TS"
    for path in others:
        seen = Spea3030Converter().validate(path, ctx)
        assert seen.confidence <= 0.2, (path, seen)
        assert seen.message


def test_validate_reads_only_the_head(tmp_path: Path) -> None:
    # A head of records followed by bytes that are no text at all: still recognised.
    path = tmp_path / "big.csv"
    path.write_bytes(spea().read_bytes()[:20_000] + b"\xff\xfe\x00" * 100_000)
    assert Spea3030Converter().validate(path, make_ctx(Spea3030Converter)).confidence == 1.0


def test_the_generic_csv_converter_does_not_claim_it() -> None:
    from pywats_station.converters.builtin.csv import CsvConverter

    seen = CsvConverter().validate(spea(), make_ctx(CsvConverter))
    assert seen.confidence <= 0.2


# --- what real stations produce --------------------------------------------------------------

BOARD = [
    "FORMAT;mmdd",
    "START;Prog [v2];Board A (top);2.1;Board A (top);Anna Öberg;03/04/2025;09:00:00",
    "LOT;L-17",
    "ANL;1;R12;1;1;RES R12 10K 1%;;PASS;1.001000e+04;9.900000e+03;1.010000e+04;ohm;12 30 ;1",
    "ANL;1;C3;2;1;CAP C3 100n;;FAIL(-);7.000000e-08;8.000000e-08;1.200000e-07;F;4 30 ;2",
    "SN;SN 0001 [A]",
    "BOARDRESULT;FAIL",
    "END;FAIL;03/04/2025;09:00:42",
]


def test_names_with_spaces_and_brackets(tmp_path: Path) -> None:
    (report,) = convert(write(tmp_path, BOARD, "ICT run [line 2] (1).csv"))
    assert (report.sn, report.pn, report.rev) == ("SN 0001 [A]", "Board A (top)", "2.1")
    assert report.uut is not None
    assert report.uut.user == "Anna Öberg"
    assert report.uut.batch_sn == "L-17"
    assert report.start == datetime(2025, 3, 4, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert [s.status for s in leaves(report)] == ["P", "F"]
    (m,) = named(report, "CAP C3 100n").numeric_meas or []
    assert (m.value, m.status) == (7e-08, "F")


def test_day_first_dates_follow_the_format_record(tmp_path: Path) -> None:
    lines = ["FORMAT;ddmm", *BOARD[1:]]
    (report,) = convert(write(tmp_path, lines))
    assert report.start == datetime(2025, 4, 3, 9, 0, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-le", b""),  # UTF-16 written without a mark
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("cp1252", b""),  # the ANSI code page of a Windows PC: Ö is one byte
        ("latin-1", b""),
    ],
)
def test_encodings_and_line_endings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = "\r\n".join(BOARD) + "\r\n"  # Windows line endings
    path = tmp_path / "board.csv"
    path.write_bytes(bom + text.encode(encoding))
    (report,) = convert(path)
    assert report.uut is not None
    assert report.uut.user == "Anna Öberg"
    assert [s.name for s in leaves(report)] == ["RES R12 10K 1%", "CAP C3 100n"]


def test_a_wrong_configured_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "board.csv"
    path.write_bytes("\n".join(BOARD).encode("cp1252"))
    reason = fail(path, {"encoding": "utf-8"})
    assert reason == (
        "line 2, column 54: the file is not utf-8 (byte 0xd6); set arguments.encoding"
    )


def test_the_real_file_with_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(spea().read_bytes().replace(b"\n", b"\r\n"))
    reports = convert(path)
    assert [len(leaves(r)) for r in reports] == [len(leaves(r)) for r in convert(spea())]


# --- broken files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([], "the file holds no board (no START … END block of records)"),
        (
            BOARD[:5],  # a file still being written: its END is not there yet
            "the file ends at line 5 inside the board from line 2, before its END record "
            "(cut short, or still being written)",
        ),
        (
            [BOARD[0], *BOARD[2:]],  # START dropped
            "line 2: LOT record outside a board (no START before it)",
        ),
        (
            [*BOARD[:2], *BOARD[1:]],  # START written twice
            "line 3: START record inside the board from line 2, whose END record is missing",
        ),
        (
            [*BOARD[:5], *BOARD[6:]],  # SN dropped
            "the board from line 2 to line 7 has no serial number (no SN record)",
        ),
        (
            [*BOARD[:3], BOARD[3].replace("1.001000e+04", "1.00x000e+04"), *BOARD[4:]],
            "line 4, field 9 (value): '1.00x000e+04' is not a number",
        ),
        (
            [*BOARD[:3], BOARD[3][:40], *BOARD[4:]],  # a line cut short
            "line 4: ANL record with 9 fields, at least 12 expected (a line cut short?)",
        ),
        (
            [*BOARD[:3], "9" * 100_000, *BOARD[3:]],  # a line that never ends
            "line 4: '" + "9" * 40 + "…' is not a SPEA 3030 record (FORMAT, START, LOT, ANL, "
            "FUNC, SN, BOARDRESULT, END)",
        ),
        (
            [*BOARD[:3], BOARD[3].replace("RES R12 10K 1%", "R" * 10_000), *BOARD[4:]],
            "line 4: the step name (field 6) is 10,000 characters long; WATS stores at most 255",
        ),
        (
            [*BOARD[:7], "END;MAYBE;03/04/2025;09:00:42"],
            "line 8: END 'MAYBE' is not PASS or FAIL",
        ),
        (
            [*BOARD[:7], "END;FAIL;13/04/2025;09:00:42"],
            "line 8: the END time '13/04/2025' '09:00:42' is not a date MM/dd/yyyy and a time "
            "HH:mm:ss",
        ),
    ],
)
def test_broken_files_fail_naming_the_line(tmp_path: Path, lines: list[str], reason: str) -> None:
    assert fail(write(tmp_path, lines)) == reason


def test_a_real_file_cut_short_fails_and_never_half_converts(tmp_path: Path) -> None:
    data = spea().read_bytes()
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: data.index(b"END;PASS")])  # the last board's END not yet written
    assert fail(path) == (
        "the file ends at line 13257 inside the board from line 10844, before its END record "
        "(cut short, or still being written)"
    )


def test_reports_over_the_size_cap_stop_at_the_line(tmp_path: Path) -> None:
    ctx = make_ctx(Spea3030Converter)
    with (
        using_budget(OutputBudget(OutputLimits(max_report_size=50_000))),
        pytest.raises(OutputTooLarge, match=r"over 50 kB as WSJF by line 2\d\d \("),
    ):
        list(read_spea(spea(), ctx))


_MUTATION = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("drop"), st.floats(0, 1)),
    st.tuples(st.just("twice"), st.floats(0, 1)),
    st.tuples(st.just("encode"), st.sampled_from(["utf-16", "utf-16-le", "cp1252"])),
)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=_MUTATION)
def test_hostile_variants_of_the_real_file(tmp_path: Path, mutation: tuple[Any, ...]) -> None:
    data = spea().read_bytes()
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
    path = tmp_path / "hostile.csv"
    path.write_bytes(broken)
    result = run_conversion(Spea3030Converter(), path, make_ctx(Spea3030Converter))
    if isinstance(result, Failed):
        assert not result.reason.startswith("converter "), result.reason
        assert "line " in result.reason or "holds no board" in result.reason, result.reason
    else:
        assert isinstance(result, Converted)
    if kind == "cut" and len(broken) < data.rindex(b"END;PASS") + len(b"END;PASS;10/12/2024"):
        assert isinstance(result, Failed)  # a copy cut before its last END never converts


def test_the_benchmarks_enlarged_file_converts(tmp_path: Path) -> None:
    enlarge = enlarger("spea_3030")

    path = tmp_path / "twice.csv"
    path.write_bytes(enlarge(spea().read_bytes(), 2))
    serials = [r.sn for r in convert(path)]
    assert serials == ["SN9871234012"] * 10 + ["SN9871234012-2"] * 10


# --- memory -----------------------------------------------------------------------------------

_PEAK = textwrap.dedent(
    """
    import logging, resource, sys
    from pathlib import Path
    from pywats_station.converters.api import ConverterContext, StationInfo, parse_arguments
    from pywats_station.converters.builtin._budget import OutputBudget, OutputLimits, using_budget
    from pywats_station.converters.builtin.spea_3030 import Spea3030Converter, read_spea

    ctx = ConverterContext(
        StationInfo(name="S", location="L", purpose="P"), [],
        parse_arguments(Spea3030Converter, {}), logging.getLogger("peak"),
    )
    limits = OutputLimits(max_report_size=10**9, max_output_size=10**10)
    count = 0
    with using_budget(OutputBudget(limits)):
        for report in read_spea(Path(sys.argv[1]), ctx):  # each report dropped once made
            count += 1
    print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def _peak_kib(path: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    count, peak = done.stdout.split()
    return int(count), int(peak)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    enlarge = enlarger("spea_3030")

    bigger = tmp_path / "ten-times.csv"
    bigger.write_bytes(enlarge(spea().read_bytes(), 10))  # 14 MB, 100 boards
    boards, peak = _peak_kib(spea())
    more_boards, bigger_peak = _peak_kib(bigger)
    assert (boards, more_boards) == (10, 100)
    # Streamed: ten times the file costs about the same (measured: +1 MB on 44 MB); the bound
    # is generous, far below what holding the 14 MB of text or 100 reports would take.
    assert bigger_peak - peak < 30 * 1024, (peak, bigger_peak)

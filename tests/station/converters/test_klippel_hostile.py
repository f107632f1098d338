"""The ``klippel`` converter on broken runs: every case fails the run naming file and line, or
converts what is sound and says what it left out; nothing raises, nothing hangs.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.models.report import UUTReport
from pywats_station.converters import Converted, Failed, Suspended
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.klippel import KlippelConverter
from pywats_station.converters.sandbox import run_conversion
from tests.station.converters.helpers import make_ctx
from tests.station.converters.test_klippel import ARGS, SPACED, children, copy_run, report_of

IMP = "Impedance-imp.txt"
RESP = "Sound Pressure-resp.txt"


def failed(folder: Path, arguments: dict[str, object] | None = None) -> str:
    result = run_conversion(
        KlippelConverter(), folder, make_ctx(KlippelConverter, arguments or ARGS), strict=True
    )
    assert isinstance(result, Failed), result
    return result.reason


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return copy_run(tmp_path)


# --- broken data files -----------------------------------------------------------------------


def test_a_curve_cut_short_fails_naming_its_last_line(run: Path) -> None:
    path = run / IMP
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\t6.6844")])  # imp:130 cut after its frequency
    assert failed(run) == f"{IMP}: line 130: 1 cells, but the header has 4 (the file is cut short?)"


def test_a_flipped_byte_fails_naming_line_and_column(run: Path) -> None:
    rewrite(run / IMP, "18.750\t1.7263", "18.750\t1.7&63")  # 0x32 ^ 0x14: '2' became '&'
    assert failed(run) == f"{IMP}: line 2, column 2 (imp): '1.7&63' is not a number"
    rewrite(run / IMP, "1.7&63", "1.7\x0163")  # "18.750<TAB>1.7" is 10 characters
    assert failed(run) == (
        f"{IMP}: line 2, column 11: a control character (0x01); the file is damaged"
    )


def test_a_tab_lost_in_a_row_fails(run: Path) -> None:
    rewrite(run / RESP, "206.00\t91.398", "206.00 91.398")
    assert failed(run) == f"{RESP}: line 3: 3 cells, but the header has 4 (the file is cut short?)"


def test_a_data_file_that_lost_its_first_line_fails(run: Path) -> None:
    rewrite(run / IMP, "frq\timp\tmax\tmin\n", "")
    assert failed(run) == (
        f"{IMP}: line 1, column 1: not the header of a Klippel data file (frq<TAB>result… or "
        "name<TAB>value…): '18.750\\t1.7263\\t3.4030\\t3.0445'"
    )


def test_crossed_limits_fail_naming_the_line(run: Path) -> None:
    rewrite(run / "Sound Pressure-values.txt", "97.337\t91.337", "91.337\t97.337")
    reason = failed(run)
    assert reason.startswith("Sound Pressure-values.txt line 2: ")
    assert "low limit 97.337 is above high limit 91.337" in reason


def test_a_missing_curve_file_converts_what_is_there(run: Path) -> None:
    (run / "Sound Pressure-thd.txt").unlink()
    report = report_of(run)
    assert list(children(children(report.root)["Sound Pressure"])) == ["rbz", "resp", "level"]
    # thd is judged in header:53 but its file is gone: the verdict still shows.
    without = children(children(report.root)["Results without data"])
    assert (list(without), without["thd"].status) == (["pol", "thd", "fs"], "P")


def test_unknown_files_are_listed_not_read(run: Path) -> None:
    (run / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (run / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (run / "extra").mkdir()
    (run / "extra" / "x.txt").write_text("frq\tx\n1\t2\n", encoding="utf-8")
    report = report_of(run)
    _, files = report.additional_data or []
    listed = {p.name: p.value for p in files.props or []}
    assert listed[".DS_Store"] == "not read: a hidden file"
    assert listed["extra"] == "not read: a folder"
    assert listed["photo.png"] == "not read: not a .txt file"
    assert len(listed) == 9


def test_nan_and_infinity_stay_out_of_the_charts(run: Path) -> None:
    rewrite(run / IMP, "23.438\t4.5925", "23.438\tNaN")
    rewrite(run / IMP, "28.125\t3.1249", "28.125\tinf")
    rewrite(run / IMP, "32.813\t3.3693\t3.5032", "32.813\t-Infinity\t1e999")
    imp = children(children(report_of(run).root)["Impedance"])["imp"]
    assert imp.chart is not None
    series = {s.name: s.points() for s in imp.chart.series or []}
    assert (len(series["values"][0]), len(series["max"][0]), len(series["min"][0])) == (
        126,
        128,
        129,
    )
    assert all(math.isfinite(v) for x, y in series.values() for v in (*x, *y))
    assert imp.report_text == "3 values NaN or infinite in the file, left out"
    counts = {m.name: m.value for m in imp.numeric_meas or []}
    assert counts["OutOfBounds"] == 19  # of 20: imp:3 (4.5925 > 3.4223) is NaN now


def test_a_nan_single_value_is_a_step_without_value(run: Path) -> None:
    rewrite(run / "Sound Pressure-values.txt", "level\t95.203", "level\tnan")
    level = children(children(report_of(run).root)["Sound Pressure"])["level"]
    assert level.numeric_meas is None
    assert level.status == "P"  # header:53 judged it passing
    assert level.report_text == (
        "Klippel's verdict: Pass; no value: NaN or infinite in the file; limits 91.337 to 97.337"
    )


def test_a_huge_curve_is_thinned_for_the_chart_but_measured_whole(run: Path) -> None:
    rows = 100_000
    lines = ["frq\timp\tmax\tmin"]
    lines += [f"{10 + i * 0.2:.3f}\t{4 + (i % 5) * 0.1:.4f}\t4.5\t3.5" for i in range(rows)]
    lines[50_001] = "10010.000\t9.0000\t4.5\t3.5"  # one point over the limit, mid-curve
    (run / IMP).write_text("\n".join(lines) + "\n", encoding="utf-8")
    imp = children(children(report_of(run, {**ARGS, "max_points": 500}).root)["Impedance"])["imp"]
    assert imp.chart is not None
    assert {len(s.points()[0]) for s in imp.chart.series or []} == {500}
    first, last = (imp.chart.series or [])[0].points()[0][::499]
    assert (first, last) == (10.0, 20009.8)  # both ends are kept
    counts = {m.name: m.value for m in imp.numeric_meas or []}
    assert (counts["OutOfBounds"], counts["max"]) == (1, 9.0)  # every row counted
    assert imp.report_text == "the chart shows 500 of 100,000 frequencies"


def test_the_report_budget_stops_at_the_curve_that_breaks_it(run: Path) -> None:
    lines = ["frq\timp\tmax\tmin"]
    lines += [f"{10 + i:.1f}\t4.0\t4.5\t3.5" for i in range(3000)]
    (run / IMP).write_text("\n".join(lines) + "\n", encoding="utf-8")
    limits = OutputLimits(max_report_size=20_000, settings="converters.klippel")
    ctx = make_ctx(KlippelConverter, {**ARGS, "max_points": 3000})
    result = run_conversion(KlippelConverter(), run, ctx, limits=limits)
    assert isinstance(result, Failed), result
    reason = result.reason
    assert reason.startswith(f"{IMP}: the report is over 20 kB as WSJF by line 3,001 ")
    assert reason.endswith("(converters.klippel.max_report_size)")


# --- broken headers --------------------------------------------------------------------------


def test_empty_files_fail_naming_them(tmp_path: Path) -> None:
    run = copy_run(tmp_path / "a")
    (run / IMP).write_bytes(b"")
    assert failed(run) == f"{IMP}: the file is empty (is the tester still writing it?)"
    run = copy_run(tmp_path / "b")
    (run.parent / f"{SPACED}.txt").write_bytes(b"\n\n")
    assert failed(run) == f"{SPACED}.txt is empty: a Klippel header has Key=Value lines"


def test_header_lines_that_are_wrong_fail_naming_them(run: Path) -> None:
    header = run.parent / f"{SPACED}.txt"
    rewrite(header, "Cfg_LimitCalcMode=F", "Cfg_LimitCalcMode F")
    assert failed(run) == (
        f"{SPACED}.txt: line 8: expected Key=Value or a // comment, got 'Cfg_LimitCalcMode F'"
    )
    rewrite(header, "Cfg_LimitCalcMode F", "Cfg_LimitCalcMode=F")
    rewrite(header, "Ctrl_Repeat=F", "Cfg_SerialNumber=xyz116")
    assert failed(run) == (
        f"{SPACED}.txt: line 41: Cfg_SerialNumber again, with another value than on line 26 "
        "('xyz116', not 'xyz115')"
    )
    rewrite(header, "Cfg_SerialNumber=xyz116", "Ctrl_Repeat=F")
    rewrite(header, "Cfg_SerialNumber=xyz115", "Cfg_SerialNumber=")
    assert failed(run) == f"{SPACED}.txt line 26: Cfg_SerialNumber is empty"
    rewrite(header, "Cfg_SerialNumber=", "Cfg_SerialNumber=" + "7" * 51)
    assert failed(run) == (
        f"{SPACED}.txt line 26: Cfg_SerialNumber is 51 characters long; WATS takes at most 50"
    )


def test_a_header_in_another_encoding_says_which_argument_helps(run: Path) -> None:
    header = run.parent / f"{SPACED}.txt"
    rewrite(header, "m.liebig", "m.l\u00fcbig")
    header.write_bytes(header.read_bytes().decode("utf-8").encode("latin-1"))
    assert failed(run) == (
        f"{SPACED}.txt: line 32, column 21: the file is not utf-8 (byte 0xfc); set "
        "arguments.encoding"
    )
    report = report_of(run, {**ARGS, "encoding": "latin-1"})
    assert report.uut is not None
    assert report.uut.user == "win:m.l\u00fcbig"


def test_a_bad_start_time_fails_naming_the_line(run: Path) -> None:
    header = run.parent / f"{SPACED}.txt"
    rewrite(header, "2020-5-20-135-5-14-10-1", "2020-2-20-135-5-31-10-1")  # 31 February
    assert failed(run) == (
        f"{SPACED}.txt line 5: Cfg_DutStartTime '2020-2-20-135-5-31-10-1-37-563-120-1.589E+09': "
        "day is out of range for month"
    )


# --- anything at all -------------------------------------------------------------------------

_PLACE = re.compile(r"\bline \d+|\bempty\b|\bholds no\b|\bno \w+ line in the file\b")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    file=st.integers(0, 6),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert"]),
            st.floats(0, 1),
            st.binary(min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_any_damage_fails_cleanly_or_converts(
    tmp_path_factory: pytest.TempPathFactory, file: int, edits: list[tuple[str, float, bytes]]
) -> None:
    """Bytes flipped, cut or inserted anywhere in any file of the run (header included)."""
    folder = copy_run(tmp_path_factory.mktemp("run"))
    paths = [folder.parent / f"{SPACED}.txt", *sorted(folder.iterdir())]
    path = paths[file]
    data = bytearray(path.read_bytes())
    for what, where, blob in edits:
        at = min(int(where * len(data)), max(0, len(data) - 1))
        if what == "flip" and data:
            data[at] ^= blob[0] or 1
        elif what == "cut":
            del data[at:]
        else:
            data[at:at] = blob
    path.write_bytes(bytes(data))
    result = run_conversion(
        KlippelConverter(), folder, make_ctx(KlippelConverter, ARGS), strict=True
    )
    if isinstance(result, Converted):
        (report,) = result.reports
        assert isinstance(report, UUTReport)
        assert report.validate(server_rules=True) == []
        return
    if isinstance(result, Suspended):  # the damage made it look incomplete (no .txt left)
        return
    assert isinstance(result, Failed)
    assert not result.reason.startswith("converter "), result.reason  # a bug, not the input
    assert _PLACE.search(result.reason), result.reason
    names = [p.name for p in paths]
    assert any(result.reason.startswith(name) for name in names) or "folder" in result.reason


def test_a_fifo_in_place_of_a_curve_is_not_read(run: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs: POSIX")
    os.mkfifo(run / "Impedance-phase.txt")
    report = report_of(run)
    _, files = report.additional_data or []
    assert {p.name: p.value for p in files.props or []}["Impedance-phase.txt"] == (
        "not read: not a regular file"
    )

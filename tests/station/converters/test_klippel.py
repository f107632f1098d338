"""The ``klippel`` converter on the real Klippel QC run, under the names a station writes.

Every value asserted here was read off the files by hand; the comment beside it says where
(``header:26`` is line 26 of ``DUT … UTC+0200.txt``; ``imp:2`` is line 2 of
``Impedance-imp.txt``; curve sums and counts were recomputed with awk over the columns).
The fixture's copy has dashes for spaces: :func:`copy_run` restores the spaces.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pywats import pyWATS
from pywats.models.report import Step, StepKind, UUTReport
from pywats.testing import FakeWATS
from pywats_station.config import read_config
from pywats_station.converters import ConversionResult, Converted, Failed, Suspended
from pywats_station.converters.api import parse_arguments
from pywats_station.converters.builtin.klippel import KlippelArguments, KlippelConverter
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.sandbox import run_conversion
from tests.doc_examples import blocks
from tests.fixtures import REAL, real_dir
from tests.station.converters.helpers import make_ctx

FIXTURE = "DUT-xyz115-2020-05-14-10-01-37-5-UTC+0200"
SPACED = "DUT xyz115 2020-05-14 10-01-37-5 UTC+0200"  # as header:44 (Ctrl_SaveData) names it
SPACED_FILES = {
    "Impedance-imp.txt": "Impedance-imp.txt",
    "Impedance-values.txt": "Impedance-values.txt",
    "Sound-Pressure-rbz.txt": "Sound Pressure-rbz.txt",
    "Sound-Pressure-resp.txt": "Sound Pressure-resp.txt",
    "Sound-Pressure-thd.txt": "Sound Pressure-thd.txt",
    "Sound-Pressure-values.txt": "Sound Pressure-values.txt",
}
ARGS: dict[str, Any] = {"part_number": "SPK-8-WOOFER", "revision": "B"}
PLUS_2 = timezone(timedelta(hours=2))


# --- helpers, shared with the other Klippel tests -------------------------------------------


def copy_run(into: Path, *, spaced: bool = True, header: bool = True) -> Path:
    """Copy the real run into ``into`` (spaced names by default); return its folder."""
    real = real_dir("klippel")
    name = SPACED if spaced else FIXTURE
    folder = into / name
    folder.mkdir(parents=True)
    for original, spaced_name in SPACED_FILES.items():
        shutil.copyfile(real / FIXTURE / original, folder / (spaced_name if spaced else original))
    if header:
        shutil.copyfile(real / f"{FIXTURE}.txt", into / f"{name}.txt")
    return folder


def convert(folder: Path, arguments: dict[str, Any] | None = None) -> ConversionResult:
    """Convert as the daemon does: reports checked, the live server's own rules included."""
    args = ARGS if arguments is None else arguments
    return run_conversion(KlippelConverter(), folder, make_ctx(KlippelConverter, args), strict=True)


def report_of(folder: Path, arguments: dict[str, Any] | None = None) -> UUTReport:
    """The one report of a run that must convert."""
    result = convert(folder, arguments)
    assert isinstance(result, Converted), result
    (report,) = result.reports
    assert isinstance(report, UUTReport)
    return report


def children(step: Step | None) -> dict[str, Step]:
    return {s.name or "": s for s in (step.steps if step is not None else None) or []}


def measurements(step: Step) -> dict[str, tuple[Any, ...]]:
    return {
        m.name or "": (m.value, m.comp_op, m.low_limit, m.high_limit, m.unit, m.status)
        for m in step.numeric_meas or []
    }


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return copy_run(tmp_path)


# --- the header ------------------------------------------------------------------------------


def test_the_header_becomes_the_report_header(run: Path) -> None:
    report = report_of(run)
    assert report.sn == "xyz115"  # header:26 Cfg_SerialNumber
    assert (report.pn, report.rev) == ("SPK-8-WOOFER", "B")  # not in the files: arguments
    assert report.process_code == 10  # WATS's own Klippel converter's default
    assert (report.machine_name, report.location, report.purpose) == (
        "FCT-1",
        "Plant A",
        "Production",
    )  # ctx.station
    # header:5 Cfg_DutStartTime=2020-5-20-135-5-14-10-1-37-563-120-…: 10:01:37.563 at +120 min,
    # the offset the name says too ("… 10-01-37-5 UTC+0200").
    assert report.start == datetime(2020, 5, 14, 10, 1, 37, 563000, tzinfo=PLUS_2)
    assert report.start is not None
    assert report.start.utcoffset() == timedelta(hours=2)
    assert report.result == "F"  # header:38 Ctrl_OverallVerdict=0 (fail)
    assert report.uut is not None
    assert report.uut.user == "win:m.liebig"  # header:32 Cfg_UserName
    assert report.uut.error_message is None  # header:35 Ctrl_ErrorGeneral= (empty)
    assert report.root is not None
    assert report.root.seq_call is not None
    assert report.root.seq_call.name == "Klippel QC"
    assert report.root.seq_call.path == r"D:\databases\WATS\example.kdbx"  # header:2
    assert [(m.description, m.text) for m in report.misc_infos or []] == [
        ("Cfg_LoginMode", "PROGRAMMER"),  # header:17
        ("Cfg_Speaker", "sp2"),  # header:29
        ("FileName", f"{SPACED}.txt"),
        ("Verdict", "Fail"),  # header:38, in Klippel's word
    ]


def test_every_header_line_is_kept_in_additional_data(run: Path) -> None:
    report = report_of(run)
    header, files = report.additional_data or []
    assert header.name == "Klippel header"
    props = {p.name: p for p in header.props or []}
    assert len(props) == 23  # the 23 Key=Value lines of the header (lines 2, 5, … 68)
    assert props["Cfg_DutStartTime"].value == "2020-5-20-135-5-14-10-1-37-563-120-1.589E+09"
    assert props["Results_Pass"].value == "resp\tlevel\tpol\tthd\trbz"  # header:53
    assert props["Cfg_PCName"].value == ""  # header:23, empty, still there
    assert props["Cfg_SerialNumber"].comment == "serial number of current DUT"  # header:25
    assert files.name == "Klippel files"
    assert [p.name for p in files.props or []] == [
        "Impedance-imp.txt",
        "Impedance-values.txt",
        "Sound Pressure-rbz.txt",
        "Sound Pressure-resp.txt",
        "Sound Pressure-thd.txt",
        "Sound Pressure-values.txt",
    ]
    assert (files.props or [])[0].value == "curve imp: 129 frequencies, columns frq, imp, max, min"


# --- the steps -------------------------------------------------------------------------------


def test_one_sequence_per_task_named_up_to_the_last_dash(run: Path) -> None:
    report = report_of(run)
    top = children(report.root)
    # "Sound Pressure-resp.txt": the task is "Sound Pressure" (WATS's converter cuts at the
    # first dash, which works only because the real name has a space there).
    assert list(top) == ["Impedance", "Sound Pressure", "Results without data"]
    assert list(children(top["Impedance"])) == ["imp", "re", "qts"]
    assert list(children(top["Sound Pressure"])) == ["rbz", "resp", "thd", "level"]
    # pol and fs are judged in header:53/56 but no file holds them.
    assert list(children(top["Results without data"])) == ["pol", "fs"]
    assert {name: step.status for name, step in top.items()} == {
        "Impedance": "F",  # imp and re failed
        "Sound Pressure": "P",
        "Results without data": "F",  # fs failed
    }


def test_the_dashed_fixture_names_give_the_dashed_task(tmp_path: Path) -> None:
    report = report_of(copy_run(tmp_path, spaced=False))
    assert list(children(report.root)) == ["Impedance", "Sound-Pressure", "Results without data"]
    assert report.sn == "xyz115"


def test_the_impedance_curve_is_a_chart_with_its_limit_lines(run: Path) -> None:
    imp = children(children(report_of(run).root)["Impedance"])["imp"]
    assert imp.kind is StepKind.MULTI_NUMERIC_LIMIT  # measurements and a chart
    assert imp.step_type == "WATS_XYGMNLT"
    assert imp.status == "F"  # header:56 Results_Fail lists imp; 20 frequencies are outside
    assert imp.chart is not None
    chart = imp.chart
    assert (chart.chart_type, chart.label, chart.x_label, chart.x_unit) == (
        "LineLogX",
        "imp",
        "Frequency",
        "Hz",
    )
    assert (chart.y_label, chart.y_unit) == ("imp", "Ohm")
    series = {s.name: s.points() for s in chart.series or []}
    assert list(series) == ["values", "max", "min"]  # imp:1 frq imp max min
    assert all(len(x) == len(y) == 129 for x, y in series.values())  # imp:2 to imp:130
    assert (series["values"][0][0], series["values"][1][0]) == (18.75, 1.7263)  # imp:2
    assert (series["max"][0][-1], series["max"][1][-1]) == (5001.6, 7.3462)  # imp:130
    assert series["min"][1][0] == 3.0445  # imp:2
    meas = measurements(imp)
    assert meas["min"] == (1.7263, "LOG", None, None, "Ohm", "P")  # imp:2
    assert meas["max"] == (6.6844, "LOG", None, None, "Ohm", "P")  # imp:130
    assert meas["avg"][0] == pytest.approx(4.300786, abs=1e-6)  # awk: sum/129
    # imp:2 (1.7263 < 3.0445), imp:3 (4.5925 > 3.4223), … 20 rows in all (awk, by hand).
    assert meas["OutOfBounds"] == (20, "LT", 1, None, "#", "F")


def test_sound_pressure_curves_drop_the_points_without_a_value(run: Path) -> None:
    steps = children(children(report_of(run).root)["Sound Pressure"])
    resp = steps["resp"]
    assert resp.status == "P"  # header:53 Results_Pass
    series = {s.name: s.points() for s in (resp.chart.series if resp.chart else None) or []}
    assert [len(x) for x, _ in series.values()] == [161, 161, 161]  # resp:2 to resp:162
    assert series["values"][1][0] == 91.346  # resp:2 200.00 91.346 97.060 83.701
    assert (series["min"][0][-1], series["min"][1][-1]) == (20000, 55.745)  # resp:162
    meas = measurements(resp)
    assert meas["max"][:2] == (104.46, "LOG")  # resp:74 1600.0 104.46
    assert meas["min"][0] == 66.947  # resp:161 19500 66.947
    assert meas["OutOfBounds"][0] == 0
    assert meas["avg"][4] == "dB"
    rbz = steps["rbz"]
    series = {s.name: s.points() for s in (rbz.chart.series if rbz.chart else None) or []}
    # rbz:1 frq rbz max (no min); 35 of 161 rows are "-" in both columns (rbz:2 200.00 - -).
    assert {k: len(x) for k, (x, _) in series.items()} == {"values": 126, "max": 126}
    assert series["values"][0][0] == 206.0  # rbz:3, the first row with a value
    assert rbz.report_text == "35 of 161 frequencies without a value ('-')"
    assert measurements(rbz)["max"][0] == 58.393  # rbz:7 230.00 58.393
    assert measurements(rbz)["min"][0] == 34.37  # rbz:128 7500.0 34.370
    thd = steps["thd"]
    assert [len(s.points()[0]) for s in (thd.chart.series if thd.chart else None) or []] == [
        131,
        131,
    ]  # 30 "-" rows (thd:2 200.00 - -)
    assert measurements(thd)["max"][0] == 51.419  # thd:9 243.00 51.419 64.337
    assert measurements(thd)["OutOfBounds"][0] == 0


def test_single_values_are_numeric_steps_with_their_limits(run: Path) -> None:
    top = children(report_of(run).root)
    level = children(top["Sound Pressure"])["level"]
    assert level.kind is StepKind.NUMERIC_LIMIT
    # Sound Pressure-values:2  level 95.203 max 97.337 min 91.337: GELE, low = min.
    assert measurements(level)[""] == (95.203, "GELE", 91.337, 97.337, "dB", "P")
    impedance = children(top["Impedance"])
    re_ = impedance["re"]  # Impedance-values:2  re - 3.5156 2.8764: not measured
    assert re_.numeric_meas is None
    assert re_.status == "F"  # header:56 Results_Fail lists re
    assert re_.report_text == (
        "Klippel's verdict: Fail; no value: not measured ('-'); limits 2.8764 to 3.5156"
    )
    qts = impedance["qts"]  # Impedance-values:3  qts - (no limits, judged nowhere)
    assert (qts.status, qts.report_text) == ("S", "no value: not measured ('-')")
    results = children(top["Results without data"])
    assert (results["pol"].status, results["fs"].status) == ("P", "F")  # header:53, header:56
    assert results["fs"].report_text == (
        "Klippel's verdict: Fail; no file of the run holds this result"
    )


def test_the_failing_step_is_the_first_failing_curve(run: Path) -> None:
    report = report_of(run)
    assert report.uut is not None
    first = next(
        s for s in report.steps() if s.status == "F" and s.kind is not StepKind.SEQUENCE_CALL
    )
    assert first.name == "imp"
    assert report.uut.step_id_caused_uut_failure == first.id


# --- the server takes it --------------------------------------------------------------------


def test_the_report_is_accepted_by_the_emulator_in_strict_mode(run: Path) -> None:
    fake = FakeWATS(token="test-token", strict=True)
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        processes = api.app.get_processes()
        ctx = make_ctx(KlippelConverter, ARGS, processes=processes)
        result = run_conversion(KlippelConverter(), run, ctx, strict=True)
        assert isinstance(result, Converted), result
        (report,) = result.reports
        assert report.validate(server_rules=True) == []
        api.report.submit_report(report)
    stored = fake.get_report(str(report.id))
    assert isinstance(stored, UUTReport)
    assert (stored.sn, stored.result, stored.start) == ("xyz115", "F", report.start)
    assert len([s for s in stored.steps() if s.chart is not None]) == 4
    fake.close()


# --- what the files do not carry: arguments -------------------------------------------------


def test_without_part_number_and_revision_the_placeholders_are_used_and_said(
    run: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        report = report_of(run, {})
    assert (report.pn, report.rev) == ("PartNumber1", "1.0")  # WATS's converter's defaults
    assert "no arguments.part_number/revision configured" in caplog.text


def test_process_operator_and_units_come_from_the_arguments(run: Path) -> None:
    report = report_of(run, {**ARGS, "process": "PCBA test", "units": {"thd": "%", "qts": "-"}})
    assert report.process_code == 50
    thd = children(children(report.root)["Sound Pressure"])["thd"]
    assert thd.chart is not None
    assert thd.chart.y_unit == "%"
    assert measurements(thd)["avg"][4] == "%"
    header = run.parent / f"{SPACED}.txt"
    header.write_text(header.read_text().replace("win:m.liebig", ""), encoding="utf-8")
    report = report_of(run, {**ARGS, "operator": "line-3"})
    assert report.uut is not None
    assert report.uut.user == "line-3"


def test_the_duration_runs_to_the_newest_file(run: Path) -> None:
    start = datetime(2020, 5, 14, 10, 1, 37, 563000, tzinfo=PLUS_2).timestamp()
    for path in [run.parent / f"{SPACED}.txt", *run.iterdir()]:
        os.utime(path, (start + 4.0, start + 4.0))
    os.utime(run / "Sound Pressure-values.txt", (start + 12.5, start + 12.5))
    report = report_of(run)
    assert report.uut is not None
    assert report.uut.exec_time == 12.5


def test_no_duration_from_a_copy_that_did_not_keep_the_times(run: Path) -> None:
    report = report_of(run)  # copied now, six years after the test
    assert report.uut is not None
    assert report.uut.exec_time is None


# --- validate --------------------------------------------------------------------------------


def test_validate_is_sure_of_the_run_and_previews_it(run: Path) -> None:
    ctx = make_ctx(KlippelConverter, ARGS)
    v = KlippelConverter().validate(run, ctx)
    assert v.confidence == 1.0
    assert (v.preview.serial_number, v.preview.result) == ("xyz115", "Failed")
    assert v.message == "a Klippel QC header and its 6 data files"
    # Given the header itself (as on the command line), the pair is the same.
    assert KlippelConverter().validate(run.parent / f"{SPACED}.txt", ctx).confidence == 1.0


def test_validate_of_a_part_alone(tmp_path: Path) -> None:
    ctx = make_ctx(KlippelConverter, ARGS)
    folder = copy_run(tmp_path / "a", header=False)
    v = KlippelConverter().validate(folder, ctx)
    assert (v.confidence, v.message) == (
        0.6,
        f"a Klippel QC run folder (6 data files) without its header {SPACED}.txt (yet)",
    )
    folder = copy_run(tmp_path / "b")
    shutil.rmtree(folder)
    v = KlippelConverter().validate(folder, ctx)
    assert (v.confidence, v.preview.serial_number) == (0.9, "xyz115")
    assert v.message == "a Klippel QC header; its folder is not there (yet)"


def _real_inputs() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.rglob("*") if p.name.lower() != "readme.md")


@pytest.mark.parametrize(
    "path", _real_inputs() or [REAL], ids=lambda p: p.relative_to(REAL).as_posix() or "none"
)
def test_validate_of_every_other_real_fixture_is_low(path: Path) -> None:
    """Every file and folder under the real fixtures but the Klippel run: 0.2 at most."""
    real_dir()  # skips when the fixtures are absent
    ours = {REAL / "klippel" / FIXTURE, REAL / "klippel" / f"{FIXTURE}.txt"}
    v = KlippelConverter().validate(path, make_ctx(KlippelConverter, {}))
    if path in ours:
        assert v.confidence == 1.0, v.message
        return
    assert v.confidence <= 0.2, f"{path.name}: {v.confidence} ({v.message})"
    assert v.message  # it says why


def test_validate_says_why_a_header_is_not_one(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Cfg_Speaker=sp1\n", encoding="utf-8")
    v = KlippelConverter().validate(notes, make_ctx(KlippelConverter, {}))
    assert (v.confidence, v.message) == (
        0.0,
        "notes.txt is not a Klippel QC header: no Cfg_DutStartTime= and Ctrl_OverallVerdict= lines",
    )
    notes.write_text("Cfg_DutStartTime=2020-5-20-135-5-14-10-1-37-563-120-1\n", encoding="utf-8")
    v = KlippelConverter().validate(notes, make_ctx(KlippelConverter, {}))
    assert (v.confidence, v.message) == (0.3, "notes.txt: a header without Ctrl_OverallVerdict=")


def test_it_is_a_builtin_folder_converter_with_the_header_as_companion() -> None:
    assert BUILTINS["klippel"] is KlippelConverter
    assert KlippelConverter.companions == (".txt",)
    assert KlippelConverter.type == "folder"


# --- start time and verdict variants ---------------------------------------------------------


def _header(run: Path) -> Path:
    return run.parent / f"{run.name}.txt"


def _edit(run: Path, old: str, new: str) -> None:
    header = _header(run)
    text = header.read_text(encoding="utf-8")
    assert old in text
    header.write_text(text.replace(old, new), encoding="utf-8")


def test_a_negative_offset_west_of_greenwich(run: Path) -> None:
    _edit(run, "-563-120-1.589E+09", "-563--300-1.589E+09")
    start = report_of(run).start
    assert start == datetime(2020, 5, 14, 10, 1, 37, 563000, tzinfo=timezone(-timedelta(hours=5)))


def test_a_start_without_offset_takes_the_names(run: Path) -> None:
    _edit(run, "-563-120-1.589E+09", "-563")  # the getdate() vector alone
    assert report_of(run).start == datetime(2020, 5, 14, 10, 1, 37, 563000, tzinfo=PLUS_2)


def test_no_start_in_the_header_takes_the_names_time(run: Path) -> None:
    _edit(run, "Cfg_DutStartTime=2020-5-20-135-5-14-10-1-37-563-120-1.589E+09\n", "")
    # "… 2020-05-14 10-01-37-5 UTC+0200": the 5 is tenths of a second.
    assert report_of(run).start == datetime(2020, 5, 14, 10, 1, 37, 500000, tzinfo=PLUS_2)


def test_no_start_anywhere_fails(tmp_path: Path) -> None:
    folder = copy_run(tmp_path)
    renamed = folder.rename(tmp_path / "run-7")
    _header(folder).rename(tmp_path / "run-7.txt")
    _edit(renamed, "Cfg_DutStartTime=2020-5-20-135-5-14-10-1-37-563-120-1.589E+09\n", "")
    result = convert(renamed)
    assert isinstance(result, Failed)
    assert result.reason == (
        "run-7.txt: no Cfg_DutStartTime, and the name carries no time (… 2020-05-14 "
        "10-01-37-5 UTC+0200)"
    )


@pytest.mark.parametrize(
    ("code", "result", "word"),
    [
        ("1", "P", "Pass"),
        ("2", "P", "Warning"),
        ("3", "E", "Noise"),
        ("4", "E", "Invalid"),
        ("-1", "T", "Void"),
    ],
)
def test_verdicts(run: Path, code: str, result: str, word: str) -> None:
    _edit(run, "Ctrl_OverallVerdict=0", f"Ctrl_OverallVerdict={code}")
    # Judged passing throughout, so that the steps do not raise the result.
    _edit(run, "Results_Pass=resp\tlevel\tpol\tthd\trbz", "Results_Pass=imp\tre\tfs")
    _edit(run, "Results_Fail=imp\tre\tfs", "Results_Fail=")
    report = report_of(run)
    assert report.result == result
    assert {m.description: m.text for m in report.misc_infos or []}["Verdict"] == word


def test_an_unknown_verdict_fails_naming_the_line(run: Path) -> None:
    _edit(run, "Ctrl_OverallVerdict=0", "Ctrl_OverallVerdict=7")
    result = convert(run)
    assert isinstance(result, Failed)
    assert result.reason.startswith(
        f"{SPACED}.txt line 38: Ctrl_OverallVerdict '7' is not a Klippel verdict (-1 void, "
    )


# --- completeness ----------------------------------------------------------------------------


def test_a_header_alone_waits_then_fails(tmp_path: Path) -> None:
    folder = copy_run(tmp_path)
    shutil.rmtree(folder)
    waiting = convert(folder)
    assert isinstance(waiting, Suspended)
    assert waiting.reason == f"waiting for the folder {SPACED}"
    assert 0.5 <= waiting.retry_after <= 30
    failed = convert(folder, {**ARGS, "incomplete_timeout": 0})
    assert isinstance(failed, Failed)
    assert failed.reason.startswith(f"incomplete: the folder {SPACED} still missing ")
    assert failed.reason.endswith("(arguments.incomplete_timeout = 0 s)")


def test_a_folder_alone_waits_for_its_header(tmp_path: Path) -> None:
    folder = copy_run(tmp_path, header=False)
    waiting = convert(folder)
    assert isinstance(waiting, Suspended)
    assert waiting.reason == f"waiting for the header {SPACED}.txt"


def test_expected_files_wait_for_a_missing_curve(run: Path) -> None:
    (run / "Sound Pressure-thd.txt").unlink()
    args = {**ARGS, "expected_files": ["*-thd.txt", "*-resp.txt"]}
    waiting = convert(run, args)
    assert isinstance(waiting, Suspended)
    assert waiting.reason == f"waiting for a file *-thd.txt in the folder {SPACED}"
    assert isinstance(convert(run), Converted)  # without expected_files: what is there


def test_an_empty_folder_waits_for_its_files(tmp_path: Path) -> None:
    folder = copy_run(tmp_path)
    for path in folder.iterdir():
        path.unlink()
    waiting = convert(folder)
    assert isinstance(waiting, Suspended)
    assert waiting.reason == f"waiting for a .txt file in the folder {SPACED}"


# --- the page docs/converters/klippel.md -----------------------------------------------------

DOC = Path(__file__).resolve().parents[3] / "docs" / "converters" / "klippel.md"


def test_the_pages_config_example_loads_as_the_station_loads_it(tmp_path: Path) -> None:
    """The one configuration on the page, through the station's loader and the arguments."""
    (block,) = [b for b in blocks(DOC) if b.kind == "config"]
    assert [b.kind for b in blocks(DOC)] == ["illustrative", "config"]  # every block marked
    path = tmp_path / "config.toml"
    path.write_text(block.text, encoding="utf-8")
    (entry,) = read_config(path, env={}).config.converters
    assert (entry.kind, entry.type, entry.post_action) == ("klippel", "folder", "zip")
    args = parse_arguments(KlippelConverter, entry.arguments)
    assert isinstance(args, KlippelArguments)
    assert (args.part_number, args.units, args.encoding) == ("SPK-8-WOOFER", {"thd": "%"}, "cp1252")


def test_the_pages_messages_are_the_converters(run: Path) -> None:
    """Each message the page quotes about the real run is the one the tests produce."""
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    quoted = [
        "Impedance-imp.txt: line 130: 1 cells, but the header has 4 (the file is cut short?)",
        "Impedance-imp.txt: line 2, column 2 (imp): '1.7&63' is not a number",
        "Impedance-imp.txt: the file is empty (is the tester still writing it?)",
        "line 41: Cfg_SerialNumber again, with another value than on line 26 ('xyz116', not "
        "'xyz115')",
        "line 38: Ctrl_OverallVerdict '7' is not a Klippel verdict (-1 void, 0 fail, 1 pass, 2 "
        "warning, 3 noise, 4 invalid)",
        "line 32, column 21: the file is not utf-8 (byte 0xfc); set arguments.encoding",
        "Sound Pressure-values.txt line 2: step 'level': low limit 97.337 is above high limit "
        "91.337",
        "35 of 161 frequencies without a value ('-')",
        "curve imp: 129 frequencies, columns frq, imp, max, min",
    ]
    for message in quoted:
        assert message in text, message
    _edit(run, "Ctrl_OverallVerdict=0", "Ctrl_OverallVerdict=7")
    result = convert(run)
    assert isinstance(result, Failed)
    assert result.reason == f"{SPACED}.txt {quoted[4]}"

"""The WSTF converter on the samples in ``data/`` and on broken variants of them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pywats.models.report import StepKind, UUTReport
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.sandbox import run_conversion
from tests.station.converters.helpers import DATA, make_ctx

SINGLE = DATA / "wstf_single.txt"
MULTI = DATA / "wstf_multi.txt"


def convert(path: Path, arguments: dict[str, object] | None = None) -> list[UUTReport]:
    result = run_conversion(WstfConverter(), path, make_ctx(WstfConverter, arguments))
    assert isinstance(result, Converted), result
    reports = [r for r in result.reports if isinstance(r, UUTReport)]
    assert len(reports) == len(result.reports)
    return reports


def fail(tmp_path: Path, text: str, arguments: dict[str, object] | None = None) -> str:
    path = tmp_path / "broken.txt"
    path.write_text(text)
    result = run_conversion(WstfConverter(), path, make_ctx(WstfConverter, arguments))
    assert isinstance(result, Failed), result
    return result.reason


def test_single_uut_header() -> None:
    (report,) = convert(SINGLE)
    assert (report.sn, report.pn, report.rev) == ("PSU-240301-0042", "PSU-48V-200", "C")
    assert report.process_code == 50
    assert report.machine_name == "FCT-3"  # from the file, not the station
    assert (report.location, report.purpose) == ("Plant A", "Production")
    assert report.start == datetime(2024, 3, 1, 10, 15, 2, tzinfo=timezone(timedelta(hours=1)))
    assert report.result == "P"
    assert report.uut is not None
    assert (report.uut.user, report.uut.batch_sn, report.uut.fixture_id) == (
        "anna.berg",
        "B-2024-0301",
        "FX-12",
    )
    assert (report.uut.exec_time, report.uut.test_socket_index) == (12.5, 1)
    assert report.uut.comment == "first article"
    assert [(u.part_type, u.pn, u.sn, u.rev) for u in report.sub_units or []] == [
        ("PCBA", "PCB-48V-MAIN", "PCB-0042", "B"),
        ("Fan", "FAN-60", "F-99817", "A"),
    ]
    assert [(m.description, m.text) for m in report.misc_infos or []] == [
        ("Firmware", "1.4.2"),
        ("Ambient temperature", "23.5"),
    ]
    assert report.root is not None
    assert report.root.seq_call is not None
    assert (report.root.seq_call.name, report.root.seq_call.version) == ("psu_fct.seq", "2.7.1")


def test_single_uut_step_tree() -> None:
    (report,) = convert(SINGLE)
    steps = {s.name: s for s in report.steps()}
    assert [s.name for s in (report.root.steps if report.root else None) or []] == [
        "Power-up",
        "Functional",
    ]
    rails = steps["Rails"]
    assert rails.kind is StepKind.MULTI_NUMERIC_LIMIT
    assert [(m.name, m.value, m.status) for m in rails.numeric_meas or []] == [
        ("48V", 48.12, "P"),
        ("12V", 12.03, "P"),
        ("5V", 5.01, "P"),  # no status in the file: computed from the limits
    ]
    current = steps["Input current"]
    assert current.tot_time == 0.12
    (meas,) = current.numeric_meas or []
    assert (meas.comp_op, meas.low_limit, meas.high_limit, meas.unit) == ("GELE", 0.5, 1.2, "A")
    (ripple,) = steps["Ripple 48V"].numeric_meas or []
    assert (ripple.comp_op, ripple.low_limit, ripple.status) == ("LE", 0.05, "P")
    assert steps["Enable mains"].status == "D"
    assert steps["Fan spins"].kind is StepKind.PASS_FAIL
    assert steps["LEDs"].kind is StepKind.MULTI_PASS_FAIL
    firmware = steps["Firmware version"]
    assert firmware.report_text == "checked over UART"
    (fw,) = firmware.string_meas or []
    assert (fw.value, fw.limit, fw.comp_op, fw.status) == ("1.4.2", "1.4.2", "CASESENSIT", "P")
    (model,) = steps["Model"].string_meas or []
    assert (model.comp_op, model.status) == ("IGNORECASE", "P")
    (temp,) = steps["Temperature"].numeric_meas or []
    assert (temp.comp_op, temp.low_limit, temp.unit) == ("LOG", None, "degC")
    nested = steps["Output rails"]
    assert [s.name for s in nested.steps or []] == ["Rails", "Ripple 48V"]


def test_several_uuts_in_one_file() -> None:
    first, second = convert(MULTI)
    assert (first.sn, first.result, second.sn, second.result) == ("SN-1001", "P", "SN-1002", "F")
    assert first.process_code == second.process_code == 50  # OperationTypeName "PCBA test"
    assert first.machine_name == "FCT-1"  # no StationName: the station's
    assert first.start == datetime(2024, 3, 2, 8, 0).astimezone()
    failing = {s.name: s.status for s in second.steps()}
    assert failing == {"MainSequence Callback": "F", "3V3": "F", "5V0": "P", "Boot": "F"}
    assert second.uut is not None
    assert second.uut.step_id_caused_uut_failure == 2


def test_status_in_the_file_wins_over_the_limits(tmp_path: Path) -> None:
    text = SINGLE.read_text().replace(
        "0.82\t0.5\t1.2\tGELE\tA\tPassed", "0.82\t0.5\t1.2\tGELE\tA\tFailed"
    )
    path = tmp_path / "f.txt"
    path.write_text(text)
    (report,) = convert(path)
    assert {s.name: s.status for s in report.steps()}["Input current"] == "F"
    assert report.result == "F"


def test_validate() -> None:
    v = WstfConverter().validate(SINGLE, make_ctx(WstfConverter))
    assert v.confidence == 1.0
    assert (v.preview.serial_number, v.preview.part_number) == ("PSU-240301-0042", "PSU-48V-200")
    csv = WstfConverter().validate(DATA / "csv_steps.csv", make_ctx(WstfConverter))
    assert csv.confidence == 0.0


def test_decimal_comma_and_process_argument(tmp_path: Path) -> None:
    text = MULTI.read_text().replace("3.31", "3,31").replace("OperationTypeName\tPCBA test\n", "")
    path = tmp_path / "comma.txt"
    path.write_text(text)
    first, _ = convert(path, {"decimal": ",", "process": "sw debug"})
    assert first.process_code == 10
    assert {s.name: s for s in first.steps()}["3V3"].numeric_meas[0].value == 3.31  # type: ignore[index]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "NumericLimitTest\tInput current",
            "GraphTest\tInput current",
            "GraphTest",
            "unknown step type 'GraphTest'",
        ),
        ("0.82\t0.5", "0.8x\t0.5", "0.8x", "Value: '0.8x' is not a number"),
        ("\t0.5\t1.2\tGELE", "\t0.5\t1.2\tBETWEEN", "BETWEEN", "'BETWEEN' is not a comparison"),
        (
            "\t0.031\t0.05\t\tLE",
            "\t0.031\t0.05\t0.1\tLE",
            "Ripple 48V",
            "LE compares against low= only",
        ),
        (
            "PassFailTest\tFan spins\t\t1",
            "PassFailTest\tFan spins\t\tmaybe",
            "Fan spins",
            "'maybe' is not a pass/fail value",
        ),
        ("Chart", "Chart", "", ""),  # placeholder replaced below
        (
            "ActionStep\tEnable mains\t\t\t\t\t\t\tDone",
            "ActionStep\tEnable mains\t\t\t\t\t\t\tWorse",
            "Enable mains",
            "'Worse' is not a status",
        ),
        ("StepType\tStepName", "StepType\tStepTitle", "StepTitle", "unknown column 'StepTitle'"),
    ],
)
def test_broken_rows_name_their_line(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    source = SINGLE.read_text()
    if old == "Chart":
        new_text = source.replace("ActionStep\tEnable mains", "Chart\tEnable mains")
        needle, message = "Chart\tEnable", "step type 'Chart' is not supported"
    else:
        assert old in source
        new_text = source.replace(old, new, 1)
    reason = fail(tmp_path, new_text)
    assert f"line {line_of(new_text, needle)}" in reason
    assert message in reason


def test_unbalanced_sequences(tmp_path: Path) -> None:
    source = SINGLE.read_text()
    lines = source.splitlines(keepends=True)
    last_end = max(i for i, line in enumerate(lines) if line.startswith("EndSequenceCall"))
    unclosed = "".join(lines[:last_end] + lines[last_end + 1 :])
    reason = fail(tmp_path, unclosed)
    opened = line_of(source, "SequenceCall\tFunctional")
    assert reason == f"line {opened}: SequenceCall 'Functional' is not closed by EndSequenceCall"
    extra = source.replace("--Step-Data-End--", "EndSequenceCall\n--Step-Data-End--")
    assert fail(tmp_path, extra) == (
        f"line {line_of(extra, '--Step-Data-End--') - 1}: EndSequenceCall without SequenceCall"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("SerialNumber\tPSU-240301-0042\n", ""),
            "line 1: the UUT has no SerialNumber",
        ),
        (lambda t: t.replace("Revision\tC\n", ""), "line 1: the UUT has no Revision"),
        (
            lambda t: t.replace("OperationTypeCode\t50", "OperationTypeCode\t77"),
            "line 5: unknown process '77'",
        ),
        (
            lambda t: t.replace("OperationTypeCode\t50\n", ""),
            "no OperationTypeCode or OperationTypeName",
        ),
        (
            lambda t: t.replace("FixtureId\tFX-12", "FixtureId FX-12"),
            "line 12: expected Key<TAB>Value",
        ),
        (
            lambda t: t.replace("2024-03-01T10:15:02+01:00", "1 March"),
            "line 10: '1 March' is not a time",
        ),
        (
            lambda t: t.replace("TestSocketIndex\t1", "TestSocketIndex\t1.5"),
            "TestSocketIndex: 1.5 is not a whole",
        ),
        (
            lambda t: t.split("--Step-Data-End--")[0],
            "the file ends at line 40, column 1, inside the step data of the UUT that starts "
            "at line 1 (no --Step-Data-End--",
        ),
        (
            lambda t: t.replace("--UUT-End--", "--UUT-End--\n--Step-Data-End--"),
            "--Step-Data-End-- is out of place",
        ),
        (
            lambda t: t.replace("Subunit\tFan\tFAN-60\tF-99817\tA", "Subunit\tFan\tFAN-60"),
            "line 16: Subunit needs",
        ),
        (lambda t: "just some notes\n", "line 1: expected Key<TAB>Value"),
        (lambda t: "", "the file holds no UUT"),
    ],
)
def test_broken_headers(tmp_path: Path, edit: object, message: str) -> None:
    assert callable(edit)
    reason = fail(tmp_path, edit(SINGLE.read_text()))
    assert message in reason


def test_revision_argument_fills_a_missing_revision(tmp_path: Path) -> None:
    path = tmp_path / "norev.txt"
    path.write_text(SINGLE.read_text().replace("Revision\tC\n", ""))
    (report,) = convert(path, {"revision": "X"})
    assert report.rev == "X"


def test_missing_start_time_uses_the_file_time(tmp_path: Path) -> None:
    path = tmp_path / "notime.txt"
    path.write_text(MULTI.read_text().replace("StartDateTime\t2024-03-02 08:00:00\n", ""))
    first, _ = convert(path)
    assert first.start is not None
    assert abs(first.start.timestamp() - path.stat().st_mtime) < 1


def test_consecutive_multi_steps_are_told_apart_by_name(tmp_path: Path) -> None:
    rails = "MultipleNumericLimitTest\tRails\t5V\t5.01\t4.9\t5.1\t\tV\t\n"
    text = SINGLE.read_text().replace(
        rails, rails + "MultipleNumericLimitTest\tCurrents\tI1\t0.1\t0\t0.2\t\tA\t\n"
    )
    path = tmp_path / "two.txt"
    path.write_text(text)
    (report,) = convert(path)
    steps = {s.name: s for s in report.steps()}
    assert [m.name for m in steps["Rails"].numeric_meas or []] == ["48V", "12V", "5V"]
    assert [m.name for m in steps["Currents"].numeric_meas or []] == ["I1"]


def test_footer_fields_count_although_the_steps_are_read_as_they_come(tmp_path: Path) -> None:
    # The footer takes the header's keys and wins over them, but comes after the steps: the
    # converter reads each unit's fields ahead, so a serial number given only there still works.
    text = SINGLE.read_text().replace("SerialNumber\tPSU-240301-0042\n", "")
    text = text.replace("UUTStatus\tPassed\n", "UUTStatus\tFailed\nSerialNumber\tFOOTER-1\n")
    path = tmp_path / "footer.txt"
    path.write_text(text + text.replace("FOOTER-1", "FOOTER-2"))
    first, second = convert(path)
    assert (first.sn, first.result, second.sn) == ("FOOTER-1", "F", "FOOTER-2")
    assert len(first.steps()) == len(convert(SINGLE)[0].steps())

"""The generic CSV converter: both layouts on the samples, broken rows, and its arguments."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pywats.models.report import StepKind, UUTReport
from pywats_station.converters import Converted, ConverterConfigError, Failed, parse_arguments
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.sandbox import run_conversion
from tests.station.converters.helpers import DATA, make_ctx

STEPS = DATA / "csv_steps.csv"
UNITS = DATA / "csv_units.tsv"
STEPS_ARGS: dict[str, Any] = {
    "skip_rows": 1,
    "part_number": "PCBA-100",
    "revision": "A",
    "process_code": "PCBA test",
}
UNITS_ARGS: dict[str, Any] = {
    "layout": "units",
    "part_number": "PSU-12",
    "process_code": 50,
    "measurements": [
        {
            "column": "V_3V3",
            "name": "3V3 rail",
            "low": 3.2,
            "high": 3.4,
            "comp": "GELE",
            "unit": "V",
        },
        {"column": "V_5V0", "low": 4.9, "high": 5.1, "unit": "V"},
        {"column": "I_idle", "high": 0.2, "unit": "A", "sequence": "Current"},
        {"column": "FW", "type": "string", "limit": "1.4.2"},
        {"column": "LED", "type": "pass_fail", "sequence": "Visual"},
    ],
}


def convert(path: Path, arguments: dict[str, Any]) -> list[UUTReport]:
    result = run_conversion(CsvConverter(), path, make_ctx(CsvConverter, arguments))
    assert isinstance(result, Converted), result
    return [r for r in result.reports if isinstance(r, UUTReport)]


def fail(tmp_path: Path, text: str, arguments: dict[str, Any], name: str = "bad.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    result = run_conversion(CsvConverter(), path, make_ctx(CsvConverter, arguments))
    assert isinstance(result, Failed), result
    return result.reason


def test_steps_layout() -> None:
    (report,) = convert(STEPS, STEPS_ARGS)
    assert (report.sn, report.pn, report.rev, report.process_code) == (
        "SN-4711",
        "PCBA-100",
        "A",
        50,
    )
    assert report.result == "P"
    assert report.root is not None
    top = [s.name for s in report.root.steps or []]
    assert top == ["Power", "Digital", "Temperature"]
    steps = {s.name: s for s in report.steps()}
    assert [s.name for s in steps["Power"].steps or []] == ["3V3", "5V0", "Ripple"]
    (v33,) = steps["3V3"].numeric_meas or []
    assert (v33.value, v33.comp_op, v33.low_limit, v33.high_limit, v33.unit) == (
        3.31,
        "GELE",
        3.2,
        3.4,
        "V",
    )
    (ripple,) = steps["Ripple"].numeric_meas or []
    assert (ripple.comp_op, ripple.low_limit, ripple.high_limit) == ("LE", 0.05, None)
    assert steps["Boot"].kind is StepKind.PASS_FAIL
    (fw,) = steps["FW"].string_meas or []
    assert (fw.value, fw.limit, fw.comp_op) == ("1.4.2", "1.4.2", "CASESENSIT")
    assert steps["JTAG chain"].kind is StepKind.PASS_FAIL  # empty value, status Passed
    (temp,) = steps["Temperature"].numeric_meas or []
    assert temp.comp_op == "LOG"


def test_units_layout() -> None:
    reports = convert(UNITS, UNITS_ARGS)
    assert [(r.sn, r.rev, r.result) for r in reports] == [
        ("U-001", "B", "P"),
        ("U-002", "B", "F"),
        ("U-003", "B", "F"),
    ]
    first = reports[0]
    assert first.start == datetime(2024, 3, 4, 9, 0).astimezone()
    assert first.uut is not None
    assert first.uut.user == "op1"
    steps = {s.name: s for s in first.steps()}
    assert set(steps) == {
        "MainSequence Callback",
        "3V3 rail",
        "V_5V0",
        "Current",
        "I_idle",
        "FW",
        "Visual",
        "LED",
    }
    (idle,) = steps["I_idle"].numeric_meas or []
    assert (idle.comp_op, idle.low_limit) == ("LE", 0.2)
    second = {s.name: s.status for s in reports[1].steps()}
    assert second["3V3 rail"] == "F"
    third = {s.name: s for s in reports[2].steps()}
    assert "V_5V0" not in third  # empty cell: not measured
    assert third["FW"].status == "F"
    assert third["LED"].status == "F"


def test_units_result_column_fails_a_unit_whose_steps_passed(tmp_path: Path) -> None:
    path = tmp_path / "u.tsv"
    path.write_text(UNITS.read_text().replace("3.45\t5.00", "3.35\t5.00"))
    reports = convert(path, UNITS_ARGS)
    assert {s.name: s.status for s in reports[1].steps()}["3V3 rail"] == "P"
    assert reports[1].result == "F"  # the Result column says FAIL


def test_units_without_measurements_log_every_other_column() -> None:
    (first, *_) = convert(UNITS, {"layout": "units", "part_number": "PSU-12", "process_code": 50})
    steps = {s.name: s for s in first.steps()}
    assert set(steps) == {"MainSequence Callback", "V_3V3", "V_5V0", "I_idle", "FW", "LED"}
    assert steps["FW"].kind is StepKind.STRING_VALUE
    assert (steps["V_3V3"].numeric_meas or [])[0].comp_op == "LOG"


def test_header_from_file_name_and_no_header_row(tmp_path: Path) -> None:
    path = tmp_path / "board_SN777_revC.csv"
    path.write_text("3V3,3.3,3.2,3.4\n5V,5.0,4.9,5.1\n")
    args = {
        "header_row": False,
        "filename_regex": r"_(?P<serial_number>SN\d+)_rev(?P<revision>\w)\.",
        "part_number": "PCBA-9",
        "process_code": 10,
        "step_column": "1",
        "value_column": "2",
        "low_column": "3",
        "high_column": "4",
    }
    (report,) = convert(path, args)
    assert (report.sn, report.rev) == ("SN777", "C")
    assert [s.name for s in report.steps()] == ["MainSequence Callback", "3V3", "5V"]


def test_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("SN;Step;Value;Low;High\nX1;Volt;3,31;3,2;3,4\n")
    (report,) = convert(
        path, {"decimal": ",", "part_number": "P", "revision": "A", "process_code": 10}
    )
    (meas,) = report.steps()[1].numeric_meas or []
    assert (meas.value, meas.low_limit, meas.high_limit) == (3.31, 3.2, 3.4)


def test_validate() -> None:
    ctx = make_ctx(CsvConverter, STEPS_ARGS)
    v = CsvConverter().validate(STEPS, ctx)
    assert v.confidence == 0.9
    assert (v.preview.serial_number, v.preview.part_number) == ("SN-4711", "PCBA-100")
    other = CsvConverter().validate(DATA / "wstf_multi.txt", make_ctx(CsvConverter))
    assert other.confidence == 0.2
    assert other.message == "no column Step, Value"


STEPS_HEADER = "SerialNumber;Sequence;Step;Value;Low;High;Unit;CompOp;Status\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SN-4711;Power;3V3;3.x1;3.2;3.4;V;;", "line 3, column 'Value': '3.x1' is not a number"),
        ("SN-4711;Power;3V3;3.31;low;3.4;V;;", "line 3, column 'Low': 'low' is not a number"),
        (
            "SN-4711;Power;3V3;3.31;3.2;3.4;V;WITHIN;",
            "line 3: 'WITHIN' is not a comparison operator",
        ),
        (
            "SN-4711;Power;3V3;3.31;3.2;3.4;V;;maybe",
            "line 3, column 'Status': 'maybe' is not a status",
        ),
        ("SN-4711;Power;;3.31;3.2;3.4;V;;", "line 3, column 'Step': empty step name"),
        ("SN-4711;Power;3V3;;3.2;3.4;V;;", "line 3, column 'Value': empty value"),
        (
            "SN-4711;Power;3V3;3.31;3.4;3.2;V;;",
            "line 3: step '3V3': low limit 3.4 is above high limit",
        ),
        ("SN-9999;Power;3V3;3.31;3.2;3.4;V;;", "line 3, column 'SerialNumber': 'SN-9999' differs"),
        (
            'SN-4711;Power;"3V3;3.31;3.2;3.4;V;;',
            "the file ends at line 4, column 1, inside a quoted cell that starts at line 3, "
            "column 15 (its closing quote is missing)",
        ),
    ],
)
def test_bad_rows_name_line_and_column(tmp_path: Path, row: str, message: str) -> None:
    text = STEPS_HEADER + "SN-4711;Power;5V;5.0;4.9;5.1;V;;\n" + row + "\n"
    args = {**STEPS_ARGS, "skip_rows": 0}
    assert message in fail(tmp_path, text, args)


def test_bad_unit_rows_name_line_and_column(tmp_path: Path) -> None:
    text = UNITS.read_text().replace("0.12", "n/a")
    assert (
        fail(tmp_path, text, UNITS_ARGS, "u.tsv")
        == "line 2, column 'I_idle': 'n/a' is not a number"
    )
    text = UNITS.read_text().replace("\t1\tPASS", "\tyes?\tPASS")
    assert "line 2, column 'LED': 'yes?' is not a pass/fail value" in fail(
        tmp_path, text, UNITS_ARGS, "u.tsv"
    )
    text = UNITS.read_text().replace("2024-03-04 09:01:10", "yesterday")
    assert "line 3, column 'Start': 'yesterday' is not a time" in fail(
        tmp_path, text, UNITS_ARGS, "u.tsv"
    )


def test_missing_columns_and_values_are_named(tmp_path: Path) -> None:
    args = {**UNITS_ARGS, "measurements": [{"column": "V_12V"}]}
    reason = fail(tmp_path, UNITS.read_text(), args, "u.tsv")
    assert reason.startswith("line 1: no column 'V_12V' (arguments.measurements[0].column)")
    reason = fail(tmp_path, STEPS.read_text(), {**STEPS_ARGS, "low_column": "LoLim"})
    assert (
        "no column 'LoLim' (arguments.low_column); the columns are: SerialNumber, Sequence"
        in reason
    )
    reason = fail(tmp_path, STEPS.read_text(), {**STEPS_ARGS, "revision": None})
    assert reason.startswith(
        "line 3: no revision (no Revision/Rev column or value; set arguments.revision"
    )
    reason = fail(tmp_path, STEPS.read_text(), {**STEPS_ARGS, "process_code": "ICT"})
    assert reason.startswith("line 3: unknown process 'ICT'")
    reason = fail(
        tmp_path, STEPS.read_text(), {**STEPS_ARGS, "filename_regex": r"(?P<serial_number>\d+)"}
    )
    assert reason == "the file name 'bad.csv' does not match arguments.filename_regex"
    assert fail(tmp_path, "Step;Value\n", {}) == "line 1: the file holds no data rows"


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("SN;Step;Value\nX;Temp \xb0C;21\n".encode("latin-1"))
    args = {"part_number": "P", "revision": "A", "process_code": 10}
    result = run_conversion(CsvConverter(), path, make_ctx(CsvConverter, args))
    assert result == Failed(
        reason="line 2, column 8: the file is not utf-8 (byte 0xb0); set arguments.encoding"
    )
    (report,) = convert(path, {**args, "encoding": "latin-1"})
    assert report.steps()[1].name == "Temp °C"


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        ({"layout": "rows"}, "arguments.layout", "invalid enum value 'rows'"),
        ({"delimiter": ";;"}, "arguments", "delimiter must be one character"),
        ({"skip_rows": "two"}, "arguments.skip_rows", "expected `int`"),
        (
            {"measurements": [{"column": "A", "comp": "WITHIN"}]},
            "arguments.measurements[0]",
            "not a comparison",
        ),
        ({"measurements": [{"colum": "A"}]}, "arguments.measurements[0].colum", "unknown argument"),
        (
            {"filename_regex": "(unclosed"},
            "arguments",
            "filename_regex is not a regular expression",
        ),
        ({"decimal": ":"}, "arguments.decimal", "invalid enum value"),
    ],
)
def test_argument_errors(raw: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConverterConfigError) as caught:
        parse_arguments(CsvConverter, raw)
    assert caught.value.key == key
    assert message in caught.value.problem

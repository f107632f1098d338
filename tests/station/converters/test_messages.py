"""What the built-in converters say about a broken input: the place, and only real advice.

Every decode failure names its line and column; a file that is cut short says where it ends and
what was still open there (an object, a string, a tag, a quoted cell, the step data). Each test
cuts or breaks inputs at many places and checks the place the message names against one
counted here, independently of the converters' own counting.

Hints (``set arguments.encoding``) name only arguments the converter has.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import msgspec
import pytest

from pywats_station.converters import ConversionError, Converted, Failed, FileConverter
from pywats_station.converters.builtin._common import argument
from pywats_station.converters.builtin._csv_layouts import HEADER_DEFAULTS, STEP_DEFAULTS
from pywats_station.converters.builtin.csv import CsvArguments, CsvConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter, read_wsjf
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter, read_wsxf
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import WSJF_FILES, real_file
from tests.station.converters.helpers import DATA, make_ctx

BUILTIN = Path(importlib.import_module("pywats_station.converters.builtin").__file__ or "").parent
CONVERTERS: tuple[type[FileConverter], ...] = (
    WsjfConverter,
    WsxfConverter,
    WstfConverter,
    CsvConverter,
)
ENDS = re.compile(r"the file ends at (line \d+, column \d+)")


def end_of(prefix: bytes, encoding: str = "utf-8") -> str:
    """Where a text editor puts the cursor at the end of ``prefix``, counted plainly."""
    text = prefix.decode(encoding, "ignore")  # a character cut short is not shown
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return f"line {len(lines)}, column {len(lines[-1]) + 1}"


def place_of(text: str, index: int) -> str:
    """``line L, column C`` of character ``index`` of ``text``."""
    return end_of(text[:index].encode())


def ends(message: str) -> str:
    found = ENDS.search(message)
    assert found is not None, message
    return found.group(1)


def cuts(data: bytes, count: int) -> list[int]:
    """About ``count`` places to cut ``data``, spread over it, the very first ones included."""
    step = max(1, len(data) // count)
    return [*range(0, 40), *range(40, len(data), step)]


def failure(converter: type[FileConverter], path: Path, args: dict[str, object]) -> str:
    result = run_conversion(converter(), path, make_ctx(converter, args))
    assert isinstance(result, Failed), result
    return result.reason


# --- wsjf --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WSJF_FILES)
def test_a_cut_wsjf_file_says_where_it_ends_and_what_is_open(name: str) -> None:
    """It said ``invalid WSJF: Input data was truncated``, with no place at all."""
    data = real_file("wsjf", name).read_bytes()
    for cut in cuts(data, 150):
        prefix = data[:cut]
        if prefix.rstrip() == data.rstrip():
            continue
        with pytest.raises(ConversionError) as caught:
            read_wsjf(prefix)
        message = str(caught.value)
        if cut == 0:
            assert message == "invalid WSJF: the file is empty"
            continue
        assert message.startswith("invalid WSJF: the file ends at "), (cut, message)
        assert ends(message) == end_of(prefix), (cut, message)
        assert re.search(r", (inside (a string|an object|an array) that starts at line \d+, "
                         r"column \d+|in the middle of a value)", message), message  # fmt: skip


def test_what_is_open_is_placed_where_it_starts() -> None:
    data = '{\n  "type": "T",\n  "root": {"steps": [\n    {"name": "Ab\u00e9c'.encode()
    with pytest.raises(ConversionError) as caught:
        read_wsjf(data)
    string = data.decode().index('"Ab')
    assert str(caught.value) == (
        f"invalid WSJF: the file ends at {end_of(data)}, inside a string that starts at "
        f"{place_of(data.decode(), string)}"
    )
    nested = b'{"type": "T",\r\n "root": {"steps": [{"steps": [ '
    with pytest.raises(ConversionError) as caught:
        read_wsjf(nested)
    assert str(caught.value) == (
        "invalid WSJF: the file ends at line 2, column 33, inside an array that starts at "
        "line 2, column 31 (5 arrays and objects are not closed)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "invalid WSJF: the file is empty"),
        (b" \n\t", "invalid WSJF: the file holds only blanks"),
        (b'{"type": "T",\n "sn": 12.', "the file ends at line 2, column 11, inside an object"),
        (b'{"type": "T",\n  "sn" "x"}', "expected ':' (line 2, column 8)"),
        (b'{"type": "T"}\n\nxx', "trailing characters (line 3, column 1)"),
        (b'{"type": "T"} x', "trailing characters (line 1, column 15)"),
        (b'{"type": "T",\n "sn": 5}', "got `int` - at `$.sn` (line 2, column 8)"),
        (b'[{"type": "T"},\n {"type": "Q"}]', "at `$[1].type` (line 2, column 11)"),
        (b'{"type": "T", "root":\n {"steps": [{}, {"status": 7}]}}', "(line 2, column 28)"),
        ('{"type": "T", "sn": "\u00e9\u00e9", "pn": x}'.encode(), "(line 1, column 33)"),
        ('{"type": "T", "sn": "\u00e9", "pn": x}'.encode("utf-16"), "(line 1, column 32)"),
        (b'{"type": "T",\n  "sn": "\xb0C"}', "invalid WSJF: line 2, column 10: the file is not"),
    ],
)
def test_every_wsjf_failure_names_the_place(data: bytes, message: str) -> None:
    with pytest.raises(ConversionError) as caught:
        read_wsjf(data)
    assert message in str(caught.value)


def test_a_wsjf_encoding_error_gives_no_advice_about_arguments_it_does_not_have() -> None:
    """It said ``set arguments.encoding``: wsjf has no such argument (JSON is UTF-8)."""
    with pytest.raises(ConversionError) as caught:
        read_wsjf('{"type": "T", "sn": "25 \u00b0C"}'.encode("latin-1"))
    assert str(caught.value) == (
        "invalid WSJF: line 1, column 25: the file is not utf-8 (byte 0xb0); WSJF files are "
        "UTF-8 (or UTF-16 with a byte-order mark)"
    )


# --- wsxf --------------------------------------------------------------------------------------


def test_a_cut_wsxf_file_says_where_it_ends_and_what_is_open() -> None:
    """It said ``no element found: line 1, column 4013``: the column 0-based, nothing open."""
    data = real_file("wsjf", "uut-wsxf-export.xml").read_bytes()
    for cut in cuts(data, 300):
        prefix = data[:cut]
        if prefix.rstrip() == data.rstrip():
            continue
        with pytest.raises(ConversionError) as caught:
            read_wsxf(prefix)
        message = str(caught.value)
        if cut == 0:
            assert message == "WSXF is not well-formed XML: the file is empty"
            continue
        assert message.startswith("WSXF is not well-formed XML: the file ends at "), message
        assert ends(message) == end_of(prefix), (cut, message)
        if b"<Reports" in prefix:
            assert re.search(r"inside (<\w+>|an? [\w ]+<?/?\w*) that starts at line", message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"<Reports>\n  <Report type='UUT'>\n  </Reports>",
            "WSXF is not well-formed XML: line 3, column 5: mismatched tag: the end tag does "
            "not close <Report> that starts at line 2, column 3",
        ),
        (
            b"<Reports>\n<Report type='UUT'><!-- a note",
            "WSXF is not well-formed XML: the file ends at line 2, column 31, inside a comment "
            "that starts at line 2, column 20 (in <Report> that starts at line 2, column 1)",
        ),
        (
            b"<Reports>\n<Report type='UUT' SN='x",
            "WSXF is not well-formed XML: the file ends at line 2, column 25, inside a start "
            "tag <Report that starts at line 2, column 1 (in <Reports> that starts at line 1, "
            "column 1)",
        ),
        (
            b"<Reports>\n <Report type='UUT'><![CDATA[ text",
            "inside a CDATA section that starts at line 2, column 21",
        ),
        (b"<Reports>\n<Report A='&nope;'/>", "line 2, column 1: undefined entity"),  # its tag
        (b"<Reports/>\n<Reports/>", "line 2, column 1: junk after document element"),
        (b"<?xml version='1.0'?>\n", "the file ends at line 2, column 1: it holds no element"),
        (
            b"<Reports>\n<Report type='UUT'>\n  <Step><Step Id='4'>\n"
            b"   <NumericLimit/><NumericLimit NumericValue='x'/></Step></Step></Report></Reports>",
            "Report #1/Step Id=4/NumericLimit #2: attribute NumericValue='x' is not a number "
            "(line 4, column 19)",
        ),
        (
            b"<Reports>\n<Report type='UUT'/>\n<Report type='UUT' Start='soon'/></Reports>",
            "Report #2: attribute Start='soon' is not an ISO 8601 date-time (line 3, column 1)",
        ),
        (b"\n<Other/>", "the root element is <Other>, expected <Reports> in namespace"),
        (b"<!DOCTYPE r [<!ENTITY a 'b'>]>\n<Reports/>", "DOCTYPE declaration"),
        (b"<Reports>" + b"<Step>" * 200, "nested more than 128 levels deep"),
    ],
)
def test_every_wsxf_failure_names_the_place(data: bytes, message: str) -> None:
    with pytest.raises(ConversionError) as caught:
        read_wsxf(data)
    assert message in str(caught.value)
    assert re.search(r"line \d+, column \d+", str(caught.value))


# --- csv ---------------------------------------------------------------------------------------

CSV_ARGS: dict[str, object] = {"part_number": "P-1", "revision": "A", "process_code": 10}
QUOTED = (
    "SerialNumber;Step;Value;Unit\r\n"
    'SN-1;"Supply\r\nvoltage";3.31;V\r\n'
    'SN-1;"Note, with ""quotes""";"long\r\ntext \u00e9";\r\n'
    "SN-1;LED;pass;\r\n"
)


def test_a_csv_file_cut_inside_a_quoted_cell_says_where_it_ends(tmp_path: Path) -> None:
    """It said ``line 3: unexpected end of data``: the line of the row, not the place."""
    path = tmp_path / "cut.csv"
    data = QUOTED.encode()
    inside = 0
    for cut in range(len(QUOTED)):
        prefix = QUOTED[:cut]
        if prefix.count('"') % 2 == 0:
            continue  # not inside a quoted cell: other tests
        path.write_bytes(prefix.encode())
        message = failure(CsvConverter, path, CSV_ARGS)
        # The cell's opening quote: the last quote that starts a cell.
        start = max(i for i, c in enumerate(prefix) if c == '"' and prefix[i - 1] in ";\n")
        assert message == (
            f"the file ends at {end_of(prefix.encode())}, inside a quoted cell that starts at "
            f"{place_of(prefix, start)} (its closing quote is missing)"
        ), (cut, message)
        inside += 1
    assert inside > 30
    path.write_bytes(data)
    assert isinstance(run_conversion(CsvConverter(), path, make_ctx(CsvConverter, CSV_ARGS)),
                      Converted)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'SN;Step;Value\nX;"Supply" voltage;3.3\n',
            "line 2, column 11: text after the closing quote of a quoted cell that starts at "
            'line 2, column 3 (a quote inside a quoted cell is written twice: "")',
        ),
        (
            'SN;Step;Value\nX;A;1\nX;"' + "x" * 140_000 + '";2\n',
            "line 3, column 3: a cell longer than 131,072 characters (a quote not closed?)",
        ),
        (
            "SN;Step;Value\nX;Temp \u00b0C;21\n",
            "line 2, column 8: the file is not utf-8 (byte 0xb0); set arguments.encoding",
        ),
    ],
)
def test_every_csv_failure_names_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1" if "\u00b0" in text else "utf-8"))
    assert failure(CsvConverter, path, CSV_ARGS) == message


def test_a_bad_byte_far_into_a_long_line_names_its_column(tmp_path: Path) -> None:
    """The line is read in several chunks: the column counts from its start, not the chunk's."""
    path = tmp_path / "wide.csv"
    wide = "\u00e9" * 70_000  # two bytes each: the line spans three chunks
    path.write_bytes(f"SN;Step;Value\nX;{wide}".encode() + b"\xff;1\n")
    assert failure(CsvConverter, path, CSV_ARGS).startswith(
        f"line 2, column {70_000 + 3}: the file is not utf-8 (byte 0xff)"
    )


# --- wstf --------------------------------------------------------------------------------------


def test_a_wstf_file_cut_in_its_step_data_says_where_it_ends(tmp_path: Path) -> None:
    """It said ``line 1: the file ends inside the step data``: the line of the header."""
    data = (DATA / "wstf_single.txt").read_bytes()
    start = data.index(b"--Step-Data-Start--") + len(b"--Step-Data-Start--")
    stop = data.index(b"--Step-Data-End--")
    path = tmp_path / "cut.txt"
    for cut in range(start, stop, 7):
        path.write_bytes(data[:cut])
        message = failure(WstfConverter, path, {})
        assert message == (
            f"the file ends at {end_of(data[:cut])}, inside the step data of the UUT that "
            "starts at line 1 (no --Step-Data-End--: the file is cut short?)"
        ), (cut, message)


def test_a_wstf_row_with_too_many_fields_names_the_first_extra_one(tmp_path: Path) -> None:
    text = (DATA / "wstf_single.txt").read_text()
    row = "EndSequenceCall\n"
    assert row in text
    path = tmp_path / "wide.txt"
    wide = "EndSequenceCall" + "\t" * 13  # 14 fields: the last one is beyond the 13 columns
    path.write_text(text.replace(row, wide + "surplus\n", 1))
    line = text[: text.index(row)].count("\n") + 1
    message = failure(WstfConverter, path, {})
    column = len(wide) + 1
    assert message == f"line {line}, column {column}: 14 fields, but the step data has 13 columns"


# --- hints ---------------------------------------------------------------------------------------


def _closure(module: str) -> set[str]:
    """The built-in modules ``module`` imports, itself included, transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((BUILTIN / f"{name.rsplit('.', 1)[1]}.py").read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("pywats_station.converters.builtin.")
            ):
                todo.append(node.module)
    return seen


@pytest.mark.parametrize("converter", CONVERTERS, ids=lambda c: c.name)
def test_every_hint_names_an_argument_the_converter_has(converter: type[FileConverter]) -> None:
    """``set arguments.encoding`` came from a helper shared with wsjf, which has none."""
    fields = set(converter.Arguments.__struct_fields__)
    for module in sorted(_closure(converter.__module__)):
        source = (BUILTIN / f"{module.rsplit('.', 1)[1]}.py").read_text()
        # A name built at run time goes through `argument()`, which checks it.
        assert "arguments.{" not in source, f"{module}: build dynamic hints with argument()"
        for name in re.findall(r"arguments\.(\w+)", source):
            assert name in fields, f"{module} mentions arguments.{name}; {converter.name} has not"


def test_hints_built_at_run_time_are_checked() -> None:
    args = CsvArguments()
    for key in (*HEADER_DEFAULTS, *STEP_DEFAULTS):
        name = key if key in STEP_DEFAULTS else f"{key}_column"
        assert argument(args, name) == f"arguments.{name}"
    assert argument(args, "measurements[2].column") == "arguments.measurements[2].column"
    with pytest.raises(AssertionError, match="CsvArguments has no argument 'encodings'"):
        argument(args, "encodings")


BROKEN: list[tuple[type[FileConverter], str, bytes, dict[str, object]]] = [
    (WsjfConverter, "x.json", '{"sn": "\u00b0"}'.encode("latin-1"), {}),
    (WsjfConverter, "x.json", b'{"type": "T", "sn": 5', {}),
    (WsxfConverter, "x.xml", b"<Reports><Report", {}),
    (WstfConverter, "x.txt", "--Header-Start--\nSerialNumber\t\u00b0\n".encode("latin-1"), {}),
    (WstfConverter, "x.txt", b"--Header-Start--\nSerialNumber\tS\nPartNumber\tP\n", {}),
    (CsvConverter, "x.csv", "SN;Step;Value\nX;\u00b0;1\n".encode("latin-1"), CSV_ARGS),
    (CsvConverter, "x.csv", b"Step;Value\nA;1\n", {}),
    (CsvConverter, "x.csv", b"SN;Step;Value\nX;A;1\n", {**CSV_ARGS, "value_column": "V"}),
    (CsvConverter, "x.csv", b"SN;Step;Value\nX;A;1\n", {**CSV_ARGS, "layout": "units",
                                                        "measurements": [{"column": "Q"}]}),
]  # fmt: skip


@pytest.mark.parametrize(("converter", "name", "data", "args"), BROKEN)
def test_the_hints_given_name_arguments_the_converter_has(
    tmp_path: Path,
    converter: type[FileConverter],
    name: str,
    data: bytes,
    args: dict[str, object],
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    reason = failure(converter, path, args)
    names = {f.name for f in msgspec.structs.fields(converter.Arguments)}
    for hinted in re.findall(r"arguments\.(\w+)", reason):
        assert hinted in names, reason

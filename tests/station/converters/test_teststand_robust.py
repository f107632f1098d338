"""The TestStand XML converter on what real stations leave in a watch folder, and on broken files.

Windows line endings, UTF-16 and Latin-1 files, byte-order marks, names with spaces and
brackets, the legacy ``<?xml:stylesheet?>`` instruction, a file still being written, an empty
one, huge fields, a DOCTYPE, another format's XML, and hypothesis breaking the real files: never
a crash or a hang, a report only from a whole file, and a reason that names the place.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats.models.report import UUTReport
from pywats_station.converters.api import (
    ConversionResult,
    Converted,
    ConverterConfigError,
    Failed,
    Skipped,
    Suspended,
)
from pywats_station.converters.builtin import _common, teststand
from pywats_station.converters.builtin._budget import OutputLimits
from pywats_station.converters.builtin.teststand import TestStandConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import REAL, real_dir, real_file
from tests.station.converters.helpers import make_ctx
from tests.station.converters.test_teststand_steps import (
    call,
    document,
    numeric,
    passfail,
    plain_report,
    result,
    uut,
)

WITH = ("teststand-xml", "TSWithWats.xml")
WITHOUT = ("teststand-xml", "TsWithoutWats.xml")
PN = {"part_number": "MB-2021"}
# A reason that says where, or is about the whole file (as the shared fuzz test asks).
PLACE = re.compile(r"\bline \d+|^the file is empty$|^the file holds only blanks$|holds no")


def outcome(path: Path, arguments: dict[str, Any] | None = None, **options: Any) -> Any:
    ctx = make_ctx(TestStandConverter, {**PN, **(arguments or {})})
    return run_conversion(TestStandConverter(), path, ctx, strict=True, **options)


def converted(path: Path, arguments: dict[str, Any] | None = None) -> UUTReport:
    found = outcome(path, arguments)
    assert isinstance(found, Converted), found
    (report,) = found.reports
    assert isinstance(report, UUTReport)
    return report


def failed(path: Path, arguments: dict[str, Any] | None = None, **options: Any) -> str:
    found = outcome(path, arguments, **options)
    assert isinstance(found, Failed), found
    return str(found.reason)


def shape(report: UUTReport) -> list[tuple[Any, ...]]:
    """What a report says, ids and the id aside: to compare two encodings of one file."""
    header = (report.sn, report.pn, report.rev, report.result, report.start, report.machine_name)
    steps = [
        (s.name, s.step_type, s.status, s.tot_time, s.start, s.numeric_meas, s.boolean_meas)
        for s in report.steps()
    ]
    return [header, *steps]


@pytest.fixture(scope="module")
def plain() -> UUTReport:
    return converted(real_file(*WITHOUT))


# --- what real stations write -------------------------------------------------------------------


def test_windows_line_endings(tmp_path: Path, plain: UUTReport) -> None:
    data = real_file(*WITHOUT).read_bytes()
    path = tmp_path / "crlf.xml"
    path.write_bytes(data.replace(b"\n", b"\r\n"))
    assert shape(converted(path)) == shape(plain)
    # Lines are still counted as an editor counts them.
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        data.replace(b"<Value>5</Value>", b"<Value>5x</Value>").replace(b"\n", b"\r\n")
    )
    assert failed(broken).startswith("line 1032, column 8, <Prop Name='Numeric'>: '5x'")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_utf8_with_byte_order_marks(
    tmp_path: Path, plain: UUTReport, encoding: str
) -> None:
    text = real_file(*WITHOUT).read_text("iso-8859-1")
    declared = "utf-8" if encoding == "utf-8-sig" else "utf-16"
    text = text.replace('encoding="iso-8859-1"', f'encoding="{declared}"')
    path = tmp_path / "wide.xml"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # as Windows tools write them: with a mark
        data = "\ufeff".encode(encoding) + data
    path.write_bytes(data)
    assert shape(converted(path)) == shape(plain)
    assert TestStandConverter().validate(path, make_ctx(TestStandConverter)).confidence == 1.0


def test_latin1_and_windows_1252_names(tmp_path: Path) -> None:
    steps = [numeric("Prüfspannung [V] (3V3)", 3.3, "GELE", 3.2, 3.4), passfail("Lüfter €", True)]
    for declared in ("iso-8859-1", "windows-1252"):
        content = document(plain_report(steps), declaration=declared)
        path = tmp_path / f"{declared}.xml"
        path.write_bytes(content.encode("cp1252"))
        names = [s.name for s in converted(path).steps()]
        if declared == "windows-1252":
            assert names[1:] == ["Prüfspannung [V] (3V3)", "Lüfter €"]
        else:  # byte 0x80 is a control character in Latin-1: read, but not as a euro sign
            assert names[1] == "Prüfspannung [V] (3V3)"


def test_a_file_that_lies_about_its_encoding(tmp_path: Path) -> None:
    content = document(plain_report([passfail("Lüfter", True)]), declaration="utf-8")
    path = tmp_path / "lies.xml"
    path.write_bytes(content.encode("latin-1"))
    lines = content.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t == "<Value>Lüfter</Value>")
    assert failed(path) == (
        f"line {line}, column 9: byte 0xfc is not utf-8 (the encoding the file declares) inside "
        "<Value> that starts at line "
        f"{line}, column 1; if the file is in another encoding (Windows-1252, Latin-1), set "
        "arguments.encoding"
    )
    report = converted(path, {"encoding": "latin-1"})
    assert [s.name for s in report.steps()][1] == "Lüfter"


def test_an_encoding_argument_expat_cannot_read() -> None:
    with pytest.raises(ConverterConfigError) as raised:
        make_ctx(TestStandConverter, {"encoding": "utf-16-le"})
    assert str(raised.value) == (
        "arguments: encoding 'utf-16-le' cannot be used: multi-byte encodings are not supported"
    )


def test_names_with_spaces_and_brackets(tmp_path: Path, plain: UUTReport) -> None:
    # TestStand's default report names: <sequence file>_Report[time][date].xml
    path = tmp_path / "Computer Motherboard Test Sequence_Report[3 47 48 PM][7 1 2022].xml"
    shutil.copyfile(real_file(*WITHOUT), path)
    assert shape(converted(path)) == shape(plain)


def test_the_legacy_stylesheet_instruction(tmp_path: Path, plain: UUTReport) -> None:
    # Old TestStand versions write the colon form; the reference converter strips it first.
    data = real_file(*WITHOUT).read_bytes().replace(b"<?xml-stylesheet", b"<?xml:stylesheet")
    path = tmp_path / "old.xml"
    path.write_bytes(data)
    assert b"<?xml:stylesheet" in data
    assert shape(converted(path)) == shape(plain)


def test_a_lone_report_root(tmp_path: Path) -> None:
    path = tmp_path / "lone.xml"
    path.write_text("<?xml version='1.0'?>\n" + plain_report([passfail("LED", True)]))
    assert converted(path).sn == "SN-1"


# --- broken files -------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.5, 0.8, 0.999])
def test_a_file_cut_short_fails_saying_where_it_ends(tmp_path: Path, fraction: float) -> None:
    data = real_file(*WITHOUT).read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: int(len(data) * fraction)])
    reason = failed(path)
    assert re.match(
        r"the file ends (at|inside \w+ \w+ that starts at) line \d+, column \d+", reason
    )
    assert "cut short" in reason


def test_a_cut_file_names_what_is_open(tmp_path: Path) -> None:
    data = real_file(*WITH).read_bytes()
    cut = data.index(b"<Value>214.4463569</Value>") + len(b"<Value>214.44")
    path = tmp_path / "cut.xml"
    path.write_bytes(data[:cut])
    assert failed(path) == (
        "the file ends at line 135, column 23 inside <Value> that starts at line 135, column 10: "
        "it is cut short (a copy that did not finish, or TestStand still writing it)"
    )


@pytest.mark.parametrize(
    ("data", "reason"), [(b"", "the file is empty"), (b" \n\t\r\n", "the file holds only blanks")]
)
def test_empty_files(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(data)
    assert failed(path) == reason


def test_a_doctype_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE Reports [\n<!ENTITY a "aaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<Reports>&b;</Reports>\n'
    )
    path = tmp_path / "bomb.xml"
    path.write_text(bomb)
    assert failed(path) == (
        "line 2: the document has a DOCTYPE declaration (<!DOCTYPE Reports>); "
        "TestStand reports have none, and it is refused (no entity declarations are read)"
    )


def test_another_formats_xml(tmp_path: Path) -> None:
    path = tmp_path / "atml.xml"
    path.write_text('<?xml version="1.0"?>\n<tr:TestResults xmlns:tr="urn:x"/>\n')
    assert failed(path) == (
        "not a TestStand XML report: its root element is <tr:TestResults> in a namespace (line "
        "2, column 1); a TestStand report starts with <TSReport>, <Reports> or <Report>, without "
        "a namespace"
    )


def test_elements_nested_too_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_text("<Reports>\n<Report>\n" + "<Prop>" * 500 + "\n")
    assert failed(path) == (
        "line 3, column 2389: <Prop> is nested 401 elements deep; more than 400 (about 80 levels "
        "of sequence calls) is refused"
    )


def test_deep_sequences_and_properties_in_a_worker_thread(tmp_path: Path) -> None:
    # The daemon converts in a worker thread: deep documents must not exhaust its stack.
    leaf = passfail("leaf", True)
    for level in range(75):
        leaf = call(f"Level {level}", [leaf])
    custom = "<Prop Name='x' Type='Obj'>" * 300 + "</Prop>" * 300  # empty: left out
    path = tmp_path / "deep.xml"
    path.write_text(document(plain_report([leaf, result("Custom", "X", "Done", custom)])))
    found: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: found.update(result=outcome(path)))
    worker.start()
    worker.join()
    assert isinstance(found["result"], Converted), found["result"]
    (report,) = found["result"].reports
    assert len(report.steps()) == 1 + 75 + 1 + 1
    deeper = "<Prop Name='x' Type='Obj'>" * 70 + "<Value>1</Value>" + "</Prop>" * 70
    path.write_text(document(plain_report([result("Custom", "X", "Done", deeper)])))
    assert re.fullmatch(
        r"line \d+, column \d+, <Prop Name='x'>: properties nested more than 64 levels deep "
        r"are not converted",
        failed(path),
    )


def test_huge_fields(tmp_path: Path) -> None:
    huge = "9" * 1_000_000
    path = tmp_path / "huge-sn.xml"
    path.write_text(document(plain_report([], unit=uut(huge))))
    assert failed(path) == (
        "line 6, column 1, <Value>: the serial number is 1,000,000 characters long; WATS takes "
        "at most 50"
    )
    path = tmp_path / "huge-name.xml"
    path.write_text(document(plain_report([passfail("N" * 1_000_000, True)])))
    (name,) = [s.name for s in converted(path).steps()][1:]
    assert name is not None
    assert (len(name), name[-1]) == (255, "…")  # descriptive texts are cut, as WATS does
    path = tmp_path / "huge-value.xml"
    path.write_text(document(plain_report([numeric("V", huge, "GELE", 1, 2)])))
    (report_step,) = converted(path).steps()[1:]
    assert report_step.report_text == "The measurement is inf: no value in WATS"


def test_a_report_over_the_size_cap_stops_early(tmp_path: Path) -> None:
    steps = [passfail(f"Step {i}", True) for i in range(400)]
    path = tmp_path / "big.xml"
    path.write_text(document(plain_report(steps)))
    limits = OutputLimits(max_report_size=20_000, settings="converters.ts")
    reason = failed(path, limits=limits)
    assert re.match(r"the report is over 20 kB as WSJF by line [\d,]+ \(\d+ steps;", reason)
    assert reason.endswith("(converters.ts.max_report_size)")


# --- recognition --------------------------------------------------------------------------------


def every_real_file() -> list[Any]:
    if not REAL.is_dir():
        return [pytest.param(None, id="no-fixtures")]
    files = sorted(p for p in REAL.rglob("*") if p.is_file() and p.name.lower() != "readme.md")
    return [pytest.param(p, id=p.relative_to(REAL).as_posix()) for p in files]


@pytest.mark.parametrize("path", every_real_file())
def test_validate_claims_only_teststand_reports(path: Path | None) -> None:
    if path is None:
        real_dir("teststand-xml")  # skips, naming the folder
        return
    rated = TestStandConverter().validate(path, make_ctx(TestStandConverter))
    assert rated.message
    if path.parent.name == "teststand-xml":
        assert rated.confidence >= 0.9, rated
    else:
        assert rated.confidence <= 0.2, rated


def test_validate_reads_only_the_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    real = _common.read_head

    def spy(path: Path, limit: int) -> bytes:
        asked.append(limit)
        return real(path, limit)

    monkeypatch.setattr(teststand, "read_head", spy)
    path = tmp_path / "long.xml"
    steps = [passfail(f"Step {i}", True) for i in range(2000)]
    path.write_text(document(plain_report(steps)))
    assert path.stat().st_size > 2_000_000
    rated = TestStandConverter().validate(path, make_ctx(TestStandConverter, PN))
    assert asked == [64 * 1024 + 1]
    assert rated.confidence == 1.0
    assert (rated.preview.serial_number, rated.preview.part_number) == ("SN-1", "PN-1")


def test_validate_a_folder(tmp_path: Path) -> None:
    rated = TestStandConverter().validate(tmp_path, make_ctx(TestStandConverter))
    assert rated.confidence == 0.0
    assert rated.message is not None
    assert rated.message.startswith("not a TestStand XML report: ")


@pytest.mark.parametrize(
    ("content", "confidence"),
    [
        ('<?xml version="1.0"?><Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">'
         "<Report/></Reports>", 0.0),
        ("<Reports><Report><Item/></Report></Reports>", 0.1),
        ("<html><body/></html>", 0.0),
        ("not xml at all", 0.0),
        ("", 0.0),
    ],
)  # fmt: skip
def test_validate_other_documents(tmp_path: Path, content: str, confidence: float) -> None:
    path = tmp_path / "other.xml"
    path.write_text(content)
    rated = TestStandConverter().validate(path, make_ctx(TestStandConverter))
    assert rated.confidence == confidence
    assert rated.message


# --- hypothesis on the real files ---------------------------------------------------------------


def broken(data: bytes, cuts: list[tuple[str, int, int]]) -> bytes:
    """``data`` with each cut applied: truncate, flip a byte, drop or repeat a line."""
    for what, at, mask in cuts:
        lines = data.splitlines(keepends=True)
        if not data:
            break
        if what == "truncate":
            data = data[: at % len(data)]
        elif what == "flip":
            index = at % len(data)
            data = data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]
        elif what == "drop":
            index = at % len(lines)
            data = b"".join(lines[:index] + lines[index + 1 :])
        else:
            index = at % len(lines)
            data = b"".join(lines[: index + 1] + lines[index:])
    return data


CUTS = st.lists(
    st.tuples(
        st.sampled_from(["truncate", "flip", "drop", "repeat"]),
        st.integers(0, 1 << 20),
        st.integers(1, 255),
    ),
    min_size=1,
    max_size=3,
)


@pytest.mark.parametrize("parts", [WITH, WITHOUT], ids=["with-wats", "without-wats"])
def test_broken_real_files_never_crash(
    tmp_path_factory: pytest.TempPathFactory, parts: Any
) -> None:
    original = real_file(*parts).read_bytes()
    folder = tmp_path_factory.mktemp("broken")

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(cuts=CUTS)
    def run(cuts: list[tuple[str, int, int]]) -> None:
        path = folder / "broken.xml"
        path.write_bytes(broken(original, cuts))
        TestStandConverter().validate(path, make_ctx(TestStandConverter))
        found: ConversionResult = outcome(path)
        assert isinstance(found, Converted | Failed | Skipped | Suspended)
        if isinstance(found, Failed):
            assert not found.reason.startswith("converter "), found.reason
            assert PLACE.search(found.reason), found.reason
        if isinstance(found, Converted):
            for report in found.reports:
                assert report.validate(server_rules=True) == []

    run()

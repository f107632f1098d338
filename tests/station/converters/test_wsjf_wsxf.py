"""The WSJF and WSXF converters on the real exports, and on what is not a report."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

from pywats.formats import wsjf, wsxf
from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import WSJF_FILES, real_dir, real_file
from tests.station.converters.helpers import make_ctx


@pytest.mark.parametrize("name", WSJF_FILES)
def test_every_real_wsjf_file_converts_unchanged(name: str) -> None:
    path = real_file("wsjf", name)
    converter, ctx = WsjfConverter(), make_ctx(WsjfConverter)
    validation = converter.validate(path, ctx)
    expected = wsjf.loads(path.read_bytes())
    assert validation.confidence == 1.0
    assert validation.preview.serial_number == expected.sn
    assert validation.preview.part_number == expected.pn
    assert validation.preview.result == expected.result
    result = run_conversion(converter, path, ctx)
    assert result == Converted(reports=[expected])


def test_loop_information_survives() -> None:
    path = real_file("wsjf", "uut-wsjf-export.json")
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Converted)
    loops = [s.loop for s in result.reports[0].steps() if s.loop is not None]
    assert len(loops) > 10
    assert any(loop.is_summary for loop in loops)
    assert any(loop.idx == 2 for loop in loops)


def test_real_wsxf_file_converts_to_the_same_report_as_its_wsjf_twin() -> None:
    path = real_file("wsjf", "uut-wsxf-export.xml")
    converter, ctx = WsxfConverter(), make_ctx(WsxfConverter)
    validation = converter.validate(path, ctx)
    assert validation.confidence == 1.0
    assert validation.preview.serial_number == "FATTest-325"
    result = run_conversion(converter, path, ctx)
    assert result == Converted(reports=wsxf.loads_all(path.read_bytes()))
    twin = wsjf.loads(real_file("wsjf", "uut-wsjf-export.json").read_bytes())
    (report,) = result.reports
    assert (report.id, report.sn, report.pn, report.result) == (
        twin.id,
        twin.sn,
        twin.pn,
        twin.result,
    )
    assert len(report.steps()) == len(twin.steps())


def test_a_json_array_holds_several_reports(tmp_path: Path) -> None:
    docs = [real_file("wsjf", name).read_bytes() for name in WSJF_FILES]
    path = tmp_path / "batch.json"
    path.write_bytes(b"[" + b",".join(docs) + b"]")
    validation = WsjfConverter().validate(path, make_ctx(WsjfConverter))
    assert validation.confidence == 1.0
    assert validation.message == "3 reports"
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert result == Converted(reports=[wsjf.loads(d) for d in docs])


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    source = real_file("wsjf", "uur_example.json").read_bytes()
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + source)
    assert run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter)) == Converted(
        reports=[wsjf.loads(source)]
    )


def test_broken_json_fails_with_its_position(tmp_path: Path) -> None:
    source = real_file("wsjf", "uur_example.json").read_text()
    path = tmp_path / "broken.json"
    path.write_text(source.replace('"pn"', '"pn" "x"', 1))
    line = source[: source.index('"pn"')].count("\n") + 1
    validation = WsjfConverter().validate(path, make_ctx(WsjfConverter))
    assert validation.confidence == 0.6  # a report, but broken: converted, then failed
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Failed)
    assert result.reason.startswith("invalid WSJF: JSON is malformed")
    assert f"(line {line}, column" in result.reason


def test_a_member_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    doc = msgspec.json.decode(real_file("wsjf", "uur_example.json").read_bytes())
    doc["processCode"] = "five hundred"
    path = tmp_path / "typed.json"
    path.write_bytes(msgspec.json.encode(doc))
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Failed)
    assert result.reason == (
        "invalid WSJF: Expected `int | null`, got `str` - at `$.processCode` (line 1, column 184)"
    )


def test_an_invalid_report_is_failed_by_validation(tmp_path: Path) -> None:
    doc = msgspec.json.decode(real_file("wsjf", "new_report_example.json").read_bytes())
    doc["sn"] = ""
    path = tmp_path / "no-sn.json"
    path.write_bytes(msgspec.json.encode(doc))
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Failed)
    assert result.reason.startswith("invalid report: report 1 of 1 (sn ''): sn")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"name": "settings", "type": "config"}', "Invalid value 'config' - at `$.type`"),
        (b'{"values": [1, 2, 3]}', "missing required field `type`"),
        (b"[]", "the JSON array holds no report"),
        (b"not json at all", "JSON is malformed"),
    ],
)
def test_json_that_is_not_a_report(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "other.json"
    path.write_bytes(content)
    validation = WsjfConverter().validate(path, make_ctx(WsjfConverter))
    assert validation.confidence == 0.0
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Failed)
    assert reason in result.reason


def test_other_xml_is_not_wsxf() -> None:
    folders = [real_dir("teststand-xml"), real_dir("atml")]
    files = [f for folder in folders for f in sorted(folder.iterdir())]
    assert len(files) == 5
    for path in files:
        validation = WsxfConverter().validate(path, make_ctx(WsxfConverter))
        assert validation.confidence == 0.0, path.name
        assert isinstance(run_conversion(WsxfConverter(), path, make_ctx(WsxfConverter)), Failed)


def test_broken_wsxf(tmp_path: Path) -> None:
    source = real_file("wsjf", "uut-wsxf-export.xml").read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(source[: len(source) // 2])
    validation = WsxfConverter().validate(path, make_ctx(WsxfConverter))
    assert validation.confidence == 0.6
    result = run_conversion(WsxfConverter(), path, make_ctx(WsxfConverter))
    assert isinstance(result, Failed)
    assert result.reason.startswith("WSXF is not well-formed XML: ")
    assert "line" in result.reason


def test_several_wsxf_reports_in_one_document(tmp_path: Path) -> None:
    source = real_file("wsjf", "uut-wsxf-export.xml").read_text(encoding="utf-8")
    start, end = source.index("<Report "), source.rindex("</Report>") + len("</Report>")
    report = source[start:end]
    path = tmp_path / "two.xml"
    path.write_text(source[:end] + report + source[end:], encoding="utf-8")
    result = run_conversion(WsxfConverter(), path, make_ctx(WsxfConverter))
    assert isinstance(result, Converted)
    assert len(result.reports) == 2


def test_a_copied_export_keeps_its_id(tmp_path: Path) -> None:
    # Converting the same file twice must give the same report id (the server overwrites).
    path = tmp_path / "copy.json"
    shutil.copy(real_file("wsjf", "uut-wsjf-export.json"), path)
    first = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    second = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(first, Converted)
    assert isinstance(second, Converted)
    assert first.reports[0].id == second.reports[0].id


@pytest.mark.parametrize(
    "body",
    [b'{"type": "T", "root": ' + b'{"steps": [' * 20_000, b"[" * 5_000 + b"]" * 5_000],
    ids=["unterminated", "arrays"],
)
def test_a_file_nested_beyond_the_limit_fails_with_the_limit_named(
    tmp_path: Path, body: bytes
) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(body)
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Failed)
    assert "levels deep; at most 256 are accepted" in result.reason

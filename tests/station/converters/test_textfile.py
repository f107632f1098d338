"""Line-by-line reading of text inputs: encodings, chunk boundaries, line numbers, heads.

The ``csv`` and ``wstf`` converters read through :mod:`~pywats_station.converters.builtin.
_textfile` so that a file of any size costs a chunk and a line of memory; these tests pin what
the whole-text decoding did before: byte-order marks, UTF-16, Latin-1, errors with their line.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from pywats_station.converters import ConversionError, Converted
from pywats_station.converters.builtin._standard import DECODE_LIMIT
from pywats_station.converters.builtin._textfile import head_text, iter_lines
from pywats_station.converters.builtin.csv import CsvConverter
from pywats_station.converters.builtin.wsjf import WsjfConverter
from pywats_station.converters.builtin.wstf import WstfConverter
from pywats_station.converters.builtin.wsxf import WsxfConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import real_file
from tests.station.converters.helpers import DATA, make_ctx

CHUNK = 64 * 1024


def lines_of(path: Path, encoding: str = "utf-8") -> list[str]:
    return list(iter_lines(path, encoding))


def expected_lines(text: str) -> list[str]:
    return io.StringIO(text, newline="").readlines()


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_line_ending_across_chunk_boundaries(tmp_path: Path, ending: str) -> None:
    # Lines of every length around the chunk size: each boundary falls somewhere else.
    text = "".join(f"{'x' * (n % 97)}é{n}{ending}" for n in range(6000))
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8", newline="")
    assert lines_of(path) == expected_lines(text)


def test_crlf_split_by_a_chunk_boundary_is_one_line_ending(tmp_path: Path) -> None:
    text = "a" * (CHUNK - 1) + "\r\n" + "next\r\n"
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode())
    assert lines_of(path) == ["a" * (CHUNK - 1) + "\r\n", "next\r\n"]


def test_a_character_split_by_a_chunk_boundary(tmp_path: Path) -> None:
    text = "a" * (CHUNK - 1) + "€ end\nlast"
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode())
    assert lines_of(path) == ["a" * (CHUNK - 1) + "€ end\n", "last"]


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_a_byte_order_mark_wins_over_the_encoding(tmp_path: Path, bom: bytes, codec: str) -> None:
    text = "".join(f"Temp {n} °C;{n}\r\n" for n in range(20000))
    path = tmp_path / "t.csv"
    path.write_bytes(bom + text.encode(codec))
    assert lines_of(path, "latin-1") == expected_lines(text)


def test_a_bad_byte_is_named_with_its_line_far_into_the_file(tmp_path: Path) -> None:
    lines = [f"row {n};{n}\n".encode() for n in range(30000)]
    lines[24_999] = b"row \xb0C;1\n"  # line 25,000, some chunks in
    path = tmp_path / "t.csv"
    path.write_bytes(b"".join(lines))
    with pytest.raises(ConversionError) as caught:
        lines_of(path)
    assert str(caught.value) == (
        "line 25000, column 5: the file is not utf-8 (byte 0xb0); set arguments.encoding"
    )
    assert len(lines_of(path, "latin-1")) == 30000


def test_a_truncated_character_at_the_end_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"one\ntwo\nthree \xe2\x82")
    with pytest.raises(ConversionError) as caught:
        lines_of(path)
    assert str(caught.value) == (
        "the file ends at line 3, column 7, in the middle of a character (the last 2 bytes "
        "begin a utf-8 character that does not end)"
    )


def test_an_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x\n")
    with pytest.raises(ConversionError, match=r"^unknown encoding 'klingon'$"):
        lines_of(path, "klingon")


def test_a_line_without_end_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x" * (5 * CHUNK + 3))
    assert lines_of(path) == ["x" * (5 * CHUNK + 3)]
    (tmp_path / "empty.txt").write_bytes(b"")
    assert lines_of(tmp_path / "empty.txt") == []


# --- heads -------------------------------------------------------------------------------------


def test_a_head_ends_with_its_last_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"first\nsecond\nthi\xe2\x82\xacrd\n")
    assert head_text(path, 1000) == "first\nsecond\nthi€rd\n"  # all of it: nothing cut
    # Cut inside the euro sign: the incomplete character and line are left out, no error.
    assert head_text(path, 17) == "first\nsecond\n"
    assert head_text(path, 3) == ""


def cut_inside(head: str, row: str, needle: str, *, after: int) -> str:
    """``head`` then rows, padded so that byte 65,536 falls ``after`` bytes into ``needle`` of a
    row: where the validation read of 64 KiB ends."""
    raw = row.encode()
    at = raw.index(needle.encode()) + after
    pad = (CHUNK - len(head.encode()) - at) % len(raw)
    # The padding goes into the first row's step name (a line of its own would move the rest).
    first = row.replace("Temp", "Temp" + "_" * pad, 1)
    text = head + first + row * (3 * CHUNK // len(raw))
    cut = text.encode()[:CHUNK]
    assert cut.endswith(needle.encode()[:after]) or after == 0
    return text


@pytest.mark.parametrize(
    ("needle", "after"), [("°", 1), ('""probe""', 3)], ids=["in-a-character", "in-a-quoted-cell"]
)
def test_csv_validate_reads_a_head_cut_anywhere(tmp_path: Path, needle: str, after: int) -> None:
    # A big file whose 64 KiB head ends inside a character or inside a quoted cell: the converter
    # must still recognise it from the complete lines of the head.
    row = 'SN-1;"Temp °C, ""probe"" 1";21.5\n'
    path = tmp_path / "big.csv"
    path.write_text(cut_inside("SerialNumber;Step;Value\n", row, needle, after=after))
    validation = CsvConverter().validate(path, make_ctx(CsvConverter))
    assert validation.confidence == 0.9, validation
    assert validation.preview.serial_number == "SN-1"


def test_wstf_validate_reads_a_head_cut_inside_a_character(tmp_path: Path) -> None:
    head, tail = (DATA / "wstf_single.txt").read_text().split("--Step-Data-End--")
    row = "NumericLimitTest\tTemp °C\t\t21.5\t0\t100\tGELE\tdegC\n"
    path = tmp_path / "big.txt"
    path.write_text(cut_inside(head, row, "°", after=1) + "--Step-Data-End--" + tail)
    validation = WstfConverter().validate(path, make_ctx(WstfConverter))
    assert validation.confidence == 1.0, validation
    assert validation.preview.serial_number == "PSU-240301-0042"


def big_json(tmp_path: Path, tail: bytes) -> Path:
    report = real_file("wsjf", "uut-wsjf-export.json").read_bytes()
    path = tmp_path / "big.json"
    # Valid at the start, padded past the decode limit, then whatever `tail` is.
    path.write_bytes(report[:-1] + b"," + b" " * DECODE_LIMIT + b'"x": 1' + tail)
    return path


def test_wsjf_validate_does_not_decode_a_big_file(tmp_path: Path) -> None:
    # Broken at its very end: decoding it whole would rate it 0.6 and name the error.
    path = big_json(tmp_path, b" oops")
    validation = WsjfConverter().validate(path, make_ctx(WsjfConverter))
    assert validation.confidence == 0.9
    assert validation.preview.serial_number == "FATTest-325"
    assert validation.preview.part_number == "FATPartNo"
    assert validation.preview.result == "F"
    assert validation.message is not None
    assert "decoded when converted" in validation.message
    other = tmp_path / "other.json"
    other.write_bytes(b'{"rows": [' + b"1," * DECODE_LIMIT + b"1]}")
    assert WsjfConverter().validate(other, make_ctx(WsjfConverter)).confidence == 0.0


def test_a_big_wsjf_file_still_converts(tmp_path: Path) -> None:
    path = big_json(tmp_path, b"}")
    result = run_conversion(WsjfConverter(), path, make_ctx(WsjfConverter))
    assert isinstance(result, Converted)
    assert result.reports[0].sn == "FATTest-325"


def test_wsxf_validate_previews_a_big_file_from_its_head(tmp_path: Path) -> None:
    xml = real_file("wsjf", "uut-wsxf-export.xml").read_bytes()
    path = tmp_path / "big.xml"
    path.write_bytes(xml.replace(b"</Reports>", b"<!--" + b" " * DECODE_LIMIT + b"--></Reports>"))
    validation = WsxfConverter().validate(path, make_ctx(WsxfConverter))
    assert validation.confidence == 0.9
    assert (validation.preview.serial_number, validation.preview.result) == ("FATTest-325", "F")

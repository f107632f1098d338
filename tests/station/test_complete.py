"""Which files prove by their format that they are whole (the settle wait's fast path)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from pywats_station.converters import _complete
from pywats_station.converters._complete import looks_complete
from tests.station.e2e.harness import make_report


def test_a_whole_json_report_is_complete_and_every_proper_prefix_is_not(tmp_path: Path) -> None:
    _, data = make_report(1)
    path = tmp_path / "r.json"
    path.write_bytes(data)
    assert looks_complete(path) is True
    for cut in (1, len(data) // 3, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        assert looks_complete(path) is False, cut


def test_json_with_a_byte_order_mark_and_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"\xef\xbb\xbf \n[1, 2]\n")
    assert looks_complete(path) is True


def test_xml_is_complete_once_its_root_element_is_closed(tmp_path: Path) -> None:
    doc = b'<?xml version="1.0"?>\n<Reports><Report id="1"><Step/></Report></Reports>\n'
    path = tmp_path / "r.xml"
    path.write_bytes(doc)
    assert looks_complete(path) is True
    path.write_bytes(doc[: doc.index(b"</Reports>") + 5])
    assert looks_complete(path) is False


def test_zip_is_complete_once_its_central_directory_is_written(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x" * 1000)
    data = buffer.getvalue()
    path = tmp_path / "r.zip"
    path.write_bytes(data)
    assert looks_complete(path) is True
    path.write_bytes(data[: len(data) - 10])
    assert looks_complete(path) is False


def test_formats_that_cannot_tell_say_so(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("Serial;Result\nU-1;PASS\n", encoding="utf-8")
    assert looks_complete(path) is None
    path.write_bytes(b"")
    assert looks_complete(path) is None
    assert looks_complete(tmp_path / "missing.json") is None


def test_a_file_too_large_to_parse_twice_takes_the_settle_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_complete, "MAX_CHECKED", 10)
    path = tmp_path / "r.json"
    path.write_bytes(b'{"a": "' + b"x" * 20 + b'"}')
    assert looks_complete(path) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_is_never_opened_for_reading_in_a_way_that_blocks(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    os.mkfifo(path)
    assert looks_complete(path) is None  # returns at once: no writer is waited for

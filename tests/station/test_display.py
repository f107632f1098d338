"""Names and text from outside, shown safely: ``display_name`` and ``display_text``."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywats_station._display import display_name, display_text

needs_posix = pytest.mark.skipif(os.sep == "\\", reason="a backslash is a separator on Windows")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("unit-7.json", "unit-7.json"),
        ("Prüfung 7 ✓ 測試.json", "Prüfung 7 ✓ 測試.json"),  # printable text stays as it is
        (os.fsdecode(b"bad\xff\xfename.json"), "bad\\xff\\xfename.json"),  # undecodable bytes
        ("a\nb.json", "a\\nb.json"),
        ("a\r\tb", "a\\r\\tb"),
        ("\x1b[31mred", "\\x1b[31mred"),  # a terminal escape
        ("x\x7f", "x\\x7f"),
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),  # right-to-left override
        ("a\u2028b", "a\\u2028b"),  # a line separator
        ("\U000e0001tag", "\\U000e0001tag"),
        ("\ud800lone", "\\ud800lone"),  # a lone surrogate that is not an escaped byte
        ("--x", "--x"),
        ("  leading.json", "  leading.json"),
    ],
)
def test_display_name_escapes_what_cannot_be_shown(name: str, shown: str) -> None:
    assert display_name(name) == shown


@needs_posix
def test_a_backslash_in_a_name_is_escaped_so_names_stay_distinct() -> None:
    assert display_name("a\\xffb") == "a\\\\xffb"
    assert display_name("a\\xffb") != display_name(os.fsdecode(b"a\xffb"))


def test_paths_and_bytes_are_accepted() -> None:
    assert display_name(Path("in") / "a\nb.json") == os.path.join("in", "a\\nb.json")
    assert display_name(b"in/\xff.json") == "in/\\xff.json"


def test_display_text_keeps_backslashes_and_is_idempotent() -> None:
    text = "could not read C:\\data: bad byte \udcff\nsecond line"
    once = display_text(text)
    assert once == "could not read C:\\data: bad byte \\xff\\nsecond line"
    assert display_text(once) == once


def test_limit_cuts_between_escapes() -> None:
    assert display_name("x" * 20, limit=10) == "x" * 9 + "…"
    # "\n" takes two characters: it is left out whole rather than cut in half.
    assert display_name("xxxxxxxx\nyy", limit=10) == "xxxxxxxx…"
    assert display_name("short", limit=10) == "short"


@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_give_one_line_of_valid_utf8(raw: bytes) -> None:
    shown = display_name(os.fsdecode(raw))
    shown.encode("utf-8")  # never raises
    assert "\n" not in shown
    assert "\r" not in shown
    assert shown.isprintable()
    assert msgspec.json.decode(msgspec.json.encode(shown)) == shown


@needs_posix
@given(st.binary(max_size=60), st.binary(max_size=60))
def test_different_names_are_shown_differently(a: bytes, b: bytes) -> None:
    if a != b:
        assert display_name(os.fsdecode(a)) != display_name(os.fsdecode(b))

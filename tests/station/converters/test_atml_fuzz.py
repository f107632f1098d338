"""The ATML converter on the real files broken at random: it never raises, never half-converts.

Hypothesis cuts, flips, drops, repeats and re-encodes the three real TestStand files. Whatever
comes out, ``convert()`` (through the daemon's ``run_conversion``) gives either reports the
server's rules accept, or a ``Failed`` whose reason says where (a line, a column, an element) or
why the whole file is not ATML; ``validate()`` never raises. A file cut short never converts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywats_station.converters import Converted, Failed
from pywats_station.converters.builtin.atml import AtmlConverter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import real_file
from tests.station.converters.helpers import make_ctx

NAMES = (
    "ATML-2.02-[123456789][2-30-27-PM][5-15-2019].XML",
    "ATML-5.00-[2-31-11-PM][5-15-2019].xml",
    "ATML-6.01-[2-31-52-PM][5-15-2019].xml",
)
WHERE = re.compile(r"\bline \d+|<\w+")
WHOLE = re.compile(r"the file is empty|holds no|not ATML")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(path: Path) -> Converted | Failed:
    ctx = make_ctx(AtmlConverter)
    found = AtmlConverter().validate(path, ctx)
    assert 0.0 <= found.confidence <= 1.0
    outcome = run_conversion(AtmlConverter(), path, ctx, strict=True)
    if isinstance(outcome, Failed):
        assert not outcome.reason.startswith("converter raised"), outcome.reason
        assert WHERE.search(outcome.reason) or WHOLE.search(outcome.reason), outcome.reason
    else:
        assert isinstance(outcome, Converted), outcome
        assert outcome.reports
    return outcome


@pytest.mark.parametrize("name", NAMES)
def test_a_file_cut_anywhere_fails_saying_where_it_ends(name: str, tmp_path: Path) -> None:
    data = real_file("atml", name).read_bytes()
    end = data.rstrip().rindex(b"<")  # the last tag starts here: every cut before it loses it

    @FUZZ
    @given(cut=st.integers(0, end))
    def run(cut: int) -> None:
        path = tmp_path / "cut.xml"
        path.write_bytes(data[:cut])
        outcome = check(path)
        assert isinstance(outcome, Failed), f"cut at byte {cut} converted"

    run()


@pytest.mark.parametrize("name", NAMES)
def test_flipped_bytes_never_break_the_converter(name: str, tmp_path: Path) -> None:
    data = real_file("atml", name).read_bytes()

    @FUZZ
    @given(
        flips=st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)), max_size=6)
    )
    def run(flips: list[tuple[int, int]]) -> None:
        broken = bytearray(data)
        for index, mask in flips:
            broken[index] ^= mask
        path = tmp_path / "flipped.xml"
        path.write_bytes(bytes(broken))
        check(path)

    run()


@pytest.mark.parametrize("name", NAMES)
def test_dropped_and_repeated_lines_never_break_the_converter(name: str, tmp_path: Path) -> None:
    lines = real_file("atml", name).read_bytes().splitlines(keepends=True)

    @FUZZ
    @given(
        drop=st.sets(st.integers(0, len(lines) - 1), max_size=4),
        repeat=st.sets(st.integers(0, len(lines) - 1), max_size=3),
    )
    def run(drop: set[int], repeat: set[int]) -> None:
        kept = []
        for number, line in enumerate(lines):
            if number not in drop:
                kept.append(line)
            if number in repeat:
                kept.append(line)
        path = tmp_path / "edited.xml"
        path.write_bytes(b"".join(kept))
        check(path)

    run()


@pytest.mark.parametrize("name", NAMES)
def test_huge_fields_and_other_encodings_never_break_the_converter(
    name: str, tmp_path: Path
) -> None:
    text = real_file("atml", name).read_bytes().decode("latin-1")

    @FUZZ
    @given(
        at=st.integers(0, len(text)),
        field=st.sampled_from(["9", "A", "é", " ", "<", "&amp;", "\x01"]),
        size=st.sampled_from([10, 10_000, 1 << 20]),
        encoding=st.sampled_from(["latin-1", "utf-8", "utf-16", "utf-16-le", "cp1252"]),
    )
    def run(at: int, field: str, size: int, encoding: str) -> None:
        changed = text[:at] + field * (size // len(field)) + text[at:]
        path = tmp_path / "huge.xml"
        path.write_bytes(changed.encode(encoding, "replace"))
        check(path)

    run()

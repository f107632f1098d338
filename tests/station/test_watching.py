"""One converter's folder: the listing (inputs and refusals) and which inputs have settled."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pywats_station.actors._watching import (
    ListingRules,
    Settler,
    WatchFolderLost,
    complete_inputs,
    exception_line,
    list_inputs,
)
from pywats_station.converters._intake import InputPolicy
from pywats_station.converters._sources import SourceState


def rules(root: Path, **options: object) -> ListingRules:
    policy = InputPolicy(root=root.resolve(), folders=False, follow_symlinks=False, max_size=100)
    return ListingRules(policy=policy, patterns=["*.json"], **options)  # type: ignore[arg-type]


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and links")
def test_the_listing_returns_inputs_and_says_why_others_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".partial.json").write_text("{", encoding="utf-8")  # hidden: being written
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")  # not a pattern: not mentioned
    (tmp_path / "big.json").write_bytes(b"x" * 1000)  # listed: the size is checked on reading
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "link.json").symlink_to(tmp_path / "a.json")
    (tmp_path / "Done").mkdir()
    inputs, refused = list_inputs(tmp_path, {(tmp_path / "Done").resolve()}, rules(tmp_path))
    assert sorted(path.name for path, _ in inputs) == ["a.json", "big.json"]
    assert {path.name: why for path, why in refused.items()} == {
        "pipe.json": "is a FIFO (named pipe), not a file",
        "link.json": "is a symbolic link; links are not followed (follow_symlinks = false)",
    }
    with pytest.raises(WatchFolderLost):
        list_inputs(tmp_path / "gone", set(), rules(tmp_path))


def test_kept_inputs_are_not_listed(tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text("{}", encoding="utf-8")
    done = tmp_path / "Done"
    (done / ".kept").mkdir(parents=True)
    st = source.stat()
    (done / ".kept" / "a.json.converted").write_text(f"{st.st_size} {st.st_mtime_ns}\n")
    assert list_inputs(tmp_path, {done.resolve()}, rules(tmp_path, kept_in=done))[0] == []
    assert len(list_inputs(tmp_path, {done.resolve()}, rules(tmp_path))[0]) == 1


def test_settler_waits_for_inputs_to_stop_changing() -> None:
    a, b = Path("a.json"), Path("b.json")
    settler = Settler(settle=2.0)
    assert settler.ready([(a, SourceState(1, 10)), (b, SourceState(1, 5))], now=100.0) == []
    assert settler.next_wake(100.0, 10.0) == 0.5
    assert settler.ready([(a, SourceState(2, 11)), (b, SourceState(1, 5))], now=101.0) == []
    # b unchanged for 2 s is ready; a changed at 101 is not yet.
    assert settler.ready([(a, SourceState(2, 11)), (b, SourceState(1, 5))], now=102.0) == [b]
    # Oldest first by modification time.
    settler.settling.pop(b)
    assert settler.ready([(a, SourceState(2, 11)), (b, SourceState(1, 5))], now=103.5) == [a]


def test_inputs_proven_complete_skip_the_settle_wait_but_not_retries_or_set_asides() -> None:
    a, b, c = Path("a.json"), Path("b.json"), Path("c.json")
    settler = Settler(settle=2.0)
    settler.not_before[b] = 50.0
    settler.ignored[c] = SourceState(1, 1)
    listing = [(a, SourceState(1, 1)), (b, SourceState(1, 1)), (c, SourceState(1, 1))]
    assert settler.ready(listing, now=10.0, complete={a, b, c}) == [a]
    # Not proven (a truncated JSON, a CSV): the settle wait, as ever.
    assert settler.ready([(a, SourceState(2, 2))], now=10.5) == []
    assert settler.ready([(a, SourceState(2, 2))], now=12.5) == [a]


def test_complete_inputs_are_those_hinted_whose_format_proves_them_whole(tmp_path: Path) -> None:
    whole, half, csv = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.csv"
    whole.write_bytes(b'{"a": [1, 2]}')
    half.write_bytes(b'{"a": [1, ')
    csv.write_bytes(b"1;2\n")
    other = tmp_path / "d.json"
    other.write_bytes(b"{}")
    listing = [(p, SourceState(1, 1)) for p in (whole, half, csv, other)]
    assert complete_inputs(listing, {whole, half, csv}) == {whole}  # d.json was not hinted


def test_settler_honours_retries_and_set_aside_inputs_and_forgets_gone_ones() -> None:
    a, b = Path("a.json"), Path("b.json")
    settler = Settler(settle=0.0)
    settler.not_before[a] = 50.0
    settler.ignored[b] = SourceState(1, 1)
    listing = [(a, SourceState(1, 1)), (b, SourceState(1, 1))]
    assert settler.ready(listing, now=10.0) == []  # a waits, b is unchanged since set aside
    assert settler.next_wake(10.0, 10.0) == 10.0
    assert settler.ready(listing, now=60.0) == [a]
    assert settler.ready([(b, SourceState(2, 2))], now=61.0) == [b]  # b changed: looked at
    assert a not in settler.not_before  # a is gone from the folder: forgotten
    assert b not in settler.ignored


def test_exception_line_unwraps_groups_of_one() -> None:
    error = ExceptionGroup("watcher", [RuntimeError("cannot decode two\nlines")])
    assert exception_line(error) == "RuntimeError: cannot decode two\\nlines"

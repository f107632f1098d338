"""A folder input with companions (the Klippel header beside its folder), in the framework.

``FolderConverter.companions`` makes ``run.txt`` part of the input ``run/``: listed when either
is there, settled, checked, hashed, moved, zipped, deleted and sent to Error together.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from pywats_station.actors._watching import ListingRules, list_inputs
from pywats_station.converters._intake import InputPolicy, InputRefused, NotAnInput, check_input
from pywats_station.converters._sources import content_key, is_kept, post_process, to_error
from pywats_station.converters.api import companion_owner, companion_paths
from pywats_station.converters.builtin.klippel import KlippelConverter
from pywats_station.converters.sandbox import describe

NAME = "DUT xyz115 2020-05-14 10-01-37-5 UTC+0200"  # as Klippel QC names them: spaces


def policy(root: Path, *, limit: int = 10**6, follow: bool = False) -> InputPolicy:
    return InputPolicy(
        root=root.resolve(),
        folders=True,
        follow_symlinks=follow,
        max_size=limit,
        companions=(".txt",),
    )


def rules(root: Path, **options: object) -> ListingRules:
    return ListingRules(policy=policy(root), patterns=["*"], min_files=1, **options)  # type: ignore[arg-type]


def pair(watch: Path, name: str = NAME, *, header: bool = True, files: int = 2) -> Path:
    folder = watch / name
    if files >= 0:
        folder.mkdir()
        for n in range(files):
            (folder / f"Curve-{n}.txt").write_text(f"frq\tc{n}\n1\t{n}\n", encoding="utf-8")
    if header:
        (watch / f"{name}.txt").write_text("Cfg_SerialNumber=1\n", encoding="utf-8")
    return folder


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_the_description_carries_the_companions() -> None:
    assert describe(KlippelConverter).companions == [".txt"]


def test_companions_are_found_by_name_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    assert companion_paths(tmp_path / "run", (".txt",)) == []
    (tmp_path / "RUN.TXT").write_text("x")
    assert companion_paths(tmp_path / "run", (".txt",)) == [tmp_path / "RUN.TXT"]
    (tmp_path / "run.txt").write_text("x")
    assert companion_paths(tmp_path / "run", (".txt",)) == [tmp_path / "run.txt"]
    assert companion_owner("run.TXT", (".txt",)) == "run"
    assert companion_owner(".txt", (".txt",)) is None  # a hidden name, owner of nothing
    assert companion_owner("run.csv", (".txt",)) is None


def test_the_pair_is_one_input_listed_when_either_part_is_there(tmp_path: Path) -> None:
    watch = tmp_path / "watch"
    watch.mkdir()
    pair(watch, "both")
    pair(watch, "header-only", files=-1)  # the folder is not there yet
    pair(watch, "folder-only", header=False)  # counts: it holds a file (min_files 1)
    pair(watch, "empty", header=False, files=0)  # not ready and no header: not an input
    (watch / "plain").write_text("x")  # a file named like a folder: not one
    (watch / "plain.txt").write_text("x")
    inputs, refused = list_inputs(watch, set(), rules(watch))
    assert sorted(p.name for p, _ in inputs) == ["both", "folder-only", "header-only"]
    assert refused == {}
    states = {p.name: s for p, s in inputs}
    header = (watch / "both.txt").stat().st_size
    curves = sum(f.stat().st_size for f in (watch / "both").iterdir())
    assert states["both"].size == header + curves
    # The header changing changes the pair's state: the pair settles as a whole.
    (watch / "both.txt").write_text("Cfg_SerialNumber=12345\n", encoding="utf-8")
    again = {p.name: s for p, s in list_inputs(watch, set(), rules(watch))[0]}
    assert again["both"] != states["both"]


@pytest.mark.skipif(os.name != "posix", reason="FIFOs")
def test_a_companion_that_is_not_a_file_is_refused_by_name(tmp_path: Path) -> None:
    pair(tmp_path, "run", header=False)
    os.mkfifo(tmp_path / "run.txt")
    inputs, refused = list_inputs(tmp_path, set(), rules(tmp_path))
    assert inputs == []
    assert refused == {
        tmp_path / "run": "has run.txt beside it, which is a FIFO (named pipe), not a file"
    }
    with pytest.raises(NotAnInput, match=r"run\.txt beside it"):
        check_input(tmp_path / "run", policy(tmp_path))


def test_check_counts_both_parts_and_allows_one_missing(tmp_path: Path) -> None:
    folder = pair(tmp_path)
    total = (tmp_path / f"{NAME}.txt").stat().st_size + sum(
        f.stat().st_size for f in folder.iterdir()
    )
    assert check_input(folder, policy(tmp_path)).size == total
    with pytest.raises(InputRefused, match="it and its companions together are"):
        check_input(folder, policy(tmp_path, limit=total - 1))
    lone = pair(tmp_path, "lone", files=-1)
    assert check_input(lone, policy(tmp_path)).size == (tmp_path / "lone.txt").stat().st_size
    with pytest.raises(FileNotFoundError):
        check_input(tmp_path / "nothing", policy(tmp_path))


def test_the_id_digest_covers_the_header(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    a, b = pair(one, "a"), pair(two, "b")  # same content, other names: same key
    assert content_key(a, policy(one)) == content_key(b, policy(two))
    (two / "b.txt").write_text("Cfg_SerialNumber=2\n", encoding="utf-8")
    assert content_key(a, policy(one)) != content_key(b, policy(two))


def test_move_takes_both_and_keeps_them_paired_on_a_clash(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    folder = pair(tmp_path)
    state = check_input(folder, policy(tmp_path))
    assert post_process("move", folder, done, state, policy(tmp_path)) == done / NAME
    assert names(done) == [NAME, f"{NAME}.txt"]
    assert names(done / NAME) == ["Curve-0.txt", "Curve-1.txt"]
    assert names(tmp_path) == ["Done"]
    # The same run again: both parts get the same time stamp, so they still pair.
    folder = pair(tmp_path)
    moved = post_process("move", folder, done, state, policy(tmp_path))
    assert moved is not None
    assert moved.name.startswith(f"{NAME}.")
    assert (done / f"{moved.name}.txt").is_file()
    assert len(names(done)) == 4


def test_zip_holds_both_and_delete_removes_both(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    folder = pair(tmp_path)
    state = check_input(folder, policy(tmp_path))
    archive = post_process("zip", folder, done, state, policy(tmp_path))
    assert archive == done / f"{NAME}.zip"
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == [
            f"{NAME}.txt",
            f"{NAME}/Curve-0.txt",
            f"{NAME}/Curve-1.txt",
        ]
    assert names(tmp_path) == ["Done"]
    folder = pair(tmp_path)
    assert post_process("delete", folder, done, state, policy(tmp_path)) is None
    assert names(tmp_path) == ["Done"]


def test_keep_marks_the_pair_and_a_changed_header_is_new(tmp_path: Path) -> None:
    done = tmp_path / "Done"
    folder = pair(tmp_path)
    state = check_input(folder, policy(tmp_path))
    post_process("keep", folder, done, state, policy(tmp_path))
    assert names(tmp_path) == sorted(["Done", NAME, f"{NAME}.txt"])
    assert is_kept(done, folder, state)
    assert list_inputs(tmp_path, {done.resolve()}, rules(tmp_path, kept_in=done))[0] == []
    (tmp_path / f"{NAME}.txt").write_text("Cfg_SerialNumber=other\n", encoding="utf-8")
    listed = list_inputs(tmp_path, {done.resolve()}, rules(tmp_path, kept_in=done))[0]
    assert [p.name for p, _ in listed] == [NAME]


def test_error_takes_both_with_the_reason_beside_them(tmp_path: Path) -> None:
    error = tmp_path / "Error"
    folder = pair(tmp_path)
    target = to_error(folder, error, converter="klippel", reason="bad", policy=policy(tmp_path))
    assert target == error / NAME
    assert names(error) == [NAME, f"{NAME}.error.txt", f"{NAME}.txt"]
    note = (error / f"{NAME}.error.txt").read_text(encoding="utf-8")
    assert "reason: bad" in note
    # A header alone goes too, its note beside it.
    lone = pair(tmp_path, "lone", files=-1)
    to_error(lone, error, converter="klippel", reason="no folder", policy=policy(tmp_path))
    assert {"lone.txt", "lone.error.txt"} <= set(names(error))
    assert "lone" not in names(error)
    assert names(tmp_path) == ["Error"]

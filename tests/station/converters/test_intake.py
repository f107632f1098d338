"""What a watch folder holds and what the station reads of it: links, special files, sizes, names.

The actor's side (one log line per path, inputs to Error) runs in the real daemon in
``tests/station/e2e/test_hostile_inputs.py``; here are the blocking functions it calls.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pywats_station.converters._intake import (
    InputPolicy,
    InputRefused,
    NotAnInput,
    SourceState,
    check_input,
    inspect,
    open_regular,
    release_fifo,
)
from pywats_station.converters._sources import (
    NAME_MAX,
    content_key,
    fit_name,
    is_kept,
    post_process,
    to_error,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="links, FIFOs and byte names: POSIX")

BAD_NAME = os.fsdecode(b"bad\xff\xfename.json")


def policy(
    root: Path, *, folders: bool = False, follow: bool = False, limit: int = 10**6
) -> InputPolicy:
    return InputPolicy(root=root.resolve(), folders=folders, follow_symlinks=follow, max_size=limit)


@pytest.fixture
def watch(tmp_path: Path) -> Path:
    folder = tmp_path / "watch"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": true}', encoding="utf-8")
    return secret


# --- links --------------------------------------------------------------------------------------


def test_links_are_not_inputs_unless_allowed(watch: Path, outside: Path) -> None:
    (watch / "real.json").write_text("{}", encoding="utf-8")
    (watch / "inside.json").symlink_to(watch / "real.json")
    (watch / "outside.json").symlink_to(outside)
    strict = policy(watch)
    with pytest.raises(NotAnInput, match="symbolic link; links are not followed"):
        inspect(watch / "inside.json", strict)
    with pytest.raises(NotAnInput, match="symbolic link"):
        check_input(watch / "inside.json", strict)
    with pytest.raises(NotAnInput, match="symbolic link"):
        content_key(watch / "inside.json", strict)

    allowed = policy(watch, follow=True)
    found = inspect(watch / "inside.json", allowed)
    assert found is not None
    assert found[0] == (watch / "real.json").resolve()
    assert check_input(watch / "inside.json", allowed).size == 2
    assert content_key(watch / "inside.json", allowed) == content_key(watch / "real.json", strict)
    for check in (inspect, check_input, content_key):
        with pytest.raises(NotAnInput, match="outside the watch folder"):
            check(watch / "outside.json", allowed)


def test_dangling_and_looping_links_say_so(watch: Path) -> None:
    (watch / "gone.json").symlink_to(watch / "nothing-here")
    (watch / "loop.json").symlink_to(watch / "loop.json")
    allowed = policy(watch, follow=True)
    with pytest.raises(NotAnInput, match="dangling symbolic link: it points to nothing"):
        inspect(watch / "gone.json", allowed)
    with pytest.raises(NotAnInput, match="dangling symbolic link: it loops"):
        inspect(watch / "loop.json", allowed)


def test_a_link_swapped_in_after_the_listing_is_caught_when_opened(
    watch: Path, outside: Path
) -> None:
    path = watch / "unit.json"
    path.write_text("{}", encoding="utf-8")
    assert inspect(path, policy(watch)) is not None  # listed as a file
    path.unlink()
    path.symlink_to(outside)  # ... and replaced before it is read
    with pytest.raises(NotAnInput, match="symbolic link"):
        open_regular(path)


# --- special files ------------------------------------------------------------------------------


def test_special_files_and_folders_are_not_file_inputs(watch: Path) -> None:
    os.mkfifo(watch / "pipe.json")
    (watch / "folder.json").mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(watch / "sock.json"))
        strict = policy(watch)
        with pytest.raises(NotAnInput, match=r"is a FIFO \(named pipe\), not a file"):
            inspect(watch / "pipe.json", strict)
        with pytest.raises(NotAnInput, match="is a socket, not a file"):
            inspect(watch / "sock.json", strict)
        with pytest.raises(NotAnInput, match="is a folder, not a file"):
            inspect(watch / "folder.json", strict)
    with pytest.raises(NotAnInput, match="is a character device, not a file"):
        open_regular(Path("/dev/null"))


def test_opening_a_fifo_never_waits_for_a_writer(watch: Path) -> None:
    fifo = watch / "x.json"
    os.mkfifo(fifo)
    # A blocking open would wait here for ever; this one returns and refuses it.
    with pytest.raises(NotAnInput, match="FIFO"):
        check_input(fifo, policy(watch))
    with pytest.raises(NotAnInput, match="FIFO"):
        content_key(fifo, policy(watch))


def test_a_reader_waiting_on_a_fifo_is_released(watch: Path) -> None:
    fifo = watch / "x.json"
    os.mkfifo(fifo)
    read: list[bytes] = []
    # What a converter does with a name that became a FIFO after it was checked.
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    while reader.is_alive() and not release_fifo(fifo):
        time.sleep(0.01)  # until the reader is inside open(): before that nobody is released
    reader.join(30)
    assert not reader.is_alive()
    assert read == [b""]  # end of file: the conversion fails instead of hanging
    assert release_fifo(watch) is False  # not a FIFO: nothing done
    assert release_fifo(watch / "nothing") is False


# --- sizes --------------------------------------------------------------------------------------


def test_an_input_over_the_limit_is_refused_unread(watch: Path) -> None:
    big = watch / "big.json"
    with open(big, "wb") as handle:
        handle.truncate(2 * 10**9)  # sparse: 2 GB that take no room
    with pytest.raises(InputRefused) as refused:
        check_input(big, policy(watch, limit=100 * 10**6))
    message = str(refused.value)
    assert "it is 2.0 GB (2000000000 bytes)" in message
    assert "max_file_size of 100 MB" in message
    small = watch / "small.json"
    small.write_bytes(b"x" * 100)
    assert check_input(small, policy(watch, limit=100)) == SourceState(
        100, small.stat().st_mtime_ns
    )


def test_folder_inputs_count_all_their_files_and_refuse_links_and_fifos(
    watch: Path, outside: Path
) -> None:
    run = watch / "RUN-1"
    (run / "curves").mkdir(parents=True)
    (run / "a.txt").write_bytes(b"a" * 600)
    (run / "curves" / "b.txt").write_bytes(b"b" * 600)
    folders = policy(watch, folders=True, limit=1000)
    with pytest.raises(InputRefused, match=r"its files together are 1.2 kB \(1200 bytes\)"):
        check_input(run, folders)
    assert check_input(run, policy(watch, folders=True, limit=1200)).size == 1200

    (run / "leak.txt").symlink_to(outside)
    with pytest.raises(InputRefused, match=r"holds leak\.txt, which is a symbolic link"):
        check_input(run, policy(watch, folders=True))
    with pytest.raises(InputRefused, match="outside the watch folder"):
        check_input(run, policy(watch, folders=True, follow=True))
    (run / "leak.txt").unlink()
    os.mkfifo(run / "curves" / "pipe")
    with pytest.raises(InputRefused, match=r"holds curves/pipe, which is a FIFO"):
        check_input(run, policy(watch, folders=True))


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [BAD_NAME, "two\nlines.json", "--x.json", "  lead.json", "é" * 120 + ".json"]
)
def test_any_name_goes_to_error_with_its_exact_bytes_and_a_safe_note(
    watch: Path, name: str
) -> None:
    source = watch / name
    source.write_bytes(b"{}")
    error = watch / "Error"
    moved = to_error(source, error, converter="wsjf", reason="invalid\nconverter: forged")
    assert os.fsencode(moved.name) == os.fsencode(name)
    assert moved.read_bytes() == b"{}"
    note = (error / fit_name(name, ".error.txt")).read_text(encoding="utf-8")
    lines = note.splitlines()
    assert [line.split(":")[0] for line in lines] == ["converter", "source", "time", "reason"]
    assert lines[3] == "reason: invalid\\nconverter: forged"
    # A second one of the same name gets a time stamp, and still fits.
    source.write_bytes(b"{}")
    again = to_error(source, error, converter="wsjf", reason="again")
    assert again != moved
    assert again.exists()


def test_a_name_at_the_length_limit_still_gets_its_note_and_variants(watch: Path) -> None:
    name = "é" * 125 + ".json"  # 255 bytes in UTF-8
    assert len(os.fsencode(name)) == NAME_MAX
    fitted = fit_name(name, ".error.txt")
    assert len(os.fsencode(fitted)) <= NAME_MAX
    assert fitted.endswith(".error.txt")
    fitted.encode("utf-8")  # no character cut in half
    assert fit_name(name, ".error.txt") != fit_name("é" * 124 + "x.json", ".error.txt")
    source = watch / name
    source.write_bytes(b"{}")
    moved = to_error(source, watch / "Error", converter="c", reason="r")
    assert (watch / "Error" / fitted).exists()
    assert moved.name == name


def test_content_key_and_zip_take_folder_inputs_with_any_names(watch: Path) -> None:
    run = watch / BAD_NAME.replace(".json", "")
    run.mkdir()
    (run / BAD_NAME).write_bytes(b"one")
    (run / "two\nlines.txt").write_bytes(b"two")
    os.utime(run / BAD_NAME, (0, 0))  # a tester whose clock was never set: 1970
    folders = policy(watch, folders=True)
    key = content_key(run, folders)
    assert key == content_key(run, folders)
    done = watch / "Done"
    state = check_input(run, folders)
    archive = post_process("zip", run, done, state, folders)
    assert archive is not None
    assert not run.exists()
    assert os.fsencode(archive.name) == os.fsencode(run.name) + b".zip"
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        assert names == [
            "bad\\xff\\xfename/bad\\xff\\xfename.json",
            "bad\\xff\\xfename/two\\nlines.txt",
        ]
        assert opened.read(names[0]) == b"one"
        assert opened.getinfo(names[0]).date_time[0] == 1980


def test_keep_marker_is_never_read_from_a_fifo(watch: Path) -> None:
    source = watch / "unit.json"
    source.write_bytes(b"{}")
    state = SourceState(2, source.stat().st_mtime_ns)
    done = watch / "Done"
    post_process("keep", source, done, state, policy(watch))
    assert is_kept(done, source, state)
    marker = done / ".kept" / "unit.json.converted"
    marker.unlink()
    os.mkfifo(marker)  # someone writing to the watch folder puts a FIFO in its place
    assert not is_kept(done, source, state)  # answered at once, not after a writer comes

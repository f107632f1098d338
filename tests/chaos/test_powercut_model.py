"""The power-cut model itself: only what was fsynced survives the roll-back (no daemon here)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.chaos._powercut import Baseline, journal_env, roll_back

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="the journal reads /proc/self/fd (Linux)"
)

# A process with the journal installed doing what the daemon does, durably or not.
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pywats_station._fsjournal import install_from_env
    assert install_from_env()
    root = sys.argv[1]

    def write(name, data, sync):
        fd = os.open(os.path.join(root, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        if sync:
            os.fsync(fd)
        os.close(fd)

    def sync_dir(path):
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    write("durable", b"kept", sync=True)
    write("unsynced-data", b"lost", sync=False)
    write("tmp", b"renamed", sync=True)
    os.rename(os.path.join(root, "tmp"), os.path.join(root, "entry"))
    os.mkdir(os.path.join(root, "sub"))
    sync_dir(root)  # everything above: names durable
    write("late", b"late", sync=True)  # its name never flushed
    os.unlink(os.path.join(root, "old"))  # nor this unlink
    os.rename(os.path.join(root, "moved"), os.path.join(root, "sub", "moved"))
    sync_dir(os.path.join(root, "sub"))  # the new name is durable, the old one too
    with open(os.path.join(root, "durable"), "r+b") as handle:
        handle.write(b"KEPT")  # overwritten, never fsynced again
    os.kill(os.getpid(), 9)
    """
)


def test_only_what_was_fsynced_survives(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "old").write_bytes(b"old")
    (root / "moved").write_bytes(b"moved")
    journal = tmp_path / "journal"
    journal.mkdir()
    base = Baseline.take([root])
    env = {**os.environ, **journal_env(journal, [root])}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], env=env, timeout=30, check=False
    )
    assert done.returncode == -9
    assert (root / "late").exists()  # before the cut: what the process saw
    undone = roll_back(base, journal)
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert names == [
        "durable",
        "entry",
        "moved",  # the rename's old name: its folder was never flushed after it
        "old",  # unlinked, not flushed: back
        "sub",
        "sub/moved",
        "unsynced-data",  # the name was flushed, the data never was
    ]
    assert (root / "durable").read_bytes() == b"kept"
    assert (root / "entry").read_bytes() == b"renamed"
    assert (root / "unsynced-data").read_bytes() == b""
    assert (root / "sub" / "moved").read_bytes() == b"moved"
    assert (root / "old").read_bytes() == b"old"
    assert undone.entries_dropped == 1  # "late"
    assert undone.entries_revived == 2  # "old", "moved"
    assert undone.files_changed == 2  # "durable" (KEPT -> kept), "unsynced-data" (lost -> empty)
    assert list(journal.iterdir()) == []  # cleared for the next round


def test_without_the_variable_nothing_is_installed() -> None:
    code = "from pywats_station._fsjournal import install_from_env; print(install_from_env())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWATS_STATION_FS")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"

"""Hostile watch folders in the real daemon: odd names, links, FIFOs, huge files jam nothing.

Anyone who can write to a watch folder chooses the names, the kinds of file and their sizes.
Each case here must fail alone (or be refused, said once) while the files beside it flow, and
the converter actor must never be restarted for it.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.actors._folder_claim import CLAIM_FILE
from tests.station.e2e.harness import Station, emulator, make_report, server_ids, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.name != "posix", reason="byte names, links and FIFOs: POSIX"),
]

BAD = b"bad\xff\xfename.json"  # not UTF-8
BAD_SHOWN = "bad\\xff\\xfename.json"  # how the station shows it


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


def converter(name: str, kind: str, watch: Path, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "{kind}"
        watch = "{watch}"
        settle = 0.2
        """
    ) + textwrap.dedent(extra)


def node(tree: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The supervision tree node called ``name`` (status file), searched depth first."""
    if tree.get("name") == name:
        return tree
    for child in tree.get("children", []):
        found = node(child, name)
        if found is not None:
            return found
    return None


def restarts(station: Station, name: str) -> int:
    found = node(station.status()["tree"], f"converter:{name}")
    assert found is not None, f"no actor converter:{name}"
    return int(found["restarts"])


def stats(station: Station, name: str) -> dict[str, Any]:
    by_name = {c["name"]: c for c in station.status()["converters"]}
    return by_name[name]  # type: ignore[no-any-return]


def log_lines(station: Station, needle: str) -> list[str]:
    return [line for line in station.log_text().splitlines() if needle in line]


def byte_names(folder: Path) -> list[bytes]:
    return sorted(os.listdir(os.fsencode(folder))) if folder.is_dir() else []


def drop_and_wait(server: EmulatorProcess, folder: Path, n: int) -> None:
    """Drop a valid report and wait for its upload: one more scan of ``folder`` has happened."""
    report_id, data = make_report(n)
    (folder / f"probe-{n}.json").write_bytes(data)
    wait_for(lambda: report_id in server_ids(server), timeout=60, what=f"probe {n}")


def test_a_file_name_that_is_not_utf8_jams_nothing(tmp_path: Path, server: EmulatorProcess) -> None:
    inbox, zipped = tmp_path / "in", tmp_path / "zipped"
    inbox.mkdir()
    zipped.mkdir()
    station = Station(tmp_path / "home", server)
    station.write_config(
        converter("wsjf", "wsjf", inbox)
        + converter("zipped", "wsjf", zipped, 'post_action = "zip"\n')
    )
    bad_id, bad = make_report(0)
    bad_path = os.path.join(os.fsencode(inbox), BAD)
    with open(bad_path, "wb") as handle:
        handle.write(bad)
    os.utime(bad_path, (1, 1))  # the oldest: it is handled first, ahead of the valid files
    good = [make_report(n) for n in range(1, 6)]
    for n, (_, data) in enumerate(good):
        (inbox / f"good-{n}.json").write_bytes(data)
    # A zip cannot hold times before 1980: a tester whose clock was never set, a bad name too.
    old_id, old = make_report(9)
    old_path = os.path.join(os.fsencode(zipped), BAD)
    with open(old_path, "wb") as handle:
        handle.write(old)
    os.utime(old_path, (0, 0))
    station.start()
    try:
        wanted = {rid for rid, _ in good} | {bad_id, old_id}
        wait_for(lambda: wanted <= set(server_ids(server)), timeout=60, what="every report")
        # One dropped while the daemon watches (the file watcher cannot decode its name), and
        # a valid one right behind it.
        late_id, late = make_report(20)
        with open(os.path.join(os.fsencode(inbox), b"late\xff.json"), "wb") as handle:
            handle.write(late)
        next_id, after = make_report(21)
        (inbox / "after.json").write_bytes(after)
        wanted |= {late_id, next_id}
        wait_for(lambda: wanted <= set(server_ids(server)), timeout=60, what="the late ones")
        # Converted like any other file: it keeps its exact name in Done.
        assert byte_names(inbox / "Done") == sorted(
            [BAD, b"late\xff.json", b"after.json", *(f"good-{n}.json".encode() for n in range(5))]
        )
        assert byte_names(zipped / "Done") == [BAD + b".zip"]
        # Nothing else left behind; the claim file is the running converter's own.
        assert byte_names(inbox) == [CLAIM_FILE.encode(), b"Done", b"Error"]
        assert byte_names(inbox / "Error") == []
        assert restarts(station, "wsjf") == 0
        assert restarts(station, "zipped") == 0
        assert log_lines(station, f"{BAD_SHOWN} converted: 1 report(s) queued")
        wait_for(lambda: stats(station, "wsjf")["converted"] == 8, what="the status file")
        assert stats(station, "wsjf")["failed"] == 0
        assert station.running()
    finally:
        assert station.stop() == 0


def test_symbolic_links_are_followed_only_when_allowed_and_never_out(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    strict, follow, outside = tmp_path / "strict", tmp_path / "follow", tmp_path / "outside"
    for folder in (strict / "store", follow / "store", outside):
        folder.mkdir(parents=True)
    reports = {name: make_report(n) for n, name in enumerate(["a", "b", "c", "d", "e"])}
    (outside / "a.json").write_bytes(reports["a"][1])  # a secret, as far as the station knows
    (outside / "d.json").write_bytes(reports["d"][1])
    (strict / "store" / "e.json").write_bytes(reports["e"][1])
    (follow / "store" / "b.json").write_bytes(reports["b"][1])
    (strict / "outside.json").symlink_to(outside / "a.json")
    (strict / "inside.json").symlink_to(strict / "store" / "e.json")
    (strict / "plain.json").write_bytes(reports["c"][1])
    (follow / "inside.json").symlink_to(Path("store") / "b.json")
    (follow / "outside.json").symlink_to(outside / "d.json")
    (follow / "dangling.json").symlink_to(follow / "nothing-here.json")
    station = Station(tmp_path / "home", server)
    station.write_config(
        converter("strict", "wsjf", strict)
        + converter("follow", "wsjf", follow, "follow_symlinks = true\n")
    )
    station.start()
    try:
        wanted = {reports["b"][0], reports["c"][0]}
        wait_for(lambda: wanted <= set(server_ids(server)), timeout=60, what="b and c")
        for n in range(2):  # more scans of both folders: nothing is logged twice
            drop_and_wait(server, strict, 100 + n)
            drop_and_wait(server, follow, 200 + n)
        ids = set(server_ids(server))
        assert reports["a"][0] not in ids  # the link to a file outside: never read
        assert reports["d"][0] not in ids  # not even when links are allowed
        assert reports["e"][0] not in ids  # links are not followed by default
        assert (outside / "a.json").read_bytes() == reports["a"][1]
        assert (follow / "store" / "b.json").exists()  # the link went to Done, not its target
        assert (follow / "Done" / "inside.json").is_symlink()
        assert (strict / "outside.json").is_symlink()
        assert (
            len(
                log_lines(
                    station, "strict: outside.json is a symbolic link; links are not followed"
                )
            )
            == 1
        )
        assert len(log_lines(station, "strict: inside.json is a symbolic link")) == 1
        assert len(log_lines(station, "follow: outside.json is a symbolic link to")) == 1
        assert len(log_lines(station, "follow: dangling.json is a dangling symbolic link")) == 1
        assert "outside the watch folder" in log_lines(station, "follow: outside.json")[0]
        # The status file is written every few seconds: wait for the one after the probes.
        wait_for(lambda: stats(station, "follow")["reports"] == 3, what="the status file")
        assert stats(station, "strict")["refused"] == 2
        assert stats(station, "follow")["refused"] == 2
        assert restarts(station, "strict") == restarts(station, "follow") == 0
    finally:
        assert station.stop() == 0


def test_odd_names_fifos_and_folders_named_like_reports(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    os.mkfifo(inbox / "x.json")  # opening it the ordinary way would wait for ever
    (inbox / "folder.json").mkdir()
    named = {
        "two\nlines.json": make_report(1),
        "--x.json": make_report(2),
        "  lead.json": make_report(3),
    }
    named["\x1b[2Jclear.json"] = make_report(4)
    for name, (_, data) in named.items():
        (inbox / name).write_bytes(data)
    station = Station(tmp_path / "home", server)
    station.write_config(converter("wsjf", "wsjf", inbox))
    station.start()
    try:
        wanted = {rid for rid, _ in named.values()}
        wait_for(lambda: wanted <= set(server_ids(server)), timeout=60, what="the odd names")
        for n in range(3):
            drop_and_wait(server, inbox, 10 + n)
        log = station.log_text()
        # A newline in a name never starts a log line of its own.
        assert log_lines(station, "two\\nlines.json converted: 1 report(s) queued")
        assert not [line for line in log.splitlines() if line.startswith("lines.json")]
        assert log_lines(station, "\\x1b[2Jclear.json converted")
        assert "\x1b" not in log
        fifo = log_lines(station, "x.json is a FIFO (named pipe), not a file")
        assert len(fifo) == 1
        assert len(log_lines(station, "folder.json is a folder, not a file")) == 1
        assert (inbox / "x.json").exists()
        # The status file is written every few seconds: wait for the one after the probes.
        wait_for(lambda: stats(station, "wsjf")["reports"] == len(named) + 3, what="status")
        status = stats(station, "wsjf")
        assert status["refused"] == 2
        assert restarts(station, "wsjf") == 0
    finally:
        assert station.stop() == 0


RECORDER = """
import msgspec
from pywats import CompOp, ReportBuilder
from pywats_station.converters import Converted, FileConverter, Validation


class Recorder(FileConverter):
    name = "recorder"
    patterns = ("*.dat",)

    class Arguments(msgspec.Struct):
        record: str

    def _note(self, what, path, ctx):
        with open(ctx.arguments.record, "a", encoding="utf-8") as handle:
            handle.write(f"{what} {path.name}\\n")

    def validate(self, path, ctx):
        self._note("validate", path, ctx)
        return Validation(confidence=1.0)

    def convert(self, path, ctx):
        self._note("convert", path, ctx)
        b = ReportBuilder.uut(pn="REC", sn=path.read_text().strip(), rev="A", process_code=10,
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("Value", 1.0, CompOp.LOG)
        return Converted(reports=[b.build()])
"""


def test_an_oversized_file_goes_to_error_unread(tmp_path: Path, server: EmulatorProcess) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    record = tmp_path / "calls.txt"
    record.touch()
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "rec.py").write_text(RECORDER, encoding="utf-8")
    station.write_config(
        converter(
            "rec",
            "rec.py:Recorder",
            inbox,
            f'max_file_size = "1 MB"\n[converters.arguments]\nrecord = "{record}"\n',
        )
    )
    with open(inbox / "big.dat", "wb") as handle:
        handle.truncate(2 * 10**9)  # sparse: 2 GB the station must not read
    (inbox / "small.dat").write_text("SN-SMALL", encoding="utf-8")
    station.start()
    try:
        note = inbox / "Error" / "big.dat.error.txt"
        wait_for(note.exists, timeout=60, what="the big file in Error")
        wait_for(lambda: (inbox / "Done" / "small.dat").exists(), timeout=60, what="small.dat")
        reason = note.read_text(encoding="utf-8")
        assert (
            "reason: it is 2.0 GB (2000000000 bytes), over the converter's max_file_size of "
            "1 MB; not read"
        ) in reason
        assert (inbox / "Error" / "big.dat").stat().st_size == 2 * 10**9
        calls = record.read_text(encoding="utf-8").split("\n")
        assert "validate small.dat" in calls
        assert "convert small.dat" in calls
        assert not [call for call in calls if "big.dat" in call]  # the converter never saw it
        wait_for(lambda: stats(station, "rec")["last_error"] is not None, what="the status file")
        assert stats(station, "rec")["failed"] == 1
        assert "max_file_size" in stats(station, "rec")["last_error"]
        assert restarts(station, "rec") == 0
    finally:
        assert station.stop() == 0


FOLDER_RECORDER = """
import msgspec
from pywats import CompOp, ReportBuilder
from pywats_station.converters import Converted, FolderConverter, Validation


class Runs(FolderConverter):
    name = "runs"
    patterns = ("RUN-*",)
    ready_marker = "COMPLETE.marker"

    class Arguments(msgspec.Struct):
        record: str

    def _note(self, what, folder, ctx):
        with open(ctx.arguments.record, "a", encoding="utf-8") as handle:
            handle.write(f"{what} {folder.name}\\n")

    def validate(self, folder, ctx):
        self._note("validate", folder, ctx)
        return Validation(confidence=1.0)

    def convert(self, folder, ctx):
        self._note("convert", folder, ctx)
        b = ReportBuilder.uut(pn="RUN", sn=folder.name, rev="A", process_code=10,
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("Files", float(len(list(folder.iterdir()))), CompOp.LOG)
        return Converted(reports=[b.build()])
"""


def test_folder_inputs_are_checked_whole_before_they_are_read(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    runs, outside = tmp_path / "runs", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    record = tmp_path / "calls.txt"
    record.touch()
    station = Station(tmp_path / "home", server)
    station.config_dir.mkdir(parents=True)
    (station.config_dir / "runs.py").write_text(FOLDER_RECORDER, encoding="utf-8")
    station.write_config(
        converter(
            "runs",
            "runs.py:Runs",
            runs,
            'type = "folder"\nmax_file_size = "1 MB"\n'
            f'[converters.arguments]\nrecord = "{record}"\n',
        )
    )
    for name in ("RUN-big", "RUN-link", "RUN-fifo", "RUN-ok"):
        (runs / name / "curves").mkdir(parents=True)
        (runs / name / "a.txt").write_text("600", encoding="utf-8")
    with open(runs / "RUN-big" / "curves" / "huge.bin", "wb") as handle:
        handle.truncate(2 * 10**9)  # sparse: the folder's files together are 2 GB
    (runs / "RUN-link" / "leak.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(runs / "RUN-fifo" / "curves" / "pipe")  # reading it would wait for ever
    os.mkfifo(runs / "RUN-x")  # not a folder at all
    for name in ("RUN-big", "RUN-link", "RUN-fifo", "RUN-ok"):
        (runs / name / "COMPLETE.marker").touch()
    station.start()
    try:
        wait_for(lambda: (runs / "Done" / "RUN-ok").is_dir(), timeout=60, what="RUN-ok")
        notes = {
            name: runs / "Error" / f"{name}.error.txt"
            for name in ("RUN-big", "RUN-link", "RUN-fifo")
        }
        for name, note in notes.items():
            wait_for(note.exists, timeout=60, what=f"{name} in Error")
        reason = {name: note.read_text(encoding="utf-8") for name, note in notes.items()}
        assert (
            "reason: its files together are 2.0 GB (2000000003 bytes), over the converter's "
            "max_file_size of 1 MB; not read"
        ) in reason["RUN-big"]
        assert (
            "reason: holds leak.txt, which is a symbolic link; links are not followed"
            in (reason["RUN-link"])
        )
        assert "reason: holds curves/pipe, which is a FIFO (named pipe)" in reason["RUN-fifo"]
        calls = record.read_text(encoding="utf-8").split("\n")
        assert "convert RUN-ok" in calls
        assert [call for call in calls if call and not call.endswith("RUN-ok")] == []
        assert (outside / "secret.txt").read_text(encoding="utf-8") == "secret"
        assert len(log_lines(station, "RUN-x is a FIFO (named pipe), not a folder")) == 1
        assert restarts(station, "runs") == 0
    finally:
        assert station.stop() == 0

"""The queue folder: where each entry's files live, and the file operations on them.

Layout::

    <path>/
      queue.lock                       flock'd while open; holds the holder's pid
      next-seq                         high-water mark of seq, written on close (a hint only)
      entries/
        000000000/                     bucket = seq // 1000: no listing exceeds ~2000 names
          000000000001-<report id>.wsjf    payload: header line + WSJF bytes; immutable
          000000000001-<report id>.state   sidecar: state, attempts, errors; only once it failed
          .tmp-…                           a write in progress, or a crash's leftover
        000000001/ …
      corrupt/
        <name>                         an entry's file that failed its checks
        <name>.reason.txt              why, and when it was moved

Why buckets: the backlog is walked in name order (= seq order = FIFO), which needs a sorted
listing. One folder of 100,000 entries is a 100,000-string listing (~12 MB); buckets of 1000 keep
every listing small and let a walk start at any seq. Empty buckets are removed.

This module knows names and files but keeps no counts: ``_store.ReportQueue`` does.
"""

from __future__ import annotations

import bisect
import errno
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from pywats_station._failpoints import failpoint

from ._files import TEMP_PREFIX, ensure_dir, fsync_dir, unlink_if_exists, write_atomic
from ._format import (
    BUCKET_SIZE,
    PAYLOAD_SUFFIX,
    SEQ_DIGITS,
    SIDECAR_SUFFIX,
    bucket_name,
    encode_sidecar,
    parse_bucket,
    parse_stem,
    stem_of,
)
from ._state import Entry

__all__ = ["REASON_SUFFIX", "EntryFolder", "Ref"]

REASON_SUFFIX = ".reason.txt"

log = logging.getLogger("pywats_station.queue")


class Ref(NamedTuple):
    """Where one entry's payload is, as found by a walk (no file read yet)."""

    bdir: Path
    seq: int
    stem: str

    @property
    def report_id(self) -> str:
        """The report id part of the name."""
        return self.stem[self.stem.index("-") + 1 :]

    @property
    def payload(self) -> Path:
        """The payload file."""
        return self.bdir / (self.stem + PAYLOAD_SUFFIX)

    @property
    def sidecar(self) -> Path:
        """The sidecar file (which may not exist)."""
        return self.bdir / (self.stem + SIDECAR_SUFFIX)


class EntryFolder:
    """The ``entries/`` and ``corrupt/`` folders of one queue.

    Attributes:
        path: the queue folder.
        entries: where the live entries are, in buckets.
        corrupt: where corrupt entries are moved.
        fsync: whether changes are flushed to disk before the methods return.
    """

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.entries = path / "entries"
        self.corrupt = path / "corrupt"
        self.fsync = fsync
        # Hot paths (one read and one unlink per upload) build names as strings: a Path per
        # call costs more than the system call it names.
        self._entries_str = str(self.entries)

    def create(self) -> None:
        """Create the sub-folders if they are missing."""
        ensure_dir(self.entries, fsync=self.fsync)
        ensure_dir(self.corrupt, fsync=self.fsync)

    def clean_temp(self) -> int:
        """Delete temp files a crash left outside the buckets (the seq hint, reason files)."""
        removed = 0
        for folder in (self.path, self.corrupt):
            for name in os.listdir(folder):
                if name.startswith(TEMP_PREFIX) and unlink_if_exists(folder / name):
                    removed += 1
        return removed

    def ref(self, seq: int, report_id: str) -> Ref:
        """Where the entry ``seq`` of ``report_id`` lives (whether or not it exists)."""
        return Ref(self.entries / bucket_name(seq), seq, stem_of(seq, report_id))

    def payload_path(self, seq: int, report_id: str) -> str:
        """``ref(seq, report_id).payload`` as a string, without building Paths."""
        return f"{self._entries_str}/{bucket_name(seq)}/{stem_of(seq, report_id)}{PAYLOAD_SUFFIX}"

    def sidecar_path(self, seq: int, report_id: str) -> str:
        """``ref(seq, report_id).sidecar`` as a string, without building Paths."""
        return f"{self._entries_str}/{bucket_name(seq)}/{stem_of(seq, report_id)}{SIDECAR_SUFFIX}"

    # -- walking ------------------------------------------------------------------------------

    def buckets(self, first_seq: int = 0) -> list[tuple[int, Path]]:
        """The bucket folders that may hold seqs >= ``first_seq``, in order."""
        first = first_seq // BUCKET_SIZE
        found = []
        for name in os.listdir(self.entries):
            bucket = parse_bucket(name)
            if bucket is not None and bucket >= first:
                found.append((bucket, self.entries / name))
        found.sort()
        return found

    def walk(self, first_seq: int = 0) -> Iterator[Ref]:
        """Every payload with seq >= ``first_seq``, in FIFO order, one bucket listed at a time.

        Files may vanish while the caller goes on (each listing is a snapshot).
        """
        for _, bdir in self.buckets(first_seq):
            yield from self.walk_bucket(bdir, first_seq)

    def walk_bucket(self, bdir: Path, first_seq: int = 0) -> Iterator[Ref]:
        """The payloads of one bucket with seq >= ``first_seq``, in FIFO order."""
        try:
            names = os.listdir(bdir)
        except FileNotFoundError:  # pruned meanwhile, or never created
            return
        stems = sorted(n[: -len(PAYLOAD_SUFFIX)] for n in names if n.endswith(PAYLOAD_SUFFIX))
        # Stems start with the zero-padded seq, so name order is seq order: skip to first_seq
        # without parsing the names before it (the uploader walks from its floor every claim).
        start = bisect.bisect_left(stems, f"{first_seq:0{SEQ_DIGITS}d}") if first_seq > 0 else 0
        for stem in stems[start:]:
            parsed = parse_stem(stem)
            if parsed is not None and parsed[0] >= first_seq:
                yield Ref(bdir, parsed[0], stem)

    # -- writing and removing -----------------------------------------------------------------

    def write_payload(self, ref: Ref, chunks: Iterable[bytes]) -> None:
        """Create an entry's payload file durably (its bucket too, if needed)."""
        ensure_dir(ref.bdir, fsync=self.fsync)
        write_atomic(ref.payload, chunks, fsync=self.fsync)

    def write_sidecar(self, entry: Entry) -> None:
        """Replace an entry's sidecar atomically and durably."""
        ref = self.ref(entry.seq, entry.report_id)
        write_atomic(ref.sidecar, [encode_sidecar(entry)], fsync=self.fsync)

    def remove(
        self, ref: Ref, *, size: int | None = None, sidecar: bool = True, durable: bool = True
    ) -> int | None:
        """Delete an entry: payload first, so a payload never survives without its state.

        Args:
            ref: the entry.
            size: the payload's size, when the caller knows it (no ``stat`` then).
            sidecar: ``False`` when the caller knows there is none (no probe for it).
            durable: ``False`` skips the directory fsync (for uploads, whose resurrection is
                harmless); purges stay durable.

        Returns:
            The payload's size, or ``None`` if it was already gone.
        """
        path = self.payload_path(ref.seq, ref.report_id)  # a string: this runs per upload
        try:
            if size is None:
                size = os.stat(path).st_size
            os.unlink(path)
        except FileNotFoundError:
            size = None
        failpoint("queue.remove.after_unlink")
        if sidecar:  # an orphan left by a crash here is removed on open
            unlink_if_exists(self.sidecar_path(ref.seq, ref.report_id))
        if self.fsync and durable:
            fsync_dir(ref.bdir)
        return size

    def prune(self, bdir: Path) -> None:
        """Remove a bucket folder if it is empty, so that walks and open skip it."""
        try:
            os.rmdir(bdir)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise

    def clean_bucket(self, bdir: Path) -> tuple[list[Ref], int]:
        """Delete temp files and orphan sidecars of a bucket; return its payloads, FIFO order.

        Only safe while no write is in progress in that bucket (the caller holds the lock).

        Returns:
            The payloads, and how many files were deleted.
        """
        try:
            names = os.listdir(bdir)
        except FileNotFoundError:
            return [], 0
        stems = {n[: -len(PAYLOAD_SUFFIX)] for n in names if n.endswith(PAYLOAD_SUFFIX)}
        removed = 0
        for name in names:
            orphan = name.endswith(SIDECAR_SUFFIX) and name[: -len(SIDECAR_SUFFIX)] not in stems
            if (name.startswith(TEMP_PREFIX) or orphan) and unlink_if_exists(bdir / name):
                removed += 1
        if removed and self.fsync:
            fsync_dir(bdir)
        return _sorted_refs(bdir, stems), removed

    def read_seq_hint(self) -> int:
        """The seq high-water mark written by the last ``close`` (1 if none)."""
        try:
            return max(int((self.path / "next-seq").read_text(encoding="ascii")), 1)
        except (OSError, ValueError):
            return 1

    def write_seq_hint(self, next_seq: int) -> None:
        """Record the next seq, so that seqs keep growing even after the queue ran empty.

        Only a hint: after a crash, the scan of the remaining entries suffices for FIFO order.
        """
        try:
            write_atomic(self.path / "next-seq", [f"{next_seq}\n".encode()], fsync=self.fsync)
        except OSError:
            log.warning("could not write %s", self.path / "next-seq", exc_info=True)

    # -- corruption ---------------------------------------------------------------------------

    def move_aside(self, ref: Ref, reason: str) -> int | None:
        """Move an entry's payload (with its sidecar) to ``corrupt/`` with a reason file.

        Returns:
            The payload's size, or ``None`` if it was already gone.
        """
        if ref.sidecar.exists():  # no reason file of its own: it goes with its payload
            os.rename(ref.sidecar, self._free_name(ref.sidecar.name))
        try:
            size = os.stat(ref.payload).st_size
        except FileNotFoundError:
            if self.fsync:
                fsync_dir(ref.bdir)
                fsync_dir(self.corrupt)
            return None
        self.move_file_aside(ref.payload, reason)
        return size

    def move_file_aside(self, src: Path, reason: str) -> None:
        """Move one file to ``corrupt/`` and write ``<name>.reason.txt`` beside it."""
        dst = self._free_name(src.name)
        os.rename(src, dst)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        reason_file = dst.with_name(dst.name + REASON_SUFFIX)
        # Also flushes corrupt/, which makes the rename into it durable.
        write_atomic(reason_file, [f"{stamp} {src}\n{reason}\n".encode()], fsync=self.fsync)
        if self.fsync:
            fsync_dir(src.parent)

    def scan_corrupt(self) -> tuple[int, int]:
        """How many entries were moved aside (reason files), and the highest seq among them."""
        count = max_seq = 0
        with os.scandir(self.corrupt) as it:
            for de in it:
                name = de.name
                if name.endswith(REASON_SUFFIX):
                    count += 1
                elif name[:12].isdigit() and name[12:13] == "-":
                    max_seq = max(max_seq, int(name[:12]))
        return count, max_seq

    def _free_name(self, name: str) -> Path:
        """A name in ``corrupt/`` not taken yet (the same entry may go bad twice)."""
        candidate = self.corrupt / name
        n = 1
        while candidate.exists():
            candidate = self.corrupt / f"{name}.{n}"
            n += 1
        return candidate


def _sorted_refs(bdir: Path, stems: Iterable[str]) -> list[Ref]:
    """The refs of valid entry names among ``stems``, in FIFO order."""
    refs = []
    for stem in sorted(stems):
        parsed = parse_stem(stem)
        if parsed is not None:
            refs.append(Ref(bdir, parsed[0], stem))
    return refs

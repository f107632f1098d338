"""What opening a queue does: count the entries and clean up after whatever crash came before.

The scan reads names and sizes (``scandir`` + ``stat``) of every entry but the contents only of
the few that have a sidecar, and builds no object per entry: counts, bytes and the highest seq.

Crash leftovers and what they mean:

=============================  ================================================================
found                          meaning and action
=============================  ================================================================
``.tmp-*`` file                a write that never returned (``put`` or a sidecar update): delete
sidecar without payload        the entry was being removed (payload goes first): delete
payload without sidecar        never failed, or a crash before its first sidecar: QUEUED
sidecar saying ``uploading``   not written by this version; be defensive: QUEUED
unreadable sidecar             moved to ``corrupt/``; the intact payload stays QUEUED
unreadable payload header      the entry is moved to ``corrupt/`` (lazily, for most entries:
                               a header is checked when the entry is next read)
=============================  ================================================================
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._files import TEMP_PREFIX, fsync_dir, unlink_if_exists
from ._folder import EntryFolder, Ref
from ._format import (
    PAYLOAD_SUFFIX,
    SIDECAR_SUFFIX,
    BadEntry,
    bucket_name,
    decode_sidecar,
    entry_from,
    parse_stem,
    read_header,
)
from ._state import Entry, EntryState, recovered

__all__ = ["Scan", "scan"]

log = logging.getLogger("pywats_station.queue")


@dataclass
class Scan:
    """What a queue folder holds, as found on open.

    Attributes:
        max_seq: the highest seq in use, corrupt entries included (0 if none).
        bytes: the sum of payload file sizes.
        counts: entries per state (UPLOADING is always 0).
        held: the entries that have a sidecar, with their state, by seq.
        cleaned: temp files and orphan sidecars deleted.
        per_bucket: payloads per bucket number (buckets without any are left out).
    """

    max_seq: int = 0
    bytes: int = 0
    counts: dict[EntryState, int] = field(default_factory=lambda: dict.fromkeys(EntryState, 0))
    held: dict[int, Entry] = field(default_factory=dict)
    cleaned: int = 0
    per_bucket: dict[int, int] = field(default_factory=dict)


def scan(folder: EntryFolder) -> Scan:
    """Count the queue in ``folder`` and clean up crash leftovers (see the module docstring)."""
    found = Scan()
    found.cleaned += folder.clean_temp()
    for bucket, bdir in folder.buckets():
        _scan_bucket(folder, bucket, bdir, found)
    _, corrupt_max = folder.scan_corrupt()
    found.max_seq = max(found.max_seq, corrupt_max)  # never reuse a corrupt entry's seq
    return found


def _scan_bucket(folder: EntryFolder, bucket: int, bdir: Path, found: Scan) -> None:
    payloads: set[str] = set()
    sidecars: list[str] = []
    changed = False
    with os.scandir(bdir) as it:
        for de in it:
            name = de.name
            if name.startswith(TEMP_PREFIX):
                unlink_if_exists(bdir / name)
                found.cleaned += 1
                changed = True
            elif name.endswith(PAYLOAD_SUFFIX):
                stem = name[: -len(PAYLOAD_SUFFIX)]
                parsed = parse_stem(stem)
                if parsed is None:
                    log.warning("ignoring a file that is not a queue entry: %s", bdir / name)
                    continue
                seq = parsed[0]
                found.max_seq = max(found.max_seq, seq)
                if bucket_name(seq) != bdir.name:  # copied by hand into the wrong bucket
                    folder.move_aside(Ref(bdir, seq, stem), f"entry is not in bucket {bucket}")
                    continue
                payloads.add(stem)
                found.bytes += de.stat(follow_symlinks=False).st_size
                found.counts[EntryState.QUEUED] += 1
            elif name.endswith(SIDECAR_SUFFIX):
                sidecars.append(name[: -len(SIDECAR_SUFFIX)])
    kept = len(payloads)
    for stem in sidecars:
        if stem in payloads:
            if not _load_held(folder, bdir, stem, found):
                kept -= 1
        else:  # the payload was deleted first: the entry is gone
            unlink_if_exists(bdir / (stem + SIDECAR_SUFFIX))
            found.cleaned += 1
            changed = True
    if changed and folder.fsync:
        fsync_dir(bdir)
    if kept:
        found.per_bucket[bucket] = kept
    else:
        folder.prune(bdir)


def _load_held(folder: EntryFolder, bdir: Path, stem: str, found: Scan) -> bool:
    """Read an entry with a sidecar (FAILED, DEAD, retried by hand) into ``found.held``.

    Returns:
        Whether its payload is still in the queue (``False``: moved aside as corrupt).
    """
    parsed = parse_stem(stem)
    if parsed is None:  # pragma: no cover - payload names were parsed already
        return True
    ref = Ref(bdir, parsed[0], stem)
    try:
        header, _ = read_header(str(ref.payload), ref.report_id)
    except BadEntry as exc:
        _drop_entry(folder, ref, str(exc), found)
        return False
    try:
        sidecar = decode_sidecar(ref.sidecar.read_bytes())
    except BadEntry as exc:
        _drop_sidecar(folder, ref, str(exc))
        return True
    entry = recovered(entry_from(ref.seq, header, sidecar))
    found.held[ref.seq] = entry
    found.counts[EntryState.QUEUED] -= 1
    found.counts[entry.state] += 1
    return True


def _drop_entry(folder: EntryFolder, ref: Ref, reason: str, found: Scan) -> None:
    log.error("queue entry %s is corrupt, moved aside: %s", ref.stem, reason)
    size = folder.move_aside(ref, reason)
    found.bytes -= size or 0
    found.counts[EntryState.QUEUED] -= 1


def _drop_sidecar(folder: EntryFolder, ref: Ref, reason: str) -> None:
    # The payload is intact: it stays, as a plain QUEUED entry (see _store: the report matters).
    log.error("queue entry %s has a corrupt state file, requeued: %s", ref.stem, reason)
    folder.move_file_aside(ref.sidecar, reason)

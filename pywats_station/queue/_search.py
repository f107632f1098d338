"""Finding entries: the folder walk (names, FIFO order) merged with what the ledger knows.

An entry's name tells its seq and report id; the ledger tells the state of the few entries it
holds (with a sidecar, or uploading); any other entry is QUEUED. So filtering and counting go by
names, and a file is read (by ``load``, which moves a corrupt entry aside and returns ``None``)
only for an entry that is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from ._errors import EntryNotFound
from ._folder import EntryFolder, Ref
from ._format import bucket_name, check_report_id
from ._ledger import Ledger, by_seq
from ._state import Entry, EntryState

__all__ = ["Loader", "find_due", "find_named", "find_oldest", "find_page"]

Loader = Callable[[Ref], Entry | None]
"""Reads a sidecar-less entry's header; ``None`` if it vanished or was corrupt (moved aside)."""


def find_due(
    folder: EntryFolder,
    ledger: Ledger,
    load: Loader,
    now: float,
    exclude: Collection[int],
    limit: int,
    full: Callable[[], bool] | None = None,
) -> list[Entry]:
    """The oldest ``limit`` entries due at ``now``, not in ``exclude`` nor uploading.

    Walks from ``ledger.floor`` and moves the floor up to the first payload without a sidecar,
    so a head of dead letters is passed over once, not on every call. ``full`` (if given) is
    asked before each load: ``True`` ends the walk early (the caller's memory budget).
    """
    busy = ledger.busy(exclude)
    held = ledger.due(now, busy, limit)
    fresh: list[Entry] = []
    first_fresh: int | None = None
    stopped_at = ledger.next_seq
    for ref in folder.walk(ledger.floor):
        if (
            len(fresh) >= limit
            or (len(held) >= limit and ref.seq > held[-1].seq)
            or (full is not None and full())
        ):
            stopped_at = ref.seq
            break
        if ledger.has_sidecar(ref.seq):
            continue
        if first_fresh is None:
            first_fresh = ref.seq
        if ref.seq in busy:
            continue
        entry = load(ref)
        if entry is not None:
            fresh.append(entry)
    # Everything before the first sidecar-less payload seen has a sidecar: skip it next time.
    ledger.floor = first_fresh if first_fresh is not None else stopped_at
    return sorted(held + fresh, key=by_seq)[:limit]


def find_named(folder: EntryFolder, ledger: Ledger, load: Loader, selector: str) -> Iterator[Entry]:
    """The entries with this seq (digits) or report id, FIFO order; at least one.

    Raises:
        EntryNotFound: none.
        ValueError: the selector is neither a seq nor a possible report id.
    """
    if selector.isdigit():
        seq = int(selector)
        bucket = folder.entries / bucket_name(seq)
        refs: Iterator[Ref] = (r for r in folder.walk_bucket(bucket, seq) if r.seq == seq)
    else:
        check_report_id(selector)
        wanted = selector.casefold()  # GUIDs are case-insensitive
        refs = (r for r in folder.walk() if r.report_id.casefold() == wanted)
    found = False
    for ref in refs:
        entry = ledger.known(ref.seq) or load(ref)
        if entry is not None:
            found = True
            yield entry
    if not found:
        raise EntryNotFound(f"no queue entry matches {selector!r}")


def find_oldest(folder: EntryFolder, ledger: Ledger, load: Loader) -> tuple[int, float] | None:
    """``(seq, created_at)`` of the oldest entry still to deliver (not dead), if any."""
    candidates = [] if (held := ledger.oldest_held()) is None else [held]
    # Every payload without a sidecar is at or after the floor: the first one is the oldest.
    for ref in folder.walk(ledger.floor):
        if ledger.has_sidecar(ref.seq):
            continue
        entry = ledger.known(ref.seq) or load(ref)
        if entry is not None:
            candidates.append((entry.seq, entry.created_at))
            break
    return min(candidates, default=None)


def find_page(
    folder: EntryFolder,
    ledger: Ledger,
    load: Loader,
    state: EntryState | None,
    offset: int,
    limit: int,
) -> list[Entry]:
    """Entries ``offset`` to ``offset + limit`` (of those in ``state``), FIFO order."""
    if state in (EntryState.FAILED, EntryState.DEAD, EntryState.UPLOADING):
        # All of these are in memory: no need to walk the folder.
        pool = sorted((e for e in ledger.entries() if e.state is state), key=by_seq)
        return pool[offset : offset + max(limit, 0)]
    page: list[Entry] = []
    skipped = 0
    for ref in folder.walk():
        if len(page) >= limit:
            break
        known = ledger.known(ref.seq)
        if state is not None and (known.state if known else EntryState.QUEUED) != state:
            continue
        if skipped < offset:  # counted from its name, without reading the file
            skipped += 1
            continue
        entry = known or load(ref)
        if entry is not None:
            page.append(entry)
    return page

"""The durable report queue: ``ReportQueue``, counters and the upload protocol over the folder.

Promises and how they are kept (the folder layout is in ``_folder``):

* ``put`` returns only after the payload is durable (temp file, ``fsync``, ``rename``, folder
  ``fsync``): the caller may then delete the source file. Sidecars are replaced the same way.
* An entry leaves only by ``complete`` (the server accepted it) or ``purge`` (a human).
* UPLOADING lives in memory only: after a crash the entry is QUEUED (or FAILED) again and is
  re-sent, which the server makes harmless (it overwrites by report id).
* A corrupt entry is moved to ``corrupt/`` with its reason, never crashes the daemon and is not
  seen again. A corrupt *sidecar* alone is moved aside but its intact payload stays queued: the
  report is what matters, its failure count is only bookkeeping.
* ``attempts`` is persisted on every failure and never reset (the predecessor's was).

Memory: the queue keeps counters (entries per state, bytes, next seq) and an index of the entries
that have a sidecar (FAILED, DEAD, and those retried by hand), which are few: most entries are
written once and deleted once. The rest is read lazily, one bucket listing at a time.

One ``ReportQueue`` per folder (``QueueLocked`` otherwise). Every method does blocking I/O (the
daemon calls them through ``trio.to_thread.run_sync``) and takes one lock, so upload workers may
call them from several threads.
"""

from __future__ import annotations

import builtins
import logging
import os
import random
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from types import TracebackType

import msgspec

from pywats_station._failpoints import failpoint

from ._errors import CorruptEntry, EntryNotFound, QueueError, QueueFull
from ._files import LockFile, ensure_dir
from ._folder import EntryFolder, Ref
from ._format import (
    BadEntry,
    bucket_name,
    check_report_id,
    checksum_of,
    decode_sidecar,
    encode_header,
    entry_from,
    read_header,
    read_payload,
    storable_source,
)
from ._ledger import Ledger, QueueStats, by_seq
from ._recovery import scan
from ._search import find_due, find_named, find_oldest, find_page
from ._state import (
    Backoff,
    Entry,
    EntryState,
    failed,
    rejected,
    retried,
    started,
    succeeded,
)
from ._unit import Unit

__all__ = ["QueueStats", "ReportQueue", "VerifyReport"]

log = logging.getLogger("pywats_station.queue")

_HEADER_ALLOWANCE = 1024
"""What ``would_fit`` adds to the WSJF size for the header line (~400 bytes with a short source
and a unit)."""
_RETRYABLE = frozenset({EntryState.DEAD, EntryState.FAILED})
_KEYWORDS: dict[str, frozenset[EntryState]] = {
    "dead": frozenset({EntryState.DEAD}),
    "failed": frozenset({EntryState.FAILED}),
}


class VerifyReport(msgspec.Struct, frozen=True):
    """What ``ReportQueue.verify`` found.

    Attributes:
        ok: entries whose files passed every check.
        corrupt: entries (or sidecars) moved to ``corrupt/``.
        orphans: sidecars without a payload, and temp files, deleted.
    """

    ok: int
    corrupt: int
    orphans: int


class ReportQueue:
    """A durable FIFO of WSJF reports waiting for upload; see the module docstring.

    Create it with ``ReportQueue.open``; close it (or use it as a context manager) to release
    the folder's lock. The life of one upload::

        entry = queue.next_due(now)         # or take(): claim a batch atomically
        entry = queue.start(entry)          # UPLOADING, in memory only
        data = queue.read(entry)            # checksum verified; CorruptEntry if not
                                            # (claim(): take and read a batch in one pass)
        ...                                 # send it
        queue.complete(entry)               # accepted: removed durably
        queue.fail(entry, error=...)        # transient: again after backoff or Retry-After
        queue.reject(entry, reason=...)     # permanent: dead letter
        queue.abandon(entry)                # no verdict (worker cancelled): as before start
    """

    def __init__(
        self,
        folder: EntryFolder,
        lock: LockFile,
        *,
        max_bytes: int,
        backoff: Backoff,
        rng: random.Random,
    ) -> None:
        """Internal: use ``ReportQueue.open``."""
        self.path = folder.path
        self.max_bytes = max_bytes
        self._folder = folder
        self._file_lock = lock
        self._backoff = backoff
        self._rng = rng
        self._lock = threading.RLock()
        self._closed = False
        self._ledger = Ledger(next_seq=1, size=0, counts=dict.fromkeys(EntryState, 0), held={})
        # (seq, created_at) of the oldest entry still to deliver (None: there is none); only
        # meaningful while _oldest_known, recomputed lazily after that entry leaves.
        self._oldest: tuple[int, float] | None = None
        self._oldest_known = False

    # -- opening and closing ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        max_bytes: int = 1 << 30,
        fsync: bool = True,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen, so sharing the default is safe
        rng: random.Random | None = None,
    ) -> ReportQueue:
        """Open (creating if needed) the queue in ``path``, take its lock and recover.

        Recovery deletes temp files and orphan sidecars left by a crash, turns UPLOADING back
        into QUEUED, moves unreadable sidecars aside and counts the rest without reading it.

        Args:
            path: the queue folder.
            max_bytes: bound on the sum of payload file sizes (dead entries included).
            fsync: flush every change before returning; turn off only in tests that do not test
                durability (renames stay atomic either way).
            backoff: the retry policy for transient failures.
            rng: source of backoff jitter (seed it in tests).

        Raises:
            QueueLocked: another process, or another ``open`` in this one, has the queue.
            OSError: the folder cannot be created or read.
        """
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        path = Path(path)
        ensure_dir(path, fsync=fsync)
        lock = LockFile(path / "queue.lock")
        lock.acquire()
        try:
            folder = EntryFolder(path, fsync=fsync)
            folder.create()
            queue = cls(
                folder, lock, max_bytes=max_bytes, backoff=backoff, rng=rng or random.Random()
            )
            queue._recover()
        except BaseException:
            lock.release()
            raise
        return queue

    def _recover(self) -> None:
        found = scan(self._folder)
        ledger = self._ledger = Ledger(
            next_seq=max(found.max_seq + 1, self._folder.read_seq_hint()),
            size=found.bytes,
            counts=found.counts,
            held=found.held,
            per_bucket=found.per_bucket,
        )
        ledger.corrupt, _ = self._folder.scan_corrupt()
        log.info(
            "queue %s: %d entries (%d failed, %d dead), %d bytes, %d corrupt, %d leftovers removed",
            self.path,
            sum(ledger.counts.values()),
            ledger.counts[EntryState.FAILED],
            ledger.counts[EntryState.DEAD],
            ledger.bytes,
            ledger.corrupt,
            found.cleaned,
        )

    def close(self) -> None:
        """Release the folder's lock; the object is unusable afterwards. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._folder.write_seq_hint(self._ledger.next_seq)
            finally:
                self._file_lock.release()

    def __enter__(self) -> ReportQueue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- adding -------------------------------------------------------------------------------

    @property
    def free_bytes(self) -> int:
        """Bytes left before ``put`` raises ``QueueFull``."""
        with self._lock:
            return max(self.max_bytes - self._ledger.bytes, 0)

    def would_fit(self, n: int) -> bool:
        """Whether a report of ``n`` WSJF bytes would fit now (allowing 1 KiB for its header).

        A hint for backpressure (leave source files in their folder); ``put`` decides exactly.
        """
        with self._lock:
            return self._ledger.bytes + n + _HEADER_ALLOWANCE <= self.max_bytes

    def put(
        self,
        report_id: str,
        wsjf: bytes,
        *,
        source: str | None = None,
        unit: Unit | None = None,
        now: float | None = None,
    ) -> Entry:
        """Add a report; once this returns, it survives a crash or a power loss.

        Args:
            report_id: the report's id (GUID string); part of the file name.
            wsjf: the report as WSJF bytes.
            source: where it came from, for humans (converter and file name); any string,
                stored escaped where it must be (see ``storable_source``).
            unit: which unit the report is about, as ``unit_of`` reads it from the report the
                caller holds (the queue never parses ``wsjf``); kept in the header, so that
                listing and uploading can name the unit without reading the report again.
            now: the creation time (seconds since the epoch); the clock by default.

        Raises:
            QueueFull: the entry would take the queue over ``max_bytes``.
            ValueError: the report id cannot be part of a file name.
            OSError: the disk refused (full, read-only); the report may not be in the queue.
        """
        check_report_id(report_id)
        source = storable_source(source)  # as the header keeps it: the entry says the same
        checksum = checksum_of(wsjf)  # outside the lock: hashing a big report takes a while
        created_at = time.time() if now is None else now
        header = encode_header(report_id, wsjf, checksum, created_at, source, unit)
        file_size = len(header) + 1 + len(wsjf)
        with self._lock:
            self._check_open()
            used = self._ledger.bytes
            if used + file_size > self.max_bytes:
                raise QueueFull(current=used, needed=file_size, limit=self.max_bytes)
            # Burn the seq before writing: a failed write must never leave a name to reuse.
            seq = self._ledger.next_seq
            self._ledger.next_seq += 1
            ref = self._folder.ref(seq, report_id)
            failpoint("queue.put.before_write")
            try:
                self._folder.write_payload(ref, [header, b"\n", wsjf])
            except BaseException:
                if ref.payload.exists():  # renamed, then the folder fsync failed: count it
                    self._added(seq, created_at, file_size)
                raise
            self._added(seq, created_at, file_size)
            failpoint("queue.put.durable")
            return Entry(
                seq=seq,
                report_id=report_id,
                state=EntryState.QUEUED,
                size=len(wsjf),
                checksum=checksum,
                created_at=created_at,
                source=source,
                unit=unit,
            )

    def _added(self, seq: int, created_at: float, file_size: int) -> None:
        self._ledger.added(seq, file_size)
        if self._oldest_known and self._oldest is None:
            self._oldest = (seq, created_at)

    # -- uploading ----------------------------------------------------------------------------

    def next_due(self, now: float, exclude: Collection[int] = ()) -> Entry | None:
        """The oldest entry that may be uploaded at ``now``; marks nothing.

        Args:
            now: the current time (seconds since the epoch).
            exclude: seqs to pass over, besides those started and not finished (positional
                too, for ``trio.to_thread.run_sync``, which passes no keywords).

        Returns:
            The oldest QUEUED or due FAILED entry, or ``None``.
        """
        with self._lock:
            self._check_open()
            due = self._find_due(now, exclude, 1)
            return due[0] if due else None

    def take(self, now: float, limit: int, exclude: Collection[int] = ()) -> builtins.list[Entry]:
        """Claim up to ``limit`` due entries, oldest first; each is returned UPLOADING.

        Unlike ``next_due`` then ``start``, no other worker can claim the same entry in between.
        """
        with self._lock:
            self._check_open()
            return [self._start(e) for e in self._find_due(now, exclude, limit)]

    def claim(
        self, now: float, limit: int, exclude: Collection[int] = (), max_bytes: int = 8 << 20
    ) -> builtins.list[tuple[Entry, bytes]]:
        """``take`` and ``read`` in one: claim up to ``limit`` due entries with their WSJF bytes.

        Each file is read once, checks included (``take`` then ``read`` opens it twice).
        Corrupt entries are moved aside and left out; what vanished meanwhile is left out.

        Args:
            now: the current time (seconds since the epoch).
            limit: the most entries to claim.
            exclude: seqs to pass over (positional too, for ``trio.to_thread.run_sync``).
            max_bytes: stop claiming once this many payload bytes are held (at least one entry
                is always claimed), so a backlog of big reports does not fill the memory.
        """
        with self._lock:
            self._check_open()
            loaded: dict[int, tuple[bytes, int]] = {}
            held_bytes = 0

            def load(ref: Ref) -> Entry | None:
                nonlocal held_bytes
                path = self._folder.payload_path(ref.seq, ref.report_id)
                try:
                    header, wsjf, file_size = read_payload(path, ref.report_id)
                except FileNotFoundError:
                    return None
                except BadEntry as exc:
                    self._quarantine(ref, str(exc))
                    return None
                loaded[ref.seq] = (wsjf, file_size)
                held_bytes += len(wsjf)
                return entry_from(ref.seq, header, None)

            def full() -> bool:
                return held_bytes >= max_bytes

            due = find_due(self._folder, self._ledger, load, now, exclude, limit, full)
            out: builtins.list[tuple[Entry, bytes]] = []
            for entry in due:
                got = loaded.get(entry.seq)
                if got is None:  # a FAILED entry due again (the ledger had it): read it now
                    if out and full():
                        continue  # over budget: claimed next time
                    try:
                        got = self._read_checked(entry)
                    except (EntryNotFound, CorruptEntry):
                        continue
                    held_bytes += len(got[0])
                    out.append((self._start(entry, got[1]), got[0]))
                else:
                    # Loaded just now under the lock: no need to ask the disk again.
                    new = started(entry)
                    self._ledger.started(entry, new, got[1])
                    out.append((new, got[0]))
            return out

    def claim_put(
        self, put: Sequence[tuple[Entry, bytes]], wait: bool = False
    ) -> builtins.list[tuple[Entry, bytes]] | None:
        """Claim entries this process has just ``put``, with the WSJF bytes it still holds.

        For the uploader on the event loop: no folder walk, no read of the file (the caller
        wrote those bytes). Only when they are all that is due, so that FIFO order holds:
        ``None`` (nothing claimed; walk with ``claim``) if anything else is queued or failed,
        if one of them was claimed or changed meanwhile, or if a worker thread holds the queue
        (the loop never waits for its lock), unless ``wait`` (in a worker thread: a ``put`` holds
        the lock through its fsyncs). An entry removed meanwhile (purged) is left out. Once it
        returns a list, nothing else is queued or failed: no walk is needed.
        """
        if not self._lock.acquire(blocking=wait):
            return None
        try:
            self._check_open()
            ledger = self._ledger
            if any(
                ledger.known(e.seq) is not None or e.state is not EntryState.QUEUED for e, _ in put
            ):
                return None  # claimed by a walk, or given a sidecar: the walk sorts it out
            sizes: builtins.list[int | None] = []
            for entry, _ in put:
                try:
                    # One stat: still there (not purged), and its size for the removal.
                    path = self._folder.payload_path(entry.seq, entry.report_id)
                    sizes.append(os.stat(path).st_size)
                except FileNotFoundError:
                    sizes.append(None)
            present = sum(size is not None for size in sizes)
            if ledger.counts[EntryState.FAILED] or ledger.counts[EntryState.QUEUED] != present:
                return None  # others are due too (or arrived behind our back): walk, FIFO
            out: builtins.list[tuple[Entry, bytes]] = []
            for (entry, wsjf), size in zip(put, sizes, strict=True):
                if size is not None:
                    new = started(entry)
                    ledger.started(entry, new, size)
                    out.append((new, wsjf))
            return out
        finally:
            self._lock.release()

    def start(self, entry: Entry) -> Entry:
        """Mark an entry UPLOADING, in memory only (after a crash it is due again).

        Raises:
            EntryNotFound: it is no longer in the queue.
            InvalidTransition: it is uploading already, or dead.
        """
        with self._lock:
            self._check_open()
            return self._start(entry)

    def read(self, entry: Entry) -> bytes:
        """The entry's WSJF bytes, with header, length and checksum verified.

        Raises:
            EntryNotFound: it is no longer in the queue.
            CorruptEntry: it failed a check and has been moved to ``corrupt/``.
        """
        self._check_open()
        return self._read_checked(entry)[0]

    def _read_checked(self, entry: Entry) -> tuple[bytes, int]:
        """``read``, and the payload file's size."""
        path = self._folder.payload_path(entry.seq, entry.report_id)
        # A payload is immutable and an open file outlives its deletion: no lock needed to read.
        try:
            _, wsjf, file_size = read_payload(path, entry.report_id)
        except FileNotFoundError:
            raise EntryNotFound(f"entry {entry.seq} ({entry.report_id}) is gone") from None
        except BadEntry as exc:
            ref = self._folder.ref(entry.seq, entry.report_id)
            with self._lock:
                self._quarantine(ref, str(exc))
            raise CorruptEntry(ref.payload.name, str(exc)) from None
        return wsjf, file_size

    def complete(self, entry: Entry) -> None:
        """The server accepted the entry: remove it durably.

        An entry already gone (purged by a human, or moved aside as corrupt) is not an error:
        there is nothing left to remove.

        Raises:
            InvalidTransition: it was not started.
            OSError: the disk refused; the entry is given back (``abandon``) and sent again.
        """
        with self._lock:
            self._complete(entry)

    def try_complete(self, entry: Entry) -> int | None:
        """``complete`` if the queue is free at once; then return the depth, else ``None``.

        For the event loop: it must not wait while a worker thread holds the queue (a folder
        walk); the caller completes the entry later instead.
        """
        if not self._lock.acquire(blocking=False):
            return None
        try:
            self._complete(entry)
            return self._ledger.depth()
        finally:
            self._lock.release()

    def _complete(self, entry: Entry) -> None:
        self._check_open()
        try:
            current = self._current(entry)
        except EntryNotFound:
            return
        succeeded(current)
        seq, ledger = entry.seq, self._ledger
        failpoint("queue.complete.before_remove")
        try:
            # Not made durable: if a power cut brings the entry back, it is sent again and
            # the server overwrites it by id. Saves a directory fsync per upload. The claim
            # recorded the file's size and the ledger knows whether a sidecar exists: no stat,
            # no probe.
            self._remove(
                self._folder.ref(seq, entry.report_id),
                durable=False,
                size=ledger.file_size(seq),
                sidecar=ledger.has_sidecar(seq),
            )
        except BaseException:
            ledger.abandoned(seq)  # still on disk: due again (sent twice, harmless)
            raise

    def fail(
        self,
        entry: Entry,
        *,
        error: str,
        retry_after: float | None = None,
        now: float | None = None,
    ) -> Entry:
        """A transient failure: count the attempt, durably, and schedule the next one.

        Args:
            entry: the entry being uploaded.
            error: what went wrong, for humans.
            retry_after: the server's ``Retry-After`` in seconds; it wins over the backoff.
            now: the current time (seconds since the epoch); the clock by default.

        Raises:
            EntryNotFound: it is no longer in the queue (purged meanwhile).
            InvalidTransition: it was not started.
            OSError: the disk refused; the entry is given back (``abandon``) unchanged.
        """
        with self._lock:
            self._check_open()
            new = failed(
                self._current(entry),
                now=time.time() if now is None else now,
                error=error,
                retry_after=retry_after,
                backoff=self._backoff,
                rng=self._rng,
            )
            self._persist(new)
            return new

    def reject(self, entry: Entry, *, reason: str) -> Entry:
        """A permanent rejection: a dead letter, with the server's ``reason`` kept verbatim.

        Raises:
            EntryNotFound: it is no longer in the queue (purged meanwhile).
            InvalidTransition: it was not started.
            OSError: the disk refused; the entry is given back (``abandon``) unchanged.
        """
        with self._lock:
            self._check_open()
            new = rejected(self._current(entry), reason=reason)
            self._persist(new)
            self._forget_oldest(new.seq)
            return new

    def abandon(self, entry: Entry) -> None:
        """Give an entry back without a verdict (its worker was cancelled); no-op if not started.

        It returns to the state it had before ``start``, so a QUEUED one is due again at once.
        """
        with self._lock:
            self._ledger.abandoned(entry.seq)

    def next_wakeup(self) -> float | None:
        """The earliest ``next_attempt_at`` among FAILED entries, so the uploader can sleep."""
        with self._lock:
            return self._ledger.next_wakeup()

    # -- human commands -----------------------------------------------------------------------

    def retry(self, selector: str | None = None) -> int:
        """Send dead letters and waiting failures again now (QUEUED; attempts are kept).

        Args:
            selector: a report id, a seq (digits), ``"dead"``, ``"failed"`` or ``"all"`` (the
                default: dead and failed).

        Returns:
            How many entries were requeued (queued and uploading ones are left alone).

        Raises:
            EntryNotFound: no entry has that report id or seq.
            ValueError: the selector is none of the above.
        """
        with self._lock:
            self._check_open()
            selector = selector or "all"
            if selector == "all" or selector in _KEYWORDS:
                # Every FAILED and DEAD entry has a sidecar, so the index has them all.
                wanted = _KEYWORDS.get(selector, _RETRYABLE)
                targets = sorted(
                    (e for e in self._ledger.entries() if e.state in wanted), key=by_seq
                )
            else:
                targets = [e for e in self._named(selector) if e.state in _RETRYABLE]
            for e in targets:
                new = retried(e)
                self._folder.write_sidecar(new)
                self._ledger.changed(new)
            if targets:
                self._oldest_known = False  # a dead letter may be live again
            return len(targets)

    def purge(self, selector: str) -> int:
        """Delete entries for good: what a human does with a report that must not be sent.

        Entries being uploaded are deleted too; the verdict of their upload then finds them gone.

        Args:
            selector: a report id, a seq (digits), ``"dead"``, ``"failed"`` or ``"all"``.

        Returns:
            How many entries were deleted.

        Raises:
            EntryNotFound: no entry has that report id or seq.
            ValueError: the selector is none of the above.
        """
        with self._lock:
            self._check_open()
            if selector == "all":
                # Straight from the names: no file is read, nothing is materialised.
                count = 0
                for ref in self._folder.walk():
                    self._remove(ref)
                    count += 1
                return count
            if selector in _KEYWORDS:
                states = _KEYWORDS[selector]
                targets = [e for e in self._ledger.entries() if e.state in states]
            else:
                targets = builtins.list(self._named(selector))
            for e in targets:
                self._remove(self._folder.ref(e.seq, e.report_id))
            return len(targets)

    def list(
        self, *, state: EntryState | None = None, offset: int = 0, limit: int = 100
    ) -> builtins.list[Entry]:
        """A page of entries in FIFO order, read lazily (a big backlog is never loaded whole).

        Args:
            state: only entries in this state.
            offset: matching entries to skip.
            limit: the most to return.
        """
        with self._lock:
            self._check_open()
            return find_page(self._folder, self._ledger, self._load_fresh, state, offset, limit)

    def show(self, selector: str) -> Entry:
        """The entry with this seq (digits) or report id (the oldest, if queued twice).

        Raises:
            EntryNotFound: there is none.
            ValueError: the selector is neither a seq nor a possible report id.
        """
        with self._lock:
            self._check_open()
            return next(self._named(selector))

    def verify(self) -> VerifyReport:
        """Check every entry's header, length and checksum; move corrupt ones aside.

        Reads every payload, so it takes a while on a big queue; the lock is taken per entry, so
        uploads go on meanwhile.
        """
        ok = corrupt = orphans = 0
        with self._lock:
            self._check_open()
            buckets = self._folder.buckets()
        for _, bdir in buckets:
            with self._lock:
                self._check_open()
                refs, removed = self._folder.clean_bucket(bdir)
            orphans += removed
            for ref in refs:
                with self._lock:
                    self._check_open()
                    verdict = self._verify_entry(ref)
                if verdict is True:
                    ok += 1
                elif verdict is False:
                    corrupt += 1
        return VerifyReport(ok=ok, corrupt=corrupt, orphans=orphans)

    def depth(self) -> int:
        """Entries not yet delivered (queued, failed, uploading): a counter, never a scan."""
        with self._lock:
            return self._ledger.stats(self.max_bytes, None).depth

    def counts(self) -> QueueStats:
        """Counts from memory only, never a file read (``oldest_age`` is not set): for callers
        that must work when the disk or the descriptor table does not (systemd's status)."""
        with self._lock:
            return self._ledger.stats(self.max_bytes, None)

    def stats(self) -> QueueStats:
        """Counts and times from memory; no folder scan (at most one header read)."""
        with self._lock:
            self._check_open()
            oldest = self._oldest_entry()
            return self._ledger.stats(self.max_bytes, oldest[1] if oldest else None)

    # -- internals: finding entries -----------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise QueueError(f"report queue {self.path} is closed")

    def _load_fresh(self, ref: Ref) -> Entry | None:
        """Read a sidecar-less entry's header: ``None`` if it vanished or was found corrupt."""
        try:
            header, _ = read_header(str(ref.payload), ref.report_id)
        except FileNotFoundError:
            return None
        except BadEntry as exc:
            self._quarantine(ref, str(exc))
            return None
        return entry_from(ref.seq, header, None)

    def _current(self, entry: Entry) -> Entry:
        """The entry as the queue knows it now, whatever the caller's copy says.

        Raises:
            EntryNotFound: it is no longer in the queue.
        """
        known = self._ledger.known(entry.seq)
        if known is not None and known.report_id == entry.report_id:
            return known
        if known is not None or not self._folder.ref(entry.seq, entry.report_id).payload.exists():
            raise EntryNotFound(f"entry {entry.seq} ({entry.report_id}) is not in the queue")
        return msgspec.structs.replace(
            entry,
            state=EntryState.QUEUED,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            dead_reason=None,
        )

    def _find_due(self, now: float, exclude: Collection[int], limit: int) -> builtins.list[Entry]:
        return find_due(self._folder, self._ledger, self._load_fresh, now, exclude, limit)

    def _named(self, selector: str) -> Iterator[Entry]:
        return find_named(self._folder, self._ledger, self._load_fresh, selector)

    def _oldest_entry(self) -> tuple[int, float] | None:
        if not self._oldest_known:
            self._oldest = find_oldest(self._folder, self._ledger, self._load_fresh)
            self._oldest_known = True
        return self._oldest

    def _forget_oldest(self, seq: int) -> None:
        if self._oldest_known and self._oldest is not None and self._oldest[0] == seq:
            self._oldest_known = False

    # -- internals: changing entries ----------------------------------------------------------

    def _start(self, entry: Entry, file_size: int | None = None) -> Entry:
        current = self._current(entry)
        new = started(current)
        self._ledger.started(current, new, file_size)
        return new

    def _persist(self, new: Entry) -> None:
        """An upload ended with a verdict that keeps the entry (failed, rejected)."""
        if not self._folder.ref(new.seq, new.report_id).payload.exists():
            # Deleted behind the queue's back: a sidecar now would be an orphan.
            log.warning("queue entry %d (%s) vanished while uploading", new.seq, new.report_id)
            self._ledger.removed(new.seq, 0)
            raise EntryNotFound(f"entry {new.seq} ({new.report_id}) is no longer in the queue")
        try:
            self._folder.write_sidecar(new)
        except BaseException:
            # Disk full or read-only: the old state stands; never leave it UPLOADING for good.
            self._ledger.abandoned(new.seq)
            raise
        self._ledger.changed(new)

    def _remove(
        self, ref: Ref, *, durable: bool = True, size: int | None = None, sidecar: bool = True
    ) -> None:
        """Delete an entry's files and uncount it (``size``, ``sidecar``: see EntryFolder)."""
        removed = self._folder.remove(ref, size=size, sidecar=sidecar, durable=durable)
        # Gone already: uncounted by whoever removed it, unless the queue still counts it
        # (uploading, its size recorded by the claim; deleted behind the queue's back).
        counted = removed if removed is not None else size
        if counted is None:
            return
        if self._ledger.removed(ref.seq, counted):
            self._prune(ref.seq)
        self._forget_oldest(ref.seq)

    def _prune(self, seq: int) -> None:
        """Remove the bucket of ``seq`` if it is empty (the ledger counted it down to zero)."""
        name = bucket_name(seq)
        if name != bucket_name(self._ledger.next_seq):  # where puts go: keep it
            self._folder.prune(self._folder.entries / name)

    # -- internals: corruption ----------------------------------------------------------------

    def _verify_entry(self, ref: Ref) -> bool | None:
        """Check one entry fully: ``True`` good, ``False`` moved aside, ``None`` gone meanwhile."""
        try:
            read_payload(str(ref.payload), ref.report_id)
        except FileNotFoundError:
            return None
        except BadEntry as exc:
            self._quarantine(ref, str(exc))
            return False
        if self._ledger.has_sidecar(ref.seq) and not self._ledger.is_uploading(ref.seq):
            try:
                decode_sidecar(ref.sidecar.read_bytes())
            except FileNotFoundError:
                pass  # deleted by hand: memory still has the state and rewrites it on change
            except BadEntry as exc:
                self._quarantine_sidecar(ref, str(exc))
                return False
        return True

    def _quarantine(self, ref: Ref, reason: str) -> None:
        """Move a corrupt entry (payload and sidecar) to ``corrupt/`` and stop counting it."""
        log.error("queue entry %s is corrupt, moved aside: %s", ref.stem, reason)
        size = self._folder.move_aside(ref, reason)
        if size is not None:  # else removed meanwhile (read() checks without the lock)
            self._ledger.corrupt += 1
            if self._ledger.removed(ref.seq, size):
                self._prune(ref.seq)
            self._forget_oldest(ref.seq)

    def _quarantine_sidecar(self, ref: Ref, reason: str) -> None:
        """Move a corrupt sidecar aside; its intact payload stays, QUEUED, never attempted."""
        log.error("queue entry %s has a corrupt state file, requeued: %s", ref.stem, reason)
        self._folder.move_file_aside(ref.sidecar, reason)
        self._ledger.corrupt += 1
        self._ledger.sidecar_lost(ref.seq)
        self._oldest_known = False

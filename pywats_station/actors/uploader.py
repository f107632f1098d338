"""The uploader actor: N workers send queued reports to the server, fed by one feeder task.

Outcomes per report (see ``docs/operations.md``):

* accepted → removed from the queue (only now: the delivery guarantee);
* transient (network, timeout, 408, 429, 5xx, and 401/403/404, which say nothing about the
  report but about our token or URL) → back in the queue with capped exponential backoff and
  jitter, ``Retry-After`` honoured, retried forever; a network error also asks the connection
  actor to check the server;
* rejected (400, 409, 410, 413, 415, 422: the server refuses *this* report) → dead letter with
  the server's message verbatim; the other reports keep flowing.

While the station is offline the feeder waits for the connection instead of failing report after
report. On a graceful stop the feeder stops and the workers finish their uploads in flight.

Each verdict is published (``report_uploaded``, ``report_rejected``) once it is durable in the
queue, through the ``publish`` callback (the daemon's control hub; synchronous, never blocks).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

import msgspec
import trio

from pywats import AsyncWATS
from pywats._errors import HTTPError, PyWATSError, RateLimitedError, TransportError
from pywats_station._failpoints import failpoint
from pywats_station._supervisor import current_child
from pywats_station.actors.control_methods import entry_unit
from pywats_station.control.events import ReportRejected, ReportUploaded, UploadWaiting
from pywats_station.queue import Entry, QueueError, ReportQueue
from pywats_station.runtime import ConnectionState, Runtime, WaitReason

__all__ = ["PERMANENT_STATUSES", "run_uploader"]

log = logging.getLogger("pywats_station.uploader")

# Statuses that reject the report itself; everything else is retried.
PERMANENT_STATUSES = frozenset({400, 409, 410, 413, 415, 422})
_IDLE_POLL = 60.0  # seconds between queue looks when nothing wakes us (a safety net only)
_BATCH_BYTES = 8 * 1024 * 1024  # payload bytes one claim may hold in memory
_SETTLE_RETRY = 0.05  # seconds before the feeder tries again to remove uploaded entries
_NOT_RECORDED_PAUSE = 5.0  # seconds a worker pauses when the queue cannot record a verdict

Publish = Callable[[str, msgspec.Struct], None]


def _no_events(event: str, payload: msgspec.Struct) -> None:
    """The default ``publish``: nobody listens."""


async def run_uploader(
    queue: ReportQueue,
    api: AsyncWATS,
    runtime: Runtime,
    *,
    workers: int = 4,
    clock: Callable[[], float] = time.time,
    publish: Publish = _no_events,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Upload queued reports until cancelled (or asked to stop, then drain in-flight uploads).

    Args:
        queue: The durable queue.
        api: The server's client.
        runtime: The shared state (connection, counters, wake-ups).
        workers: Uploads at once.
        clock: Wall-clock time (tests).
        publish: Where ``report_uploaded``/``report_rejected`` events go.
        task_status: Started once the workers run.
    """
    # Every entry claimed from the queue and not yet settled; handed back on any exit, so an
    # uploader restarted by its supervisor finds them due again (sent again: idempotent).
    in_flight: dict[int, Entry] = {}
    ctx = _Context(queue, api, runtime, clock, publish)
    # Waits of the client's own (its request budget, a short Retry-After) are shown too.
    api.client.on_wait = partial(_client_waits, ctx)
    # Room for a whole batch: the feeder reads the next batch while the workers upload this one.
    batch = max(32, 4 * workers)
    send, receive = trio.open_memory_channel[tuple[Entry, bytes]](batch)
    stopping = current_child().stopping
    try:
        async with trio.open_nursery() as nursery:
            async with receive:
                for _ in range(workers):
                    nursery.start_soon(_worker, receive.clone(), ctx, in_flight)
            task_status.started()
            async with send:
                with trio.CancelScope() as feeding:
                    nursery.start_soon(_cancel_on, stopping, feeding)
                    # Claim and read several entries per thread hop and folder walk: both
                    # cost more than an upload's own work.
                    await _feed(send, ctx, in_flight, batch)
            # Feeding stopped (graceful stop): `send` is closed, so the workers finish the
            # entries they hold and the nursery exits.
    finally:
        # Accepted but not yet removed (the queue was busy): remove them now, waiting for the
        # lock is fine on the way out; then hand back whatever is left.
        for entry, _ in ctx.accepted:
            with contextlib.suppress(QueueError, OSError):
                queue.complete(entry)
                in_flight.pop(entry.seq, None)
        for entry in list(in_flight.values()):
            queue.abandon(entry)


async def _cancel_on(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


async def _feed(
    send: trio.MemorySendChannel[tuple[Entry, bytes]],
    ctx: _Context,
    in_flight: dict[int, Entry],
    batch: int,
) -> None:
    runtime, queue = ctx.runtime, ctx.queue
    # False right after entries were claimed from `just_queued`: nothing else was due then,
    # so the next look waits to be woken instead of walking the folder for nothing.
    walk = True
    while True:
        if not runtime.online.is_set():
            await runtime.online.wait()
        if not walk and not runtime.just_queued:
            walk = True
            _settle(ctx, in_flight)
            # At once if anything woke the uploader since that claim (the event is the one
            # reset before it); then the next look walks, or claims what was handed over.
            await _wait_for_work(ctx)
            continue
        runtime.queue_changed = trio.Event()
        handed, runtime.just_queued = runtime.just_queued, []
        # Just queued by a converter, and nothing else due: claimed with the bytes in hand, on
        # the loop (no file is read). Otherwise (None) the folder is walked, as for any entry.
        claimed = queue.claim_put(handed) if handed else None
        walk = not claimed
        if claimed is None:
            # In a worker thread: waiting for the queue's lock (a converter's put holds it
            # through its fsyncs), or a walk, whose reads could stall the loop on slow storage.
            claimed, walk = await trio.to_thread.run_sync(
                _claim, queue, handed, ctx.clock(), batch, frozenset(in_flight)
            )
        _settle(ctx, in_flight)  # what was accepted while the walk held the queue
        if not claimed:
            await _wait_for_work(ctx)
            continue
        for entry, _ in claimed:
            in_flight[entry.seq] = entry
        for item in claimed:
            await send.send(item)


def _claim(
    queue: ReportQueue,
    handed: list[tuple[Entry, bytes]],
    now: float,
    batch: int,
    exclude: frozenset[int],
) -> tuple[list[tuple[Entry, bytes]], bool]:
    """Claim ``handed`` once the queue is free, else walk the folder (in a worker thread);
    and whether the next look must walk (see ``_feed``)."""
    if handed:
        claimed = queue.claim_put(handed, wait=True)
        if claimed:
            return claimed, False
    return queue.claim(now, batch, exclude, _BATCH_BYTES), True


async def _wait_for_work(ctx: _Context) -> None:
    wakeup = ctx.queue.next_wakeup()
    timeout = _IDLE_POLL if wakeup is None else max(0.0, min(_IDLE_POLL, wakeup - ctx.clock()))
    if ctx.accepted:
        # Uploaded entries still wait for removal (someone held the queue's lock): look again
        # soon, or a status would count them and a restart would send them again.
        timeout = min(timeout, _SETTLE_RETRY)
    with trio.move_on_after(timeout):
        await ctx.runtime.queue_changed.wait()


class _Context:
    """What every upload needs (one per uploader run)."""

    def __init__(
        self,
        queue: ReportQueue,
        api: AsyncWATS,
        runtime: Runtime,
        clock: Callable[[], float],
        publish: Publish,
    ) -> None:
        self.queue = queue
        self.api = api
        self.runtime = runtime
        self.clock = clock
        self.publish = publish
        # Accepted by the server, not yet removed from the queue (see _settle).
        self.accepted: list[tuple[Entry, float]] = []


async def _worker(
    receive: trio.MemoryReceiveChannel[tuple[Entry, bytes]],
    ctx: _Context,
    in_flight: dict[int, Entry],
) -> None:
    async with receive:
        async for entry, payload in receive:
            started = trio.current_time()
            failpoint("upload.before_send")
            try:
                await ctx.api.report.submit_wsjf(payload)
            except PyWATSError as exc:
                await _failed(exc, entry, ctx)
                in_flight.pop(entry.seq, None)
                continue
            failpoint("upload.accepted")  # the server has it; the queue still does too
            ctx.accepted.append((entry, trio.current_time() - started))
            _settle(ctx, in_flight)
            if ctx.accepted:  # the queue was busy: the feeder settles them after its next look
                ctx.runtime.wake_uploader()


def _settle(ctx: _Context, in_flight: dict[int, Entry]) -> None:
    """Remove accepted entries from the queue and announce them, if the queue is free now.

    On the event loop, on purpose: removing an uploaded entry is an unlink without fsync (see
    ``ReportQueue.complete``), a page-cache operation that does not wait for the disk, and a
    thread hop per report cost more than the work. The loop never waits for the queue's lock:
    while the feeder's thread holds it (a folder walk), accepted entries wait in
    ``ctx.accepted`` and the feeder settles them once its walk is done.
    """
    queue = ctx.queue
    while ctx.accepted:
        entry, duration = ctx.accepted[0]
        depth = queue.try_complete(entry)
        if depth is None:
            return
        ctx.accepted.pop(0)
        in_flight.pop(entry.seq, None)
        ctx.runtime.counters.uploaded += 1
        log.debug("report %s uploaded", entry.report_id)
        event = ReportUploaded(
            report_id=entry.report_id,
            seq=entry.seq,
            attempts=entry.attempts,
            duration=duration,
            depth=depth,
            unit=entry_unit(entry),  # recorded when queued: the report is not read again
        )
        ctx.publish("report_uploaded", event)


async def _failed(exc: PyWATSError, entry: Entry, ctx: _Context) -> None:
    """Sort a failed upload into dead letter (the report's fault) or retry later (not its fault)."""
    retry_after: float | None = None
    runtime = ctx.runtime
    if isinstance(exc, HTTPError):
        if exc.status in PERMANENT_STATUSES:
            try:
                await trio.to_thread.run_sync(lambda: ctx.queue.reject(entry, reason=exc.message))
            except OSError as disk:
                await _not_recorded(entry, runtime, f"{exc.status}: {exc.message}", disk)
                return
            runtime.counters.rejected += 1
            log.warning("report %s rejected by the server: %s", entry.report_id, exc.message)
            event = ReportRejected(
                report_id=entry.report_id,
                seq=entry.seq,
                reason=exc.message,
                status=exc.status,
                unit=entry_unit(entry),
            )
            ctx.publish("report_rejected", event)
            return
        if exc.status in (401, 403):
            runtime.set_connection(ConnectionState.AUTH_FAILED, f"{exc.status}: {exc.message}")
        if isinstance(exc, RateLimitedError):
            retry_after = exc.retry_after
            if retry_after is not None:
                why = f"the server answered {exc.status} with Retry-After: {retry_after:g} s"
                _note_wait(ctx, "retry_after", retry_after, why)
        error = f"{exc.status}: {exc.message}"
    else:
        if isinstance(exc, TransportError):
            runtime.wake_connection()
        error = str(exc)  # no answer, or one we cannot read: the server is not itself
    await _transient(entry, ctx.queue, runtime, ctx.clock, error, retry_after)


async def _not_recorded(entry: Entry, runtime: Runtime, error: str, exc: OSError) -> None:
    """The queue could not record a verdict (disk full, read-only): the entry was given back
    unchanged, so it is sent again; this worker pauses first, so that a full disk does not turn
    into a loop of uploads the server answers the same way."""
    runtime.counters.upload_failures += 1
    log.warning(
        "report %s not uploaded (%s), and the queue cannot record it (%s); this worker pauses "
        "%.0f s, the report stays queued",
        entry.report_id,
        error,
        exc,
        _NOT_RECORDED_PAUSE,
    )
    await trio.sleep(_NOT_RECORDED_PAUSE)
    runtime.wake_uploader()  # the entry is due again; the feeder would only look in a minute


def _client_waits(ctx: _Context, reason: str, seconds: float) -> None:
    """The client is about to wait before a request: say so if the budget or the server asked."""
    if reason == "rate_limit":
        limit = ctx.api.client.rate_limit
        budget = (
            f"{limit.requests} requests a minute, server.requests_per_minute"
            if limit is not None and limit.period == 60.0
            else f"{limit.requests} requests in {limit.period:g} s"
            if limit is not None
            else "its limit"
        )
        _note_wait(ctx, "rate_limit", seconds, f"the client's request budget is spent ({budget})")
    elif reason == "retry_after":
        why = f"the server asked to wait (Retry-After: {seconds:g} s)"
        _note_wait(ctx, "retry_after", seconds, why)
    # else a backoff between two attempts: neither the budget nor the server asked for it


def _note_wait(ctx: _Context, reason: WaitReason, seconds: float, detail: str) -> None:
    """Record a wait of the uploads; announce it (log, ``upload_waiting``) when it is news."""
    wait = ctx.runtime.note_upload_wait(reason, seconds, detail, now=ctx.clock())
    if wait is None:
        return
    until = datetime.fromtimestamp(wait.until).astimezone()
    log.info("uploads wait until %s: %s", until.isoformat(timespec="seconds"), detail)
    event = UploadWaiting(reason=wait.reason, until=wait.until, detail=wait.detail)
    ctx.publish("upload_waiting", event)


async def _transient(
    entry: Entry,
    queue: ReportQueue,
    runtime: Runtime,
    clock: Callable[[], float],
    error: str,
    retry_after: float | None,
) -> None:
    now = clock()
    try:
        failed = await trio.to_thread.run_sync(
            lambda: queue.fail(entry, error=error, retry_after=retry_after, now=now)
        )
    except OSError as exc:
        await _not_recorded(entry, runtime, error, exc)
        return
    runtime.counters.upload_failures += 1
    # The feeder may be asleep with nothing due (this entry was in flight): it must wake for
    # this entry's next attempt, not at its idle poll a minute later.
    runtime.wake_uploader()
    wait = (failed.next_attempt_at or now) - now
    log.warning(
        "report %s not uploaded (attempt %d, next in %.1f s): %s",
        entry.report_id,
        failed.attempts,
        wait,
        error,
    )

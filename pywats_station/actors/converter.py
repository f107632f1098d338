"""The per-converter actor: watch -> settle -> validate -> convert -> enqueue -> post action.

One actor per configured converter, under the ``converters`` supervisor:

* **file** converters watch their folder (watchfiles, plus a periodic rescan as a safety net
  for file systems without change events); **folder** converters watch for ready sub-folders;
  **scheduled** converters run on their schedule.
* On start-up the folder is scanned, so files that arrived while the daemon was down are
  converted, oldest first, exactly once.
* A file is read only once it has stopped changing (same size and modification time for
  ``settle`` seconds): equipment and network shares write in chunks. Listing, settling and
  change events are in :mod:`pywats_station.actors._watching`.
* Conversion runs off the event loop: built-in converters in a worker thread for small inputs
  and in a child process above ``child_process_above`` (its memory goes back when it exits),
  user converters always in a child process with time and memory limits, so a hanging,
  crashing or exiting converter never stalls the daemon.
* Reports are put in the durable queue (fsynced) *before* the post action touches the source. A
  full queue leaves sources where they are (backpressure) and retries later; network state never
  moves a file to the error folder: the queue absorbs outages.
* Events (``host.publish``): ``file_converted``, then ``report_queued`` per report, once the
  reports are durable; ``file_failed`` when a file goes to the error folder.
* A watch folder is watched by one converter of one daemon at a time: the converter claims it
  first (:mod:`pywats_station.actors._folder_claim`). Refused (another daemon, or another
  converter of this one, holds it), its state is ``refused`` with the holder named, and it tries
  again every few seconds: when the holder stops, it takes over. The claim is released when the
  actor ends (stopped, disabled, removed) and checked every rescan.
* Nothing in a watch folder is trusted (see :mod:`pywats_station.converters._intake`): links are
  not followed unless allowed, and never out of the watch folder; FIFOs, sockets, devices and
  folders named like inputs are left alone, said once per path; an input over
  ``max_file_size`` goes to the error folder unread. Names are shown escaped
  (:func:`~pywats_station._display.display_name`) in logs, events, status and the queue.
* One input can fail only itself: whatever goes wrong while handling it, a bug of ours
  included, sends it to the error folder ("internal error: …", the traceback logged once) and
  the converter goes on with the next; the supervisor restarts an actor only when its loop
  itself breaks.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import trio

from pywats.formats import wsjf
from pywats.models.app import Process
from pywats_station._display import display_name, display_text
from pywats_station._failpoints import failpoint
from pywats_station.actors._conversion import ConverterRunner
from pywats_station.actors._folder_claim import (
    CLAIM_FILE,
    ClaimLost,
    ClaimRefused,
    FolderClaim,
    FolderClaims,
)
from pywats_station.actors._folder_watch import FolderWatch
from pywats_station.actors._inotify import Changes
from pywats_station.actors._watching import (
    ListingRules,
    Settler,
    WatchFolderLost,
    complete_inputs,
    exception_line,
    list_inputs,
)
from pywats_station.actors.control_methods import entry_unit, unit_header
from pywats_station.config import ConverterConfig
from pywats_station.control.events import FileConverted, FileFailed, ReportQueued
from pywats_station.converters import (
    ConversionResult,
    Converted,
    Failed,
    Skipped,
    StationInfo,
    Suspended,
    Validation,
    classify_confidence,
)
from pywats_station.converters._intake import (
    InputPolicy,
    InputRefused,
    NotAnInput,
    check_input,
    release_fifo,
)
from pywats_station.converters._placement import convert_builtin, release_soon
from pywats_station.converters._sources import (
    SourceState,
    content_key,
    post_process,
    to_error,
)
from pywats_station.converters.sandbox import (
    ConverterDescription,
    OutputLimits,
)
from pywats_station.converters.schedule import parse_schedule
from pywats_station.queue import Entry, QueueFull, ReportQueue, Unit, unit_of
from pywats_station.runtime import Runtime

__all__ = ["ConverterHost", "ConverterStats", "LoadedConverter", "run_converter"]

# Seconds between safety-net scans of a watch folder (and claim checks) where its change
# events cannot be trusted (no inotify, a network file system): see _folder_watch.
_RESCAN = 10.0
_CLAIM_RETRY = 5.0  # seconds between claims of a folder someone else holds
_RELEASE_WAIT = 5.0  # seconds a release may take (a hung share) before the actor ends anyway
_QUEUE_FULL_RETRY = 5.0
_FIFO_CHECK = 1.0  # seconds between checks that the input being read is still not a FIFO
_ID_NAMESPACE = uuid.UUID("6f1c1f4e-3a53-4d43-9a37-0f6a5f0c2b1e")


class ConverterStats(msgspec.Struct, kw_only=True):
    """What one converter has done (status, control channel)."""

    name: str
    kind: str
    type: str
    # starting | watching | waiting | refused | scheduled | broken | disabled
    state: str = "starting"
    error: str | None = None  # why it is broken, waiting or refused
    converted: int = 0
    failed: int = 0
    skipped: int = 0
    suspended: int = 0
    reports: int = 0
    pending: int = 0
    refused: int = 0  # entries in the watch folder that are not inputs (links, FIFOs, …) now
    last_refused: str | None = None  # the latest of them and why
    last_file: str | None = None
    last_error: str | None = None
    last_at: float | None = None
    # Who its reports name when it has a [converters.station] of its own (hub mode), else None.
    station: StationInfo | None = None


@dataclass
class LoadedConverter:
    """A configured converter, described and with its arguments checked.

    Built-ins run here (``instance`` set: a thread, or a child for big inputs); user
    converters run in a child process and
    are known here only by their :class:`ConverterDescription` (the daemon never imports them).
    """

    config: ConverterConfig
    description: ConverterDescription
    stats: ConverterStats
    base_dir: Path | None = None
    instance: Any = None  # a built-in converter, with `arguments` parsed
    arguments: Any = None

    @property
    def builtin(self) -> bool:
        """Whether it runs in this process (a trusted built-in)."""
        return self.instance is not None


@dataclass
class ConverterHost:
    """What every converter actor shares: the queue, the station and where events go
    (``publish``: the control channel's event types; synchronous, never blocking).

    ``claims`` holds the daemon's watch folders; the holder's note names ``config_file`` so
    that a second daemon on the same folders can say which configuration runs the first.
    """

    queue: ReportQueue
    runtime: Runtime
    station: StationInfo
    processes: Callable[[], list[Process]]
    publish: Callable[[str, msgspec.Struct], None] = lambda event, payload: None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("pywats_station.convert"))
    config_file: Path | None = None
    claims: FolderClaims = field(init=False)

    def __post_init__(self) -> None:
        self.claims = FolderClaims(instance=self.runtime.instance, config=self.config_file)


async def run_converter(
    loaded: LoadedConverter,
    host: ConverterHost,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run one converter until cancelled."""
    worker = _Worker(loaded, host)
    try:
        if loaded.description.type == "scheduled":
            await worker.run_scheduled(task_status)
        else:
            await worker.run_watching(task_status)
    finally:
        # A user converter's warm child ends with its actor (stop, removal, reload, restart).
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(worker.runner.close)


@dataclass
class _Queued:
    """Reports put in the queue for one input: their entries, the depth after, their units."""

    entries: list[Entry]
    depth: int
    units: list[Unit]
    # Each entry's WSJF bytes, in the order of `entries`: offered to the uploader in memory.
    payloads: list[bytes]


@dataclass
class _Trip:
    """How far an input got in its worker-thread trip(s): each stage's outcome, up to the
    first that stopped it (``checked`` set, a confidence below the reject threshold, a result
    other than :class:`Converted`, or ``queue_error``)."""

    checked: Exception | None = None  # check_input refused it, or could not open it
    validation: Validation | None = None
    result: ConversionResult | None = None
    queued: _Queued | None = None
    queue_error: Exception | None = None  # QueueFull, NotAnInput or OSError: see _queue_and_tidy


class _Worker:
    def __init__(self, loaded: LoadedConverter, host: ConverterHost) -> None:
        self.loaded = loaded
        self.cfg = loaded.config
        self.host = host
        self.stats = loaded.stats
        self.log = logging.getLogger(f"pywats_station.converter.{self.cfg.name}")
        self.desc = loaded.description
        self.folder_mode = self.desc.type == "folder"
        self.patterns = self.cfg.patterns or self.desc.patterns or ["*"]
        # Which inputs are settling, waiting for a retry, or set aside while unchanged; the
        # three maps are the settler's own (changed in place, never replaced).
        self.track = Settler(settle=self.cfg.settle)
        self.settling = self.track.settling
        self.not_before = self.track.not_before
        self.ignored = self.track.ignored
        # entries that are not inputs (links, FIFOs…) -> why; each is logged once
        self.refused: dict[Path, str] = {}
        # the input being read now and since when (monotonic): see _guard_reads
        self.reading = trio.Event()  # set when an input is taken: _guard_reads wakes
        # inputs an event says may be complete (renamed in, closed after writing): see _scan
        self.hinted: set[Path] = set()
        self.claim_touched = trio.Event()  # an event named the claim file: see _guard_claim
        self.queue_blocked = False  # the last queueing failed (disk full…): see _blocked
        self.current: tuple[Path, float] | None = None
        self.policy = InputPolicy(
            root=Path(self.cfg.watch).expanduser().absolute(),
            folders=self.folder_mode,
            follow_symlinks=self.cfg.follow_symlinks,
            max_size=self.cfg.max_file_size,
            companions=tuple(self.desc.companions) if self.folder_mode else (),
        )
        self.runner = ConverterRunner(
            cfg=self.cfg,
            base_dir=loaded.base_dir,
            instance=loaded.instance,
            arguments=loaded.arguments,
            station=lambda: self.cfg.station.over(host.station),
            processes=host.processes,
            log=self.log,
        )

    # --- scheduled ----------------------------------------------------------------------

    async def run_scheduled(self, task_status: trio.TaskStatus[None]) -> None:
        schedule = parse_schedule(self.cfg.schedule or self.desc.schedule or "every 1h")
        run_now = self.cfg.run_at_startup or self.desc.run_at_startup
        self.stats.state = "scheduled"
        task_status.started()
        while True:
            if not run_now:
                now = datetime.now().astimezone()
                due = schedule.next_after(now)
                await trio.sleep(max(0.0, (due - now).total_seconds()))
            run_now = False
            label = f"scheduled run of {self.cfg.name}"
            try:
                await self._scheduled_run(label)
            except Exception as exc:  # a bug of ours: this run fails, the schedule goes on
                self.log.error("%s: internal error", label, exc_info=exc)
                self._failed(label, f"internal error: {exception_line(exc)}")

    async def _scheduled_run(self, label: str) -> None:
        started = time.monotonic()
        result = await self.runner.convert(None)
        if isinstance(result, Converted):
            try:
                await self._enqueue(
                    result, source=label, key=f"{time.time_ns()}", path=label, started=started
                )
            except QueueFull as exc:
                self._failed(label, f"queue full, run skipped: {exc}")
                return
            self._done(label, result)
        elif isinstance(result, Failed):
            self._failed(label, result.reason)

    # --- watched folders ----------------------------------------------------------------

    async def run_watching(self, task_status: trio.TaskStatus[None]) -> None:
        # Started at once: a folder that is not there yet (or held by another daemon) must not
        # hold up the other actors.
        task_status.started()
        while True:
            watch, done, error = await self._wait_for_folders()
            claim = await self._claim(watch)
            if claim is None:
                await trio.sleep(_CLAIM_RETRY)
                continue
            # No checkpoint between the claim and this try: a cancel cannot leak the claim.
            try:
                self.stats.state, self.stats.error = "watching", None
                await self._watch(watch, done, error, claim)
            # except*: both come out of the watch's nursery, in a group.
            except* WatchFolderLost as lost:
                # Renamed, deleted, or a share unmounted under it: start over on the folder that
                # is (or will be) at that path, with a new watcher (the old one follows the
                # moved folder, or nothing).
                gone = lost.exceptions[0]
                self.stats.state, self.stats.error = "waiting", f"watch folder lost: {gone}"
                self.log.warning(
                    "%s: watch folder %s lost (%s)", self.cfg.name, display_name(watch), gone
                )
            except* ClaimLost as taken:
                # Someone deleted the claim file: another daemon may hold a new one by now, so
                # claim again (and be refused, if so) before reading anything more.
                why = taken.exceptions[0]
                self.stats.state, self.stats.error = "waiting", str(why)
                self.log.warning("%s: %s; claiming the folder again", self.cfg.name, why)
            finally:
                # Shielded, so that a stop or a removal (a cancel) still gives the folder up,
                # but bounded: a hung share must not hold the actor's end for ever (the lock
                # dies with the process anyway).
                with trio.move_on_after(_RELEASE_WAIT, shield=True):
                    await trio.to_thread.run_sync(claim.release, abandon_on_cancel=True)

    async def _claim(self, watch: Path) -> FolderClaim | None:
        """Claim the watch folder; ``None`` (state ``refused``, said once) if someone holds it."""
        try:
            claim = await trio.to_thread.run_sync(self.host.claims.claim, watch, self.cfg.name)
        except ClaimRefused as exc:
            reason = str(exc)
            if (self.stats.state, self.stats.error) != ("refused", reason):
                self.log.warning(
                    "%s: %s; trying again every %.0f s", self.cfg.name, reason, _CLAIM_RETRY
                )
            self.stats.state, self.stats.error = "refused", reason
            return None
        except OSError as exc:  # the folder went away since it was made: make it again
            why = display_text(str(exc))
            self.stats.state, self.stats.error = "waiting", f"watch folder unavailable: {why}"
            return None
        if claim.unprotected is not None:
            self.log.warning(
                "%s: watching %s without a claim: %s; make sure no other station watches it",
                self.cfg.name,
                display_name(claim.folder),
                claim.unprotected,
            )
        return claim

    async def _guard_claim(self, claim: FolderClaim, watch: FolderWatch) -> None:
        """Check that the claim file is still ours (raises :class:`ClaimLost`): when an event
        names it, and every rescan where events cannot be trusted."""
        while True:
            self.claim_touched = trio.Event()
            with trio.move_on_after(_RESCAN if not watch.complete else math.inf):
                await self.claim_touched.wait()
            await trio.to_thread.run_sync(claim.check)

    async def _wait_for_folders(self) -> tuple[Path, Path, Path]:
        while True:
            try:
                folders = await trio.to_thread.run_sync(self._prepare_folders)
            except OSError as exc:
                # A folder that cannot be created (permissions, a share not mounted): say so
                # and try again, instead of a restart loop that would take the others down.
                why = display_text(str(exc))
                self.stats.state, self.stats.error = "waiting", f"folders unavailable: {why}"
                self.log.error("%s: %s; retrying in %.0f s", self.cfg.name, why, _RESCAN)
                await trio.sleep(_RESCAN)
            else:
                return folders

    async def _watch(self, watch: Path, done: Path, error: Path, claim: FolderClaim) -> None:
        kick = trio.Event()

        def changed(changes: Changes) -> None:
            if not self.folder_mode:
                self.hinted |= changes.complete
            if changes.overflow or any(p.name == CLAIM_FILE for p in changes.paths):
                self.claim_touched.set()
            kick.set()

        events = FolderWatch(
            watch,
            changed,
            recursive=self.folder_mode,
            log=self.log,
            name=self.cfg.name,
            max_pause=_RESCAN,
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._guard_claim, claim, events)
            nursery.start_soon(events.run)
            nursery.start_soon(self._guard_reads)
            while True:
                kick = trio.Event()
                ready = await self._scan(watch, {done, error})
                for path in ready:
                    await self._handle(path)
                # Wake on a change, else when a settling file could be ready, else to rescan
                # (only where the events cannot be trusted: idle means asleep).
                rescan = math.inf if events.complete else _RESCAN
                with trio.move_on_after(self.track.next_wake(time.monotonic(), rescan)):
                    await kick.wait()

    def _prepare_folders(self) -> tuple[Path, Path, Path]:
        watch = Path(self.cfg.watch).expanduser()
        done, error = self.cfg.done_dir, self.cfg.error_dir
        for folder in (watch, done, error):
            folder.mkdir(parents=True, exist_ok=True)
        # Links may lead into the watch folder's real tree only (it may itself be a link).
        self.policy = dataclasses.replace(self.policy, root=watch.resolve())
        return watch, done.resolve(), error.resolve()

    async def _scan(self, watch: Path, skip: set[Path]) -> list[Path]:
        """Inputs that stopped changing (or proven complete), oldest first (one folder
        listing, in a thread)."""
        hinted, self.hinted = self.hinted, set()
        rules = self._rules()

        def listing() -> tuple[list[tuple[Path, SourceState]], dict[Path, str], set[Path]]:
            inputs, refused = list_inputs(watch, skip, rules)
            return inputs, refused, complete_inputs(inputs, hinted) if hinted else set()

        try:
            inputs, refused, complete = await trio.to_thread.run_sync(listing)
        except OSError as exc:  # e.g. permissions changed, a share hiccup: try again later
            self.log.warning("cannot list %s: %s", display_name(watch), display_text(str(exc)))
            return []  # what is known stays known until the next listing
        self._note_refused(refused)
        ready = self.track.ready(inputs, time.monotonic(), complete)
        self.stats.pending = len(self.settling)
        return ready

    def _rules(self) -> ListingRules:
        return ListingRules(
            policy=self.policy,
            patterns=self.patterns,
            ready_marker=self.cfg.ready_marker or self.desc.ready_marker,
            min_files=self.cfg.min_files or self.desc.min_files,
            expected=tuple(self.desc.expected),
            kept_in=self.cfg.done_dir if self.cfg.post_action == "keep" else None,
        )

    def _note_refused(self, refused: dict[Path, str]) -> None:
        """Log each refused entry once (again only if its reason changes); count them."""
        for path, reason in refused.items():
            if self.refused.get(path) != reason:
                self._refuse(path, reason)
        self.refused = refused
        self.stats.refused = len(refused)

    def _refuse(self, path: Path, reason: str) -> None:
        shown = f"{display_name(path.name)} {display_text(reason)}"
        self.refused[path] = reason
        self.stats.refused = len(self.refused)
        self.stats.last_refused = shown
        self.log.warning("%s: %s; it is left where it is", self.cfg.name, shown)

    async def _guard_reads(self) -> None:
        """Free a read of the current input that waits on a FIFO swapped in for the file.

        The input is checked to be a regular file just before it is read, but a converter
        opens it again by name: if the name is a FIFO by then, that open would wait for a
        writer for ever, and the converter with it. Checked once a second, only while an
        input is being read (asleep otherwise).
        """
        while True:
            if self.current is None:
                self.reading = trio.Event()
                await self.reading.wait()
            await trio.sleep(_FIFO_CHECK)
            current = self.current
            if current is None or time.monotonic() - current[1] < _FIFO_CHECK:
                continue
            if await trio.to_thread.run_sync(release_fifo, current[0]):
                self.log.warning(
                    "%s: %s became a FIFO while it was read; its reader was released",
                    self.cfg.name,
                    display_name(current[0].name),
                )

    async def _handle(self, path: Path) -> None:
        """Take one settled input through the pipeline; whatever fails, fails this input alone.

        Expected outcomes (converted, skipped, suspended, failed, queue full, disk full) are
        handled in :meth:`_process`. Anything else is a bug, ours or a converter's that got
        past the sandbox: logged once with its traceback, and the input goes to the error
        folder as an internal error; the converter goes on with the next input.
        """
        state = self.settling.pop(path, (None, 0.0))[0]
        if state is None:
            return
        failpoint("convert.settled")
        self.current = (path, time.monotonic())
        self.reading.set()
        try:
            await self._process(path, state)
        except Exception as exc:
            self.log.error(
                "%s: internal error while handling %s",
                self.cfg.name,
                display_name(path.name),
                exc_info=exc,
            )
            await self._to_error(path, f"internal error: {exception_line(exc)}", state)
        finally:
            self.current = None

    async def _process(self, path: Path, state: SourceState) -> None:
        started = time.monotonic()
        if self.loaded.builtin:
            trip = await self._one_trip(path)
        else:
            trip = await self._trips(path)
        exc = trip.checked
        if isinstance(exc, NotAnInput):  # swapped for a link or a FIFO since it was listed
            self._refuse(path, str(exc))
            return
        if isinstance(exc, InputRefused):  # too big, or a folder holding a link or a FIFO
            await self._to_error(path, str(exc), state)
            return
        if isinstance(exc, FileNotFoundError):
            return  # gone meanwhile (moved away by someone else)
        if exc is not None:
            await self._to_error(path, f"cannot be read: {exc}", state)
            return
        validation = trip.validation
        assert validation is not None  # checked, so validated
        name = display_name(path.name)
        verdict = classify_confidence(
            validation, alarm=self.cfg.alarm_threshold, reject=self.cfg.reject_threshold
        )
        if verdict == "reject":
            why = validation.message or "the converter does not recognise this input"
            await self._to_error(
                path,
                f"confidence {validation.confidence:.2f} is below the reject threshold "
                f"{self.cfg.reject_threshold:.2f}: {why}",
                state,
            )
            return
        if verdict == "alarm":
            self.log.warning(
                "%s: low confidence %.2f (alarm below %.2f)",
                name,
                validation.confidence,
                self.cfg.alarm_threshold,
            )
        result = trip.result
        assert result is not None  # not rejected, so converted
        if isinstance(result, Converted):
            await self._queue_and_tidy(path, state, result, trip, started)
        elif isinstance(result, Skipped):
            self.stats.skipped += 1
            self.ignored[path] = state
            self.log.info("%s skipped: %s", name, display_text(result.reason))
        elif isinstance(result, Suspended):
            self.stats.suspended += 1
            self.not_before[path] = time.monotonic() + max(0.0, result.retry_after)
            self.log.info(
                "%s suspended for %.0f s: %s", name, result.retry_after, display_text(result.reason)
            )
        else:
            await self._to_error(path, result.reason, state)

    async def _one_trip(self, path: Path) -> _Trip:
        """A built-in: check, validate, convert and queue ``path`` in one worker-thread trip.

        Each trip to a thread and back costs more CPU than a small file's whole conversion
        (docs/performance.md, "CPU per report"), so the steps that used to be a trip each are
        one here; the loop then decides, from :class:`_Trip`, what the outcome means.
        """
        runner = self.runner
        ctx, data = runner.context(), runner.context_data()
        release = release_soon(trio.lowlevel.current_trio_token())
        limits = OutputLimits(
            max_report_size=self.cfg.max_report_size,
            max_output_size=self.cfg.max_output_size,
            settings=f"converters.{self.cfg.name}",
        )
        instance = runner.instance

        def trip() -> _Trip:
            done = _Trip()
            try:
                # What it is *now*, opened the safe way: the listing may be seconds old.
                check_input(path, self.policy)
            except (NotAnInput, InputRefused, OSError) as exc:
                done.checked = exc
                return done
            try:
                done.validation = instance.validate(path, ctx)
            except Exception as exc:
                done.validation = Validation(confidence=0.0, message=f"validate() raised {exc!r}")
            if self._rejects(done.validation):
                return done
            failpoint("convert.before_convert")
            done.result = convert_builtin(
                instance,
                self.cfg.kind,
                path,
                ctx,
                data,
                limits=limits,
                child_above=self.cfg.child_process_above,
                timeout=self.cfg.timeout,
                memory_mb=self.cfg.memory_mb,
                log=self.log,
                on_release=release,
            )
            failpoint("convert.converted")
            if isinstance(done.result, Converted):
                self._key_and_put(path, done)
            return done

        return await trio.to_thread.run_sync(trip)

    async def _trips(self, path: Path) -> _Trip:
        """A user converter: check, validate and convert in its warm child (one round trip to
        it: :meth:`ConverterRunner.in_child`), then queue, all in one worker-thread trip too.
        """
        runner = self.runner
        data, limits = runner.context_data(), runner.limits()

        def trip() -> _Trip:
            done = _Trip()
            try:
                # What it is *now*, opened the safe way: the listing may be seconds old.
                check_input(path, self.policy)
            except (NotAnInput, InputRefused, OSError) as exc:
                done.checked = exc
                return done
            done.validation, result = runner.in_child(path, data, limits)
            if self._rejects(done.validation):
                return done
            failpoint("convert.before_convert")
            done.result = result or Failed(reason="converter process replied without a result")
            failpoint("convert.converted")
            if isinstance(done.result, Converted):
                self._key_and_put(path, done)
            return done

        # A stop, reload or restart while the child works must not wait out its timeout (the
        # thread cannot be abandoned: it may be queueing): the child is killed, the trip ends
        # at once, and the input stays where it is, untouched, for the next start.
        finished = aborted = False

        async def abort_when_cancelled() -> None:
            nonlocal aborted
            try:
                await trio.sleep_forever()
            finally:
                if not finished:
                    aborted = True
                    runner.abort()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(abort_when_cancelled)
            done = await trio.to_thread.run_sync(trip)
            finished = True
            nursery.cancel_scope.cancel()
        if aborted:
            await trio.lowlevel.checkpoint()  # cancelled: the killed trip's outcome is dropped
        return done

    def _rejects(self, validation: Validation) -> bool:
        """Whether the confidence is below the reject threshold (the input is not converted)."""
        verdict = classify_confidence(
            validation, alarm=self.cfg.alarm_threshold, reject=self.cfg.reject_threshold
        )
        return verdict == "reject"

    def _key_and_put(self, path: Path, done: _Trip) -> None:
        """Give the reports their ids (from the content) and queue them (in a worker thread);
        what goes wrong is kept in ``done.queue_error`` for the loop to sort out."""
        assert isinstance(done.result, Converted)
        try:
            key = content_key(path, self.policy)
            source = f"{self.cfg.name}:{display_name(path.name)}"
            done.queued = self._put_reports(done.result, source=source, key=key)
        except (QueueFull, NotAnInput, OSError) as exc:
            done.queue_error = exc

    async def _queue_and_tidy(
        self, path: Path, state: SourceState, result: Converted, trip: _Trip, started: float
    ) -> None:
        """Sort out how queueing the reports went (in the trip), then apply the post action."""
        name = display_name(path.name)
        try:
            if trip.queue_error is not None:
                raise trip.queue_error
            assert trip.queued is not None
            self._announce(trip.queued, path=display_name(path), started=started)
        except QueueFull as exc:
            # Backpressure: the source stays where it is until the queue has room.
            self.log.warning("%s: queue full (%s); %s waits", self.cfg.name, exc, name)
            self.not_before[path] = time.monotonic() + _QUEUE_FULL_RETRY
            self.settling[path] = (state, 0.0)
            return
        except NotAnInput as exc:  # swapped for a link or a FIFO while it was converted
            self._refuse(path, str(exc))
            return
        except OSError as exc:
            # Reading the input again for its id, or writing the queue (disk full, read-only
            # file system): nothing was lost, the source stays and is tried again.
            self.not_before[path] = time.monotonic() + _QUEUE_FULL_RETRY
            self.log.warning(
                "%s: %s not queued (%s); it stays and is tried again in %.0f s",
                self.cfg.name,
                name,
                display_text(str(exc)),
                _QUEUE_FULL_RETRY,
            )
            self._blocked(name, exc)
            return
        # The reports are durable from here: whatever happens to the source now, it must not
        # go to the error folder (it was converted), nor be converted again while unchanged.
        failpoint("convert.queued")
        try:
            await trio.to_thread.run_sync(
                post_process, self.cfg.post_action, path, self.cfg.done_dir, state, self.policy
            )
        except Exception as exc:
            # Only tidying failed; a bug here is logged with its traceback.
            self.ignored[path] = state
            self.log.error(
                "%s: post action %s failed: %s; the source stays (its reports are queued)",
                name,
                self.cfg.post_action,
                display_text(str(exc)),
                exc_info=None if isinstance(exc, OSError) else exc,
            )
        failpoint("convert.source_moved")
        if self.cfg.post_action == "keep":
            self.ignored[path] = state
        self._done(name, result)

    # --- queueing ------------------------------------------------------------------------

    async def _enqueue(
        self, result: Converted, *, source: str, key: str, path: str, started: float
    ) -> None:
        """Queue the reports durably, then announce the file and its reports (in that order)."""
        queued = await trio.to_thread.run_sync(
            lambda: self._put_reports(result, source=source, key=key)
        )
        self._announce(queued, path=path, started=started)

    def _put_reports(self, result: Converted, *, source: str, key: str) -> _Queued:
        """Encode and queue the reports, each durable when this returns (in a worker thread)."""
        reports = list(result.reports)
        if not self.desc.keeps_report_ids:
            for index, report in enumerate(reports):
                report.id = uuid.uuid5(_ID_NAMESPACE, f"{self.cfg.name}\0{key}\0{index}")
        # The unit is read from the report in hand, so that the queue can name it later
        # (listing, uploads) without parsing the report again.
        payloads = [(str(r.id), wsjf.dumps(r), unit_of(r)) for r in reports]
        queue = self.host.queue
        entries = []
        for report_id, data, unit in payloads:
            entries.append(queue.put(report_id, data, source=source, unit=unit))
            failpoint("convert.put")  # some of an input's reports queued, not all
        # The depth is a counter; stats() would read the oldest entry's header as well.
        return _Queued(
            entries, queue.depth(), [unit for _, _, unit in payloads], [d for _, d, _ in payloads]
        )

    def _announce(self, queued: _Queued, *, path: str, started: float) -> None:
        """Count the queued reports, wake the uploader, publish the file's and reports' events.

        No checkpoint in here: the events go out before any upload of these reports can finish.
        """
        entries, depth = queued.entries, queued.depth
        self.host.runtime.counters.queued += len(entries)
        # The uploader may claim them with the bytes in hand, without walking the folder and
        # reading the files again (it does that for whatever it cannot claim so).
        self.host.runtime.hand_over(zip(entries, queued.payloads, strict=True))
        converted = FileConverted(
            converter=self.cfg.name,
            path=path,
            reports=[entry.report_id for entry in entries],
            duration=time.monotonic() - started,
            units=[unit_header(unit) for unit in queued.units],  # in the order of `reports`
        )
        self._publish("file_converted", converted)
        for entry in entries:
            event = ReportQueued(
                report_id=entry.report_id,
                seq=entry.seq,
                source=entry.source,
                size=entry.size,
                depth=depth,
                unit=entry_unit(entry),
            )
            self._publish("report_queued", event)

    def _publish(self, event: str, payload: msgspec.Struct) -> None:
        """Publish an event; a failure to announce never fails the input (it is done)."""
        try:
            self.host.publish(event, payload)
        except Exception as exc:
            self.log.error("%s: event %s not published", self.cfg.name, event, exc_info=exc)

    # --- outcomes -----------------------------------------------------------------------

    def _blocked(self, name: str, exc: OSError) -> None:
        """Show in the status why inputs wait (a full disk says so, naming the folder)."""
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        why = "disk full" if full else "cannot write the queue"
        where = display_text(str(exc.filename or self.host.queue.path))
        reason = display_text(exc.strerror or str(exc))
        self.stats.state = "waiting"
        self.stats.error = f"{why}: {name} not queued in {where} ({reason}); it waits in place"
        self.queue_blocked = True

    def _done(self, name: str, result: Converted) -> None:
        if self.queue_blocked:  # the queue takes reports again
            self.queue_blocked = False
            self.stats.state, self.stats.error = "watching", None
        self.stats.converted += 1
        self.stats.reports += len(result.reports)
        self.stats.last_file, self.stats.last_at = name, time.time()
        self.host.runtime.counters.converted += 1
        self.log.info("%s converted: %d report(s) queued", name, len(result.reports))

    def _failed(
        self, name: str, reason: str, *, path: str | None = None, moved_to: str | None = None
    ) -> None:
        """Count and announce an input that failed; ``name``/``path`` are already escaped."""
        reason = display_text(reason) or "failed"
        self.stats.failed += 1
        self.stats.last_file, self.stats.last_error, self.stats.last_at = name, reason, time.time()
        self.host.runtime.counters.conversion_failures += 1
        self.log.warning("%s failed: %s", name, reason)
        event = FileFailed(
            converter=self.cfg.name,
            path=path or name,
            error=reason,
            moved_to=moved_to,
        )
        self._publish("file_failed", event)

    async def _to_error(self, path: Path, reason: str, state: SourceState | None) -> None:
        """Move a failed input to the error folder with its reason; never raises.

        If even that fails, the input stays and is remembered with its state: it is not tried
        again (in a loop, logging each time) until it changes or the daemon restarts.
        """

        def move() -> str | None:
            try:
                target = to_error(
                    path,
                    self.cfg.error_dir,
                    converter=self.cfg.name,
                    reason=reason,
                    policy=self.policy,
                )
            except FileNotFoundError:
                if path.is_symlink() or path.exists():
                    raise
                return None  # deleted while it was read: nothing to move or keep
            return display_name(target)

        moved_to: str | None = None
        try:
            moved_to = await trio.to_thread.run_sync(move)
            if moved_to is None:
                self.log.warning(
                    "%s: %s was deleted meanwhile", self.cfg.name, display_name(path.name)
                )
        except Exception as exc:
            self._not_to_error(path, exc, state)
        self._failed(display_name(path.name), reason, path=display_name(path), moved_to=moved_to)

    def _not_to_error(self, path: Path, exc: Exception, state: SourceState | None) -> None:
        """The error folder cannot take the input: it stays, not retried until it changes."""
        self.log.error(
            "%s: %s cannot be moved to the error folder (%s); it stays and is tried "
            "again when it changes",
            self.cfg.name,
            display_name(path.name),
            display_text(str(exc)),
            exc_info=None if isinstance(exc, OSError) else exc,
        )
        if state is not None:
            self.ignored[path] = state
        else:
            self.not_before[path] = time.monotonic() + _RESCAN

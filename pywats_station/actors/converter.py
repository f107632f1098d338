"""The per-converter actor: watch -> settle -> validate -> convert -> enqueue -> post action.

One actor per configured converter, under the ``converters`` supervisor:

* **file** converters watch their folder (inotify on trio's loop, asleep while nothing changes;
  watchfiles and a periodic rescan only where events cannot be trusted: see
  :mod:`pywats_station.actors._folder_watch`); **folder** converters watch for ready
  sub-folders; **scheduled** converters run on their schedule.
* On start-up the folder is scanned, so files that arrived while the daemon was down are
  converted, oldest first, exactly once.
* A file is read only once it has stopped changing (same size and modification time for
  ``settle`` seconds): equipment and network shares write in chunks. Listing, settling and
  change events are in :mod:`pywats_station.actors._watching`.
* What happens to an input once taken is :mod:`pywats_station.actors._input_pipeline`.
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
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import trio

from pywats.models.app import Process
from pywats_station._display import display_name, display_text
from pywats_station._failpoints import failpoint
from pywats_station.actors._folder_claim import (
    CLAIM_FILE,
    ClaimLost,
    ClaimRefused,
    FolderClaim,
    FolderClaims,
)
from pywats_station.actors._folder_watch import FolderWatch
from pywats_station.actors._inotify import Changes
from pywats_station.actors._input_pipeline import InputPipeline
from pywats_station.actors._watching import (
    ListingRules,
    WatchFolderLost,
    complete_inputs,
    exception_line,
    list_inputs,
)
from pywats_station.config import ConverterConfig
from pywats_station.converters import (
    Converted,
    Failed,
    StationInfo,
)
from pywats_station.converters._intake import (
    release_fifo,
)
from pywats_station.converters._sources import (
    SourceState,
)
from pywats_station.converters.sandbox import (
    ConverterDescription,
)
from pywats_station.converters.schedule import parse_schedule
from pywats_station.queue import QueueFull, ReportQueue
from pywats_station.runtime import Runtime

__all__ = ["ConverterHost", "ConverterStats", "LoadedConverter", "run_converter"]

# Seconds between safety-net scans of a watch folder (and claim checks) where its change
# events cannot be trusted (no inotify, a network file system): see _folder_watch.
_RESCAN = 10.0
_CLAIM_RETRY = 5.0  # seconds between claims of a folder someone else holds
_RELEASE_WAIT = 5.0  # seconds a release may take (a hung share) before the actor ends anyway
_FIFO_CHECK = 1.0  # seconds between checks that the input being read is still not a FIFO


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


class _Worker(InputPipeline):
    """A converter actor: its schedule, or its watch folder (claimed, watched, settled)."""

    def __init__(self, loaded: LoadedConverter, host: ConverterHost) -> None:
        super().__init__(loaded, host)
        self.reading = trio.Event()  # set when an input is taken: _guard_reads wakes
        # inputs an event says may be complete (renamed in, closed after writing): see _scan
        self.hinted: set[Path] = set()
        self.claim_touched = trio.Event()  # an event named the claim file: see _guard_claim

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

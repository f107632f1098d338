"""One input's way through a converter: check, validate, convert, queue, tidy, tell.

:class:`InputPipeline` is the half of a converter actor (:mod:`pywats_station.actors.converter`)
that handles an input once it is taken: a built-in converter checks, validates, converts, keys
and queues it in one worker-thread trip, a user converter in one round trip to its warm child;
the reports are durable in the queue before the post action touches the source; then the
events (``file_converted``, ``report_queued``; ``file_failed``) go out and the uploader is
handed the reports. Whatever fails here fails this input alone: to the error folder with the
reason beside it, or left in place (queue full, disk full) to be tried again.
"""

from __future__ import annotations

import errno
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import trio

from pywats.formats import wsjf
from pywats_station._display import display_name, display_text
from pywats_station._failpoints import failpoint
from pywats_station.actors._conversion import ConverterRunner
from pywats_station.actors._watching import Settler
from pywats_station.actors.control_methods import entry_unit, unit_header
from pywats_station.control.events import FileConverted, FileFailed, ReportQueued
from pywats_station.converters import (
    ConversionResult,
    Converted,
    Failed,
    Skipped,
    Suspended,
    Validation,
    classify_confidence,
)
from pywats_station.converters._intake import (
    InputPolicy,
    InputRefused,
    NotAnInput,
    check_input,
)
from pywats_station.converters._placement import release_soon
from pywats_station.converters._sources import (
    SourceState,
    content_key,
    post_process,
    to_error,
)
from pywats_station.queue import Entry, QueueFull, Unit, unit_of

if TYPE_CHECKING:
    from pywats_station.actors.converter import ConverterHost, LoadedConverter

__all__ = ["InputPipeline", "Queued", "Trip"]

_QUEUE_FULL_RETRY = 5.0  # seconds before an input the queue could not take is tried again
_NOT_MOVED_RETRY = 10.0  # seconds before an input that could not be moved is looked at again
_ID_NAMESPACE = uuid.UUID("6f1c1f4e-3a53-4d43-9a37-0f6a5f0c2b1e")


@dataclass
class Queued:
    """Reports put in the queue for one input: their entries, the depth after, their units."""

    entries: list[Entry]
    depth: int
    units: list[Unit]
    # Each entry's WSJF bytes, in the order of `entries`: offered to the uploader in memory.
    payloads: list[bytes]


@dataclass
class Trip:
    """How far an input got in its worker-thread trip(s): each stage's outcome, up to the
    first that stopped it (``checked`` set, a confidence below the reject threshold, a result
    other than :class:`Converted`, or ``queue_error``)."""

    checked: Exception | None = None  # check_input refused it, or could not open it
    validation: Validation | None = None
    result: ConversionResult | None = None
    queued: Queued | None = None
    queue_error: Exception | None = None  # QueueFull, NotAnInput or OSError: see _queue_and_tidy


class InputPipeline:
    """The per-input half of a converter actor (see the module's docstring)."""

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
        self.queue_blocked = False  # the last queueing failed (disk full…): see _blocked
        # the input being read now and since when (monotonic): see _Worker._guard_reads
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

    def _refuse(self, path: Path, reason: str) -> None:
        shown = f"{display_name(path.name)} {display_text(reason)}"
        self.refused[path] = reason
        self.stats.refused = len(self.refused)
        self.stats.last_refused = shown
        self.log.warning("%s: %s; it is left where it is", self.cfg.name, shown)

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

    async def _one_trip(self, path: Path) -> Trip:
        """A built-in: check, validate, convert and queue ``path`` in one worker-thread trip.

        Each trip to a thread and back costs more CPU than a small file's whole conversion
        (docs/performance.md, "CPU per report"), so the steps that used to be a trip each are
        one here; the loop then decides, from :class:`Trip`, what the outcome means.
        """
        runner = self.runner
        ctx, data = runner.context(), runner.context_data()
        release = release_soon(trio.lowlevel.current_trio_token())
        limits = runner.limits()
        instance = runner.instance

        def trip() -> Trip:
            done = Trip()
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
            done.result = runner.convert_builtin(path, ctx, data, limits, release)
            failpoint("convert.converted")
            if isinstance(done.result, Converted):
                self._key_and_put(path, done)
            return done

        return await trio.to_thread.run_sync(trip)

    async def _trips(self, path: Path) -> Trip:
        """A user converter: check, validate and convert in its warm child (one round trip to
        it: :meth:`ConverterRunner.in_child`), then queue, all in one worker-thread trip too.
        """
        runner = self.runner
        data, limits = runner.context_data(), runner.limits()

        def trip() -> Trip:
            done = Trip()
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

    def _key_and_put(self, path: Path, done: Trip) -> None:
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
        self, path: Path, state: SourceState, result: Converted, trip: Trip, started: float
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

    def _put_reports(self, result: Converted, *, source: str, key: str) -> Queued:
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
        return Queued(
            entries, queue.depth(), [unit for _, _, unit in payloads], [d for _, d, _ in payloads]
        )

    def _announce(self, queued: Queued, *, path: str, started: float) -> None:
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
            self.not_before[path] = time.monotonic() + _NOT_MOVED_RETRY

"""Watching one converter's folder: change events, the listing, and which inputs have settled.

The converter actor (:mod:`pywats_station.actors.converter`) scans its folder on every change
event and every few seconds; here is what a scan does:

* :func:`list_inputs` (blocking, in a worker thread) lists the folder once: the inputs with
  their state, and the entries that are not inputs with the reason (a link, a FIFO, …; see
  :mod:`pywats_station.converters._intake`). Each entry is inspected on its own, so one that
  cannot be inspected is refused and the others are listed;
* :class:`Settler` decides which inputs are ready: unchanged for ``settle`` seconds, not waiting
  for a retry, not set aside while unchanged;
* :func:`watch_events` turns watchfiles' change events into scans, and survives watchfiles
  failing (it cannot decode a name that is not UTF-8).
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio
import watchfiles

from pywats_station._display import display_name, display_text
from pywats_station.converters import folder_ready, matches_patterns
from pywats_station.converters._intake import (
    InputPolicy,
    NotAnInput,
    companion_files,
    input_state,
    inspect,
    pair_state,
)
from pywats_station.converters._sources import SourceState, is_kept
from pywats_station.converters.api import companion_owner

__all__ = [
    "Listing",
    "ListingRules",
    "Settler",
    "WatchFolderLost",
    "exception_line",
    "list_inputs",
    "watch_events",
]

Listing = tuple[list[tuple[Path, SourceState]], dict[Path, str]]
"""The inputs with their state, and the entries refused with the reason."""


class WatchFolderLost(Exception):
    """The watch folder is no longer there (renamed, deleted, unmounted)."""


@dataclass(frozen=True, slots=True)
class ListingRules:
    """What counts as an input of one converter.

    Attributes:
        policy: links, special files, sizes (see :class:`InputPolicy`).
        patterns: names of inputs (fnmatch, any case).
        ready_marker: folder converters: the file that says a folder is complete.
        min_files: folder converters: ... or this many files.
        expected: folder converters: ... and one file for each of these patterns.
        kept_in: with post action ``keep``, the done folder whose markers say "converted".
    """

    policy: InputPolicy
    patterns: list[str]
    ready_marker: str | None = None
    min_files: int = 0
    expected: tuple[str, ...] = ()
    kept_in: Path | None = None


def list_inputs(watch: Path, skip: set[Path], rules: ListingRules) -> Listing:
    """List the watch folder once: its inputs and what it holds that is not an input.

    Hidden names (``.tmp…``) and names that match no pattern are passed over silently; ``skip``
    holds the resolved done and error folders. With companions (``.txt``), ``run-7.txt`` stands
    for the input ``run-7`` (the folder and the file together), whether the folder is there
    or not; a name with a companion suffix is never an input of its own.

    Raises:
        WatchFolderLost: the folder is gone.
        OSError: it cannot be listed now (permissions, a share's hiccup).
    """
    try:
        with os.scandir(watch) as entries:
            names = [entry.name for entry in entries]
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise WatchFolderLost(exc.strerror or str(exc)) from None
    inputs: list[tuple[Path, SourceState]] = []
    refused: dict[Path, str] = {}
    root = rules.policy.root
    suffixes = rules.policy.companions if rules.policy.folders else ()
    keys = dict.fromkeys(companion_owner(name, suffixes) or name for name in names)
    for name in keys:
        if name.startswith(".") or root / name in skip:
            continue
        if not matches_patterns(name, rules.patterns):
            continue
        path = watch / name
        try:
            state = _state(path, rules)
        except NotAnInput as exc:
            refused[path] = str(exc)
            continue
        except Exception as exc:  # unreadable (permissions), or a bug: this entry only
            refused[path] = f"cannot be inspected: {exception_line(exc)}"
            continue
        if state is not None:
            inputs.append((path, state))
    return inputs, refused


def _state(path: Path, rules: ListingRules) -> SourceState | None:
    """One entry's state if it is an input (a folder: a ready one) not converted yet."""
    found = inspect(path, rules.policy)
    if rules.policy.folders and rules.policy.companions:
        return _pair_state(path, found, rules)
    if found is None:
        return None
    target, st = found
    if rules.policy.folders and not folder_ready(
        target, marker=rules.ready_marker, min_files=rules.min_files, expected=rules.expected
    ):
        return None
    state = input_state(target, st, rules.policy)
    if rules.kept_in is not None and is_kept(rules.kept_in, path, state):
        return None
    return state


def _pair_state(
    path: Path, found: tuple[Path, os.stat_result] | None, rules: ListingRules
) -> SourceState | None:
    """The state of a folder input with companions: there once a companion is, or the folder
    is ready by the rules (the converter decides what to do while a part is missing)."""
    if found is None and os.path.lexists(path):
        return None  # a file named like the folder: not a folder input, whatever is beside it
    companions = companion_files(path, rules.policy)
    ready = found is not None and folder_ready(
        found[0], marker=rules.ready_marker, min_files=rules.min_files, expected=rules.expected
    )
    if not companions and not ready:
        return None
    state = pair_state(found, companions, rules.policy)
    if rules.kept_in is not None and is_kept(rules.kept_in, path, state):
        return None
    return state


@dataclass
class Settler:
    """Which listed inputs are ready to be read.

    The three maps are shared with the actor, which fills them as inputs are handled: it must
    change them in place, never replace them.

    Attributes:
        settle: seconds an input must stay unchanged.
        settling: input -> (state when first seen so, monotonic time since then).
        not_before: input -> monotonic time before which it is not retried (suspended, queue
            full).
        ignored: input -> state in which it is not looked at again (skipped, kept, failed
            without being moved).
    """

    settle: float
    settling: dict[Path, tuple[SourceState, float]] = field(default_factory=dict)
    not_before: dict[Path, float] = field(default_factory=dict)
    ignored: dict[Path, SourceState] = field(default_factory=dict)

    def ready(self, inputs: list[tuple[Path, SourceState]], now: float) -> list[Path]:
        """The inputs that stopped changing, oldest first; forgets those no longer listed."""
        ready: list[tuple[int, Path]] = []
        present = set()
        for path, state in inputs:
            present.add(path)
            if self.ignored.get(path) == state:
                continue
            self.ignored.pop(path, None)
            if self.not_before.get(path, 0.0) > now:
                continue
            seen = self.settling.get(path)
            if seen is None or seen[0] != state:
                self.settling[path] = (state, now)
                if self.settle > 0:
                    continue
                seen = self.settling[path]
            if now - seen[1] >= self.settle:
                ready.append((state.mtime_ns, path))
        for table in (self.settling, self.ignored, self.not_before):
            for gone in set(table) - present:
                del table[gone]
        return [path for _, path in sorted(ready)]

    def next_wake(self, now: float, rescan: float) -> float:
        """Seconds until a scan may find something new without a change event."""
        wait = rescan
        if self.settling:
            wait = min(wait, max(0.05, self.settle / 4))
        if self.not_before:
            wait = min(wait, max(0.05, min(self.not_before.values()) - now))
        return wait


async def watch_events(
    watch: Path,
    kick: Callable[[], None],
    *,
    recursive: bool,
    log: logging.Logger,
    name: str,
    max_pause: float,
) -> None:
    """Call ``kick`` on every change in ``watch``; a watcher that fails is started again.

    watchfiles fails on a name it cannot decode (bytes that are not UTF-8), and on a folder
    that goes away: rescans carry on meanwhile, and the change that broke it (likely a new
    file) is scanned at once. Logged once per run of failures; restarts back off up to
    ``max_pause`` seconds.
    """
    failures = 0
    while True:
        try:
            async for _ in watchfiles.awatch(
                watch, recursive=recursive, debounce=200, step=50, rust_timeout=500
            ):
                failures = 0
                kick()
            why = "the watcher ended"
        except Exception as exc:  # groups too: awatch runs a task group of its own
            why = exception_line(exc)
        failures += 1
        if failures == 1:
            log.warning(
                "%s: watching %s failed (%s); rescanning, and watching again",
                name,
                display_name(watch),
                why,
            )
        kick()
        await trio.sleep(min(max_pause, 0.5 * 2**failures))


def exception_line(exc: BaseException) -> str:
    """``ValueError: message``: an exception as the one line a reason or status shows.

    The one exception inside (nested) groups of one is shown, not the group.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return display_text(traceback.format_exception_only(exc)[-1].strip())

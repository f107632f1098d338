"""Watching one converter's folder: change events, the listing, and which inputs have settled.

The converter actor (:mod:`pywats_station.actors.converter`) scans its folder on every change
event (and on a timer while something settles, or where events cannot be trusted); here is
what a scan does:

* :func:`list_inputs` (blocking, in a worker thread) lists the folder once: the inputs with
  their state, and the entries that are not inputs with the reason (a link, a FIFO, …; see
  :mod:`pywats_station.converters._intake`). Each entry is inspected on its own, so one that
  cannot be inspected is refused and the others are listed;
* :class:`Settler` decides which inputs are ready: unchanged for ``settle`` seconds (or proven
  complete by their format), not waiting for a retry, not set aside while unchanged;
* :func:`complete_inputs` picks, among inputs that an event says may be complete (renamed
  into place, closed after writing), those whose format proves it
  (:mod:`pywats_station.converters._complete`): they skip the settle wait.

The change events themselves come from :mod:`pywats_station.actors._folder_watch`.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from pywats_station._display import display_text
from pywats_station.converters import folder_ready, matches_patterns
from pywats_station.converters._complete import looks_complete
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
    "complete_inputs",
    "list_inputs",
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

    def ready(
        self,
        inputs: list[tuple[Path, SourceState]],
        now: float,
        complete: Collection[Path] = (),
    ) -> list[Path]:
        """The inputs that stopped changing, oldest first; forgets those no longer listed.

        Inputs in ``complete`` (their format proved them whole, in the state listed) are ready
        without the settle wait.
        """
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
                if self.settle > 0 and path not in complete:
                    continue
                seen = self.settling[path]
            if now - seen[1] >= self.settle or path in complete:
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


def complete_inputs(inputs: list[tuple[Path, SourceState]], hinted: Collection[Path]) -> set[Path]:
    """The inputs among ``hinted`` (renamed into place, closed after writing) whose format
    proves them whole: JSON, XML or ZIP that parses (blocking: reads them). File inputs
    only: a folder input is ready by its own rules (marker, files)."""
    found = set()
    for path, _ in inputs:
        if path in hinted and looks_complete(path):
            found.add(path)
    return found


def exception_line(exc: BaseException) -> str:
    """``ValueError: message``: an exception as the one line a reason or status shows.

    The one exception inside (nested) groups of one is shown, not the group.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return display_text(traceback.format_exception_only(exc)[-1].strip())

"""What every chaos scenario shares: the invariants of the delivery guarantee, checked the same way.

A scenario runs the real daemon against the emulator over TCP (``tests.station.e2e.harness``),
does something nasty to it, lets it drain, and then calls :meth:`Scenario.check`, which asserts:

* no report lost: every expected report id is stored on the server;
* none twice: the server holds each id once and nothing foreign (it overwrites by id, so a
  re-sent report is counted in ``resent``, not stored again: at-least-once upload, exactly
  once stored);
* no corrupt queue entry: ``ReportQueue.verify`` finds none, and no entry is left (depth 0, no
  dead letter unless the scenario expects them);
* every source accounted for: each file dropped in a watch folder is in its done folder, its
  error folder or still in the watch folder.

Use it as a context manager: whatever fails inside (an invariant, a timeout while draining, a
daemon that would not start), the daemon logs, a copy of the queue folder, the emulator's
report ids and request log and the counts are kept in a folder named in the failure. That folder
is ``$PYWATS_CHAOS_ARTEFACTS/<scenario>`` when the variable is set (CI uploads it), else
``artefacts`` in the test's temporary folder. Counts are printed (``pytest -s``) either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from pywats.testing.pytest_plugin import EmulatorProcess
from pywats_station.queue import ReportQueue
from tests.station.e2e.harness import Station, server_ids, server_log, wait_for

ARTEFACTS_ENV = "PYWATS_CHAOS_ARTEFACTS"


@dataclass
class Counts:
    """What a scenario did and found; printed, put in failure messages and in the artefacts."""

    scenario: str
    rounds: int = 0  # kills, cuts or fault bursts survived
    reports: int = 0  # distinct report ids expected on the server
    stored: int = 0  # distinct report ids the server holds
    posts: int = 0  # report submissions the server accepted (re-sends included)
    resent: int = 0  # ids accepted more than once (harmless: the server overwrites by id)
    sources: int = 0  # files dropped in watch folders
    done: int = 0
    error: int = 0
    waiting: int = 0  # sources still in their watch folder
    queue_ok: int = 0
    queue_corrupt: int = 0
    queue_depth: int = 0
    queue_dead: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        parts = [
            f"{self.scenario}: {self.rounds} rounds",
            f"{self.reports} reports expected, {self.stored} stored",
            f"{self.posts} accepted posts ({self.resent} ids re-sent)",
            f"{self.sources} sources ({self.done} done, {self.error} error, "
            f"{self.waiting} waiting)",
            f"queue ok={self.queue_ok} corrupt={self.queue_corrupt} depth={self.queue_depth} "
            f"dead={self.queue_dead}",
            f"{self.seconds:.1f} s",
        ]
        parts += [f"{k}={v}" for k, v in self.extra.items()]
        return "; ".join(parts)


@dataclass
class Watched:
    """One converter's folders and the source names dropped into its watch folder."""

    watch: Path
    done: Path
    error: Path
    names: set[str] = field(default_factory=set)


def _is_copy_of(candidate: str, name: str) -> bool:
    """Whether ``candidate`` is ``name`` as the done/error folder keeps it (maybe time-stamped:
    ``stem.20261122-103000-2.suffix`` when the name was taken)."""
    if candidate == name:
        return True
    stem, dot, suffix = name.partition(".")
    return (
        candidate.startswith(stem + ".")
        and candidate.endswith(dot + suffix)
        and not candidate.endswith(".error.txt")
    )


def _where(w: Watched, name: str) -> str | None:
    """``waiting``, ``done`` or ``error``: where the source is now (``None``: nowhere)."""
    if (w.watch / name).exists():
        return "waiting"
    for place, folder in (("done", w.done), ("error", w.error)):
        if folder.is_dir() and any(_is_copy_of(p.name, name) for p in folder.iterdir()):
            return place
    return None


class Scenario:
    """One chaos scenario's bookkeeping and invariants; see the module docstring."""

    def __init__(self, name: str, tmp_path: Path, server: EmulatorProcess, station: Station):
        self.name = name
        self.server = server
        self.station = station
        self.counts = Counts(name)
        self.expected: set[str] = set()
        self.watched: dict[Path, Watched] = {}
        self.allowed_dead = 0
        self.allowed_errors = 0
        self._started = time.monotonic()
        root = os.environ.get(ARTEFACTS_ENV)
        self.artefacts = Path(root) / name if root else tmp_path / "artefacts"

    # -- what the scenario puts in ----------------------------------------------------------

    def expect(self, report_ids: list[str] | set[str]) -> None:
        """These reports must end up on the server (queued directly or converted)."""
        self.expected.update(report_ids)

    def watch(self, watch: Path, done: Path | None = None, error: Path | None = None) -> Watched:
        """Register a watch folder (done/error default as the config's: ``Done``, ``Error``)."""
        w = Watched(watch, done or watch / "Done", error or watch / "Error")
        self.watched[watch] = w
        watch.mkdir(parents=True, exist_ok=True)
        return w

    def drop(self, watch: Path, name: str, data: bytes, report_id: str | None = None) -> None:
        """Put a source in a watch folder whole (written beside it, then renamed in)."""
        w = self.watched[watch]
        staging = watch.parent / f".staging-{watch.name}"
        staging.mkdir(exist_ok=True)
        tmp = staging / name
        tmp.write_bytes(data)
        os.replace(tmp, watch / name)
        w.names.add(name)
        if report_id is not None:
            self.expected.add(report_id)

    # -- waiting -----------------------------------------------------------------------------

    def drain(self, timeout: float = 120.0) -> None:
        """Start the daemon if needed; wait for every expected report and an empty queue."""
        if not self.station.running():
            self.station.start()
        want = len(self.expected)
        wait_for(
            lambda: self.expected.issubset(server_ids(self.server)),
            timeout=timeout,
            what=f"{want} reports on the server",
        )
        wait_for(
            lambda: self.station.status()["queue"]["depth"] == 0,
            timeout=timeout,
            what="an empty queue",
        )

    # -- the invariants ----------------------------------------------------------------------

    def tally(self) -> tuple[list[str], list[str]]:
        """Count the server's reports and the sources (no queue access; the daemon may run).

        Returns:
            The ids the server holds (as listed, so a double would show) and the sources found
            nowhere.
        """
        c = self.counts
        ids = server_ids(self.server)
        posts = Counter(
            e["report_id"]
            for e in server_log(self.server)
            if e.get("report_id") and e.get("method") == "POST" and e.get("status") == 200
        )
        c.reports, c.stored = len(self.expected), len(set(ids))
        c.posts, c.resent = sum(posts.values()), sum(1 for n in posts.values() if n > 1)
        vanished: list[str] = []
        c.sources = c.done = c.error = c.waiting = 0
        for w in self.watched.values():
            for name in sorted(w.names):
                c.sources += 1
                place = _where(w, name)
                if place is None:
                    vanished.append(f"{w.watch.name}/{name}")
                else:
                    setattr(c, place, getattr(c, place) + 1)
        return ids, vanished

    def check(self) -> Counts:
        """Stop the daemon and assert every invariant; return the counts (also printed)."""
        station, c = self.station, self.counts
        if station.running():
            code = station.stop()
            assert code == 0, f"the daemon exited {code} on SIGTERM"
        ids, lost_sources = self.tally()
        # Evidence first: verify moves corrupt entries aside.
        self._copy_queue("queue-before-verify")
        with ReportQueue.open(station.queue_dir) as queue:
            verify = queue.verify()
            stats = queue.stats()
        c.queue_ok, c.queue_corrupt = verify.ok, verify.corrupt + stats.corrupt
        c.queue_depth, c.queue_dead = stats.depth, stats.dead
        self.finish()
        lost = sorted(self.expected - set(ids))
        foreign = sorted(set(ids) - self.expected)
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        problems = []
        if lost:
            problems.append(f"{len(lost)} reports lost: {lost[:5]}")
        if twice:
            problems.append(f"{len(twice)} reports stored twice: {twice[:5]}")
        if foreign:
            problems.append(f"{len(foreign)} unexpected reports on the server: {foreign[:5]}")
        if c.queue_corrupt:
            problems.append(f"{c.queue_corrupt} corrupt queue entries")
        if c.queue_depth or c.queue_dead > self.allowed_dead:
            problems.append(f"queue not drained: depth {c.queue_depth}, dead {c.queue_dead}")
        if lost_sources:
            problems.append(f"{len(lost_sources)} sources vanished: {lost_sources[:5]}")
        if c.error > self.allowed_errors:
            problems.append(f"{c.error} sources in an error folder")
        assert not problems, "; ".join(problems) + f"\n[chaos] {c.line()}"
        return c

    def finish(self) -> None:
        """Stamp the time and print the counts."""
        self.counts.seconds = time.monotonic() - self._started
        print(f"\n[chaos] {self.counts.line()}")

    # -- artefacts ---------------------------------------------------------------------------

    def _copy_queue(self, label: str) -> None:
        target = self.artefacts / label
        shutil.rmtree(target, ignore_errors=True)
        if self.station.queue_dir.exists():
            shutil.copytree(
                self.station.queue_dir,
                target,
                ignore=shutil.ignore_patterns("queue.lock"),
                dirs_exist_ok=True,
            )

    def keep_artefacts(self) -> Path:
        """Keep what explains a failure: daemon logs, the queue, the server's view, the counts."""
        folder = self.artefacts
        folder.mkdir(parents=True, exist_ok=True)
        if self.station.running():  # a hung daemon: its state is the evidence
            self.station.stop(signal.SIGKILL)
        for log in self.station.logs:
            if log.exists():
                shutil.copy(log, folder / log.name)
        if not (folder / "queue-before-verify").exists():
            self._copy_queue("queue")
        try:
            (folder / "server-ids.json").write_text(json.dumps(server_ids(self.server)))
            (folder / "server-log.json").write_text(json.dumps(server_log(self.server)))
        except Exception as exc:  # the emulator may be what failed
            (folder / "server-unreachable.txt").write_text(repr(exc))
        (folder / "expected-ids.json").write_text(json.dumps(sorted(self.expected)))
        (folder / "counts.json").write_text(json.dumps(asdict(self.counts), indent=1))
        return folder

    def __enter__(self) -> Scenario:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            shutil.rmtree(self.artefacts, ignore_errors=True)  # passed: nothing to explain
            return
        if not self.counts.seconds:
            with contextlib.suppress(Exception):  # best effort: the server may be what failed
                self.tally()
            self.finish()
        counts = f"[chaos] {self.counts.line()}"
        if counts in str(exc):  # check() put them in its message already
            counts = ""
        try:
            folder = self.keep_artefacts()
            exc.add_note(f"{counts}\n[chaos] artefacts kept in {folder}".strip())
        except Exception as keep_exc:  # never hide the real failure behind this one
            exc.add_note(f"{counts}\n[chaos] artefacts not kept: {keep_exc!r}".strip())

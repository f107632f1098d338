"""A full disk under the queue and the watch folders: nothing corrupt, a clear status, recovery.

The queue and two watch folders live on a 1 MiB tmpfs mounted in a private mount namespace
(``unshare -m``, held open by a ``sleep``); the daemon runs inside it (``nsenter``) and the test
reaches the same files through ``/proc/<holder>/root``. The test fills the file system to the
last page, lets source files keep arriving in the pages it frees one by one, kills the daemon
with SIGKILL while the disk is full and starts it again, and finally frees the space. Then
every report is on the server exactly once, ``ReportQueue.verify`` finds no corrupt entry and
every source is in Done (:class:`tests.chaos._scenario.Scenario`). While the disk is full the
status (``status --json``) must say so and name the folder that is full.

Needs root, ``unshare`` and ``nsenter`` (CI runs as root); skipped with the reason elsewhere.
The same daemon code paths with ``ENOSPC`` injected at the queue's write, without a real file
system, are ``tests/station/test_converter_disk_full.py``.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pywats_station.queue import ReportQueue
from tests.chaos._scenario import Scenario
from tests.station.e2e.harness import Station, add_fault, emulator, make_report, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

SIZE = 1 << 20  # the file system's size: 256 pages of 4 KiB
PAGE = 4096
BASELINE = 6  # sources converted before the disk fills (it works on this file system)
WHILE_FULL = 8  # sources that arrive while it is full, each in a page freed for it
STUCK = 4  # reports queued, not uploaded (the server fails them), when the disk fills


def _skip_reason() -> str | None:
    if sys.platform != "linux":
        return "needs Linux mount namespaces"
    if os.geteuid() != 0:
        return "needs root to mount a size-limited tmpfs in a private mount namespace"
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"needs {tool} (util-linux)"
    return None


class Holder:
    """A ``sleep`` in its own mount namespace, with a tmpfs of :data:`SIZE` bytes at ``mount``."""

    def __init__(self, mount: Path) -> None:
        mount.mkdir(parents=True)
        self.mount = mount
        script = f"mount -t tmpfs -o size={SIZE},mode=0700 tmpfs '{mount}' && echo ready && "
        script += "exec sleep 3600"
        self.process = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            pytest.skip(f"cannot mount a tmpfs in a private mount namespace: {err.strip()}")

    def view(self, *parts: str) -> Path:
        """A path on the tmpfs, as this process reaches it (through the holder's root)."""
        return Path(f"/proc/{self.process.pid}/root{self.mount}", *parts)

    def prefix(self) -> list[str]:
        """What runs a command inside the namespace."""
        return ["nsenter", "-t", str(self.process.pid), "-m", "--"]

    def close(self) -> None:
        self.process.kill()  # the namespace, and the tmpfs with it, go with its last process
        self.process.communicate(timeout=10)  # reaped, its pipes closed


class NamespacedStation(Station):
    """The harness's station, its daemon started inside the holder's mount namespace."""

    holder: Holder

    @property
    def queue_dir(self) -> Path:
        return self.holder.view("queue")

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        log = self.home / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "w") as handle:
            self.process = subprocess.Popen(
                [*self.holder.prefix(), sys.executable, "-m", "pywats_station", "run"],
                env={**self.env, **(extra_env or {})},
                stdout=handle,
                stderr=subprocess.STDOUT,
                text=True,
            )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    held = Holder(tmp_path / "small")
    yield held
    held.close()


def fill(path: Path) -> int:
    """Write ``path`` until the file system is full; the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(b"\0" * PAGE)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    os.sync()
    return written


def free_pages(path: Path, pages: int) -> None:
    size = path.stat().st_size
    os.truncate(path, max(0, size - pages * PAGE))


def arrive_on_full_disk(filler: Path, arrive: Callable[[int], None]) -> None:
    """Free just room for one more source (none for the queue) and drop it there.

    The daemon may take a freed page first (a queue entry it tries to write meanwhile), so
    the drop itself can meet ENOSPC: then a page more, a few times at most.
    """
    for _ in range(8):
        free_pages(filler, 1)
        try:
            arrive(1)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        else:
            return
    raise AssertionError("8 pages freed and still no room for one source")


def queue_depth(station: Station) -> int:
    depth: int = station.status().get("queue", {}).get("depth", 0)
    return depth


def _full_status(status: dict[str, Any], mount: Path) -> str | None:
    """What the status says about the full disk, if it names it and the folder."""
    texts = [
        str(c.get(k) or "") for c in status.get("converters", []) for k in ("error", "last_error")
    ]
    texts.append(str(status.get("queue_problem") or ""))
    for text in texts:
        if ("space" in text.lower() or "full" in text.lower()) and str(mount) in text:
            return text
    return None


def test_a_full_disk_corrupts_nothing_says_so_and_recovers(tmp_path: Path, holder: Holder) -> None:
    with emulator() as server:
        station = NamespacedStation(tmp_path / "home", server, workers=2)
        station.holder = holder
        mount = holder.mount
        converters = "".join(
            textwrap.dedent(
                f"""
                [[converters]]
                name = "{name}"
                kind = "wsjf"
                watch = "{mount / name}"
                settle = 0.2
                """
            )
            for name in ("inbox", "bench")
        )
        station.write_config(converters)
        config = station.config_dir / "config.toml"
        config.write_text(
            config.read_text().replace("[queue]\n", f'[queue]\npath = "{mount / "queue"}"\n', 1)
        )
        with Scenario("disk full", tmp_path, server, station) as sc:
            inboxes = [holder.view(name) for name in ("inbox", "bench")]
            for inbox in inboxes:
                sc.watch(inbox)
                for sub in ("Done", "Error", f"../.staging-{inbox.name}"):
                    (inbox / sub).mkdir(parents=True, exist_ok=True)
            n = 0

            def arrive(count: int) -> None:
                nonlocal n
                for _ in range(count):
                    rid, data = make_report(n)
                    sc.drop(inboxes[n % 2], f"unit-{n:03d}.json", data, rid)
                    n += 1

            station.start()
            arrive(BASELINE)
            sc.drain(timeout=60)  # the file system works: everything so far is delivered

            # Reports that stay queued (the server failing) while the disk fills: their
            # entries must come through the full disk, the kill and the restart intact.
            add_fault(server, kind="error", status=503, match="/api/report/ws")
            arrive(STUCK)
            wait_for(lambda: queue_depth(station) >= STUCK, 30, f"{STUCK} entries queued")

            filler = holder.view("filler.bin")
            sc.counts.extra["filled_bytes"] = fill(filler)
            for _ in range(WHILE_FULL):
                arrive_on_full_disk(filler, arrive)
            seen: list[str] = []

            def says_full() -> bool:
                text = _full_status(station.status(), mount)
                if text:
                    seen.append(text)
                return bool(text)

            wait_for(says_full, 30, "status --json saying the disk under the queue is full")
            sc.counts.extra["status_said"] = seen[-1]
            assert "not queued" in station.log_text()
            # The uploader's next attempt fails too, and the queue cannot write that down.
            wait_for(
                lambda: "the queue cannot record it" in station.log_text(),
                30,
                "an upload failure the full disk could not record",
            )

            # Killed while the disk is full, started again on it: recovery needs no space.
            station.stop(signal.SIGKILL)
            sc.counts.rounds += 1
            with ReportQueue.open(station.queue_dir) as queue:  # on the full disk
                found = queue.verify()
            # The stuck ones at least (a freed page may have let one more entry in): all intact.
            assert found.corrupt == 0, found
            assert found.ok >= STUCK, found
            sc.counts.extra["verified_while_full"] = found.ok
            station.start()
            wait_for(lambda: station.status().get("connection") == "online", 30, "restarted")
            waiting = sum(1 for inbox in inboxes for p in inbox.glob("unit-*.json"))
            sc.counts.extra["waiting_while_full"] = waiting
            assert waiting > 0, "every source got through a full disk: the test filled nothing"

            filler.unlink()  # room again
            with server.admin() as admin:
                admin.delete("/_emulator/faults").raise_for_status()
            sc.drain(timeout=90)
            assert _full_status(station.status(), mount) is None
            sc.check()
            # A full disk is an expected state, not a bug: no actor crashed over it.
            log = station.log_text()
            assert " failed: " not in "".join(
                line for line in log.splitlines() if "supervisor" in line
            ), "an actor crashed over the full disk"

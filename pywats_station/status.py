"""The daemon's status: the status file, systemd's STATUS line and watchdog, health.

``pywats-station status`` reads the file (:func:`read_status`) when the control channel cannot
be reached; the ``control`` section says where the channel listens.
"""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

import msgspec
import trio

from pywats import __version__
from pywats_station._supervisor import ChildState, ChildStatistics, SupervisorStatistics
from pywats_station.paths import InstancePaths, atomic_write
from pywats_station.queue import QueueStats
from pywats_station.runtime import StatusSnapshot
from pywats_station.systemd import watchdog_interval

if TYPE_CHECKING:
    from pywats_station.daemon import Daemon

__all__ = [
    "healthy",
    "read_status",
    "serve_status",
    "snapshot",
    "status_file",
    "status_line",
]

STATUS_PERIOD: Final = 2.0


def status_file(paths: InstancePaths) -> Path:
    """Where the daemon publishes its status (read by ``pywats-station status``)."""
    return paths.runtime_dir / "status.json"


def read_status(paths: InstancePaths) -> StatusSnapshot | None:
    """The status the running daemon last wrote, or ``None`` if no daemon is running."""
    try:
        status = msgspec.json.decode(status_file(paths).read_bytes(), type=StatusSnapshot)
    except (FileNotFoundError, msgspec.DecodeError):
        return None
    try:
        os.kill(status.pid, 0)
    except ProcessLookupError:
        return None  # a stale file from a daemon that died
    except PermissionError:
        pass  # the process exists but belongs to another user
    return status


def snapshot(daemon: Daemon, stats: QueueStats | None = None) -> StatusSnapshot:
    """The daemon's status right now (``stats``: the queue's, when already read in a thread)."""
    rt = daemon.runtime
    stats = stats if stats is not None else daemon.queue.stats()
    tree = daemon.tree.statistics() if daemon.tree is not None else None
    return StatusSnapshot(
        instance=daemon.paths.instance,
        pid=os.getpid(),
        version=__version__,
        started_at=rt.started_at,
        uptime=time.time() - rt.started_at,
        station=rt.station_name,
        server_url=daemon.safe_server_url(),
        connection=rt.connection.value,
        connection_error=rt.connection_error,
        server_version=rt.server_version,
        last_online_at=rt.last_online_at,
        registered_client_id=rt.registered_client_id,
        queue=msgspec.to_builtins(stats),
        counters=rt.counters,
        processes_cached=rt.processes_cached,
        processes_synced_at=rt.processes_synced_at,
        tree=msgspec.to_builtins(tree) if tree is not None else None,
        converters=[msgspec.to_builtins(c.stats) for c in daemon.converters.values()],
        control=msgspec.to_builtins(daemon.control),
        written_at=time.time(),
    )


def status_line(daemon: Daemon, stats: QueueStats | None = None) -> str:
    """One line for systemd's STATUS."""
    stats = stats if stats is not None else daemon.queue.stats()
    return (
        f"{daemon.runtime.connection.value}; queue {stats.depth} waiting, {stats.dead} dead; "
        f"uploaded {daemon.runtime.counters.uploaded}"
    )


async def serve_status(
    daemon: Daemon, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Publish the status file and systemd STATUS/WATCHDOG until cancelled.

    The watchdog is pinged from this task, so a blocked event loop stops the pings; it is
    also withheld while the supervision tree reports a failed actor.
    """
    path = status_file(daemon.paths)
    ping = watchdog_interval(daemon.env)
    period = min(STATUS_PERIOD, ping) if ping else STATUS_PERIOD
    task_status.started()
    try:
        while True:
            # The queue's stats may list a folder (the oldest entry's age): not on the loop.
            stats = await trio.to_thread.run_sync(daemon.queue.stats)
            current = snapshot(daemon, stats)
            data = msgspec.json.encode(current)
            await trio.to_thread.run_sync(
                partial(atomic_write, path, data, mode=0o644, durable=False)
            )
            if daemon.ready.is_set():
                daemon.notifier.status(status_line(daemon, stats))
                if ping and healthy(daemon):
                    daemon.notifier.watchdog()
            await trio.sleep(period)
    finally:
        path.unlink(missing_ok=True)


def healthy(daemon: Daemon) -> bool:
    """Whether no actor of the tree has been given up on (state ``failed``)."""
    if daemon.tree is None:
        return True
    nodes: list[ChildStatistics | SupervisorStatistics] = [daemon.tree.statistics()]
    while nodes:
        node = nodes.pop()
        if node.state == ChildState.FAILED.value:
            return False
        if isinstance(node, SupervisorStatistics):
            nodes.extend(node.children)
    return True

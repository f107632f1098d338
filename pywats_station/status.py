"""The daemon's status: the status file, systemd's STATUS line and watchdog, health.

``pywats-station status`` reads the file (:func:`read_status`) when the control channel cannot
be reached; the ``control`` section says where the channel listens.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import msgspec
import trio

from pywats import __version__
from pywats_station._supervisor import ChildState, ChildStatistics, SupervisorStatistics
from pywats_station.paths import InstancePaths, atomic_write
from pywats_station.queue import QueueStats
from pywats_station.runtime import StatusSnapshot
from pywats_station.systemd import watchdog_interval

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pywats_station._supervisor import Supervisor
    from pywats_station.actors.control import ControlState
    from pywats_station.actors.converter import LoadedConverter
    from pywats_station.config import StationConfig
    from pywats_station.queue import ReportQueue
    from pywats_station.runtime import Runtime
    from pywats_station.systemd import Notifier


class Daemon(Protocol):
    """What the status needs of the daemon (it implements this; nothing here imports it)."""

    @property
    def paths(self) -> InstancePaths: ...
    @property
    def config(self) -> StationConfig: ...
    @property
    def env(self) -> Mapping[str, str]: ...
    @property
    def queue(self) -> ReportQueue: ...
    @property
    def runtime(self) -> Runtime: ...
    @property
    def tree(self) -> Supervisor | None: ...
    @property
    def converters(self) -> Mapping[str, LoadedConverter]: ...
    @property
    def control(self) -> ControlState: ...
    @property
    def notifier(self) -> Notifier: ...
    @property
    def ready(self) -> trio.Event: ...
    def safe_server_url(self) -> str: ...


__all__ = [
    "healthy",
    "read_status",
    "serve_status",
    "serve_watchdog",
    "snapshot",
    "status_file",
    "status_line",
]

STATUS_PERIOD: Final = 2.0
# Seconds between writes of an unchanged status (it is written at once when it changes), and
# between systemd STATUS lines when no watchdog asks for pings: an idle daemon sleeps.
STATUS_REFRESH: Final = 60.0

_log = logging.getLogger("pywats_station.status")


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
        control_tls_cert=_tls_cert(daemon),
        config_problem=rt.config_problem,
        upload_wait=rt.current_upload_wait(),
        written_at=time.time(),
    )


def _without_clocks(status: StatusSnapshot) -> object:
    """The status without the fields that change with time alone (uptimes, the write time,
    the last health check while online)."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _CLOCKS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(msgspec.to_builtins(status))


# last_online_at moves with every health check while online: not a change worth a write.
_CLOCKS = frozenset({"uptime", "written_at", "last_online_at"})


def _tls_cert(daemon: Daemon) -> str | None:
    """The control channel's certificate file, resolved as the control actor resolves it."""
    cert = daemon.config.control.tls_cert
    if not cert:
        return None
    path = Path(os.path.expandvars(cert)).expanduser()
    return str(path if path.is_absolute() else daemon.paths.config_file.parent / path)


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
    """Keep the status file current until cancelled: looked at every ``STATUS_PERIOD``
    seconds, written when it changed (apart from its clock fields), else every
    ``STATUS_REFRESH`` seconds; readers compute the uptime from ``started_at``.

    An auxiliary (see ``docs/operations.md``): a file that cannot be written (disk full, no
    descriptors left, a read-only runtime folder) is logged once, when it starts failing, and
    once more when it works again; the loop goes on either way. Systemd's STATUS and WATCHDOG
    do not depend on it (:func:`serve_watchdog`).
    """
    path = status_file(daemon.paths)
    failing: str | None = None  # why the last write failed; logged on change only
    written: bytes | None = None  # the last status written, without its clock fields
    written_at = -math.inf
    task_status.started()
    try:
        while True:
            # From memory, on the loop: the question "did anything change?" costs no thread.
            now = msgspec.json.encode(_without_clocks(snapshot(daemon, daemon.queue.counts())))
            if now == written and trio.current_time() - written_at < STATUS_REFRESH:
                await trio.sleep(STATUS_PERIOD)
                continue
            written, written_at = now, trio.current_time()
            try:
                # The queue's stats may list a folder (the oldest entry's age): not on the loop.
                stats = await trio.to_thread.run_sync(daemon.queue.stats)
                data = msgspec.json.encode(snapshot(daemon, stats))
                await trio.to_thread.run_sync(
                    partial(atomic_write, path, data, mode=0o644, durable=False)
                )
            except OSError as exc:
                written = None  # try again at the next look
                why = f"{type(exc).__name__}: {exc.strerror or exc}"
                if why != failing:
                    _log.warning("cannot write the status file %s: %s; retrying", path, why)
                failing = why
            else:
                if failing is not None:
                    _log.info("the status file %s is written again", path)
                failing = None
            await trio.sleep(STATUS_PERIOD)
    finally:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


async def serve_watchdog(daemon: Daemon) -> None:
    """Keep systemd's STATUS line current and ping its watchdog, until cancelled.

    The pings come from this task, so a blocked event loop stops them; they are also withheld
    while the supervision tree reports a failed (given-up) actor. Nothing here touches the
    file system, so a full disk or an exhausted descriptor table cannot stop the pings and make
    systemd kill a station that is still uploading.
    """
    ping = watchdog_interval(daemon.env)
    if not ping and not daemon.notifier.enabled:
        return  # not under systemd: nobody to tell
    # Under WatchdogSec=60: one ping (and STATUS line) every 30 s, and nothing in between.
    period = ping if ping else STATUS_REFRESH
    await daemon.ready.wait()
    while True:
        try:
            daemon.notifier.status(status_line(daemon, daemon.queue.counts()))
        except Exception:  # a bug in the line must not stop the pings: the line is cosmetic
            _log.exception("cannot build the systemd status line")
        if ping and healthy(daemon):
            daemon.notifier.watchdog()
        await trio.sleep(period)


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

"""Assemble and run the station daemon: the supervision tree, signals, systemd, hot reload.

::

    station (supervisor, one_for_one)
    ├── connection     online/offline, health checks, registration
    ├── sync           processes/levels/product groups -> on-disk cache
    ├── uploader       N workers draining the durable queue
    └── status         status file, systemd STATUS and WATCHDOG

SIGTERM/SIGINT stop it gracefully: the uploader finishes the uploads in flight (bounded by
``DRAIN_TIMEOUT``), everything else is cancelled, the queue is closed. SIGHUP (or a change of the
config file) reloads the configuration and restarts only the actors whose sections changed.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import msgspec
import trio

from pywats import AsyncWATS, RetryPolicy, __version__
from pywats.models.app import Process
from pywats_station._supervisor import (
    ChildSpec,
    ChildState,
    ChildStatistics,
    Supervisor,
    SupervisorStatistics,
)
from pywats_station.actors.connection import run_connection
from pywats_station.actors.converter import ConverterHost, LoadedConverter
from pywats_station.actors.converters import converter_spec, load_converters, load_one
from pywats_station.actors.sync import MetadataCache, run_sync
from pywats_station.actors.uploader import run_uploader
from pywats_station.config import ConfigError, StationConfig, diff_config, load_config
from pywats_station.converters import StationInfo
from pywats_station.paths import InstancePaths
from pywats_station.queue import ReportQueue
from pywats_station.runtime import ConnectionState, Runtime, StatusSnapshot
from pywats_station.secrets import SecretsError, resolve_token
from pywats_station.systemd import Notifier, watchdog_interval

__all__ = ["DRAIN_TIMEOUT", "Daemon", "read_status", "run_daemon", "status_file"]

log = logging.getLogger("pywats_station.daemon")

DRAIN_TIMEOUT = 4.0  # seconds the uploader may finish in-flight uploads after SIGTERM
_STATUS_PERIOD = 2.0
_CONFIG_POLL = 2.0
_SERVER_SECTIONS = frozenset({"server", "station", "connection", "sync", "queue"})


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


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class Daemon:
    """One running station: its config, queue, client, runtime state and supervision tree."""

    paths: InstancePaths
    config: StationConfig
    env: Mapping[str, str]
    queue: ReportQueue
    runtime: Runtime
    notifier: Notifier
    api: AsyncWATS | None = None
    tree: Supervisor | None = None
    # Set once READY=1 went out: systemd hears nothing else from us before it.
    ready: trio.Event = field(default_factory=trio.Event)
    converters: dict[str, LoadedConverter] = field(default_factory=dict)
    converter_tree: Supervisor | None = None
    host: ConverterHost | None = None

    def station_info(self) -> StationInfo:
        """Who the converters' reports say made them (WATS needs all three)."""
        station = self.config.station
        return StationInfo(
            name=station.effective_name,
            location=station.location or "Unknown",
            purpose=station.purpose or "Production",
        )

    def processes(self) -> list[Process]:
        """The synced process list (empty until the first sync, also offline from the cache)."""
        cache = self.runtime.metadata
        return list(cache.processes) if isinstance(cache, MetadataCache) else []

    async def load_converters(self) -> None:
        """Load and describe every configured converter (user ones in child processes)."""
        loaded = await trio.to_thread.run_sync(
            partial(
                load_converters,
                self.config.converters,
                base_dir=self.paths.config_file.parent,
                station=self.station_info(),
            )
        )
        self.converters = {c.config.name: c for c in loaded}

    def converter_children(self) -> list[ChildSpec]:
        """The actors of the runnable converters."""
        assert self.host is not None
        specs = [converter_spec(c, self.host) for c in self.converters.values()]
        return [s for s in specs if s is not None]

    async def reload_converters(self, changed: set[str]) -> None:
        """Restart only the converters whose entries changed (added, removed or edited)."""
        names = {c.split(":", 1)[1] for c in changed if c.startswith("converters:")}
        if not names or self.converter_tree is None or self.host is None:
            return
        running = {spec.name for spec in self.converter_tree.children}
        by_name = {c.name: c for c in self.config.converters}
        for name in sorted(names):
            if f"converter:{name}" in running:
                await self.converter_tree.remove_child(f"converter:{name}")
            self.converters.pop(name, None)
            cfg = by_name.get(name)
            if cfg is None:
                log.info("converter %s removed", name)
                continue
            loaded = await trio.to_thread.run_sync(
                partial(
                    load_one,
                    cfg,
                    base_dir=self.paths.config_file.parent,
                    station=self.station_info(),
                )
            )
            self.converters[name] = loaded
            spec = converter_spec(loaded, self.host)
            if spec is not None:
                await self.converter_tree.add_child(spec)
            log.info("converter %s (re)loaded: %s", name, loaded.stats.state)

    def make_api(self) -> AsyncWATS | None:
        """A client for the configured server, or ``None`` when no server is configured."""
        server = self.config.server
        if not server.url:
            return None
        try:
            token = resolve_token(self.config, self.paths, self.env)
        except SecretsError as exc:
            # Run without a token: the connection actor then reports the server's 401.
            log.error("API token unusable: %s", exc)
            token = None
        return AsyncWATS(
            server.url,
            token,
            timeout=server.timeout,
            verify=server.verify_tls,
            # The uploader retries forever with the queue's backoff; the client only smooths
            # over a single hiccup.
            retry=RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=5.0),
        )

    def server_children(self) -> list[ChildSpec]:
        """The actors that talk to the server (rebuilt when the server settings change)."""
        api = self.api
        if api is None:
            return []
        cfg = self.config
        return [
            ChildSpec(
                "connection",
                partial(
                    run_connection,
                    api,
                    self.runtime,
                    check_interval=cfg.connection.check_interval,
                    location=cfg.station.location or None,
                    purpose=cfg.station.purpose or None,
                ),
                shutdown_timeout=0,  # nothing to finish: cancel at once
            ),
            ChildSpec(
                "sync",
                partial(
                    run_sync,
                    api,
                    self.runtime,
                    self.paths.cache_dir / "metadata.json",
                    interval=cfg.sync.interval,
                ),
                shutdown_timeout=0,
            ),
            ChildSpec(
                "uploader",
                partial(
                    run_uploader,
                    self.queue,
                    api,
                    self.runtime,
                    workers=cfg.queue.upload_workers,
                ),
                shutdown_timeout=DRAIN_TIMEOUT,
            ),
        ]

    def snapshot(self) -> StatusSnapshot:
        """The daemon's status right now."""
        rt = self.runtime
        stats = self.queue.stats()
        tree = self.tree.statistics() if self.tree is not None else None
        return StatusSnapshot(
            instance=self.paths.instance,
            pid=os.getpid(),
            version=__version__,
            started_at=rt.started_at,
            uptime=time.time() - rt.started_at,
            station=rt.station_name,
            server_url=rt.server_url,
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
            converters=[msgspec.to_builtins(c.stats) for c in self.converters.values()],
            written_at=time.time(),
        )

    def status_line(self) -> str:
        """One line for systemd's STATUS."""
        stats = self.queue.stats()
        return (
            f"{self.runtime.connection.value}; queue {stats.depth} waiting, {stats.dead} dead; "
            f"uploaded {self.runtime.counters.uploaded}"
        )

    async def serve_status(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Publish the status file and systemd STATUS/WATCHDOG until cancelled.

        The watchdog is pinged from this task, so a blocked event loop stops the pings; it is
        also withheld while the supervision tree reports a failed actor.
        """
        path = status_file(self.paths)
        ping = watchdog_interval(self.env)
        period = min(_STATUS_PERIOD, ping) if ping else _STATUS_PERIOD
        task_status.started()
        try:
            while True:
                snapshot = self.snapshot()
                await trio.to_thread.run_sync(_write_atomic, path, msgspec.json.encode(snapshot))
                if self.ready.is_set():
                    self.notifier.status(self.status_line())
                    if ping and self.healthy():
                        self.notifier.watchdog()
                await trio.sleep(period)
        finally:
            path.unlink(missing_ok=True)

    def healthy(self) -> bool:
        """Whether no actor of the tree has been given up on (state ``failed``)."""
        if self.tree is None:
            return True
        nodes: list[ChildStatistics | SupervisorStatistics] = [self.tree.statistics()]
        while nodes:
            node = nodes.pop()
            if node.state == ChildState.FAILED.value:
                return False
            if isinstance(node, SupervisorStatistics):
                nodes.extend(node.children)
        return True

    async def reload(self) -> None:
        """Load the config file again and restart what changed; keep running on a bad file."""
        try:
            new = await trio.to_thread.run_sync(
                partial(load_config, self.paths.config_file, env=self.env)
            )
        except ConfigError as exc:
            log.error("config reload refused, keeping the running config:\n%s", exc)
            return
        changed = diff_config(self.config, new)
        if not changed:
            return
        log.info("config changed: %s", ", ".join(sorted(changed)))
        if "queue" in changed:
            log.warning("queue settings change after a restart of the daemon")
        self.config = new
        self.runtime.station_name = new.station.effective_name
        if self.host is not None:
            self.host.station = self.station_info()
        await self.reload_converters(changed)
        if changed & _SERVER_SECTIONS and self.tree is not None:
            for spec in self.server_children():
                await self.tree.remove_child(spec.name)
            old = self.api
            self.api = self.make_api()
            self.runtime.server_url = new.server.url
            self.runtime.set_connection(
                ConnectionState.CONNECTING if self.api else ConnectionState.UNCONFIGURED
            )
            for spec in self.server_children():
                await self.tree.add_child(spec)
            if old is not None:
                await old.aclose()

    async def watch_config(self) -> None:
        """Reload on SIGHUP or when the config file changes on disk."""
        path = self.paths.config_file

        def mtime() -> float | None:
            try:
                return path.stat().st_mtime
            except OSError:
                return None

        seen = mtime()
        with trio.open_signal_receiver(signal.SIGHUP) as hangups:
            async with trio.open_nursery() as nursery:

                async def on_signal() -> None:
                    async for _ in hangups:
                        await self.reload()

                nursery.start_soon(on_signal)
                while True:
                    await trio.sleep(_CONFIG_POLL)
                    now = mtime()
                    if now != seen:
                        seen = now
                        await self.reload()


async def run_daemon(
    paths: InstancePaths,
    *,
    env: Mapping[str, str] | None = None,
    task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the station until SIGTERM/SIGINT.

    Raises:
        ConfigError: the configuration is invalid.
        QueueLocked: another daemon of this instance runs.
    """
    # Signals are ours from the first line to the last: a second SIGTERM during shutdown must
    # not kill the process half-way through closing the queue.
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as stops:
        env = os.environ if env is None else env
        config = load_config(paths.config_file, env=env)
        queue_dir = config.queue.directory(paths)
        queue = await trio.to_thread.run_sync(
            partial(ReportQueue.open, queue_dir, max_bytes=config.queue.max_bytes)
        )
        notifier = Notifier(env)
        runtime = Runtime(
            instance=paths.instance,
            station_name=config.station.effective_name,
            server_url=config.server.url,
        )
        daemon = Daemon(paths, config, env, queue, runtime, notifier)
        try:
            daemon.api = daemon.make_api()
            if daemon.api is None:
                runtime.set_connection(ConnectionState.UNCONFIGURED)
            daemon.host = ConverterHost(
                queue=queue,
                runtime=runtime,
                station=daemon.station_info(),
                processes=daemon.processes,
            )
            await daemon.load_converters()
            daemon.converter_tree = Supervisor("converters", daemon.converter_children())
            tree = Supervisor(
                "station",
                [
                    *daemon.server_children(),
                    daemon.converter_tree.as_child(),
                    ChildSpec("status", daemon.serve_status, shutdown_timeout=0),
                ],
            )
            daemon.tree = tree
            async with trio.open_nursery() as nursery:
                await nursery.start(tree.run)
                nursery.start_soon(daemon.watch_config)
                notifier.ready(daemon.status_line())
                daemon.ready.set()
                log.info(
                    "station %s (instance %s) running; queue %s",
                    runtime.station_name,
                    paths.instance,
                    queue_dir,
                )
                task_status.started(daemon)
                async for signum in stops:
                    log.info("%s: stopping", signal.Signals(signum).name)
                    notifier.stopping()
                    with trio.move_on_after(DRAIN_TIMEOUT + 2.0):
                        await tree.stop()
                    nursery.cancel_scope.cancel()
                    break
        finally:
            with trio.CancelScope(shield=True):
                if daemon.api is not None:
                    await daemon.api.aclose()
            await trio.to_thread.run_sync(queue.close, abandon_on_cancel=False)
            notifier.close()

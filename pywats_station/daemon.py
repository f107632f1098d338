"""Assemble and run the station daemon: the supervision tree, signals, systemd, hot reload.

::

    station (supervisor, one_for_one)
    ├── control        auxiliary   the control channel (JSON-RPC over websocket), events
    ├── connection     essential   online/offline, health checks, registration
    ├── sync           auxiliary   processes/levels/product groups -> on-disk cache
    ├── uploader       essential   N workers draining the durable queue
    ├── converters     essential   (supervisor) converter:<name>, one auxiliary per converter
    └── status         auxiliary   the status file
    (+ outside the tree: systemd STATUS and WATCHDOG, the config watcher, signals)

Supervision policy: what the delivery guarantee needs is *essential*; everything else is an
*auxiliary*. An auxiliary that fails is restarted with backoff (up to ``AUXILIARY_BACKOFF_MAX``)
for as long as it keeps failing, and shown (its state, restart count and last error in
``station.tree``, the status file and the TUI); its failures never count toward the station's
restart intensity, so a status file that cannot be written, a control port that cannot be
bound or one converter with a bug never stop uploads and the other converters. An essential
actor that fails more than 3 times in 5 s makes the station give up: the process exits
non-zero, systemd starts it again, and the queue on disk carries every report across. The
converters are auxiliaries one by one (a broken converter cannot lose a report: its sources move
only once their reports are queued); their supervisor is essential.

SIGTERM/SIGINT (or :meth:`Daemon.stop`) stop it gracefully: the uploader finishes the uploads in
flight (bounded by ``DRAIN_TIMEOUT``), everything else is cancelled, the queue is closed. SIGHUP
(or a change of the config file, or ``config.set`` over the control channel) reloads the
configuration and restarts only the actors whose sections changed.

Events for the control channel go through :meth:`Daemon.publish` (synchronous, never blocks);
log records are kept in a ring buffer (:class:`~pywats_station.logbuffer.LogBuffer`) for
``logs.tail`` and the ``log_record`` event.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import trio

from pywats import AsyncWATS, RateLimit, RetryPolicy
from pywats.models.app import Process
from pywats_station import fdlimit
from pywats_station._failpoints import failpoint
from pywats_station._file_watch import open_file_watch
from pywats_station._supervisor import (
    AUXILIARY_BACKOFF_MAX,
    ChildSpec,
    Supervisor,
    SupervisorStatistics,
)
from pywats_station.actors.connection import run_connection
from pywats_station.actors.control import ControlState, build_registry, run_control
from pywats_station.actors.control_config import commit_change, plan_change
from pywats_station.actors.converter import ConverterHost, LoadedConverter
from pywats_station.actors.converters import (
    converter_spec,
    load_converters,
    load_one,
    own_station,
)
from pywats_station.actors.sync import MetadataCache, run_sync
from pywats_station.actors.uploader import run_uploader
from pywats_station.config import URL_ENV, ConfigError, StationConfig, diff_config, load_config
from pywats_station.control import ControlHub, Registry, ensure_control_token
from pywats_station.control.events import LogLevel, LogRecord
from pywats_station.control.models import ConfigSetResult
from pywats_station.converters import StationInfo
from pywats_station.logbuffer import LogBuffer
from pywats_station.paths import InstancePaths
from pywats_station.queue import QueueLocked, ReportQueue
from pywats_station.runtime import ConnectionState, Runtime
from pywats_station.secrets import TOKEN_ENV, SecretsError, resolve_token, token_files
from pywats_station.server_access import AccessError, ServerAccess, server_access
from pywats_station.status import (
    read_status,
    serve_status,
    serve_watchdog,
    status_file,
    status_line,
)
from pywats_station.systemd import Notifier
from pywats_station.token_binding import check_binding, mark_pending

__all__ = ["DRAIN_TIMEOUT", "Daemon", "read_status", "run_daemon", "status_file"]

log = logging.getLogger("pywats_station.daemon")

DRAIN_TIMEOUT = 4.0  # seconds the uploader may finish in-flight uploads after SIGTERM
_CONFIG_POLL = 2.0  # seconds between looks at the config where its folder cannot be watched
_CONFIG_SETTLE = 0.2
_SERVER_SECTIONS = frozenset({"server", "station", "connection", "sync", "queue"})
# A control restart asked for over the control channel waits this long, so that the reply to
# config.set leaves before the server it travels through is stopped.
_CONTROL_RESTART_DELAY = 0.5
# A command that reads the queue (`status`, `queue list`) holds its lock for milliseconds; a
# daemon starting in that moment waits this long before it decides another daemon runs.
QUEUE_LOCK_WAIT = 3.0


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
    # Tests run the daemon against an in-process emulator (pywats.testing.FakeWATS).
    transport: httpx.AsyncBaseTransport | None = None
    registry: Registry | None = None
    hub: ControlHub | None = None
    logs: LogBuffer | None = None
    control: ControlState = field(default_factory=ControlState)
    # Set once the control channel first listened or failed to (its port is then known).
    control_settled: trio.Event = field(default_factory=trio.Event)
    control_token: str = ""  # the operator token (control-token)
    admin_token: str = ""  # the admin token (control-admin-token)
    # The API token in use: registered with the hub and the log buffer so that it is never
    # sent or kept; never part of any status.
    api_token: str | None = field(default=None, repr=False)
    # The proxy password the client was made with (a stored one changes without the config).
    access_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Why no token is sent (none set, unusable, or bound to another server); None: all is well.
    credential_problem: str | None = None
    stopping: trio.Event = field(default_factory=trio.Event)
    nursery: trio.Nursery | None = None
    config_lock: trio.Lock = field(default_factory=trio.Lock)
    _reload_lock: trio.Lock = field(default_factory=trio.Lock)

    def publish(self, event: str, payload: msgspec.Struct) -> None:
        """Send an event to the subscribed control clients; never blocks, never raises."""
        if self.hub is None:
            return
        try:
            self.hub.publish(event, payload)
        except (ValueError, TypeError):  # a bug in the caller: say so, keep the actor running
            logging.getLogger("pywats_station.control").exception("cannot publish %s", event)

    def secrets(self) -> list[str]:
        """Values that must never leave through the control channel (the API token)."""
        return [self.api_token] if self.api_token else []

    def safe_server_url(self) -> str:
        """The server URL, a password in it shown as ``***``."""
        url = self.config.server.url
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()

    def stop(self) -> None:
        """Ask for a graceful stop, as SIGTERM does."""
        self.stopping.set()

    # --- the control channel's ports (actors/control_port.py) ---------------------------------

    @property
    def instance(self) -> str:
        """The instance's name."""
        return self.paths.instance

    @property
    def config_file(self) -> Path:
        """The configuration file."""
        return self.paths.config_file

    def tree_statistics(self) -> SupervisorStatistics | None:
        """The supervision tree's state (``None`` before it runs)."""
        return self.tree.statistics() if self.tree is not None else None

    def converter_statistics(self) -> SupervisorStatistics | None:
        """The converters' supervisor's state (``None`` before it runs)."""
        tree = self.converter_tree
        return tree.statistics() if tree is not None else None

    def control_connections(self) -> int:
        """Control clients connected now."""
        return len(self.hub.connections()) if self.hub is not None else 0

    def tail_logs(self, lines: int, level: LogLevel) -> list[LogRecord]:
        """The latest log records, secrets masked."""
        return self.logs.tail(lines, level) if self.logs is not None else []

    async def server_version(self) -> str | None:
        """The server's version (``None`` when no server is configured); raises PyWATSError."""
        if self.api is None:
            return None
        return await self.api.app.get_version()

    async def set_converter_enabled(self, name: str, enabled: bool) -> None:
        """Persist ``converters.<name>.enabled`` (the reload starts or stops its actor)."""
        await self.change_config(f"converters.{name}.enabled", enabled, dry_run=False)

    async def restart_converter(self, name: str) -> None:
        """Restart a converter's actor, or load a broken (never started) one again."""
        tree = self.converter_tree
        if tree is None:
            raise RuntimeError("the converters are not running")
        if any(spec.name == f"converter:{name}" for spec in tree.children):
            await tree.restart_child(f"converter:{name}")
        else:  # broken: load it again, it may have been fixed
            await self.reload_converter(name)

    async def change_config(self, key: str, value: Any, *, dry_run: bool) -> ConfigSetResult:
        """``config.set``: plan (validate, check roots), save atomically, reload what changed."""
        path = self.paths.config_file
        async with self.config_lock:  # one change at a time: each is planned against the last
            change = await trio.to_thread.run_sync(partial(plan_change, path, self.env, key, value))
            if dry_run or not change.changed:
                return ConfigSetResult(changed=change.changed, saved=False)
            if "server.url" in change.changed and change.config.server.url:
                # Before the file changes: no reload may see the new server unmarked.
                await trio.to_thread.run_sync(mark_pending, self.paths, change.config.server.url)
            await trio.to_thread.run_sync(partial(commit_change, path, self.env, change))
            restarted = await self.reload()
        return ConfigSetResult(changed=change.changed, restarted=restarted, saved=True)

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

    async def reload_converters(self, changed: set[str]) -> list[str]:
        """Restart only the converters whose entries changed (added, removed or edited).

        Returns:
            The converter actors stopped or started (``converter:<name>``).
        """
        names = {c.split(":", 1)[1] for c in changed if c.startswith("converters:")}
        if not names or self.converter_tree is None or self.host is None:
            return []
        restarted: list[str] = []
        running = {spec.name for spec in self.converter_tree.children}
        by_name = {c.name: c for c in self.config.converters}
        for name in sorted(names):
            if f"converter:{name}" in running:
                await self.converter_tree.remove_child(f"converter:{name}")
                restarted.append(f"converter:{name}")
                failpoint("config.reload.converter_stopped")
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
                if spec.name not in restarted:
                    restarted.append(spec.name)
            log.info("converter %s (re)loaded: %s", name, loaded.stats.state)
        return restarted

    async def reload_converter(self, name: str) -> list[str]:
        """Load one converter again (a broken one may have been fixed), between reloads."""
        async with self._reload_lock:
            return await self.reload_converters({f"converters:{name}"})

    def credentials(self, config: StationConfig) -> tuple[str | None, str | None]:
        """The token to send to ``config``'s server, and why none is sent (``None``: fine).

        No token when none is set, when the configured one is unusable, or when the server is
        not the one the token is confirmed for (:mod:`~pywats_station.token_binding`).
        """
        url = config.server.url
        try:
            withheld = check_binding(
                self.paths, url, from_env=self.env.get(URL_ENV, "") == url != ""
            )
        except OSError as exc:
            withheld = f"cannot read the server binding: {exc}"
        if withheld is not None:
            # Never send the service account's token to a server nobody on the station confirmed.
            return None, withheld
        try:
            token = resolve_token(config, self.paths, self.env)
        except SecretsError as exc:
            return None, f"API token unusable: {exc}"
        if not token:
            return None, (
                "no API token is set: run `pywats-station login` on the station (or set "
                f"${TOKEN_ENV} or server.token_file)"
            )
        return token, None

    def _access_secrets(self, config: StationConfig) -> tuple[str, ...]:
        try:
            return server_access(config, self.paths).secrets
        except AccessError:
            return ()

    def make_api(self) -> AsyncWATS | None:
        """A client for the configured server, or ``None`` when no server is configured."""
        server = self.config.server
        if not server.url:
            return None
        token, self.credential_problem = self.credentials(self.config)
        if self.credential_problem is not None:
            log.error("%s", self.credential_problem)
        self.api_token = token
        try:
            access = server_access(self.config, self.paths)
        except AccessError as exc:
            # Requests would go out other than configured (no proxy, other CAs): send none.
            self.credential_problem = str(exc)
            log.error("%s", exc)
            access, token = ServerAccess(), None
        self.access_secrets = access.secrets
        secrets = [token, *access.secrets] if token else list(access.secrets)
        if secrets:
            if self.hub is not None:
                self.hub._add_secrets(secrets)  # a new token (reload) is as secret as the first
            if self.logs is not None:
                self.logs.add_secrets(secrets)
        return AsyncWATS(
            server.url,
            token,
            timeout=server.timeout,
            **access.client_options(),
            # The uploader retries forever with the queue's backoff; the client only smooths
            # over a single hiccup.
            retry=RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=5.0),
            rate_limit=(
                RateLimit(server.requests_per_minute, 60.0) if server.requests_per_minute else None
            ),
            transport=self.transport,
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
                    credential_problem=self.credential_problem,
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
                # A cache for offline use: uploads go on without a fresh one.
                essential=False,
                backoff_max=AUXILIARY_BACKOFF_MAX,
            ),
            ChildSpec(
                "uploader",
                partial(
                    run_uploader,
                    self.queue,
                    api,
                    self.runtime,
                    workers=cfg.queue.upload_workers,
                    publish=self.publish,
                ),
                shutdown_timeout=DRAIN_TIMEOUT,
            ),
        ]

    async def reload(self) -> list[str]:
        """Load the config file again and restart what changed; keep running on a bad file.

        Returns:
            The actors restarted (or started, or stopped) to apply the change.
        """
        async with self._reload_lock:  # SIGHUP, the file watcher and config.set may coincide
            try:
                new = await trio.to_thread.run_sync(
                    partial(load_config, self.paths.config_file, env=self.env)
                )
            except ConfigError as exc:
                log.error("config reload refused, keeping the running config:\n%s", exc)
                # Kept for `status` and `station.status`: the log alone is easy to miss.
                self.runtime.config_problem = str(exc)
                return []
            self.runtime.config_problem = None
            failpoint("config.reload.loaded")
            changed = diff_config(self.config, new)
            if self.api is not None or new.server.url:
                # `login`/`logout`, a rotated token file or a confirmed server change the
                # credentials, not the config.
                token, problem = await trio.to_thread.run_sync(self.credentials, new)
                fresh = (token, problem) != (self.api_token, self.credential_problem)
                if fresh and "server" not in changed:
                    log.info("the API token changed: reconnecting with the new one")
                    changed = {*changed, "server"}
                secrets = await trio.to_thread.run_sync(self._access_secrets, new)
                if secrets != self.access_secrets and "server" not in changed:
                    log.info("the proxy's password changed: reconnecting with the new one")
                    changed = {*changed, "server"}
            if not changed:
                return []
            log.info("config changed: %s", ", ".join(sorted(changed)))
            if "queue" in changed:
                log.warning("queue settings change after a restart of the daemon")
            self.config = new
            self.runtime.station_name = new.station.effective_name
            if self.host is not None:
                self.host.station = self.station_info()
                for loaded in self.converters.values():  # hub mode: what [station] gives them
                    loaded.stats.station = own_station(loaded.config, self.host.station)
            restarted = await self.reload_converters(changed)
            failpoint("config.reload.applied")
            if changed & _SERVER_SECTIONS and self.tree is not None:
                restarted += await self._restart_server_children(new)
            if "control" in changed and self.tree is not None and self.nursery is not None:
                # Later, from outside the control actor: this may run in one of its requests.
                self.nursery.start_soon(self._restart_control)
                restarted.append("control")
            return restarted

    async def _restart_server_children(self, new: StationConfig) -> list[str]:
        assert self.tree is not None
        names = [spec.name for spec in self.server_children()]
        for name in names:
            await self.tree.remove_child(name)
        old = self.api
        self.api = self.make_api()
        self.runtime.server_url = new.server.url
        self.runtime.set_connection(
            ConnectionState.CONNECTING if self.api else ConnectionState.UNCONFIGURED
        )
        specs = self.server_children()
        for spec in specs:
            await self.tree.add_child(spec)
        if old is not None:
            await old.aclose()
        return sorted(set(names) | {spec.name for spec in specs})

    async def _restart_control(self) -> None:
        await trio.sleep(_CONTROL_RESTART_DELAY)
        if self.tree is not None:
            with contextlib.suppress(KeyError, RuntimeError):  # stopping meanwhile
                await self.tree.restart_child("control")

    async def watch_config(self) -> None:
        """Reload on SIGHUP, or when the config file or a token's file changes on disk."""

        def mtime() -> tuple[tuple[int, int] | None, ...]:
            files = [self.paths.config_file, *token_files(self.config, self.paths, self.env)]
            stamps: list[tuple[int, int] | None] = []
            for path in files:
                try:
                    st = path.stat()
                except OSError:
                    stamps.append(None)
                else:
                    stamps.append((st.st_mtime_ns, st.st_size))
            return tuple(stamps)

        # No stamp yet: the first look reloads (a no-op when nothing changed), so a change made
        # between the daemon reading its config and this watcher starting is not missed.
        seen: tuple[tuple[int, int] | None, ...] | None = None
        with trio.open_signal_receiver(signal.SIGHUP) as hangups:
            async with trio.open_nursery() as nursery:

                async def on_signal() -> None:
                    async for _ in hangups:
                        await self.reload()

                nursery.start_soon(on_signal)
                while True:
                    # Watched before the stamps are taken: a change in between is not missed.
                    files = [
                        self.paths.config_file,
                        *token_files(self.config, self.paths, self.env),
                    ]
                    async with open_file_watch(files, fallback=_CONFIG_POLL) as changed:
                        now = await trio.to_thread.run_sync(mtime)
                        if now != seen:
                            seen = now
                            await self.reload()
                            continue  # the token's file may be another one now
                        await changed()
                        await trio.sleep(_CONFIG_SETTLE)  # an editor's save is several events


async def _open_queue(queue_dir: Path, max_bytes: int) -> ReportQueue:
    """Open the instance's queue, waiting out a command that holds it for a moment.

    Raises:
        QueueLocked: still held after :data:`QUEUE_LOCK_WAIT` seconds: another daemon.
    """
    deadline = trio.current_time() + QUEUE_LOCK_WAIT
    waited = False
    while True:
        try:
            return await trio.to_thread.run_sync(
                partial(ReportQueue.open, queue_dir, max_bytes=max_bytes)
            )
        except QueueLocked as exc:
            if trio.current_time() >= deadline:
                raise
            if not waited:
                waited = True
                log.info("%s; trying again for up to %.0f s", exc, QUEUE_LOCK_WAIT)
            await trio.sleep(0.05)


async def run_daemon(
    paths: InstancePaths,
    *,
    env: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the station until SIGTERM/SIGINT (or :meth:`Daemon.stop`).

    Args:
        paths: The instance.
        env: The environment (``os.environ`` by default).
        transport: An httpx transport for the API client (tests: an in-process emulator).
        task_status: Started with the running :class:`Daemon`.

    Raises:
        ConfigError: The configuration is invalid.
        QueueLocked: Another daemon of this instance runs.
        ControlTokenError: The control token file is unsafe (readable by others) or damaged.
    """
    # Signals are ours from the first line to the last: a second SIGTERM during shutdown must
    # not kill the process half-way through closing the queue.
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as stops:
        env = os.environ if env is None else env
        fdlimit.raise_limit()  # before anything opens files: see the module for why
        config = load_config(paths.config_file, env=env)
        control_token = await trio.to_thread.run_sync(
            ensure_control_token, paths.control_token_file
        )
        admin_token = await trio.to_thread.run_sync(
            ensure_control_token, paths.control_admin_token_file
        )
        queue_dir = config.queue.directory(paths)
        queue = await _open_queue(queue_dir, config.queue.max_bytes)
        notifier = Notifier(env)
        runtime = Runtime(
            instance=paths.instance,
            station_name=config.station.effective_name,
            server_url=config.server.url,
        )
        daemon = Daemon(paths, config, env, queue, runtime, notifier, transport=transport)
        daemon.control_token = control_token
        daemon.admin_token = admin_token
        daemon.registry = build_registry(daemon)
        daemon.hub = ControlHub(daemon.registry)
        daemon.logs = LogBuffer(secrets=[control_token, admin_token])
        root = logging.getLogger()
        root.addHandler(daemon.logs)
        publish_log = partial(daemon.publish, "log_record")
        daemon.logs.attach(trio.lowlevel.current_trio_token(), publish_log)
        try:
            daemon.api = daemon.make_api()
            if daemon.api is None:
                runtime.set_connection(ConnectionState.UNCONFIGURED)
            daemon.host = ConverterHost(
                queue=queue,
                runtime=runtime,
                station=daemon.station_info(),
                processes=daemon.processes,
                publish=daemon.publish,
                config_file=paths.config_file,
            )
            await daemon.load_converters()
            daemon.converter_tree = Supervisor("converters", daemon.converter_children())
            tree = Supervisor(
                "station",
                [
                    ChildSpec(
                        "control",
                        partial(run_control, daemon),
                        shutdown_timeout=0,
                        essential=False,
                        backoff_max=AUXILIARY_BACKOFF_MAX,
                    ),
                    *daemon.server_children(),
                    daemon.converter_tree.as_child(),
                    ChildSpec(
                        "status",
                        partial(serve_status, daemon),
                        shutdown_timeout=0,
                        essential=False,
                        backoff_max=AUXILIARY_BACKOFF_MAX,
                    ),
                ],
            )
            daemon.tree = tree
            async with trio.open_nursery() as nursery:
                daemon.nursery = nursery
                await nursery.start(tree.run)
                nursery.start_soon(daemon.watch_config)
                nursery.start_soon(serve_watchdog, daemon)
                nursery.start_soon(_stop_on_signals, stops, daemon)
                notifier.ready(status_line(daemon))
                daemon.ready.set()
                log.info(
                    "station %s (instance %s) running; queue %s",
                    runtime.station_name,
                    paths.instance,
                    queue_dir,
                )
                task_status.started(daemon)
                await daemon.stopping.wait()
                notifier.stopping()
                with trio.move_on_after(DRAIN_TIMEOUT + 2.0):
                    await tree.stop()
                nursery.cancel_scope.cancel()
        finally:
            daemon.logs.detach()
            root.removeHandler(daemon.logs)
            with trio.CancelScope(shield=True):
                if daemon.api is not None:
                    await daemon.api.aclose()
                await trio.to_thread.run_sync(queue.close)
            notifier.close()


async def _stop_on_signals(stops: AsyncIterator[int], daemon: Daemon) -> None:
    async for signum in stops:
        log.info("%s: stopping", signal.Signals(signum).name)
        daemon.stop()
        return

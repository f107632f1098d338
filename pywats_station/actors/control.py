"""The control actor: serves the control channel and feeds it the events the tree cannot push.

It is the first child of the station's tree (design §3). It:

* serves JSON-RPC over a websocket (:func:`~pywats_station.control.server.serve_control`) on
  ``[control] listen``, with TLS when ``tls_cert``/``tls_key`` are set; port ``0`` picks a free
  port. The bound port is written to ``<runtime>/control.port`` and to the status file, so
  clients find it;
* never takes the station down: a port in use, a missing certificate or an unusable address is
  logged, shown in the status (``control.state = "retrying"``) and retried with backoff while
  the other actors carry on;
* publishes ``actor_state`` (by diffing the supervision tree every half second: the supervisor
  has no hooks, and a poll costs nothing next to a change a human wants to see) and
  ``counters`` (every two seconds, when they changed and someone is connected).

The methods themselves live in :mod:`.control_methods`, :mod:`.control_converters` and
:mod:`.control_config`; :func:`build_registry` binds them all to one daemon.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import ssl
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, Protocol

import msgspec
import trio

from pywats_station._supervisor import STATE_CHANGES, ChildStatistics, SupervisorStatistics
from pywats_station.actors.control_config import register_config_methods
from pywats_station.actors.control_converters import register_converter_methods
from pywats_station.actors.control_methods import (
    counters_event,
    queue_stats_event,
    register_service_methods,
    register_station_methods,
)
from pywats_station.actors.control_port import AdminPort, OperatorPort
from pywats_station.config import ControlConfig, parse_listen
from pywats_station.control import ControlServer, Registry, serve_control
from pywats_station.control import methods as m
from pywats_station.paths import InstancePaths, atomic_write

if TYPE_CHECKING:
    from pywats_station._supervisor import Supervisor
    from pywats_station.config import StationConfig
    from pywats_station.control import ControlHub
    from pywats_station.queue import ReportQueue
    from pywats_station.runtime import Runtime


class Daemon(Protocol):
    """What the control actor needs of the daemon (which implements it; no import of it here)."""

    @property
    def paths(self) -> InstancePaths: ...
    @property
    def config(self) -> StationConfig: ...
    @property
    def registry(self) -> Registry | None: ...
    @property
    def hub(self) -> ControlHub | None: ...
    @property
    def control(self) -> ControlState: ...
    @property
    def control_settled(self) -> trio.Event: ...
    @property
    def control_token(self) -> str: ...
    @property
    def admin_token(self) -> str: ...
    @property
    def tree(self) -> Supervisor | None: ...
    @property
    def queue(self) -> ReportQueue: ...
    @property
    def runtime(self) -> Runtime: ...
    def secrets(self) -> list[str]: ...
    def publish(self, event: str, payload: msgspec.Struct) -> None: ...


__all__ = [
    "ControlState",
    "build_registry",
    "client_url",
    "control_server",
    "port_file",
    "run_control",
    "tls_context",
]

# Not "pywats_station.control": that logger's records are kept out of logs.tail (the log
# buffer's feedback rule), and these are the ones an operator needs.
log = logging.getLogger("pywats_station.control_actor")

RETRY_FIRST: Final = 1.0
RETRY_MAX: Final = 60.0
COUNTERS_PERIOD: Final = 2.0


class ControlState(msgspec.Struct, kw_only=True):
    """How the control channel is doing (the status file's ``control`` section).

    Attributes:
        state: ``starting``, ``listening``, ``retrying`` (cannot listen; see ``error``) or
            ``stopped``.
        listen: The configured address (``[control] listen``).
        url: Where clients connect (``ws://127.0.0.1:8765``) while listening.
        port: The bound port while listening (the chosen one for port 0).
        tls: Whether the channel uses TLS (``wss://``).
        error: Why it cannot listen.
        retry_at: When it tries again.
    """

    state: Literal["starting", "listening", "retrying", "stopped"] = "starting"
    listen: str = ""
    url: str | None = None
    port: int | None = None
    tls: bool = False
    error: str | None = None
    retry_at: float | None = None


def port_file(paths: InstancePaths) -> Path:
    """The file holding the bound port while the channel listens (``<runtime>/control.port``)."""
    return paths.runtime_dir / "control.port"


def client_url(host: str, port: int, *, tls: bool) -> str:
    """The URL a client on this machine uses for a server bound to ``host:port``.

    A wildcard address (``0.0.0.0``, ``::``) is reached through loopback.
    """
    host = host.strip("[]")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"{'wss' if tls else 'ws'}://{host}:{port}"


def tls_context(control: ControlConfig, base_dir: Path) -> ssl.SSLContext:
    """A server TLS context from ``tls_cert``/``tls_key`` (relative to ``base_dir``).

    Raises:
        OSError: A file is missing or unreadable (``ssl.SSLError``: not a certificate or key).
    """

    def resolve(name: str) -> Path:
        path = Path(os.path.expandvars(name)).expanduser()
        return path if path.is_absolute() else base_dir / path

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(resolve(control.tls_cert), resolve(control.tls_key))
    return context


def build_registry(station: AdminPort) -> Registry:
    """A registry with a handler for every catalogue method, bound to ``station``.

    Each group gets the port of the role its methods need (``control_port`` says what each
    reaches): only ``config.set`` is handed the admin port. Registered in catalogue order,
    which is the order ``rpc.discover`` lists them in.
    """
    operator: OperatorPort = station
    registry = Registry()
    register_station_methods(registry, operator)
    register_converter_methods(registry, operator)
    register_config_methods(registry, operator, admin=station)
    register_service_methods(registry, operator)
    return registry


def control_server(daemon: Daemon) -> ControlServer:
    """A server over the daemon's registry and hub, for in-process clients (tests, tools).

    It knows both tokens, as the TCP server does; an in-process client is local, so the admin
    token grants it admin.
    """
    assert daemon.registry is not None
    return ControlServer(
        daemon.registry,
        token=daemon.control_token,
        admin_token=daemon.admin_token or None,
        remote_admin=daemon.config.control.remote_admin,
        hub=daemon.hub,
        secrets=daemon.secrets(),
    )


async def run_control(
    daemon: Daemon, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve the control channel until cancelled, retrying a failed bind with backoff."""
    state = daemon.control
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch_tree, daemon)
        nursery.start_soon(publish_counters, daemon)
        # Started at once: a port in use must not hold up (or, by failing, restart) the tree.
        task_status.started()
        backoff = RETRY_FIRST
        while True:
            error = await _serve_once(daemon)
            daemon.control_settled.set()
            state.state, state.error = "retrying", error
            state.url = state.port = None
            state.retry_at = time.time() + backoff
            log.error(
                "control channel cannot listen on %s: %s; retrying in %.0f s",
                state.listen,
                error,
                backoff,
            )
            await trio.sleep(backoff)
            backoff = min(RETRY_MAX, backoff * 2)


async def _serve_once(daemon: Daemon) -> str:
    """Serve until cancelled; return why it could not start listening."""
    assert daemon.registry is not None
    cfg = daemon.config.control
    state = daemon.control
    state.listen = cfg.listen
    try:
        host, port = parse_listen(cfg.listen)
        context = None
        if cfg.tls_cert:
            base = daemon.paths.config_file.parent
            context = await trio.to_thread.run_sync(tls_context, cfg, base)
    except (OSError, ValueError) as exc:
        return _describe(exc)
    async with trio.open_nursery() as nursery:
        try:
            bound: int = await nursery.start(
                partial(
                    serve_control,
                    daemon.registry,
                    host=host,
                    port=port,
                    token=daemon.control_token,
                    admin_token=daemon.admin_token or None,
                    remote_admin=cfg.remote_admin,
                    hub=daemon.hub,
                    ssl_context=context,
                    allow_remote=cfg.allow_remote,
                    secrets=daemon.secrets(),
                )
            )
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                # Most often a second daemon (another home or instance) with the same port.
                return (
                    f"port {port} is in use by another process (another pywats-station with "
                    "the same [control] listen?)"
                )
            return _describe(exc)
        path = port_file(daemon.paths)
        try:
            await trio.to_thread.run_sync(_write_port, path, bound)
        except OSError as exc:  # the status file still says where we are
            log.warning("cannot write %s: %s", path, exc)
        tls = context is not None
        state.state, state.url, state.port = "listening", client_url(host, bound, tls=tls), bound
        state.tls, state.error, state.retry_at = tls, None, None
        daemon.control_settled.set()
        log.info("control channel: %s", state.url)
        try:
            await trio.sleep_forever()
        finally:
            state.state, state.url, state.port = "stopped", None, None
            with trio.CancelScope(shield=True), contextlib.suppress(OSError):
                await trio.to_thread.run_sync(partial(path.unlink, missing_ok=True))
    raise AssertionError("unreachable")  # pragma: no cover - sleep_forever never returns


def _write_port(path: Path, port: int) -> None:
    atomic_write(path, f"{port}\n".encode("ascii"), mode=0o644, durable=False)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- events the tree cannot push ----------------------------------------------------------------

_Node = tuple[str, int, str | None]  # state, restarts, last error


def flatten_tree(
    node: SupervisorStatistics | ChildStatistics, prefix: str = ""
) -> dict[str, _Node]:
    """Every node of a tree by its ``/``-separated path (``station/converters/converter:ict``)."""
    path = f"{prefix}/{node.name}" if prefix else node.name
    nodes = {path: (node.state, node.restarts, node.last_error)}
    if isinstance(node, SupervisorStatistics):
        for child in node.children:
            nodes |= flatten_tree(child, path)
    return nodes


async def watch_tree(daemon: Daemon) -> None:
    """Publish ``actor_state`` for every state change in the supervision tree, until cancelled.

    Woken by the supervisors when something changes (asleep otherwise): every change is
    looked at, those made in one scheduling round together.
    """
    seen: dict[str, _Node] | None = None
    while True:
        tree = daemon.tree
        now = flatten_tree(tree.statistics()) if tree is not None else {}
        if seen is not None:
            for path, (state, restarts, error) in now.items():
                before = seen.get(path)
                if before is None or before[0] != state:
                    previous = before[0] if before is not None else None
                    event = m.ActorState(
                        path=path,
                        state=state,
                        previous=previous,
                        restarts=restarts,
                        last_error=error,
                    )
                    daemon.publish("actor_state", event)
            for path in seen.keys() - now.keys():  # removed (a converter disabled, say)
                state, restarts, error = seen[path]
                if state != "stopped":
                    event = m.ActorState(
                        path=path, state="stopped", previous=state, restarts=restarts
                    )
                    daemon.publish("actor_state", event)
        seen = now
        await STATE_CHANGES.wait()
        await trio.lowlevel.checkpoint()  # what changes with it in this round: one look


async def publish_counters(daemon: Daemon, *, period: float = COUNTERS_PERIOD) -> None:
    """Publish ``counters`` every ``period`` seconds when they changed, until cancelled.

    Asleep while no client is connected (nobody to tell).
    """
    last: tuple[m.Counters, m.QueueStats] | None = None
    while True:
        if daemon.hub is not None and not daemon.hub.statistics().connections:
            last = None  # the next client gets the totals at once
            await daemon.hub.wait_connected()
        await trio.sleep(period)
        if daemon.hub is None or not daemon.hub.statistics().connections:
            continue
        queue = queue_stats_event(await trio.to_thread.run_sync(daemon.queue.stats))
        current = (counters_event(daemon.runtime), queue)
        if current != last:
            last = current
            update = m.CountersUpdate(time=time.time(), counters=current[0], queue=queue)
            daemon.publish("counters", update)

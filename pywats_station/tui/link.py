"""The only module that talks to a station: one :class:`StationLink` per station.

Textual runs on asyncio and the control client on trio, so each link runs ``trio.run`` in a
thread of its own (the client stays exactly the one the CLI and MES tools use). The seam is two
calls: trio → UI with ``post`` (``App.post_message``, thread-safe, never waits on the UI) and
UI → trio with ``TrioToken.run_sync_soon`` (never blocks the UI). :meth:`StationLink.call` is a
coroutine the screens await on Textual's loop; its answer comes back through
``loop.call_soon_threadsafe``.

A link never gives up: the daemon stopping, restarting on another port, a token being replaced,
a slow or dropped link each end in ``retrying`` with the reason and the time of the next try
(capped back-off), and the last snapshot stays on screen, marked as such. Where the station is
is asked again on every attempt (:data:`Resolver`), so a local daemon found through its status
file is found again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import trio

from pywats_station.control import (
    ControlConnectionError,
    ControlError,
    ControlTokenError,
    ErrorCode,
    EventsDropped,
    open_control_client,
    read_control_token,
)
from pywats_station.control.client import Client
from pywats_station.tui.messages import EventBatch, LinkState, Snapshot

__all__ = [
    "BACKOFF",
    "Endpoint",
    "Link",
    "LinkDown",
    "LinkSetupError",
    "Resolver",
    "StationLink",
    "local_resolver",
    "remote_resolver",
]

log = logging.getLogger("pywats_station.tui")

BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Pauses between attempts; the last repeats. Short, because a person is watching."""
POLL_INTERVAL = 5.0
"""Seconds between full snapshots; events keep the screens current in between."""
CALL_TIMEOUT = 60.0
EVENT_BATCH = 0.2
"""Seconds events are gathered before they go to the UI in one message: a busy station sends
dozens a second, and one message per event would cost the UI more than the events are worth."""
EVENTS = (
    "report_queued",
    "report_uploaded",
    "report_rejected",
    "file_converted",
    "file_failed",
    "actor_state",
    "counters",
)
"""What the link always follows; ``log_record`` only while a log is shown (:meth:`want_logs`)."""


class LinkSetupError(Exception):
    """The station cannot be looked for now (its daemon is not running, no token file …)."""


class LinkDown(ControlError):
    """A call made while the link is not online."""

    def __init__(self, station: str, why: str | None) -> None:
        super().__init__(
            ErrorCode.CONNECTION_CLOSED, f"not connected to {station}: {why or 'connecting'}"
        )


@dataclass(frozen=True)
class Endpoint:
    """Where a station's channel is and how to reach it, for one attempt."""

    url: str
    token: str
    ssl_context: ssl.SSLContext | None = None


Resolver = Callable[[], Endpoint]
"""Finds the station for the next attempt; raises :class:`LinkSetupError` saying why not."""

Post = Callable[[Any], Any]


class Link(Protocol):
    """What the app and its screens need of a station (tests give a fake)."""

    label: str

    def attach(self, post: Post) -> None:
        """Start connecting; from now on messages go to ``post``."""

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a control method; raises :class:`ControlError` (with the server's message)."""

    def close(self) -> None:
        """Stop; returns at once (the thread ends by itself)."""

    def want_logs(self, wanted: bool) -> None:
        """Follow the station's log records live (only while a screen shows them)."""


def remote_resolver(url: str, token_file: Path, cafile: Path | None = None) -> Resolver:
    """A station given by URL; the token file is read again on each attempt (it may be
    replaced while the UI runs)."""

    def resolve() -> Endpoint:
        try:
            token = read_control_token(token_file)
        except (OSError, ControlTokenError) as exc:
            raise LinkSetupError(f"cannot read the token file {token_file}: {exc}") from None
        context: ssl.SSLContext | None = None
        if url.startswith("wss://"):
            context = ssl.create_default_context()
            if cafile is not None:
                try:
                    context.load_verify_locations(cafile=str(cafile))
                except (OSError, ssl.SSLError) as exc:
                    raise LinkSetupError(f"cannot use the CA file {cafile}: {exc}") from None
        return Endpoint(url, token, context)

    return resolve


def local_resolver(paths: Any, *, admin: bool | None = None) -> Resolver:
    """The daemon of a local instance, found as ``pywats-station control url/token`` do.

    Args:
        paths: The instance (:class:`~pywats_station.paths.InstancePaths`).
        admin: Use the admin token (``True``), the operator token (``False``), or the admin
            token when this user can read it and the operator token otherwise (``None``).
    """
    from pywats_station._cli_status import _client_ssl, _tls_cert, daemon_url
    from pywats_station.status import read_status

    def resolve() -> Endpoint:
        snapshot = read_status(paths)
        url = daemon_url(paths, snapshot) if snapshot is not None else None
        if url is None:
            raise LinkSetupError(f"the daemon of instance {paths.instance!r} is not running")
        files = {
            True: [paths.control_admin_token_file],
            False: [paths.control_token_file],
            None: [paths.control_admin_token_file, paths.control_token_file],
        }[admin]
        problems = []
        for file in files:
            try:
                token = read_control_token(file)
            except (OSError, ControlTokenError) as exc:
                problems.append(f"{file}: {exc}")
                continue
            return Endpoint(url, token, _client_ssl(url, _tls_cert(paths, snapshot)))
        raise LinkSetupError("cannot read a control token (" + "; ".join(problems) + ")")

    return resolve


class StationLink:
    """A station's control channel, kept connected from a thread of its own.

    Args:
        label: How the UI names the station.
        resolve: Where it is (asked again on every attempt).
        poll_interval: Seconds between snapshots.
    """

    def __init__(
        self, label: str, resolve: Resolver, *, poll_interval: float = POLL_INTERVAL
    ) -> None:
        self.label = label
        self._resolve = resolve
        self._poll_interval = poll_interval
        self._post: Post = lambda _message: None
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._client: Client | None = None
        self._why: str | None = None
        self._nursery: trio.Nursery | None = None
        self._started = threading.Event()
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._have_pending: trio.Event | None = None
        self._logs_wanted = False
        self._logs_changed: trio.Event | None = None
        self._logs_scope: trio.CancelScope | None = None

    # --- the UI side -------------------------------------------------------------------------

    def attach(self, post: Post) -> None:
        self._post = post
        self._thread = threading.Thread(target=self._run, name=f"link {self.label}", daemon=True)
        self._thread.start()
        self._started.wait(5.0)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        token, nursery = self._token, self._nursery
        if token is None or nursery is None or self._client is None:
            raise LinkDown(self.label, self._why)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        try:
            token.run_sync_soon(nursery.start_soon, self._do_call, method, params, future, loop)
        except trio.RunFinishedError:
            raise LinkDown(self.label, "closed") from None
        return await asyncio.wait_for(future, CALL_TIMEOUT)

    def want_logs(self, wanted: bool) -> None:
        if wanted == self._logs_wanted:
            return
        self._logs_wanted = wanted
        if self._token is not None:
            with contextlib.suppress(trio.RunFinishedError):
                self._token.run_sync_soon(self._logs_toggled)

    def close(self) -> None:
        token, scope = self._token, self._scope
        if token is not None and scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(scope.cancel)
        if self._thread is not None:
            self._thread.join(2.0)

    # --- the trio side -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except Exception:  # never reached in normal use: the UI must not lose its link silently
            log.exception("the link to %s ended", self.label)
            self._post(LinkState(self.label, "down", detail="the link failed; see the log"))

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        with trio.CancelScope() as scope:
            self._scope = scope
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._started.set()
                await self._keep_connected()

    async def _keep_connected(self) -> None:
        attempt = 0
        while True:
            if attempt == 0:  # later attempts were announced with their time already
                self._post(LinkState(self.label, "connecting", detail=self._why))
            state = "retrying"
            try:
                endpoint = await trio.to_thread.run_sync(self._resolve)
                async with open_control_client(
                    endpoint.url, token=endpoint.token, ssl_context=endpoint.ssl_context
                ) as client:
                    attempt = 0
                    await self._online(client)
                self._why = "the station closed the connection"
            except Exception as exc:  # trio nurseries wrap what failed in groups
                state, self._why = _classify(_leaf(exc))
            finally:
                self._client = None
            pause = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            self._post(LinkState(self.label, state, detail=self._why, retry_at=time.time() + pause))
            await trio.sleep(pause)

    async def _online(self, client: Client) -> None:
        role = (await client.ping()).role
        async with client.subscribe(EVENTS) as events:
            await self._snapshot(client)  # after subscribing: nothing falls between the two
            self._client, self._why = client, None
            self._post(LinkState(self.label, "online", role=str(role)))
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._poll, client)
                nursery.start_soon(self._forward)
                nursery.start_soon(self._follow_logs, client)
                async for event, payload in events:
                    self._gather(event, payload)
                nursery.cancel_scope.cancel()
        raise ControlConnectionError("the station closed the connection")

    def _gather(self, event: str, payload: Any) -> None:
        if isinstance(payload, dict):
            self._pending.append((event, payload))
            if self._have_pending is not None:
                self._have_pending.set()

    async def _forward(self) -> None:
        """Hand gathered events to the UI, at most one message per :data:`EVENT_BATCH`."""
        while True:
            self._have_pending = trio.Event()
            if not self._pending:
                await self._have_pending.wait()
            await trio.sleep(EVENT_BATCH)
            batch, self._pending = self._pending, []
            self._post(EventBatch(self.label, batch))

    def _logs_toggled(self) -> None:
        if self._logs_changed is not None:
            self._logs_changed.set()
        if not self._logs_wanted and self._logs_scope is not None:
            self._logs_scope.cancel()

    async def _follow_logs(self, client: Client) -> None:
        """A ``log_record`` subscription of its own, open only while logs are wanted."""
        while True:
            self._logs_changed = trio.Event()
            if not self._logs_wanted:
                await self._logs_changed.wait()
                continue
            with trio.CancelScope() as scope:
                self._logs_scope = scope
                async with client.subscribe(["log_record"]) as records:
                    async for event, payload in records:
                        self._gather(event, payload)
            self._logs_scope = None

    async def _poll(self, client: Client) -> None:
        while True:
            await trio.sleep(self._poll_interval)
            await self._snapshot(client)

    async def _snapshot(self, client: Client) -> None:
        status = await client.call("station.status")
        converters = (await client.call("converters.list"))["converters"]
        tree = await client.call("station.tree")
        self._post(Snapshot(self.label, status, converters, tree))

    async def _do_call(
        self,
        method: str,
        params: dict[str, Any] | None,
        future: asyncio.Future[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        client = self._client
        outcome: tuple[bool, Any]
        try:
            if client is None:
                raise LinkDown(self.label, self._why)  # noqa: TRY301 - answered like any refusal
            outcome = (True, await client.call(method, params))
        except ControlError as exc:
            outcome = (False, exc)
        except Exception as exc:  # any failure answers the caller; the link goes on
            outcome = (
                False,
                ControlError(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"),
            )

        def settle() -> None:
            if future.done():
                return
            if outcome[0]:
                future.set_result(outcome[1])
            else:
                future.set_exception(outcome[1])

        with contextlib.suppress(RuntimeError):  # the UI's loop is gone: nobody waits
            loop.call_soon_threadsafe(settle)


def _leaf(error: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _classify(error: BaseException) -> tuple[str, str]:
    """The link's state and the reason, one line, for an attempt that ended with ``error``."""
    if isinstance(error, LinkSetupError):
        return "down", str(error)
    if isinstance(error, ControlError):
        if error.code == ErrorCode.UNAUTHORIZED:
            return "auth_failed", f"the station refused the token: {error.message}"
        return "retrying", error.message
    if isinstance(error, EventsDropped):
        return "retrying", "events came faster than they were read; reconnecting"
    return "retrying", str(error) or type(error).__name__

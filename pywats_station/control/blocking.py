"""The control channel for scripts: :class:`BlockingClient` runs the trio client in a thread.

::

    from pywats_station.control import BlockingClient, read_control_token

    with BlockingClient("ws://127.0.0.1:8765", read_control_token(path)) as client:
        print(client.call("queue.list", {"state": "dead"}))
        with client.subscribe(["report_uploaded"]) as events:
            event, payload = events.get(timeout=60)

Each call hands a coroutine to the background thread's trio loop (``trio.from_thread.run``) and
blocks until it finishes; several threads may call at once. Errors are those of the trio
client, plus ``TimeoutError`` when no reply came in time.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import TracebackType
from typing import Any

import trio

from pywats_station.control._spec import PingResult
from pywats_station.control.client import (
    Client,
    ControlConnectionError,
    Subscription,
    open_control_client,
)
from pywats_station.control.roles import Role

__all__ = ["BlockingClient", "BlockingSubscription"]


class BlockingSubscription:
    """A :class:`Subscription` for :class:`BlockingClient`: iterate it, or :meth:`get`."""

    def __init__(self, owner: BlockingClient, subscription: Subscription) -> None:
        self._owner = owner
        self._subscription = subscription

    def get(self, timeout: float | None = None) -> tuple[str, Any]:
        """The next ``(event, payload)``; ``TimeoutError`` after ``timeout`` seconds."""
        event: tuple[str, Any] = self._owner._run(
            self._next, math.inf if timeout is None else timeout
        )
        return event

    async def _next(self, seconds: float) -> tuple[str, Any]:
        with trio.fail_after(seconds):
            return await self._subscription.__anext__()

    def __iter__(self) -> BlockingSubscription:
        return self

    def __next__(self) -> tuple[str, Any]:
        try:
            return self.get()
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Unsubscribe."""
        self._owner._run(self._subscription.aclose)

    def __enter__(self) -> BlockingSubscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BlockingClient:
    """The client for scripts: blocking calls, a trio loop in a background thread.

    Args:
        url: As in :func:`open_control_client`.
        token: The control token.
        timeout: Default seconds to wait for a reply (``TimeoutError`` after).
        **options: More :func:`open_control_client` arguments.
    """

    def __init__(
        self, url: str, token: str | None = None, *, timeout: float = 30.0, **options: Any
    ):
        self.url = url
        self.timeout = timeout
        self._token = token
        self._options = options
        self._client: Client | None = None
        self._trio_token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Connect (``with`` does it); raises what :func:`open_control_client` raises."""
        self._thread = threading.Thread(target=self._main, name="pywats-control", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as exc:  # reported to open(); nothing else can see it
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        async with open_control_client(self.url, token=self._token, **self._options) as client:
            self._client = client
            self._stop = trio.Event()
            self._trio_token = trio.lowlevel.current_trio_token()
            self._ready.set()
            await self._stop.wait()

    def call(
        self,
        method: str,
        params: Any = None,
        *,
        result_type: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Like :meth:`Client.call`; ``TimeoutError`` after ``timeout`` (default: the client's)."""
        return self._run(self._call, method, params, result_type, timeout or self.timeout)

    async def _call(self, method: str, params: Any, result_type: Any, seconds: float) -> Any:
        assert self._client is not None
        with trio.fail_after(seconds):
            return await self._client.call(method, params, result_type=result_type)

    def ping(self) -> PingResult:
        """Like :meth:`Client.ping`: the connection's role is then in :attr:`role`."""
        assert self._client is not None
        result: PingResult = self._run(self._client.ping)
        return result

    @property
    def role(self) -> Role | None:
        """The connection's role as last learnt by :meth:`ping` (``None`` before)."""
        return self._client.role if self._client is not None else None

    def notify(self, method: str, params: Any = None) -> None:
        """Like :meth:`Client.notify`."""
        assert self._client is not None
        self._run(self._client.notify, method, params)

    def subscribe(
        self, events: Sequence[str], *, buffer: int | None = None
    ) -> BlockingSubscription:
        """Subscribe now; use the result with ``with`` to unsubscribe at the end."""
        assert self._client is not None
        subscription = self._client.subscribe(events, buffer=buffer)
        self._run(subscription.start)
        return BlockingSubscription(self, subscription)

    def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._trio_token is None:
            raise ControlConnectionError("not connected: use `with BlockingClient(...)`")
        try:
            return trio.from_thread.run(function, *args, trio_token=self._trio_token)
        except trio.TooSlowError:
            raise TimeoutError("no reply from the control server in time") from None
        except trio.RunFinishedError:
            raise ControlConnectionError("the client is closed") from None

    def close(self) -> None:
        """Disconnect and stop the background thread."""
        if self._trio_token is not None and self._stop is not None:
            with suppress(trio.RunFinishedError):  # the loop already ended (connection lost)
                trio.from_thread.run_sync(self._stop.set, trio_token=self._trio_token)
        self._trio_token = None
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> BlockingClient:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

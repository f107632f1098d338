"""Run the same test through the blocking ``pyWATS`` and the async ``AsyncWATS``.

A test takes the ``api`` fixture of :func:`both_clients` and calls the domain methods as on
``pyWATS``; in the async run each call is awaited in its own ``trio.run`` (the emulator's
in-process transport holds no sockets, so a client may be used from one event loop after
another). Both talk to the same in-process emulator, the test's ``fake`` fixture.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import trio

from pywats import AsyncWATS, RetryPolicy, pyWATS
from pywats.testing import FakeWATS

__all__ = ["BASE_URL", "TOKEN", "api_for", "both_clients"]

BASE_URL = "http://wats.test"
TOKEN = "test-token"
MODES = ("sync", "async")


class _Awaited:
    """A domain of ``AsyncWATS`` whose methods block: each call runs in ``trio.run``."""

    def __init__(self, domain: Any) -> None:
        self._domain = domain

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._domain, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            return trio.run(functools.partial(method, *args, **kwargs))

        return run


class _AsyncDriven:
    """``AsyncWATS`` looking like ``pyWATS`` to a test."""

    def __init__(self, api: AsyncWATS) -> None:
        self._api = api

    def __getattr__(self, name: str) -> _Awaited:
        return _Awaited(getattr(self._api, name))


def api_for(mode: str, fake: FakeWATS) -> Iterator[pyWATS]:
    """A client of ``fake`` for one mode (``sync`` or ``async``) that never retries."""
    if mode == "sync":
        with pyWATS(BASE_URL, TOKEN, transport=fake, retry=RetryPolicy.never()) as api:
            yield api
        return
    async_api = AsyncWATS(BASE_URL, TOKEN, transport=fake, retry=RetryPolicy.never())
    yield cast(pyWATS, _AsyncDriven(async_api))
    trio.run(async_api.aclose)


def both_clients() -> Any:
    """The ``fake`` and ``api`` fixtures for a test module (``fake, api = both_clients()``)."""

    @pytest.fixture
    def fake() -> Iterator[FakeWATS]:
        emulator = FakeWATS(TOKEN)
        yield emulator
        emulator.close()

    @pytest.fixture(params=MODES)
    def api(request: pytest.FixtureRequest, fake: FakeWATS) -> Iterator[pyWATS]:
        yield from api_for(str(request.param), fake)

    return fake, api

"""``AsyncWATS`` over ``httpx.MockTransport``, under both trio and asyncio (anyio's plugin).

Every scenario of ``client_scenarios`` runs on both event loops, with a plain and an ``async``
transport handler. One test runs on pytest-trio directly.
"""

from __future__ import annotations

import builtins
import email.utils
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio
import anyio.lowlevel
import httpx
import pytest
import trio
import trio.lowlevel

import pywats
from pywats._call import UnexpectedResponseError, json_call
from pywats._client import AsyncClient
from pywats.formats import wsjf
from tests.pywats.client_scenarios import (
    AUTHORIZATIONS,
    BAD_BASE_URLS,
    BASE,
    BASE_URLS,
    ERRORS,
    FAST_RETRY,
    OPERATIONS,
    REJECTED,
    RETRIES,
    TOKEN,
    ErrorCase,
    FakeClock,
    OpCase,
    Rejected,
    RetryCase,
    Server,
    check_requests,
    check_retry_requests,
    invalid_report,
    minimal_report,
    ok,
    raw,
    status,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


@pytest.fixture(params=["sync-handler", "async-handler"])
def async_handler(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "async-handler")


async def _no_sleep(delay: float) -> None:
    assert delay == 0, f"unexpected wait of {delay} s"


class _Recorder:
    """Replaces ``anyio.sleep``: records the delay, yields to the event loop, never waits."""

    def __init__(self, sleeps: list[float]) -> None:
        self.sleeps = sleeps

    async def __call__(self, delay: float) -> None:
        self.sleeps.append(delay)
        await anyio.lowlevel.checkpoint()


def make_api(
    server: Server,
    *,
    sleeps: list[float] | None = None,
    token: str | None = TOKEN,
    base_url: str = BASE,
    async_handler: bool = False,
    **kwargs: Any,
) -> pywats.AsyncWATS:
    """An ``AsyncWATS`` talking to ``server``; sleeps are recorded in ``sleeps`` (never real)."""
    kwargs.setdefault("retry", FAST_RETRY)
    transport = server.async_transport() if async_handler else server.transport()
    api = pywats.AsyncWATS(base_url, token, transport=transport, **kwargs)
    api.client._sleep = _Recorder(sleeps) if sleeps is not None else _no_sleep
    return api


# --- operations -------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("case", OPERATIONS, ids=lambda c: c.id)
async def test_operation_sends_the_documented_request(case: OpCase, async_handler: bool) -> None:
    server = Server(*case.answers)
    async with make_api(server, async_handler=async_handler) as api:
        result = await case.invoke(api)
    assert result == case.result
    assert type(result) is type(case.result)
    check_requests(case, server.requests)


@pytest.mark.anyio
@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.id)
async def test_invalid_arguments_raise_before_anything_is_sent(case: Rejected) -> None:
    server = Server()
    async with make_api(server) as api:
        with pytest.raises(case.error, match=case.match):
            await case.invoke(api)
    assert server.requests == []


@pytest.mark.anyio
async def test_invalid_report_is_not_sent() -> None:
    server = Server()
    async with make_api(server) as api:
        with pytest.raises(pywats.ReportInvalidError) as caught:
            await api.report.submit_report(invalid_report())
    assert server.requests == []
    assert ("required", "sn") in {(p.rule, p.path) for p in caught.value.problems}


@pytest.mark.anyio
async def test_get_report_returns_a_uut_report() -> None:
    report = minimal_report()
    async with make_api(Server(raw(wsjf.dumps(report)))) as api:
        got = await api.report.get_report(report.id)
    assert isinstance(got, pywats.UUTReport)
    assert got == report


@pytest.mark.anyio
async def test_operations_return_coroutines() -> None:
    async with make_api(Server(ok("1.0"))) as api:
        pending = api.app.get_version()
        assert isinstance(pending, Coroutine)
        assert await pending == "1.0"


# --- authentication, URLs, repr ---------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("token", "username", "password", "header"), AUTHORIZATIONS)
async def test_authorization_header(
    token: str | None, username: str | None, password: str | None, header: str | None
) -> None:
    server = Server(ok("1.0"))
    extra: dict[str, Any] = {}
    if username is not None:
        extra["username"] = username
    if password is not None:
        extra["password"] = password
    async with make_api(server, token=token, **extra) as api:
        await api.app.get_version()
    [request] = server.requests
    assert request.headers.get("Authorization") == header


@pytest.mark.anyio
async def test_repr_never_shows_the_token() -> None:
    async with make_api(Server(), token="TOPSECRET") as api:
        assert "TOPSECRET" not in repr(api.client)
        assert "TOPSECRET" not in repr(api)
        assert repr(api) == f"AsyncWATS({BASE!r})"
    async with make_api(Server(), token=None, username="u", password="TOPSECRET") as api:
        assert "TOPSECRET" not in repr(api.client)


@pytest.mark.anyio
@pytest.mark.parametrize(("given", "base", "version_url"), BASE_URLS)
async def test_base_url_is_normalised(given: str, base: str, version_url: str) -> None:
    server = Server(ok("1.0"))
    async with make_api(server, base_url=given) as api:
        assert api.base_url == base
        await api.app.get_version()
    assert str(server.requests[0].url) == version_url


@pytest.mark.parametrize("url", BAD_BASE_URLS)
def test_invalid_base_url_raises_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="server URL"):
        pywats.AsyncWATS(url, TOKEN, transport=Server().transport())


@pytest.mark.anyio
async def test_internal_calls_send_a_referer() -> None:
    server = Server(ok({"ServerName": "wats"}))
    async with make_api(server, base_url="https://h/wats") as api:
        await api.client.run(json_call("GET", "/api/internal/Client/Ping", dict, internal=True))
    assert server.requests[0].headers["Referer"] == "https://h/wats"


@pytest.mark.anyio
async def test_context_manager_closes_the_http_client() -> None:
    async with make_api(Server()) as api:
        assert not api.client.http.is_closed
    assert api.client.http.is_closed

    api = make_api(Server())
    await api.aclose()
    assert api.client.http.is_closed

    async with AsyncClient(BASE, TOKEN, transport=Server().transport()) as client:
        assert not client.http.is_closed
    assert client.http.is_closed


# --- retries ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("case", RETRIES, ids=lambda c: c.id)
async def test_retry(case: RetryCase, async_handler: bool) -> None:
    server = Server(*case.answers)
    sleeps: list[float] = []
    async with make_api(server, sleeps=sleeps, async_handler=async_handler) as api:
        if case.error is None:
            assert await case.invoke(api) == case.result
        else:
            with pytest.raises(case.error) as caught:
                await case.invoke(api)
            assert type(caught.value) is case.error
            for cls in case.error_is:
                assert isinstance(caught.value, cls)
    check_retry_requests(case, server)
    assert server.answers == []
    assert sleeps == [0.0] * (case.sends - 1)


@pytest.mark.anyio
async def test_transport_errors_are_builtin_errors() -> None:
    async with make_api(Server(httpx.ConnectError), retry=pywats.RetryPolicy.never()) as api:
        with pytest.raises(builtins.ConnectionError) as conn:
            await api.app.get_version()
    assert isinstance(conn.value, pywats.ConnectionError)
    assert conn.value.url == f"{BASE}/api/App/Version"

    async with make_api(Server(httpx.ReadTimeout), retry=pywats.RetryPolicy.never()) as api:
        with pytest.raises(builtins.TimeoutError) as timeout:
            await api.app.get_version()
    assert isinstance(timeout.value, pywats.TimeoutError)
    assert timeout.value.method == "GET"


@pytest.mark.anyio
async def test_rate_limited_error_carries_retry_after() -> None:
    server = Server(*(status(429, {"Retry-After": "3"}) for _ in range(3)))
    sleeps: list[float] = []
    async with make_api(server, sleeps=sleeps) as api:
        with pytest.raises(pywats.RateLimitedError) as caught:
            await api.app.get_version()
    assert caught.value.retry_after == 3.0
    assert sleeps == [3.0, 3.0]
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_retry_after_seconds_is_waited_exactly() -> None:
    server = Server(status(429, {"Retry-After": "2"}), ok("1.0"))
    sleeps: list[float] = []
    async with make_api(server, sleeps=sleeps) as api:
        assert await api.app.get_version() == "1.0"
    assert sleeps == [2.0]


@pytest.mark.anyio
async def test_retry_after_http_date_is_waited_until_then() -> None:
    when = datetime.now(UTC) + timedelta(seconds=10)
    header = email.utils.format_datetime(when, usegmt=True)
    server = Server(status(503, {"Retry-After": header}), ok("1.0"))
    sleeps: list[float] = []
    async with make_api(server, sleeps=sleeps) as api:
        assert await api.app.get_version() == "1.0"
    [wait] = sleeps
    assert 8.0 < wait <= 10.0


@pytest.mark.anyio
async def test_retry_after_longer_than_max_delay_is_not_waited() -> None:
    server = Server(status(429, {"Retry-After": "31"}))
    sleeps: list[float] = []
    async with make_api(server, sleeps=sleeps) as api:
        with pytest.raises(pywats.RateLimitedError) as caught:
            await api.app.get_version()
    assert caught.value.retry_after == 31.0
    assert sleeps == []
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_backoff_without_retry_after_is_jittered_exponential() -> None:
    server = Server(status(504), status(408), status(429), ok("1.0"))
    sleeps: list[float] = []
    policy = pywats.RetryPolicy(max_attempts=4, base_delay=0.5)
    async with make_api(server, sleeps=sleeps, retry=policy) as api:
        api.client._rng = random.Random(99)
        assert await api.app.get_version() == "1.0"
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        assert 0.0 <= wait <= 0.5 * 2**attempt
    expected = random.Random(99)
    assert sleeps == [expected.uniform(0, 0.5), expected.uniform(0, 1.0), expected.uniform(0, 2.0)]


@pytest.mark.anyio
async def test_real_anyio_sleep_is_used_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default sleep (anyio.sleep(0) here: a checkpoint, no real wait) works on this loop.
    # anyio is imported on the first wait (not with pywats), so its sleep is looked up then.
    real = anyio.sleep
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)
        await real(delay)

    monkeypatch.setattr(anyio, "sleep", sleep)
    server = Server(status(503), ok("1.0"))
    policy = pywats.RetryPolicy(max_attempts=2, base_delay=0.0)
    async with pywats.AsyncWATS(BASE, TOKEN, transport=server.transport(), retry=policy) as api:
        assert await api.app.get_version() == "1.0"
    assert len(server.requests) == 2
    assert waits == [0.0]


# --- rate limiting ----------------------------------------------------------------------------


def _limited(clock: FakeClock, server: Server, limit: pywats.RateLimit | None) -> pywats.AsyncWATS:
    api = make_api(server, rate_limit=limit)
    api.client._clock = clock
    api.client._sleep = clock.async_sleep
    return api


@pytest.mark.anyio
async def test_rate_limit_waits_until_the_window_frees() -> None:
    clock = FakeClock()
    sent_at: list[float] = []

    class Clocked(Server):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            sent_at.append(clock.now)
            return super().__call__(request)

    server = Clocked(*(ok("1.0") for _ in range(7)))
    async with _limited(clock, server, pywats.RateLimit(requests=3, period=10.0)) as api:
        for _ in range(7):
            assert await api.app.get_version() == "1.0"
    assert clock.sleeps == [10.0, 10.0]
    assert sent_at == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


async def _concurrently(count: int, call: Callable[[], Awaitable[Any]]) -> list[Any]:
    results: list[Any] = []

    async def one() -> None:
        results.append(await call())

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return results


@pytest.mark.anyio
async def test_concurrent_requests_share_the_rate_limit() -> None:
    clock = FakeClock(advance=False)
    server = Server(*(ok("1.0") for _ in range(7)))
    async with _limited(clock, server, pywats.RateLimit(requests=3, period=10.0)) as api:
        results = await _concurrently(7, api.app.get_version)
    assert results == ["1.0"] * 7
    assert sorted(clock.sleeps) == [10.0, 10.0, 10.0, 20.0]


@pytest.mark.anyio
async def test_without_rate_limit_nothing_waits() -> None:
    clock = FakeClock()
    server = Server(*(ok("1.0") for _ in range(20)))
    async with _limited(clock, server, None) as api:
        results = await _concurrently(20, api.app.get_version)
    assert len(results) == 20
    assert clock.sleeps == []


@pytest.mark.trio
async def test_trio_nursery_of_clients_with_async_handler() -> None:
    """Under pytest-trio: concurrent operations in a trio nursery, handler awaiting trio."""
    clock = FakeClock(advance=False)
    order: list[str] = []

    class TrioServer(Server):
        async def handle_async(self, request: httpx.Request) -> httpx.Response:
            await trio.lowlevel.checkpoint()
            order.append(request.url.path)
            return self(request)

    server = TrioServer(*(ok("2026.1") for _ in range(4)), ok([{"levelId": 1}]))
    api = pywats.AsyncWATS(
        BASE,
        TOKEN,
        transport=server.async_transport(),
        rate_limit=pywats.RateLimit(requests=2, period=1.0),
    )
    api.client._clock = clock
    api.client._sleep = clock.async_sleep
    versions: list[str] = []
    async with api:

        async def version() -> None:
            versions.append(await api.app.get_version())

        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(version)
        levels = await api.app.get_levels()
    assert versions == ["2026.1"] * 4
    assert [level.level_id for level in levels] == [1]
    assert sorted(clock.sleeps) == [1.0, 1.0, 2.0]
    assert order.count("/api/App/Version") == 4
    assert api.client.http.is_closed


# --- error mapping and odd answers --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.id)
async def test_error_answer_becomes_a_typed_exception(case: ErrorCase) -> None:
    server = Server(case.answer)
    async with make_api(server, retry=pywats.RetryPolicy.never()) as api:
        with pytest.raises(pywats.HTTPError) as caught:
            await api.system.get_clients()
    error = caught.value
    assert type(error) is case.error
    assert error.status == case.answer.status_code
    assert error.method == "GET"
    assert error.url == f"{BASE}/api/SystemManager/Clients"
    assert error.message == case.message


@pytest.mark.anyio
async def test_empty_processes_answer_is_an_empty_list() -> None:
    async with make_api(Server(raw(b""), raw(b"  \r\n"))) as api:
        assert await api.app.get_processes() == []
        assert await api.app.get_processes() == []


@pytest.mark.anyio
async def test_non_json_version_is_an_unexpected_response() -> None:
    server = Server(raw(b"<html>login</html>"))
    async with make_api(server) as api:
        with pytest.raises(UnexpectedResponseError) as caught:
            await api.app.get_version()
    assert caught.value.method == "GET"
    assert caught.value.url == f"{BASE}/api/App/Version"
    assert len(server.requests) == 1

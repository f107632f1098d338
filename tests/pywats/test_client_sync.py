"""The blocking ``pyWATS`` over ``httpx.MockTransport``: requests, answers, retries, limits."""

from __future__ import annotations

import builtins
import email.utils
import random
import uuid
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any, SupportsIndex

import httpx
import pytest

import pywats
from pywats._call import Call, UnexpectedResponseError, json_call
from pywats._client import Client
from pywats.formats import wsjf
from pywats.models.app import Process
from pywats.models.report_query import InsertReportResult
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


def _no_sleep(seconds: float | SupportsIndex) -> None:
    assert float(seconds) == 0, f"unexpected wait of {seconds} s"


def _recorder(sleeps: list[float]) -> Callable[[float | SupportsIndex], None]:
    def record(seconds: float | SupportsIndex) -> None:
        sleeps.append(float(seconds))

    return record


def make_api(
    server: Server,
    *,
    sleeps: list[float] | None = None,
    token: str | None = TOKEN,
    base_url: str = BASE,
    **kwargs: Any,
) -> pywats.pyWATS:
    """A ``pyWATS`` talking to ``server``; sleeps are recorded in ``sleeps`` (never real)."""
    kwargs.setdefault("retry", FAST_RETRY)
    api = pywats.pyWATS(base_url, token, transport=server.transport(), **kwargs)
    api.client._sleep = _recorder(sleeps) if sleeps is not None else _no_sleep
    return api


# --- operations -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OPERATIONS, ids=lambda c: c.id)
def test_operation_sends_the_documented_request(case: OpCase) -> None:
    server = Server(*case.answers)
    with make_api(server) as api:
        result = case.invoke(api)
    assert result == case.result
    assert type(result) is type(case.result)
    check_requests(case, server.requests)


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.id)
def test_invalid_arguments_raise_before_anything_is_sent(case: Rejected) -> None:
    server = Server()
    with make_api(server) as api, pytest.raises(case.error, match=case.match):
        case.invoke(api)
    assert server.requests == []


def test_invalid_report_lists_its_problems() -> None:
    server = Server()
    with make_api(server) as api, pytest.raises(pywats.ReportInvalidError) as caught:
        api.report.submit_report(invalid_report())
    assert server.requests == []
    paths = {(p.rule, p.path) for p in caught.value.problems}
    assert {("required", "sn"), ("required", "machineName"), ("required", "root")} <= paths
    assert isinstance(caught.value, ValueError)


def test_get_report_returns_a_uut_report() -> None:
    report = minimal_report()
    with make_api(Server(raw(wsjf.dumps(report)))) as api:
        got = api.report.get_report(report.id)
    assert isinstance(got, pywats.UUTReport)
    assert got.sn == "SN-0001"
    assert got.root is not None
    assert got.root.steps is not None
    assert got.root.steps[0].kind is pywats.StepKind.NUMERIC_LIMIT


def test_get_report_with_a_broken_answer_raises_report_format_error() -> None:
    with make_api(Server(raw(b'{"type": "X"}'))) as api, pytest.raises(pywats.ReportFormatError):
        api.report.get_report("5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10")


def test_submit_wsjf_returns_the_receipt_struct() -> None:
    answer = ok({"ID": "5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10", "Report_ID": 5})
    with make_api(Server(answer)) as api:
        receipt = api.report.submit_wsjf(b"{}")
    assert isinstance(receipt, InsertReportResult)
    assert receipt.report_id == 5
    assert receipt.uuid is None
    assert receipt.stored_id == uuid.UUID("5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10")


# --- authentication, URLs, repr ---------------------------------------------------------------


@pytest.mark.parametrize(("token", "username", "password", "header"), AUTHORIZATIONS)
def test_authorization_header(
    token: str | None, username: str | None, password: str | None, header: str | None
) -> None:
    server = Server(ok("1.0"))
    extra: dict[str, Any] = {}
    if username is not None:
        extra["username"] = username
    if password is not None:
        extra["password"] = password
    with make_api(server, token=token, **extra) as api:
        api.app.get_version()
    [request] = server.requests
    assert request.headers.get("Authorization") == header


def test_repr_never_shows_the_token() -> None:
    with make_api(Server(), token="TOPSECRET") as api:
        assert "TOPSECRET" not in repr(api.client)
        assert "TOPSECRET" not in repr(api)
        assert repr(api) == f"pyWATS({BASE!r})"
        assert BASE in repr(api.client)
    with make_api(Server(), token=None, username="u", password="TOPSECRET") as api:
        assert "TOPSECRET" not in repr(api.client)


def test_default_headers() -> None:
    server = Server(ok("1.0"))
    with make_api(server) as api:
        api.app.get_version()
    [request] = server.requests
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == f"pywats/{pywats.__version__}"


def test_user_agent_can_be_set() -> None:
    server = Server(ok("1.0"))
    with make_api(server, user_agent="station/1.2") as api:
        api.app.get_version()
    assert server.requests[0].headers["User-Agent"] == "station/1.2"


@pytest.mark.parametrize(("given", "base", "version_url"), BASE_URLS)
def test_base_url_is_normalised(given: str, base: str, version_url: str) -> None:
    server = Server(ok("1.0"))
    with make_api(server, base_url=given) as api:
        assert api.base_url == base
        assert api.client.base_url == base
        api.app.get_version()
    assert str(server.requests[0].url) == version_url


@pytest.mark.parametrize("url", BAD_BASE_URLS)
def test_invalid_base_url_raises_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="server URL"):
        pywats.pyWATS(url, TOKEN, transport=Server().transport())


def test_internal_calls_send_a_referer() -> None:
    server = Server(ok({"ServerName": "wats"}), ok({}))
    with make_api(server, base_url="https://h/wats/") as api:
        api.client.run(json_call("GET", "/api/internal/Client/Ping", dict, internal=True))
        api.client.run(json_call("GET", "/api/App/Version", dict))
    assert server.requests[0].headers["Referer"] == "https://h/wats"
    assert str(server.requests[0].url) == "https://h/wats/api/internal/Client/Ping"
    assert "Referer" not in server.requests[1].headers


def test_a_flow_can_handle_an_error_thrown_into_it() -> None:
    def absent_as_none() -> Generator[Call[Any], Any, str | None]:
        try:
            value: str = yield json_call("GET", "/api/App/Version", str)
        except pywats.NotFoundError:
            return None
        return value

    server = Server(status(404), ok("2.0"))
    with make_api(server) as api:
        assert api.client.run(absent_as_none()) is None
        assert api.client.run(absent_as_none()) == "2.0"
    assert len(server.requests) == 2


def test_context_manager_closes_the_http_client() -> None:
    with make_api(Server()) as api:
        assert not api.client.http.is_closed
    assert api.client.http.is_closed

    api = make_api(Server())
    api.close()
    assert api.client.http.is_closed

    with Client(BASE, TOKEN, transport=Server().transport()) as client:
        assert not client.http.is_closed
    assert client.http.is_closed


def test_operations_are_cached_per_domain_instance() -> None:
    with make_api(Server()) as api:
        first = api.app.get_version
        assert api.app.get_version is first
        assert first.__doc__ is not None
        assert "version" in first.__doc__


# --- retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", RETRIES, ids=lambda c: c.id)
def test_retry(case: RetryCase) -> None:
    server = Server(*case.answers)
    sleeps: list[float] = []
    with make_api(server, sleeps=sleeps) as api:
        if case.error is None:
            assert case.invoke(api) == case.result
        else:
            with pytest.raises(case.error) as caught:
                case.invoke(api)
            assert type(caught.value) is case.error
            for cls in case.error_is:
                assert isinstance(caught.value, cls)
    check_retry_requests(case, server)
    assert server.answers == []
    assert sleeps == [0.0] * (case.sends - 1)


def test_transport_errors_are_builtin_errors() -> None:
    with (
        make_api(Server(httpx.ConnectError), retry=pywats.RetryPolicy.never()) as api,
        pytest.raises(builtins.ConnectionError) as conn,
    ):
        api.app.get_version()
    assert isinstance(conn.value, pywats.ConnectionError)
    assert conn.value.method == "GET"
    assert conn.value.url == f"{BASE}/api/App/Version"
    assert "simulated ConnectError" in str(conn.value)

    with (
        make_api(Server(httpx.ReadTimeout), retry=pywats.RetryPolicy.never()) as api,
        pytest.raises(builtins.TimeoutError) as timeout,
    ):
        api.app.get_version()
    assert isinstance(timeout.value, pywats.TimeoutError)
    assert timeout.value.url == f"{BASE}/api/App/Version"


def test_rate_limited_error_carries_retry_after() -> None:
    server = Server(*(status(429, {"Retry-After": "1"}) for _ in range(3)))
    sleeps: list[float] = []
    with make_api(server, sleeps=sleeps) as api, pytest.raises(pywats.RateLimitedError) as caught:
        api.app.get_version()
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429
    assert sleeps == [1.0, 1.0]
    assert len(server.requests) == 3
    assert caught.value.attempts == 3
    assert str(caught.value) == (
        f"GET {BASE}/api/App/Version -> 429: status 429 (Retry-After: 1 s; "
        "gave up after 3 attempts, all that RetryPolicy.max_attempts allows)"
    )


def test_exhausted_retries_say_how_many_attempts_were_made() -> None:
    policy = pywats.RetryPolicy(max_attempts=3, base_delay=0.0)
    with (
        make_api(Server(*(status(503) for _ in range(3))), retry=policy) as api,
        pytest.raises(pywats.ServerError) as server_error,
    ):
        api.app.get_version()
    assert server_error.value.attempts == 3
    assert "(gave up after 3 attempts, all that RetryPolicy.max_attempts allows)" in str(
        server_error.value
    )
    with (
        make_api(
            Server(httpx.ConnectError, httpx.ConnectError),
            retry=pywats.RetryPolicy(max_attempts=2, base_delay=0.0),
        ) as api,
        pytest.raises(pywats.ConnectionError) as refused,
    ):
        api.app.get_version()
    assert refused.value.attempts == 2
    assert str(refused.value).endswith(
        "(gave up after 2 attempts, all that RetryPolicy.max_attempts allows)"
    )
    with (
        make_api(Server(status(503), status(400)), retry=policy) as api,
        pytest.raises(pywats.ValidationError) as rejected,
    ):
        api.app.get_version()
    assert str(rejected.value).endswith("-> 400: status 400 (after 2 attempts)")


def test_retry_after_seconds_is_waited_exactly() -> None:
    server = Server(status(429, {"Retry-After": "2"}), ok("1.0"))
    sleeps: list[float] = []
    with make_api(server, sleeps=sleeps) as api:
        assert api.app.get_version() == "1.0"
    assert sleeps == [2.0]


def test_retry_after_on_503_is_honoured() -> None:
    server = Server(status(503, {"Retry-After": "1.5"}), ok("1.0"))
    sleeps: list[float] = []
    with make_api(server, sleeps=sleeps) as api:
        assert api.app.get_version() == "1.0"
    assert sleeps == [1.5]


def test_retry_after_http_date_is_waited_until_then() -> None:
    when = datetime.now(UTC) + timedelta(seconds=10)
    header = email.utils.format_datetime(when, usegmt=True)
    server = Server(status(429, {"Retry-After": header}), ok("1.0"))
    sleeps: list[float] = []
    with make_api(server, sleeps=sleeps) as api:
        assert api.app.get_version() == "1.0"
    [wait] = sleeps
    assert 8.0 < wait <= 10.0


def test_retry_after_longer_than_max_delay_is_not_waited() -> None:
    server = Server(status(429, {"Retry-After": "120"}))
    sleeps: list[float] = []
    policy = pywats.RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=30.0)
    with (
        make_api(server, sleeps=sleeps, retry=policy) as api,
        pytest.raises(pywats.RateLimitedError) as caught,
    ):
        api.app.get_version()
    assert caught.value.retry_after == 120.0
    assert sleeps == []
    assert len(server.requests) == 1
    assert str(caught.value).endswith(
        "(Retry-After: 120 s; longer than RetryPolicy.max_delay, 30 s: not waited)"
    )


def test_backoff_without_retry_after_is_jittered_exponential() -> None:
    server = Server(status(503), status(502), status(500), ok("1.0"))
    sleeps: list[float] = []
    policy = pywats.RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=30.0)
    with make_api(server, sleeps=sleeps, retry=policy) as api:
        api.client._rng = random.Random(1234)
        assert api.app.get_version() == "1.0"
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        assert 0.0 <= wait <= 1.0 * 2**attempt
    expected = random.Random(1234)
    assert sleeps == [expected.uniform(0, 1.0), expected.uniform(0, 2.0), expected.uniform(0, 4.0)]


def test_backoff_is_capped_by_max_delay() -> None:
    server = Server(status(503), status(503), status(503), ok("1.0"))
    sleeps: list[float] = []
    policy = pywats.RetryPolicy(max_attempts=4, base_delay=10.0, max_delay=0.25)
    with make_api(server, sleeps=sleeps, retry=policy) as api:
        assert api.app.get_version() == "1.0"
    assert len(sleeps) == 3
    assert all(0.0 <= wait <= 0.25 for wait in sleeps)


def test_retry_never_sends_once() -> None:
    server = Server(status(503))
    with (
        make_api(server, retry=pywats.RetryPolicy.never()) as api,
        pytest.raises(pywats.ServerError),
    ):
        api.app.get_version()
    assert len(server.requests) == 1


# --- rate limiting ----------------------------------------------------------------------------


def _limited(clock: FakeClock, server: Server, limit: pywats.RateLimit | None) -> pywats.pyWATS:
    api = make_api(server, rate_limit=limit)
    api.client._clock = clock
    api.client._sleep = clock.sleep
    return api


def _clocked_server(clock: FakeClock, sent_at: list[float], count: int) -> Server:
    class Clocked(Server):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            sent_at.append(clock.now)
            return super().__call__(request)

    return Clocked(*(ok("1.0") for _ in range(count)))


def test_rate_limit_waits_until_the_window_frees() -> None:
    clock = FakeClock()
    sent_at: list[float] = []
    server = _clocked_server(clock, sent_at, 7)
    with _limited(clock, server, pywats.RateLimit(requests=3, period=10.0)) as api:
        for _ in range(7):
            assert api.app.get_version() == "1.0"
    # The 4th waits for the window of the first three; the 5th and 6th fit in that new window;
    # the 7th waits for the next one.
    assert clock.sleeps == [10.0, 10.0]
    assert sent_at == [0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 20.0]


def test_rate_limit_books_slots_when_the_clock_stands_still() -> None:
    # As concurrent senders would see it: each reservation is made at t=0.
    clock = FakeClock(advance=False)
    server = Server(*(ok("1.0") for _ in range(7)))
    with _limited(clock, server, pywats.RateLimit(requests=3, period=10.0)) as api:
        for _ in range(7):
            api.app.get_version()
    assert clock.sleeps == [10.0, 10.0, 10.0, 20.0]


def test_rate_limit_counts_retries() -> None:
    clock = FakeClock()
    sent_at: list[float] = []

    class Clocked(Server):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            sent_at.append(clock.now)
            return super().__call__(request)

    server = Clocked(status(503), ok("1.0"), ok("1.0"))
    with _limited(clock, server, pywats.RateLimit(requests=2, period=5.0)) as api:
        assert api.app.get_version() == "1.0"  # 503 at t=0, backoff 0, retry at t=0
        assert api.app.get_version() == "1.0"  # the window is full: wait until t=5
    assert sent_at == [0.0, 0.0, 5.0]
    assert clock.sleeps == [0.0, 5.0]


def test_without_rate_limit_nothing_waits() -> None:
    clock = FakeClock()
    server = Server(*(ok("1.0") for _ in range(50)))
    with _limited(clock, server, None) as api:
        for _ in range(50):
            api.app.get_version()
    assert clock.sleeps == []
    assert len(server.requests) == 50


def test_default_rate_limit_allows_500_per_minute() -> None:
    clock = FakeClock(advance=False)
    server = Server(*(ok("1.0") for _ in range(501)))
    api = make_api(server)
    api.client._clock = clock
    api.client._sleep = clock.sleep
    with api:
        for _ in range(501):
            api.app.get_version()
    assert clock.sleeps == [60.0]


# --- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.id)
def test_error_answer_becomes_a_typed_exception(case: ErrorCase) -> None:
    server = Server(case.answer)
    with (
        make_api(server, retry=pywats.RetryPolicy.never()) as api,
        pytest.raises(pywats.HTTPError) as caught,
    ):
        api.report.get_report("5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10", detail_level=3)
    error = caught.value
    assert type(error) is case.error
    assert error.status == case.answer.status_code
    assert error.method == "GET"
    assert error.url == str(server.requests[0].url)
    assert error.url == (
        f"{BASE}/api/Report/Wsjf/5f0c6b2e-8d4a-4a53-9a59-2f1d0c1e7b10"
        "?detailLevel=3&includeChartdata=true&includeAttachments=true"
    )
    assert error.message == case.message
    assert error.body == case.answer.content
    assert str(error) == f"GET {error.url} -> {error.status}: {case.message}"


def test_post_error_carries_the_post_method() -> None:
    server = Server(httpx.Response(400, text="missing serial number"))
    with make_api(server) as api, pytest.raises(pywats.ValidationError) as caught:
        api.report.submit_wsjf(b"{}")
    assert caught.value.method == "POST"
    assert caught.value.url == f"{BASE}/api/Report/WSJF"
    assert caught.value.message == "missing serial number"


# --- empty and odd answers ----------------------------------------------------------------------

_ODD: list[tuple[str, Callable[[pywats.pyWATS], Any], httpx.Response]] = [
    ("version-not-json", lambda api: api.app.get_version(), raw(b"2026.1.5.324")),
    ("version-empty", lambda api: api.app.get_version(), raw(b"")),
    ("version-wrong-type", lambda api: api.app.get_version(), ok(2026)),
    ("processes-not-a-list", lambda api: api.app.get_processes(), ok({"code": 1})),
    ("processes-missing-code", lambda api: api.app.get_processes(), ok([{"name": "x"}])),
    ("token-empty-object", lambda api: api.auth.get_token(), ok({})),
    ("token-empty", lambda api: api.auth.get_token(), raw(b"")),
    ("submit-empty", lambda api: api.report.submit_wsjf(b"{}"), raw(b"")),
    ("client-empty", lambda api: api.system.get_client(name="x"), raw(b"")),
]


@pytest.mark.parametrize(("op", "answer"), [c[1:] for c in _ODD], ids=[c[0] for c in _ODD])
def test_unexpected_answer_raises(
    op: Callable[[pywats.pyWATS], Any], answer: httpx.Response
) -> None:
    server = Server(answer)
    with make_api(server) as api, pytest.raises(UnexpectedResponseError) as caught:
        op(api)
    assert caught.value.url == str(server.requests[0].url)
    assert isinstance(caught.value, pywats.PyWATSError)
    assert len(server.requests) == 1  # a bad 200 is not retried


@pytest.mark.parametrize(
    ("op", "empty"),
    [
        (lambda api: api.app.get_processes(), []),
        (lambda api: api.app.get_levels(), []),
        (lambda api: api.app.get_product_groups(), []),
        (lambda api: api.report.query_headers(), []),
        (lambda api: api.report.query_headers_by_misc_info(), []),
        (lambda api: api.system.get_clients(), []),
        (lambda api: api.system.get_client_log("x"), []),
        (lambda api: api.system.get_system_status(), {}),
        (lambda api: api.process.get_test_operations(), []),
        (lambda api: api.process.get_process(1), None),
    ],
)
def test_empty_body_means_nothing_found(op: Callable[[pywats.pyWATS], Any], empty: Any) -> None:
    with make_api(Server(raw(b""))) as api:
        assert op(api) == empty


def test_empty_answers_are_not_shared_between_calls() -> None:
    with make_api(Server(raw(b""), raw(b""))) as api:
        first = api.app.get_processes()
        first.append(Process(code=1))
        assert api.app.get_processes() == []


def test_custom_call_parse_error_propagates() -> None:
    def parse(response: httpx.Response) -> int:
        raise UnexpectedResponseError("nope", method="GET", url=str(response.request.url))

    with make_api(Server(ok(1))) as api, pytest.raises(UnexpectedResponseError, match="nope"):
        api.client.run(Call(method="GET", path="/api/App/Version", parse=parse))

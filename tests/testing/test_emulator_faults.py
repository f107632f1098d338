"""Every fault kind of the emulator, and how the library's retry and backoff react to it.

The client's sleeps go through a recorder (``api.client._sleep``), so no test waits for a backoff
for real unless it says so.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any, SupportsIndex

import httpx
import msgspec
import pytest

import pywats
from pywats import AsyncWATS, RetryPolicy, pyWATS
from pywats.testing import FakeWATS
from tests.testing.conftest import TOKEN, URL, make_uut

VERSION = "2026.1.5.324"
AUTH = {"Authorization": f"Basic {TOKEN}"}


class Sleeps:
    """Stands in for ``time.sleep``: records each wait; optionally advances a fake clock."""

    def __init__(self, clock: list[float] | None = None, *, real: bool = False) -> None:
        self.calls: list[float] = []
        self._clock = clock
        self._real = real

    def __call__(self, delay: float | SupportsIndex, /) -> None:
        seconds = float(delay)
        self.calls.append(seconds)
        if self._clock is not None:
            self._clock[0] += seconds
        if self._real:
            time.sleep(seconds)


class AsyncSleeps:
    """Stands in for ``anyio.sleep``: records each wait, optionally really sleeps."""

    def __init__(self, *, real: bool = False) -> None:
        self.calls: list[float] = []
        self._real = real

    async def __call__(self, delay: float) -> None:
        import anyio

        self.calls.append(delay)
        if self._real:
            await anyio.sleep(delay)
        else:
            await anyio.lowlevel.checkpoint()


def client(fake: FakeWATS, sleeps: Sleeps, **kwargs: Any) -> pyWATS:
    api = pyWATS(URL, TOKEN, transport=fake, **kwargs)
    api.client._sleep = sleeps
    return api


def statuses(fake: FakeWATS) -> list[int]:
    return [entry.status for entry in fake.log]


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api(fake_wats: FakeWATS, sleeps: Sleeps) -> Iterator[pyWATS]:
    """A blocking client with the default retry policy (4 attempts, 0.5 s base) and no waits."""
    with client(fake_wats, sleeps) as api:
        yield api


@pytest.fixture
def raw(fake_wats: FakeWATS) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake_wats, base_url=URL, headers=AUTH) as http:
        yield http


# --- 5xx ----------------------------------------------------------------------------------------


def test_two_503s_then_success(api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.errors(503, count=2)

    assert api.app.get_version() == VERSION

    assert [(e.method, e.path, e.status) for e in fake_wats.log] == [
        ("GET", "/api/App/Version", 503),
        ("GET", "/api/App/Version", 503),
        ("GET", "/api/App/Version", 200),
    ]
    # Full jitter: uniform(0, base * 2**attempt) with the default base of 0.5 s.
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 0.5
    assert 0 <= sleeps.calls[1] <= 1.0
    assert fake_wats.faults.active() == []


def test_backoff_is_full_jitter_capped_at_max_delay(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.errors(503, count=5)
    policy = RetryPolicy(max_attempts=6, base_delay=0.25, max_delay=1.5)

    with client(fake_wats, sleeps, retry=policy) as api:
        api.client._rng = random.Random(42)
        assert api.app.get_version() == VERSION

    expected = random.Random(42)
    ceilings = [0.25, 0.5, 1.0, 1.5, 1.5]
    assert sleeps.calls == [expected.uniform(0, c) for c in ceilings]
    assert statuses(fake_wats) == [503] * 5 + [200]


def test_more_errors_than_attempts_raise_server_error(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.errors(503, count=10)

    with (
        client(fake_wats, sleeps, retry=RetryPolicy(max_attempts=3)) as api,
        pytest.raises(pywats.ServerError) as info,
    ):
        api.app.get_levels()

    assert info.value.status == 503
    assert info.value.message == "The server failed (fault injection)."
    assert statuses(fake_wats) == [503, 503, 503]
    assert len(sleeps.calls) == 2
    [left] = fake_wats.faults.active()
    assert left.count == 7


@pytest.mark.parametrize("status", [500, 502, 504])
def test_every_retryable_5xx_is_retried(
    status: int, api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.errors(status, count=1)

    assert api.app.get_version() == VERSION
    assert statuses(fake_wats) == [status, 200]
    assert len(sleeps.calls) == 1


def test_a_non_retryable_5xx_is_raised_at_once(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.errors(501, count=1)

    with pytest.raises(pywats.ServerError) as info:
        api.app.get_version()

    assert info.value.status == 501
    assert statuses(fake_wats) == [501]
    assert sleeps.calls == []


def test_a_5xx_on_a_non_idempotent_post_is_not_retried(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.errors(503, count=1)

    with pytest.raises(pywats.ServerError):
        api.system.create_level(["Plant", "Line 1"])

    assert statuses(fake_wats) == [503]
    assert sleeps.calls == []
    assert fake_wats.state.level_id(["Plant", "Line 1"], create=False) is None


def test_errors_only_inject_5xx() -> None:
    with pytest.raises(ValueError, match="5xx"):
        FakeWATS().faults.errors(400)


# --- 429 ----------------------------------------------------------------------------------------


def test_rate_limit_retry_after_is_honoured_exactly(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.rate_limit(retry_after=2, count=1)

    assert api.app.get_version() == VERSION

    assert sleeps.calls == [2.0]
    assert statuses(fake_wats) == [429, 200]


def test_rate_limit_answer_carries_retry_after(raw: httpx.Client, fake_wats: FakeWATS) -> None:
    fake_wats.faults.rate_limit(retry_after=1.5, count=1)

    answer = raw.get("/api/App/Version")

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1.5"
    assert answer.json() == {"Message": "Too many requests."}
    assert raw.get("/api/App/Version").status_code == 200


def test_retry_after_beyond_max_delay_is_raised_not_waited(
    fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.rate_limit(retry_after=60, count=1)

    with (
        client(fake_wats, sleeps, retry=RetryPolicy(max_delay=30)) as api,
        pytest.raises(pywats.RateLimitedError) as info,
    ):
        api.app.get_version()

    assert info.value.retry_after == 60.0
    assert sleeps.calls == []
    assert statuses(fake_wats) == [429]


def test_repeated_rate_limits_exhaust_the_attempts(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.rate_limit(retry_after=1, count=None)

    with pytest.raises(pywats.RateLimitedError) as info:
        api.app.get_version()

    assert info.value.status == 429
    assert sleeps.calls == [1.0, 1.0, 1.0]
    assert statuses(fake_wats) == [429] * 4


# --- down ---------------------------------------------------------------------------------------


def test_down_refuses_connections_and_the_client_retries_until_up(
    fake_wats: FakeWATS,
) -> None:
    now = [1000.0]
    fake_wats.faults.clock = lambda: now[0]
    fake_wats.faults.down(1.0)
    sleeps = Sleeps(clock=now)  # each backoff moves the emulator's clock on

    policy = RetryPolicy(max_attempts=20, base_delay=0.4, max_delay=0.4)
    with client(fake_wats, sleeps, retry=policy) as api:
        api.client._rng = random.Random(3)
        assert api.app.get_version() == VERSION

    refused = len(sleeps.calls)
    assert refused >= 2
    assert statuses(fake_wats) == [0] * refused + [200]
    assert sum(sleeps.calls[:-1]) < 1.0 <= sum(sleeps.calls)
    assert fake_wats.faults.down_for() == 0.0


def test_down_for_real_time(fake_wats: FakeWATS) -> None:
    sleeps = Sleeps(real=True)
    fake_wats.faults.down(0.2)
    started = time.monotonic()

    policy = RetryPolicy(max_attempts=30, base_delay=0.05, max_delay=0.05)
    with client(fake_wats, sleeps, retry=policy) as api:
        assert api.app.get_version() == VERSION

    assert time.monotonic() - started >= 0.2
    assert statuses(fake_wats)[-1] == 200
    assert set(statuses(fake_wats)[:-1]) == {0}
    assert len(sleeps.calls) == len(fake_wats.log) - 1


def test_a_refused_connection_is_retried_even_for_a_non_idempotent_post(
    fake_wats: FakeWATS,
) -> None:
    now = [0.0]
    fake_wats.faults.clock = lambda: now[0]
    fake_wats.faults.down(0.5)
    sleeps = Sleeps(clock=now)

    policy = RetryPolicy(max_attempts=20, base_delay=0.3, max_delay=0.3)
    with client(fake_wats, sleeps, retry=policy) as api:
        level = api.system.create_level(["Plant", "Line 1"])

    # Nothing reached the server while it was down, so repeating the POST was safe.
    assert level == fake_wats.state.level_id(["Plant", "Line 1"], create=False)
    assert statuses(fake_wats)[-1] == 200
    assert statuses(fake_wats).count(200) == 1
    assert len(sleeps.calls) >= 1


def test_down_longer_than_the_attempts_raises_connection_error(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.down(60)

    with pytest.raises(pywats.ConnectionError) as info:
        api.app.get_version()

    assert isinstance(info.value, ConnectionError)  # also the builtin
    assert "refused" in str(info.value)
    assert statuses(fake_wats) == [0, 0, 0, 0]
    assert len(sleeps.calls) == 3


# --- drop ---------------------------------------------------------------------------------------


def test_dropped_submit_was_stored_on_the_first_attempt(fake_wats: FakeWATS) -> None:
    fake_wats.faults.drop(count=1)
    report = make_uut()

    with (
        client(fake_wats, Sleeps(), retry=RetryPolicy.never()) as api,
        pytest.raises(pywats.ConnectionError),
    ):
        api.report.submit_report(report)

    # The client saw no answer, yet the server has the report.
    assert fake_wats.report_ids() == [str(report.id)]
    [header] = [s.header for s in fake_wats.reports.headers()]
    assert header.receive_count == 1


def test_dropped_submit_is_retried_and_stored_once(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.drop(count=1, match="/api/Report/WSJF")
    report = make_uut()

    report_id = api.report.submit_report(report)

    assert report_id == report.id
    assert [(e.status, e.dropped, e.report_id) for e in fake_wats.log] == [
        (200, True, str(report_id)),
        (200, False, str(report_id)),
    ]
    assert len(sleeps.calls) == 1
    assert fake_wats.report_ids() == [str(report_id)]
    [header] = api.report.query_headers()
    assert header.receive_count == 2
    assert header.run == 1


def test_dropped_non_idempotent_post_is_not_retried(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.drop(count=1)

    with pytest.raises(pywats.ConnectionError) as info:
        api.system.create_level(["Plant", "Line 1"])

    assert "disconnected without sending a complete response" in str(info.value)
    assert sleeps.calls == []
    assert [(e.method, e.path, e.status, e.dropped) for e in fake_wats.log] == [
        ("POST", "/api/SystemManager/Level", 200, True)
    ]
    # The server did the work; only the answer was lost. Repeating could have done it twice.
    assert fake_wats.state.level_id(["Plant", "Line 1"], create=False) is not None


def test_dropped_get_is_retried(api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.drop(count=2)

    assert api.app.get_levels()[0].level_name == "Default"
    assert [(e.status, e.dropped) for e in fake_wats.log] == [
        (200, True),
        (200, True),
        (200, False),
    ]
    assert len(sleeps.calls) == 2


# --- latency ------------------------------------------------------------------------------------


def test_latency_beyond_the_read_timeout_is_a_timeout_after_retries(
    fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.latency(5.0)
    started = time.monotonic()

    with (
        client(fake_wats, sleeps, timeout=0.2, retry=RetryPolicy(max_attempts=3)) as api,
        pytest.raises(pywats.TimeoutError) as info,
    ):
        api.app.get_version()

    elapsed = time.monotonic() - started
    assert isinstance(info.value, TimeoutError)  # also the builtin
    assert len(fake_wats.log) == 3
    assert len(sleeps.calls) == 2
    assert 0.6 <= elapsed < 3.0  # three waits of the 0.2 s timeout, not of the 5 s latency


def test_latency_within_the_timeout_only_delays(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.latency(0.1, count=1)
    started = time.monotonic()

    with client(fake_wats, sleeps, timeout=2.0) as api:
        assert api.app.get_version() == VERSION

    assert time.monotonic() - started >= 0.1
    assert sleeps.calls == []
    assert statuses(fake_wats) == [200]


def test_a_timed_out_non_idempotent_post_is_not_retried(
    fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.latency(5.0, count=1)

    with (
        client(fake_wats, sleeps, timeout=0.1) as api,
        pytest.raises(pywats.TimeoutError),
    ):
        api.system.create_level(["Plant"])

    assert len(fake_wats.log) == 1
    assert sleeps.calls == []


def test_a_timed_out_submit_is_retried_and_stored_once(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.latency(5.0, count=1, match="/api/Report/WSJF")
    report = make_uut()

    with client(fake_wats, sleeps, timeout=0.1) as api:
        assert api.report.submit_report(report) == report.id
        [header] = api.report.query_headers()

    # The slow first answer was stored although the client gave up on it.
    assert header.receive_count == 2
    assert fake_wats.report_ids() == [str(report.id)]
    assert len(sleeps.calls) == 1


# --- reject -------------------------------------------------------------------------------------


def test_rejected_submit_is_a_validation_error_and_not_retried(
    api: pyWATS, fake_wats: FakeWATS, sleeps: Sleeps
) -> None:
    fake_wats.faults.reject_submits("custom reason", count=1)
    first, second = make_uut(sn="SN-1"), make_uut(sn="SN-2")

    with pytest.raises(pywats.ValidationError) as info:
        api.report.submit_report(first)

    assert info.value.status == 400
    assert info.value.message == "custom reason"
    assert sleeps.calls == []
    assert len(fake_wats.reports) == 0
    assert api.report.submit_report(second) == second.id
    assert statuses(fake_wats) == [400, 200]
    assert fake_wats.report_ids() == [str(second.id)]


def test_reject_leaves_other_requests_alone(api: pyWATS, fake_wats: FakeWATS) -> None:
    fake_wats.faults.reject_submits("not now", count=1)

    assert api.app.get_version() == VERSION
    assert api.system.create_level(["Plant"]) is not None
    [fault] = fake_wats.faults.active()
    assert fault.count == 1  # still waiting for a submit
    with pytest.raises(pywats.ValidationError, match="not now"):
        api.report.submit_report_xml(b"<Reports/>")


# --- fractions, match, seeds --------------------------------------------------------------------


def _statuses_with_fraction(seed: int) -> list[int]:
    fake = FakeWATS(TOKEN, seed=seed)
    fake.faults.errors(503, count=None, fraction=0.5)
    with httpx.Client(transport=fake, base_url=URL, headers=AUTH) as http:
        return [http.get("/api/App/Version").status_code for _ in range(40)]


def test_fraction_faults_repeat_with_the_same_seed() -> None:
    first = _statuses_with_fraction(seed=1)
    again = _statuses_with_fraction(seed=1)
    other = _statuses_with_fraction(seed=2)

    assert first == again
    assert set(first) == {200, 503}
    assert 8 <= first.count(503) <= 32
    assert first != other


def test_fraction_faults_are_ridden_out_by_retries(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.errors(503, count=None, fraction=0.3)

    with client(fake_wats, sleeps, retry=RetryPolicy(max_attempts=10)) as api:
        versions = [api.app.get_version() for _ in range(20)]

    assert versions == [VERSION] * 20
    assert statuses(fake_wats).count(200) == 20
    assert statuses(fake_wats).count(503) == len(sleeps.calls) > 0


def test_fraction_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="fraction"):
        FakeWATS().faults.errors(503, fraction=1.5)


def test_match_restricts_a_fault_to_matching_paths(fake_wats: FakeWATS, sleeps: Sleeps) -> None:
    fake_wats.faults.errors(503, count=None, match="/API/APP/PROCESSES")  # any case

    with client(fake_wats, sleeps, retry=RetryPolicy(max_attempts=2)) as api:
        assert api.app.get_version() == VERSION
        assert api.app.get_levels() != []
        with pytest.raises(pywats.ServerError):
            api.app.get_processes()

    assert [(e.path, e.status) for e in fake_wats.log] == [
        ("/api/App/Version", 200),
        ("/api/App/Levels", 200),
        ("/api/App/Processes", 503),
        ("/api/App/Processes", 503),
    ]


# --- admin routes -------------------------------------------------------------------------------


@pytest.fixture
def admin_fake() -> Iterator[FakeWATS]:
    emulator = FakeWATS(TOKEN, admin=True)
    yield emulator
    emulator.close()


@pytest.fixture
def admin(admin_fake: FakeWATS) -> Iterator[httpx.Client]:
    with httpx.Client(transport=admin_fake, base_url=URL, headers=AUTH) as http:
        yield http


def test_admin_adds_lists_and_clears_faults(admin: httpx.Client, admin_fake: FakeWATS) -> None:
    added = admin.post("/_emulator/faults", json={"kind": "error", "status": 502, "count": 1})

    assert added.status_code == 200
    assert added.json()["kind"] == "error"
    assert added.json()["status"] == 502
    listed = admin.get("/_emulator/faults").json()
    assert [(f["kind"], f["status"], f["count"]) for f in listed] == [("error", 502, 1)]
    assert admin.get("/api/App/Version").status_code == 502
    assert admin.get("/api/App/Version").status_code == 200
    assert admin.get("/_emulator/faults").json() == []  # consumed

    admin.post("/_emulator/faults", json={"kind": "latency", "seconds": 0.5})
    admin.post("/_emulator/faults", json={"kind": "reject", "message": "no", "count": 3})
    assert len(admin.get("/_emulator/faults").json()) == 2
    assert admin.delete("/_emulator/faults").json() is True
    assert admin.get("/_emulator/faults").json() == []
    assert admin_fake.faults.active() == []


def test_admin_faults_drive_the_library(admin: httpx.Client, admin_fake: FakeWATS) -> None:
    admin.post("/_emulator/faults", json={"kind": "rate_limit", "retry_after": 3, "count": 1})
    sleeps = Sleeps()

    with client(admin_fake, sleeps) as api:
        assert api.app.get_version() == VERSION

    assert sleeps.calls == [3.0]


@pytest.mark.parametrize(
    "body",
    [b'{"kind": "meltdown"}', b'{"kind": "error", "fraction": 2}', b"not json", b"{}"],
)
def test_admin_rejects_invalid_faults(body: bytes, admin: httpx.Client) -> None:
    answer = admin.post("/_emulator/faults", content=body)

    assert answer.status_code == 400
    assert answer.json()["Message"].startswith("Invalid fault:")
    assert admin.get("/_emulator/faults").json() == []


def test_admin_log_reports_and_reset(admin: httpx.Client, admin_fake: FakeWATS) -> None:
    report = make_uut()
    admin.post("/api/Report/WSJF", content=msgspec.json.encode(report)).raise_for_status()
    admin.get("/api/App/Nothing")

    log = admin.get("/_emulator/log").json()
    reports = admin.get("/_emulator/reports").json()

    assert [(e["method"], e["path"], e["status"], e["report_id"]) for e in log] == [
        ("POST", "/api/Report/WSJF", 200, str(report.id)),
        ("GET", "/api/App/Nothing", 404, None),
    ]
    assert all(isinstance(e["time"], float) for e in log)
    assert reports == {"count": 1, "ids": [str(report.id)]}

    admin.post("/_emulator/faults", json={"kind": "drop"})
    assert admin.post("/_emulator/reset").json() is True

    assert admin.get("/_emulator/reports").json() == {"count": 0, "ids": []}
    assert admin.get("/_emulator/log").json() == []
    assert admin.get("/_emulator/faults").json() == []
    assert len(admin_fake.reports) == 0


def test_admin_routes_answer_while_the_api_is_down(admin: httpx.Client) -> None:
    admin.post("/_emulator/faults", json={"kind": "down", "seconds": 60})

    with pytest.raises(httpx.ConnectError):
        admin.get("/api/App/Version")
    assert [f["kind"] for f in admin.get("/_emulator/faults").json()] == ["down"]
    admin.delete("/_emulator/faults")
    assert admin.get("/api/App/Version").status_code == 200


def test_admin_needs_the_token_and_knows_its_routes(admin_fake: FakeWATS) -> None:
    with httpx.Client(transport=admin_fake, base_url=URL) as anonymous:
        denied = anonymous.get("/_emulator/faults")
    with httpx.Client(transport=admin_fake, base_url=URL, headers=AUTH) as http:
        unknown = http.get("/_emulator/nothing")

    assert denied.status_code == 401
    assert denied.json() == {"Message": "Authorization has been denied for this request."}
    assert unknown.status_code == 404
    assert unknown.json()["Message"] == "No admin route GET /_emulator/nothing."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_emulator/faults"),
        ("POST", "/_emulator/faults"),
        ("GET", "/_emulator/log"),
        ("POST", "/_emulator/reset"),
    ],
)
def test_admin_routes_are_404_unless_enabled(
    method: str, path: str, raw: httpx.Client, fake_wats: FakeWATS
) -> None:
    assert fake_wats.admin is False

    answer = raw.request(method, path, json={"kind": "down", "seconds": 60})

    assert answer.status_code == 404
    assert answer.json()["Message"].startswith("No HTTP resource was found")
    assert fake_wats.faults.active() == []


# --- the async client, under asyncio and trio ---------------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


def async_client(fake: FakeWATS, sleeps: AsyncSleeps, **kwargs: Any) -> AsyncWATS:
    api = AsyncWATS(URL, TOKEN, transport=fake, **kwargs)
    api.client._sleep = sleeps
    return api


@pytest.mark.anyio
async def test_async_two_503s_then_success(fake_wats: FakeWATS) -> None:
    fake_wats.faults.errors(503, count=2)
    sleeps = AsyncSleeps()

    async with async_client(fake_wats, sleeps) as api:
        assert await api.app.get_version() == VERSION

    assert statuses(fake_wats) == [503, 503, 200]
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 0.5
    assert 0 <= sleeps.calls[1] <= 1.0


@pytest.mark.anyio
async def test_async_rate_limit_retry_after(fake_wats: FakeWATS) -> None:
    fake_wats.faults.rate_limit(retry_after=2, count=1)
    sleeps = AsyncSleeps()

    async with async_client(fake_wats, sleeps) as api:
        assert await api.app.get_version() == VERSION

    assert sleeps.calls == [2.0]
    assert statuses(fake_wats) == [429, 200]


@pytest.mark.anyio
async def test_async_down_then_up(fake_wats: FakeWATS) -> None:
    fake_wats.faults.down(0.2)
    sleeps = AsyncSleeps(real=True)
    started = time.monotonic()

    policy = RetryPolicy(max_attempts=30, base_delay=0.05, max_delay=0.05)
    async with async_client(fake_wats, sleeps, retry=policy) as api:
        assert await api.app.get_version() == VERSION

    assert time.monotonic() - started >= 0.2
    assert set(statuses(fake_wats)[:-1]) == {0}
    assert len(sleeps.calls) == len(fake_wats.log) - 1 >= 1


@pytest.mark.anyio
async def test_async_dropped_submit_is_stored_once(fake_wats: FakeWATS) -> None:
    fake_wats.faults.drop(count=1)
    sleeps = AsyncSleeps()
    report = make_uut()

    async with async_client(fake_wats, sleeps) as api:
        assert await api.report.submit_report(report) == report.id
        [header] = await api.report.query_headers()

    assert header.receive_count == 2
    assert fake_wats.report_ids() == [str(report.id)]
    assert len(sleeps.calls) == 1


@pytest.mark.anyio
async def test_async_dropped_non_idempotent_post(fake_wats: FakeWATS) -> None:
    fake_wats.faults.drop(count=1)
    sleeps = AsyncSleeps()

    async with async_client(fake_wats, sleeps) as api:
        with pytest.raises(pywats.ConnectionError):
            await api.system.create_level(["Plant"])

    assert sleeps.calls == []
    assert [(e.status, e.dropped) for e in fake_wats.log] == [(200, True)]


@pytest.mark.anyio
async def test_async_latency_beyond_timeout(fake_wats: FakeWATS) -> None:
    fake_wats.faults.latency(5.0)
    sleeps = AsyncSleeps()
    started = time.monotonic()

    async with async_client(
        fake_wats, sleeps, timeout=0.1, retry=RetryPolicy(max_attempts=2)
    ) as api:
        with pytest.raises(pywats.TimeoutError):
            await api.app.get_version()

    assert len(fake_wats.log) == 2
    assert len(sleeps.calls) == 1
    assert 0.2 <= time.monotonic() - started < 3.0


@pytest.mark.anyio
async def test_async_reject(fake_wats: FakeWATS) -> None:
    fake_wats.faults.reject_submits("custom reason", count=1)
    sleeps = AsyncSleeps()

    async with async_client(fake_wats, sleeps) as api:
        with pytest.raises(pywats.ValidationError) as info:
            await api.report.submit_report(make_uut())
        report = make_uut(sn="SN-2")
        assert await api.report.submit_report(report) == report.id

    assert info.value.message == "custom reason"
    assert sleeps.calls == []
    assert fake_wats.report_ids() == [str(report.id)]

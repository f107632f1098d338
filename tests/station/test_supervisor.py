"""The supervisor kernel: restart types, intensity, backoff, stopping, commands, statistics.

Everything with time runs on trio's ``MockClock`` (the ``autojump_clock`` fixture), so times are
exact and nothing sleeps for real. Strategies and nested supervisors are in
``test_supervisor_strategies``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec

import msgspec
import pytest
import trio

from pywats_station._supervisor import (
    ChildSpec,
    ChildStatistics,
    Restart,
    Supervisor,
    SupervisorEscalation,
    SupervisorStatistics,
    current_child,
)

P = ParamSpec("P")


# Helpers (also used by test_supervisor_strategies) ---------------------------------------------


async def wait_any(*events: trio.Event) -> None:
    """Return as soon as one of ``events`` is set."""
    async with trio.open_nursery() as nursery:

        async def wait(event: trio.Event) -> None:
            await event.wait()
            nursery.cancel_scope.cancel()

        for event in events:
            nursery.start_soon(wait, event)


class Probe:
    """A controllable child that logs ``"start x"``, ``"stop x"`` (graceful) and ``"cancel x"``.

    It runs until `crash` (raise), `finish` (return) or a graceful stop, which it honours at once.
    """

    def __init__(self, log: list[str], name: str, restart: Restart = Restart.PERMANENT) -> None:
        self.log, self.name, self.restart = log, name, restart
        self.runs = 0
        self._trigger = trio.Event()
        self._error: Exception | None = None

    def spec(self) -> ChildSpec:
        return ChildSpec(self.name, self.run, self.restart)

    def crash(self, error: Exception | None = None) -> None:
        self._error = error or ValueError(f"{self.name} crashed")
        self._trigger.set()

    def finish(self) -> None:
        self._error = None
        self._trigger.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.runs += 1
        self._trigger = trio.Event()
        stopping = current_child().stopping
        self.log.append(f"start {self.name}")
        task_status.started()
        try:
            await wait_any(self._trigger, stopping)
        except BaseException:  # Cancelled, which wait_any's nursery may wrap in a group
            self.log.append(f"cancel {self.name}")
            raise
        if stopping.is_set():
            self.log.append(f"stop {self.name}")
        elif self._error is not None:
            raise self._error


def failing(times: list[float], fail: int = 10**9) -> Callable[[], Awaitable[None]]:
    """A child that raises ``ValueError`` on its first ``fail`` runs, logging each start time."""

    async def run() -> None:
        times.append(trio.current_time())
        if len(times) <= fail:
            raise ValueError("boom")
        await trio.sleep_forever()

    return run


@asynccontextmanager
async def running(supervisor: Supervisor) -> AsyncIterator[trio.Nursery]:
    """Run ``supervisor`` in a nursery; stop it gracefully at the end."""
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        yield nursery
        await supervisor.stop()


def trio_test(test: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """Mark ``test`` as a trio test that fails, rather than hangs, after 10 (virtual) minutes.

    With ``autojump_clock`` the clock jumps to that deadline as soon as everything is blocked.
    """

    @functools.wraps(test)
    async def bounded(*args: P.args, **kwargs: P.kwargs) -> None:
        with trio.fail_after(600):
            await test(*args, **kwargs)

    return pytest.mark.trio(bounded)


def child_stats(supervisor: Supervisor, name: str) -> ChildStatistics:
    [stats] = [c for c in supervisor.statistics().children if c.name == name]
    assert isinstance(stats, ChildStatistics)
    return stats


# Specs -------------------------------------------------------------------------------------------


async def _with_status(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started()


async def _plain() -> None:
    pass


async def _positional(x: int, *, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()


def test_spec_detects_task_status_once() -> None:
    assert ChildSpec("a", _with_status).accepts_task_status
    assert not ChildSpec("b", _plain).accepts_task_status
    assert ChildSpec("c", functools.partial(_positional, 1)).accepts_task_status
    assert ChildSpec("d", Supervisor("inner").run).accepts_task_status
    assert Supervisor("inner").as_child().accepts_task_status


def test_spec_and_supervisor_validation() -> None:
    with pytest.raises(ValueError, match="name"):
        ChildSpec("", _plain)
    with pytest.raises(ValueError, match="shutdown_timeout"):
        ChildSpec("a", _plain, shutdown_timeout=-1)
    with pytest.raises(ValueError, match="already has a child named 'a'"):
        Supervisor("s", [ChildSpec("a", _plain), ChildSpec("a", _plain)])
    with pytest.raises(ValueError, match="backoff"):
        Supervisor("s", backoff_initial=2, backoff_max=1)


def test_as_child_links_the_supervisor() -> None:
    inner = Supervisor("inner")
    spec = inner.as_child(restart=Restart.TRANSIENT)
    assert (spec.name, spec.restart, spec.supervisor) == ("inner", Restart.TRANSIENT, inner)
    assert spec.shutdown_timeout == math.inf


def test_current_child_outside_a_child() -> None:
    with pytest.raises(RuntimeError, match="outside a supervised child"):
        current_child()


@trio_test
async def test_current_child_inside_a_child(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[tuple[str, Supervisor, bool]] = []

    async def child() -> None:
        context = current_child()
        seen.append((context.name, context.supervisor, context.stopping.is_set()))

    supervisor = Supervisor("s", [ChildSpec("me", child, Restart.TEMPORARY)])
    async with running(supervisor):
        pass
    assert seen == [("me", supervisor, False)]


# Starting ----------------------------------------------------------------------------------------


@trio_test
async def test_children_start_in_order_and_run_reports_started_after_all(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[tuple[float, str]] = []

    def slow(name: str, delay: float) -> ChildSpec:
        async def run(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            log.append((trio.current_time(), f"begin {name}"))
            await trio.sleep(delay)
            task_status.started()
            log.append((trio.current_time(), f"started {name}"))
            await trio.sleep_forever()

        return ChildSpec(name, run)

    async def immediate() -> None:
        log.append((trio.current_time(), "begin c"))
        await trio.sleep_forever()

    supervisor = Supervisor("s", [slow("a", 1), slow("b", 2), ChildSpec("c", immediate)])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        log.append((trio.current_time(), "run started"))
        assert [c.state for c in supervisor.statistics().children] == ["running"] * 3
        await supervisor.stop()
    assert log == [
        (0, "begin a"),
        (1, "started a"),
        (1, "begin b"),
        (3, "started b"),
        (3, "begin c"),
        (3, "run started"),
    ]


@trio_test
async def test_child_failing_before_started_is_restarted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    starts: list[float] = []

    async def flaky(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        starts.append(trio.current_time())
        if len(starts) == 1:
            raise ValueError("cannot start")
        task_status.started()
        await trio.sleep_forever()

    after: list[str] = []

    async def later() -> None:
        after.append("started")
        await trio.sleep_forever()

    supervisor = Supervisor("s", [ChildSpec("flaky", flaky), ChildSpec("later", later)])
    async with running(supervisor):
        assert trio.current_time() == 0  # run() did not wait for the restart
        assert after == ["started"]
        await trio.sleep(1)
        assert starts == [0, pytest.approx(0.1)]
        assert child_stats(supervisor, "flaky").state == "running"


@trio_test
async def test_calling_started_twice_is_a_child_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def twice(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        task_status.started()

    supervisor = Supervisor("s", [ChildSpec("twice", twice, Restart.TRANSIENT)])
    async with running(supervisor):
        stats = child_stats(supervisor, "twice")
        assert stats.last_error == "RuntimeError: called 'started' twice on the same task status"
        assert stats.state == "backoff"


@trio_test
async def test_run_twice_at_once_is_refused(autojump_clock: trio.testing.MockClock) -> None:
    supervisor = Supervisor("s")
    async with running(supervisor):
        with pytest.raises(RuntimeError, match="already running"):
            await supervisor.run()


# Restart types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restart", "crash", "restarted"),
    [
        (Restart.PERMANENT, True, True),
        (Restart.PERMANENT, False, True),
        (Restart.TRANSIENT, True, True),
        (Restart.TRANSIENT, False, False),
        (Restart.TEMPORARY, True, False),
        (Restart.TEMPORARY, False, False),
    ],
)
@trio_test
async def test_restart_types(
    autojump_clock: trio.testing.MockClock, restart: Restart, crash: bool, restarted: bool
) -> None:
    log: list[str] = []
    probe, other = Probe(log, "probe", restart), Probe(log, "other")
    supervisor = Supervisor("s", [probe.spec(), other.spec()])
    async with running(supervisor):
        probe.crash() if crash else probe.finish()
        await trio.sleep(1)
        assert probe.runs == (2 if restarted else 1)
        assert other.runs == 1
        names = [c.name for c in supervisor.statistics().children]
        if restart is Restart.TEMPORARY:
            assert names == ["other"]  # removed for good
        else:
            stats = child_stats(supervisor, "probe")
            assert (stats.state, stats.restarts) == (
                ("running", 1) if restarted else ("stopped", 0)
            )


# Intensity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fail", [3, 4])
@trio_test
async def test_intensity_allows_max_restarts_in_period_and_escalates_on_one_more(
    autojump_clock: trio.testing.MockClock, fail: int
) -> None:
    starts: list[float] = []
    supervisor = Supervisor(
        "s",
        [ChildSpec("worker", failing(starts, fail))],
        max_restarts=3,
        period=5,
        backoff_initial=1,
        backoff_max=1,
    )
    if fail == 3:  # restarts at 0, 1, 2: three within five seconds is allowed
        async with running(supervisor):
            await trio.sleep(10)
            assert supervisor.statistics().restarts_in_window == 0
        assert starts == [0, 1, 2, 3]
        return
    with pytest.raises(SupervisorEscalation) as info:
        await supervisor.run()
    assert trio.current_time() == 3  # the fourth end, at 3, is one restart too many
    assert starts == [0, 1, 2, 3]
    assert (info.value.supervisor, info.value.child) == ("s", "worker")
    assert isinstance(info.value.error, ValueError)
    assert info.value.__cause__ is info.value.error
    stats = supervisor.statistics()
    assert (stats.state, stats.children[0].state) == ("failed", "failed")


@pytest.mark.parametrize(("spacing", "escalates"), [(1.7, False), (1.6, True)])
@trio_test
async def test_intensity_window_slides(
    autojump_clock: trio.testing.MockClock, spacing: float, escalates: bool
) -> None:
    """Four ends 1.7 s apart span more than the 5 s period; 1.6 s apart they do not."""
    starts: list[float] = []
    supervisor = Supervisor(
        "s",
        [ChildSpec("worker", failing(starts, fail=12))],
        backoff_initial=spacing,
        backoff_max=spacing,
    )
    if escalates:
        with pytest.raises(SupervisorEscalation):
            await supervisor.run()
        assert trio.current_time() == pytest.approx(3 * spacing)
        return
    async with running(supervisor):
        await trio.sleep(30)
    assert len(starts) == 13
    assert child_stats(supervisor, "worker").restarts == 12


# Backoff -----------------------------------------------------------------------------------------


@trio_test
async def test_backoff_doubles_per_consecutive_failure_up_to_the_cap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    starts: list[float] = []
    supervisor = Supervisor(
        "s",
        [ChildSpec("worker", failing(starts, fail=6))],
        max_restarts=100,
        backoff_initial=0.1,
        backoff_max=1.0,
    )
    async with running(supervisor):
        await trio.sleep(10)
    # Delays 0.1, 0.2, 0.4, 0.8, then 1.6 capped to 1.0, twice.
    assert starts == pytest.approx([0, 0.1, 0.3, 0.7, 1.5, 2.5, 3.5])


@pytest.mark.parametrize(("ran_for", "delay"), [(30, 0.1), (29, 0.8)])
@trio_test
async def test_backoff_resets_after_a_stable_run(
    autojump_clock: trio.testing.MockClock, ran_for: float, delay: float
) -> None:
    starts: list[float] = []

    async def worker() -> None:
        starts.append(trio.current_time())
        if len(starts) == 4:  # three quick failures, then one long run that also fails
            await trio.sleep(ran_for)
        if len(starts) <= 4:
            raise ValueError("boom")
        await trio.sleep_forever()

    supervisor = Supervisor("s", [ChildSpec("worker", worker)], backoff_reset_after=30)
    async with running(supervisor):
        await trio.sleep(60)
    assert starts == pytest.approx([0, 0.1, 0.3, 0.7, 0.7 + ran_for + delay])


# Graceful stop -----------------------------------------------------------------------------------


@trio_test
async def test_graceful_stop_lets_a_draining_child_finish(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[tuple[float, str]] = []

    async def uploader() -> None:
        try:
            await current_child().stopping.wait()
            events.append((trio.current_time(), "draining"))
            await trio.sleep(1.5)  # finishing in-flight uploads
            events.append((trio.current_time(), "drained"))
        except trio.Cancelled:
            events.append((trio.current_time(), "cancelled"))
            raise

    supervisor = Supervisor("s", [ChildSpec("uploader", uploader, shutdown_timeout=5)])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await trio.sleep(10)
        await supervisor.stop()
        events.append((trio.current_time(), "stop returned"))
    assert events == [(10, "draining"), (11.5, "drained"), (11.5, "stop returned")]
    assert child_stats(supervisor, "uploader").state == "stopped"
    assert supervisor.statistics().state == "stopped"


@trio_test
async def test_graceful_stop_cancels_a_child_ignoring_it_at_the_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cancelled_at: list[float] = []

    async def stubborn() -> None:
        try:
            await trio.sleep_forever()
        finally:
            cancelled_at.append(trio.current_time())

    supervisor = Supervisor("s", [ChildSpec("stubborn", stubborn, shutdown_timeout=2.5)])
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        await trio.sleep(10)
        await supervisor.stop()
        assert trio.current_time() == 12.5
    assert cancelled_at == [12.5]


@trio_test
async def test_stop_goes_in_reverse_start_order_and_run_returns_normally(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    probes = [Probe(log, name) for name in "abc"]
    supervisor = Supervisor("s", [p.spec() for p in probes])
    returned: list[bool] = []

    async def run() -> None:
        await supervisor.run()
        returned.append(True)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        await trio.sleep(1)
        await supervisor.stop()
    assert log == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
    assert returned == [True]
    await supervisor.stop()  # not running: a no-op


@trio_test
async def test_stop_during_backoff_returns_at_once(autojump_clock: trio.testing.MockClock) -> None:
    starts: list[float] = []
    supervisor = Supervisor("s", [ChildSpec("worker", failing(starts))], backoff_initial=10)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        assert child_stats(supervisor, "worker").state == "backoff"
        await supervisor.stop()
    assert trio.current_time() == 0
    assert starts == [0]


@trio_test
async def test_a_child_can_stop_its_own_supervisor(autojump_clock: trio.testing.MockClock) -> None:
    """A control actor asking for shutdown is itself stopped: it must not wait its own timeout."""
    log: list[str] = []
    worker = Probe(log, "worker")

    async def control() -> None:
        await trio.sleep(1)
        await current_child().supervisor.stop()
        log.append("control: stop returned")

    supervisor = Supervisor("s", [ChildSpec("control", control), worker.spec()])
    await supervisor.run()
    assert trio.current_time() == 1
    assert log == ["start worker", "stop worker", "control: stop returned"]


@trio_test
async def test_cancelling_run_cancels_children_without_restarting_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    probe = Probe(log, "a")
    supervisor = Supervisor("s", [probe.spec()])
    with trio.move_on_after(3):
        await supervisor.run()
    assert log == ["start a", "cancel a"]
    assert supervisor.statistics().state == "stopped"
    assert child_stats(supervisor, "a").state == "stopped"


# Exceptions that must not be swallowed ------------------------------------------------------------


class Abort(BaseException):
    pass


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, Abort])
@trio_test
async def test_base_exceptions_other_than_cancelled_propagate(
    autojump_clock: trio.testing.MockClock, error: type[BaseException]
) -> None:
    runs: list[int] = []
    log: list[str] = []
    sibling = Probe(log, "sibling")

    async def child() -> None:
        runs.append(1)
        raise error

    supervisor = Supervisor("s", [sibling.spec(), ChildSpec("child", child)])
    with pytest.RaisesGroup(error):
        await supervisor.run()
    assert runs == [1]
    assert log == ["start sibling", "cancel sibling"]
    assert supervisor.statistics().state == "stopped"


# Commands ----------------------------------------------------------------------------------------


@trio_test
async def test_add_child_before_and_while_running(autojump_clock: trio.testing.MockClock) -> None:
    log: list[str] = []
    a, b, c = Probe(log, "a"), Probe(log, "b"), Probe(log, "c")
    supervisor = Supervisor("s", [a.spec()])
    await supervisor.add_child(b.spec())  # before run(): only listed
    assert log == []
    async with running(supervisor):
        await supervisor.add_child(c.spec())
        assert log == ["start a", "start b", "start c"]
        assert child_stats(supervisor, "c").state == "running"
        with pytest.raises(ValueError, match="already has a child named 'c'"):
            await supervisor.add_child(c.spec())
        c.crash()  # an added child is supervised like the others
        await trio.sleep(1)
        assert c.runs == 2
    assert [spec.name for spec in supervisor.children] == ["a", "b", "c"]
    assert log[-3:] == ["stop c", "stop b", "stop a"]


@trio_test
async def test_remove_child_before_and_while_running(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, b, c = Probe(log, "a"), Probe(log, "b"), Probe(log, "c")
    supervisor = Supervisor("s", [a.spec(), b.spec(), c.spec()])
    await supervisor.remove_child("c")
    async with running(supervisor):
        await supervisor.remove_child("a")
        assert log == ["start a", "start b", "stop a"]
        assert [child.name for child in supervisor.statistics().children] == ["b"]
        with pytest.raises(KeyError, match="no child named 'a'"):
            await supervisor.remove_child("a")
    with pytest.raises(KeyError):
        await supervisor.remove_child("zzz")


@trio_test
async def test_remove_child_in_backoff(autojump_clock: trio.testing.MockClock) -> None:
    starts: list[float] = []
    supervisor = Supervisor("s", [ChildSpec("worker", failing(starts))], backoff_initial=5)
    async with running(supervisor):
        await supervisor.remove_child("worker")
        await trio.sleep(10)
    assert starts == [0]


@trio_test
async def test_restart_child_is_immediate_and_not_counted_in_intensity(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, b = Probe(log, "a"), Probe(log, "b")
    supervisor = Supervisor("s", [a.spec(), b.spec()], max_restarts=0)
    async with running(supervisor):
        for _ in range(3):
            await supervisor.restart_child("a")
        assert trio.current_time() == 0
        stats = supervisor.statistics()
        assert stats.restarts_in_window == 0
        assert (child_stats(supervisor, "a").restarts, child_stats(supervisor, "a").state) == (
            3,
            "running",
        )
        with pytest.raises(KeyError):
            await supervisor.restart_child("nope")
    assert log[:8] == ["start a", "start b"] + ["stop a", "start a"] * 3
    with pytest.raises(RuntimeError, match="not running"):
        await supervisor.restart_child("a")


@trio_test
async def test_restart_child_starts_a_stopped_transient_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    probe = Probe(log, "job", Restart.TRANSIENT)
    supervisor = Supervisor("s", [probe.spec()])
    async with running(supervisor):
        probe.finish()
        await trio.sleep(1)
        assert child_stats(supervisor, "job").state == "stopped"
        await supervisor.restart_child("job")
        assert child_stats(supervisor, "job").state == "running"
    assert log == ["start job", "start job", "stop job"]


# Statistics and logging --------------------------------------------------------------------------


def explode_here() -> None:
    raise ValueError("boom")


@trio_test
async def test_statistics(autojump_clock: trio.testing.MockClock) -> None:
    log: list[str] = []
    worker, job = Probe(log, "worker"), Probe(log, "job", Restart.TRANSIENT)
    supervisor = Supervisor("station", [worker.spec(), job.spec()], period=5)
    stats = supervisor.statistics()
    assert (stats.name, stats.strategy, stats.state) == ("station", "one_for_one", "stopped")
    assert [(c.name, c.state, c.restart) for c in stats.children] == [
        ("worker", "stopped", "permanent"),
        ("job", "stopped", "transient"),
    ]
    async with running(supervisor):
        first = child_stats(supervisor, "worker")
        assert (first.state, first.uptime, first.restarts, first.last_error) == (
            "running",
            0,
            0,
            None,
        )
        assert first.started_at is not None
        await trio.sleep(2)
        assert child_stats(supervisor, "worker").uptime == 2

        try:
            explode_here()
        except ValueError as error:
            worker.crash(error)
        job.finish()
        await trio.sleep(0.05)
        crashed = child_stats(supervisor, "worker")
        assert (crashed.state, crashed.uptime, crashed.started_at) == ("backoff", None, None)
        assert crashed.last_error == "ValueError: boom"
        assert crashed.last_traceback is not None
        assert "explode_here" in crashed.last_traceback
        assert crashed.last_exit is not None
        assert child_stats(supervisor, "job").state == "stopped"
        assert child_stats(supervisor, "job").last_error is None
        assert supervisor.statistics().restarts_in_window == 1

        await trio.sleep(0.1)
        restarted = child_stats(supervisor, "worker")
        assert (restarted.state, restarted.restarts) == ("running", 1)
        assert restarted.uptime == pytest.approx(0.05)
        assert restarted.last_error == "ValueError: boom"  # kept for diagnosis
        await trio.sleep(5)
        assert supervisor.statistics().restarts_in_window == 0

        encoded = msgspec.json.encode(supervisor.statistics())
        assert msgspec.json.decode(encoded, type=SupervisorStatistics) == supervisor.statistics()
    assert supervisor.statistics().state == "stopped"


def test_statistics_outside_trio() -> None:
    stats = Supervisor("s", [ChildSpec("a", _plain)]).statistics()
    assert stats.children == [ChildStatistics(name="a", state="stopped", restart="permanent")]


@trio_test
async def test_logging(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pywats_station.supervisor")
    starts: list[float] = []
    supervisor = Supervisor("station", [ChildSpec("worker", failing(starts))], max_restarts=1)
    with pytest.raises(SupervisorEscalation, match="'station' gave up"):
        await supervisor.run()
    records = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert records[0] == (
        "WARNING",
        "supervisor 'station': child 'worker' failed: ValueError: boom",
    )
    assert records[1] == ("INFO", "supervisor 'station': restarting 'worker' in 0.1s")
    assert records[-1][0] == "ERROR"
    assert "'station'" in records[-1][1]
    assert "'worker'" in records[-1][1]
    assert all(r.name == "pywats_station.supervisor" for r in caplog.records)

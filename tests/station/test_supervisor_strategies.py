"""Restart strategies and nested supervisors (escalation to the parent, and to the top)."""

from __future__ import annotations

import msgspec
import pytest
import trio

from pywats_station._supervisor import (
    ChildSpec,
    ChildStatistics,
    Restart,
    Strategy,
    Supervisor,
    SupervisorEscalation,
    SupervisorStatistics,
    current_child,
)
from tests.station.test_supervisor import Probe, child_stats, failing, running, trio_test

# Strategies --------------------------------------------------------------------------------------


@trio_test
async def test_one_for_one_restarts_only_the_failed_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, b, c = Probe(log, "a"), Probe(log, "b"), Probe(log, "c")
    supervisor = Supervisor("s", [a.spec(), b.spec(), c.spec()])
    async with running(supervisor):
        log.clear()
        b.crash()
        await trio.sleep(1)
        assert log == ["start b"]
        assert (a.runs, b.runs, c.runs) == (1, 2, 1)


@trio_test
async def test_one_for_all_stops_the_others_in_reverse_and_restarts_all_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, c = Probe(log, "a"), Probe(log, "c")
    temp = Probe(log, "temp", Restart.TEMPORARY)
    done = Probe(log, "done", Restart.TRANSIENT)
    supervisor = Supervisor(
        "s", [a.spec(), temp.spec(), c.spec(), done.spec()], strategy=Strategy.ONE_FOR_ALL
    )
    async with running(supervisor):
        done.finish()  # a transient child that ended normally: no restart, no strategy
        await trio.sleep(1)
        assert child_stats(supervisor, "done").state == "stopped"
        log.clear()
        c.crash()
        await trio.sleep(0.05)
        assert [child.state for child in supervisor.statistics().children] == ["backoff"] * 3
        await trio.sleep(1)
        # The temporary child is stopped and dropped; the transient one is restarted with the
        # group (as in OTP: all the children's state is reset together).
        assert log == ["stop temp", "stop a", "start a", "start c", "start done"]
        assert [spec.name for spec in supervisor.children] == ["a", "c", "done"]
        assert (a.runs, temp.runs, c.runs, done.runs) == (2, 1, 2, 2)
        assert [child_stats(supervisor, n).restarts for n in ("a", "c", "done")] == [1, 1, 1]
        assert supervisor.statistics().restarts_in_window == 1  # one restart, however many children


@trio_test
async def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, b, c, d = (Probe(log, name) for name in "abcd")
    supervisor = Supervisor(
        "s", [a.spec(), b.spec(), c.spec(), d.spec()], strategy=Strategy.REST_FOR_ONE
    )
    async with running(supervisor):
        log.clear()
        b.crash()
        await trio.sleep(1)
        assert log == ["stop d", "stop c", "start b", "start c", "start d"]
        assert (a.runs, b.runs, c.runs, d.runs) == (1, 2, 2, 2)
        log.clear()
        d.crash()  # the last child: nobody after it
        await trio.sleep(1)
        assert log == ["start d"]


@trio_test
async def test_group_restart_waits_the_failed_childs_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    starts: list[tuple[str, float]] = []

    async def steady() -> None:
        starts.append(("steady", trio.current_time()))
        await trio.sleep_forever()

    times: list[float] = []
    supervisor = Supervisor(
        "s",
        [ChildSpec("steady", steady, shutdown_timeout=0), ChildSpec("bad", failing(times, 2))],
        strategy=Strategy.ONE_FOR_ALL,
        backoff_initial=1,
    )
    async with running(supervisor):
        await trio.sleep(10)
    assert times == [0, 1, 3]  # backoff 1, then 2: the failed child's consecutive failures
    assert [t for _, t in starts] == [0, 1, 3]


@trio_test
async def test_strategy_applies_when_a_child_fails_before_starting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    a, c = Probe(log, "a"), Probe(log, "c")
    attempts: list[float] = []

    async def b(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        attempts.append(trio.current_time())
        log.append("start b")
        if len(attempts) == 2:  # fails while being restarted, before it is running
            raise ValueError("no luck")
        task_status.started()
        await current_child().stopping.wait()
        log.append("stop b")
        if len(attempts) == 1:
            raise ValueError("failed while stopping")

    supervisor = Supervisor(
        "s", [a.spec(), ChildSpec("b", b), c.spec()], strategy=Strategy.REST_FOR_ONE
    )
    async with running(supervisor):
        log.clear()
        a.crash()
        await trio.sleep(1)
        # b's failed start puts b and everything after it (c, not started yet) in backoff again.
        assert log == ["stop c", "stop b", "start a", "start b", "start b", "start c"]
        assert attempts == pytest.approx([0, 0.1, 0.2])
        assert child_stats(supervisor, "b").last_error == "ValueError: no luck"
        assert supervisor.statistics().restarts_in_window == 2
        assert [child_stats(supervisor, n).restarts for n in "abc"] == [1, 2, 1]


# Nested supervisors ------------------------------------------------------------------------------


def _nested(fail: int, times: list[float], **options: float) -> Supervisor:
    return Supervisor(
        "inner",
        [ChildSpec("worker", failing(times, fail))],
        max_restarts=1,
        backoff_initial=1,
        backoff_max=1,
        **options,  # type: ignore[arg-type]
    )


@trio_test
async def test_nested_escalation_is_restarted_by_the_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    times: list[float] = []
    inner = _nested(fail=2, times=times)  # worker fails at 0 and 1: inner gives up at 1
    log: list[str] = []
    sibling = Probe(log, "sibling")
    top = Supervisor("top", [sibling.spec(), inner.as_child()], backoff_initial=1)
    async with running(top):
        await trio.sleep(10)
        assert times == [0, 1, 2]  # the parent restarted inner at 1 + 1
        node = top.statistics().children[1]
        assert isinstance(node, SupervisorStatistics)
        assert (node.name, node.state, node.restart, node.restarts) == (
            "inner",
            "running",
            "permanent",
            1,
        )
        assert node.last_error is not None
        assert node.last_error.startswith("SupervisorEscalation: supervisor 'inner' gave up")
        assert node.uptime == 8
        assert [c.state for c in node.children] == ["running"]
        assert sibling.runs == 1
    assert log == ["start sibling", "stop sibling"]


@trio_test
async def test_nested_escalation_beyond_the_parents_intensity_reaches_the_top(
    autojump_clock: trio.testing.MockClock,
) -> None:
    times: list[float] = []
    inner = _nested(fail=10**9, times=times)
    top = Supervisor("top", [inner.as_child()], max_restarts=1, backoff_initial=1)
    with pytest.raises(SupervisorEscalation) as info:
        await top.run()
    # inner gives up at 1 and (restarted at 2) at 3: the parent's second restart in 5 s.
    assert trio.current_time() == 3
    assert times == [0, 1, 2, 3]
    assert (info.value.supervisor, info.value.child) == ("top", "inner")
    nested = info.value.error
    assert isinstance(nested, SupervisorEscalation)
    assert (nested.supervisor, nested.child) == ("inner", "worker")
    assert isinstance(nested.error, ValueError)
    stats = top.statistics()
    assert (stats.state, stats.children[0].state) == ("failed", "failed")


@trio_test
async def test_stopping_the_parent_stops_the_nested_tree_gracefully(
    autojump_clock: trio.testing.MockClock,
) -> None:
    events: list[tuple[float, str]] = []

    def drainer(name: str, seconds: float) -> ChildSpec:
        async def run() -> None:
            await current_child().stopping.wait()
            await trio.sleep(seconds)
            events.append((trio.current_time(), f"drained {name}"))

        return ChildSpec(name, run)

    inner = Supervisor("inner", [drainer("x", 1), drainer("y", 2)])
    top = Supervisor("top", [drainer("first", 0.5), inner.as_child(), drainer("last", 0.25)])
    async with trio.open_nursery() as nursery:
        await nursery.start(top.run)
        await top.stop()
    assert events == [
        (0.25, "drained last"),
        (2.25, "drained y"),
        (3.25, "drained x"),
        (3.75, "drained first"),
    ]
    assert inner.statistics().state == "stopped"


@trio_test
async def test_nested_statistics_round_trip_as_json(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log: list[str] = []
    worker = Probe(log, "worker")
    inner = Supervisor("inner", [worker.spec()], strategy=Strategy.REST_FOR_ONE)
    top = Supervisor("top", [inner.as_child(restart=Restart.TRANSIENT)])
    async with running(top):
        await trio.sleep(1)
        stats = top.statistics()
        [node] = stats.children
        assert isinstance(node, SupervisorStatistics)
        assert (node.strategy, node.restart, node.uptime) == ("rest_for_one", "transient", 1)
        [leaf] = node.children
        assert isinstance(leaf, ChildStatistics)
        assert (leaf.name, leaf.state, leaf.uptime) == ("worker", "running", 1)
        encoded = msgspec.json.encode(stats)
        assert msgspec.json.decode(encoded, type=SupervisorStatistics) == stats
        assert b'"kind":"supervisor"' in encoded
        assert b'"kind":"child"' in encoded


@trio_test
async def test_a_nested_child_can_stop_the_whole_tree(
    autojump_clock: trio.testing.MockClock,
) -> None:
    returned: list[float] = []
    top = Supervisor("top")

    async def control() -> None:
        await trio.sleep(1)
        await top.stop()
        returned.append(trio.current_time())

    inner = Supervisor("inner", [ChildSpec("control", control)])
    await top.add_child(inner.as_child())
    await top.run()
    assert returned == [1]
    assert trio.current_time() == 1

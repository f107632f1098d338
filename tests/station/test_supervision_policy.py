"""The supervision policy: auxiliaries degrade the station, only essential children escalate.

On trio's ``MockClock`` (``autojump_clock``): a child that fails for ten simulated minutes costs
nothing in real time, and every delay is exact.
"""

from __future__ import annotations

import pytest
import trio

from pywats_station._supervisor import (
    AUXILIARY_BACKOFF_MAX,
    ChildSpec,
    ChildStatistics,
    Supervisor,
    SupervisorEscalation,
)


class Counter:
    """Counts runs and their start times; fails every run when ``fail`` is set."""

    def __init__(self, *, fail: bool) -> None:
        self.fail = fail
        self.starts: list[float] = []

    async def run(self) -> None:
        self.starts.append(trio.current_time())
        if self.fail:
            raise OSError(24, "Too many open files")
        await trio.sleep_forever()


def _child(tree: Supervisor, name: str) -> ChildStatistics:
    [found] = [c for c in tree.statistics().children if c.name == name]
    assert isinstance(found, ChildStatistics)
    return found


@pytest.mark.trio
async def test_an_auxiliary_failing_forever_never_stops_its_essential_siblings(
    autojump_clock: trio.abc.Clock,
) -> None:
    status = Counter(fail=True)
    uploader = Counter(fail=False)
    tree = Supervisor(
        "station",
        [
            ChildSpec("uploader", uploader.run),
            ChildSpec("status", status.run, essential=False, backoff_max=AUXILIARY_BACKOFF_MAX),
        ],
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(tree.run)
        await trio.sleep(600)  # ten minutes of a status writer that cannot write
        stats = tree.statistics()
        assert stats.state == "running"
        assert stats.restarts_in_window == 0  # auxiliaries do not count toward the intensity
        assert uploader.starts == [0.0]  # never restarted
        aux = _child(tree, "status")
        assert aux.essential is False
        assert aux.last_error == "OSError: [Errno 24] Too many open files"
        assert aux.restarts == len(status.starts) - 1 > 10
        # Backoff doubles from 0.1 s and is capped: retried once a minute in the end.
        gaps = [b - a for a, b in zip(status.starts, status.starts[1:], strict=False)]
        assert gaps[:3] == pytest.approx([0.1, 0.2, 0.4])
        assert max(gaps) == pytest.approx(AUXILIARY_BACKOFF_MAX)
        # It is still being retried, and it recovers on its own when the cause goes away.
        status.fail = False
        await trio.sleep(AUXILIARY_BACKOFF_MAX + 1)
        assert _child(tree, "status").state == "running"
        assert _child(tree, "uploader").state == "running"
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_an_essential_child_still_escalates(autojump_clock: trio.abc.Clock) -> None:
    uploader = Counter(fail=True)
    status = Counter(fail=False)
    tree = Supervisor(
        "station",
        [ChildSpec("uploader", uploader.run), ChildSpec("status", status.run, essential=False)],
    )
    with pytest.raises(SupervisorEscalation, match="'uploader'"):
        await tree.run()
    assert len(uploader.starts) == tree.max_restarts + 1
    assert _child(tree, "uploader").essential is True


@pytest.mark.trio
async def test_auxiliary_restarts_do_not_hasten_an_essential_escalation(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A flapping auxiliary fills no part of the window an essential failure is judged by."""
    flapping = Counter(fail=True)
    once = {"failed": False}

    async def fails_once() -> None:
        if not once["failed"]:
            once["failed"] = True
            raise RuntimeError("one hiccup")
        await trio.sleep_forever()

    tree = Supervisor(
        "station",
        [ChildSpec("control", flapping.run, essential=False), ChildSpec("uploader", fails_once)],
        max_restarts=1,
        period=5.0,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(tree.run)
        await trio.sleep(30)
        assert tree.statistics().state == "running"
        assert _child(tree, "uploader").restarts == 1
        assert _child(tree, "control").restarts > 5
        nursery.cancel_scope.cancel()

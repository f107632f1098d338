"""Snapshots of every screen at 80x24 (the smallest terminal it is laid out for) and 120x40.

Each test drives the app against the scripted station (:mod:`tests.tui.scripted`) to a state
worth looking at and compares the terminal, as SVG, with the one stored in ``__snapshots__``.
After a deliberate change of the UI, look at the new pictures and store them with
``pytest tests/tui/test_snapshots.py --snapshot-update``.

The pictures must not change from run to run or from machine to machine: the clock is frozen at
:data:`tests.tui.fake.NOW` in UTC, cursors do not blink, animations are off (conftest), and
nothing is on screen that expires by the wall clock (a toast).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from pywats_station.tui.app import StationTui
from pywats_station.tui.screens.config import ConfigScreen
from pywats_station.tui.screens.connection import ConnectionScreen
from pywats_station.tui.screens.converters import ConvertersScreen
from pywats_station.tui.screens.dashboard import DashboardScreen
from pywats_station.tui.screens.help import Help
from pywats_station.tui.screens.line import LineScreen
from pywats_station.tui.screens.log import LogScreen
from pywats_station.tui.screens.queue import EntryScreen, QueueScreen
from pywats_station.tui.screens.tryfile import TryFileScreen
from tests.tui.fake import NOW, FakeLink
from tests.tui.scripted import TRY_FILE, activity, counters_event, scripted_station
from tests.tui.test_config_screen import edit, go_to
from tests.tui.test_converters_screen import type_path
from tests.tui.test_queue_screen import ScriptedQueue, settle

Snap = Callable[..., bool]
"""pytest-textual-snapshot's ``snap_compare`` (the plugin has no type hints)."""

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


class Clock:
    """``time.time()`` for the app: :data:`NOW` unless a test moves it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The clock frozen at :data:`NOW`, in UTC, for the duration of a test.

    The screens show ages ("12 s ago") and countdowns from ``time.time()`` and clock times
    through ``time.localtime``; Textual keeps its own time with ``time.monotonic``, so freezing
    ``time.time`` stops no timer.
    """
    frozen = Clock()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(time, "time", frozen)
            patch.setenv("TZ", "UTC")
            # Textual drops colour under NO_COLOR: a developer's setting must not fail the test.
            patch.delenv("NO_COLOR", raising=False)
            time.tzset()
            yield frozen
    finally:
        time.tzset()  # the zone of the environment as restored


def tui(pilot: Pilot[None]) -> StationTui:
    return cast(StationTui, pilot.app)


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Wait (a few seconds at most) until ``condition()``: a message is handled, a call answered."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"still not {what}")


async def post_at(
    pilot: Pilot[None],
    clock: Clock,
    when: float,
    link: FakeLink,
    event: str,
    payload: dict[str, Any],
) -> None:
    """Deliver one event with the clock at ``when``: the model stamps events on arrival."""
    clock.now = when
    link.event(event, payload)
    model = tui(pilot).models[link.label]
    await until(pilot, lambda: model.updated_at == when, f"handled {event}")


async def activity_of(pilot: Pilot[None], clock: Clock, link: FakeLink) -> None:
    """The last minutes' reports and failures on ``link``, each at its time, then the
    periodic counters at :data:`NOW` (the status shown is redrawn at that moment)."""
    for offset, event, payload in activity():
        await post_at(pilot, clock, NOW + offset, link, event, payload)
    await post_at(pilot, clock, NOW, link, "counters", counters_event(link))


async def ready(pilot: Pilot[None]) -> None:
    """Let the screen settle, then make it still: no blinking cursor, and no toast (a toast
    is removed by a wall-clock timer, and here it would mean a call failed)."""
    await settle(pilot)
    for screen in pilot.app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False
    assert [n.message for n in pilot.app._notifications] == []
    await settle(pilot)


# --- the station screens ---------------------------------------------------------------------


@SIZES
def test_dashboard(snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]) -> None:
    """Reports with their units, a file that failed, a rejection, the supervision tree."""
    link = scripted_station(tmp_path)
    clock.now = NOW - 300

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await activity_of(pilot, clock, link)
        await ready(pilot)
        assert isinstance(pilot.app.screen, DashboardScreen)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_converters(
    snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The converters and the highlighted one's details (last error, last file)."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("2")
        await ready(pilot)
        assert isinstance(pilot.app.screen, ConvertersScreen)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_converters_try_a_file(
    snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A real file's dry run: the summary and the report tree (steps, values, limits)."""
    assert TRY_FILE.is_file()  # the demo's copy of a real GR228x log
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TryFileScreen), "trying")
        await type_path(pilot, TRY_FILE.name)
        await pilot.press("enter")
        await until(pilot, lambda: "3 reports" in text_of(pilot, "#try-summary"), "converted")
        await ready(pilot)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_queue(snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]) -> None:
    """The queue opened on its dead letters, the first one's reason under the table."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("3")
        await ready(pilot)
        assert isinstance(pilot.app.screen, QueueScreen)
        assert "dead 2" in text_of(pilot, "#queue-head")

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_queue_entry(
    snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A dead letter opened (Enter): its unit, history and the server's reason whole."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, EntryScreen), "shown")
        await ready(pilot)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_log(snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]) -> None:
    """The last hour of the log at the info level, a token in it masked."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("4")
        await until(pilot, lambda: "11 of 11 records" in text_of(pilot, "#log-status"), "read")
        await ready(pilot)
        assert isinstance(pilot.app.screen, LogScreen)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_config_edit_refused(
    snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The configuration, and an edit the station refuses, the reason shown under the field."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await go_to(pilot, tui(pilot), "queue.upload_workers")
        await pilot.press("e")
        await edit(pilot, "0")
        await until(pilot, lambda: "must be" in text_of(pilot, "#config-message"), "refused")
        await ready(pilot)
        assert isinstance(pilot.app.screen, ConfigScreen)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_connection_tested(
    snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The server, the registration, the synced processes, and a connection test passed."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: "reachable" in text_of(pilot, "#conn-checks"), "tested")
        await ready(pilot)
        assert isinstance(pilot.app.screen, ConnectionScreen)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


@SIZES
def test_help(snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]) -> None:
    """F1 over the dashboard: the keys."""
    link = scripted_station(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, Help), "helped")
        await ready(pilot)

    assert snap_compare(StationTui([link]), terminal_size=size, run_before=run_before)


# --- the line --------------------------------------------------------------------------------


@SIZES
def test_line_view(snap_compare: Snap, clock: Clock, tmp_path: Path, size: tuple[int, int]) -> None:
    """Three stations: one busy with a rejection, one idle, one lost (its last data dimmed)."""
    busy = scripted_station(tmp_path, "ict-01")
    idle = scripted_station(tmp_path, "ict-02")
    ScriptedQueue(idle, [])  # an empty queue, and counts that say so
    lost = scripted_station(tmp_path, "fct-01")
    clock.now = NOW - 300

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await activity_of(pilot, clock, busy)
        lost.go_down("cannot connect to ws://10.0.3.12:8765: connection refused", retry_in=4.0)
        model = tui(pilot).models[lost.label]
        await until(pilot, lambda: model.link == "retrying", "lost")
        await settle(pilot)
        # The toast saying so is taken away by a wall-clock timer: whether it is still on
        # screen would depend on the machine's speed. The line's row says it anyway.
        toasts = [n.message for n in pilot.app._notifications]
        assert toasts == [
            "fct-01: connection lost: cannot connect to ws://10.0.3.12:8765: connection refused"
        ]
        pilot.app.clear_notifications()
        await ready(pilot)
        assert isinstance(pilot.app.screen, LineScreen)

    app = StationTui([busy, idle, lost])
    assert snap_compare(app, terminal_size=size, run_before=run_before)

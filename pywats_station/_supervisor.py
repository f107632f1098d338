"""Erlang/OTP-style supervisors for the station's actors.

A `Supervisor` runs its children (each a `ChildSpec`) in one nursery, every child in its own task
and cancel scope, and restarts them when they end according to their `Restart` type and the
supervisor's `Strategy`. Restarts are delayed by a per-child exponential backoff; more than
``max_restarts`` restarts within ``period`` seconds make the supervisor stop everything and raise
`SupervisorEscalation`, which a parent supervisor treats like any other failed child.

Not every child may escalate. A child whose spec says ``essential=False`` (an auxiliary: a status
file writer, a control channel) is restarted with its backoff for as long as it keeps failing, and
its restarts never count toward the supervisor's intensity: a broken auxiliary degrades the
station, visibly (its state, restarts and last error are in `Supervisor.statistics`), but never
takes its essential siblings down with it. Only essential children (the default) escalate.

All decisions are taken by one loop (the task running `Supervisor.run`): children report their end
through a bounded memory channel, and `add_child`, `remove_child`, `restart_child` are queued on the
same channel, so the children list is only ever changed by that loop.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import logging
import math
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import msgspec
import trio

from pywats_station._supervisor_spec import (
    AUXILIARY_BACKOFF_MAX,
    ChildSpec,
    ChildState,
    Restart,
    Strategy,
)
from pywats_station._supervisor_stats import ChildStatistics, SupervisorStatistics

__all__ = [
    "AUXILIARY_BACKOFF_MAX",
    "ChildContext",
    "ChildSpec",
    "ChildState",
    "ChildStatistics",
    "Restart",
    "Strategy",
    "Supervisor",
    "SupervisorEscalation",
    "SupervisorStatistics",
    "current_child",
]

_log = logging.getLogger("pywats_station.supervisor")

# Exits and commands are rare; a small bound only makes a reporting child wait, it never loses one.
_CHANNEL_SIZE = 64

_current: contextvars.ContextVar[ChildContext] = contextvars.ContextVar("pywats_station_child")


@dataclass(frozen=True, eq=False)
class ChildContext:
    """What a running child knows about itself; see `current_child`.

    Attributes:
        name: The child's name.
        supervisor: The supervisor running it.
        stopping: Set when a graceful stop is requested. Actors that must drain wait on it and
            return; the others ignore it and are cancelled after the spec's ``shutdown_timeout``.
    """

    name: str
    supervisor: Supervisor
    stopping: trio.Event = field(default_factory=trio.Event)


def current_child() -> ChildContext:
    """Return the context of the supervised child this task belongs to.

    Raises:
        RuntimeError: When called outside a supervised child.
    """
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("current_child() called outside a supervised child") from None


class SupervisorEscalation(Exception):
    """A supervisor gave up: its restart intensity was exceeded and it stopped all its children.

    Attributes:
        supervisor: The name of the supervisor that gave up.
        child: The name of the child whose end exceeded the intensity.
        error: That child's exception (None when it returned normally).
    """

    def __init__(self, supervisor: str, child: str, error: BaseException | None) -> None:
        self.supervisor = supervisor
        self.child = child
        self.error = error
        reason = _describe(error) if error is not None else "returned"
        super().__init__(
            f"supervisor {supervisor!r} gave up: too many restarts (last: {child!r}: {reason})"
        )


# The fields a nested supervisor's statistics take from its parent's view of it.
_CHILD_VIEW = tuple(ChildStatistics.__struct_fields__)


class _Run:
    """One execution of a child: its cancel scope, context and outcome; also its task status."""

    def __init__(self, child: _Child, supervisor: Supervisor) -> None:
        self.child = child
        self.context = ChildContext(child.spec.name, supervisor)
        self.scope = trio.CancelScope()
        self.started_clock = trio.current_time()
        self.started_wall = time.time()
        self.settled = trio.Event()  # started() was called or the task ended
        self.done = trio.Event()
        self.is_started = False
        self.stop_requested = False
        self.handled = False  # the supervisor has accounted for this run's end
        self.error: Exception | None = None

    def started(self, value: object = None) -> None:
        """Mark the child as running (the `trio.TaskStatus` protocol)."""
        if self.is_started:
            raise RuntimeError("called 'started' twice on the same task status")
        self.is_started = True
        if self.child.run is self and self.child.state is ChildState.STARTING:
            self.child.state = ChildState.RUNNING
        self.settled.set()


class StateChanges:
    """Wakes whoever waits for a change of state, restarts or error anywhere in the
    supervision trees of this process (the control channel's ``actor_state`` events), so that
    nobody has to poll :meth:`Supervisor.statistics`."""

    def __init__(self) -> None:
        self._event: trio.Event | None = None

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self) -> None:
        """Return after the next change (one made after this call)."""
        if self._event is None:
            self._event = trio.Event()
        await self._event.wait()


STATE_CHANGES = StateChanges()
_WATCHED = frozenset({"state", "_state", "restarts", "last_error"})


@dataclass(eq=False)
class _Child:
    spec: ChildSpec
    state: ChildState = ChildState.STOPPED
    run: _Run | None = None
    due: float | None = None  # trio time at which the child is (re)started
    failures: int = 0  # consecutive ends, for the backoff
    restarts: int = 0
    last_error: str | None = None
    last_traceback: str | None = None
    last_exit: float | None = None

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in _WATCHED:
            STATE_CHANGES.notify()


@dataclass(eq=False)
class _Command:
    action: Callable[[], Awaitable[None]]
    done: trio.Event = field(default_factory=trio.Event)
    error: Exception | None = None


# A run reports its end; None only wakes the loop up (a stop was requested).
_Message = _Run | _Command | None


class Supervisor:
    """Runs children and restarts them; see the module docstring.

    An end that calls for a restart counts once toward the intensity however many children the
    strategy restarts; the group (stopped first, in reverse order) is started again, in order, after
    the failed child's backoff. As in OTP, a group restart also starts a transient child that had
    ended normally, and drops temporary ones. Manual `restart_child` calls are not counted.

    Args:
        name: Shown in logs, statistics and escalations.
        children: Started in this order; stopped in reverse order.
        strategy: Which children are restarted when one ends.
        max_restarts: Restarts allowed within ``period`` seconds; one more escalates.
        period: Length of the sliding window of restart intensity, in seconds.
        backoff_initial: Delay before the first restart of a child, doubled per consecutive end.
        backoff_max: Cap of that delay.
        backoff_reset_after: A child that ran this long before ending starts over at
            ``backoff_initial``.
    """

    def __init__(
        self,
        name: str,
        children: Sequence[ChildSpec] = (),
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        period: float = 5.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        backoff_reset_after: float = 30.0,
    ) -> None:
        if max_restarts < 0 or period <= 0:
            raise ValueError("max_restarts must be >= 0 and period > 0")
        if not 0 <= backoff_initial <= backoff_max:
            raise ValueError("need 0 <= backoff_initial <= backoff_max")
        self.name = name
        self.strategy = strategy
        self.max_restarts = max_restarts
        self.period = period
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_reset_after = backoff_reset_after
        self._children: list[_Child] = []
        for spec in children:
            self._check_unique(spec.name)
            self._children.append(_Child(spec))
        self._state = ChildState.STOPPED
        self._restart_times: collections.deque[float] = collections.deque()
        self._send: trio.MemorySendChannel[_Message] | None = None  # not None while running
        self._nursery: trio.Nursery | None = None
        self._parent: ChildContext | None = None
        self._stop_requested = False
        self._stop_event = trio.Event()
        self._finished = trio.Event()

    def __repr__(self) -> str:
        return f"<Supervisor {self.name!r} {self._state.value}>"

    @property
    def children(self) -> tuple[ChildSpec, ...]:
        """The current children's specs, in start order."""
        return tuple(child.spec for child in self._children)

    def as_child(
        self,
        *,
        restart: Restart = Restart.PERMANENT,
        shutdown_timeout: float = math.inf,
        essential: bool = True,
    ) -> ChildSpec:
        """Return a spec running this supervisor as a child of another one.

        The default timeout is infinite (as in OTP): the subtree's own timeouts bound its stop.
        """
        return ChildSpec(
            self.name, self.run, restart, shutdown_timeout, supervisor=self, essential=essential
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the children in order, then supervise them until stopped or cancelled.

        ``task_status.started()`` is called once every initial child has started (or ended). When
        this runs as a supervised child, a graceful stop of that child stops this supervisor
        gracefully.

        Raises:
            SupervisorEscalation: The restart intensity was exceeded (all children were stopped).
            RuntimeError: The supervisor is already running.
        """
        if self._send is not None:
            raise RuntimeError(f"supervisor {self.name!r} is already running")
        send, receive = trio.open_memory_channel[_Message](_CHANNEL_SIZE)
        self._send, self._parent = send, _current.get(None)
        self._stop_requested, self._stop_event, self._finished = False, trio.Event(), trio.Event()
        # A rerun (a parent restarting us) starts afresh, like a new OTP process would.
        self._restart_times.clear()
        self._state = ChildState.STARTING
        for child in self._children:
            child.run, child.failures, child.due = None, 0, trio.current_time()
        escalation: SupervisorEscalation | None = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self._parent is not None:
                    nursery.start_soon(self._stop_with_parent, self._parent)
                # Escalation is caught inside the nursery so that it leaves run() unwrapped by an
                # ExceptionGroup.
                try:
                    await self._start_due()
                    self._state = ChildState.RUNNING
                    task_status.started()
                    await self._supervise(receive)
                    self._state = ChildState.STOPPING
                    await self._stop_children(self._children)
                except SupervisorEscalation as exc:
                    escalation = exc
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            receive.close()
            self._send = self._nursery = None
            for child in self._children:
                if child.run is not None and not child.run.handled:
                    self._settle(child.run)
                if child.state is not ChildState.FAILED:
                    child.state, child.due = ChildState.STOPPED, None
            if self._state is not ChildState.FAILED:
                self._state = ChildState.STOPPED
            self._finished.set()
        if escalation is not None:
            raise escalation

    async def add_child(self, spec: ChildSpec) -> None:
        """Add a child; while running, start it and wait until it has started.

        Raises:
            ValueError: A child with that name exists.
        """
        if self._send is None:
            self._check_unique(spec.name)
            self._children.append(_Child(spec))
            return

        async def add() -> None:
            self._check_unique(spec.name)
            child = _Child(spec)
            self._children.append(child)
            await self._start_child(child)

        await self._call(add)

    async def remove_child(self, name: str) -> None:
        """Remove a child; while running, stop it gracefully first.

        Raises:
            KeyError: There is no child with that name.
        """
        if self._send is None:
            self._children.remove(self._find(name))
            return

        async def remove() -> None:
            child = self._find(name)
            await self._stop_child(child)
            self._children.remove(child)

        await self._call(remove)

    async def restart_child(self, name: str) -> None:
        """Stop a child gracefully and start it again at once (no backoff, no intensity count).

        Raises:
            KeyError: There is no child with that name.
            RuntimeError: The supervisor is not running.
        """
        if self._send is None:
            raise RuntimeError(f"supervisor {self.name!r} is not running")

        async def restart() -> None:
            child = self._find(name)
            await self._stop_child(child)
            await self._start_child(child)

        await self._call(restart)

    async def stop(self) -> None:
        """Stop all children gracefully in reverse start order; `run` then returns normally.

        Returns when `run` has returned; a no-op when the supervisor is not running.
        """
        if self._send is None:
            return
        finished = self._finished
        self._request_stop()
        await _wait_any(finished, *self._own_stopping())

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in _WATCHED:
            STATE_CHANGES.notify()

    def statistics(self) -> SupervisorStatistics:
        """Return the state of this supervisor and its subtree (never blocks)."""
        now = _trio_time()
        return SupervisorStatistics(
            name=self.name,
            strategy=self.strategy.value,
            state=self._state.value,
            restarts_in_window=sum(
                1 for t in self._restart_times if now is None or now - t < self.period
            ),
            children=[self._child_statistics(child, now) for child in self._children],
        )

    # The loop ----------------------------------------------------------------------------------

    async def _supervise(self, receive: trio.MemoryReceiveChannel[_Message]) -> None:
        while not self._stop_requested:
            await self._start_due()
            if self._stop_requested:
                return
            message: _Message = None
            # Waiting here rather than sleeping in a backoff keeps the loop responsive to stop().
            with trio.move_on_at(self._next_due()):
                message = await receive.receive()
            if isinstance(message, _Run):
                await self._on_exit(message)
            elif isinstance(message, _Command):
                await self._execute(message)

    def _next_due(self) -> float:
        return min((c.due for c in self._children if c.due is not None), default=math.inf)

    async def _start_due(self) -> None:
        # One at a time, in list order, each waiting for the previous one to have started.
        while not self._stop_requested:
            now = trio.current_time()
            child = next((c for c in self._children if c.due is not None and c.due <= now), None)
            if child is None:
                return
            await self._start_child(child)

    async def _start_child(self, child: _Child) -> None:
        assert self._nursery is not None
        assert self._send is not None
        if child.run is not None:
            child.restarts += 1
        child.due, child.state = None, ChildState.STARTING
        run = child.run = _Run(child, self)
        self._nursery.start_soon(
            self._run_child, run, self._send, name=f"{self.name}/{child.spec.name}"
        )
        await _wait_any(run.settled, self._stop_event)
        if run.done.is_set():  # it ended before starting: that is an end like any other
            await self._on_exit(run)

    async def _run_child(self, run: _Run, send: trio.MemorySendChannel[_Message]) -> None:
        _current.set(run.context)  # this task's own context copy: nothing to reset
        spec = run.child.spec
        try:
            with run.scope:
                if spec.accepts_task_status:
                    await spec.run(task_status=run)
                else:
                    run.started()
                    await spec.run()
        # Exception, not BaseException: Cancelled from an outer scope, KeyboardInterrupt and
        # SystemExit must propagate (our own scope's Cancelled was absorbed by the `with`).
        except Exception as exc:
            run.error = exc
        finally:
            run.done.set()
            run.settled.set()
        if not run.stop_requested:  # when stopping, the stopper accounts for the end itself
            await send.send(run)

    async def _on_exit(self, run: _Run) -> None:
        child = run.child
        if run.handled:  # already accounted for by a stop or by _start_child
            return
        self._settle(run)
        restart = child.spec.restart
        if restart is Restart.TEMPORARY:
            self._children.remove(child)
        if restart is Restart.TEMPORARY or (restart is Restart.TRANSIENT and run.error is None):
            child.state = ChildState.STOPPED
            return
        now = trio.current_time()
        if child.spec.essential:
            self._restart_times.append(now)
            while now - self._restart_times[0] >= self.period:
                self._restart_times.popleft()
            if len(self._restart_times) > self.max_restarts:
                await self._escalate(child, run.error)
        else:
            # An auxiliary degrades the station; it never escalates (module docstring).
            _log.warning(
                "supervisor %r: auxiliary %r ended (%s); restarting it",
                self.name,
                child.spec.name,
                _describe(run.error) if run.error is not None else "returned",
            )
        if now - run.started_clock >= self.backoff_reset_after:
            child.failures = 0
        child.failures += 1
        group = self._restart_group(child)
        await self._stop_children([c for c in group if c is not child])
        cap = self.backoff_max if child.spec.backoff_max is None else child.spec.backoff_max
        delay = min(self.backoff_initial * 2 ** min(child.failures - 1, 64), cap)
        due = trio.current_time() + delay
        for member in group:
            if member.spec.restart is Restart.TEMPORARY:  # stopped by the strategy: gone for good
                self._children.remove(member)
            else:
                member.state, member.due = ChildState.BACKOFF, due
        names = ", ".join(repr(m.spec.name) for m in group if m in self._children)
        _log.info("supervisor %r: restarting %s in %.3gs", self.name, names, delay)

    def _restart_group(self, child: _Child) -> list[_Child]:
        if self.strategy is Strategy.ONE_FOR_ALL:
            return list(self._children)
        if self.strategy is Strategy.REST_FOR_ONE:
            return self._children[self._children.index(child) :]
        return [child]

    async def _escalate(self, child: _Child, error: Exception | None) -> NoReturn:
        message = "supervisor %r: more than %d restarts in %gs (last: %r); giving up"
        _log.error(message, self.name, self.max_restarts, self.period, child.spec.name)
        self._state = ChildState.STOPPING
        await self._stop_children(self._children)
        child.state = self._state = ChildState.FAILED
        raise SupervisorEscalation(self.name, child.spec.name, error) from error

    async def _stop_children(self, children: Sequence[_Child]) -> None:
        for child in reversed(list(children)):
            await self._stop_child(child)

    async def _stop_child(self, child: _Child) -> None:
        run, child.due = child.run, None
        if run is not None and not run.handled:
            if not run.done.is_set():
                run.stop_requested = True
                child.state = ChildState.STOPPING
                run.context.stopping.set()
                with trio.move_on_after(child.spec.shutdown_timeout):
                    await run.done.wait()
                if not run.done.is_set():
                    run.scope.cancel()
                    await run.done.wait()
            self._settle(run)
        child.state = ChildState.STOPPED

    def _settle(self, run: _Run) -> None:
        """Record the end of a run (once)."""
        run.handled = True
        child = run.child
        child.last_exit = time.time()
        if run.error is not None:
            child.last_error = _describe(run.error)
            child.last_traceback = "".join(traceback.format_exception(run.error))
            message = "supervisor %r: child %r failed: %s"
            _log.warning(message, self.name, child.spec.name, child.last_error, exc_info=run.error)

    # Commands and stopping -----------------------------------------------------------------------

    async def _call(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` in the supervisor's loop and wait for it."""
        command, finished, send = _Command(action), self._finished, self._send
        not_running = RuntimeError(f"supervisor {self.name!r} is not running")
        if send is None:
            raise not_running
        try:
            await send.send(command)
        except trio.BrokenResourceError:
            raise not_running from None
        await _wait_any(command.done, finished, *self._own_stopping())
        if command.error is not None:
            raise command.error
        if not command.done.is_set() and finished.is_set():
            raise RuntimeError(f"supervisor {self.name!r} stopped before the command ran")

    async def _execute(self, command: _Command) -> None:
        try:
            await command.action()
        except (KeyError, ValueError) as exc:
            command.error = exc
        finally:
            command.done.set()

    def _own_stopping(self) -> list[trio.Event]:
        """The caller's stop event, if the caller is in this supervisor's subtree.

        Such a caller (a control actor asking for a shutdown, say) is itself stopped by the
        command it waits for, so it stops waiting when its own stop is requested.
        """
        caller = context = _current.get(None)
        while context is not None:
            if context.supervisor is self:
                return [caller.stopping] if caller is not None else []
            context = context.supervisor._parent
        return []

    def _request_stop(self) -> None:
        if self._send is None or self._stop_requested:
            return
        self._stop_requested = True
        self._stop_event.set()
        # A full channel means the loop has messages to read and will see the flag anyway.
        with contextlib.suppress(trio.WouldBlock):
            self._send.send_nowait(None)

    async def _stop_with_parent(self, parent: ChildContext) -> None:
        await parent.stopping.wait()
        self._request_stop()

    # Helpers -------------------------------------------------------------------------------------

    def _check_unique(self, name: str) -> None:
        if any(child.spec.name == name for child in self._children):
            raise ValueError(f"supervisor {self.name!r} already has a child named {name!r}")

    def _find(self, name: str) -> _Child:
        for child in self._children:
            if child.spec.name == name:
                return child
        raise KeyError(f"supervisor {self.name!r} has no child named {name!r}")

    def _child_statistics(
        self, child: _Child, now: float | None
    ) -> ChildStatistics | SupervisorStatistics:
        run = child.run
        live = run if run is not None and not run.done.is_set() else None
        stats = ChildStatistics(
            name=child.spec.name,
            state=child.state.value,
            restart=child.spec.restart.value,
            essential=child.spec.essential,
            restarts=child.restarts,
            last_error=child.last_error,
            last_traceback=child.last_traceback,
            started_at=live.started_wall if live is not None else None,
            uptime=now - live.started_clock if live is not None and now is not None else None,
            last_exit=child.last_exit,
        )
        if child.spec.supervisor is None:
            return stats
        view = {name: getattr(stats, name) for name in _CHILD_VIEW}
        return msgspec.structs.replace(child.spec.supervisor.statistics(), **view)


async def _wait_any(*events: trio.Event) -> None:
    """Wait until at least one of ``events`` is set."""
    if any(event.is_set() for event in events):
        return
    async with trio.open_nursery() as nursery:
        for event in events:
            nursery.start_soon(_wait_then_cancel, event, nursery.cancel_scope)


async def _wait_then_cancel(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _trio_time() -> float | None:
    try:
        return trio.current_time()
    except RuntimeError:  # statistics() from outside trio: no clock, no uptime
        return None

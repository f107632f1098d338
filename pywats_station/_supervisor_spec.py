"""How a supervisor is told to run a child: the spec, restart types, strategies, states.

Re-exported by :mod:`pywats_station._supervisor` (the loop that acts on them); see its docstring
for what each setting does.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pywats_station._supervisor import Supervisor

__all__ = ["AUXILIARY_BACKOFF_MAX", "ChildSpec", "ChildState", "Restart", "Strategy"]

AUXILIARY_BACKOFF_MAX = 60.0
"""Restart delay cap for auxiliaries (``ChildSpec.backoff_max``): their failures are often lasting
(a full disk, a port in use), and a retry a minute is plenty for something that is shown."""


class Restart(enum.Enum):
    """Whether a child that has ended is started again."""

    PERMANENT = "permanent"  # always, even after a normal return
    TRANSIENT = "transient"  # only after it raised
    TEMPORARY = "temporary"  # never; it is removed from the supervisor when it ends


class Strategy(enum.Enum):
    """Which children are restarted when one ends."""

    ONE_FOR_ONE = "one_for_one"  # only that child
    ONE_FOR_ALL = "one_for_all"  # all children (the others are stopped first)
    REST_FOR_ONE = "rest_for_one"  # that child and the ones after it in the list


class ChildState(enum.Enum):
    """The life cycle of a child (and, for its own state, of a supervisor)."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    BACKOFF = "backoff"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True)
class ChildSpec:
    """How to run one child.

    Attributes:
        name: Unique within its supervisor.
        run: Called as ``await run(task_status=...)`` when it has a ``task_status`` parameter (the
            child is running once it calls ``task_status.started()``), else ``await run()``.
        restart: When the child is restarted.
        shutdown_timeout: Seconds a graceful stop waits before cancelling the child.
        supervisor: The supervisor that ``run`` runs, if any (links nested statistics).
        essential: Whether the child's repeated failure may make its supervisor give up
            (escalate). ``False`` for auxiliaries: they are restarted with backoff forever
            and reported, never escalated.
        backoff_max: Cap of this child's restart delay; ``None``: the supervisor's. An
            auxiliary that fails for a lasting reason (a full disk) is retried less often.
    """

    name: str
    run: Callable[..., Awaitable[object]]
    restart: Restart = Restart.PERMANENT
    shutdown_timeout: float = 5.0
    supervisor: Supervisor | None = None
    essential: bool = True
    backoff_max: float | None = None
    accepts_task_status: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a child needs a non-empty name")
        if self.shutdown_timeout < 0:
            raise ValueError(f"child {self.name!r}: shutdown_timeout must be >= 0")
        if self.backoff_max is not None and self.backoff_max < 0:
            raise ValueError(f"child {self.name!r}: backoff_max must be >= 0")
        # Inspected once here rather than on every (re)start.
        object.__setattr__(self, "accepts_task_status", _accepts_task_status(self.run))


def _accepts_task_status(function: Callable[..., object]) -> bool:
    try:
        parameter = inspect.signature(function).parameters.get("task_status")
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return False
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return parameter is not None and parameter.kind in keyword

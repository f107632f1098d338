"""What a supervisor reports about itself and its children: plain, JSON-able structs.

Kept apart from the supervisor's loop (:mod:`pywats_station._supervisor`, which re-exports them)
because everything that shows the tree (status file, control channel, TUI) needs these and none
of the loop.
"""

from __future__ import annotations

import msgspec

__all__ = ["ChildStatistics", "SupervisorStatistics"]


class _NodeStatistics(msgspec.Struct, kw_only=True, tag_field="kind"):
    """A node of the tree as its supervisor sees it (times: wall-clock epoch; uptime: seconds)."""

    name: str
    state: str
    restarts: int = 0  # by its supervisor, in total
    last_error: str | None = None  # "ValueError: boom"
    last_traceback: str | None = None
    started_at: float | None = None  # of the current run
    uptime: float | None = None
    last_exit: float | None = None


class ChildStatistics(_NodeStatistics, kw_only=True, tag="child"):
    """A child that is not a supervisor (``essential``: whether it may escalate)."""

    restart: str
    essential: bool = True


class SupervisorStatistics(_NodeStatistics, kw_only=True, tag="supervisor"):
    """A supervisor and its subtree.

    At the top of a tree ``state`` is the supervisor's own. For a nested supervisor, ``state`` and
    the other `_NodeStatistics` fields, and ``restart``, are its parent's view of it as a child.
    """

    strategy: str
    restarts_in_window: int
    children: list[ChildStatistics | SupervisorStatistics] = []
    restart: str | None = None
    essential: bool = True

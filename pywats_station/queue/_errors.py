"""The exceptions of the report queue, one base class so callers can catch them all."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CorruptEntry",
    "EntryNotFound",
    "InvalidTransition",
    "QueueError",
    "QueueFull",
    "QueueLocked",
]


class QueueError(Exception):
    """Base class of every error raised by the report queue."""


class QueueFull(QueueError):
    """The new entry would take the queue over its byte limit (backpressure, not a failure).

    Attributes:
        current: bytes held by the queue now.
        needed: bytes the refused entry would have added.
        limit: the queue's ``max_bytes``.
    """

    def __init__(self, *, current: int, needed: int, limit: int) -> None:
        super().__init__(
            f"report queue full: {current} of {limit} bytes used, {needed} more needed"
        )
        self.current = current
        self.needed = needed
        self.limit = limit


class QueueLocked(QueueError):
    """Another process (or another ``open`` in this one) already holds the queue.

    Attributes:
        path: the queue folder.
        pid: the holder's process id as written in the lock file, if readable.
    """

    def __init__(self, path: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "an unknown process"
        super().__init__(f"report queue {path} is locked by {holder}")
        self.path = path
        self.pid = pid


class EntryNotFound(QueueError, LookupError):
    """No entry matches the report id, sequence number or selector."""


class CorruptEntry(QueueError):
    """An entry failed its integrity checks; it has been moved to the ``corrupt/`` folder.

    Attributes:
        name: the entry's file name (``<seq>-<report id>.wsjf``).
        reason: what was wrong, as written to the ``.reason.txt`` file beside it.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"corrupt queue entry {name}: {reason}")
        self.name = name
        self.reason = reason


class InvalidTransition(QueueError, ValueError):
    """A state change that the entry's current state does not allow (a bug in the caller)."""

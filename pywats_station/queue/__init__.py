"""The station's durable report queue: a report put here is never lost.

A report leaves the queue only when the server accepted it or a human purged it, whatever
happens in between (kill -9, power loss at any instant). Transient failures are retried forever
with capped exponential backoff (or the server's ``Retry-After``); permanent rejections become
dead letters, kept with the server's reason until a human retries or purges them.

``ReportQueue`` is the files on disk (``_store``); ``Entry`` and the transition functions are the
pure state machine (``_state``) it is built on. See ``_store`` for the on-disk layout. Each entry
keeps which unit its report is about (``Unit``, read from the report by ``unit_of`` when it is
queued), so the queue names units without reading reports again.
"""

from __future__ import annotations

from ._errors import (
    CorruptEntry,
    EntryNotFound,
    InvalidTransition,
    QueueError,
    QueueFull,
    QueueLocked,
)
from ._state import Backoff, Entry, EntryState
from ._store import QueueStats, ReportQueue, VerifyReport
from ._unit import Unit, unit_of

__all__ = [
    "Backoff",
    "CorruptEntry",
    "Entry",
    "EntryNotFound",
    "EntryState",
    "InvalidTransition",
    "QueueError",
    "QueueFull",
    "QueueLocked",
    "QueueStats",
    "ReportQueue",
    "Unit",
    "VerifyReport",
    "unit_of",
]

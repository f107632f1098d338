"""Fault injection: make the emulator down, slow, rate-limited, failing or rude on demand.

Every fault can be limited to requests whose path contains ``match`` (case-insensitive) and to
the next ``count`` requests (or to a ``fraction`` of them, drawn from a seeded random generator so
that tests are repeatable); a ``down`` fault lasts ``seconds`` and can be limited with ``match``
only. For each request, latency faults add up; of the others the first that applies in the order
down, drop, 429, 5xx, submit rejection wins.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import msgspec

__all__ = ["Fault", "FaultKind", "Faults", "Outcome"]

FaultKind = Literal["down", "latency", "rate_limit", "error", "drop", "reject"]


class Fault(msgspec.Struct, kw_only=True):
    """One injected fault (also the JSON body of the admin route ``POST /_emulator/faults``).

    Attributes:
        kind: ``down`` (refuse connections for ``seconds``), ``latency`` (wait ``seconds`` before
            answering), ``rate_limit`` (429 with ``Retry-After: retry_after``), ``error``
            (answer ``status``, 503 by default), ``drop`` (close the connection mid-answer),
            ``reject`` (answer a report submit with 400 and ``message``).
        count: how many requests it applies to (``None``: until cleared).
        fraction: apply to this fraction of matching requests instead (0-1).
        match: only requests whose path contains this text (case-insensitive).
    """

    kind: FaultKind
    seconds: float = 0.0
    status: int = 503
    retry_after: float = 1.0
    message: str = "Report rejected by fault injection."
    count: int | None = None
    fraction: float | None = None
    match: str | None = None
    until: float | None = None  # monotonic deadline of a `down` fault


@dataclass(slots=True)
class Outcome:
    """What the faults decide for one request."""

    refuse: bool = False
    drop: bool = False
    delay: float = 0.0
    status: int | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Faults:
    """The active faults of one emulator; safe to change from any thread."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self.clock = time.monotonic

    def add(self, fault: Fault) -> Fault:
        """Activate ``fault`` and return it.

        Raises:
            ValueError: a member out of range (the admin route answers it with 400).
        """
        _check(fault)
        if fault.kind == "down" and fault.until is None:
            fault.until = self.clock() + fault.seconds
        with self._lock:
            self._faults.append(fault)
        return fault

    def down(self, seconds: float) -> Fault:
        """Refuse every connection for ``seconds``."""
        return self.add(Fault(kind="down", seconds=seconds))

    def latency(
        self, seconds: float, *, count: int | None = None, match: str | None = None
    ) -> Fault:
        """Wait ``seconds`` before answering."""
        return self.add(Fault(kind="latency", seconds=seconds, count=count, match=match))

    def rate_limit(
        self,
        retry_after: float = 1.0,
        *,
        count: int | None = 1,
        fraction: float | None = None,
        match: str | None = None,
    ) -> Fault:
        """Answer 429 with ``Retry-After``."""
        return self.add(
            Fault(
                kind="rate_limit",
                retry_after=retry_after,
                count=count,
                fraction=fraction,
                match=match,
            )
        )

    def errors(
        self,
        status: int = 503,
        *,
        count: int | None = 1,
        fraction: float | None = None,
        match: str | None = None,
    ) -> Fault:
        """Answer with a server error status."""
        if not 500 <= status <= 599:
            raise ValueError("errors() injects 5xx statuses; use reject() for a 400")
        return self.add(
            Fault(kind="error", status=status, count=count, fraction=fraction, match=match)
        )

    def drop(
        self, *, count: int | None = 1, fraction: float | None = None, match: str | None = None
    ) -> Fault:
        """Close the connection in the middle of the answer."""
        return self.add(Fault(kind="drop", count=count, fraction=fraction, match=match))

    def reject_submits(self, message: str, *, count: int | None = 1) -> Fault:
        """Answer the next report submits with 400 and ``message``."""
        return self.add(Fault(kind="reject", message=message, count=count, match="/api/report/ws"))

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """The faults still in force."""
        with self._lock:
            self._expire()
            return list(self._faults)

    def down_for(self) -> float:
        """Seconds until the emulator accepts connections again (0 when up)."""
        with self._lock:
            self._expire()
            # Only a whole-server outage closes the listener; a `match`ed one refuses per path.
            deadlines = [
                f.until for f in self._faults if f.kind == "down" and f.until and f.match is None
            ]
        return max((d - self.clock() for d in deadlines), default=0.0)

    def _expire(self) -> None:
        now = self.clock()
        self._faults = [
            f
            for f in self._faults
            if not (f.kind == "down" and f.until is not None and f.until <= now)
            and not (f.count is not None and f.count <= 0)
        ]

    def _take(self, fault: Fault, path: str) -> bool:
        if fault.match is not None and fault.match.lower() not in path.lower():
            return False
        if fault.fraction is not None and self._rng.random() >= fault.fraction:
            return False
        if fault.count is not None:
            if fault.count <= 0:
                return False
            fault.count -= 1
        return True

    def decide(self, method: str, path: str) -> Outcome:
        """Decide the fate of one request (consumes counted faults).

        Latency adds up over all matching latency faults; of the others the first that applies
        in the order down, drop, 429, 5xx, reject wins (whatever order they were added in).
        """
        out = Outcome()
        with self._lock:
            self._expire()
            if not self._faults:
                return out
            for fault in self._faults:
                if fault.kind == "latency" and self._take(fault, path):
                    out.delay += fault.seconds
            submit = method.upper() == "POST" and "/api/report/ws" in path.lower()
            for kind in _PRIORITY:
                if kind == "reject" and not submit:
                    continue
                found = next(
                    (f for f in self._faults if f.kind == kind and self._take(f, path)), None
                )
                if found is None:
                    continue
                fault = found
                if kind == "down":
                    out.refuse = True
                elif kind == "drop":
                    out.drop = True
                elif kind == "rate_limit":
                    out.status = 429
                    out.message = "Too many requests."
                    out.headers["Retry-After"] = _seconds(fault.retry_after)
                elif kind == "error":
                    out.status = fault.status
                    out.message = "The server failed (fault injection)."
                else:
                    out.status = 400
                    out.message = fault.message
                break
            self._expire()
        return out


_PRIORITY: tuple[FaultKind, ...] = ("down", "drop", "rate_limit", "error", "reject")


def _check(fault: Fault) -> None:
    """Refuse a fault the emulator could not carry out (it arrives as JSON from anyone)."""
    # A day is longer than any test waits; a larger number would only overflow timers.
    for name, value in (("seconds", fault.seconds), ("retry_after", fault.retry_after)):
        if not 0 <= value <= 86_400:
            raise ValueError(f"{name} must be between 0 and 86400, not {value}")
    if fault.kind == "error" and not 500 <= fault.status <= 599:
        raise ValueError(f"status must be a 5xx status, not {fault.status}; use kind 'reject'")
    if fault.count is not None and fault.count < 0:
        raise ValueError(f"count must not be negative, not {fault.count}")
    if fault.fraction is not None and not 0 <= fault.fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"

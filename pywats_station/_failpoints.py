"""Failpoints: a test facility that kills the daemon at a named moment (the chaos suite's aim).

The daemon calls ``failpoint("queue.put.after_rename")`` at the boundaries between the phases of
its work (settling, converting, queueing, moving the source, uploading, removing the entry,
reloading the config). Normally that is a no-op: the environment variable is read once, at
import, and with it unset ``failpoint`` returns at its first line and does nothing else.

With ``PYWATS_STATION_FAILPOINTS`` set, the process sends itself SIGKILL at the named point -
no clean-up, no ``finally``, no flush: what ``kill -9`` or an OOM kill would do there. The value
is a comma-separated list of rules:

* ``NAME=N``: die at the N-th time (1, 2, …) the point is reached;
* ``NAME=P`` with a decimal point (``0.25``): die each time with probability P;
* ``seed=S``: seed of the random draws (a run is then repeatable); the default seed is 0.

``NAME`` may end in ``*`` to match every point with that prefix (``queue.*=0.01``). Before dying
the process writes ``failpoint NAME hit`` to stderr, so a test can tell that it was aimed, not
lucky. A malformed value is refused when the module is imported, with the reason.

This is not a feature for stations: nothing in the config or the CLI sets it, and it is named
in ``docs/reliability.md`` as what the chaos tests use.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
from dataclasses import dataclass

__all__ = ["ENV", "FailpointSpecError", "failpoint", "parse"]

ENV = "PYWATS_STATION_FAILPOINTS"


class FailpointSpecError(ValueError):
    """``PYWATS_STATION_FAILPOINTS`` does not parse; the message says which rule and why."""


@dataclass
class _Rule:
    pattern: str
    nth: int | None  # die at this hit
    probability: float | None  # else: die with this probability at each hit
    hits: int = 0

    def matches(self, name: str) -> bool:
        if self.pattern.endswith("*"):
            return name.startswith(self.pattern[:-1])
        return name == self.pattern


class _Plan:
    def __init__(self, rules: list[_Rule], seed: int) -> None:
        self.rules = rules
        self.rng = random.Random(seed)
        self.lock = threading.Lock()  # points are reached from worker threads too

    def due(self, name: str) -> bool:
        with self.lock:
            for rule in self.rules:
                if not rule.matches(name):
                    continue
                rule.hits += 1
                if rule.nth is not None and rule.hits == rule.nth:
                    return True
                if rule.probability is not None and self.rng.random() < rule.probability:
                    return True
        return False


def _rule(name: str, value: str) -> _Rule:
    """One ``NAME=N`` or ``NAME=P`` rule; ValueError says what is wrong with the value."""
    if "." in value:
        p = float(value)
        if not 0.0 <= p <= 1.0:
            raise ValueError("a probability is between 0 and 1")
        return _Rule(name, None, p)
    n = int(value)
    if n < 1:
        raise ValueError("the first hit is 1")
    return _Rule(name, n, None)


def parse(text: str) -> tuple[list[_Rule], int]:
    """The rules and the seed of a ``PYWATS_STATION_FAILPOINTS`` value.

    Raises:
        FailpointSpecError: a rule is not ``NAME=N``, ``NAME=P`` or ``seed=S``.
    """
    rules: list[_Rule] = []
    seed = 0
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name or not value:
            raise FailpointSpecError(f"{ENV}: {part!r} is not NAME=N, NAME=P or seed=S")
        try:
            if name == "seed":
                seed = int(value)
            else:
                rules.append(_rule(name, value))
        except ValueError as exc:
            raise FailpointSpecError(f"{ENV}: {part!r}: {exc}") from None
    return rules, seed


def _load() -> _Plan | None:
    text = os.environ.get(ENV)
    if not text:
        return None
    rules, seed = parse(text)
    return _Plan(rules, seed) if rules else None


_PLAN = _load()


def failpoint(name: str) -> None:
    """Die here (SIGKILL) if the test run asked for it; otherwise nothing. See the module."""
    if _PLAN is None:
        return
    if _PLAN.due(name):
        with contextlib.suppress(OSError, ValueError):  # no stderr: die anyway
            os.write(sys.stderr.fileno(), f"failpoint {name} hit\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)

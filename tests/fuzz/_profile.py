"""How hard the fuzz suite tries: a small, repeatable run in CI; a long one on demand.

``PYWATS_FUZZ_PROFILE`` selects the profile:

* ``ci`` (the default): each test runs its own small ``max_examples``, derandomized (CI sees the
  same cases every time) and without a database, so the suite stays within a couple of minutes;
* ``long``: ``PYWATS_FUZZ_SCALE`` times each test's CI examples (100 unless set), or
  ``PYWATS_FUZZ_EXAMPLES`` per test when that is set; random seeds, and hypothesis's example
  database, so a failure found once is replayed first on the next run. Bound a long run by time
  from outside (``timeout`` per test) and set ``PYWATS_FUZZ_COUNTS`` to a folder: each test then
  keeps its count of examples (and its first failure) there, even when it is stopped.

The profile is applied per test (:func:`fuzz`), never with ``settings.load_profile``: loading a
profile would change the settings of every other hypothesis test in the same session.

Every example runs under :func:`no_hang`, so a decoder stuck in a loop fails as a hang instead of
stalling CI. Failures found by a long run are kept as ``@example`` cases next to the test they
broke (see ``docs/reliability.md``).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings

__all__ = ["HANG_SECONDS", "LONG", "Hang", "fuzz", "no_hang"]

PROFILE = os.environ.get("PYWATS_FUZZ_PROFILE", "ci").strip().lower() or "ci"
if PROFILE not in {"ci", "long"}:
    raise ValueError(f"PYWATS_FUZZ_PROFILE must be 'ci' or 'long', not {PROFILE!r}")
LONG = PROFILE == "long"
LONG_SCALE = int(os.environ.get("PYWATS_FUZZ_SCALE", "100"))
# The CI counts are set by each test's cost, so scaling them keeps the long run's time balanced.
LONG_EXAMPLES = int(os.environ.get("PYWATS_FUZZ_EXAMPLES", "0")) or None
HANG_SECONDS = 20  # one example; every parser here answers a few kilobytes in milliseconds

_F = TypeVar("_F", bound=Callable[..., Any])


def _counted(test: _F) -> _F:
    """Count a long run's examples of ``test`` in ``$PYWATS_FUZZ_COUNTS/<test id>.json``.

    Written at most once a second and on a failure, so a run stopped by a time limit (the way
    a long run is bounded: hypothesis has no time budget of its own) still says how far it got.
    """
    folder = os.environ.get("PYWATS_FUZZ_COUNTS")
    runner = getattr(test, "hypothesis", None)
    if not folder or runner is None:
        return test
    inner = runner.inner_test
    state = {"examples": 0, "failures": 0, "written": 0.0, "started": 0.0}

    def save(failure: str | None = None) -> None:
        node = os.environ.get("PYTEST_CURRENT_TEST", inner.__qualname__).split(" ")[0]
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in node)
        record = {
            "test": node,
            "examples": state["examples"],
            "failures": state["failures"],
            "seconds": round(time.monotonic() - state["started"], 1),
        }
        path = Path(folder, name + ".json")
        if failure is not None:
            record["failure"] = failure
        elif path.exists() and "failure" in json.loads(path.read_text()):
            record["failure"] = json.loads(path.read_text())["failure"]
        # Replaced whole: a run stopped by its time limit never leaves half a file.
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(record))
        partial.replace(path)

    @functools.wraps(inner)
    def count(*args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if not state["started"]:
            state["started"] = now
        state["examples"] += 1
        try:
            return inner(*args, **kwargs)
        except Exception as exc:
            state["failures"] += 1
            save(
                f"{type(exc).__name__}: {exc}"[:2000] + f" | args={args!r} kwargs={kwargs!r}"[:2000]
            )
            raise
        finally:
            if now - state["written"] >= 1.0:
                state["written"] = now
                save()

    runner.inner_test = count
    return test


def fuzz(ci_examples: int) -> Callable[[_F], _F]:
    """The hypothesis settings of one fuzz test: ``ci_examples`` in CI, many more when long."""
    common: dict[str, Any] = {
        "deadline": None,  # a slow example is not a failure; a hung one is (no_hang)
        "suppress_health_check": [
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    }
    if LONG:
        long = settings(max_examples=LONG_EXAMPLES or ci_examples * LONG_SCALE, **common)
        return lambda test: _counted(long(test))
    return settings(
        max_examples=ci_examples,
        derandomize=True,
        database=None,
        # Shrinking a CI failure is left to whoever reproduces it; CI only has to see it.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        **common,
    )


class Hang(Exception):
    """An example outlived :data:`HANG_SECONDS`."""


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail with :class:`Hang` when the body runs longer than ``seconds`` (main thread only;
    elsewhere, without SIGALRM, the body simply runs)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

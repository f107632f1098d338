"""How long ``import pywats`` takes as a whole process, against its floor ``import httpx, msgspec``.

``-X importtime`` counts only the imports; a user waits for the whole process: interpreter start,
imports, and exit (which frees every module object). So this times fresh interpreters, wall
clock, ``python -I -c CODE`` for

* ``pass``: the interpreter alone,
* ``import httpx, msgspec``: the floor, the two libraries pywats depends on,
* ``import pywats``,

interleaved (one of each per round, so drift hits all three alike), and reports the medians and
``pywats / floor``. The goal is at most 1.3x the floor: each domain's models and calls load on
first use, not with ``import pywats``.

Each is timed twice: as this environment has it, and as an environment holding only pywats and
its dependencies would (the "library alone" rows). The difference: ``import httpx`` loads its
command line (click, rich, pygments) when click is installed, as it is here for the station's
terminal UI; that alone takes longer than all of pywats, so it would flatter the ratio. The
library-alone programs make ``import click`` fail first (``sys.modules["click"] = None``), which
is how httpx finds it missing.

With ``--predecessor`` it also times ``import pywats`` of the predecessor (``pywats-api``, in
``bench/.predecessor-venv``, made by ``bench/models.py`` on first use) against its own floor,
``import httpx, pydantic``.

Run with the project's venv: ``.venv/bin/python bench/import_time.py [--runs N] [--predecessor]``.
The report is printed and written to ``bench/.results/import-time.md``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / ".results"
GOAL = 1.3

PROGRAMS = {
    "pass": "pass",
    "floor": "import httpx, msgspec",
    "pywats": "import pywats",
}
ALONE = "import sys; sys.modules['click'] = None; "  # httpx's CLI needs click: it is left out
ALONE_PROGRAMS = {name: ALONE + code for name, code in PROGRAMS.items()}
PREDECESSOR_PROGRAMS = {
    "pass": "pass",
    "floor": "import httpx, pydantic",
    "pywats": "import pywats",
}


def wall_seconds(python: str, code: str) -> float:
    """Wall time of one ``python -I -c code``: start, run, exit."""
    start = time.perf_counter()
    subprocess.run([python, "-I", "-c", code], cwd=RESULTS, check=True)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Timing:
    """Medians (seconds) of one environment's programs."""

    interpreter: float  # ``pass``
    floor: float
    pywats: float
    runs: int

    @property
    def ratio(self) -> float:
        """``import pywats`` over the floor, whole processes."""
        return self.pywats / self.floor

    @property
    def imports(self) -> float:
        """What ``import pywats`` adds to the floor."""
        return self.pywats - self.floor


def measure(python: str, programs: dict[str, str], runs: int, warmup: int = 3) -> Timing:
    """Median wall times of ``programs`` over ``runs`` interleaved rounds (after ``warmup``)."""
    samples: dict[str, list[float]] = {name: [] for name in programs}
    for round_ in range(warmup + runs):
        for name, code in programs.items():
            took = wall_seconds(python, code)
            if round_ >= warmup:  # the first starts fill the OS's file cache
                samples[name].append(took)
    median = {name: statistics.median(values) for name, values in samples.items()}
    return Timing(median["pass"], median["floor"], median["pywats"], runs)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _met(timing: Timing) -> str:
    return "met" if timing.ratio <= GOAL else "not met"


def report(ours: Timing, alone: Timing, theirs: Timing | None, predecessor: str | None) -> str:
    """The Markdown report."""
    lines = [
        "# `import pywats` as a whole process",
        "",
        f"Python {platform.python_version()} on {platform.machine()} {platform.system()}, "
        f"{ours.runs} interleaved rounds of fresh interpreters (`python -I -c …`), medians.",
        "",
        "| program | this environment | library alone (no click/rich) |",
        "| --- | --- | --- |",
        f"| `pass` (the interpreter) | {_ms(ours.interpreter)} | {_ms(alone.interpreter)} |",
        f"| `import httpx, msgspec` (the floor) | {_ms(ours.floor)} | {_ms(alone.floor)} |",
        f"| `import pywats` | {_ms(ours.pywats)} | {_ms(alone.pywats)} |",
        f"| ratio `import pywats` / floor (goal ≤{GOAL}x) | {ours.ratio:.2f}x ({_met(ours)}) "
        f"| {alone.ratio:.2f}x ({_met(alone)}) |",
        f"| what pywats adds to the floor | {_ms(ours.imports)} | {_ms(alone.imports)} |",
    ]
    if theirs is not None:
        lines += [
            "",
            f"Predecessor ({predecessor}), same rounds in its own environment:",
            "",
            "| program | wall |",
            "| --- | --- |",
            f"| `pass` | {_ms(theirs.interpreter)} |",
            f"| `import httpx, pydantic` (its floor) | {_ms(theirs.floor)} |",
            f"| `import pywats` | {_ms(theirs.pywats)} |",
            f"| ratio to its floor | {theirs.ratio:.2f}x |",
            f"| ours (library alone) vs. the predecessor, whole process "
            f"| {theirs.pywats / alone.pywats:.1f}x faster |",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="interleaved rounds (default 40)")
    parser.add_argument(
        "--predecessor", action="store_true", help="also time pywats-api (bench/models.py's venv)"
    )
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    ours = measure(sys.executable, PROGRAMS, args.runs)
    alone = measure(sys.executable, ALONE_PROGRAMS, args.runs)
    theirs = None
    label = None
    if args.predecessor:
        sys.path.insert(0, str(BENCH))
        from models import ensure_predecessor  # the venv mechanism of the models benchmark

        found = ensure_predecessor()
        label = f"pywats-api {found.version}, pydantic {found.pydantic}"
        theirs = measure(str(found.python), PREDECESSOR_PROGRAMS, args.runs)
    text = report(ours, alone, theirs, label)
    (RESULTS / "import-time.md").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput of each built-in converter on real files: files/s, MB/s and peak memory.

Run with the project's venv: ``.venv/bin/python bench/converter_throughput.py`` (``--quick``:
one timed run per input, rough; ``--kinds atml,xjtag``: only those). For each built-in it
takes the largest real file of its format (``../shared/fixtures/real``, or
``PYWATS_REAL_FIXTURES``) and a synthetic one 10 times bigger, made by
``bench/enlarge/<kind>.py`` (``enlarge(data, factor)``; ``enlarge_folder(src, dst, factor)``
for a folder converter). A kind without a real file or without an enlarger is said so in the
report, not left out silently.

Each input is measured in a fresh Python process doing what the converter actor does with it:
``validate()``, then the conversion through
:func:`~pywats_station.converters._placement.convert_builtin` with the default settings (in the
process up to ``child_process_above``, 1 MiB, in a child process above it), then every report
encoded as WSJF for the queue. One warm-up round first (imports, caches), then rounds until at
least 3 and 3 s (``--quick``: one). Reported: files/s and input MB/s of the timed rounds, the
measuring process's peak RSS (``VmHWM``) and the peak of the conversion's child processes
(their ``VmHWM``, polled: see :class:`ChildPeaks`), in MiB. ``auto`` is measured on each
real file too: its extra time is every candidate's ``validate()``.

The report is printed and written to ``bench/.results/converter-throughput.md``; the enlarged
inputs stay in ``bench/.results/converter-throughput-inputs/``. A benchmark, not a test: the
exit status is non-zero only when a measurement crashed. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station import RESULTS, code_description, cpu_model

from pywats.formats import wsjf
from pywats.testing._seed import default_processes

BENCH = Path(__file__).resolve().parent
REAL = Path(
    os.environ.get("PYWATS_REAL_FIXTURES", BENCH.parent.parent / "shared" / "fixtures" / "real")
)
INPUTS = RESULTS / "converter-throughput-inputs"
FACTOR = 10
MB = 10**6
# Where each kind's real files are (its folder of fixtures, and which of them are its own).
FIXTURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "atml": ("atml", (".xml",)),
    "teststand": ("teststand-xml", (".xml",)),
    "teradyne_gr228x": ("teradyne-gr228x", (".log",)),
    "teradyne_spectrum": ("teradyne-spectrum", (".txt",)),
    "spea_3030": ("spea-3030", (".csv",)),
    "xjtag": ("xjtag", (".xjlog", ".xml")),
    "takaya_atd": ("takaya-atd", (".atd",)),
    "klippel": ("klippel", ()),  # a folder: the run folder beside its header
    "wsjf": ("wsjf", (".json",)),
    "wsxf": ("wsjf", (".xml",)),
}
EQUIPMENT = ("atml", "teststand", "teradyne_gr228x", "teradyne_spectrum", "spea_3030", "xjtag",
             "takaya_atd", "klippel")  # fmt: skip
# What a station configures: a process its server knows; a part number where files lack one.
ARGUMENTS: dict[str, dict[str, Any]] = {kind: {"process": 50} for kind in EQUIPMENT}
ARGUMENTS["teststand"]["part_number"] = "TS-BOARD-1"
ARGUMENTS["klippel"]["part_number"] = "SPK-115"
# auto: each file kind's table (klippel reads folders, which auto does not).
ARGUMENTS["auto"] = {kind: args for kind, args in ARGUMENTS.items() if kind != "klippel"}


@dataclass(frozen=True)
class Input:
    """One input to measure: which converter, which file (or folder), and what it is."""

    kind: str
    path: Path
    label: str  # "real" or "10x"

    @property
    def size(self) -> int:
        if self.path.is_dir():
            files = [*self.path.rglob("*"), self.path.with_name(self.path.name + ".txt")]
            return sum(p.stat().st_size for p in files if p.is_file())
        return self.path.stat().st_size


# --------------------------------------------------------------------------------------------
# One measurement, in a fresh process
# --------------------------------------------------------------------------------------------


def _peak_kib(key: str = "VmHWM") -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class ChildPeaks:
    """The largest ``VmHWM`` of this process's children, polled every 10 ms in a thread.

    ``ru_maxrss`` of ``RUSAGE_CHILDREN`` cannot say it: a child started with ``vfork`` (as
    :mod:`subprocess` starts them) counts the parent's peak as its own until it executes.
    Read from ``/proc/<pid>/status`` after the ``exec``, ``VmHWM`` is the child's alone.
    """

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.01):
            for task in Path(f"/proc/{me}/task").iterdir():
                try:
                    pids = (task / "children").read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    self._read(pid)

    def _read(self, pid: str) -> None:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            # Before its exec the child is a copy of this process, with this one's peak.
            if b"pywats_station.converters._child" not in command:
                return
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        except OSError:  # gone meanwhile
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_kib = max(self.peak_kib, int(line.split()[1]))


def measure(kind: str, path: Path, arguments: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Validate, convert and encode ``path`` as the daemon does; timings, outcome, memory."""
    from pywats_station.config import ConverterConfig
    from pywats_station.converters import Converted, Failed, StationInfo, parse_arguments
    from pywats_station.converters._placement import convert_builtin
    from pywats_station.converters.api import ConverterContext
    from pywats_station.converters.registry import BUILTINS
    from pywats_station.converters.sandbox import ContextData, OutputLimits

    defaults = ConverterConfig()
    station = StationInfo(name="bench", location="Lab", purpose="Production")
    processes = default_processes()
    log = logging.getLogger("bench.throughput")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    cls = BUILTINS[kind]
    converter = cls()
    ctx = ConverterContext(station, processes, parse_arguments(cls, arguments), log)
    data = ContextData(station=station, processes=processes, arguments=arguments)
    limits = OutputLimits(
        max_report_size=defaults.max_report_size, max_output_size=defaults.max_output_size
    )

    def once() -> tuple[str, int, int]:
        # A new file each round, as the daemon sees them: auto keeps the ratings of the file it
        # rated last (validate, then convert) and must not keep them from the previous round.
        os.utime(path, ns=(time.time_ns(), time.time_ns()))
        converter.validate(path, ctx)  # type: ignore[union-attr]
        result = convert_builtin(
            converter,
            kind,
            path,
            ctx,
            data,
            limits=limits,
            child_above=defaults.child_process_above,
            timeout=defaults.timeout,
            memory_mb=defaults.memory_mb,
        )
        if isinstance(result, Converted):
            encoded = sum(len(wsjf.dumps(r)) for r in result.reports)
            return "converted", len(result.reports), encoded
        reason = result.reason if isinstance(result, Failed) else type(result).__name__
        return f"not converted: {reason}", 0, 0

    baseline = _peak_kib("VmRSS")
    with ChildPeaks() as children:
        outcome = once()  # warm-up: imports, caches
        rounds, started = 0, time.perf_counter()
        while True:
            outcome = once()
            rounds += 1
            elapsed = time.perf_counter() - started
            if quick or (rounds >= 3 and elapsed >= 3.0) or rounds >= 50 or elapsed >= 30.0:
                break
    return {
        "outcome": outcome[0],
        "reports": outcome[1],
        "wsjf_bytes": outcome[2],
        "rounds": rounds,
        "seconds": elapsed,
        "baseline_kib": baseline,
        "peak_kib": _peak_kib(),
        "child_peak_kib": children.peak_kib,
    }


def run_one(item: Input, quick: bool) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter, so that each peak is its own."""
    request = {"kind": item.kind, "path": str(item.path), "quick": quick,
               "arguments": ARGUMENTS.get(item.kind, {})}  # fmt: skip
    done = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(request)],
        capture_output=True,
        text=True,
        cwd=BENCH,
        timeout=900,
    )
    if done.returncode != 0:
        return {"outcome": f"crashed: {done.stderr.strip().splitlines()[-1:]}"}
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


# --------------------------------------------------------------------------------------------
# The inputs
# --------------------------------------------------------------------------------------------


def largest_real(kind: str) -> Path | None:
    """The largest real file (or run folder) of ``kind``'s format, if the fixtures have one."""
    folder, suffixes = FIXTURES.get(kind, ("", ()))
    base = REAL / folder
    if not folder or not base.is_dir():
        return None
    if not suffixes:  # a folder format: the sub-folders are the runs
        runs = [p for p in base.iterdir() if p.is_dir()]
        return max(runs, key=lambda p: Input(kind, p, "").size, default=None)
    files = [p for p in base.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    return max(files, key=lambda p: p.stat().st_size, default=None)


def copied(kind: str, real: Path) -> Path:
    """A copy of a real input to measure (its times are touched; the fixtures stay as they are).

    A folder is copied with its companion header beside it.
    """
    INPUTS.mkdir(parents=True, exist_ok=True)
    target = INPUTS / f"{kind}-real-{real.name}"
    if real.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(real, target)
        header = real.with_name(real.name + ".txt")
        if header.is_file():
            shutil.copyfile(header, target.with_name(target.name + ".txt"))
    else:
        shutil.copyfile(real, target)
    return target


def enlarged(kind: str, real: Path) -> Path | str:
    """``real`` made :data:`FACTOR` times bigger by ``bench/enlarge/<kind>.py``, or why not."""
    try:
        module = importlib.import_module(f"enlarge.{kind}")
    except ModuleNotFoundError:
        return f"no bench/enlarge/{kind}.py"
    INPUTS.mkdir(parents=True, exist_ok=True)
    target = INPUTS / f"{kind}-x{FACTOR}-{real.name}"
    if real.is_dir():
        if target.exists():
            shutil.rmtree(target)
        target.with_name(target.name + ".txt").unlink(missing_ok=True)
        module.enlarge_folder(real, target, FACTOR)
    else:
        target.write_bytes(module.enlarge(real.read_bytes(), FACTOR))
    return target


def inputs(kinds: list[str]) -> tuple[list[Input], list[str]]:
    """What to measure, and what cannot be (said in the report)."""
    found: list[Input] = []
    notes: list[str] = []
    for kind in kinds:
        if kind == "auto":
            continue  # measured on every other kind's real file
        real = largest_real(kind)
        if real is None:
            notes.append(f"`{kind}`: no real file among the fixtures; not measured")
            continue
        found.append(Input(kind, copied(kind, real), "real"))
        big = enlarged(kind, real)
        if isinstance(big, str):
            notes.append(f"`{kind}`: {big}, so no {FACTOR}x input")
        else:
            found.append(Input(kind, big, f"{FACTOR}x"))
        if "auto" in kinds and not real.is_dir():
            found.append(Input("auto", copied("auto", real), f"real ({kind})"))
    return found, notes


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def row(item: Input, got: dict[str, Any]) -> str:
    real = item.label == "real" or item.kind == "auto"
    name = item.path.name.split("-real-", 1)[-1] if real else f"{FACTOR}x"
    size = f"{item.size / MB:.2f}" if item.size >= 10_000 else f"{item.size / MB:.4f}"
    if "seconds" not in got:
        return f"| {item.kind} | {name} | {size} | — | — | — | — | — | {got['outcome']} |"
    per_file = got["seconds"] / got["rounds"]
    child = mib(got["child_peak_kib"]) if got["child_peak_kib"] else "—"
    outcome = f"{got['reports']} report(s)" if got["outcome"] == "converted" else got["outcome"]
    return (
        f"| {item.kind} | {name} | {size} | {per_file * 1000:,.1f} | {1 / per_file:,.1f} | "
        f"{item.size / MB / per_file:,.2f} | {mib(got['peak_kib'])} | {child} | {outcome} |"
    )


def render(items: list[tuple[Input, dict[str, Any]]], notes: list[str], quick: bool,
           load: tuple[str, str]) -> str:  # fmt: skip
    out = ["# Built-in converters: throughput\n"]
    out.append(f"- machine: `{platform.platform()}`, {os.cpu_count()} CPUs ({cpu_model()})")
    out.append(f"- Python {platform.python_version()}; code: {code_description()}")
    out.append(
        f"- run: {'--quick (one round each, rough)' if quick else 'full'}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {load[0]} before, {load[1]} after"
    )
    out.append("")
    out.append("| kind | input | MB | ms/file | files/s | MB/s | peak MiB | child MiB | outcome |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    out += [row(item, got) for item, got in items]
    if notes:
        out += ["", *(f"- {note}" for note in notes)]
    return "\n".join(out) + "\n"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Measure every built-in (or ``--kinds``), print the report and write it to the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one timed round per input")
    parser.add_argument("--kinds", help="comma-separated kinds (default: every built-in)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, as JSON
    args = parser.parse_args(argv)
    if args.one:
        request = json.loads(args.one)
        got = measure(request["kind"], Path(request["path"]), request["arguments"],
                      request["quick"])  # fmt: skip
        print(json.dumps(got))
        return 0
    from pywats_station.converters.registry import BUILTINS

    kinds = args.kinds.split(",") if args.kinds else [k for k in BUILTINS if k != "csv"]
    notes = (
        [] if args.kinds else ["`csv`: a mapping for any table, no format of its own: not measured"]
    )
    before = load_average()
    todo, more = inputs(kinds)
    notes += more
    measured = []
    for item in todo:
        print(f"{item.kind} {item.label} {item.path.name} …", file=sys.stderr, flush=True)
        measured.append((item, run_one(item, args.quick)))
    report = render(measured, notes, args.quick, (before, load_average()))
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "converter-throughput.md").write_text(report, encoding="utf-8")
    return 1 if any(got["outcome"].startswith("crashed") for _, got in measured) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Memory of each built-in converter against the size of its input: the peak, and what stays.

Run with the project's venv: ``.venv/bin/python bench/converter_memory.py`` (``--quick``: the
1 MB inputs and the sample files only; ``--no-daemon``: part 1 only; ``--commit REV``: measure a
commit, exported to ``bench/.results/``, rather than a working tree others may be editing;
``--before REV``: part 2 also runs the daemon of an earlier commit, for the figures before).

Part 1: one fresh process per measurement, doing with one input what the daemon's converter
actor does (``validate()`` and the conversion in a trio worker thread, then the reports encoded
for the queue), with the converter's default settings, in four placements:

* ``child`` — as shipped: ``convert_builtin``; inputs up to ``child_process_above`` (1 MiB) in
  the worker thread, bigger ones (or ones making more WSJF than that) in a child process, and
  once the reports a child sent back are dropped, ``release_memory()`` (glibc's ``malloc_trim``);
* ``child, no release`` — the same without the release: what the child process alone does;
* ``thread`` — everything in the worker thread (``child_process_above`` raised to 1 GiB), as
  built-ins ran before (with this version's streaming and caps);
* ``thread+trim`` — the same, then ``malloc_trim(0)`` once the reports are dropped: the other
  obvious way to give a grown heap back.

Measured: the process's RSS at rest before the input, its peak (``VmHWM``), the peak of the
conversion's child process (``ru_maxrss`` of ``RUSAGE_CHILDREN``), and its RSS 1 s after the
reports were dropped (the event loop running, as in the daemon). Inputs: each converter's own
format at 1, 10 and 50 MB, and the largest real file it reads (``../shared/fixtures/real``; the
repository's samples where no real file exists). Sizes are MB of 10**6 bytes; memory is MiB.

Part 2: the real daemon (``pywats-station run``, offline, one converter) taking a 50 MB CSV and
a 10 MB WSJF file, as shipped, with everything in its thread, and (``--before``) as an earlier
commit ran it: its RSS before, its peak, and its RSS 2 s after the file was done.

The report is printed and written to ``bench/.results/converter-memory.md``; the generated
inputs stay in ``bench/.results/converter-memory-inputs/``. A benchmark, not a test: the exit
status is non-zero only when something crashed. Linux only (``/proc``, glibc).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station import (
    CODE_ENV,
    RESULTS,
    Daemon,
    Processes,
    closed_port,
    code_description,
    export_commit,
    wait_for,
)

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf, wsxf

INPUTS = RESULTS / "converter-memory-inputs"
WORK = RESULTS / "converter-memory-work"
SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "station" / "converters" / "data"
REAL = Path(
    os.environ.get(
        "PYWATS_REAL_FIXTURES",
        Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real",
    )
)
MB = 10**6
SIZES = (1 * MB, 10 * MB, 50 * MB)
PLACEMENTS = ("child", "child, no release", "thread", "thread+trim")
IN_THREAD = 1 << 30  # child_process_above for the thread placements: nothing goes to a child

CSV_HEADER = {"part_number": "PCBA-1", "revision": "A", "process_code": 10}
WSTF_HEAD = (
    "--Header-Start--\nSerialNumber\tSN-1\nPartNumber\tPCBA-1\nRevision\tA\n"
    "OperationTypeCode\t10\n--Header-End--\n--Step-Data-Start--\n"
)


@dataclass(frozen=True)
class Case:
    """A converter with its arguments, how to make an input of a size, and its real file."""

    name: str
    kind: str
    arguments: dict[str, Any]
    suffix: str
    make: Callable[[Path, int], None]
    real: Path
    real_arguments: dict[str, Any] | None = None  # for the real (or sample) file, if others


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def write_rows(path: Path, size: int, head: str, row: Callable[[int], str], tail: str = "") -> None:
    """``head``, then rows until the file has ``size`` bytes, then ``tail``."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head)
        written, n = len(head), 0
        while written < size - len(tail):
            line = row(n)
            out.write(line)
            written += len(line)
            n += 1
        out.write(tail)


def csv_steps(path: Path, size: int) -> None:
    write_rows(
        path,
        size,
        "SerialNumber;Sequence;Step;Value;Low;High;Unit\n",
        lambda n: f"SN-4711;Seq{n % 100};Step{n};{3.3 + n % 7 / 1000:.4f};3.2;3.4;V\n",
    )


def csv_units(path: Path, size: int) -> None:
    write_rows(
        path, size, "SerialNumber;V1;V2;Result\n", lambda n: f"SN-{n:08d};3.301;5.002;PASS\n"
    )


def wstf(path: Path, size: int) -> None:
    write_rows(
        path,
        size,
        WSTF_HEAD,
        lambda n: f"NumericLimitTest\tStep {n}\t\t{n % 97}.5\t0\t100\tGELE\tV\tPassed\n",
        "--Step-Data-End--\nUUTStatus\tPassed\n--UUT-End--\n",
    )


def _template() -> bytes:
    builder = ReportBuilder.uut(
        pn="PCBA-1", sn="SN-1", rev="A", process_code=10, station="bench", location="Lab",
        purpose="Production",
    )  # fmt: skip
    builder.root.numeric("Step 0", 3.31, CompOp.GELE, low=3.2, high=3.4, unit="V")
    return wsjf.dumps(builder.build())


def one_report(path: Path, size: int, encode: Callable[[bytes], bytes], step: bytes) -> None:
    """One report of about ``size`` bytes: the template's step repeated, renamed."""
    template = encode(_template())
    start = template.index(step)
    end = start + len(step)
    with path.open("wb") as out:
        out.write(template[:end])
        written, n = end, 1
        while written < size:
            copy = (
                step.replace(b"Step 0", f"Step {n}".encode())
                .replace(b'"id":2,', f'"id":{n + 2},'.encode())  # WSJF
                .replace(b'Id="2"', f'Id="{n + 2}"'.encode())  # WSXF
            )
            out.write(b"," + copy if encode is _json else copy)
            written += len(copy) + 1
            n += 1
        out.write(template[end:])


def _json(data: bytes) -> bytes:
    return data


def _step_json() -> bytes:
    data = _template()
    start = data.index(b'{"id":2,')
    depth = 0
    for end in range(start, len(data)):
        depth += {ord("{"): 1, ord("}"): -1}.get(data[end], 0)
        if depth == 0:
            return data[start : end + 1]
    raise AssertionError("no step")


def wsjf_file(path: Path, size: int) -> None:
    one_report(path, size, _json, _step_json())


def _xml(data: bytes) -> bytes:
    return wsxf.dumps(wsjf.loads(data))


def _step_xml() -> bytes:
    data = _xml(_template())
    start = data.rindex(b"<Step ", 0, data.index(b'Name="Step 0"'))
    end = data.index(b"</Step>", start) + len(b"</Step>")
    return data[start:end]


def wsxf_file(path: Path, size: int) -> None:
    one_report(path, size, _xml, _step_xml())


CASES = (
    Case(
        "csv steps",
        "csv",
        CSV_HEADER,
        "csv",
        csv_steps,
        SAMPLES / "csv_steps.csv",
        {**CSV_HEADER, "skip_rows": 1},
    ),
    Case(
        "csv units",
        "csv",
        {**CSV_HEADER, "layout": "units"},
        "csv",
        csv_units,
        SAMPLES / "csv_units.tsv",
        {"layout": "units", "part_number": "PSU-12", "process_code": 50},
    ),
    Case("wsjf", "wsjf", {}, "json", wsjf_file, REAL / "wsjf" / "new_report_example.json"),
    Case("wsxf", "wsxf", {}, "xml", wsxf_file, REAL / "wsjf" / "uut-wsxf-export.xml"),
    Case("wstf", "wstf", {}, "txt", wstf, SAMPLES / "wstf_multi.txt"),
)


def input_file(case: Case, size: int | None) -> Path:
    """The input of ``size`` bytes (made once, then reused), or the real file (``None``)."""
    if size is None:
        return case.real
    path = INPUTS / f"{case.name.replace(' ', '-')}-{size // MB}MB.{case.suffix}"
    if not path.exists():
        INPUTS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        case.make(partial, size)
        partial.rename(path)
    return path


# --------------------------------------------------------------------------------------------
# Part 1: one input in a process that does what the daemon does
# --------------------------------------------------------------------------------------------


def status_kib(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def worker(request: dict[str, Any]) -> dict[str, Any]:
    """Convert one input as the converter actor does; return the memory figures (KiB)."""
    import logging

    import trio

    import pywats_station.daemon  # noqa: F401 - what the daemon has loaded, for its baseline
    from pywats.models.app import Process
    from pywats_station.config import ConverterConfig
    from pywats_station.converters import (
        Converted,
        ConverterContext,
        FileConverter,
        parse_arguments,
    )
    from pywats_station.converters._placement import convert_builtin, release_soon
    from pywats_station.converters.api import StationInfo
    from pywats_station.converters.registry import create_converter
    from pywats_station.converters.sandbox import ContextData, OutputLimits

    kind, path = request["kind"], Path(request["path"])
    placement = request["placement"]
    cfg = ConverterConfig(name="bench", kind=kind, watch=str(path.parent))
    converter = create_converter(kind)
    assert isinstance(converter, FileConverter)
    station = StationInfo(name="bench", location="Lab", purpose="Production")
    processes = [Process(code=10, name="SW Debug"), Process(code=50, name="PCBA test")]
    ctx = ConverterContext(
        station=station,
        processes=processes,
        arguments=parse_arguments(type(converter), request["arguments"]),
        log=logging.getLogger("bench"),
    )
    data = ContextData(station=station, processes=processes, arguments=request["arguments"])
    limits = OutputLimits(
        max_report_size=cfg.max_report_size,
        max_output_size=cfg.max_output_size,
        settings="converters.bench",
    )
    child_above = cfg.child_process_above if placement.startswith("child") else IN_THREAD
    gc.collect()
    rest = status_kib("VmRSS")
    # Importing trio ran ldconfig: a child's peak shows only when it exceeds that one's.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()

    async def handle() -> tuple[str, float, int]:
        token = trio.lowlevel.current_trio_token()
        release = release_soon(token) if placement == "child" else None
        outcome, seconds = await convert(release)
        if placement == "thread+trim":
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        await trio.sleep(1.0)  # the daemon goes on; a scheduled release runs meanwhile
        gc.collect()
        return outcome, seconds, status_kib("VmRSS")

    async def convert(release: Callable[[], None] | None) -> tuple[str, float]:
        validation = await trio.to_thread.run_sync(converter.validate, path, ctx)
        result = await trio.to_thread.run_sync(
            lambda: convert_builtin(
                converter,
                kind,
                path,
                ctx,
                data,
                limits=limits,
                child_above=child_above,
                timeout=cfg.timeout,
                memory_mb=cfg.memory_mb,
                on_release=release,
            )
        )
        del validation
        if not isinstance(result, Converted):
            reason = getattr(result, "reason", "")
            return f"{type(result).__name__.lower()}: {reason}", time.perf_counter() - started
        # What the actor's _enqueue does before the queue writes them; then all is dropped.
        payloads = [(str(r.id), wsjf.dumps(r)) for r in result.reports]
        size = sum(len(p) for _, p in payloads)
        outcome = f"{len(payloads):,} report(s), {size / MB:.1f} MB WSJF"
        return outcome, time.perf_counter() - started

    outcome, seconds, after = trio.run(handle)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "rest": rest,
        "peak": status_kib("VmHWM"),
        "child": children if children > children_before else 0,
        "after": after,
        "outcome": outcome,
        "seconds": seconds,
    }


@dataclass(frozen=True)
class Measured:
    """One input in one placement."""

    case: str
    label: str  # "1 MB", "real: name"
    size: int
    placement: str
    rest: int
    peak: int
    child: int
    after: int
    outcome: str
    seconds: float


def measure(case: Case, size: int | None, placement: str) -> Measured:
    """Run one worker process and read its figures."""
    path = input_file(case, size)
    arguments = case.real_arguments if size is None and case.real_arguments else case.arguments
    request = {
        "kind": case.kind,
        "arguments": arguments,
        "path": str(path),
        "placement": placement,
    }
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(request)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker failed for {case.name} {path.name}:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    label = f"{size // MB} MB" if size is not None else f"{path.name} ({path.stat().st_size:,} B)"
    return Measured(
        case.name, label, path.stat().st_size, placement, figures["rest"], figures["peak"],
        figures["child"], figures["after"], figures["outcome"], figures["seconds"],
    )  # fmt: skip


def part_one(quick: bool) -> list[Measured]:
    sizes: tuple[int | None, ...] = (None, SIZES[0]) if quick else (None, *SIZES)
    results = []
    for case in CASES:
        for size in sizes:
            if size is None and not case.real.is_file():
                print(f"  {case.name}: no file {case.real}", file=sys.stderr)
                continue
            for placement in PLACEMENTS:
                found = measure(case, size, placement)
                print(
                    f"  {case.name:9} {found.label:38} {placement:17} peak {mib(found.peak):7.1f}"
                    f" child {mib(found.child):7.1f} after {mib(found.after):6.1f} MiB "
                    f"{found.seconds:5.1f} s {found.outcome[:60]}",
                    file=sys.stderr,
                )
                results.append(found)
    return results


def mib(kib: int) -> float:
    return kib / 1024


# --------------------------------------------------------------------------------------------
# Part 2: the real daemon
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InDaemon:
    """The daemon taking one input."""

    case: str
    size: int
    placement: str
    rest: int
    peak: int
    after: int
    outcome: str


def daemon_run(
    procs: Processes, url: str, case: Case, size: int, placement: str, code: Path | None = None
) -> InDaemon:
    """One daemon, one converter, one input dropped into its watch folder; ``code``: the
    daemon runs the code exported there (``--before``) instead of this one."""
    home = WORK / f"{case.name.replace(' ', '-')}-{placement.replace(' ', '-')}"
    inbox = home / "inbox"
    args = "".join(f"{key} = {json.dumps(value)}\n" for key, value in case.arguments.items())
    extra = (
        f'[[converters]]\nname = "bench"\nkind = "{case.kind}"\nwatch = "{inbox}"\n'
        'settle = 0.2\npost_action = "delete"\n'
        + (f"child_process_above = {IN_THREAD}\n" if placement == "thread" else "")
        + "[converters.arguments]\n"
        + args
    )
    daemon: Daemon = procs.new(home, url, extra_config=extra)
    inbox.mkdir(parents=True)
    saved = os.environ.get("PYTHONPATH")
    if code is not None:  # the daemon's environment is made from ours
        os.environ["PYTHONPATH"] = str(code)
    try:
        daemon.start()
    finally:
        if code is not None:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
    try:

        def stats() -> dict[str, Any]:
            converters = daemon.status().get("converters") or [{}]
            found: dict[str, Any] = converters[0]
            return found

        wait_for(lambda: stats().get("state") == "watching", 60, "the converter", daemon)
        time.sleep(2.0)  # settled after start-up
        rest = status_kib("VmRSS", daemon.pid)
        source = input_file(case, size)
        staged = home / ("staged." + case.suffix)
        shutil.copyfile(source, staged)
        staged.rename(inbox / f"input.{case.suffix}")
        wait_for(
            lambda: stats().get("converted", 0) + stats().get("failed", 0) >= 1,
            600,
            "the conversion",
            daemon,
        )
        time.sleep(2.0)
        after = status_kib("VmRSS", daemon.pid)
        peak = status_kib("VmHWM", daemon.pid)
        found = stats()
        outcome = (
            f"{found.get('reports', 0):,} report(s) queued"
            if found.get("converted")
            else f"refused: {found.get('last_error')}"
        )
        daemon.terminate()
    finally:
        daemon.kill()
    return InDaemon(case.name, size, placement, rest, peak, after, outcome)


def part_two(before: str | None) -> list[InDaemon]:
    procs = Processes()
    runs = []
    placements: list[tuple[str, Path | None]] = [("child", None), ("thread", None)]
    if before:
        sha, exported = export_commit(before)
        placements.append((f"{sha} (before)", exported))
    try:
        with closed_port() as url:
            for case, size in ((CASES[0], 50 * MB), (CASES[2], 10 * MB)):
                for placement, code in placements:
                    run = daemon_run(procs, url, case, size, placement, code)
                    print(
                        f"  daemon {case.name} {size // MB} MB {placement}: rest "
                        f"{mib(run.rest):.1f} peak {mib(run.peak):.1f} after {mib(run.after):.1f} "
                        f"MiB; {run.outcome[:60]}",
                        file=sys.stderr,
                    )
                    runs.append(run)
    finally:
        procs.kill_all()
    return runs


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def short(outcome: str) -> str:
    """The outcome in a table cell: the limit named, or the reports made."""
    for key in ("max_report_size", "max_output_size"):
        if key in outcome:
            return f"refused ({key})"
    return outcome.replace("|", "/")[:60]


def render(one: list[Measured], two: list[InDaemon], quick: bool) -> str:
    lines = [
        "# Converter memory: peak and remaining RSS against input size",
        "",
        f"- code: {code_description()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"- run: {'quick' if quick else 'full'}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load "
        f"average at the end {os.getloadavg()[0]:.2f}",
        "",
        "## 1. One input, in a process doing what the daemon does (MiB)",
        "",
        "| converter | input | placement | at rest | peak | child's peak | after | outcome "
        "| seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in one:
        child = f"{mib(m.child):.1f}" if m.child else "—"
        lines.append(
            f"| {m.case} | {m.label} | {m.placement} | {mib(m.rest):.1f} | {mib(m.peak):.1f} | "
            f"{child} | {mib(m.after):.1f} | {short(m.outcome)} | {m.seconds:.1f} |"
        )
    if two:
        lines += [
            "",
            "## 2. The daemon (`pywats-station run`, offline) taking one input (MiB)",
            "",
            "| input | placement | before | peak (VmHWM) | 2 s after | outcome |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for d in two:
            lines.append(
                f"| {d.case}, {d.size // MB} MB | {d.placement} | {mib(d.rest):.1f} | "
                f"{mib(d.peak):.1f} | {mib(d.after):.1f} | {short(d.outcome)} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the parts, print the report and write it to ``bench/.results/converter-memory.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 MB inputs and real files only")
    parser.add_argument("--no-daemon", action="store_true", help="part 1 only")
    parser.add_argument("--commit", metavar="REV", help="measure the committed code of REV")
    parser.add_argument("--before", metavar="REV", help="part 2: also the daemon of REV")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if not sys.platform.startswith("linux"):
        print("bench/converter_memory.py needs Linux (/proc, glibc)", file=sys.stderr)
        return 2
    if args.commit and CODE_ENV not in os.environ:
        sha, code = export_commit(args.commit)
        # Start again with the exported code first on the path, for this process and every
        # process it starts (workers, daemons): nothing of the working tree is imported then.
        path = os.pathsep.join(p for p in (str(code), os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, CODE_ENV: sha}
        again = [sys.executable, str(Path(__file__).resolve()), *(argv or sys.argv[1:])]
        os.execve(sys.executable, again, env)
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.perf_counter()
    print("1. one input per process…", file=sys.stderr)
    one = part_one(args.quick)
    two: list[InDaemon] = []
    if not args.no_daemon and not args.quick:
        print("2. the daemon…", file=sys.stderr)
        two = part_two(args.before)
    report = render(one, two, args.quick)
    (RESULTS / "converter-memory.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

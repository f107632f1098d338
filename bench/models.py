"""Benchmark pywats (this repository) against its predecessor, the PyPI package ``pywats-api``.

Run with the project's venv: ``.venv/bin/python bench/models.py`` (``--quick`` for a smoke run).

Three parts, each timed alternately for both libraries over several rounds:

A. report models: parse, serialise and parse+serialise of the real WSJF exports and of a
   generated report with 10,000 steps (ours: ``pywats.formats.wsjf``; theirs: pydantic
   ``model_validate_json``/``model_dump_json``);
B. ``import pywats`` time (``-X importtime`` and wall clock);
C. the cost of one blocking call (``GET /api/App/Version``) against a local keep-alive server,
   beside a bare ``httpx.Client`` doing the same request.

``pywats-api`` also imports as ``pywats``, so it lives in ``bench/.predecessor-venv`` (made on
first use, reused afterwards; delete the folder to get its latest release) and its half of every
measurement runs in a subprocess, ``bench/_predecessor_half.py``. The report is printed and
written to ``bench/.results/models.md``. This is a benchmark, not a test: the targets are shown
as met or not met, and the exit status is non-zero only when something crashed.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as dist_version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

# Running ``python bench/models.py`` puts bench/ on sys.path: both halves share one timing loop.
from _predecessor_half import best_per_op, first_line

import pywats
from pywats.formats import wsjf
from pywats.models.report import (
    BooleanMeasurement,
    NumericMeasurement,
    SequenceCall,
    Step,
    StringMeasurement,
    UUTInfo,
    UUTReport,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".predecessor-venv"
RESULTS = BENCH / ".results"
HALF = BENCH / "_predecessor_half.py"
# Same location rule as tests/fixtures.py: ../shared/fixtures/real beside the repository.
REAL = Path(os.environ.get("PYWATS_REAL_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))
WSJF_FILES = ("uut-wsjf-export.json", "new_report_example.json", "uur_example.json")
TARGET_FILE = "uut-wsjf-export.json"

# Shape of the generated report: OUTER sequences of INNER sequences of LEAVES steps each.
OUTER, INNER, LEAVES = 10, 9, 110
GENERATED_STEPS = OUTER + OUTER * INNER + OUTER * INNER * LEAVES  # 10,000 below the root

SERVER_VERSION = "2026.1.5.324"
TOKEN = base64.b64encode(b"bench:bench").decode("ascii")

TARGET_MODELS = 10.0  # parse+serialise of the real UUT export: at least this many times faster
TARGET_IMPORT = 3.0  # `import pywats`: at least this many times faster
TARGET_CALL = 1.15  # one sync call: at most this multiple of a bare httpx.Client call


@dataclass(frozen=True)
class Settings:
    """How much to measure; ``--quick`` trades precision for a run of a few seconds."""

    rounds: int  # alternations ours/theirs; the report shows the median over rounds
    repeat: int  # samples per round; a round keeps its best
    sample_seconds: float  # aim for samples this long, so the timer's resolution is negligible
    import_runs: int  # best of this many interpreter starts
    calls: int  # sequential calls per client and round
    warmup: int  # calls before timing (connection set up, code paths warm)


FULL = Settings(rounds=5, repeat=3, sample_seconds=0.03, import_runs=7, calls=1000, warmup=200)
QUICK = Settings(rounds=2, repeat=1, sample_seconds=0.002, import_runs=2, calls=100, warmup=20)


# --------------------------------------------------------------------------------------------
# The predecessor's environment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predecessor:
    """The predecessor's interpreter and what is installed in it."""

    python: Path
    version: str
    pydantic: str
    httpx: str
    python_version: str


def venv_python(venv: Path) -> Path:
    """The interpreter of a virtual environment."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def run_half(python: Path, *args: str) -> dict[str, Any]:
    """Run one command of ``_predecessor_half.py`` and return its JSON answer.

    ``-I`` (isolated: no script folder, no working directory, no ``PYTHON*`` variables on the
    path) so that nothing but the venv's ``pywats`` can be imported as ``pywats``.

    Raises:
        RuntimeError: the half exited with an error (a crash, not a rejected file).
    """
    proc = subprocess.run(
        [str(python), "-I", str(HALF), *args],
        capture_output=True,
        text=True,
        cwd=RESULTS,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"predecessor half `{args[0]}` failed:\n{proc.stderr.strip()[-3000:]}")
    # The answer is the last line: anything the predecessor may print before it is ignored.
    answer: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answer


def predecessor_info(python: Path) -> Predecessor:
    """Ask the venv what it has; raises when ``pywats`` does not import there."""
    info = run_half(python, "version")
    return Predecessor(
        python=python,
        version=str(info["version"]),
        pydantic=str(info["pydantic"]),
        httpx=str(info["httpx"]),
        python_version=str(info["python"]),
    )


def ensure_predecessor() -> Predecessor:
    """Reuse ``bench/.predecessor-venv`` when it works, else (re)create it with ``pywats-api``."""
    python = venv_python(VENV)
    if python.exists():
        try:
            found = predecessor_info(python)
        except (RuntimeError, ValueError, KeyError) as exc:
            print(f"predecessor venv is broken ({exc}); recreating it", file=sys.stderr)
            shutil.rmtree(VENV)
        else:
            print(f"predecessor: reusing {VENV} (pywats-api {found.version})", file=sys.stderr)
            return found
    print(f"predecessor: creating {VENV} and installing pywats-api…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "pywats-api",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if pip.returncode != 0:
        raise RuntimeError(f"pip install pywats-api failed:\n{pip.stdout}\n{pip.stderr}")
    found = predecessor_info(python)
    print(f"predecessor: installed pywats-api {found.version}", file=sys.stderr)
    return found


# --------------------------------------------------------------------------------------------
# Part A: report models
# --------------------------------------------------------------------------------------------


def _generate_with_builder(rng: random.Random) -> UUTReport:
    """The generated report through :class:`pywats.ReportBuilder` (numbers and statuses)."""
    from pywats.models.report import CompOp
    from pywats.report_builder import ReportBuilder

    builder = ReportBuilder.uut(
        pn="BENCH-PN",
        sn="BENCH-SN-0001",
        rev="A",
        process_code=10,
        station="BENCH",
        location="Lab",
        purpose="Development",
        operator="bench",
        # Fixed id and time: the file is the same bytes on every run.
        start=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        report_id=uuid.UUID(int=1),
    )
    for o in range(OUTER):
        outer = builder.root.sequence(f"Block {o}")
        for i in range(INNER):
            inner = outer.sequence(f"Block {o}.{i}")
            for k in range(LEAVES):
                if k % 3 == 0:
                    value = round(rng.uniform(3.2, 3.4), 4)
                    inner.numeric(f"V{k}", value, CompOp.GELE, low=3.2, high=3.4, unit="V")
                elif k % 3 == 1:
                    inner.pass_fail(f"P{k}", True)
                else:
                    inner.string(f"S{k}", "FW-1.2.3", CompOp.EQ, limit="FW-1.2.3")
    return builder.build()


def _generate_with_structs(rng: random.Random) -> UUTReport:
    """The same report built from the model Structs, for trees without the report builder."""
    next_id = iter(range(1, GENERATED_STEPS + 2))

    def sequence(name: str, steps: list[Step]) -> Step:
        return Step(
            id=next(next_id),
            group="M",
            step_type="SequenceCall",
            name=name,
            status="P",
            seq_call=SequenceCall(name=name),
            steps=steps,
        )

    def leaf(k: int) -> Step:
        step_id = next(next_id)
        if k % 3 == 0:
            value = round(rng.uniform(3.2, 3.4), 4)
            meas = NumericMeasurement(
                status="P", value=value, unit="V", comp_op="GELE", low_limit=3.2, high_limit=3.4
            )
            return Step(
                id=step_id,
                group="M",
                step_type="ET_NLT",
                name=f"V{k}",
                status="P",
                numeric_meas=[meas],
            )
        if k % 3 == 1:
            return Step(
                id=step_id,
                group="M",
                step_type="ET_PFT",
                name=f"P{k}",
                status="P",
                boolean_meas=[BooleanMeasurement(status="P")],
            )
        text = StringMeasurement(status="P", value="FW-1.2.3", limit="FW-1.2.3", comp_op="EQ")
        return Step(
            id=step_id,
            group="M",
            step_type="ET_SVT",
            name=f"S{k}",
            status="P",
            string_meas=[text],
        )

    # Ids are handed out depth-first in pre-order, as the server numbers steps: a parent takes
    # its id before its children, hence the explicit loops instead of nested comprehensions.
    root = sequence("MainSequence Callback", [])
    root.steps = []
    for o in range(OUTER):
        outer = sequence(f"Block {o}", [])
        root.steps.append(outer)
        for i in range(INNER):
            inner = sequence(f"Block {o}.{i}", [])
            assert outer.steps is not None
            outer.steps.append(inner)
            inner.steps = [leaf(k) for k in range(LEAVES)]
    return UUTReport(
        id=uuid.UUID(int=1),
        pn="BENCH-PN",
        sn="BENCH-SN-0001",
        rev="A",
        process_code=10,
        result="P",
        machine_name="BENCH",
        location="Lab",
        purpose="Development",
        start=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        uut=UUTInfo(user="bench"),
        root=root,
    )


def generate_report() -> bytes:
    """The generated report as WSJF bytes: the report builder when this tree has one."""
    rng = random.Random(20260105)  # fixed seed: same measurements on every run
    try:
        report = _generate_with_builder(rng)
    except ImportError:
        report = _generate_with_structs(rng)
    return wsjf.dumps(report)


@dataclass(frozen=True)
class Fixture:
    """One WSJF document both halves parse (the very same file)."""

    label: str
    path: Path
    data: bytes


@dataclass(frozen=True)
class OpTimes:
    """Seconds per operation."""

    parse: float
    dump: float
    roundtrip: float


# A half's outcome for one file: its times, or why it refused the file.
Outcome = OpTimes | str


def load_fixtures(missing: list[str]) -> list[Fixture]:
    """The real exports that exist (absent ones go to ``missing``) and the generated report."""
    fixtures = []
    for name in WSJF_FILES:
        path = REAL / "wsjf" / name
        if path.is_file():
            fixtures.append(Fixture(name, path, path.read_bytes()))
        else:
            missing.append(str(path))
    data = generate_report()
    path = RESULTS / f"generated-{GENERATED_STEPS}-steps.json"
    path.write_bytes(data)
    fixtures.append(Fixture(f"generated, {GENERATED_STEPS:,} steps", path, data))
    return fixtures


def count_steps(data: bytes) -> int | None:
    """Steps below the root of a UUT report (``None`` for a repair report or an unreadable one)."""
    try:
        report = wsjf.loads(data)
    except pywats.ReportFormatError:
        return None
    if isinstance(report, UUTReport) and report.root is not None:
        return len(report.root.walk()) - 1
    return None


def ours_once(data: bytes) -> Outcome:
    """Check that we read the file; return why not (as a result row) or a first timing."""
    try:
        start = time.perf_counter()
        wsjf.dumps(wsjf.loads(data))
        once = time.perf_counter() - start
    except pywats.PyWATSError as exc:
        return first_line(exc)
    return OpTimes(once, once, once)


def ours_times(data: bytes, number: int, repeat: int) -> OpTimes:
    """Our parse, serialise and parse+serialise, with the same loop as the predecessor's half."""
    report = wsjf.loads(data)
    loads, dumps = wsjf.loads, wsjf.dumps
    return OpTimes(
        parse=best_per_op(lambda: loads(data), number, repeat),
        dump=best_per_op(lambda: dumps(report), number, repeat),
        roundtrip=best_per_op(lambda: dumps(loads(data)), number, repeat),
    )


def theirs_times(pred: Predecessor, files: list[tuple[Path, int]], repeat: int) -> list[Outcome]:
    """One run of the predecessor's half over ``files`` (path, operations per sample)."""
    args = ["models", "--repeat", str(repeat)]
    for path, number in files:
        args += ["--file", str(path), str(number)]
    outcomes: list[Outcome] = []
    for row in run_half(pred.python, *args)["results"]:
        if "error" in row:
            outcomes.append(str(row["error"]))
        else:
            outcomes.append(
                OpTimes(float(row["parse"]), float(row["dump"]), float(row["roundtrip"]))
            )
    return outcomes


def per_sample(once: float, settings: Settings) -> int:
    """Operations per sample so that one sample lasts about ``settings.sample_seconds``."""
    return max(1, math.ceil(settings.sample_seconds / max(once, 1e-9)))


def median_times(rounds: list[OpTimes]) -> OpTimes:
    """The median over rounds of each round's best time."""
    return OpTimes(
        parse=statistics.median(r.parse for r in rounds),
        dump=statistics.median(r.dump for r in rounds),
        roundtrip=statistics.median(r.roundtrip for r in rounds),
    )


@dataclass(frozen=True)
class ModelRow:
    """Part A's result for one file."""

    fixture: Fixture
    steps: int | None
    ours: Outcome
    theirs: Outcome


def bench_models(pred: Predecessor, settings: Settings, missing: list[str]) -> list[ModelRow]:
    """Part A: alternate our and the predecessor's timings over ``settings.rounds`` rounds."""
    fixtures = load_fixtures(missing)
    # Calibration: one operation each way tells which files a half refuses and how many
    # operations make a sample of the wanted length (it is also the first warm-up).
    ours_first = [ours_once(f.data) for f in fixtures]
    theirs_first = theirs_times(pred, [(f.path, 1) for f in fixtures], 1)
    ours_plan = [
        (i, per_sample(o.roundtrip, settings))
        for i, o in enumerate(ours_first)
        if isinstance(o, OpTimes)
    ]
    theirs_plan = [
        (i, per_sample(t.roundtrip, settings))
        for i, t in enumerate(theirs_first)
        if isinstance(t, OpTimes)
    ]
    ours_rounds: dict[int, list[OpTimes]] = {i: [] for i, _ in ours_plan}
    theirs_rounds: dict[int, list[OpTimes]] = {i: [] for i, _ in theirs_plan}

    def run_ours() -> None:
        for i, number in ours_plan:
            ours_rounds[i].append(ours_times(fixtures[i].data, number, settings.repeat))

    def run_theirs() -> None:
        if not theirs_plan:
            return
        files = [(fixtures[i].path, number) for i, number in theirs_plan]
        for (i, _), outcome in zip(
            theirs_plan, theirs_times(pred, files, settings.repeat), strict=True
        ):
            # A file accepted at calibration is accepted again; anything else is a crash.
            if not isinstance(outcome, OpTimes):
                raise RuntimeError(f"predecessor refused {fixtures[i].label} late: {outcome}")
            theirs_rounds[i].append(outcome)

    for n in range(settings.rounds):
        # Swap who goes first every round, so a slow drift of the machine hits both alike.
        for half in (run_ours, run_theirs) if n % 2 == 0 else (run_theirs, run_ours):
            half()
        print(f"  models: round {n + 1}/{settings.rounds} done", file=sys.stderr)

    rows = []
    for i, fixture in enumerate(fixtures):
        ours: Outcome = median_times(ours_rounds[i]) if i in ours_rounds else ours_first[i]
        theirs: Outcome = median_times(theirs_rounds[i]) if i in theirs_rounds else theirs_first[i]
        rows.append(ModelRow(fixture, count_steps(fixture.data), ours, theirs))
    return rows


# --------------------------------------------------------------------------------------------
# Part B: import time
# --------------------------------------------------------------------------------------------

# The top-level line of `-X importtime`: "import time: self | cumulative | pywats"; nested
# modules are indented further and named pywats.<something>, so they never match.
_IMPORTTIME = re.compile(r"^import time:\s*\d+\s*\|\s*(\d+)\s*\| pywats\s*$", re.MULTILINE)


def importtime_us(python: Path | str) -> int:
    """Cumulative microseconds of ``import pywats`` as ``-X importtime`` reports it."""
    proc = subprocess.run(
        [str(python), "-I", "-X", "importtime", "-c", "import pywats"],
        capture_output=True,
        text=True,
        cwd=RESULTS,
        check=True,
    )
    match = _IMPORTTIME.search(proc.stderr)
    if match is None:
        raise RuntimeError(f"no top-level pywats line in -X importtime output of {python}")
    return int(match.group(1))


def wall_seconds(python: Path | str, code: str) -> float:
    """Wall time of ``python -I -c code``, interpreter start and exit included."""
    start = time.perf_counter()
    subprocess.run([str(python), "-I", "-c", code], cwd=RESULTS, check=True)
    return time.perf_counter() - start


@dataclass(frozen=True)
class ImportRow:
    """Part B's result for one environment (best of the runs)."""

    importtime: float  # seconds, cumulative, from -X importtime
    wall: float  # seconds: `import pywats` minus `pass`


def bench_import(pred: Predecessor, settings: Settings) -> tuple[ImportRow, ImportRow]:
    """Part B: best of ``settings.import_runs`` for each environment, interleaved."""
    envs: dict[str, Path | str] = {"ours": sys.executable, "theirs": pred.python}
    best: dict[str, dict[str, float]] = {
        name: {"importtime": math.inf, "import": math.inf, "pass": math.inf} for name in envs
    }
    for _ in range(settings.import_runs):
        for name, python in envs.items():
            b = best[name]
            b["importtime"] = min(b["importtime"], importtime_us(python) / 1e6)
            b["import"] = min(b["import"], wall_seconds(python, "import pywats"))
            b["pass"] = min(b["pass"], wall_seconds(python, "pass"))
    ours, theirs = (
        ImportRow(best[name]["importtime"], best[name]["import"] - best[name]["pass"])
        for name in envs
    )
    return ours, theirs


# --------------------------------------------------------------------------------------------
# Part C: one sync call against a local server
# --------------------------------------------------------------------------------------------

_BODY = json.dumps(SERVER_VERSION).encode()
_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


def _handle(sock: socket.socket) -> None:
    """Answer the requests of one keep-alive connection until the client closes it.

    Fixed reply bytes and no HTTP library: the server's share of a call should be as small as
    can be, so that the figures are the clients' overhead.
    """
    buffer = b""
    with sock:
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                end = buffer.find(b"\r\n\r\n")
            head = buffer[:end]
            length_match = _CONTENT_LENGTH.search(head)
            total = end + 4 + (int(length_match.group(1)) if length_match else 0)
            while len(buffer) < total:  # a request body, if any, is read and dropped
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[total:]
            method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
            ok = method == b"GET" and target == b"/api/App/Version"
            sock.sendall(_OK if ok else _NOT_FOUND)


def serve(conn: Connection) -> None:
    """Serve ``GET /api/App/Version`` on 127.0.0.1 (port sent back through ``conn``) forever.

    Runs in its own process: in ours, its threads would compete with the client for the GIL
    and inflate our figures but not the predecessor's (which runs in yet another process).
    """
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    conn.send(listener.getsockname()[1])
    conn.close()
    while True:
        sock, _ = listener.accept()
        # One write per reply; no Nagle delay waiting for an ACK that the client delays.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_handle, args=(sock,), daemon=True).start()


@contextmanager
def version_server() -> Iterator[str]:
    """Run :func:`serve` in a child process; yield its base URL."""
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=serve, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the local server did not start")
        port = int(parent.recv())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(5)


def per_call(call: Callable[[], object], calls: int) -> float:
    """Seconds per call over ``calls`` sequential calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


@dataclass(frozen=True)
class CallRows:
    """Part C's medians, seconds per call."""

    bare: float
    ours: float
    ours_limited: float
    theirs: float
    theirs_limited: float


def bench_calls(pred: Predecessor, settings: Settings) -> CallRows:
    """Part C: sequential ``GET /api/App/Version`` through each client, alternating."""
    with version_server() as url:
        bare_client = httpx.Client(
            base_url=url,
            # The headers our client sends, so both requests are the same size.
            headers={"Authorization": f"Basic {TOKEN}", "Accept": "application/json"},
        )
        ours_api = pywats.pyWATS(url, TOKEN, rate_limit=None)
        # The default limiter allows 500 calls a minute and would sleep here; a budget that
        # cannot be reached runs the same bookkeeping without ever waiting.
        limited_api = pywats.pyWATS(url, TOKEN, rate_limit=pywats.RateLimit(requests=10**9))
        ours_calls: dict[str, Callable[[], object]] = {
            "bare": lambda: bare_client.get("/api/App/Version"),
            "ours": ours_api.app.get_version,
            "ours_limited": limited_api.app.get_version,
        }
        # Every client must really get the version, or the timings would compare errors.
        for name, call in ours_calls.items():
            got = call()
            value = got.json() if isinstance(got, httpx.Response) else got
            if value != SERVER_VERSION:
                raise RuntimeError(f"{name} got {value!r} from the local server")
            for _ in range(settings.warmup):
                call()
        times: dict[str, list[float]] = {name: [] for name in (*ours_calls, "theirs", "th_lim")}
        half_args = ["http", "--url", url, "--token", TOKEN]
        half_args += ["--calls", str(settings.calls), "--warmup", str(settings.warmup)]
        for n in range(settings.rounds):
            order = [*ours_calls, "theirs"]
            shift = n % len(order)  # rotate who goes first, against drift
            for name in order[shift:] + order[:shift]:
                if name == "theirs":
                    answer = run_half(pred.python, *half_args)
                    if answer.get("value") != SERVER_VERSION:
                        raise RuntimeError(f"predecessor got {answer.get('value')!r}")
                    times["theirs"].append(float(answer["throttle_off"]))
                    times["th_lim"].append(float(answer["throttle_on"]))
                else:
                    times[name].append(per_call(ours_calls[name], settings.calls))
            print(f"  calls: round {n + 1}/{settings.rounds} done", file=sys.stderr)
        bare_client.close()
        ours_api.close()
        limited_api.close()
    med = {name: statistics.median(values) for name, values in times.items()}
    return CallRows(med["bare"], med["ours"], med["ours_limited"], med["theirs"], med["th_lim"])


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three or four significant digits."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    """Met or not met, as shown in the targets table."""
    return "**met**" if ok else "**not met**"


def fails(outcome: str) -> str:
    """A refused file as a table cell (pipes would break the table)."""
    return "fails: " + outcome.replace("|", "/")


def cell(outcome: Outcome, op: str, *, first: bool) -> str:
    """One half's figure for ``op``; a refusal gives its reason once, on a file's first row."""
    if isinstance(outcome, OpTimes):
        return fmt_time(getattr(outcome, op))
    return fails(outcome) if first else "fails"


def render(
    settings: Settings,
    pred: Predecessor,
    models: list[ModelRow],
    imports: tuple[ImportRow, ImportRow],
    calls: CallRows,
    missing: list[str],
    quick: bool,
) -> str:
    """The markdown report."""
    out: list[str] = []
    add = out.append
    add("# pywats vs. pywats-api (the predecessor)\n")
    add(f"- machine: `{platform.platform()}`, {os.cpu_count()} CPUs")
    add(
        f"- ours: pywats {pywats.__version__} on Python {platform.python_version()} "
        f"(msgspec {dist_version('msgspec')}, httpx {dist_version('httpx')})"
    )
    add(
        f"- predecessor: pywats-api {pred.version} on Python {pred.python_version} "
        f"(pydantic {pred.pydantic}, httpx {pred.httpx}), in `bench/.predecessor-venv`"
    )
    add(
        f"- run: {'--quick (smoke run, figures are rough)' if quick else 'full'}; "
        f"{settings.rounds} alternating rounds, median of each round's best; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )

    # Targets first: they are what the figures are for.
    target = next((r for r in models if r.fixture.label == TARGET_FILE), None)
    ours_imp, theirs_imp = imports
    add("## Targets\n")
    add("| target | ours | predecessor / bare | ratio | goal | |")
    add("| --- | --- | --- | --- | --- | --- |")
    if target is None:
        add(f"| parse+serialise {TARGET_FILE} | n/a | n/a | n/a | ≥{TARGET_MODELS:g}x | n/a |")
    elif isinstance(target.ours, str) or isinstance(target.theirs, str):
        why = target.ours if isinstance(target.ours, str) else target.theirs
        # Nothing to compare: shown as not applicable rather than as a verdict.
        add(f"| parse+serialise {TARGET_FILE} | | | {fails(str(why))} | | n/a |")
    else:
        speed = target.theirs.roundtrip / target.ours.roundtrip
        add(
            f"| parse+serialise {TARGET_FILE} | {fmt_time(target.ours.roundtrip)} | "
            f"{fmt_time(target.theirs.roundtrip)} | {speed:.1f}x faster | "
            f"≥{TARGET_MODELS:g}x faster | {verdict(speed >= TARGET_MODELS)} |"
        )
    speed = theirs_imp.importtime / ours_imp.importtime
    add(
        f"| `import pywats` (-X importtime) | {fmt_time(ours_imp.importtime)} | "
        f"{fmt_time(theirs_imp.importtime)} | {speed:.1f}x faster | ≥{TARGET_IMPORT:g}x faster | "
        f"{verdict(speed >= TARGET_IMPORT)} |"
    )
    ratio = calls.ours / calls.bare
    add(
        f"| one sync call vs. bare httpx.Client | {fmt_time(calls.ours)} | "
        f"{fmt_time(calls.bare)} (bare) | {ratio:.2f}x | ≤{TARGET_CALL:g}x | "
        f"{verdict(ratio <= TARGET_CALL)} |\n"
    )

    add("## A. Report models (time per operation)\n")
    add("| file | size | steps | operation | ours | predecessor | speed-up |")
    add("| --- | --- | --- | --- | --- | --- | --- |")
    for row in models:
        size = f"{len(row.fixture.data) / 1024:,.0f} KiB"
        steps = "—" if row.steps is None else f"{row.steps:,}"
        label = row.fixture.label
        for op, name in (
            ("parse", "parse"),
            ("dump", "serialise"),
            ("roundtrip", "parse+serialise"),
        ):
            ours = cell(row.ours, op, first=op == "parse")
            theirs = cell(row.theirs, op, first=op == "parse")
            if isinstance(row.ours, OpTimes) and isinstance(row.theirs, OpTimes):
                ratio_text = f"{getattr(row.theirs, op) / getattr(row.ours, op):.1f}x"
            else:
                ratio_text = "—"
            add(f"| {label} | {size} | {steps} | {name} | {ours} | {theirs} | {ratio_text} |")
            label, size, steps = "", "", ""
    add("")

    add("## B. `import pywats`\n")
    add(f"Best of {settings.import_runs} fresh interpreters each (`python -I`).\n")
    add("| environment | -X importtime, cumulative | wall: `import pywats` minus `pass` |")
    add("| --- | --- | --- |")
    add(f"| ours | {fmt_time(ours_imp.importtime)} | {fmt_time(ours_imp.wall)} |")
    add(f"| predecessor | {fmt_time(theirs_imp.importtime)} | {fmt_time(theirs_imp.wall)} |")
    add(
        f"| speed-up | {theirs_imp.importtime / ours_imp.importtime:.1f}x | "
        f"{theirs_imp.wall / ours_imp.wall:.1f}x |\n"
    )

    add("## C. One sync call: `GET /api/App/Version`\n")
    add(
        f"{settings.calls:,} sequential calls per client and round after {settings.warmup} "
        "warm-up calls, against a local HTTP/1.1 keep-alive server with a fixed reply "
        "(in its own process).\n"
    )
    add("| client | per call | vs. bare httpx |")
    add("| --- | --- | --- |")
    for name, value in (
        ("bare `httpx.Client.get`", calls.bare),
        ("ours, `rate_limit=None`", calls.ours),
        ("ours, rate limiter on", calls.ours_limited),
        ("predecessor, cache off, throttling off", calls.theirs),
        ("predecessor, cache off, throttling on", calls.theirs_limited),
    ):
        add(f"| {name} | {fmt_time(value)} | {value / calls.bare:.2f}x |")
    add("")

    add("## Notes\n")
    add(
        "- Models: ours is `pywats.formats.wsjf.loads`/`dumps`; the predecessor's is "
        "`UUTReport`/`UURReport.model_validate_json` and "
        "`model_dump_json(by_alias=True, exclude_none=True)`, the class picked from the "
        "document's `type` outside the timed code. Both halves use the same timing loop "
        "(garbage collector on, emptied before each sample) and parse the same files; the "
        f"generated report is `bench/.results/generated-{GENERATED_STEPS}-steps.json`."
    )
    add(
        "- Calls: the predecessor is built with `enable_cache=False` (its response cache would "
        "answer every call after the first from memory) and `retry_enabled=False`. Its "
        "throttle and our rate limiter default to 500 requests per minute, which would sleep "
        'during these calls: the "on" rows use a budget that is never reached, so the '
        "limiter's bookkeeping is timed and never a wait. The bare client sends the same "
        "`Authorization` and `Accept` headers and does not decode the JSON body; ours does."
    )
    if missing:
        add(f"- Real fixtures not found (set PYWATS_REAL_FIXTURES): {', '.join(missing)}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the three parts, print the report and write it to ``bench/.results/models.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    pred = ensure_predecessor()
    missing: list[str] = []
    print("A. report models…", file=sys.stderr)
    models = bench_models(pred, settings, missing)
    print("B. import time…", file=sys.stderr)
    imports = bench_import(pred, settings)
    print("C. sync calls…", file=sys.stderr)
    calls = bench_calls(pred, settings)

    report = render(settings, pred, models, imports, calls, missing, args.quick)
    (RESULTS / "models.md").write_text(report, encoding="utf-8")
    print(report)
    print(
        f"({time.perf_counter() - started:.0f} s; written to {RESULTS / 'models.md'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

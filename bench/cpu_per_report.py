"""What one report costs the station daemon: CPU, bytes written and fsyncs, file to server.

Run with the project's venv: ``.venv/bin/python bench/cpu_per_report.py`` (``--quick`` for a
smoke run; ``--profile`` to record the WSJF run with py-spy, when it is installed).

The real ``pywats-station run`` process with one converter (``post_action = "delete"``, no
client-side rate limit) against the emulator over loopback TCP. Files are written next to the
watch folder and renamed into it (each arrives complete); the daemon's CPU time (all threads and
the child processes it waited for, ``/proc/<pid>/stat``) and the bytes it caused to be written
(``write_bytes`` of ``/proc/<pid>/io``) are read from just before the first file arrives to the
moment the emulator has accepted the last report and the queue is empty. What the daemon spends
idle over the same time (measured for a few seconds before) is subtracted, and shown.

Inputs:

* WSJF files of 3.9 kB (20 numeric steps), each with its own report id;
* the largest real equipment files with one conversion each (``../shared/fixtures/real``: the
  Teradyne Spectrum ICT log; the SPEA 3030 CSV, ten reports a file), skipped when absent.

The fsyncs per report come from a second WSJF run traced by ``strace -f`` (fsync, fdatasync:
counted from its log, skipped if strace is missing); the traced run's CPU is not used.

The report is printed and written to ``bench/.results/cpu_per_report.md``. A benchmark, not a
test: the exit status is non-zero only when something crashed. Linux only.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_CODE_ENV = "PYWATS_BENCH_STATION_CODE"  # as bench/station.py names it


def _reexec_on_commit() -> None:
    """``--commit REV``: start again on REV's code, exported (``git archive``) to
    ``bench/.results``; done before the station's modules are imported, since a working tree
    others are editing may not even import."""
    argv = sys.argv[1:]
    if "--commit" not in argv or _CODE_ENV in os.environ:
        return
    rev = argv[argv.index("--commit") + 1]
    root = Path(__file__).resolve().parent.parent
    sha = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short=12", f"{rev}^{{commit}}"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    dest = root / "bench" / ".results" / f"station-code-{sha}"
    if not (dest / "pywats_station").is_dir():
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", sha, "pywats", "pywats_station"],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    path = os.pathsep.join(p for p in (str(dest), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, _CODE_ENV: sha}
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)


_reexec_on_commit()

from station import (  # noqa: E402  (after the re-exec on a commit's code)
    CODE_ENV,
    RESULTS,
    ROOT,
    Daemon,
    Emulator,
    NotifySocket,
    Processes,
    code_description,
)

from pywats import CompOp, ReportBuilder  # noqa: E402
from pywats.formats import wsjf  # noqa: E402

WORK = RESULTS / "cpu-work"
REAL = Path(os.environ.get("PYWATS_REAL_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))
TARGET_MS = 1.0  # daemon CPU per WSJF report, file to server (issue 18)
# Counts the sync calls of every thread; -qq: no attach/detach lines in the log.
STRACE = ["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync"]
# Samples only threads holding the GIL (Python at work, not threads waiting), without pausing
# the daemon at each sample.
PY_SPY = [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "500", "-f", "speedscope"]
PY_SPY += ["--threads", "--gil", "--nonblocking"]
IDLE_WINDOW = 3.0  # seconds the idle daemon is measured before the files arrive


@dataclass(frozen=True)
class Input:
    """One kind of input: what the converter is and the files it is given."""

    label: str
    kind: str
    pattern: str
    files: list[tuple[str, bytes]]  # (file name, content)
    reports_per_file: int


@dataclass(frozen=True)
class Result:
    """One measured run."""

    label: str
    files: int
    reports: int
    bytes_in: int  # input bytes per file
    seconds: float
    cpu: float  # daemon CPU seconds over the run
    user: float  # of which in user mode
    system: float  # and in the kernel
    idle_cpu: float  # of which the idle daemon would have spent over the same time
    written: int  # write_bytes over the run
    idle_written: int
    fsyncs: int | None  # over the traced run (None: not traced)

    @property
    def cpu_ms(self) -> float:
        """Daemon CPU per report, idle subtracted, in ms."""
        return (self.cpu - self.idle_cpu) / self.reports * 1000

    @property
    def raw_cpu_ms(self) -> float:
        """Daemon CPU per report, idle included, in ms."""
        return self.cpu / self.reports * 1000


def wsjf_files(count: int) -> list[tuple[str, bytes]]:
    """``count`` WSJF reports of 20 numeric steps, each with its own id."""
    builder = ReportBuilder.uut(
        pn="BENCH-PN",
        sn="BENCH-000001",
        rev="A",
        process_code=10,
        station="BENCH",
        location="Lab",
        purpose="Test",
    )
    for i in range(20):
        builder.root.numeric(f"Voltage {i}", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
    report = builder.build()
    template, old = wsjf.dumps(report), str(report.id).encode()
    out = []
    for _ in range(count):
        new = str(uuid.uuid4())
        out.append((f"{new}.json", template.replace(old, new.encode(), 1)))
    return out


def copies(path: Path, count: int) -> list[tuple[str, bytes]]:
    """``count`` copies of a real file, each a little different (its own report ids)."""
    data = path.read_bytes()
    # A trailing line ending changes the content key (so the ids) and nothing of the parse.
    return [(f"{i:04d}-{path.name}", data + b"\r\n" * i) for i in range(count)]


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads, and of its children that
    have exited (a conversion in a child process: the SPEA file)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        text = handle.read()
    # After the command name: utime, stime, cutime, cstime are fields 14-17 (indexes 11-14).
    fields = text[text.rindex(")") + 2 :].split()
    tick = os.sysconf("SC_CLK_TCK")
    user = int(fields[11]) + int(fields[13])
    system = int(fields[12]) + int(fields[14])
    return user / tick, system / tick


def cpu_total(pid: int) -> float:
    """User plus system CPU seconds: :func:`cpu_split` added up."""
    return sum(cpu_split(pid))


def proc_io(pid: int) -> dict[str, int]:
    """``/proc/<pid>/io`` as a dict."""
    with open(f"/proc/{pid}/io", encoding="ascii") as handle:
        return {k: int(v) for k, v in (line.split(": ") for line in handle)}


def accepted(emulator: Emulator) -> int:
    """Report submissions the emulator accepted (its request log; a resubmit counts again)."""
    return len(emulator.accepted())


def queue_empty(daemon: Daemon) -> bool:
    """No entry files left in the daemon's queue folder."""
    folder = daemon.queue_dir
    return not any(p.is_file() and p.suffix == ".wsjf" for p in folder.rglob("*"))


def run(
    procs: Processes,
    emulator: Emulator,
    item: Input,
    *,
    trace: bool = False,
    profile: Path | None = None,
) -> Result:
    """One daemon, one converter, ``item``'s files renamed into its folder one after another."""
    emulator.reset()
    home = WORK / item.label.replace(" ", "-")
    inbox, staging = home / "inbox", home / "staging"
    converter = (
        f'[[converters]]\nname = "bench"\nkind = "{item.kind}"\nwatch = "{inbox}"\n'
        f'patterns = ["{item.pattern}"]\npost_action = "delete"\n'
    )
    daemon = procs.new(home, emulator.url, unthrottled=True, extra_config=converter)
    inbox.mkdir(parents=True)
    staging.mkdir(parents=True)
    for name, data in item.files:
        (staging / name).write_bytes(data)
    notify = NotifySocket()
    try:
        daemon.start(notify)
        notify.wait_ready(daemon.running, timeout=60)
    finally:
        notify.close()
    daemon.wait_online()
    time.sleep(1.0)  # start-up's last work (first status write, sync)
    tracer: subprocess.Popen[bytes] | None = None
    trace_log = home / "strace.log"
    if trace:
        tracer = subprocess.Popen(
            [*STRACE, "-o", str(trace_log), "-p", str(daemon.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # attached to every thread
    spy: subprocess.Popen[bytes] | None = None
    if profile is not None:
        spy = subprocess.Popen(
            [*PY_SPY, "-o", str(profile), "-p", str(daemon.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    cpu0, io0, t0 = cpu_total(daemon.pid), proc_io(daemon.pid), time.monotonic()
    time.sleep(IDLE_WINDOW)
    cpu1, io1, t1 = cpu_total(daemon.pid), proc_io(daemon.pid), time.monotonic()
    idle_rate = (cpu1 - cpu0) / (t1 - t0)
    idle_write_rate = (io1["write_bytes"] - io0["write_bytes"]) / (t1 - t0)
    if tracer is not None:
        trace_log.write_text("")  # the idle window's fsyncs are not the reports'
    reports = len(item.files) * item.reports_per_file
    start_split = cpu_split(daemon.pid)
    start_cpu, start_io, started = cpu_total(daemon.pid), proc_io(daemon.pid), time.monotonic()
    for name, _ in item.files:
        os.rename(staging / name, inbox / name)
    deadline = started + 60 + reports
    while accepted(emulator) < reports or not queue_empty(daemon):
        if time.monotonic() > deadline or not daemon.running():
            raise RuntimeError(
                f"{item.label}: {accepted(emulator)}/{reports} reports\n{daemon.log_tail()}"
            )
        time.sleep(0.05)
    end_cpu, end_io, ended = cpu_total(daemon.pid), proc_io(daemon.pid), time.monotonic()
    end_split = cpu_split(daemon.pid)
    fsyncs: int | None = None
    if tracer is not None:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(10)
        fsyncs = sum(
            1
            for line in trace_log.read_text().splitlines()
            if ("fsync(" in line or "fdatasync(" in line) and "resumed" not in line
        )
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    seconds = ended - started
    if any(inbox.glob(item.pattern)) or any((inbox / "Error").glob("*")):
        raise RuntimeError(f"{item.label}: files were left in the watch folder or failed")
    _, code = daemon.terminate()
    if code != 0:
        raise RuntimeError(f"{item.label}: exit code {code}:\n{daemon.log_tail()}")
    return Result(
        label=item.label,
        files=len(item.files),
        reports=reports,
        bytes_in=len(item.files[0][1]),
        seconds=seconds,
        cpu=end_cpu - start_cpu,
        user=end_split[0] - start_split[0],
        system=end_split[1] - start_split[1],
        idle_cpu=idle_rate * seconds,
        written=end_io["write_bytes"] - start_io["write_bytes"],
        idle_written=int(idle_write_rate * seconds),
        fsyncs=fsyncs,
    )


def inputs(quick: bool) -> list[Input]:
    """What is measured: WSJF files, then the real equipment files that are there."""
    count = 100 if quick else 500
    items = [Input("WSJF 20 steps", "wsjf", "*.json", wsjf_files(count), 1)]
    spectrum = REAL / "teradyne-spectrum" / "sample_ict_data.txt"
    if spectrum.is_file():
        items.append(
            Input(
                "Teradyne Spectrum",
                "teradyne_spectrum",
                "*.txt",
                copies(spectrum, 5 if quick else 20),
                1,
            )
        )
    spea = REAL / "spea-3030" / "testdata_SN9871234012.csv"
    if spea.is_file():
        items.append(Input("SPEA 3030", "spea_3030", "*.csv", copies(spea, 2 if quick else 5), 10))
    return items


def render(results: list[Result], traced: Result | None, quick: bool) -> str:
    """The report (Markdown)."""
    lines = [
        "# CPU, writes and fsyncs per report: file into the watch folder to report on the server",
        "",
        f"- code: {code_description()}",
        f"- run: {'quick' if quick else 'full'}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "",
        "| input | files | reports | input bytes/file | daemon CPU/report (idle subtracted) | "
        "incl. idle | user / system | written/report | written/input byte | wall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        written = (r.written - r.idle_written) / r.reports
        per_byte = (r.written - r.idle_written) / (r.files * r.bytes_in)
        lines.append(
            f"| {r.label} | {r.files} | {r.reports} | {r.bytes_in:,} | {r.cpu_ms:.2f} ms | "
            f"{r.raw_cpu_ms:.2f} ms | {r.user / r.reports * 1000:.2f} / "
            f"{r.system / r.reports * 1000:.2f} ms | {written:,.0f} B | {per_byte:.2f} x | "
            f"{r.seconds:.1f} s |"
        )
    wsjf_result = results[0]
    met = "met" if wsjf_result.cpu_ms <= TARGET_MS else "not met"
    lines += ["", f"Target: ≤ {TARGET_MS:.1f} ms per WSJF report: **{met}**."]
    if traced is not None and traced.fsyncs is not None:
        lines.append(
            f"fsync + fdatasync per WSJF report (strace -f, {traced.reports} files): "
            f"{traced.fsyncs / traced.reports:.2f}"
        )
    else:
        lines.append("fsyncs: not counted (strace not found)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the inputs, print the report and write it to ``bench/.results/cpu_per_report.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer files: a smoke run")
    parser.add_argument(
        "--profile", action="store_true", help="record the WSJF run with py-spy (speedscope)"
    )
    parser.add_argument("--only-wsjf", action="store_true", help="skip the real equipment files")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure the committed code of REV (exported to bench/.results) instead of the "
        "working tree",
    )
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench/cpu_per_report.py needs Linux (/proc)", file=sys.stderr)
        return 2
    if args.commit and CODE_ENV not in os.environ:
        print("--commit: the re-execution did not happen", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    procs = Processes()
    emulator = Emulator()
    results: list[Result] = []
    traced: Result | None = None
    try:
        items = inputs(args.quick)
        if args.only_wsjf:
            items = items[:1]
        for item in items:
            print(f"{item.label}…", file=sys.stderr)
            profile = RESULTS / "cpu_per_report.speedscope.json" if args.profile else None
            results.append(
                run(procs, emulator, item, profile=profile if item is items[0] else None)
            )
        if shutil.which("strace"):
            print("fsyncs (strace)…", file=sys.stderr)
            traced = run(
                procs,
                emulator,
                Input("WSJF traced", "wsjf", "*.json", wsjf_files(100), 1),
                trace=True,
            )
    finally:
        procs.kill_all()
        emulator.close()
    report = render(results, traced, args.quick)
    (RESULTS / "cpu_per_report.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

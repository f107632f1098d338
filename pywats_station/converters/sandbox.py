"""Running a conversion so that the converter cannot harm the station.

Three ways, all blocking (the daemon calls them through ``trio.to_thread.run_sync``):

* :func:`run_conversion` — in this process: exceptions become ``Failed``, every report is
  validated, and the reports' sizes are checked against :class:`OutputLimits` (the largest
  report the server accepts, the most the station takes from one input) before anything can be
  queued.
* the trusted built-in converters run through
  :func:`pywats_station.converters._placement.convert_builtin`: small inputs with
  :func:`run_conversion`, large ones in a child process as below.
* :func:`convert_in_child` / :func:`validate_in_child` — one conversion in a fresh child Python
  process (a dry run over the control channel, a big input of a built-in; the daemon's user
  converters use a warm child instead, reused across inputs, with the same limits:
  :mod:`pywats_station.converters._warm`): ``python -m pywats_station.converters._child``, with
  an address-space limit (``RLIMIT_AS``) and a CPU-time limit (``RLIMIT_CPU``) that it sets on
  itself before importing the converter, a wall-clock timeout enforced here (the whole process
  group is killed), and a reduced environment (no tokens or passwords of the daemon's). A
  converter that hangs,
  crashes, calls ``os._exit``, eats memory or writes garbage gives a ``Failed`` with a reason
  that says which.

The child reads one JSON request on stdin and writes one JSON reply on stdout (reports as WSJF
objects); ``print()`` in a converter goes to stderr, which ends up in the station log.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import msgspec

from pywats.models.app import Process
from pywats_station.converters.api import (
    RESULT_TYPES,
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    Failed,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
    StationInfo,
    Validation,
)
from pywats_station.converters.builtin._budget import (
    OutputBudget,
    OutputLimits,
    TooBigForThread,
    human_size,
    using_budget,
)

__all__ = [
    "ChildReply",
    "ChildRequest",
    "ContextData",
    "ConverterDescription",
    "OutputLimits",
    "TooBigForThread",
    "check_sizes",
    "convert_in_child",
    "describe",
    "describe_in_child",
    "run_conversion",
    "validate_in_child",
]

_MAX_PROBLEMS = 10  # problems named in a Failed reason; the rest are counted
_STDERR_TAIL = 64 * 1024  # bytes of the child's stderr kept for messages and the log
_REPLY_ENVELOPE = 1 << 20  # a reply's bytes besides the reports (reasons, messages, JSON)
_ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SYSTEMROOT")
_ENV_KEEP_PREFIX = ("LC_", "PYTHON", "VIRTUAL_ENV")


class ContextData(msgspec.Struct, kw_only=True):
    """The converter context as it crosses into the child: plain data, arguments unparsed."""

    station: StationInfo
    processes: list[Process] = msgspec.field(default_factory=list)
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)


class ChildRequest(msgspec.Struct, kw_only=True):
    """What the parent asks the child to do."""

    action: str  # "convert", "validate" or "describe"
    kind: str
    base_dir: str | None
    target: str | None
    context: ContextData
    memory_mb: int
    cpu_seconds: int
    limits: OutputLimits = msgspec.field(default_factory=OutputLimits)


class ConverterDescription(msgspec.Struct, kw_only=True):
    """What the station needs to know of a converter class to run it (no code, plain data)."""

    name: str
    type: str  # file | folder | scheduled
    patterns: list[str] = msgspec.field(default_factory=list)
    ready_marker: str | None = None
    min_files: int = 0
    expected: list[str] = msgspec.field(default_factory=list)
    companions: list[str] = msgspec.field(default_factory=list)
    schedule: str | None = None
    run_at_startup: bool = False
    keeps_report_ids: bool = False


def describe(cls: type) -> ConverterDescription:
    """Describe a converter class (see :class:`ConverterDescription`)."""
    return ConverterDescription(
        name=str(getattr(cls, "name", cls.__name__)),
        type=str(getattr(cls, "type", "file")),
        patterns=list(getattr(cls, "patterns", ("*",))),
        ready_marker=getattr(cls, "ready_marker", None),
        min_files=int(getattr(cls, "min_files", 0)),
        expected=list(getattr(cls, "expected", ())),
        companions=list(getattr(cls, "companions", ())),
        schedule=getattr(cls, "schedule", None),
        run_at_startup=bool(getattr(cls, "run_at_startup", False)),
        keeps_report_ids=bool(getattr(cls, "keeps_report_ids", False)),
    )


class ChildReply(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the child answers: a result (convert), a validation (validate) or a description."""

    result: ConversionResult | None = None
    validation: Validation | None = None
    description: ConverterDescription | None = None


# --- in process -----------------------------------------------------------------------------


def run_conversion(
    converter: FileConverter | FolderConverter | ScheduledConverter,
    target: Path | None,
    ctx: ConverterContext,
    *,
    strict: bool | None = None,
    memory_mb: int | None = None,
    limits: OutputLimits | None = None,
    thread_limit: int | None = None,
) -> ConversionResult:
    """Run one conversion in this process and check its outcome; never raises for the input.

    ``target`` is the file or folder (``None`` for a scheduled converter). Reports are checked
    against ``limits`` (:func:`check_sizes`), then validated with
    ``report.validate(server_rules=strict)``; ``strict`` defaults to the converter's ``strict``
    argument when it has one, else ``False`` (real server exports break the server's
    consistency rules). A report too large or invalid fails the whole input, naming the
    problems.

    Args:
        converter: the converter instance.
        target: the input file or folder; ``None`` for a scheduled converter.
        ctx: the context (arguments already parsed).
        strict: apply the live server's consistency rules too.
        memory_mb: the memory limit in force, only to name it when memory runs out.
        limits: the caps on the reports (default: :class:`OutputLimits`'s defaults); the
            built-in converters also check them while they build (the output budget).
        thread_limit: the most WSJF a built-in may build before it gives up with
            :class:`TooBigForThread` (see
            :func:`~pywats_station.converters._placement.convert_builtin`); ``None``: no limit.

    Raises:
        TooBigForThread: only with a ``thread_limit``: convert the input in a child instead.
    """
    if target is None and not isinstance(converter, ScheduledConverter):
        return Failed(reason=f"{converter.name}: no file or folder to convert")
    limits = limits or OutputLimits()
    try:
        with using_budget(OutputBudget(limits, thread_limit=thread_limit)):
            if isinstance(converter, ScheduledConverter):
                result: object = converter.run(ctx)
            else:
                assert target is not None
                result = converter.convert(target, ctx)
    except TooBigForThread:
        raise
    except ConversionError as exc:
        return Failed(reason=str(exc) or type(exc).__name__)
    except MemoryError:
        limit = f" (limit {memory_mb} MB)" if memory_mb else ""
        return Failed(reason=f"converter ran out of memory{limit}")
    except SystemExit as exc:
        return Failed(reason=f"converter called sys.exit({exc.code!r})")
    except Exception as exc:
        ctx.log.debug("converter %s raised", converter.name, exc_info=True)
        return Failed(reason=f"converter raised {_last_line(exc)}")
    if not isinstance(result, RESULT_TYPES):
        return Failed(
            reason=f"converter returned {type(result).__name__}, not Converted, Skipped, "
            "Suspended or Failed"
        )
    if isinstance(result, Converted):
        if strict is None:
            strict = getattr(ctx.arguments, "strict", False) is True
        too_large = check_sizes(result, limits)
        if too_large is not None:
            return too_large
        return check_reports(
            result, scheduled=isinstance(converter, ScheduledConverter), strict=strict
        )
    assert isinstance(result, ConversionResult)
    return result


def check_sizes(result: Converted, limits: OutputLimits) -> Failed | None:
    """A ``Failed`` naming the report, its size and the limit when a report is too large (or
    all of them together are), else ``None``. Sizes are bytes of WSJF, as the server gets them.
    """
    total = 0
    count = len(result.reports)
    for number, report in enumerate(result.reports, start=1):
        size = len(_encoder.encode(report))
        total += size
        if size > limits.max_report_size:
            which = f"report {number} of {count}" if count > 1 else "the report"
            return Failed(
                reason=f"{which} (sn {report.sn!r}) is {human_size(size)} as WSJF; the server "
                f"accepts at most {human_size(limits.max_report_size)} "
                f"({limits.key('max_report_size')})"
            )
    if total > limits.max_output_size:
        return Failed(
            reason=f"the {count:,} reports of this input are {human_size(total)} as WSJF "
            f"together; the station takes at most {human_size(limits.max_output_size)} of "
            f"reports from one input ({limits.key('max_output_size')}): split the file or "
            "raise the limit"
        )
    return None


def check_reports(result: Converted, *, scheduled: bool, strict: bool) -> ConversionResult:
    """Return ``result`` if every report is valid, else a ``Failed`` naming the problems."""
    if not result.reports and not scheduled:
        return Failed(reason="converter returned Converted without any report")
    messages: list[str] = []
    count = 0
    for number, report in enumerate(result.reports, start=1):
        problems = report.validate(server_rules=strict)
        count += len(problems)
        which = f"report {number} of {len(result.reports)} (sn {report.sn!r})"
        messages += [f"{which}: {p}" for p in problems]
    if messages:
        shown = "; ".join(messages[:_MAX_PROBLEMS])
        more = f"; and {count - _MAX_PROBLEMS} more" if count > _MAX_PROBLEMS else ""
        return Failed(reason=f"invalid report: {shown}{more}")
    return result


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(exc)[-1].strip()


# --- in a child process ---------------------------------------------------------------------


def convert_in_child(
    kind: str,
    base_dir: Path | None,
    target: Path | None,
    ctx_data: ContextData,
    *,
    timeout: float = 120.0,
    memory_mb: int = 1024,
    log: logging.Logger | None = None,
    limits: OutputLimits | None = None,
) -> ConversionResult:
    """Run one conversion of a user converter (or a large built-in one) in a child process.

    Args:
        kind: the converter kind (``module:Class`` or a ``.py`` path, see the registry).
        base_dir: the folder relative ``.py`` paths are resolved against; also the child's
            working directory.
        target: the file or folder to convert; ``None`` runs a scheduled converter.
        ctx_data: station, processes and the raw ``arguments`` table.
        timeout: wall-clock seconds before the child is killed (also its CPU-time limit).
        memory_mb: the child's address-space limit.
        log: where the converter's log lines and prints go (default: this module's logger).
        limits: the caps on the reports, checked in the child; the reply may not be larger
            than their sum allows (default: :class:`OutputLimits`'s defaults).

    Returns:
        The converter's result, or ``Failed`` naming what went wrong with the child.
    """
    reply = _run_child("convert", kind, base_dir, target, ctx_data, timeout, memory_mb, log, limits)
    if isinstance(reply, Failed):
        return reply
    if reply.result is None:
        return Failed(reason="converter process replied without a result")
    return reply.result


def describe_in_child(
    kind: str,
    base_dir: Path | None,
    ctx_data: ContextData,
    *,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    log: logging.Logger | None = None,
) -> ConverterDescription | Failed:
    """Load a user converter in a child process, check its arguments, and describe it.

    The daemon never imports user code itself: a module that crashes, hangs or exits on import
    only fails this child. ``Failed`` names the load or argument problem.
    """
    reply = _run_child("describe", kind, base_dir, None, ctx_data, timeout, memory_mb, log)
    if isinstance(reply, Failed):
        return reply
    if reply.description is None:
        if reply.result is not None and isinstance(reply.result, Failed):
            return reply.result
        return Failed(reason="converter process replied without a description")
    return reply.description


def validate_in_child(
    kind: str,
    base_dir: Path | None,
    target: Path,
    ctx_data: ContextData,
    *,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    log: logging.Logger | None = None,
) -> Validation:
    """Run a user converter's ``validate()`` in a child process (see :func:`convert_in_child`).

    A child that fails gives confidence 0 with the reason as ``message``.
    """
    reply = _run_child("validate", kind, base_dir, target, ctx_data, timeout, memory_mb, log)
    if isinstance(reply, Failed):
        return Validation(confidence=0.0, message=reply.reason)
    if reply.validation is None:
        return Validation(confidence=0.0, message="converter process replied without a validation")
    return reply.validation


def _child_env(base_dir: Path | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key in _ENV_KEEP or key.startswith(_ENV_KEEP_PREFIX)
    }
    # The child must import this package even when it is not installed (a source checkout).
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    if base_dir is not None:
        paths.append(str(base_dir))  # "module:Class" kinds living beside the configuration
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONSTARTUP", None)
    return env


def _run_child(
    action: str,
    kind: str,
    base_dir: Path | None,
    target: Path | None,
    ctx_data: ContextData,
    timeout: float,
    memory_mb: int,
    log: logging.Logger | None,
    limits: OutputLimits | None = None,
) -> ChildReply | Failed:
    log = log or logging.getLogger("pywats_station.converters.child")
    limits = limits or OutputLimits()
    # The reports were checked in the child; a reply beyond them (and a margin for the JSON
    # around them) is refused unread, so the daemon never holds more than the limits allow.
    max_reply = limits.max_output_size + limits.max_output_size // 100 + _REPLY_ENVELOPE
    request = ChildRequest(
        action=action,
        kind=kind,
        base_dir=None if base_dir is None else str(base_dir),
        target=None if target is None else str(target),
        context=ctx_data,
        memory_mb=memory_mb,
        cpu_seconds=max(1, int(timeout + 0.999)),
        limits=limits,
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pywats_station.converters._child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(base_dir),
            cwd=base_dir if base_dir is not None and base_dir.is_dir() else None,
            start_new_session=True,  # its own process group: a timeout kills its children too
        )
    except OSError as exc:
        return Failed(reason=f"converter process could not be started: {exc}")
    with proc:  # closes the pipes and reaps the child, whatever happens
        try:
            out, err, outcome = _exchange(proc, msgspec.json.encode(request), timeout, max_reply)
        finally:
            if proc.poll() is None:
                _kill(proc)
    _forward(err, log)
    if outcome == "timeout":
        return Failed(reason=f"converter timed out after {timeout:g} s")
    if outcome == "too big":
        return Failed(
            reason=f"converter reply exceeds {human_size(max_reply)} (the reports may be at most "
            f"{human_size(limits.max_output_size)}, {limits.key('max_output_size')})"
        )
    code = proc.returncode
    if code < 0:
        return Failed(reason=_signal_reason(-code, memory_mb, request.cpu_seconds))
    if code > 0:
        last = _last_stderr_line(err)
        return Failed(
            reason=f"converter process exited with code {code}{': ' + last if last else ''}"
        )
    if not out.strip():
        return Failed(reason="converter process exited without a result")
    try:
        return msgspec.json.decode(out, type=ChildReply)
    except msgspec.DecodeError as exc:
        return Failed(
            reason=f"converter process wrote unreadable output to stdout ({exc}); it began "
            f"{out[:60]!r}"
        )


def _exchange(
    proc: subprocess.Popen[bytes], request: bytes, timeout: float, max_reply: int
) -> tuple[bytes, bytes, str]:
    """Send the request; read stdout and stderr until both close or a limit is hit.

    Returns:
        The reply, the tail of stderr, and ``"done"``, ``"timeout"`` or ``"too big"`` (the
        reply grew beyond ``max_reply`` bytes); on a limit the process group is killed.
    """
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    try:
        proc.stdin.write(request)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the child died before reading; its exit code tells why
    out: list[bytes] = []
    size = 0
    err = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(proc)
                return b"".join(out), bytes(err), "timeout"
            for key, _ in sel.select(remaining):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.data is out:
                    out.append(chunk)
                    size += len(chunk)
                    if size > max_reply:
                        _kill(proc)
                        return b"", bytes(err), "too big"
                else:
                    err += chunk
                    del err[:-_STDERR_TAIL]  # keep the tail only: a chatty child stays bounded
    return b"".join(out), bytes(err), "done"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()


def _signal_reason(number: int, memory_mb: int, cpu_seconds: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGKILL:
        return f"converter was killed by signal {number} (memory limit {memory_mb} MB?)"
    if number == getattr(signal, "SIGXCPU", None):
        return f"converter was killed by signal {number} (CPU time limit {cpu_seconds} s)"
    return f"converter was killed by signal {number} ({name})"


def _last_stderr_line(err: bytes) -> str:
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


_encoder = msgspec.json.Encoder()

_LEVELS = {
    name: getattr(logging, name) for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
}


def _forward(err: bytes, log: logging.Logger) -> None:
    """Pass the child's log lines (``LEVEL:message``) and prints on to the station log."""
    for line in err.decode("utf-8", "replace").splitlines():
        level_name, sep, message = line.partition(":")
        if sep and level_name in _LEVELS:
            log.log(_LEVELS[level_name], "%s", message)
        elif line.strip():
            log.info("%s", line)

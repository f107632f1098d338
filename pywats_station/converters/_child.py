"""The child process of :mod:`pywats_station.converters.sandbox`: one conversion, then exit.

Run as ``python -m pywats_station.converters._child``. It reads a
:class:`~pywats_station.converters.sandbox.ChildRequest` as JSON on stdin, sets its own limits
(address space and CPU time) *before* the converter is imported, runs the conversion and writes
a :class:`~pywats_station.converters.sandbox.ChildReply` as JSON on stdout. ``sys.stdout`` is
pointed at stderr first, so a converter's ``print()`` goes to the log instead of the reply.

Run as ``python -m pywats_station.converters._child --serve FD``, it is a warm worker of
:mod:`pywats_station.converters._warm` instead: it loads the converter once and serves one
input after another (frames on stdin, replies on file descriptor ``FD``) until its stdin ends.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
from pathlib import Path
from typing import BinaryIO

import msgspec

from pywats_station.converters._warm import (
    IDLE_EXIT,
    WorkerReply,
    WorkerRequest,
    WorkerStart,
    read_frame,
    write_frame,
)
from pywats_station.converters.api import (
    AnyConverter,
    ConverterConfigError,
    ConverterContext,
    Failed,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
    Validation,
    parse_arguments,
)
from pywats_station.converters.registry import ConverterLoadError, create_converter
from pywats_station.converters.sandbox import (
    ChildReply,
    ChildRequest,
    describe,
    run_conversion,
)


def _limit(memory_mb: int, cpu_seconds: int | None) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the parent's timeout still applies
        return
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu_seconds is not None:
        # Soft limit: SIGXCPU (a clear reason); the hard limit a little later kills for sure.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def _limit_cpu(cpu_seconds: int) -> None:
    """A warm worker's CPU allowance for the next input: the time used so far plus this.

    Only the soft limit moves (SIGXCPU ends the worker with a clear reason); the hard limit is
    left alone, since an unprivileged process could not raise it again for the next input.
    """
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + cpu_seconds
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _serve(request: ChildRequest) -> ChildReply:
    log = logging.getLogger(f"pywats_station.converter.{request.kind}")
    try:
        converter = create_converter(
            request.kind, base_dir=None if request.base_dir is None else Path(request.base_dir)
        )
        arguments = parse_arguments(type(converter), request.context.arguments)
    except (ConverterLoadError, ConverterConfigError) as exc:
        if request.action == "validate":
            return ChildReply(validation=Validation(confidence=0.0, message=str(exc)))
        return ChildReply(result=Failed(reason=str(exc)))
    if request.action == "describe":
        return ChildReply(description=describe(type(converter)))
    ctx = ConverterContext(
        station=request.context.station,
        processes=request.context.processes,
        arguments=arguments,
        log=log,
    )
    target = None if request.target is None else Path(request.target)
    if request.action == "validate":
        if target is None or isinstance(converter, ScheduledConverter):
            return ChildReply(validation=Validation(confidence=0.0, message="nothing to validate"))
        return ChildReply(validation=_validate(converter, target, ctx, request.memory_mb))
    result = run_conversion(
        converter, target, ctx, memory_mb=request.memory_mb, limits=request.limits
    )
    return ChildReply(result=result)


def _validate(
    converter: FileConverter | FolderConverter, target: Path, ctx: ConverterContext, mb: int
) -> Validation:
    try:
        validation = converter.validate(target, ctx)
    except MemoryError:
        return Validation(confidence=0.0, message=f"validate() ran out of memory (limit {mb} MB)")
    except Exception as exc:
        return Validation(confidence=0.0, message=f"validate() raised {type(exc).__name__}: {exc}")
    if not isinstance(validation, Validation):
        return Validation(confidence=0.0, message="validate() did not return a Validation")
    return validation


def main() -> int:
    """Serve one request from stdin; the exit code is 0 whenever a reply was written."""
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        return serve(int(sys.argv[2]))
    reply_stream: BinaryIO = sys.stdout.buffer
    sys.stdout = sys.stderr  # prints go to the log, never into the reply
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(levelname)s:%(message)s")
    request = msgspec.json.decode(sys.stdin.buffer.read(), type=ChildRequest)
    _limit(request.memory_mb, request.cpu_seconds)
    reply = _serve(request)
    reply_stream.write(msgspec.json.encode(reply))
    reply_stream.flush()
    return 0


# --- the warm worker ------------------------------------------------------------------------

_OUT_OF_MEMORY = ("converter ran out of memory", "validate() ran out of memory")


def serve(reply_fd: int) -> int:
    """Load the converter named in the first frame, then serve inputs until stdin ends."""
    replies = os.fdopen(reply_fd, "wb")
    # Anything written to fd 1 (print, os.write(1, …), a C library) goes to the log; the
    # replies have their own descriptor, which a converter has no reason to touch.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(levelname)s:%(message)s")
    stdin: BinaryIO = sys.stdin.buffer
    first = read_frame(stdin)
    if first is None:
        return 0
    start = msgspec.json.decode(first, type=WorkerStart)
    _limit(start.memory_mb, None)
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(stdin, inbox), daemon=True).start()
    base_dir = None if start.base_dir is None else Path(start.base_dir)
    before = set(sys.modules)
    try:
        converter = create_converter(start.kind, base_dir=base_dir)
    except ConverterLoadError as exc:
        write_frame(replies, msgspec.json.encode(WorkerReply(failed=str(exc))))
        return 0
    ready = WorkerReply(sources=_sources(set(sys.modules) - before))
    write_frame(replies, msgspec.json.encode(ready))
    log = logging.getLogger(f"pywats_station.converter.{start.kind}")
    while True:
        try:
            frame = inbox.get(timeout=start.idle_exit or None)
        except queue.Empty:
            # Idle: give the memory back. A request that crossed this exit was not served;
            # the exit code tells the station to send it again to a fresh child.
            sys.stderr.flush()
            os._exit(IDLE_EXIT)
        request = msgspec.json.decode(frame, type=WorkerRequest)
        _limit_cpu(request.cpu_seconds)
        reply = _serve_one(converter, request, log, start.memory_mb)
        retire = any(
            (reply.result is not None and getattr(reply.result, "reason", "").startswith(oom))
            or (reply.validation is not None and (reply.validation.message or "").startswith(oom))
            for oom in _OUT_OF_MEMORY
        )
        write_frame(replies, msgspec.json.encode(WorkerReply(reply=reply, retire=retire)))


def _read_requests(stdin: BinaryIO, inbox: queue.SimpleQueue[bytes]) -> None:
    """Pass the frames on; at the end of stdin (the station closed it, or died) end at once.

    The whole process group goes, whatever the converter is doing: a hung conversion and the
    processes it started must not outlive the station.
    """
    while (frame := read_frame(stdin)) is not None:
        inbox.put(frame)
    sys.stderr.flush()
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _serve_one(
    converter: AnyConverter, request: WorkerRequest, log: logging.Logger, memory_mb: int
) -> ChildReply:
    context = request.context
    try:
        arguments = parse_arguments(type(converter), context.arguments)
    except ConverterConfigError as exc:
        if request.action == "convert":
            return ChildReply(result=Failed(reason=str(exc)))
        return ChildReply(validation=Validation(confidence=0.0, message=str(exc)))
    ctx = ConverterContext(
        station=context.station, processes=context.processes, arguments=arguments, log=log
    )
    target = None if request.target is None else Path(request.target)
    if request.action in ("run", "validate"):
        if target is None or isinstance(converter, ScheduledConverter):
            return ChildReply(validation=Validation(confidence=0.0, message="nothing to validate"))
        validation = _validate(converter, target, ctx, memory_mb)
        if request.action == "validate" or validation.confidence < request.reject_below:
            return ChildReply(validation=validation)
        result = run_conversion(converter, target, ctx, memory_mb=memory_mb, limits=request.limits)
        return ChildReply(validation=validation, result=result)
    result = run_conversion(converter, target, ctx, memory_mb=memory_mb, limits=request.limits)
    return ChildReply(result=result)


def _sources(names: set[str]) -> list[tuple[str, int]]:
    """The converter's own source files among the modules it loaded, with their mtimes.

    The interpreter's and the virtual environment's files and this package's are not the
    converter's: an upgrade of those restarts the station anyway.
    """
    ours = Path(__file__).resolve().parents[2]
    places = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    places += [ours / "pywats", ours / "pywats_station"]
    skip = tuple(str(place.resolve()) + os.sep for place in places)
    found: list[tuple[str, int]] = []
    for name in sorted(names):
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file:
            continue
        path = str(Path(file).resolve())
        if path.startswith(skip):
            continue
        try:
            found.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            continue
    return found


if __name__ == "__main__":
    sys.exit(main())

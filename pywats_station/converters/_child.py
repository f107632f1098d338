"""The child process of :mod:`pywats_station.converters.sandbox`: one conversion, then exit.

Run as ``python -m pywats_station.converters._child``. It reads a
:class:`~pywats_station.converters.sandbox.ChildRequest` as JSON on stdin, sets its own limits
(address space and CPU time) *before* the converter is imported, runs the conversion and writes
a :class:`~pywats_station.converters.sandbox.ChildReply` as JSON on stdout. ``sys.stdout`` is
pointed at stderr first, so a converter's ``print()`` goes to the log instead of the reply.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import BinaryIO

import msgspec

from pywats_station.converters.api import (
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
from pywats_station.converters.sandbox import ChildReply, ChildRequest, describe, run_conversion


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the parent's timeout still applies
        return
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Soft limit: SIGXCPU (a clear reason); the hard limit a little later kills for sure.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


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
    reply_stream: BinaryIO = sys.stdout.buffer
    sys.stdout = sys.stderr  # prints go to the log, never into the reply
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(levelname)s:%(message)s")
    request = msgspec.json.decode(sys.stdin.buffer.read(), type=ChildRequest)
    _limit(request.memory_mb, request.cpu_seconds)
    reply = _serve(request)
    reply_stream.write(msgspec.json.encode(reply))
    reply_stream.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

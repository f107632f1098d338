"""Where a built-in converter runs: in the daemon's worker thread, or in a child process.

A Python process rarely gives back memory it once took: its heap keeps the holes a big
conversion leaves (pymalloc arenas with a few live objects, glibc heaps with free chunks). A
daemon that converted one 50 MB CSV in its own thread stayed 400 MB large. So
:func:`convert_builtin` converts small inputs in the thread (fast: most inputs are a few kB,
and a child process costs about 0.2 s) and big ones in a child process, which gives everything
back when it exits; only the reports come back, as WSJF, within the output limits.

The daemon still decodes the reports it gets back (several times their size in memory, while it
queues them). Once they are gone, :func:`release_memory` hands the free memory of the C heap back
to the system (glibc's ``malloc_trim``): the conversion's reports are built in the child, so what
the daemon frees is contiguous enough to be given back. ``bench/converter_memory.py`` measures
both ways and the combination.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path

import trio

from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
)
from pywats_station.converters.builtin._budget import OutputLimits, TooBigForThread
from pywats_station.converters.sandbox import ContextData, convert_in_child, run_conversion

__all__ = ["ReleasedReports", "convert_builtin", "release_memory", "release_soon"]


class ReleasedReports(list[UUTReport | UURReport]):
    """The reports of a big conversion: ``on_release`` is called once this list is gone.

    A plain list cannot be referenced weakly; this one can, so the caller learns when the reports
    it was given are dropped (queued or not) without keeping them alive.
    """

    __slots__ = ("__weakref__",)

    def __init__(
        self, reports: Iterable[UUTReport | UURReport], on_release: Callable[[], None]
    ) -> None:
        super().__init__(reports)
        # Not at interpreter exit: the memory goes back with the process then.
        weakref.finalize(self, on_release).atexit = False


def convert_builtin(
    converter: FileConverter | FolderConverter | ScheduledConverter,
    kind: str,
    target: Path | None,
    ctx: ConverterContext,
    ctx_data: ContextData,
    *,
    limits: OutputLimits,
    child_above: int,
    timeout: float = 120.0,
    memory_mb: int = 1024,
    log: logging.Logger | None = None,
    on_release: Callable[[], None] | None = None,
) -> ConversionResult:
    """Convert with a built-in converter where its memory is given back afterwards.

    An input of at most ``child_above`` bytes is converted in this process (a worker thread of
    the daemon) by :func:`~pywats_station.converters.sandbox.run_conversion`. A larger input, or
    one whose reports outgrow ``child_above`` bytes of WSJF while they are built (a small CSV can
    make many steps: the output budget's ``thread_limit``), is converted in a child process
    (:func:`~pywats_station.converters.sandbox.convert_in_child`, with ``timeout`` and
    ``memory_mb``).

    Args:
        converter: the built-in converter, arguments parsed (``ctx``).
        kind: its kind, for the child to create it again (``"csv"``…).
        target: the file (or folder) to convert; ``None`` for a scheduled converter.
        ctx: the context for a conversion in this process.
        ctx_data: the same context as plain data, for the child.
        limits: the caps on the reports.
        child_above: the size, in bytes of input or of reports, above which the child converts.
        timeout: the child's wall-clock limit in seconds.
        memory_mb: the child's address-space limit.
        log: where the child's log lines go.
        on_release: called once the reports a child sent back are dropped (see
            :class:`ReleasedReports`): the moment to :func:`release_memory`.
    """
    if target is None or _input_size(target) <= child_above:
        try:
            return run_conversion(converter, target, ctx, limits=limits, thread_limit=child_above)
        except TooBigForThread as exc:
            name = target.name if target is not None else converter.name
            (log or ctx.log).info("%s: %s; converting it again in a child process", name, exc)
    result = convert_in_child(
        kind, None, target, ctx_data, timeout=timeout, memory_mb=memory_mb, log=log, limits=limits
    )
    if on_release is not None and isinstance(result, Converted):
        return Converted(reports=ReleasedReports(result.reports, on_release))
    return result


def _input_size(target: Path) -> int:
    """The bytes to read: a file's size, or the sum of a folder's files (0 if unreadable: the
    converter then says what is wrong with it)."""
    try:
        if target.is_dir():
            return sum(entry.stat().st_size for entry in target.iterdir() if entry.is_file())
        return target.stat().st_size
    except OSError:
        return 0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library this process runs on
    except OSError:  # pragma: no cover - Windows
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only (not musl, macOS or Windows)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


_trim = _malloc_trim()


def release_memory() -> bool:
    """Give the free memory of the C heap back to the system; whether that was possible.

    Blocking (a few milliseconds for a heap of a few hundred MB): call it in a worker thread.
    """
    if _trim is None:
        return False
    _trim(0)
    return True


def release_soon(
    token: trio.lowlevel.TrioToken, release: Callable[[], object] = release_memory
) -> Callable[[], None]:
    """An ``on_release`` for :func:`convert_builtin` that runs ``release`` (default
    :func:`release_memory`) in a worker thread of the trio run ``token`` belongs to, once the
    reports are really gone.

    The callback comes while the last list of the reports is being freed, their contents not
    yet: releasing then would find nothing to give back. So it only schedules the release, for
    when the event loop next gets control.
    """

    def schedule() -> None:
        with contextlib.suppress(trio.RunFinishedError):  # the run is over: so is its memory
            token.run_sync_soon(trio.lowlevel.spawn_system_task, trio.to_thread.run_sync, release)

    return schedule

"""Running one converter's ``validate()`` and ``convert()`` off the event loop.

Converter code is user code (design §3): it never runs on the event loop.

* a built-in runs in a worker thread for small inputs, and in a child process above
  ``child_process_above`` (:func:`~pywats_station.converters._placement.convert_builtin`), so
  that the memory a big conversion takes goes back to the system;
* a user converter always runs in a child process with time and memory limits: its warm
  worker (:mod:`pywats_station.converters._warm`), reused across inputs, which validates and
  converts an input in one trip; hanging, crashing or exiting fails the input only (and the
  next input gets a fresh worker).

The converter actor (:mod:`pywats_station.actors.converter`) decides what to do with the
results; this module only knows where and how to run the code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import trio

from pywats.models.app import Process
from pywats_station.config import ConverterConfig
from pywats_station.converters import (
    ConversionResult,
    ConverterContext,
    StationInfo,
    Validation,
)
from pywats_station.converters._placement import convert_builtin, release_soon
from pywats_station.converters._warm import WarmWorker, validation_of
from pywats_station.converters.api import Failed
from pywats_station.converters.sandbox import ContextData, OutputLimits

__all__ = ["ConverterRunner"]


@dataclass(frozen=True)
class ConverterRunner:
    """Runs one configured converter's code, each call off the event loop.

    Attributes:
        cfg: the converter's configuration (kind, limits, arguments).
        base_dir: where relative ``kind`` paths of user converters are found.
        instance: a built-in converter (runs in this process), or ``None`` (a user converter).
        arguments: the built-in's parsed arguments.
        station: who the reports say made them, read at each call: ``[station]`` with the
            converter's own ``[converters.station]`` over it (a reload of ``[station]`` reaches
            a running converter).
        processes: the synced process list, read at each call.
        log: the converter's logger.
        pending: a user converter's result converted in the same trip as its validation,
            kept for :meth:`convert` of the same path (``[path, result]`` or empty).
    """

    cfg: ConverterConfig
    base_dir: Path | None
    instance: Any
    arguments: Any
    station: Callable[[], StationInfo]
    processes: Callable[[], list[Process]]
    log: logging.Logger
    pending: list[Any] = field(default_factory=list, compare=False)

    @cached_property
    def worker(self) -> WarmWorker:
        """A user converter's warm child (started at its first input)."""
        return WarmWorker(
            self.cfg.kind,
            self.base_dir,
            memory_mb=self.cfg.memory_mb,
            max_files=self.cfg.worker_max_files,
            idle_exit=self.cfg.worker_idle_exit,
            log=self.log,
        )

    def abort(self) -> None:
        """Kill the warm child now, from any thread: an input in progress fails at once."""
        if "worker" in self.__dict__:
            self.worker.abort()

    def close(self) -> None:
        """Stop the warm child, if one was started (blocking, short: it is told to exit)."""
        if "worker" in self.__dict__:
            self.worker.close()

    def limits(self) -> OutputLimits:
        """The caps on the reports, named as the user configures them in error messages."""
        return OutputLimits(
            max_report_size=self.cfg.max_report_size,
            max_output_size=self.cfg.max_output_size,
            settings=f"converters.{self.cfg.name}",
        )

    def context(self) -> ConverterContext:
        """What a built-in's ``validate``/``convert`` receive."""
        return ConverterContext(
            station=self.station(),
            processes=self.processes(),
            arguments=self.arguments,
            log=self.log,
        )

    def context_data(self) -> ContextData:
        """The same, as data for a child process (which parses the arguments itself)."""
        return ContextData(
            station=self.station(),
            processes=self.processes(),
            arguments=dict(self.cfg.arguments),
        )

    async def validate(self, path: Path) -> Validation:
        """The converter's confidence in ``path``; an exception is confidence 0 with the reason."""
        if self.instance is not None:
            instance = self.instance
            ctx = self.context()

            def validate() -> Validation:
                try:
                    result: Validation = instance.validate(path, ctx)
                except Exception as exc:
                    return Validation(confidence=0.0, message=f"validate() raised {exc!r}")
                return result

            return await trio.to_thread.run_sync(validate)
        # A user converter: one trip to its warm child validates and, unless the confidence is
        # below the reject threshold, converts too; convert() of the same path takes the result.
        data, limits = self.context_data(), self.limits()
        self.pending.clear()
        validation, result = await trio.to_thread.run_sync(self.in_child, path, data, limits)
        if result is not None:
            self.pending[:] = [path, result]
        return validation

    def in_child(
        self, path: Path, data: ContextData, limits: OutputLimits
    ) -> tuple[Validation, ConversionResult | None]:
        """A user converter's validation of ``path`` and, unless it is below the reject
        threshold, its result: one trip to the warm child (blocking: call it in a thread).
        """
        reply = self.worker.run(
            "run",
            path,
            data,
            timeout=self.cfg.timeout,
            limits=limits,
            reject_below=self.cfg.reject_threshold,
        )
        if isinstance(reply, Failed):
            # The child died, hung or could not load the converter, somewhere in validate() or
            # convert() (one trip): the input fails with that reason as the conversion's, as
            # it did when they were two trips, not as a low confidence. The confidence
            # passes, so the caller goes on to the result, which is this Failed.
            return Validation(confidence=1.0, message=reply.reason), reply
        return validation_of(reply), reply.result

    def convert_builtin(
        self,
        target: Path | None,
        ctx: ConverterContext,
        data: ContextData,
        limits: OutputLimits,
        release: Callable[[], None],
    ) -> ConversionResult:
        """A built-in's conversion, blocking (in a worker thread): here for small inputs, in a
        child process above ``child_process_above`` (see :func:`convert_builtin`)."""
        return convert_builtin(
            self.instance,
            self.cfg.kind,
            target,
            ctx,
            data,
            limits=limits,
            child_above=self.cfg.child_process_above,
            timeout=self.cfg.timeout,
            memory_mb=self.cfg.memory_mb,
            log=self.log,
            on_release=release,
        )

    async def convert(self, target: Path | None) -> ConversionResult:
        """Convert ``target`` (``None``: a scheduled run); failures come back as results."""
        limits = self.limits()
        data = self.context_data()
        if self.instance is not None:
            # Small inputs in a worker thread; big ones in a child process, so that the memory
            # a big conversion takes goes back to the system (see convert_builtin). The reports
            # a child sends back are decoded here: once they are dropped (queued, or not), the
            # heap they used is handed back too.
            release = release_soon(trio.lowlevel.current_trio_token())
            ctx = self.context()
            return await trio.to_thread.run_sync(
                lambda: self.convert_builtin(target, ctx, data, limits, release)
            )
        if self.pending and self.pending[0] == target:
            result: ConversionResult = self.pending.pop()
            self.pending.clear()
            return result
        self.pending.clear()
        reply = await trio.to_thread.run_sync(
            lambda: self.worker.run(
                "convert", target, data, timeout=self.cfg.timeout, limits=limits
            )
        )
        if isinstance(reply, Failed):
            return reply
        if reply.result is None:
            return Failed(reason="converter process replied without a result")
        return reply.result

"""Running one converter's ``validate()`` and ``convert()`` off the event loop.

Converter code is user code (design §3): it never runs on the event loop.

* a built-in runs in a worker thread for small inputs, and in a child process above
  ``child_process_above`` (:func:`~pywats_station.converters._placement.convert_builtin`), so
  that the memory a big conversion takes goes back to the system;
* a user converter always runs in a child process with time and memory limits
  (:mod:`pywats_station.converters.sandbox`): hanging, crashing or exiting fails the input only.

The converter actor (:mod:`pywats_station.actors.converter`) decides what to do with the
results; this module only knows where and how to run the code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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
from pywats_station.converters.sandbox import (
    ContextData,
    OutputLimits,
    convert_in_child,
    validate_in_child,
)

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
    """

    cfg: ConverterConfig
    base_dir: Path | None
    instance: Any
    arguments: Any
    station: Callable[[], StationInfo]
    processes: Callable[[], list[Process]]
    log: logging.Logger

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
        data = self.context_data()
        return await trio.to_thread.run_sync(
            lambda: validate_in_child(
                self.cfg.kind,
                self.base_dir,
                path,
                data,
                timeout=min(30.0, self.cfg.timeout),
                memory_mb=self.cfg.memory_mb,
                log=self.log,
            )
        )

    async def convert(self, target: Path | None) -> ConversionResult:
        """Convert ``target`` (``None``: a scheduled run); failures come back as results."""
        # The caps on the reports, named as the user configures them in error messages.
        limits = OutputLimits(
            max_report_size=self.cfg.max_report_size,
            max_output_size=self.cfg.max_output_size,
            settings=f"converters.{self.cfg.name}",
        )
        data = self.context_data()
        if self.instance is not None:
            # Small inputs in a worker thread; big ones in a child process, so that the memory
            # a big conversion takes goes back to the system (see convert_builtin). The reports
            # a child sends back are decoded here: once they are dropped (queued, or not), the
            # heap they used is handed back too.
            release = release_soon(trio.lowlevel.current_trio_token())
            instance, ctx = self.instance, self.context()
            return await trio.to_thread.run_sync(
                lambda: convert_builtin(
                    instance,
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
            )
        return await trio.to_thread.run_sync(
            lambda: convert_in_child(
                self.cfg.kind,
                self.base_dir,
                target,
                data,
                timeout=self.cfg.timeout,
                memory_mb=self.cfg.memory_mb,
                log=self.log,
                limits=limits,
            )
        )

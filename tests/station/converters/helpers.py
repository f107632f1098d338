"""Shared helpers of the converter tests: a context factory and the sample data folder."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pywats.models.app import Process
from pywats_station.converters.api import ConverterContext, StationInfo, parse_arguments

DATA = Path(__file__).parent / "data"
STATION = StationInfo(name="FCT-1", location="Plant A", purpose="Production")
PROCESSES = [
    Process(code=10, name="SW Debug", is_test_operation=True),
    Process(code=50, name="PCBA test", is_test_operation=True),
    Process(code=500, name="Repair", is_repair_operation=True),
]


def make_ctx(
    converter_cls: type,
    arguments: Mapping[str, Any] | None = None,
    *,
    processes: list[Process] | None = None,
) -> ConverterContext:
    """A context for ``converter_cls`` with its arguments parsed, as the station makes it."""
    return ConverterContext(
        station=STATION,
        processes=PROCESSES if processes is None else processes,
        arguments=parse_arguments(converter_cls, arguments or {}),
        log=logging.getLogger("tests.converter"),
    )


def enlarger(kind: str) -> Callable[[bytes, int], bytes]:
    """``enlarge`` of ``bench/enlarge/<kind>.py`` (bench/ is not a package of the project:
    imported by name so that type checkers see each bench file under one module name)."""
    module = importlib.import_module(f"bench.enlarge.{kind}")
    function: Callable[[bytes, int], bytes] = module.enlarge
    return function

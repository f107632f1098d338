"""Set up the converters of a station: load, describe, check arguments, build their actors.

A converter that cannot be loaded or whose arguments are wrong is reported (status, control
channel, log) as ``broken`` with the reason, and simply not started: the others run on. User
converters are loaded in a child process only, so importing one can never take the daemon down.

Two converters that would watch the same folder are a configuration mistake (they would race
for every file): the later one in the file is ``broken``, naming the earlier one, so that
``config check`` says so and the daemon's start is predictable. A duplicate made while the
daemon runs (a reload) is refused by the folder's claim instead
(:mod:`pywats_station.actors._folder_claim`), with the same words.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from pywats_station._supervisor import AUXILIARY_BACKOFF_MAX, ChildSpec, Restart
from pywats_station.actors._folder_claim import already_watched
from pywats_station.actors.converter import (
    ConverterHost,
    ConverterStats,
    LoadedConverter,
    run_converter,
)
from pywats_station.config import ConverterConfig, ConverterStation
from pywats_station.converters import ConverterConfigError, StationInfo, parse_arguments
from pywats_station.converters.registry import ConverterLoadError, is_builtin, load_converter
from pywats_station.converters.sandbox import (
    ContextData,
    ConverterDescription,
    describe,
    describe_in_child,
)

__all__ = ["converter_spec", "load_converters", "load_one", "own_station"]

log = logging.getLogger("pywats_station.converters")


def load_one(
    cfg: ConverterConfig, *, base_dir: Path | None, station: StationInfo
) -> LoadedConverter:
    """Load one configured converter; a problem makes it ``broken`` (never raises)."""
    stats = ConverterStats(
        name=cfg.name, kind=cfg.kind, type=cfg.type, station=own_station(cfg, station)
    )
    placeholder = ConverterDescription(name=cfg.name, type=cfg.type)
    if not cfg.enabled:
        stats.state = "disabled"
        return LoadedConverter(cfg, placeholder, stats, base_dir)
    try:
        if is_builtin(cfg.kind):
            cls = load_converter(cfg.kind)
            arguments = parse_arguments(cls, cfg.arguments)
            loaded = LoadedConverter(
                cfg, describe(cls), stats, base_dir, instance=cls(), arguments=arguments
            )
        else:
            found = describe_in_child(
                cfg.kind,
                base_dir,
                ContextData(station=station, arguments=dict(cfg.arguments)),
                memory_mb=cfg.memory_mb,
            )
            if not isinstance(found, ConverterDescription):
                return _broken(cfg, stats, placeholder, base_dir, found.reason)
            loaded = LoadedConverter(cfg, found, stats, base_dir)
    except (ConverterLoadError, ConverterConfigError) as exc:
        return _broken(cfg, stats, placeholder, base_dir, str(exc))
    if loaded.description.type != cfg.type:
        stats.state = "broken"
        stats.error = (
            f"{cfg.kind} is a {loaded.description.type} converter, but the configuration says "
            f"type = {cfg.type!r}"
        )
        log.error("converter %s is broken and will not run: %s", cfg.name, stats.error)
    return loaded


def own_station(cfg: ConverterConfig, station: StationInfo) -> StationInfo | None:
    """Who ``cfg``'s reports name if it has a ``[converters.station]`` of its own, else ``None``."""
    return None if cfg.station == ConverterStation() else cfg.station.over(station)


def _broken(
    cfg: ConverterConfig,
    stats: ConverterStats,
    placeholder: ConverterDescription,
    base_dir: Path | None,
    reason: str,
) -> LoadedConverter:
    stats.state, stats.error = "broken", reason
    log.error("converter %s is broken and will not run: %s", cfg.name, reason)
    return LoadedConverter(cfg, placeholder, stats, base_dir)


def load_converters(
    configs: Iterable[ConverterConfig], *, base_dir: Path | None, station: StationInfo
) -> list[LoadedConverter]:
    """Load every configured converter (broken and disabled ones included, for status).

    Blocking (resolves watch folders, loads user converters in children): run it in a thread.
    """
    loaded = [load_one(cfg, base_dir=base_dir, station=station) for cfg in configs]
    watched: dict[Path, str] = {}
    for conv in loaded:
        if conv.stats.state in ("broken", "disabled") or conv.description.type == "scheduled":
            continue  # runs no watch: takes no folder from the ones after it
        folder = _real_folder(conv.config.watch)
        first = watched.setdefault(folder, conv.config.name)
        if first != conv.config.name:
            conv.stats.state, conv.stats.error = "broken", already_watched(folder, first)
            log.error("converter %s will not run: %s", conv.config.name, conv.stats.error)
    return loaded


def _real_folder(watch: str) -> Path:
    """The folder a ``watch`` setting names, links resolved as far as they exist yet."""
    path = Path(watch).expanduser().absolute()
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of links, a folder we may not look into
        return path


def converter_spec(loaded: LoadedConverter, host: ConverterHost) -> ChildSpec | None:
    """The supervised actor of a runnable converter; ``None`` for a broken or disabled one."""
    if loaded.stats.state in ("broken", "disabled"):
        return None
    return ChildSpec(
        f"converter:{loaded.config.name}",
        partial(run_converter, loaded, host),
        restart=Restart.PERMANENT,
        shutdown_timeout=0,  # conversions finish in their thread or child; nothing to drain
        # One converter that keeps failing must not restart the others: it is retried with
        # backoff and shown failing. It cannot lose a report (sources move only once queued),
        # so ending the process would help nothing.
        essential=False,
        backoff_max=AUXILIARY_BACKOFF_MAX,
    )

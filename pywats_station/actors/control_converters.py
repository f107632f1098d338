"""Control methods about converters: list, enable, disable, restart, and a dry-run conversion.

``converters.enable``/``disable`` are ``config.set`` of ``converters.<name>.enabled``: the
change is persisted and the hot reload starts or stops the converter's actor. A dry run
(``converters.convert_file``) never queues and never moves the file; user converters run in a
child process there too, as they do in the station (the daemon never imports user code).
"""

from __future__ import annotations

import logging
import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats_station._supervisor import ChildStatistics, SupervisorStatistics
from pywats_station.actors.control_methods import not_found, report_header
from pywats_station.config import ConverterConfig
from pywats_station.control import CallContext, ControlError, ErrorCode, Registry
from pywats_station.control import methods as m
from pywats_station.control.models import ReportStation
from pywats_station.control.roles import Role
from pywats_station.converters import (
    ConversionResult,
    Converted,
    Failed,
    Skipped,
    Suspended,
    Validation,
    classify_confidence,
    matches_patterns,
)
from pywats_station.converters.registry import is_builtin, load_converter
from pywats_station.converters.sandbox import ContextData, convert_in_child, validate_in_child
from pywats_station.converters.tryit import try_convert

if TYPE_CHECKING:
    from pywats_station.actors.control_port import OperatorPort

__all__ = ["REPORT_BUDGET", "converter_info", "register_converter_methods"]

REPORT_BUDGET = 32 << 20
"""WSJF bytes of whole reports one ``convert_file`` reply carries (``include_report``): the
control client reads replies up to 64 MiB, and JSON escapes can make a report longer."""


def _actor(station: OperatorPort, name: str) -> ChildStatistics | SupervisorStatistics | None:
    tree = station.converter_statistics()
    if tree is None:
        return None
    actor = f"converter:{name}"
    return next((c for c in tree.children if c.name == actor), None)


def _config(station: OperatorPort, name: str) -> ConverterConfig:
    for cfg in station.config.converters:
        if cfg.name == name:
            return cfg
    raise not_found(f"no converter named {name!r}", name=name)


def _patterns(station: OperatorPort, cfg: ConverterConfig) -> list[str]:
    """The patterns a converter uses: configured, else its own (known once it was loaded)."""
    if cfg.patterns:
        return list(cfg.patterns)
    loaded = station.converters.get(cfg.name)
    if loaded is not None and loaded.stats.state not in ("disabled", "broken"):
        return list(loaded.description.patterns)
    if is_builtin(cfg.kind):  # a disabled built-in: its class says (user code stays unloaded)
        return list(getattr(load_converter(cfg.kind), "patterns", ("*",)))
    return []


def converter_info(station: OperatorPort, name: str) -> m.ConverterInfo:
    """One configured converter and how it is doing.

    Raises:
        ControlError: -32010 when no converter has that name.
    """
    cfg = _config(station, name)
    loaded = station.converters.get(name)
    stats = loaded.stats if loaded is not None else None
    actor = _actor(station, name)
    if not cfg.enabled:
        state = "disabled"
    elif actor is not None:
        state = actor.state
    elif stats is not None and stats.state == "broken":
        state = "broken"
    else:
        state = "stopped"
    return m.ConverterInfo(
        name=cfg.name,
        kind=cfg.kind,
        type=cfg.type,
        enabled=cfg.enabled,
        state=state,
        watch=None if cfg.type == "scheduled" else cfg.watch,
        patterns=_patterns(station, cfg),
        converted=stats.converted if stats else 0,
        failed=stats.failed if stats else 0,
        restarts=actor.restarts if actor is not None else 0,
        last_file=stats.last_file if stats else None,
        last_error=(stats.error or stats.last_error) if stats else None,
        last_activity_at=stats.last_at if stats else None,
        refused=stats.refused if stats else 0,
        last_refused=stats.last_refused if stats else None,  # escaped where it was recorded
        station=ReportStation(**msgspec.structs.asdict(cfg.station.over(station.station_info()))),
    )


class _Lines(logging.Handler):
    """Collects what a converter logs during a dry run (kept out of the daemon's log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


def _dry_run(
    station: OperatorPort, path: Path, kind: str, cfg: ConverterConfig | None
) -> tuple[ConversionResult, Validation | None, list[str]]:
    """Convert ``path`` as the station would, without queueing (runs in a worker thread)."""
    base_dir = station.config_file.parent
    arguments = dict(cfg.arguments) if cfg is not None else {}
    # The converter's own station (hub mode): the reports it would make name it.
    info = cfg.station.over(station.station_info()) if cfg is not None else station.station_info()
    if is_builtin(kind):
        tried = try_convert(
            path,
            kind=kind,
            arguments=arguments,
            station=info,
            processes=station.processes(),
            base_dir=base_dir,
        )
        warnings = [line.split(": ", 1)[1] for line in tried.log if line.startswith("WARNING: ")]
        return tried.result, tried.validation, warnings
    # User code: in a child process with the converter's limits, never in the daemon.
    lines = _Lines()
    log = logging.Logger(f"pywats_station.converter.dry_run.{path.name}")  # not propagated
    log.addHandler(lines)
    data = ContextData(station=info, processes=station.processes(), arguments=arguments)
    timeout = cfg.timeout if cfg is not None else 120.0
    memory = cfg.memory_mb if cfg is not None else 1024
    validation: Validation | None = None
    target: Path | None = path
    if cfg is not None and cfg.type == "scheduled":
        target = None
    else:
        validation = validate_in_child(
            kind, base_dir, path, data, timeout=min(30.0, timeout), memory_mb=memory, log=log
        )
    result = convert_in_child(
        kind, base_dir, target, data, timeout=timeout, memory_mb=memory, log=log
    )
    return result, validation, lines.warnings


def _reports(
    reports: list[UUTReport | UURReport], include: bool
) -> tuple[list[m.ConvertedReport], list[str]]:
    """The reports of a dry run, whole if ``include``; and warnings (runs in a worker thread:
    validating, encoding and decoding a big report takes a while)."""
    out: list[m.ConvertedReport] = []
    warnings: list[str] = []
    budget = REPORT_BUDGET
    for report in reports:
        problems = [str(p) for p in report.validate(server_rules=False)]
        whole: dict[str, Any] | None = None
        if include:
            try:
                # Encoded as the queue stores it, then decoded: exactly what the server gets.
                data = wsjf.dumps(report)
            except (ValueError, UnicodeEncodeError) as exc:  # too deep; lone surrogates
                warnings.append(f"report {report.id} cannot be encoded as WSJF: {exc}")
            else:
                if len(data) <= budget:
                    budget -= len(data)
                    whole = msgspec.json.decode(data)
                else:
                    warnings.append(
                        f"report {report.id} is left out: {len(data)} bytes of WSJF, more than "
                        f"one reply carries ({REPORT_BUDGET} in all)"
                    )
        out.append(
            m.ConvertedReport(
                report_id=str(report.id),
                header=report_header(report),
                steps=len(report.steps()),
                valid=not problems,
                problems=problems,
                report=whole,
            )
        )
    return out, warnings


def register_converter_methods(registry: Registry, station: OperatorPort) -> None:
    """Register the ``converters.*`` methods for ``station``."""

    @registry.implement(m.CONVERTERS_LIST)
    async def converters_list(ctx: CallContext, params: m.NoParams) -> m.ConvertersListResult:
        infos = [converter_info(station, cfg.name) for cfg in station.config.converters]
        return m.ConvertersListResult(converters=infos)

    async def set_enabled(name: str, enabled: bool) -> m.ConverterInfo:
        _config(station, name)  # -32010 before anything is written
        await station.set_converter_enabled(name, enabled)
        return converter_info(station, name)

    @registry.implement(m.CONVERTERS_ENABLE)
    async def converters_enable(ctx: CallContext, params: m.ConverterNameParams) -> m.ConverterInfo:
        return await set_enabled(params.name, True)

    @registry.implement(m.CONVERTERS_DISABLE)
    async def converters_disable(
        ctx: CallContext, params: m.ConverterNameParams
    ) -> m.ConverterInfo:
        return await set_enabled(params.name, False)

    @registry.implement(m.CONVERTERS_RESTART)
    async def converters_restart(
        ctx: CallContext, params: m.ConverterNameParams
    ) -> m.ConverterInfo:
        cfg = _config(station, params.name)
        if not cfg.enabled:
            raise ControlError(
                ErrorCode.CONFLICT,
                f"converter {params.name!r} is disabled: enable it (converters.enable)",
            )
        if station.converter_statistics() is None:
            raise ControlError(ErrorCode.CONFLICT, "the converters are not running")
        try:
            await station.restart_converter(params.name)
        except (KeyError, RuntimeError) as exc:
            raise ControlError(ErrorCode.CONFLICT, f"cannot restart it now: {exc}") from None
        return converter_info(station, params.name)

    @registry.implement(m.CONVERTERS_CONVERT_FILE)
    async def convert_file(ctx: CallContext, params: m.ConvertFileParams) -> m.ConvertFileResult:
        path = await trio.to_thread.run_sync(_existing, params.path)
        if path is None:
            raise not_found(f"{params.path} does not exist on the station", path=params.path)
        if not await trio.to_thread.run_sync(_readable_here, station, path):
            # A dry run shows what a file holds (values, error text): not a way to read /etc.
            raise ControlError(
                ErrorCode.FORBIDDEN,
                f"forbidden: {params.path} is outside the converters' folders and [control] "
                "roots; a dry run reads only files the station would read",
                {"path": params.path},
            )
        cfg: ConverterConfig | None = None
        if params.kind:
            if not is_builtin(params.kind):
                raise ControlError(
                    ErrorCode.INVALID_PARAMS,
                    f"invalid params: kind {params.kind!r} is not a built-in converter; user "
                    "code runs only as a configured converter (converter=<name>)",
                    {"field": "kind"},
                )
            kind, label = params.kind, params.kind
        else:
            named = params.converter
            cfg = _config(station, named) if named else _matching(station, path)
            kind, label = cfg.kind, cfg.name
        if not is_builtin(kind) and ctx.role < Role.ADMIN:
            raise ControlError(
                ErrorCode.FORBIDDEN,
                f"forbidden: converter {label!r} runs user code; a dry run of it needs the admin "
                f"role, this connection holds {ctx.role.label}",
                {"needs": Role.ADMIN.label, "holds": ctx.role.label},
            )
        started = time.monotonic()
        result, validation, warnings = await trio.to_thread.run_sync(
            partial(_dry_run, station, path, kind, cfg)
        )
        duration = time.monotonic() - started
        if validation is not None:
            alarm = cfg.alarm_threshold if cfg else 0.5
            reject = cfg.reject_threshold if cfg else 0.2
            verdict = classify_confidence(validation, alarm=alarm, reject=reject)
            if verdict != "ok":
                threshold = reject if verdict == "reject" else alarm
                outcome = "the station would refuse the file" if verdict == "reject" else "flagged"
                warnings.append(
                    f"confidence {validation.confidence:.2f} is below the {verdict} threshold "
                    f"{threshold:.2f}: {outcome}"
                )
        reports: list[m.ConvertedReport] = []
        if isinstance(result, Converted):
            reports, left_out = await trio.to_thread.run_sync(
                _reports, result.reports, params.include_report
            )
            warnings += left_out
        error = None
        if isinstance(result, Failed):
            error = result.reason
        elif isinstance(result, Skipped):
            error = f"skipped: {result.reason}"
        elif isinstance(result, Suspended):
            error = f"not ready (retried after {result.retry_after:.0f} s): {result.reason}"
        return m.ConvertFileResult(
            ok=isinstance(result, Converted),
            converter=label,
            reports=reports,
            confidence=validation.confidence if validation is not None else None,
            warnings=warnings,
            error=error,
            duration=duration,
        )


def _existing(raw: str) -> Path | None:
    path = Path(raw).expanduser()
    return path if path.exists() else None


def _readable_here(station: OperatorPort, path: Path) -> bool:
    """Whether ``path`` (symlinks resolved) lies in a configured converter's watch, done or
    error folder, or in one of the ``[control] roots``."""
    config = station.config
    folders = [Path(os.path.expandvars(root)).expanduser() for root in config.control.roots]
    for cfg in config.converters:
        if cfg.type != "scheduled" and cfg.watch:
            folders += [Path(cfg.watch).expanduser(), cfg.done_dir, cfg.error_dir]
    real = Path(os.path.realpath(path))
    for folder in folders:
        top = Path(os.path.realpath(folder))
        if real == top or top in real.parents:
            return True
    return False


def _matching(station: OperatorPort, path: Path) -> ConverterConfig:
    """The first configured file or folder converter whose patterns match ``path``'s name."""
    for cfg in station.config.converters:
        if cfg.type == "scheduled":
            continue
        if matches_patterns(path.name, _patterns(station, cfg) or ["*"]):
            return cfg
    raise ControlError(
        ErrorCode.VALIDATION_FAILED,
        f"no configured converter matches {path.name!r}: name one (converter) or a kind",
        {"problems": [{"path": "path", "message": "no converter's patterns match"}]},
    )

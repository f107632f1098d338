"""What every ``pywats-station`` command shares: exit codes, errors, the instance and its config.

Kept apart from :mod:`pywats_station.cli` so that command modules (``_cli_status``) can use it
without importing the command line itself. Heavy imports stay inside the functions: the CLI
starts fast.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "CliError",
    "ExitCode",
    "InstanceConfig",
    "dump",
    "instance_config",
    "load_instance_config",
    "paths_of",
]


class ExitCode:
    """The exit codes of ``pywats-station``."""

    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    LOCKED = 4
    UNREACHABLE = 5
    AUTH = 6
    REJECTED = 7
    NOT_FOUND = 8
    UNHEALTHY = 9
    NOT_RUNNING = 10
    INTERRUPTED = 130


class CliError(Exception):
    """A failure with a message for the user and an exit code."""

    def __init__(self, message: str, code: int = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code


def paths_of(args: argparse.Namespace) -> Any:
    """The instance's paths from ``--instance``/``--config`` (exit 2 for a bad name)."""
    from pywats_station.paths import InvalidInstanceError, instance_paths, resolve_instance

    try:
        return instance_paths(resolve_instance(args.instance), config_file=args.config)
    except InvalidInstanceError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc


def load_instance_config(paths: Any, *, required: bool = True) -> Any:
    """The instance's configuration (exit 3 if missing and required, or invalid)."""
    from pywats_station.config import ConfigError, StationConfig, load_config

    if not paths.config_file.exists():
        if required:
            raise CliError(
                f"no configuration at {paths.config_file}; create one with "
                "'pywats-station config init'",
                ExitCode.CONFIG,
            )
        return StationConfig()
    try:
        return load_config(paths.config_file)
    except ConfigError as exc:
        raise CliError(
            f"invalid configuration {paths.config_file}:\n{exc}", ExitCode.CONFIG
        ) from exc


@dataclass(frozen=True)
class InstanceConfig:
    """The instance's configuration as far as a command that can do without it needs it.

    Attributes:
        config: The file's configuration, or the defaults when it is missing or invalid.
        problem: Why the file cannot be used (missing, unreadable, invalid); ``None`` if it can.
        missing: Whether there is no file at all (the defaults then are the truth).
    """

    config: Any
    problem: str | None = None
    missing: bool = False


def instance_config(paths: Any) -> InstanceConfig:
    """The configuration for commands that must work without a valid one (never raises).

    ``status`` and the ``queue`` commands talk to a running daemon, which runs on the
    configuration it loaded: an invalid file saved since must not blind them. They find the
    daemon through the instance's paths alone and report the file's problem themselves.
    """
    from pywats_station.config import ConfigError, StationConfig, load_config

    if not paths.config_file.exists():
        problem = (
            f"no configuration at {paths.config_file}; create one with 'pywats-station config init'"
        )
        return InstanceConfig(StationConfig(), problem, missing=True)
    try:
        return InstanceConfig(load_config(paths.config_file))
    except ConfigError as exc:
        return InstanceConfig(StationConfig(), str(exc))


def dump(value: Any) -> None:
    """Print any msgspec-encodable value as indented JSON."""
    print(json.dumps(msgspec.to_builtins(value), indent=2, sort_keys=False))

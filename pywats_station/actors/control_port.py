"""What the control channel can reach in the station, per role: the one place to read it.

The control methods never see the daemon. Each group of methods is registered with the *port*
of the role its methods need (``build_registry`` in :mod:`.control`), and a port is a protocol
that lists everything those methods may touch:

=================  ===========================================================================
port               reaches
=================  ===========================================================================
``OperatorPort``   the running state (status, tree, converters' statistics, counters, logs);
                   the queue (list, show, retry, purge, verify, a test report); converters on,
                   off and restarted (nothing else of the config); a health check of the
                   server; events
``AdminPort``      all of the above, and ``change_config``: whatever changes what the daemon
                   runs, where it reads and writes, and where it sends the API token — still
                   only inside the roots the config file declares (``[control] roots``)
=================  ===========================================================================

What no port offers: the API token, the environment, the control tokens, the supervision tree's
restart/remove commands, the queue's or the config's file paths for writing, the API client
itself (a role holder cannot make the station call arbitrary server endpoints).

The :class:`~pywats_station.daemon.Daemon` implements both protocols; it is only ever handed to
registration as one of them. The role a *connection* holds is checked by the control server
before a handler runs (each method's spec says the role it needs); a handler with a per-call
rule (a dry run of user code needs admin) reads ``ctx.role``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    import msgspec

    from pywats.models.app import Process
    from pywats_station._supervisor import SupervisorStatistics
    from pywats_station.actors.converter import LoadedConverter
    from pywats_station.config import StationConfig
    from pywats_station.control import methods as m
    from pywats_station.control.events import LogLevel, LogRecord
    from pywats_station.converters import StationInfo
    from pywats_station.queue import ReportQueue
    from pywats_station.runtime import Runtime

__all__ = ["AdminPort", "OperatorPort"]


class OperatorPort(Protocol):
    """What operator methods reach: read everything, operate the queue and the converters."""

    @property
    def instance(self) -> str:
        """The instance's name."""
        ...

    @property
    def config_file(self) -> Path:
        """Where the configuration file is (shown by ``config.get``)."""
        ...

    @property
    def config(self) -> StationConfig:
        """The running configuration; read only (``config.get`` redacts it)."""
        ...

    @property
    def queue(self) -> ReportQueue:
        """The durable queue."""
        ...

    @property
    def runtime(self) -> Runtime:
        """Connection state and counters."""
        ...

    @property
    def converters(self) -> Mapping[str, LoadedConverter]:
        """The loaded converters by name (their descriptions and statistics)."""
        ...

    def tree_statistics(self) -> SupervisorStatistics | None:
        """The supervision tree's state, or ``None`` before it runs."""
        ...

    def converter_statistics(self) -> SupervisorStatistics | None:
        """The converters' supervisor's state, or ``None`` before it runs."""
        ...

    def control_connections(self) -> int:
        """Control clients connected now."""
        ...

    def safe_server_url(self) -> str:
        """The server URL, a password in it masked."""
        ...

    def station_info(self) -> StationInfo:
        """The station's identity in its reports."""
        ...

    def processes(self) -> list[Process]:
        """The synced process list."""
        ...

    def publish(self, event: str, payload: msgspec.Struct) -> None:
        """Send an event to the subscribed clients (never blocks)."""
        ...

    def tail_logs(self, lines: int, level: LogLevel) -> list[LogRecord]:
        """The latest log records (secrets masked)."""
        ...

    async def server_version(self) -> str | None:
        """Ask the server for its version: ``None`` when no server is configured.

        Raises:
            PyWATSError: The server cannot be reached or refuses.
        """
        ...

    async def set_converter_enabled(self, name: str, enabled: bool) -> None:
        """Persist ``converters.<name>.enabled`` and start or stop its actor.

        Raises:
            ControlError: As ``config.set`` does.
        """
        ...

    async def restart_converter(self, name: str) -> None:
        """Restart a converter's actor, or load a broken one again.

        Raises:
            KeyError, RuntimeError: It cannot be restarted now.
        """
        ...


class AdminPort(OperatorPort, Protocol):
    """What admin methods reach besides the operator's: changing the configuration."""

    async def change_config(self, key: str, value: Any, *, dry_run: bool) -> m.ConfigSetResult:
        """``config.set``: validate, check paths against the declared roots, save, reload.

        Raises:
            ControlError: -32010 unknown key, -32011 conflict, -32012 refused.
        """
        ...

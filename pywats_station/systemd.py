"""systemd integration: the ``sd_notify`` protocol, journald log priorities, unit generation.

The daemon runs as ``Type=notify``: it says ``READY=1`` once the supervision tree is up, keeps
``STATUS=`` current (queue depth, online state), sends ``WATCHDOG=1`` only while the event loop
turns *and* the supervisor is healthy, and ``STOPPING=1`` on shutdown. The protocol is one
datagram per message to the ``AF_UNIX`` socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means
the abstract namespace); no library needed.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from pywats_station import fdlimit

__all__ = [
    "JournalFormatter",
    "Notifier",
    "under_systemd",
    "unit_file",
    "watchdog_interval",
]


class Notifier:
    """Sends ``sd_notify`` messages; does nothing when not started by systemd."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        self._address: str | None = None
        if address.startswith("@"):
            self._address = "\0" + address[1:]  # abstract namespace
        elif address.startswith("/"):
            self._address = address
        self._socket: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        """Whether a notify socket was given."""
        return self._address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines (``ready=1`` becomes ``READY=1``); ``False`` if not sent.

        Failures are swallowed on purpose: losing a status line must never stop the daemon.
        """
        if self._address is None:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(message.encode("utf-8", "replace"), self._address)
        except OSError:
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (with an optional status line)."""
        return self.notify(ready=1, **({"status": status} if status else {}))

    def status(self, text: str) -> bool:
        """``STATUS=…``: one line shown by ``systemctl status``."""
        return self.notify(status=text.replace("\n", " "))

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: we are alive."""
        return self.notify(watchdog=1)

    def stopping(self) -> bool:
        """``STOPPING=1``."""
        return self.notify(stopping=1)

    def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """How often to ping the watchdog (half of ``WATCHDOG_USEC``), or ``None`` if not asked.

    ``WATCHDOG_PID``, when set, must be our pid (systemd sets it for the main process).
    """
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 / 2 if value > 0 else None


def under_systemd(env: Mapping[str, str] | None = None) -> bool:
    """Whether we were started by systemd (journald reads our stderr)."""
    env = os.environ if env is None else env
    return bool(env.get("INVOCATION_ID") or env.get("JOURNAL_STREAM"))


# journald reads "<N>" prefixes on stderr lines as syslog priorities.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    """Prefix every line with its journald priority (``<3>`` for errors…), no timestamp.

    journald adds its own timestamps; a multi-line record (a traceback) gets the prefix on each
    line so that it stays one priority.
    """

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        level = max((lv for lv in _PRIORITY if lv <= record.levelno), default=logging.DEBUG)
        prefix = f"<{_PRIORITY[level]}>"
        return "\n".join(prefix + line for line in text.splitlines())


def unit_file(
    *,
    instance: str = "default",
    user: str = "pywats",
    executable: str | None = None,
    config_file: Path | None = None,
    watchdog_sec: int = 60,
) -> str:
    """A hardened systemd unit for one station instance (``pywats-station systemd-unit``).

    Watch folders must be listed in ``ReadWritePaths=`` because of ``ProtectSystem=strict``; the
    generated unit names the usual ones and says so.
    """
    exe = executable or str(Path(sys.argv[0]).resolve())
    suffix = "" if instance == "default" else f"-{instance}"
    args = [exe]
    if instance != "default":
        args += ["--instance", instance]
    if config_file is not None:
        args += ["--config", str(config_file)]
    args.append("run")
    base = f"pywats-station{suffix}"
    return f"""[Unit]
Description=pyWATS station ({instance})
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={shlex.join(args)}
User={user}
Restart=on-failure
RestartSec=5
# The daemon pings the watchdog only while its event loop and supervisor are healthy.
WatchdogSec={watchdog_sec}
TimeoutStopSec=30
# Open files: the default soft limit (1024) is for programs that still use select(). The
# daemon does not; it needs a few descriptors per upload worker and converter, and its control
# channel holds at most 144 for clients (a quarter of the limit at most, whoever connects), so
# 8192 leaves room for floods of files and clients without ever running out.
LimitNOFILE={fdlimit.TARGET}
ConfigurationDirectory={base}
StateDirectory={base}
CacheDirectory={base}
LogsDirectory={base}
RuntimeDirectory={base}
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
NoNewPrivileges=yes
# Add every watch/done/error folder of your converters here:
ReadWritePaths=/srv/test-results

[Install]
WantedBy=multi-user.target
"""

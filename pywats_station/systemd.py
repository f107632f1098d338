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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pywats_station import fdlimit

if TYPE_CHECKING:
    from pywats_station.config import StationConfig
    from pywats_station.paths import InstancePaths

__all__ = [
    "TOKEN_CREDENTIAL",
    "JournalFormatter",
    "Notifier",
    "under_systemd",
    "unit_file",
    "unit_name",
    "watchdog_interval",
    "writable_paths",
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


# --- the unit -------------------------------------------------------------------------------

# The credential name of the API token in `LoadCredential=` (secrets.py reads it).
TOKEN_CREDENTIAL = "pywats-api-token"

# Folders that ProtectHome= hides; a configured path below one of them needs ProtectHome=read-only.
_HOME_FOLDERS = (Path("/home"), Path("/root"), Path("/run/user"))


def unit_name(instance: str) -> str:
    """The unit's name without ``.service``: ``pywats-station``, ``pywats-station-<instance>``.

    One concrete unit per instance rather than a template ``pywats-station@.service``: each
    instance's ``ReadWritePaths=`` come from its own configuration, which a template would need
    a drop-in per instance for.
    """
    return "pywats-station" if instance == "default" else f"pywats-station-{instance}"


def writable_paths(config: StationConfig, paths: InstancePaths) -> list[Path]:
    """What the daemon writes outside the unit's own ``StateDirectory=`` and friends.

    The instance's configuration folder (``config.set`` saves there), the queue when
    ``queue.path`` moves it, every converter's watch, done and error folder, and the
    ``[control] roots`` an admin may point those at. Sorted, without duplicates, and without
    folders already inside another one of the list.
    """
    state_base = paths.state_dir.parent
    found: set[Path] = {paths.config_file.parent.absolute()}
    queue = config.queue.directory(paths).absolute()
    if not queue.is_relative_to(state_base):
        found.add(queue)
    for conv in config.converters:
        if conv.watch:
            found.update(p.absolute() for p in (Path(conv.watch), conv.done_dir, conv.error_dir))
        elif conv.done:  # a scheduled converter with its own done folder
            found.add(Path(conv.done).expanduser().absolute())
    found.update(Path(root).expanduser().absolute() for root in config.control.roots)
    ordered = sorted(found)
    return [p for p in ordered if not any(p != q and p.is_relative_to(q) for q in ordered)]


def _unit_path(path: Path) -> str:
    """A path as a unit file setting takes it: ``%`` doubled, quoted when it holds a space."""
    text = str(path).replace("%", "%%")
    return f'"{text}"' if any(c.isspace() or c in "\"'\\" for c in text) else text


def _under_home(path: Path) -> bool:
    return any(path.absolute().is_relative_to(home) for home in _HOME_FOLDERS)


def unit_file(
    *,
    instance: str = "default",
    user: str = "pywats",
    executable: str | None = None,
    config_file: Path | None = None,
    watchdog_sec: int = 60,
    read_write_paths: Sequence[Path] = (),
    token_credential: Path | None = None,
    program_paths: Sequence[Path] = (),
) -> str:
    """The hardened systemd unit of one station instance (``systemd-unit``, ``install-service``).

    Args:
        instance: The instance the unit runs.
        user: The service's user.
        executable: The ``pywats-station`` program (default: the one running, links resolved).
        config_file: ``--config FILE`` for the daemon, if not the instance's own file.
        watchdog_sec: ``WatchdogSec=``.
        read_write_paths: Folders outside the unit's own directories that the daemon writes
            (:func:`writable_paths`); everything else is read-only to it.
        token_credential: A file holding the API token, passed with ``LoadCredential=`` (the
            daemon then prefers it to the stored token).
        program_paths: Other files the program needs to start (its Python interpreter): one
            under a home folder makes the unit keep home folders readable.

    Returns:
        The unit file's text; ``systemd-analyze security`` rates it below 2.0 ("OK").
    """
    exe = executable or str(Path(sys.argv[0]).resolve())
    args = [exe]
    if instance != "default":
        args += ["--instance", instance]
    if config_file is not None:
        args += ["--config", str(config_file)]
    args.append("run")
    exec_start = shlex.join(args).replace("%", "%%").replace("$", "$$")
    watched = [Path(p) for p in read_write_paths]
    home_used = [
        p
        for p in [
            Path(exe),
            *program_paths,
            *watched,
            *([token_credential] if token_credential else []),
        ]
        if _under_home(p)
    ]
    if home_used:
        protect_home = (
            "# ProtectHome=yes would hide these configured paths under a home folder: "
            + " ".join(str(p) for p in home_used)
            + "\nProtectHome=read-only"
        )
    else:
        protect_home = "ProtectHome=yes"
    if watched:
        # "-": a folder missing at start (an SMB share not mounted yet) must not fail the unit
        # with 226/NAMESPACE; the converter reports the missing folder itself.
        rw = "\n".join(f"ReadWritePaths=-{_unit_path(p)}" for p in watched)
    else:
        rw = "# ReadWritePaths=/srv/test-results  (every watch, done and error folder)"
    if token_credential is not None:
        credential = f"LoadCredential={TOKEN_CREDENTIAL}:{_unit_path(token_credential)}"
    else:
        credential = (
            "# The API token from a root-only file instead of the one `login` stores:\n"
            f"# LoadCredential={TOKEN_CREDENTIAL}:/etc/credstore/{TOKEN_CREDENTIAL}"
        )
    return f"""[Unit]
Description=pyWATS station ({instance})
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
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

# Every instance uses the same base folders and adds its name below them, exactly as
# `sudo pywats-station --instance NAME …` does without systemd (config path, login, status).
ConfigurationDirectory=pywats-station
StateDirectory=pywats-station
CacheDirectory=pywats-station
LogsDirectory=pywats-station
RuntimeDirectory=pywats-station
# Shared by the instances: systemd would remove it when any one of them stops.
RuntimeDirectoryPreserve=yes
StateDirectoryMode=0700
CacheDirectoryMode=0700
LogsDirectoryMode=0700
RuntimeDirectoryMode=0755
UMask=0077

# The file system: read-only but for the unit's own folders and these. The configuration
# folder is here so that `config.set` (admin token) can save; leave it out to make the
# configuration read-only to the daemon (config.set then fails, named, and nothing else does).
ProtectSystem=strict
{rw}
{protect_home}
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
PrivateMounts=yes
# The service sees only its own user and root: files of other users show as "nobody", and
# chown is impossible (the daemon never needs it). The ownership of files it creates is real.
PrivateUsers=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
ProtectControlGroups=yes
# /proc shows the daemon's own processes only; it reads nothing else there.
ProtectProc=invisible
ProcSubset=pid
RemoveIPC=yes
KeyringMode=private

# The server may be anywhere, so no IPAddressDeny=; the control channel is TCP, sd_notify is
# AF_UNIX. No netlink: name resolution reads /etc/hosts and asks DNS over UDP.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# Python, cryptography, msgspec and watchfiles need no writable-executable memory; a user
# converter that does (a JIT such as numba, ctypes callbacks on an old libffi) fails to load.
MemoryDenyWriteExecute=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
# @resources stays allowed: the daemon raises its open-file limit, and converter child
# processes set their own memory and CPU limits (setrlimit).
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM

{credential}

[Install]
WantedBy=multi-user.target
"""

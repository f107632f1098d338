"""Where one instance of ``pywats-station`` keeps its files: one rule, one place per file.

The predecessor read and wrote the same settings in five or more places at once (a service, two
CLIs, a GUI and the packages each had their own). Here every component asks :func:`instance_paths`
and nothing else, and ``pywats-station config path`` prints its answer.

Rule (each *base* folder below gets the instance name appended, the default instance included, so
``instance = "default"`` lives in ``<base>/default/`` and two instances never share a file):

    kind     under systemd               root, no systemd             normal user (platformdirs)
    config   $CONFIGURATION_DIRECTORY    /etc/pywats-station          user_config_path()
    state    $STATE_DIRECTORY            /var/lib/pywats-station      user_state_path()
    cache    $CACHE_DIRECTORY            /var/cache/pywats-station    <state>/<instance>/cache
    logs     $LOGS_DIRECTORY             /var/log/pywats-station      <state>/<instance>/log
    runtime  $RUNTIME_DIRECTORY          /run/pywats-station          <state>/<instance>/run

Inside an instance: ``<config>/<instance>/config.toml``, ``<state>/<instance>/queue``,
``<state>/<instance>/secrets`` (0700), ``<state>/<instance>/station.lock``.

* systemd sets those variables when the unit declares ``ConfigurationDirectory=pywats-station``,
  ``StateDirectory=pywats-station`` and so on; a variable holding several colon-separated folders
  contributes its first. A variable that is not set falls back to the rule without systemd, so a
  unit that declares only ``StateDirectory=`` still works. Several instances in one template unit
  share the base folders; give it ``RuntimeDirectoryPreserve=yes``, as systemd removes a
  ``RuntimeDirectory=`` whenever one unit declaring it stops.
* Root without systemd uses the very folders a unit would get, so ``sudo pywats-station config
  path`` names the same file as the service.
* For a normal user, cache, logs and runtime live inside the instance's state folder: platformdirs
  nests some per-user folders inside others (``~/.local/state/<app>/log`` on Linux,
  ``%LOCALAPPDATA%\\<app>\\Cache`` on Windows), which would let an instance called ``log`` or
  ``Cache`` overlap another instance's files.
* ``--config FILE`` replaces the config file path only; everything else still follows the instance.
* ``PYWATS_STATION_HOME=DIR`` (below the systemd variables, above everything else) keeps all of
  it in one tree: ``DIR/config/<instance>/config.toml`` and ``DIR/state/<instance>/…`` with cache,
  logs and runtime inside the state folder, as for a normal user.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "DEFAULT_INSTANCE",
    "InstancePaths",
    "InvalidInstanceError",
    "atomic_write",
    "ensure_directories",
    "fsync_directory",
    "give_to_folder_owner",
    "instance_paths",
    "resolve_instance",
    "validate_instance",
]

APP_NAME = "pywats-station"
DEFAULT_INSTANCE = "default"
INSTANCE_ENV = "PYWATS_INSTANCE"
# Put every folder of every instance under one tree (portable installs, tests, demos).
HOME_ENV = "PYWATS_STATION_HOME"

_INSTANCE_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

# kind -> (systemd variable, base folder for root without systemd)
_SYSTEMD_DIRS = {
    "config": ("CONFIGURATION_DIRECTORY", Path("/etc") / APP_NAME),
    "state": ("STATE_DIRECTORY", Path("/var/lib") / APP_NAME),
    "cache": ("CACHE_DIRECTORY", Path("/var/cache") / APP_NAME),
    "logs": ("LOGS_DIRECTORY", Path("/var/log") / APP_NAME),
    "runtime": ("RUNTIME_DIRECTORY", Path("/run") / APP_NAME),
}


class InvalidInstanceError(ValueError):
    """An instance name that cannot be used as a folder name."""


@dataclass(frozen=True)
class InstancePaths:
    """Every file and folder of one station instance.

    Attributes:
        instance: The validated instance name.
        config_file: The TOML configuration (``--config`` may point elsewhere).
        state_dir: Persistent state; the other state paths live inside it.
        queue_dir: Default location of the durable report queue (``queue.path`` may override).
        cache_dir: Data that can be rebuilt (process/product lists synced from the server).
        log_dir: Log files, when logging to files rather than the journal.
        runtime_dir: Files that only make sense while the daemon runs (pid, sockets).
        secrets_dir: The encrypted API token and its key (mode 0700).
        lock_file: Held by the running daemon, so a second one for the instance refuses to start.
        control_token_file: The control channel's operator token (mode 0600): the one handed
            to MES tools and remote terminal UIs.
        control_admin_token_file: The control channel's admin token (mode 0600): changes what
            the daemon runs and where it writes; stays with the service's user.
    """

    instance: str
    config_file: Path
    state_dir: Path
    queue_dir: Path
    cache_dir: Path
    log_dir: Path
    runtime_dir: Path
    secrets_dir: Path
    lock_file: Path
    control_token_file: Path
    control_admin_token_file: Path

    @property
    def backup_config_file(self) -> Path:
        """The previous good configuration, kept by every save (``config.toml.bak``)."""
        return self.config_file.with_name(self.config_file.name + ".bak")

    def as_dict(self) -> dict[str, str]:
        """The paths as strings, for ``pywats-station config path`` and the control channel."""
        return {name: str(value) for name, value in vars(self).items()}


def validate_instance(name: str) -> str:
    """Return ``name`` if it is a usable instance name.

    Args:
        name: Candidate instance name.

    Returns:
        The same name.

    Raises:
        InvalidInstanceError: If the name is not 1-64 characters of ``A-Z a-z 0-9 _ . -``, or is
            ``.`` or ``..`` (which would resolve to the parent folder and share its files).
    """
    if not _INSTANCE_RE.fullmatch(name) or name in {".", ".."}:
        raise InvalidInstanceError(
            f"invalid instance name {name!r}: use 1-64 characters from A-Z, a-z, 0-9, '_', '.', "
            "'-' (and not '.' or '..')"
        )
    return name


def resolve_instance(cli_value: str | None, env: Mapping[str, str] | None = None) -> str:
    """Pick the instance: the command line wins, then ``PYWATS_INSTANCE``, then ``default``.

    Args:
        cli_value: The ``--instance`` option, or ``None`` if not given.
        env: Environment to read (``os.environ`` when ``None``).

    Returns:
        The validated instance name.

    Raises:
        InvalidInstanceError: If the chosen name is invalid.
    """
    environ = os.environ if env is None else env
    name = cli_value or environ.get(INSTANCE_ENV) or DEFAULT_INSTANCE
    return validate_instance(name)


def instance_paths(
    instance: str = DEFAULT_INSTANCE,
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    as_root: bool | None = None,
) -> InstancePaths:
    """Compute (without creating anything) the paths of one instance; see the module docstring.

    Args:
        instance: Instance name, validated.
        config_file: ``--config FILE``: replaces the config file path only.
        env: Environment to read the systemd variables from (``os.environ`` when ``None``).
        as_root: Whether to use the system folders; by default, whether the effective user is root
            on a POSIX system.

    Returns:
        The instance's paths.

    Raises:
        InvalidInstanceError: If ``instance`` is invalid.
    """
    validate_instance(instance)
    environ = os.environ if env is None else env
    if as_root is None:
        as_root = sys.platform != "win32" and os.geteuid() == 0

    home = environ.get(HOME_ENV, "")

    def base(kind: str) -> Path | None:
        variable, system_path = _SYSTEMD_DIRS[kind]
        # systemd joins several folders of one kind with ':'; ours is the first.
        first = environ.get(variable, "").split(":")[0]
        if first:
            return Path(first)
        if home:
            # One self-contained tree: config and state under it, the rest beside the state.
            return Path(home).expanduser() / kind if kind in ("config", "state") else None
        return system_path if as_root else None

    config_base = base("config") or platformdirs.user_config_path(APP_NAME, appauthor=False)
    state_base = base("state") or platformdirs.user_state_path(APP_NAME, appauthor=False)
    state_dir = state_base / instance

    def beside_state(kind: str, subfolder: str) -> Path:
        explicit = base(kind)
        return explicit / instance if explicit is not None else state_dir / subfolder

    secrets_dir = state_dir / "secrets"
    return InstancePaths(
        instance=instance,
        config_file=(
            Path(config_file).expanduser().absolute()
            if config_file is not None
            else config_base / instance / "config.toml"
        ),
        state_dir=state_dir,
        queue_dir=state_dir / "queue",
        cache_dir=beside_state("cache", "cache"),
        log_dir=beside_state("logs", "log"),
        runtime_dir=beside_state("runtime", "run"),
        secrets_dir=secrets_dir,
        lock_file=state_dir / "station.lock",
        control_token_file=secrets_dir / "control-token",
        control_admin_token_file=secrets_dir / "control-admin-token",
    )


def ensure_directories(paths: InstancePaths) -> None:
    """Create the instance's folders (not the config folder: saving the config does that).

    The secrets folder is created with mode 0700 and tightened to it if it already exists with
    looser permissions, since it guards the key of the stored token.

    Args:
        paths: The instance's paths.
    """
    for folder in (paths.state_dir, paths.queue_dir, paths.cache_dir, paths.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    paths.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32":
        os.chmod(paths.secrets_dir, 0o700)


def give_to_folder_owner(path: Path) -> None:
    """As root, make ``path`` belong to the owner of its folder (a no-op otherwise).

    ``sudo pywats-station login`` writes into the service's secrets folder, which belongs to the
    service's user: a file left to root, mode 0600, would be one the running daemon cannot read.
    """
    if sys.platform == "win32" or os.geteuid() != 0:
        return
    folder = path.parent.stat()
    if folder.st_uid != 0:
        os.chown(path, folder.st_uid, folder.st_gid, follow_symlinks=False)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    The bytes go to a temporary file in the same folder (created exclusively with mode 0600, so
    it is never readable by others even for an instant), are fsynced, given ``mode`` and renamed
    over the target; the folder is fsynced so the rename itself survives a power loss. On any
    failure the temporary file is removed and the target is untouched.

    Args:
        path: The file to write; its folder is created if missing.
        data: The complete new content.
        mode: Permission bits of the new file.
        durable: fsync the file and its folder. ``False`` for files rewritten all the time
            whose loss in a power cut does not matter (status, port files): still atomic,
            without wearing out an SD card.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    if durable:
        fsync_directory(path.parent)


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where unsupported.

    Args:
        folder: The folder whose entries to flush.
    """
    if sys.platform == "win32":  # Windows cannot open a directory; NTFS journals renames.
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""``pywats-station install-service`` and ``uninstall-service``: the station as a systemd service.

``install-service`` does, in one command, what the operations guide used to leave to the reader:
the service's user (``--create-user``), the instance's folders with their owner and mode (its
configuration, state and queue, every converter's watch, done and error folder), a starter
configuration if there is none, the hardened unit (:func:`pywats_station.systemd.unit_file`,
its ``ReadWritePaths=`` computed from the configuration), ``daemon-reload``, ``enable``,
``start``, and a bounded wait until systemd reports the service active and running (the daemon
says ``READY=1`` only once its supervision tree is up).

The installer plans before it acts (:mod:`pywats_station._service_actions`): it inspects the
system and lists only the changes still needed. ``--dry-run`` prints that list and the unit;
a real run prints and applies the same list; a second run finds nothing to do and says so.

One unit per instance (``pywats-station.service``, ``pywats-station-NAME.service``), not a
template: each instance's writable folders come from its own configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pywats_station._cli_common import CliError, ExitCode
from pywats_station._service_actions import (
    Action,
    ActionError,
    MakeDir,
    RemoveTree,
    Run,
    SetOwnerMode,
    System,
    WriteFile,
)

__all__ = [
    "Plan",
    "add_service_commands",
    "cmd_install_service",
    "cmd_uninstall_service",
    "plan_install",
    "plan_uninstall",
    "wait_ready",
]

UNIT_FOLDER = Path("/etc/systemd/system")
READY_TIMEOUT = 90.0  # seconds: a Pi's first start imports everything from an SD card


@dataclass
class Plan:
    """What the installer found and what it still has to do."""

    unit: str  # e.g. pywats-station.service
    unit_text: str = ""
    actions: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wait: bool = False  # wait for READY after the actions


def add_service_commands(
    command: Callable[[Any, str, str], argparse.ArgumentParser], group: Any
) -> None:
    """Add ``install-service`` and ``uninstall-service`` to the command line."""
    install = command(
        group, "install-service", "install, enable and start this instance as a systemd service"
    )
    install.add_argument("--user", default="pywats", help="the service's user (default pywats)")
    install.add_argument(
        "--create-user", action="store_true", help="create the user (useradd --system) if missing"
    )
    install.add_argument(
        "--token-credential",
        type=Path,
        metavar="FILE",
        help="pass the API token from FILE (root-only) with LoadCredential= instead of `login`",
    )
    install.add_argument(
        "--executable",
        type=Path,
        help="the pywats-station program the unit starts (default: this one)",
    )
    install.add_argument(
        "--dry-run", action="store_true", help="print every action and the unit, change nothing"
    )
    uninstall = command(
        group, "uninstall-service", "stop, disable and remove this instance's service"
    )
    uninstall.add_argument(
        "--purge",
        action="store_true",
        help="also delete the instance's configuration, queue (unsent reports!) and state",
    )
    uninstall.add_argument(
        "--dry-run", action="store_true", help="print every action, change nothing"
    )


# --- planning -----------------------------------------------------------------------------------


def _systemctl_ok(system: System, *args: str) -> bool:
    return system.run(["systemctl", *args]).returncode == 0


def _want_folder(
    plan: Plan, system: System, path: Path, user: str, mode: int, *, ours: bool
) -> None:
    """Plan a folder: create it if missing; fix owner and mode only for the station's own ones.

    A watch folder that exists already may be a share or belong to the test equipment: it is
    left as it is, with a warning when the service's user cannot write it.
    """
    real = system.path(path)
    owner = system.owner_of(user)
    if not real.is_dir():
        if real.exists():
            raise CliError(f"{path} exists and is not a folder", ExitCode.CONFIG)
        plan.actions.append(MakeDir(path, user, mode))
        return
    if owner is None:  # the user is created by an earlier action: nothing to compare with
        if ours:
            plan.actions.append(SetOwnerMode(path, user, mode))
        return
    info = real.stat()
    if ours:
        if (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) != (owner.uid, owner.gid, mode):
            plan.actions.append(SetOwnerMode(path, user, mode))
        return
    writable = (
        (info.st_uid == owner.uid and info.st_mode & stat.S_IWUSR)
        or (info.st_gid == owner.gid and info.st_mode & stat.S_IWGRP)
        or info.st_mode & stat.S_IWOTH
    )
    if not writable:
        plan.warnings.append(
            f"{user} cannot write {path} (owner {system.user_label(info.st_uid, info.st_gid)}, "
            f"mode {stat.S_IMODE(info.st_mode):04o}): the converter will fail there until "
            f"you `chown {user} {path}` or give its group write access"
        )


def _want_secrets(plan: Plan, system: System, folder: Path, user: str) -> None:
    """Give the service the secrets stored before it existed (``sudo login`` first: root's)."""
    real = system.path(folder)
    owner = system.owner_of(user)
    if not real.is_dir():
        return
    for path in sorted(real.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        info = path.stat()
        if owner is None or (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) != (
            owner.uid,
            owner.gid,
            0o600,
        ):
            plan.actions.append(SetOwnerMode(folder / path.name, user, 0o600))


def plan_install(
    system: System,
    *,
    instance: str,
    user: str,
    create_user: bool,
    executable: Path,
    config_file: Path | None = None,
    token_credential: Path | None = None,
) -> Plan:
    """Inspect ``system`` and list what installing the instance's service still needs.

    Raises:
        CliError: The user is missing (without ``create_user``), the configuration is invalid,
            or the program is somewhere the service cannot run it from.
    """
    from pywats_station.config import ConfigError, default_config_text, load_config
    from pywats_station.paths import instance_paths
    from pywats_station.systemd import unit_file, unit_name, writable_paths

    # The folders root uses without systemd are the ones the unit gets (paths.py).
    paths = instance_paths(instance, config_file=config_file, env={}, as_root=True)
    name = unit_name(instance) + ".service"
    plan = Plan(unit=name)
    if not system.path(executable).is_file():
        raise CliError(f"{executable} does not exist: pass --executable", ExitCode.CONFIG)
    if not os.access(system.path(executable), os.X_OK):
        raise CliError(f"{executable} is not executable: pass --executable", ExitCode.CONFIG)
    interpreter = _interpreter(system, executable)
    for program in (executable, interpreter):
        if program is not None and program.is_relative_to("/root"):
            raise CliError(
                f"the service's user cannot run {program} (root's home folder is private, "
                "and the unit hides it): install pyWATS with a system Python, e.g. "
                "`python3 -m venv /opt/pywats-station` (docs/operations.md)",
                ExitCode.CONFIG,
            )
        # PrivateTmp=yes gives the service /tmp and /var/tmp of its own: a program there is gone.
        if program is not None and any(program.is_relative_to(t) for t in ("/tmp", "/var/tmp")):
            raise CliError(
                f"the service cannot run {program}: the unit gives it a private /tmp and "
                "/var/tmp (PrivateTmp=yes), where this program is not; install pyWATS outside "
                "them, e.g. `python3 -m venv /opt/pywats-station` (docs/operations.md)",
                ExitCode.CONFIG,
            )

    if system.owner_of(user) is None:
        if not create_user:
            raise CliError(
                f"there is no user {user!r}: pass --create-user to create it "
                "(a system user without a home folder or login shell), or --user an existing one",
                ExitCode.CONFIG,
            )
        plan.actions.append(
            Run(
                (
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    user,
                )
            )
        )

    # The configuration: a starter file when there is none, so the service can start at all.
    config_path = system.path(paths.config_file)
    if config_path.exists():
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise CliError(
                f"invalid configuration {paths.config_file}:\n{exc}\nfix it "
                "(`pywats-station config check`) and run install-service again",
                ExitCode.CONFIG,
            ) from exc
        config_file_action = None
    else:
        from pywats_station.config import StationConfig

        config = StationConfig()
        config_file_action = WriteFile(paths.config_file, default_config_text(paths), 0o600, user)

    state_base = paths.state_dir.parent
    if config_file is None:  # the instance's own folder (--config: the file is the user's)
        _want_folder(plan, system, paths.config_file.parent.parent, "root", 0o755, ours=True)
        # The service's user owns it: `config.set` (admin token) saves the file there.
        _want_folder(plan, system, paths.config_file.parent, user, 0o750, ours=True)
    # The state base as systemd makes it for StateDirectory= (StateDirectoryMode=0700).
    if config_file_action is not None:
        plan.actions.append(config_file_action)
    _want_folder(plan, system, state_base, user, 0o700, ours=True)
    _want_folder(plan, system, paths.state_dir, user, 0o700, ours=True)
    _want_folder(plan, system, paths.secrets_dir, user, 0o700, ours=True)
    _want_secrets(plan, system, paths.secrets_dir, user)
    queue = config.queue.directory(paths).absolute()
    _want_folder(plan, system, queue, user, 0o700, ours=True)
    for conv in config.converters:
        if not conv.watch:
            continue
        # Testers' machines drop files into the watch folder: its group may write.
        _want_folder(plan, system, Path(conv.watch).absolute(), user, 0o770, ours=False)
        for folder in (conv.done_dir, conv.error_dir):
            _want_folder(plan, system, folder.absolute(), user, 0o750, ours=False)

    plan.unit_text = unit_file(
        instance=instance,
        user=user,
        executable=str(executable),
        program_paths=[interpreter] if interpreter is not None else [],
        config_file=config_file,
        read_write_paths=writable_paths(config, paths),
        token_credential=token_credential,
    )
    if token_credential is not None and not system.path(token_credential).is_file():
        plan.warnings.append(
            f"{token_credential} does not exist: the service cannot start until it holds the "
            "API token (root-only: chmod 600)"
        )
    unit_path = UNIT_FOLDER / name
    current = system.path(unit_path)
    changed = not current.exists() or current.read_text(encoding="utf-8") != plan.unit_text
    if changed:
        plan.actions.append(WriteFile(unit_path, plan.unit_text, 0o644))
        plan.actions.append(Run(("systemctl", "daemon-reload")))
    if not _systemctl_ok(system, "is-enabled", "--quiet", name):
        plan.actions.append(Run(("systemctl", "enable", name)))
    active = _systemctl_ok(system, "is-active", "--quiet", name)
    if not active:
        plan.actions.append(Run(("systemctl", "start", name)))
    elif changed:  # the running daemon was started from the old unit
        plan.actions.append(Run(("systemctl", "restart", name)))
    plan.wait = bool(plan.actions)
    return plan


def _interpreter(system: System, executable: Path) -> Path | None:
    """The interpreter a script starts (its ``#!`` line, links resolved), if it is a script."""
    try:
        with system.path(executable).open("rb") as stream:
            first = stream.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return None
    program = Path(words[0])
    if program.name == "env" and len(words) > 1:  # #!/usr/bin/env python3: found on PATH
        return None
    real = system.path(program).resolve()
    # Back to the managed system's view of the path.
    return Path("/") / real.relative_to(system.root) if real.is_relative_to(system.root) else real


def plan_uninstall(system: System, *, instance: str, purge: bool) -> Plan:
    """Inspect ``system`` and list what removing the instance's service still needs.

    The queue and configuration stay unless ``purge``; watch, done and error folders always
    stay (they hold the test equipment's files). The service's user stays too.
    """
    from pywats_station.config import ConfigError, StationConfig, load_config
    from pywats_station.paths import instance_paths
    from pywats_station.systemd import unit_name

    paths = instance_paths(instance, env={}, as_root=True)
    name = unit_name(instance) + ".service"
    plan = Plan(unit=name)
    if _systemctl_ok(system, "is-active", "--quiet", name):
        plan.actions.append(Run(("systemctl", "stop", name)))
    if _systemctl_ok(system, "is-enabled", "--quiet", name):
        plan.actions.append(Run(("systemctl", "disable", name)))
    unit_path = UNIT_FOLDER / name
    if system.path(unit_path).exists():
        plan.actions.append(RemoveTree(unit_path))
        plan.actions.append(Run(("systemctl", "daemon-reload")))
    config = StationConfig()
    config_path = system.path(paths.config_file)
    if config_path.exists():
        # An invalid file: the default queue folder, then; the rest is the instance's own.
        with contextlib.suppress(ConfigError):
            config = load_config(config_path)
    queue = config.queue.directory(paths).absolute()
    if not purge:
        kept = [p for p in (paths.config_file.parent, queue) if system.path(p).exists()]
        if kept:
            plan.warnings.append(
                "kept (uninstall-service --purge deletes them): " + ", ".join(map(str, kept))
            )
        return plan
    pending = _queued_reports(system.path(queue))
    why = f"{pending} report(s) not uploaded yet" if pending else ""
    for folder, reason in (
        (paths.config_file.parent, ""),
        (queue, why),
        (paths.state_dir, ""),
        (paths.cache_dir, ""),
        (paths.log_dir, ""),
    ):
        if system.path(folder).exists() and not any(
            folder.is_relative_to(a.path) for a in plan.actions if isinstance(a, RemoveTree)
        ):
            plan.actions.append(RemoveTree(folder, reason))
    return plan


def _queued_reports(queue: Path) -> int:
    """How many entries the queue folder holds (a rough count: its report files)."""
    if not queue.is_dir():
        return 0
    return sum(1 for p in queue.rglob("*") if p.is_file() and not p.name.startswith("."))


# --- running ------------------------------------------------------------------------------------


def _check_can_run(system: System, dry_run: bool, command: str) -> None:
    """Refuse a real run that cannot work: not root, or no systemd as PID 1 (named)."""
    if dry_run:
        return
    if os.geteuid() != 0:
        raise CliError(
            f"{command} changes the system (a user, folders, a systemd unit): run it as root "
            f"(sudo pywats-station {command} …), or add --dry-run to see what it would do"
        )
    if not system.path(Path("/run/systemd/system")).is_dir():
        try:
            pid1 = Path("/proc/1/comm").read_text(encoding="utf-8").strip()
        except OSError:
            pid1 = "unknown"
        raise CliError(
            f"systemd is not running this machine (PID 1 is {pid1!r}, and /run/systemd/system "
            f"is missing; in a container?): {command} needs systemd. Elsewhere, print the unit "
            "with `pywats-station systemd-unit`, or run `pywats-station run` under your own "
            "supervisor"
        )


def wait_ready(
    system: System,
    unit: str,
    timeout: float = READY_TIMEOUT,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[bool, str]:
    """Poll ``systemctl show`` until the unit is active/running, has failed, or time is up.

    Returns:
        Whether it is running, and the last ``ActiveState/SubState`` seen.
    """
    deadline = clock() + timeout
    state = "unknown"
    while True:
        done = system.run(["systemctl", "show", "-p", "ActiveState,SubState", unit])
        fields = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        active, sub = fields.get("ActiveState", "unknown"), fields.get("SubState", "unknown")
        state = f"{active}/{sub}"
        if (active, sub) == ("active", "running"):
            return True, state
        if active == "failed" or clock() >= deadline:
            return False, state
        sleep(0.5)


def _print_plan(plan: Plan, dry_run: bool, *, show_unit: bool) -> None:
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if dry_run:
        print(f"dry run: nothing is changed. {len(plan.actions)} action(s) for {plan.unit}:")
        for number, action in enumerate(plan.actions, 1):
            print(f"  {number}. {action.describe()}")
        if plan.wait:
            print(f"  then wait until {plan.unit} is active/running (READY)")
        if show_unit:
            print(f"\n# {UNIT_FOLDER / plan.unit}\n{plan.unit_text}", end="")


def _apply(system: System, plan: Plan) -> None:
    for number, action in enumerate(plan.actions, 1):
        print(f"{number}. {action.describe()}", flush=True)
        try:
            action.apply(system)
        except ActionError as exc:
            raise CliError(f"stopped at step {number}: {exc}") from exc


def _this_program() -> Path:
    """The ``pywats-station`` running, for ExecStart=.

    ``python -m pywats_station`` runs ``__main__.py``, which systemd cannot execute: the script
    installed beside that Python is the same program.
    """
    argv0 = Path(sys.argv[0])
    if argv0.suffix == ".py":
        return Path(sys.executable).with_name("pywats-station")
    return argv0


def cmd_install_service(args: argparse.Namespace, system: System | None = None) -> int:
    """``pywats-station install-service``."""
    from pywats_station.paths import InvalidInstanceError, resolve_instance

    system = system or System()
    try:
        instance = resolve_instance(args.instance)
    except InvalidInstanceError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc
    _check_can_run(system, args.dry_run, "install-service")
    executable = (args.executable or _this_program()).absolute().resolve()
    plan = plan_install(
        system,
        instance=instance,
        user=args.user,
        create_user=args.create_user,
        executable=executable,
        config_file=args.config.absolute() if args.config else None,
        token_credential=args.token_credential.absolute() if args.token_credential else None,
    )
    _print_plan(plan, args.dry_run, show_unit=True)
    if args.dry_run:
        return ExitCode.OK
    unit = plan.unit.removesuffix(".service")
    if not plan.actions:
        running, state = wait_ready(system, plan.unit, timeout=0)
        print(f"nothing to change: {plan.unit} is installed, enabled and {state}")
        return ExitCode.OK if running else ExitCode.UNHEALTHY
    _apply(system, plan)
    running, state = wait_ready(system, plan.unit)
    if not running:
        raise CliError(
            f"{plan.unit} did not become ready ({state}); see why with "
            f"`journalctl -u {unit} -n 50`",
            ExitCode.UNHEALTHY,
        )
    prefix = "" if instance == "default" else f"--instance {instance} "
    print(
        f"{plan.unit} is {state} (READY) as user {args.user}.\n"
        f"  logs:    journalctl -u {unit} -f\n"
        f"  service: systemctl status {unit}\n"
        f"  station: pywats-station {prefix}status\n"
        f"  token:   sudo pywats-station {prefix}login --url https://YOUR-SERVER"
    )
    return ExitCode.OK


def cmd_uninstall_service(args: argparse.Namespace, system: System | None = None) -> int:
    """``pywats-station uninstall-service``."""
    from pywats_station.paths import InvalidInstanceError, resolve_instance

    system = system or System()
    try:
        instance = resolve_instance(args.instance)
    except InvalidInstanceError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from exc
    _check_can_run(system, args.dry_run, "uninstall-service")
    plan = plan_uninstall(system, instance=instance, purge=args.purge)
    _print_plan(plan, args.dry_run, show_unit=False)
    if args.dry_run:
        return ExitCode.OK
    if not plan.actions:
        print(f"nothing to change: {plan.unit} is not installed")
        return ExitCode.OK
    _apply(system, plan)
    print(f"{plan.unit} is removed" + ("" if args.purge else "; configuration and queue kept"))
    return ExitCode.OK

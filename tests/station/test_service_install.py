"""``install-service`` / ``uninstall-service`` against a fake machine: real files, fake systemd.

The machine is a temporary folder taken as ``/`` (every path the installer touches lives under
it) with a user database and a ``systemctl`` that keep state the way systemd does: a unit
starts only after a ``daemon-reload`` has read its file, ``is-enabled``/``is-active`` answer
from what was done before. So the planning, the dry run and the idempotence are tested for real
without touching this machine.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from pywats_station._cli_common import CliError, ExitCode
from pywats_station._cli_service import (
    cmd_install_service,
    cmd_uninstall_service,
    plan_install,
    wait_ready,
)
from pywats_station._service_actions import MakeDir, Owner, Run, System, WriteFile
from pywats_station.cli import _parser
from pywats_station.systemd import unit_file

PROGRAM = Path("/opt/pywats-station/bin/pywats-station")
UNIT = Path("/etc/systemd/system/pywats-station.service")
QUERIES = {"is-enabled", "is-active", "show"}


class FakeMachine(System):
    """A root folder with users and a stateful ``systemctl``; every command is recorded."""

    def __init__(self, root: Path, *, users: Sequence[str] = ("root",)) -> None:
        super().__init__(root)
        me = Owner(os.getuid(), os.getgid())  # every user maps to us: chown works unprivileged
        self.users = dict.fromkeys(users, me)
        self.loaded: dict[str, str] = {}  # unit -> text read by the last daemon-reload
        self.enabled: set[str] = set()
        self.active: set[str] = set()
        self.fail_start = False  # `systemctl start` fails
        self.dies = False  # `systemctl start` succeeds, the service dies at once
        self.commands: list[tuple[str, ...]] = []
        (root / "run" / "systemd" / "system").mkdir(parents=True)
        program = self.path(PROGRAM)
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)

    def owner_of(self, user: str) -> Owner | None:
        return self.users.get(user)

    def user_label(self, uid: int, gid: int) -> str:
        return f"{uid}:{gid}"

    def changes(self) -> list[tuple[str, ...]]:
        """The commands that change something (not the queries)."""
        return [c for c in self.commands if not (c[0] == "systemctl" and c[1] in QUERIES)]

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        args = tuple(argv)
        self.commands.append(args)
        rc, out = 0, ""
        if args[0] == "useradd":
            self.users[args[-1]] = Owner(os.getuid(), os.getgid())
        elif args[0] == "systemctl":
            verb, unit = args[1], args[-1]
            if verb == "daemon-reload":
                folder = self.path(Path("/etc/systemd/system"))
                self.loaded = {p.name: p.read_text() for p in folder.glob("*.service")}
            elif verb == "is-enabled":
                rc = 0 if unit in self.enabled else 1
            elif verb == "is-active":
                rc = 0 if unit in self.active else 3
            elif verb == "enable":
                rc = 0 if unit in self.loaded else 1
                self.enabled.add(unit)
            elif verb == "disable":
                self.enabled.discard(unit)
            elif verb in ("start", "restart"):
                if unit not in self.loaded or self.fail_start:
                    rc = 1
                elif not self.dies:
                    self.active.add(unit)
            elif verb == "stop":
                self.active.discard(unit)
            elif verb == "show":
                running = unit in self.active
                state = "active\nSubState=running" if running else "failed\nSubState=failed"
                out = f"ActiveState={state}\n"
        return subprocess.CompletedProcess(list(args), rc, out, "")


def _files(root: Path) -> dict[str, tuple[int, str]]:
    """Every path under ``root`` with its mode and (for files) content: a snapshot."""
    found: dict[str, tuple[int, str]] = {}
    for path in sorted(root.rglob("*")):
        content = path.read_text() if path.is_file() else ""
        found[str(path.relative_to(root))] = (stat.S_IMODE(path.stat().st_mode), content)
    return found


def _install(machine: FakeMachine, *extra: str) -> int:
    args = _parser().parse_args(["install-service", "--executable", str(PROGRAM), *extra])
    return cmd_install_service(args, machine)


def _uninstall(machine: FakeMachine, *extra: str) -> int:
    return cmd_uninstall_service(_parser().parse_args(["uninstall-service", *extra]), machine)


@pytest.fixture(autouse=True)
def _as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installer refuses to run unprivileged; these tests act on a folder, not the system."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)


@pytest.fixture
def machine(tmp_path: Path) -> FakeMachine:
    return FakeMachine(tmp_path / "root")


def _write_config(machine: FakeMachine, text: str, instance: str = "default") -> None:
    path = machine.path(Path(f"/etc/pywats-station/{instance}/config.toml"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


CONFIG = """
[server]
url = "https://wats.example.com"
[[converters]]
name = "ict"
kind = "wsjf"
watch = "/srv/results/ict"
error = "/var/lib/pywats/error/ict"
"""


def _numbered(output: str) -> list[str]:
    """The action lines of the output, without their numbers."""
    lines = [line.strip() for line in output.splitlines()]
    return [line.split(". ", 1)[1] for line in lines if line[:1].isdigit() and ". " in line]


def test_dry_run_prints_every_action_and_the_unit_and_changes_nothing(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_config(machine, CONFIG)
    before = _files(machine.root)
    assert _install(machine, "--dry-run", "--create-user") == ExitCode.OK
    out = capsys.readouterr().out
    assert _files(machine.root) == before
    assert machine.changes() == []
    assert "pywats" not in machine.users
    assert _numbered(out) == [
        "useradd --system --user-group --no-create-home --home-dir /nonexistent "
        "--shell /usr/sbin/nologin pywats",
        "chown pywats: /etc/pywats-station/default && chmod 0750 /etc/pywats-station/default",
        "mkdir /var/lib/pywats-station  (owner pywats, mode 0700)",
        "mkdir /var/lib/pywats-station/default  (owner pywats, mode 0700)",
        "mkdir /var/lib/pywats-station/default/secrets  (owner pywats, mode 0700)",
        "mkdir /var/lib/pywats-station/default/queue  (owner pywats, mode 0700)",
        "mkdir /srv/results/ict  (owner pywats, mode 0770)",
        "mkdir /srv/results/ict/Done  (owner pywats, mode 0750)",
        "mkdir /var/lib/pywats/error/ict  (owner pywats, mode 0750)",
        f"write {UNIT}  (mode 0644, {len(_unit_text())} bytes)",
        "systemctl daemon-reload",
        "systemctl enable pywats-station.service",
        "systemctl start pywats-station.service",
    ]
    assert "then wait until pywats-station.service is active/running (READY)" in out
    # The unit printed is the one a real run writes.
    assert out.endswith(f"# {UNIT}\n{_unit_text()}")


def _unit_text() -> str:
    return unit_file(
        executable=str(PROGRAM),
        read_write_paths=[
            Path("/etc/pywats-station/default"),
            Path("/srv/results/ict"),
            Path("/var/lib/pywats/error/ict"),
        ],
    )


def test_the_real_run_does_what_the_dry_run_said_and_a_second_run_nothing(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_config(machine, CONFIG)
    _install(machine, "--dry-run", "--create-user")
    planned = _numbered(capsys.readouterr().out)
    assert _install(machine, "--create-user") == ExitCode.OK
    out = capsys.readouterr().out
    assert _numbered(out) == planned
    assert "is active/running (READY) as user pywats" in out
    assert "journalctl -u pywats-station -f" in out
    assert machine.path(UNIT).read_text() == _unit_text()
    assert "pywats-station.service" in machine.active
    assert "pywats-station.service" in machine.enabled
    queue = machine.path(Path("/var/lib/pywats-station/default/queue"))
    assert stat.S_IMODE(queue.stat().st_mode) == 0o700
    assert stat.S_IMODE(machine.path(Path("/srv/results/ict")).stat().st_mode) == 0o770

    machine.commands.clear()
    before = _files(machine.root)
    assert _install(machine, "--create-user") == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("nothing to change: pywats-station.service is installed, enabled")
    assert machine.changes() == []
    assert _files(machine.root) == before


def test_a_missing_configuration_gets_a_starter_file(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.users["pywats"] = machine.users["root"]
    assert _install(machine) == ExitCode.OK
    config = machine.path(Path("/etc/pywats-station/default/config.toml"))
    assert "pywats-station configuration" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert _install(machine) == ExitCode.OK
    assert "nothing to change" in capsys.readouterr().out


def test_a_changed_configuration_rewrites_the_unit_and_restarts(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.users["pywats"] = machine.users["root"]
    _write_config(machine, '[server]\nurl = "https://wats.example.com"\n')
    _install(machine)
    _write_config(machine, CONFIG)
    capsys.readouterr()
    machine.commands.clear()
    assert _install(machine) == ExitCode.OK
    assert machine.changes() == [
        ("systemctl", "daemon-reload"),
        ("systemctl", "restart", "pywats-station.service"),
    ]
    assert "ReadWritePaths=-/srv/results/ict\n" in machine.path(UNIT).read_text()


def test_an_instance_gets_its_own_unit_and_folders(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.users["tester"] = machine.users["root"]
    assert _install(machine, "--instance", "line-b", "--user", "tester") == ExitCode.OK
    unit = machine.path(Path("/etc/systemd/system/pywats-station-line-b.service")).read_text()
    assert "--instance line-b run" in unit
    assert "User=tester" in unit
    assert machine.path(Path("/var/lib/pywats-station/line-b/queue")).is_dir()
    assert "pywats-station --instance line-b status" in capsys.readouterr().out


def test_an_existing_watch_folder_is_left_alone_with_a_warning(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.users["pywats"] = machine.users["root"]
    _write_config(machine, CONFIG)
    watch = machine.path(Path("/srv/results/ict"))
    watch.mkdir(parents=True)
    watch.chmod(0o555)
    plan = plan_install(
        machine, instance="default", user="pywats", create_user=False, executable=PROGRAM
    )
    assert not any(getattr(a, "path", None) == Path("/srv/results/ict") for a in plan.actions)
    assert any("pywats cannot write /srv/results/ict" in w for w in plan.warnings)


def test_refusals_name_the_problem(
    machine: FakeMachine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(CliError, match="there is no user 'pywats': pass --create-user"):
        _install(machine, "--dry-run")
    machine.users["pywats"] = machine.users["root"]
    _write_config(machine, "[queue]\nupload_workers = -3\n")
    with pytest.raises(CliError, match="invalid configuration") as caught:
        _install(machine, "--dry-run")
    assert caught.value.code == ExitCode.CONFIG
    with pytest.raises(CliError, match="does not exist: pass --executable"):
        cmd_install_service(
            _parser().parse_args(["install-service", "--executable", "/nope", "--dry-run"]),
            machine,
        )
    machine.path(Path("/opt/x.py")).write_text("")
    with pytest.raises(CliError, match=r"x\.py is not executable"):
        cmd_install_service(
            _parser().parse_args(["install-service", "--executable", "/opt/x.py", "--dry-run"]),
            machine,
        )

    no_systemd = FakeMachine(tmp_path / "other")
    (no_systemd.root / "run" / "systemd" / "system").rmdir()
    with pytest.raises(CliError, match=r"systemd is not running this machine \(PID 1 is "):
        _install(no_systemd)
    with pytest.raises(CliError, match=r"systemd is not running"):
        _uninstall(no_systemd)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(CliError, match=r"run it as root \(sudo pywats-station install-service"):
        _install(machine)
    assert machine.changes() == []


def test_a_service_that_does_not_become_ready_is_reported(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.users["pywats"] = machine.users["root"]
    machine.fail_start = True
    with pytest.raises(CliError, match="stopped at step 11: `systemctl start") as caught:
        _install(machine)
    assert caught.value.code == ExitCode.ERROR
    # Started, then died before READY: systemctl answered, but the service is not running.
    machine.fail_start = False
    machine.dies = True
    with pytest.raises(CliError, match=r"did not become ready \(failed/failed\).*journalctl") as c:
        _install(machine)
    assert c.value.code == ExitCode.UNHEALTHY
    running, state = wait_ready(machine, "pywats-station.service", 5, sleep=lambda _: None)
    assert (running, state) == (False, "failed/failed")
    machine.dies = False
    machine.run(["systemctl", "start", "pywats-station.service"])
    assert wait_ready(machine, "pywats-station.service", 5) == (True, "active/running")


def test_uninstall_keeps_queue_and_configuration_unless_purged(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_config(machine, CONFIG)
    _install(machine, "--create-user")
    queue = machine.path(Path("/var/lib/pywats-station/default/queue"))
    (queue / "0001.wsjf").write_text("{}")
    capsys.readouterr()

    assert _uninstall(machine, "--dry-run") == ExitCode.OK
    planned = _numbered(capsys.readouterr().out)
    assert planned == [
        "systemctl stop pywats-station.service",
        "systemctl disable pywats-station.service",
        f"rm -r {UNIT}",
        "systemctl daemon-reload",
    ]
    assert _uninstall(machine) == ExitCode.OK
    out = capsys.readouterr()
    assert _numbered(out.out) == planned
    assert "kept (uninstall-service --purge deletes them)" in out.err
    assert not machine.path(UNIT).exists()
    assert (queue / "0001.wsjf").exists()
    assert machine.path(Path("/etc/pywats-station/default/config.toml")).exists()
    assert machine.active == set()
    assert machine.enabled == set()

    assert _uninstall(machine) == ExitCode.OK
    assert "nothing to change" in capsys.readouterr().out

    assert _uninstall(machine, "--purge", "--dry-run") == ExitCode.OK
    assert "rm -r /var/lib/pywats-station/default/queue  (1 report(s) not uploaded yet)" in (
        capsys.readouterr().out
    )
    assert _uninstall(machine, "--purge") == ExitCode.OK
    assert not queue.exists()
    assert not machine.path(Path("/etc/pywats-station/default")).exists()
    # The test equipment's folders stay.
    assert machine.path(Path("/srv/results/ict")).is_dir()


def test_actions_describe_themselves_as_commands() -> None:
    assert Run(("systemctl", "start", "x")).describe() == "systemctl start x"
    assert MakeDir(Path("/a"), "u", 0o700).describe() == "mkdir /a  (owner u, mode 0700)"
    assert WriteFile(Path("/f"), "abc", 0o644).describe() == "write /f  (mode 0644, 3 bytes)"


def test_a_program_whose_python_the_service_cannot_reach_is_refused(
    machine: FakeMachine, tmp_path: Path
) -> None:
    """pyenv in root's home: the unit hides /root, so the service would fail with 203/EXEC."""
    machine.users["pywats"] = machine.users["root"]
    python = machine.path(Path("/root/.pyenv/versions/3.11.7/bin/python3.11"))
    python.parent.mkdir(parents=True)
    python.write_text("")
    machine.path(PROGRAM).write_text("#!/root/.pyenv/versions/3.11.7/bin/python3.11\n")
    with pytest.raises(CliError, match=r"cannot run /root/\.pyenv/versions/3\.11\.7/bin/python3"):
        _install(machine, "--dry-run")
    # A Python in a home folder is reachable if the unit keeps home folders readable.
    machine.path(PROGRAM).write_text("#!/home/tester/venv/bin/python\n")
    plan = plan_install(
        machine, instance="default", user="pywats", create_user=False, executable=PROGRAM
    )
    assert "\nProtectHome=read-only\n" in plan.unit_text
    assert "/home/tester/venv/bin/python" in plan.unit_text


def test_a_program_under_tmp_is_refused(machine: FakeMachine) -> None:
    """PrivateTmp=yes hides the host's /tmp from the service: a venv there would be 203/EXEC."""
    machine.users["pywats"] = machine.users["root"]
    python = machine.path(Path("/tmp/try/venv/bin/python"))
    python.parent.mkdir(parents=True)
    python.write_text("")
    machine.path(PROGRAM).write_text("#!/tmp/try/venv/bin/python\n")
    with pytest.raises(CliError, match=r"cannot run /tmp/try/venv/bin/python: .*PrivateTmp"):
        _install(machine, "--dry-run")


def test_the_raspberry_pi_example_installs_with_every_folder_writable(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example's folders are created, owned by the service, and open in the unit."""
    example = Path(__file__).resolve().parents[2] / "config-examples" / "raspberry-pi.toml"
    _write_config(machine, example.read_text(encoding="utf-8"))
    assert _install(machine, "--create-user") == ExitCode.OK
    from pywats_station.config import load_config

    config = load_config(example, env={})
    unit = machine.path(UNIT).read_text()
    writable = [
        Path(line.removeprefix("ReadWritePaths=-"))
        for line in unit.splitlines()
        if line.startswith("ReadWritePaths=")
    ]
    state_base = Path("/var/lib/pywats-station")  # StateDirectory=: writable to the service
    folders = [Path(config.queue.path)]
    for conv in config.converters:
        folders += [Path(conv.watch), conv.done_dir, conv.error_dir]
    for folder in folders:
        assert machine.path(folder).is_dir(), folder
        assert folder.is_relative_to(state_base) or any(folder.is_relative_to(w) for w in writable)
    assert "/srv/test-results" in [str(w) for w in writable]


def test_a_token_stored_before_the_service_existed_is_given_to_it(
    machine: FakeMachine, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sudo login`` before ``install-service``: root's 0644 files become the service's 0600."""
    secrets = machine.path(Path("/var/lib/pywats-station/default/secrets"))
    secrets.mkdir(parents=True)
    (secrets / "token").write_text("encrypted")
    (secrets / "token").chmod(0o644)
    assert _install(machine, "--create-user") == ExitCode.OK
    lines = _numbered(capsys.readouterr().out)
    token = "/var/lib/pywats-station/default/secrets/token"
    assert f"chown pywats: {token} && chmod 0600 {token}" in lines
    assert stat.S_IMODE((secrets / "token").stat().st_mode) == 0o600
    assert _install(machine) == ExitCode.OK
    assert "nothing to change" in capsys.readouterr().out

"""``install-service`` under a real systemd: READY, conversion, upload, control, SIGKILL, uninstall.

systemd runs as PID 1 of a throwaway box (:mod:`tests.station.e2e.systemd_box`), so this runs
wherever the tests run as root with util-linux and systemd installed, whether or not systemd
runs the machine itself, and never installs anything on the machine. The daemon inside runs
under the generated hardened unit exactly as written (``PrivateUsers``, ``ProtectSystem=strict``,
``MemoryDenyWriteExecute``, the system call filter…), gets its API token through
``LoadCredential=``, converts with a built-in converter and a user converter (a child process
that sets its own limits), uploads to the emulator on the host's loopback, answers on its
control channel, and loses nothing when systemd restarts it after a SIGKILL.
"""

from __future__ import annotations

import json
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess
from tests.station.e2e.harness import emulator, make_report, server_ids, wait_for
from tests.station.e2e.systemd_box import SystemdBox, unavailable_reason

pytestmark = pytest.mark.e2e

CHECKOUT = Path(__file__).resolve().parents[3]
PURELIB = Path(sysconfig.get_paths()["purelib"])  # this environment's packages
UNIT = "pywats-station.service"
WATCH = Path("/var/lib/pywats-e2e/in")

USER_CONVERTER = """
from pywats import CompOp, ReportBuilder
from pywats_station.converters import Converted, FileConverter


class Line(FileConverter):
    name = "line"
    patterns = ("*.txt",)

    def convert(self, path, ctx):
        sn, value = path.read_text().split()
        b = ReportBuilder.uut(pn="LINE-PN", sn=sn, rev="A", process_code=10,
                              station=ctx.station.name, location=ctx.station.location,
                              purpose=ctx.station.purpose)
        b.root.numeric("Value", float(value), CompOp.LOG)
        return Converted(reports=[b.build()])
"""


def _why_not() -> str | None:
    reason = unavailable_reason()
    private = [
        p for p in (CHECKOUT, PURELIB) if p.is_relative_to("/root") or p.is_relative_to("/home")
    ]
    if reason is None and private:
        reason = f"{private[0]} is in a home folder, which the hardened unit hides"
    return reason


def _service_program(box: SystemdBox) -> Path:
    """A ``pywats-station`` in the box that the service's user can run, from this checkout.

    The tests' Python may live in root's home (pyenv), which the unit hides and whose mode is
    0700; the installer refuses such a program. So its installation is bind-mounted inside the
    box, its shared library registered with the box's ld.so cache, and a virtual environment
    made from it that sees this checkout and its dependencies.
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = Path("/var/lib/pywats-e2e/python")
    box.path(python).mkdir(parents=True)
    box.run("mount", "--bind", "-o", "ro", sys.base_prefix, str(python))
    box.path("/etc/ld.so.conf.d/pywats-e2e.conf").write_text(f"{python}/lib\n")
    box.run("ldconfig")
    venv = Path("/var/lib/pywats-e2e/venv")
    box.run(str(python / "bin" / version), "-m", "venv", "--without-pip", str(venv))
    site = box.path(venv / "lib" / version / "site-packages")
    # The checkout first (an editable install's own .pth names its host path, which a checkout
    # under /tmp makes invisible in the box), then this environment's packages.
    checkout, purelib = str(box.inside(CHECKOUT)), str(box.inside(PURELIB))
    (site / "pywats-e2e.pth").write_text(
        f"import site, sys; sys.path.insert(0, {checkout!r}); site.addsitedir({purelib!r})\n"
    )
    program = venv / "bin" / "pywats-station"
    box.path(program).write_text(
        f"#!{venv}/bin/python\nimport sys\nfrom pywats_station.cli import main\nsys.exit(main())\n"
    )
    box.path(program).chmod(0o755)
    return program


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    with emulator() as running:
        yield running


@pytest.fixture
def box(tmp_path: Path) -> Iterator[SystemdBox]:
    reason = _why_not()
    if reason is not None:
        pytest.skip(f"no systemd box: {reason}")
    box = SystemdBox(tmp_path / "box.log")
    try:
        box.start()
    except RuntimeError as exc:  # a kernel or systemd that does not boot this way
        last = str(exc).strip().splitlines()[-3:]
        pytest.skip(f"no systemd box: it did not boot here: {' / '.join(last)}")
    try:
        yield box
    finally:
        box.stop()


def _show(box: SystemdBox, *props: str) -> dict[str, str]:
    out = box.run("systemctl", "show", "-p", ",".join(props), UNIT).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _journal(box: SystemdBox) -> str:
    return box.run("journalctl", "-u", UNIT, "--no-pager", "-n", "60", check=False).stdout


def _station(box: SystemdBox, program: Path, *args: str) -> tuple[int, str]:
    done = box.run(str(program), *args, check=False)
    return done.returncode, done.stdout + done.stderr


def test_install_ready_convert_upload_kill_restart_uninstall(
    box: SystemdBox, server: EmulatorProcess
) -> None:
    try:
        _scenario(box, server, _service_program(box))
    except AssertionError as exc:  # what the service said is the best clue
        raise AssertionError(f"{exc}\n--- journal of {UNIT}:\n{_journal(box)}") from None


def _scenario(box: SystemdBox, server: EmulatorProcess, program: Path) -> None:
    config = box.path("/etc/pywats-station/default/config.toml")
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[server]\nurl = "{server.url}"\ntimeout = 5.0\n'
        '[station]\nname = "boxed"\n[control]\nlisten = "127.0.0.1:0"\n'
        f'[[converters]]\nname = "wsjf"\nkind = "wsjf"\nwatch = "{WATCH}/wsjf"\nsettle = 0.3\n'
        f'[[converters]]\nname = "line"\nkind = "line.py:Line"\nwatch = "{WATCH}/line"\n'
        'settle = 0.3\nchild_process_above = "0"\n'
    )
    (config.parent / "line.py").write_text(USER_CONVERTER)

    install = ("install-service", "--user", "pywats-e2e", "--executable", str(program))
    code, out = _station(box, program, *install, "--create-user")
    assert code == 0, out
    assert "pywats-station.service is active/running (READY) as user pywats-e2e" in out
    assert _show(box, "ActiveState", "SubState") == {"ActiveState": "active", "SubState": "running"}
    # It runs as the user, under the unit as generated.
    main_pid = _show(box, "MainPID")["MainPID"]
    status = box.run("cat", f"/proc/{main_pid}/status").stdout
    uid = box.run("id", "-u", "pywats-e2e").stdout.strip()
    assert f"\nUid:\t{uid}\t" in status
    assert "\nNoNewPrivs:\t1\n" in status
    assert "\nSeccomp:\t2\n" in status
    assert "\nCapEff:\t0000000000000000\n" in status

    code, out = _station(box, program, *install)
    assert code == 0, out
    assert out.startswith("nothing to change"), out

    # The token as the guide says: root's `login` writes where the service reads.
    done = box.run(str(program), "login", "--token-stdin", stdin=server.token + "\n")
    assert "accepted" in done.stdout + done.stderr, done

    # A built-in and a user converter (child process: setrlimit, MemoryDenyWriteExecute).
    report_id, data = make_report(1)
    box.path(WATCH / "wsjf" / "one.json").write_bytes(data)
    box.path(WATCH / "line" / "two.txt").write_text("LINE-0001 4.5")
    wait_for(lambda: report_id in server_ids(server), 20, "the WSJF report on the server")
    wait_for(lambda: len(server_ids(server)) == 2, 60, "the user converter's report")
    assert box.path(WATCH / "wsjf" / "Done").is_dir()

    # The control channel answers (the queue commands go through it to the running daemon).
    code, out = _station(box, program, "status", "--json")
    state = json.loads(out[out.index("{") :])
    assert state["running"] is True, out
    assert state["control"]["state"] == "listening", out
    assert state["connection"] == "online", out
    code, out = _station(box, program, "queue", "list", "--json")
    assert code == 0, out

    # SIGKILL while reports arrive: systemd restarts the daemon; every report arrives once.
    reports = [make_report(n) for n in range(100, 120)]
    for n, (_, body) in enumerate(reports):
        box.path(WATCH / "wsjf" / f"r{n:03d}.json").write_bytes(body)
    time.sleep(0.5)
    box.run("systemctl", "kill", "--signal=SIGKILL", UNIT)

    def restarted() -> bool:
        now = _show(box, "ActiveState", "SubState", "MainPID", "NRestarts")
        return now["SubState"] == "running" and now["MainPID"] not in ("0", main_pid)

    wait_for(restarted, 60, "systemd to restart the daemon")
    assert int(_show(box, "NRestarts")["NRestarts"]) >= 1
    wanted = {rid for rid, _ in reports} | {report_id}
    wait_for(lambda: wanted <= set(server_ids(server)), 90, "every report after the restart")
    assert len(server_ids(server)) == len(set(server_ids(server))) == 22

    code, out = _station(box, program, "uninstall-service")
    assert code == 0, out
    assert box.run("systemctl", "is-active", UNIT, check=False).stdout.strip() == "inactive"
    assert not box.path(f"/etc/systemd/system/{UNIT}").exists()
    assert box.path("/var/lib/pywats-station/default/queue").is_dir()  # kept without --purge
    assert config.exists()


def _credentials_work(box: SystemdBox) -> str | None:
    """Whether this systemd hands a credential to a plain unit; the error if it does not.

    Where ``/run/credentials`` cannot be mounted as systemd wants (some kernels without
    ``CONFIG_TMPFS_POSIX_ACL``, nested namespaces) even an unhardened unit is refused its own
    credential; the hardened unit cannot be tested there, and nothing about it would be learnt.
    """
    box.path("/etc/credstore").mkdir(exist_ok=True)
    box.path("/etc/credstore/probe").write_text("probe\n")
    box.path("/etc/systemd/system/credential-probe.service").write_text(
        "[Service]\nType=oneshot\nUser=nobody\nLoadCredential=probe:/etc/credstore/probe\n"
        "ExecStart=/bin/sh -c 'cat \"$CREDENTIALS_DIRECTORY/probe\"'\n"
    )
    box.run("systemctl", "daemon-reload")
    if box.run("systemctl", "start", "credential-probe.service", check=False).returncode == 0:
        return None
    log = box.run(
        "journalctl", "-u", "credential-probe.service", "-o", "cat", "--no-pager", check=False
    )
    return log.stdout.strip().splitlines()[-1] if log.stdout.strip() else "it failed"


def test_the_api_token_comes_from_load_credential(box: SystemdBox, server: EmulatorProcess) -> None:
    problem = _credentials_work(box)
    if problem is not None:
        pytest.skip(f"this systemd gives no unit its credential here: {problem}")
    program = _service_program(box)
    config = box.path("/etc/pywats-station/default/config.toml")
    config.parent.mkdir(parents=True)
    config.write_text(
        # A host name: resolved under RestrictAddressFamilies= (no netlink) and PrivateUsers.
        f'[server]\nurl = "{server.url.replace("127.0.0.1", "localhost")}"\n'
        '[control]\nlisten = "127.0.0.1:0"\n'
        f'[[converters]]\nname = "wsjf"\nkind = "wsjf"\nwatch = "{WATCH}"\nsettle = 0.3\n'
    )
    credential = box.path("/etc/credstore/pywats-api-token")
    credential.write_text(server.token + "\n")
    credential.chmod(0o600)
    code, out = _station(
        box,
        program,
        "install-service",
        "--create-user",
        "--executable",
        str(program),
        "--token-credential",
        "/etc/credstore/pywats-api-token",
    )
    assert code == 0, out + _journal(box)
    report_id, data = make_report(7)
    box.path(WATCH / "seven.json").write_bytes(data)
    try:
        wait_for(lambda: report_id in server_ids(server), 30, "the report sent with the credential")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_journal(box)}") from None

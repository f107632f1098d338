"""``pywats-station diagnose``: every check, passing and failing.

The server is the emulator over TCP (HTTP, and HTTPS with a certificate of a CA made for the
test); folders are real ones under ``tmp_path``. ``systemctl`` and ``journalctl`` are what this
machine has not (no systemd as PID 1 in CI): their checks get a fake command runner that answers
as systemd's tools do, and are also run for real, where they skip.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pywats import pyWATS
from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station import _diagnose_checks as d
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.secrets import store_token
from tests.station.e2e.harness import Station
from tests.station.netaccess import PrivateCA, make_private_ca

pytestmark = pytest.mark.e2e

TOKEN = "diagnose-token"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorProcess]:
    running = start_emulator(token=TOKEN)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return make_private_ca(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(ca: PrivateCA) -> Iterator[EmulatorProcess]:
    running = start_emulator(token=TOKEN, tls=(ca.cert_file, ca.key_file))
    try:
        yield running
    finally:
        running.stop()


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWATS_")}
    env["PYWATS_STATION_HOME"] = str(tmp_path / "home")
    return env


def make_paths(tmp_path: Path, server_url: str = "", extra: str = "") -> InstancePaths:
    """An instance under ``tmp_path`` with its folders, a config naming ``server_url``."""
    paths = instance_paths("default", env=_env(tmp_path), as_root=False)
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    paths.queue_dir.mkdir(parents=True, exist_ok=True)
    server = f'[server]\nurl = "{server_url}"\n' if server_url else ""
    text = f'{server}{extra}\n[station]\nname = "diag-{tmp_path.name[-12:]}"\n'
    paths.config_file.write_text(text, encoding="utf-8")
    return paths


def probe(paths: InstancePaths, tmp_path: Path, **options: Any) -> d.Probe:
    return d.Probe.load(paths, env=options.pop("env", _env(tmp_path)), timeout=5.0, **options)


def test_versions(tmp_path: Path) -> None:
    p = probe(make_paths(tmp_path), tmp_path)
    assert d.check_versions(p).outcome == "ok"
    assert "httpx" in d.check_versions(p).detail
    missing = d.check_versions(p, packages=("httpx", "no-such-package-for-pywats"))
    assert missing.outcome == "fail"
    assert "no-such-package-for-pywats" in missing.detail
    assert "pipx install" in missing.fix


def test_config(tmp_path: Path, server: EmulatorProcess) -> None:
    paths = make_paths(tmp_path, server.url)
    assert d.check_config(probe(paths, tmp_path)).outcome == "ok"
    paths.config_file.write_text("[queue]\nupload_workers = 0\n", encoding="utf-8")
    bad = d.check_config(probe(paths, tmp_path))
    assert bad.outcome == "fail"
    assert "queue.upload_workers" in bad.detail
    assert "config check" in bad.fix


def test_folders(tmp_path: Path) -> None:
    watch = tmp_path / "watch"
    for sub in ("", "Done", "Error"):
        (watch / sub).mkdir(parents=True, exist_ok=True)
    converter = f'[[converters]]\nname = "w"\nkind = "wsjf"\nwatch = "{watch}"\n'
    paths = make_paths(tmp_path, extra=converter)
    good = d.check_folders(probe(paths, tmp_path))
    assert good.outcome == "ok", good
    (watch / "Error").rmdir()
    bad = d.check_folders(probe(paths, tmp_path))
    assert bad.outcome == "fail"
    assert "converter w error" in bad.detail
    assert f"mkdir -p {watch / 'Error'}" in bad.fix


def test_folders_as_the_services_user(tmp_path: Path) -> None:
    """Root checks as the unit's User=; anyone else as themselves."""
    paths = make_paths(tmp_path)
    paths.queue_dir.chmod(0o700)

    def systemctl(argv: Sequence[str]) -> tuple[int, str]:
        assert argv[:2] == ("systemctl", "show")
        return 0, "nobody\n"

    if os.geteuid() != 0:
        paths.queue_dir.chmod(0o500)  # not writable by its owner, oneself
    bad = d.check_folders(probe(paths, tmp_path, run=systemctl))
    paths.queue_dir.chmod(0o700)
    assert bad.outcome == "fail"
    assert f"queue {paths.queue_dir}" in bad.detail
    assert "cannot read and write" in bad.detail


def test_disk(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    p = probe(paths, tmp_path)
    assert d.check_disk(p).outcome == "ok"
    full = d.check_disk(p, minimum=1 << 62)
    assert full.outcome == "fail"
    assert "queue.path" in full.fix
    paths.config_file.write_text('[queue]\nmax_bytes = "1000 TB"\n', encoding="utf-8")
    small = d.check_disk(probe(paths, tmp_path))
    assert small.outcome == "warn"
    assert "queue.max_bytes" in small.detail


def test_dns(tmp_path: Path, server: EmulatorProcess) -> None:
    local = server.url.replace("127.0.0.1", "localhost")
    assert d.check_dns(probe(make_paths(tmp_path, local), tmp_path)).outcome == "ok"
    bad = d.check_dns(probe(make_paths(tmp_path, "https://no-such-host.invalid"), tmp_path))
    assert bad.outcome == "fail"
    assert "no-such-host.invalid does not resolve" in bad.detail
    assert "server.url" in bad.fix


def test_tls(tmp_path: Path, tls_server: EmulatorProcess, ca: PrivateCA) -> None:
    trusted = make_paths(tmp_path / "a", tls_server.url, extra="")
    trusted.config_file.write_text(
        f'[server]\nurl = "{tls_server.url}"\nca_file = "{ca.ca_file}"\nproxy = "none"\n'
    )
    good = d.check_tls(probe(trusted, tmp_path / "a"))
    assert good.outcome == "ok", good
    assert str(ca.ca_file) in good.detail
    untrusted = make_paths(tmp_path / "b", tls_server.url)
    bad = d.check_tls(probe(untrusted, tmp_path / "b"))
    assert bad.outcome == "fail"
    assert "not trusted" in bad.detail
    assert "server.ca_file" in bad.detail


def test_tls_without_https_warns(tmp_path: Path, server: EmulatorProcess) -> None:
    plain = d.check_tls(probe(make_paths(tmp_path, server.url), tmp_path))
    assert plain.outcome == "warn"
    assert "without TLS" in plain.detail


def test_clock(tmp_path: Path, server: EmulatorProcess) -> None:
    paths = make_paths(tmp_path, server.url)
    assert d.check_clock(probe(paths, tmp_path)).outcome == "ok"
    late = d.check_clock(probe(paths, tmp_path, now=lambda: time.time() - 3600))
    assert late.outcome == "fail"
    assert "3600 s behind" in late.detail or "3599 s behind" in late.detail
    assert "timedatectl" in late.fix
    drift = d.check_clock(probe(paths, tmp_path, now=lambda: time.time() + 120))
    assert drift.outcome == "warn"
    assert "ahead of the server" in drift.detail


def test_auth(tmp_path: Path, server: EmulatorProcess) -> None:
    paths = make_paths(tmp_path, server.url)
    missing = d.check_auth(probe(paths, tmp_path))
    assert missing.outcome == "fail"
    assert "pywats-station login" in missing.fix
    store_token(paths, "not-the-token")
    refused = d.check_auth(probe(paths, tmp_path))
    assert refused.outcome == "fail"
    assert "refused the token (401" in refused.detail
    store_token(paths, TOKEN)
    assert d.check_auth(probe(paths, tmp_path)).outcome == "ok"


def test_registration(tmp_path: Path, server: EmulatorProcess) -> None:
    paths = make_paths(tmp_path, server.url)
    store_token(paths, TOKEN)
    p = probe(paths, tmp_path)
    unknown = d.check_registration(p)
    assert unknown.outcome == "warn"
    assert "registers the station" in unknown.fix
    with pyWATS(server.url, TOKEN) as api:
        api.system.register_client(p.config.station.name, mac="02:00:00:00:00:42")
    known = d.check_registration(probe(paths, tmp_path))
    assert known.outcome == "ok", known
    assert p.config.station.name in known.detail


def test_control(tmp_path: Path, server: EmulatorProcess) -> None:
    station = Station(tmp_path / "home", server)
    station.write_config()
    paths = instance_paths("default", env=_env(tmp_path), as_root=False)
    stopped = d.check_control(probe(paths, tmp_path))
    assert stopped.outcome == "fail"
    assert "not running" in stopped.detail
    assert "pywats-station run" in stopped.fix
    station.start()
    try:
        station.control_url()
        running = d.check_control(probe(paths, tmp_path))
        assert running.outcome == "ok", running
        assert "answers at ws://" in running.detail
    finally:
        station.stop(signal.SIGTERM)


def _systemd(answers: dict[str, tuple[int, str]]) -> Any:
    """A fake of systemctl/journalctl: the answer to each subcommand (argv[1] or the tool)."""

    def run(argv: Sequence[str]) -> tuple[int, str] | None:
        key = argv[1] if argv[0] == "systemctl" else argv[0]
        return answers.get(key, (0, ""))

    return run


def test_service(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    up = _systemd({"is-active": (0, "active"), "is-enabled": (0, "enabled")})
    assert d.check_service(probe(paths, tmp_path, run=up)).outcome == "ok"
    down = _systemd({"is-active": (3, "failed"), "is-enabled": (0, "enabled")})
    failed = d.check_service(probe(paths, tmp_path, run=down))
    assert failed.outcome == "fail"
    assert "pywats-station.service is failed" in failed.detail
    assert "systemctl start pywats-station.service" in failed.fix
    absent = _systemd({"is-active": (4, "inactive"), "is-enabled": (4, "not-found")})
    assert "install-service" in d.check_service(probe(paths, tmp_path, run=absent)).fix


def test_journal(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    quiet = _systemd({"journalctl": (0, "")})
    assert d.check_journal(probe(paths, tmp_path, run=quiet)).outcome == "ok"
    noisy = _systemd({"journalctl": (0, "server x: offline\nconfig reload refused")})
    found = d.check_journal(probe(paths, tmp_path, run=noisy))
    assert found.outcome == "warn"
    assert "config reload refused" in found.detail
    assert "journalctl -u pywats-station.service" in found.fix


@pytest.mark.skipif(
    Path("/run/systemd/system").is_dir(), reason="systemd runs here: nothing to skip"
)
def test_service_and_journal_skip_without_systemd(tmp_path: Path) -> None:
    p = probe(make_paths(tmp_path), tmp_path)
    for check in (d.check_service, d.check_journal):
        result = check(p)
        assert result.outcome == "skip"
        assert "systemd" in result.detail


def test_command_json_and_exit_code(tmp_path: Path, server: EmulatorProcess) -> None:
    station = Station(tmp_path / "home", server)
    station.write_config()
    done = station.cli("diagnose", "--json", check=False)
    assert done.returncode == 9  # the daemon is not running: a failed check
    data = json.loads(done.stdout)
    assert data["ok"] is False
    by_name = {c["name"]: c for c in data["checks"]}
    assert [c["name"] for c in data["checks"]] == [f.__name__[6:] for f in d.CHECKS]
    assert by_name["auth"]["outcome"] == "ok"  # the harness's token, from the environment
    assert by_name["control"]["outcome"] == "fail"
    assert by_name["control"]["fix"]
    text = station.cli("diagnose", check=False)
    assert "[FAIL] control" in text.stdout
    assert "-> systemctl start" in text.stdout


def test_the_service_user_from_the_unit_file_without_systemd(tmp_path: Path) -> None:
    unit = tmp_path / "pywats-station.service"
    unit.write_text("[Service]\nUser=pywats\nGroup=pywats\nExecStart=x\n", encoding="utf-8")
    assert d._unit_user("pywats-station.service", tmp_path) == "pywats"
    assert d._unit_user("pywats-station-other.service", tmp_path) == ""


def test_server_checks_skip_when_the_config_cannot_be_loaded(
    tmp_path: Path, server: EmulatorProcess
) -> None:
    paths = make_paths(tmp_path, server.url)
    paths.config_file.write_text("[server\n", encoding="utf-8")
    env = {**_env(tmp_path), "PYWATS_SERVER_URL": server.url}
    p = probe(paths, tmp_path, env=env)
    for check in (d.check_dns, d.check_tls, d.check_clock, d.check_auth, d.check_registration):
        result = check(p)
        assert result.outcome == "skip", result
        assert "configuration cannot be loaded" in result.detail


def test_dns_resolves_the_proxy_when_one_is_set(tmp_path: Path, server: EmulatorProcess) -> None:
    """Through a proxy the station never resolves the server's name: the proxy's is the one."""
    paths = make_paths(tmp_path, "https://wats.example.invalid")
    env = {**_env(tmp_path), "HTTPS_PROXY": "http://localhost:3128"}
    found = d.check_dns(probe(paths, tmp_path, env=env))
    assert found.outcome == "ok", found
    assert found.detail.startswith("proxy localhost")
    env["HTTPS_PROXY"] = "http://proxy.no-such-host.invalid:3128"
    bad = d.check_dns(probe(paths, tmp_path, env=env))
    assert bad.outcome == "fail"
    assert "the proxy proxy.no-such-host.invalid does not resolve" in bad.detail
    assert "server.proxy" in bad.fix

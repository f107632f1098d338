"""Factory networks: the real daemon and commands behind a proxy with credentials and a private CA.

The emulator serves HTTPS with a certificate of a CA made for the test
(:func:`tests.station.netaccess.make_private_ca`); the proxy (:func:`basic_auth_proxy`) wants
Basic credentials. The password is set with ``pywats-station proxy`` and must never show up in
what the station prints, logs or serves.
"""

from __future__ import annotations

import json
import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.control import BlockingClient
from tests.station.e2e.harness import TOKEN, Station, emulator, make_report, server_ids, wait_for
from tests.station.netaccess import PrivateCA, basic_auth_proxy, make_private_ca

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret:pa ss@word"  # characters a URL must escape


@pytest.fixture
def ca(tmp_path: Path) -> PrivateCA:
    return make_private_ca(tmp_path / "pki")


@pytest.fixture
def tls_server(ca: PrivateCA) -> Iterator[EmulatorProcess]:
    server = start_emulator(token=TOKEN, tls=(ca.cert_file, ca.key_file))
    try:
        yield server
    finally:
        server.stop()


def _ids(server: EmulatorProcess, ca: PrivateCA) -> set[str]:
    """The report ids on an HTTPS emulator (its admin route, trusting the test's CA)."""
    context = ssl.create_default_context(cafile=str(ca.ca_file))
    auth = {"Authorization": f"Basic {server.token}"}
    with httpx.Client(base_url=server.url, headers=auth, verify=context, timeout=10) as admin:
        answer = admin.get("/_emulator/reports")
        answer.raise_for_status()
        return set(answer.json()["ids"])


def _station(home: Path, server: EmulatorProcess, ca_file: Path | None = None) -> Station:
    station = Station(home, server)
    station.write_config()
    if ca_file is not None:
        config = station.config_dir / "config.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[server]\n", f'[server]\nca_file = "{ca_file}"\n', 1))
    return station


def test_daemon_uploads_through_an_authenticating_proxy_to_a_private_ca_server(
    tmp_path: Path, ca: PrivateCA, tls_server: EmulatorProcess
) -> None:
    station = _station(tmp_path / "home", tls_server, ca.ca_file)
    with basic_auth_proxy("alice", PASSWORD) as proxy:
        url = proxy.url.replace("http://", "http://alice@")
        done = station.cli("proxy", url, "--password-stdin", input_text=PASSWORD + "\n")
        assert "proxy password stored encrypted" in done.stdout
        config_text = (station.config_dir / "config.toml").read_text(encoding="utf-8")
        assert f'proxy = "{url}"' in config_text
        assert PASSWORD not in config_text
        reports = [make_report(n) for n in range(3)]
        station.enqueue(reports)
        station.start()
        try:
            try:
                wait_for(
                    lambda: _ids(tls_server, ca) >= {rid for rid, _ in reports},
                    what="the reports on the server",
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}; the daemon's log:\n{station.log_text()}") from None
            host = tls_server.url.removeprefix("https://")
            assert host in proxy.log.tunnels  # through the proxy, not around it
            shown = station.cli("config", "show").stdout + json.dumps(station.status())
            token = station.cli("control", "token").stdout.strip()
            with BlockingClient(station.control_url(), token=token) as client:
                shown += json.dumps(client.call("config.get"))
            assert "alice@127.0.0.1" in shown  # the setting is shown, its password is not
            assert PASSWORD not in shown
            assert "s3cret" not in shown
        finally:
            station.stop()
        assert PASSWORD not in station.log_text()
        assert "s3cret" not in station.log_text()


def test_wrong_proxy_credentials_are_named(tmp_path: Path) -> None:
    with emulator() as server, basic_auth_proxy("alice", PASSWORD) as proxy:
        station = _station(tmp_path / "home", server)
        url = proxy.url.replace("http://", "http://alice@")
        station.cli("proxy", url, "--password-stdin", input_text="wrong\n")
        done = station.cli("send-test-report", check=False)
        assert done.returncode == 5, done.stderr
        assert "the proxy refused its credentials (407" in done.stderr
        assert "pywats-station proxy" in done.stderr
        assert proxy.log.refused >= 1
        assert not proxy.log.forwarded
        # The right password: the same command gets through (forwarded: the server is http://).
        station.cli("proxy", url, "--password-stdin", input_text=PASSWORD + "\n")
        done = station.cli("send-test-report", "--json", check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["id"] in server_ids(server)
        assert proxy.log.forwarded


def test_wrong_proxy_credentials_over_https(
    tmp_path: Path, ca: PrivateCA, tls_server: EmulatorProcess
) -> None:
    station = _station(tmp_path / "home", tls_server, ca.ca_file)
    with basic_auth_proxy("alice", PASSWORD) as proxy:
        station.cli("proxy", proxy.url.replace("http://", "http://alice:wrong@"))
        done = station.cli("send-test-report", check=False)
        assert done.returncode == 5, done.stderr
        assert "the proxy refused its credentials (407" in done.stderr
        assert "wrong" not in done.stderr


def test_private_ca_trusted_only_with_ca_file(
    tmp_path: Path, ca: PrivateCA, tls_server: EmulatorProcess
) -> None:
    without = _station(tmp_path / "without", tls_server)
    done = without.cli("send-test-report", check=False)
    assert done.returncode == 5, done.stderr
    assert "certificate is not trusted" in done.stderr
    assert "server.ca_file" in done.stderr
    trusted = _station(tmp_path / "with", tls_server, ca.ca_file)
    done = trusted.cli("send-test-report", "--json", check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] in _ids(tls_server, ca)
    # login tries the token the same way: through ca_file.
    done = trusted.cli("login", "--token-stdin", input_text=TOKEN + "\n", check=False)
    assert done.returncode == 0, done.stderr
    assert "accepted the token" in done.stdout


def test_daemon_names_ca_file_when_the_certificate_is_not_trusted(
    tmp_path: Path, tls_server: EmulatorProcess
) -> None:
    station = _station(tmp_path / "home", tls_server)
    station.start()
    try:

        def offline_with_reason() -> bool:
            return "server.ca_file" in json.dumps(station.status())

        wait_for(offline_with_reason, what="the status to name server.ca_file")
    finally:
        assert station.stop(signal.SIGTERM) == 0

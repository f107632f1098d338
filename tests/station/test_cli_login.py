"""``pywats-station login``: the token is tried on the server before it is kept.

The server is the emulator over TCP (a real HTTP server in its own process); the command runs
in this process, as ``main([...])``.
"""

from __future__ import annotations

import io
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator
from pywats_station.cli import main
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.secrets import load_token
from pywats_station.token_binding import read_binding

pytestmark = pytest.mark.e2e

TOKEN = "login-test-token"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorProcess]:
    running = start_emulator(token=TOKEN, admin=False)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstancePaths:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path))
    for name in ("PYWATS_INSTANCE", "PYWATS_SERVER_URL", "PYWATS_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path)})


def login(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
    *options: str,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    code = main(["login", "--token-stdin", *options])
    out, err = capsys.readouterr()
    return code, out, err


def closed_port_url() -> str:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_token_the_server_accepts_is_stored_and_confirmed(
    server: EmulatorProcess,
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = login(monkeypatch, capsys, TOKEN, "--url", server.url)
    assert (code, err) == (0, "")
    assert f"{server.url} accepted the token (server version " in out
    assert load_token(paths) == TOKEN
    assert read_binding(paths).origin is not None  # bound as before: login confirms


def test_a_token_the_server_refuses_is_not_stored(
    server: EmulatorProcess,
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = login(monkeypatch, capsys, "wrong-token", "--url", server.url)
    assert (code, out) == (6, "")
    assert f"{server.url} refused the token (401: " in err
    assert "nothing was stored" in err
    assert "--force" in err
    assert load_token(paths) is None
    assert not paths.config_file.exists()  # --url is not written either


def test_force_stores_a_refused_token_with_a_warning(
    server: EmulatorProcess,
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = login(monkeypatch, capsys, "wrong-token", "--url", server.url, "--force")
    assert code == 0
    assert "token stored encrypted" in out
    assert f"warning: {server.url} refused the token (401: " in err
    assert load_token(paths) == "wrong-token"


def test_the_configured_server_is_the_one_tried(
    server: EmulatorProcess,
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(f'[server]\nurl = "{server.url}"\n', encoding="utf-8")
    code, _, err = login(monkeypatch, capsys, "wrong-token")
    assert code == 6
    assert "refused the token" in err
    code, out, _ = login(monkeypatch, capsys, TOKEN)
    assert (code, "accepted the token" in out) == (0, True)


def test_an_unreachable_server_stores_the_token_with_a_warning(
    paths: InstancePaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = closed_port_url()
    code, out, err = login(monkeypatch, capsys, TOKEN, "--url", url)
    assert code == 0
    assert "token stored encrypted" in out
    assert "warning: the token was not tried: the server cannot be reached" in err
    assert load_token(paths) == TOKEN


def test_without_a_server_the_token_is_stored_untried(
    paths: InstancePaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = login(monkeypatch, capsys, TOKEN)
    assert (code, err) == (0, "")
    assert "not tried: no server is configured yet" in out
    assert load_token(paths) == TOKEN


def test_send_test_report_without_a_token_says_none_is_set(
    server: EmulatorProcess, paths: InstancePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(f'[server]\nurl = "{server.url}"\n', encoding="utf-8")
    assert main(["send-test-report"]) == 6
    err = capsys.readouterr().err
    assert "no API token is set: run `pywats-station login`" in err
    assert "refused" not in err


def test_send_test_report_prints_the_stored_id_as_json(
    server: EmulatorProcess,
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # submit_report returns a uuid.UUID: the JSON line must still carry it, as text.
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(f'[server]\nurl = "{server.url}"\n', encoding="utf-8")
    monkeypatch.setenv("PYWATS_API_TOKEN", TOKEN)
    assert main(["send-test-report", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert str(uuid.UUID(printed["id"])) == printed["id"]
    assert printed["pn"] == "PYWATS-TEST"

"""``[server] proxy`` and ``ca_file``: validation, the stored proxy password, what is shown."""

from __future__ import annotations

import io
import os
import ssl
from pathlib import Path
from typing import Any

import pytest

from pywats_station.cli import main
from pywats_station.config import ServerConfig, StationConfig, read_config, redacted, validate
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.secrets import (
    PROXY_PASSWORD_FILE,
    SecretsError,
    load_proxy_password,
    store_proxy_password,
)
from pywats_station.server_access import (
    AccessError,
    check_ca_file,
    check_proxy,
    explain,
    server_access,
)
from tests.station.netaccess import make_private_ca


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstancePaths:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path))
    for name in ("PYWATS_INSTANCE", "PYWATS_SERVER_URL", "PYWATS_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path)})


def _config(**server: Any) -> StationConfig:
    """A configuration with these ``[server]`` values, not validated (validate() is tested)."""
    return StationConfig(server=ServerConfig(**server))


@pytest.mark.parametrize(
    "value", ["system", "none", "http://proxy.example:3128", "https://u@p.example", "http://p/"]
)
def test_usable_proxy_settings(value: str) -> None:
    assert check_proxy(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("System", 'must be "system", "none"'),
        ("proxy.example:3128", 'must be "system", "none"'),
        ("ftp://proxy.example", "http:// or https://"),
        ("http://proxy.example:99999", "must be"),
        ("http://proxy.example:3128/path", "without a path"),
        ("socks5://u:hunter2@p:1080", "http:// or https://"),
    ],
)
def test_bad_proxy_settings_are_named_without_the_password(value: str, expected: str) -> None:
    problems = validate(_config(proxy=value))
    assert [p.key for p in problems] == ["server.proxy"]
    assert expected in problems[0].message
    assert "hunter2" not in problems[0].message


def test_ca_file_problems_name_the_key(tmp_path: Path) -> None:
    ca = make_private_ca(tmp_path / "pki")
    assert check_ca_file(str(ca.ca_file)) is None
    assert check_ca_file("") is None
    cases = {
        "ca.pem": "must be an absolute path",
        str(tmp_path / "missing.pem"): "does not exist",
        str(tmp_path): "is a folder",
        str(ca.key_file): "is not a PEM CA bundle",
    }
    for value, expected in cases.items():
        problems = validate(_config(ca_file=value))
        assert [p.key for p in problems] == ["server.ca_file"], value
        assert expected in problems[0].message, value
    if os.geteuid() != 0:  # root reads any file
        ca.ca_file.chmod(0)
        assert "cannot be read" in (check_ca_file(str(ca.ca_file)) or "")


def test_ca_file_trusts_only_its_ca(tmp_path: Path, paths: InstancePaths) -> None:
    ca = make_private_ca(tmp_path / "pki")
    access = server_access(_config(ca_file=str(ca.ca_file)), paths)
    assert isinstance(access.verify, ssl.SSLContext)
    assert [c["subject"] for c in access.verify.get_ca_certs()] == [
        ((("commonName", "pyWATS test factory CA"),),)
    ]
    off = server_access(_config(ca_file=str(ca.ca_file), verify_tls=False), paths)
    assert off.verify is False
    ca.ca_file.unlink()
    with pytest.raises(AccessError, match=r"server\.ca_file: .* does not exist"):
        server_access(_config(ca_file=str(ca.ca_file)), paths)


def test_system_none_and_url(paths: InstancePaths) -> None:
    system = server_access(_config(), paths)
    assert (system.proxy, system.trust_env) == (None, True)
    assert "HTTPS_PROXY" in system.describe({"HTTPS_PROXY": "http://u:pw@p:1"})
    assert "pw" not in system.describe({"HTTPS_PROXY": "http://u:pw@p:1"}).replace("proxy", "")
    none = server_access(_config(proxy="none"), paths)
    assert (none.proxy, none.trust_env) == (None, False)
    url = server_access(_config(proxy="http://p.example:3128"), paths)
    assert (url.proxy, url.trust_env) == ("http://p.example:3128", False)


def test_the_stored_password_joins_the_url_and_stays_secret(paths: InstancePaths) -> None:
    store_proxy_password(paths, "p@ss:word/1")
    assert load_proxy_password(paths) == "p@ss:word/1"
    assert (paths.secrets_dir / PROXY_PASSWORD_FILE).stat().st_mode & 0o077 == 0
    assert b"p@ss" not in (paths.secrets_dir / PROXY_PASSWORD_FILE).read_bytes()
    access = server_access(_config(proxy="http://alice@p.example:3128"), paths)
    assert access.proxy == "http://alice:p%40ss%3Aword%2F1@p.example:3128"
    assert access.secrets == ("p@ss:word/1",)
    assert "p@ss" not in access.describe() + repr(access.proxy_setting)
    # A user-less URL does not take it (nobody to log in as).
    bare = server_access(_config(proxy="http://p.example:3128"), paths)
    assert bare.proxy == "http://p.example:3128"


def test_a_tampered_password_store_is_an_access_error(paths: InstancePaths) -> None:
    store_proxy_password(paths, "secret")
    (paths.secrets_dir / PROXY_PASSWORD_FILE).write_bytes(b"garbage")
    (paths.secrets_dir / PROXY_PASSWORD_FILE).chmod(0o600)
    with pytest.raises(SecretsError):
        load_proxy_password(paths)
    with pytest.raises(AccessError, match=r"server\.proxy: .*pywats-station proxy"):
        server_access(_config(proxy="http://alice@p.example:3128"), paths)


def test_a_password_in_the_file_is_redacted_when_shown() -> None:
    config = _config(proxy="http://alice:hunter2@p.example:3128")
    shown = redacted(config)  # config show and config.get
    assert shown["server"]["proxy"] == "http://alice:***@p.example:3128"
    assert "hunter2" not in str(shown)


def test_proxy_command_moves_the_password_out_of_the_file(
    paths: InstancePaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hunter2\n"))
    assert main(["proxy", "http://alice@p.example:3128", "--password-stdin"]) == 0
    text = paths.config_file.read_text(encoding="utf-8")
    assert 'proxy = "http://alice@p.example:3128"' in text
    assert load_proxy_password(paths) == "hunter2"
    assert main(["proxy", "http://bob:s%40fe@p.example:3128"]) == 0  # typed into the URL
    assert 'proxy = "http://bob@p.example:3128"' in paths.config_file.read_text(encoding="utf-8")
    assert load_proxy_password(paths) == "s@fe"
    assert main(["proxy"]) == 0
    assert main(["proxy", "none"]) == 0
    assert load_proxy_password(paths) is None
    assert read_config(paths.config_file).config.server.proxy == "none"
    assert main(["proxy", "gopher://x"]) == 2
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err
    assert "s@fe" not in out + err
    assert "server.proxy" in err


def test_explain_names_the_fix() -> None:
    class Failure(Exception):
        status = 407

    assert "pywats-station proxy" in (explain(Failure("x")) or "")
    cert = OSError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed")
    assert "server.ca_file" in (explain(cert) or "")
    assert explain(ValueError("something else")) is None

"""The API token at rest: encryption, file modes, refusal of loose permissions, resolution order."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.config import ServerConfig, StationConfig
from pywats_station.paths import InstancePaths, instance_paths
from pywats_station.secrets import (
    SecretsError,
    delete_token,
    load_token,
    resolve_token,
    store_token,
    token_source,
    token_status,
)

TOKEN = "dXNlcjpzM2NyZXQtdG9rZW4tOTk5"  # the shape of a WATS token (base64 of user:secret)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """Run with umask 0, so the modes checked below come from the code, not the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def paths(tmp_path: Path) -> InstancePaths:
    env = {"STATE_DIRECTORY": str(tmp_path / "state"), "CONFIGURATION_DIRECTORY": str(tmp_path)}
    return instance_paths("test", env=env, as_root=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_round_trip(paths: InstancePaths) -> None:
    assert load_token(paths) is None
    where = store_token(paths, f"  {TOKEN}\n")
    assert where == paths.secrets_dir / "token"
    assert load_token(paths) == TOKEN


def test_modes(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    assert mode(paths.secrets_dir) == 0o700
    assert mode(paths.secrets_dir / "key") == 0o600
    assert mode(paths.secrets_dir / "token") == 0o600
    assert sorted(os.listdir(paths.secrets_dir)) == ["key", "token"]  # no temp files left


def test_the_token_is_never_stored_in_plain_text(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    store_token(paths, TOKEN)
    decoded = base64.b64decode(TOKEN)
    for file in paths.state_dir.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert TOKEN.encode() not in data, file
            assert decoded not in data, file


@pytest.mark.parametrize(("name", "loose"), [("token", 0o640), ("key", 0o644), ("token", 0o604)])
def test_files_readable_by_others_are_refused(paths: InstancePaths, name: str, loose: int) -> None:
    store_token(paths, TOKEN)
    os.chmod(paths.secrets_dir / name, loose)
    with pytest.raises(SecretsError, match=rf"accessible by other users .*chmod 600 .*{name}"):
        load_token(paths)


def test_a_folder_writable_by_others_is_refused(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    os.chmod(paths.secrets_dir, 0o777)
    with pytest.raises(SecretsError, match="chmod 700"):
        load_token(paths)
    store_token(paths, TOKEN)  # storing again tightens the folder
    assert mode(paths.secrets_dir) == 0o700
    assert load_token(paths) == TOKEN


def test_a_symlink_is_not_followed(paths: InstancePaths, tmp_path: Path) -> None:
    store_token(paths, TOKEN)
    elsewhere = tmp_path / "elsewhere"
    os.replace(paths.secrets_dir / "token", elsewhere)
    os.symlink(elsewhere, paths.secrets_dir / "token")
    with pytest.raises(SecretsError, match="cannot read"):
        load_token(paths)


def test_store_again_reuses_the_key(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    key = (paths.secrets_dir / "key").read_bytes()
    store_token(paths, "second-token")
    assert (paths.secrets_dir / "key").read_bytes() == key
    assert load_token(paths) == "second-token"


def test_a_broken_or_exposed_key_is_replaced_by_store(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    (paths.secrets_dir / "key").write_bytes(b"not a key")
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        load_token(paths)
    store_token(paths, TOKEN)
    assert load_token(paths) == TOKEN
    os.chmod(paths.secrets_dir / "key", 0o644)
    old_key = (paths.secrets_dir / "key").read_bytes()
    store_token(paths, TOKEN)
    assert (paths.secrets_dir / "key").read_bytes() != old_key
    assert mode(paths.secrets_dir / "key") == 0o600
    assert load_token(paths) == TOKEN


def test_tampering_and_a_missing_key_are_clear_errors(paths: InstancePaths) -> None:
    store_token(paths, TOKEN)
    encrypted = bytearray((paths.secrets_dir / "token").read_bytes())
    encrypted[20] ^= 1
    (paths.secrets_dir / "token").write_bytes(bytes(encrypted))
    with pytest.raises(SecretsError, match="login"):
        load_token(paths)
    (paths.secrets_dir / "key").unlink()
    with pytest.raises(SecretsError, match=r"key is missing"):
        load_token(paths)


def test_empty_token(paths: InstancePaths) -> None:
    with pytest.raises(ValueError, match="empty"):
        store_token(paths, "  \n")


def test_delete(paths: InstancePaths) -> None:
    assert delete_token(paths) is False
    store_token(paths, TOKEN)
    assert delete_token(paths) is True
    assert load_token(paths) is None
    assert os.listdir(paths.secrets_dir) == []
    assert delete_token(paths) is False


def test_status_never_shows_the_token(paths: InstancePaths) -> None:
    assert token_status(paths) == "no stored token"
    store_token(paths, TOKEN)
    status = token_status(paths)
    assert status.startswith(f"encrypted token stored in {paths.secrets_dir / 'token'} (saved ")
    assert TOKEN not in status
    os.chmod(paths.secrets_dir / "token", 0o644)
    assert token_status(paths).startswith("stored token unusable: ")


# --- resolution order -------------------------------------------------------------------------


def test_resolution_order(paths: InstancePaths, tmp_path: Path) -> None:
    token_file = tmp_path / "credential"
    token_file.write_text("from-file\n")
    store_token(paths, "from-store")
    with_file = StationConfig(server=ServerConfig(token_file=str(token_file)))
    env = {"PYWATS_API_TOKEN": "from-env"}

    assert resolve_token(with_file, paths, env) == "from-env"
    assert token_source(with_file, paths, env) == "environment variable PYWATS_API_TOKEN"
    assert resolve_token(with_file, paths, {}) == "from-file"
    assert token_source(with_file, paths, {}) == "server.token_file"
    in_config = StationConfig(server=ServerConfig(token="from-config"))
    assert resolve_token(in_config, paths, {}) == "from-store"
    assert token_source(in_config, paths, {}).startswith("encrypted token in ")
    delete_token(paths)
    assert resolve_token(in_config, paths, {}) == "from-config"
    assert token_source(in_config, paths, {}) == "server.token in the configuration file"
    assert resolve_token(StationConfig(), paths, {}) is None
    assert token_source(StationConfig(), paths, {}) == "none"


def test_token_file_paths(paths: InstancePaths, tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "wats").write_text("systemd-credential")
    expanded = StationConfig(server=ServerConfig(token_file="${CREDENTIALS_DIRECTORY}/wats"))
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    assert resolve_token(expanded, paths, env) == "systemd-credential"
    # Relative to the folder of the config file (here tmp_path/test/).
    paths.config_file.parent.mkdir(parents=True)
    (paths.config_file.parent / "token.txt").write_text("relative")
    relative = StationConfig(server=ServerConfig(token_file="token.txt"))
    assert resolve_token(relative, paths, {}) == "relative"


def test_a_configured_token_file_that_fails_is_an_error(paths: InstancePaths) -> None:
    store_token(paths, "from-store")  # must not be used silently instead
    missing = StationConfig(server=ServerConfig(token_file="/nonexistent/token"))
    with pytest.raises(SecretsError, match="/nonexistent/token"):
        resolve_token(missing, paths, {})
    empty = paths.config_file.parent / "empty"
    empty.parent.mkdir(parents=True)
    empty.write_text("\n")
    with pytest.raises(SecretsError, match="is empty"):
        resolve_token(StationConfig(server=ServerConfig(token_file=str(empty))), paths, {})


def test_resolve_reads_os_environ(paths: InstancePaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYWATS_API_TOKEN", "from-os")
    assert resolve_token(StationConfig(), paths) == "from-os"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_writing_the_services_secrets_leaves_them_to_the_service(
    paths: InstancePaths,
) -> None:
    """``sudo pywats-station login`` on a station whose service runs as another user: the
    daemon must be able to read what root stored (files 0600 left to root would not be)."""
    from pywats_station.token_binding import bind_origin

    service_uid, service_gid = 4242, 4343
    paths.secrets_dir.mkdir(parents=True, mode=0o700)
    os.chown(paths.secrets_dir, service_uid, service_gid)
    store_token(paths, "tok-123")
    bind_origin(paths, "https://wats.example")
    for name in ("key", "token", "server-binding.json"):
        st = (paths.secrets_dir / name).stat()
        assert (st.st_uid, st.st_gid) == (service_uid, service_gid), name
        assert stat.S_IMODE(st.st_mode) == 0o600, name

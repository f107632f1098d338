"""Per-instance paths: systemd directories, platformdirs fallback, root, isolation, names."""

from __future__ import annotations

import itertools
import os
import stat
from pathlib import Path

import pytest

from pywats_station.paths import (
    InstancePaths,
    InvalidInstanceError,
    atomic_write,
    ensure_directories,
    instance_paths,
    resolve_instance,
    validate_instance,
)

SYSTEMD = {
    "CONFIGURATION_DIRECTORY": "/etc/pywats-station",
    "STATE_DIRECTORY": "/var/lib/pywats-station:/var/lib/other",
    "CACHE_DIRECTORY": "/var/cache/pywats-station",
    "LOGS_DIRECTORY": "/var/log/pywats-station",
    "RUNTIME_DIRECTORY": "/run/pywats-station",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG variables platformdirs reads at a temporary folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return tmp_path


def test_systemd_directories(home: Path) -> None:
    paths = instance_paths("line1", env=SYSTEMD, as_root=False)
    assert paths.config_file == Path("/etc/pywats-station/line1/config.toml")
    assert paths.state_dir == Path("/var/lib/pywats-station/line1")  # first of several
    assert paths.queue_dir == Path("/var/lib/pywats-station/line1/queue")
    assert paths.secrets_dir == Path("/var/lib/pywats-station/line1/secrets")
    assert paths.lock_file == Path("/var/lib/pywats-station/line1/station.lock")
    assert paths.cache_dir == Path("/var/cache/pywats-station/line1")
    assert paths.log_dir == Path("/var/log/pywats-station/line1")
    assert paths.runtime_dir == Path("/run/pywats-station/line1")
    assert paths.backup_config_file == Path("/etc/pywats-station/line1/config.toml.bak")


def test_a_unit_with_only_a_state_directory(home: Path) -> None:
    paths = instance_paths(env={"STATE_DIRECTORY": "/var/lib/s"}, as_root=False)
    assert paths.state_dir == Path("/var/lib/s/default")
    assert paths.cache_dir == Path("/var/lib/s/default/cache")
    assert paths.log_dir == Path("/var/lib/s/default/log")
    assert paths.config_file == home / "xdg-config" / "pywats-station" / "default" / "config.toml"


def test_platformdirs_fallback_for_a_user(home: Path) -> None:
    paths = instance_paths(env={}, as_root=False)
    state = home / "xdg-state" / "pywats-station" / "default"
    assert paths.config_file == home / "xdg-config" / "pywats-station" / "default" / "config.toml"
    assert (paths.state_dir, paths.queue_dir) == (state, state / "queue")
    assert (paths.cache_dir, paths.log_dir, paths.runtime_dir) == (
        state / "cache",
        state / "log",
        state / "run",
    )


def test_root_without_systemd_uses_the_folders_a_unit_would_get(home: Path) -> None:
    paths = instance_paths("x", env={}, as_root=True)
    assert paths.config_file == Path("/etc/pywats-station/x/config.toml")
    assert paths.state_dir == Path("/var/lib/pywats-station/x")
    assert paths.cache_dir == Path("/var/cache/pywats-station/x")
    assert paths.log_dir == Path("/var/log/pywats-station/x")
    assert paths.runtime_dir == Path("/run/pywats-station/x")


def test_defaults_read_os_environ(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(home / "unit-state"))
    assert instance_paths(as_root=False).state_dir == home / "unit-state" / "default"


def test_config_option_replaces_only_the_config_file(home: Path) -> None:
    normal = instance_paths("a", env={}, as_root=False)
    custom = instance_paths("a", config_file=Path("custom.toml"), env={}, as_root=False)
    assert custom.config_file == Path.cwd() / "custom.toml"
    assert custom.backup_config_file == Path.cwd() / "custom.toml.bak"
    assert {k: v for k, v in vars(custom).items() if k != "config_file"} == {
        k: v for k, v in vars(normal).items() if k != "config_file"
    }


def _files(paths: InstancePaths) -> list[Path]:
    return [value for value in vars(paths).values() if isinstance(value, Path)]


@pytest.mark.parametrize("as_root", [False, True])
@pytest.mark.parametrize("env", [{}, SYSTEMD, {"STATE_DIRECTORY": "/s"}])
def test_instances_never_share_or_nest_a_path(
    home: Path, env: dict[str, str], as_root: bool
) -> None:
    # Names that equal the sub-folders used inside an instance are the dangerous ones.
    names = ["default", "a", "log", "cache", "run", "queue", "secrets", "Cache", "Logs"]
    every = {name: _files(instance_paths(name, env=env, as_root=as_root)) for name in names}
    for (a, paths_a), (b, paths_b) in itertools.combinations(every.items(), 2):
        for x, y in itertools.product(paths_a, paths_b):
            assert x != y, (a, b, x)
            assert x not in y.parents, (a, b, x, y)
            assert y not in x.parents, (a, b, x, y)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "a/b", "a\\b", "a b", "x" * 65, "ünïcode", "a:b", "a\n", "\n"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidInstanceError, match="invalid instance name"):
        instance_paths(name)


def test_valid_names() -> None:
    for name in ("default", "line-1", "ICT_2", "v1.2", "x" * 64, "-", "..."):
        assert validate_instance(name) == name


def test_resolve_instance() -> None:
    assert resolve_instance(None, env={}) == "default"
    assert resolve_instance(None, env={"PYWATS_INSTANCE": ""}) == "default"
    assert resolve_instance(None, env={"PYWATS_INSTANCE": "line2"}) == "line2"
    assert resolve_instance("cli", env={"PYWATS_INSTANCE": "line2"}) == "cli"
    with pytest.raises(InvalidInstanceError):
        resolve_instance(None, env={"PYWATS_INSTANCE": "../etc"})


def test_resolve_instance_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYWATS_INSTANCE", "from-env")
    assert resolve_instance(None) == "from-env"


def test_as_dict_is_for_display(home: Path) -> None:
    shown = instance_paths(env={}, as_root=False).as_dict()
    assert shown["instance"] == "default"
    assert shown["config_file"].endswith("config.toml")


def test_ensure_directories(home: Path) -> None:
    old = os.umask(0)  # the secrets folder must not depend on a strict umask
    try:
        paths = instance_paths(env={}, as_root=False)
        ensure_directories(paths)
        ensure_directories(paths)  # idempotent
    finally:
        os.umask(old)
    for folder in (paths.state_dir, paths.queue_dir, paths.cache_dir, paths.log_dir):
        assert folder.is_dir()
    assert stat.S_IMODE(os.stat(paths.secrets_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(paths.runtime_dir).st_mode) == 0o700
    assert not paths.config_file.parent.exists()


def test_atomic_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write(target, b"one", mode=0o640)
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["f.txt"]

    def fail(*args: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write(target, b"three")
    monkeypatch.undo()
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f.txt"]


def test_station_home_keeps_everything_in_one_tree(tmp_path: Path) -> None:
    paths = instance_paths("line1", env={"PYWATS_STATION_HOME": str(tmp_path)}, as_root=True)
    assert paths.config_file == tmp_path / "config" / "line1" / "config.toml"
    for folder in (paths.state_dir, paths.queue_dir, paths.cache_dir, paths.runtime_dir):
        assert folder.is_relative_to(tmp_path / "state" / "line1")
    systemd = instance_paths(
        "line1",
        env={"PYWATS_STATION_HOME": str(tmp_path), "STATE_DIRECTORY": "/srv/state"},
        as_root=True,
    )
    assert systemd.state_dir == Path("/srv/state/line1")

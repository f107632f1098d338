"""The generated systemd unit: systemd accepts it, rates it hardened, and opens only what it must.

``systemd-analyze`` (from the systemd package) reads unit files without a running systemd, so
these run on a CI machine without systemd as PID 1; they skip where the tool is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pywats_station.config import StationConfig, load_config
from pywats_station.paths import instance_paths
from pywats_station.secrets import SecretsError, resolve_token, token_source
from pywats_station.systemd import TOKEN_CREDENTIAL, unit_file, unit_name, writable_paths

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
MAX_EXPOSURE = 2.0


def _program() -> str:
    """A real executable for ExecStart= (verify checks that it exists)."""
    script = Path(sys.executable).with_name("pywats-station")
    return str(script if script.exists() else Path(sys.executable).resolve())


def _config(tmp_path: Path, text: str) -> StationConfig:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _write_unit(tmp_path: Path, text: str, name: str = "pywats-station.service") -> Path:
    unit = tmp_path / "units" / name
    unit.parent.mkdir(exist_ok=True)
    unit.write_text(text, encoding="utf-8")
    return unit


def _exposure(unit: Path) -> float:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert found, f"no exposure figure in:\n{done.stdout}\n{done.stderr}"
    return float(found.group(1))


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


CONVERTERS = """
[queue]
path = "{root}/ssd/queue"
[control]
roots = ["{root}/results", "{root}/ssd"]
[[converters]]
name = "ict"
kind = "wsjf"
watch = "{root}/results/ict"
done = "{root}/ssd/done/ict"
[[converters]]
name = "functional"
kind = "wsxf"
watch = "{root}/functional with space"
error = "{root}/ssd/50%/error"
"""


def test_writable_paths_come_from_the_configuration(tmp_path: Path) -> None:
    paths = instance_paths("line-b", env={"PYWATS_STATION_HOME": str(tmp_path / "home")})
    config = _config(tmp_path, CONVERTERS.format(root=tmp_path))
    found = writable_paths(config, paths)
    # The roots hold the queue and the done/error folders; folders inside one are left out.
    assert found == sorted(
        [
            paths.config_file.parent,
            tmp_path / "functional with space",
            tmp_path / "results",
            tmp_path / "ssd",
        ]
    )
    bare = writable_paths(
        _config(tmp_path, f'[[converters]]\nname="a"\nkind="wsjf"\nwatch="{tmp_path}/w"\n'), paths
    )
    # Default done/error folders live inside the watch folder; the default queue is state.
    assert bare == [paths.config_file.parent, tmp_path / "w"]


def test_unit_names_one_unit_per_instance() -> None:
    assert unit_name("default") == "pywats-station"
    assert unit_name("line-b") == "pywats-station-line-b"


def test_every_instance_uses_the_base_folders_root_uses_without_systemd() -> None:
    """``sudo pywats-station --instance X login`` must write where the service reads."""
    text = unit_file(instance="line-b", executable="/opt/p/bin/pywats-station")
    assert "\nStateDirectory=pywats-station\n" in text
    assert "\nConfigurationDirectory=pywats-station\n" in text
    assert "\nRuntimeDirectoryPreserve=yes\n" in text
    assert "ExecStart=/opt/p/bin/pywats-station --instance line-b run\n" in text


def test_paths_are_escaped_for_the_unit_file(tmp_path: Path) -> None:
    text = unit_file(
        executable="/opt/50%/pywats-station",
        read_write_paths=[Path("/srv/a b"), Path("/srv/100%")],
    )
    assert 'ReadWritePaths=-"/srv/a b"\n' in text
    assert "ReadWritePaths=-/srv/100%%\n" in text
    assert "ExecStart=/opt/50%%/pywats-station run\n" in text


def test_a_configured_home_folder_relaxes_protect_home_and_says_why() -> None:
    text = unit_file(executable="/usr/bin/true", read_write_paths=[Path("/home/tester/results")])
    assert "\nProtectHome=read-only\n" in text
    assert "/home/tester/results" in text.split("ProtectHome=read-only")[0]
    assert "\nProtectHome=yes\n" in unit_file(executable="/usr/bin/true")


@needs_analyze
@pytest.mark.parametrize(
    ("instance", "rw", "credential", "home"),
    [
        ("default", False, False, False),
        ("line-b", True, True, False),
        ("line-c", True, False, True),
    ],
)
def test_the_unit_verifies_and_its_exposure_is_at_most_2(
    tmp_path: Path, instance: str, rw: bool, credential: bool, home: bool
) -> None:
    folders = [tmp_path / "results", tmp_path / "with space"] if rw else []
    if home:
        folders.append(Path("/home/tester/results"))
    text = unit_file(
        instance=instance,
        executable=_program(),
        read_write_paths=folders,
        token_credential=tmp_path / "token" if credential else None,
    )
    unit = _write_unit(tmp_path, text, unit_name(instance) + ".service")
    verified = _verify(unit)
    assert verified.returncode == 0, verified.stderr
    # verify prints problems it tolerates (unknown settings, bad values) without failing.
    assert str(unit) not in verified.stderr, verified.stderr
    exposure = _exposure(unit)
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}"


@needs_analyze
def test_the_exposure_figure_is_read_correctly(tmp_path: Path) -> None:
    """The parser sees a bad unit as bad: the check can fail."""
    unit = _write_unit(tmp_path, f"[Service]\nExecStart={_program()} run\n")
    assert _exposure(unit) > 9.0


# --- LoadCredential: the API token from $CREDENTIALS_DIRECTORY ------------------------------


def _token_env(tmp_path: Path, content: str | None) -> dict[str, str]:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "other").write_text("not ours")
    if content is not None:
        (creds / TOKEN_CREDENTIAL).write_text(content)
    return {"CREDENTIALS_DIRECTORY": str(creds)}


def test_the_credential_is_used_before_the_stored_token(tmp_path: Path) -> None:
    from pywats_station.secrets import store_token

    paths = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path / "home")})
    store_token(paths, "stored-token")
    config = StationConfig()
    env = _token_env(tmp_path, "credential-token\n")
    assert resolve_token(config, paths, env) == "credential-token"
    assert TOKEN_CREDENTIAL in token_source(config, paths, env)
    # The environment variable still wins (a one-off override by hand).
    assert resolve_token(config, paths, {**env, "PYWATS_API_TOKEN": "env"}) == "env"


def test_credentials_without_the_token_fall_through(tmp_path: Path) -> None:
    from pywats_station.secrets import store_token

    paths = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path / "home")})
    store_token(paths, "stored-token")
    assert resolve_token(StationConfig(), paths, _token_env(tmp_path, None)) == "stored-token"


def test_an_empty_credential_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    paths = instance_paths("default", env={"PYWATS_STATION_HOME": str(tmp_path / "home")})
    with pytest.raises(SecretsError, match="empty"):
        resolve_token(StationConfig(), paths, _token_env(tmp_path, "  \n"))


def test_the_unit_loads_the_credential_when_given() -> None:
    text = unit_file(executable="/usr/bin/true", token_credential=Path("/etc/credstore/t"))
    assert f"\nLoadCredential={TOKEN_CREDENTIAL}:/etc/credstore/t\n" in text
    assert "\n# LoadCredential=" in unit_file(executable="/usr/bin/true")

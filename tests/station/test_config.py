"""The station configuration: defaults, named validation errors, env overrides, files, display."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import msgspec
import pytest

from pywats_station.config import (
    ConfigError,
    ConverterConfig,
    ServerConfig,
    StationConfig,
    default_config_text,
    load_config,
    read_config,
    save_config,
    validate,
)
from pywats_station.paths import InstancePaths, instance_paths

EXAMPLES = Path(__file__).resolve().parents[2] / "config-examples"
CONVERTER = '[[converters]]\nname = "c"\nkind = "wsjf"\nwatch = "/in"\n'


@pytest.fixture
def paths(tmp_path: Path) -> InstancePaths:
    env = {"STATE_DIRECTORY": str(tmp_path / "state"), "CONFIGURATION_DIRECTORY": str(tmp_path)}
    return instance_paths("test", env=env, as_root=False)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    return {problem.key: problem.message for problem in info.value.problems}


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_validate(tmp_path: Path) -> None:
    assert validate(StationConfig()) == []
    assert load_config(write(tmp_path, ""), env={}) == StationConfig()


def test_default_text_is_valid_and_shows_the_true_defaults(
    paths: InstancePaths, tmp_path: Path
) -> None:
    text = default_config_text(paths)
    assert tomllib.loads(text)
    # A named instance takes any free control port (the default one belongs to "default").
    expected = StationConfig()
    assert paths.instance != "default"
    expected.control.listen = "127.0.0.1:0"
    assert load_config(write(tmp_path, text), env={}) == expected
    # Uncommenting every "# key = value" line of the tables must still give the defaults: the
    # comments cannot drift from the schema.
    tables = text.split("# One [[converters]]")[0]
    uncommented = re.sub(r"^# (\w+ = )", r"\1", tables, flags=re.MULTILINE)
    assert uncommented != tables
    assert load_config(write(tmp_path, uncommented), env={}) == expected
    default = default_config_text(instance_paths("default", env={"PYWATS_STATION_HOME": "/x"}))
    assert load_config(write(tmp_path, default), env={}) == StationConfig()
    assert str(paths.queue_dir) in text
    assert str(paths.secrets_dir) in text


def test_default_text_mentions_every_key_of_the_schema(paths: InstancePaths) -> None:
    text = default_config_text(paths)
    blocks = dict(re.findall(r"^(?:# )?\[+(\w+)\]+\n((?:.+\n)*)", text, re.MULTILINE))
    for section in msgspec.structs.fields(StationConfig):
        if section.name == "schema_version":
            assert re.search(r"^schema_version = 1$", text, re.MULTILINE)
            continue
        struct = section.type if section.name != "converters" else ConverterConfig
        keys = re.findall(r"^(?:# )?(\w+) = ", blocks[section.name], re.MULTILINE)
        assert keys == [info.encode_name for info in msgspec.structs.fields(struct)]


def test_converter_defaults() -> None:
    conv = ConverterConfig(name="a", kind="wsjf", watch="/in")
    assert conv.done_dir == Path("/in/Done")
    assert conv.error_dir == Path("/in/Error")
    assert ConverterConfig(name="a", kind="k", watch="/in", done="/d").done_dir == Path("/d")
    assert conv.patterns == []  # the converter's own patterns
    assert conv.patterns is not ConverterConfig().patterns


# --- validation -------------------------------------------------------------------------------

INVALID = [
    ('[server]\nurl = "ftp://wats.example"', "server.url", "http:// or https://"),
    ('[server]\nurl = "https://"', "server.url", "URL"),
    ('[server]\nurl = "https://host:99999"', "server.url", "URL"),
    ("[server]\ntimeout = -1.0", "server.timeout", "greater than 0"),
    ("[server]\ntimeout = nan", "server.timeout", "greater than 0"),
    ('[server]\ntimeout = "30"', "server.timeout", "expected float, got str"),
    ('[server]\ntoken = "t"\ntoken_file = "/f"', "server.token", "not both"),
    ("[server]\nverify_tls = 1", "server.verify_tls", "expected bool, got int"),
    ("[queue]\nmax_bytes = 0", "queue.max_bytes", "greater than 0"),
    ("[queue]\nmax_bytes = -5", "queue.max_bytes", "size"),
    ('[queue]\nmax_bytes = "12 XB"', "queue.max_bytes", "size"),
    ("[queue]\nmax_bytes = true", "queue.max_bytes", "size"),
    ("[queue]\nupload_workers = 0", "queue.upload_workers", "1-64; got 0"),
    ("[queue]\nupload_workers = 65", "queue.upload_workers", "1-64; got 65"),
    ("[queue]\nupload_workers = 4.5", "queue.upload_workers", "expected int, got float"),
    ("[sync]\ninterval = -1.0", "sync.interval", "greater than 0"),
    ("[connection]\ncheck_interval = 0", "connection.check_interval", "greater than 0"),
    ('[control]\nlisten = "localhost"', "control.listen", "host:port"),
    ('[control]\nlisten = "127.0.0.1:65536"', "control.listen", "0-65535"),
    ('[control]\nlisten = "127.0.0.1:70000"', "control.listen", "0-65535"),
    ('[control]\nlisten = "0.0.0.0:8765"', "control.listen", "allow_remote"),
    ('[control]\nlisten = "station.local:8765"', "control.listen", "not a loopback"),
    ('[control]\ntls_cert = "/c.pem"', "control.tls_key", "go together"),
    ('[log]\nlevel = "verbose"', "log.level", "must be one of debug, info, warning, error"),
    ("server = 3", "server", "must be a table; got int"),
    ("converters = 3", "converters", "array of tables"),
    ("schema_version = 99", "schema_version", "newer pywats-station"),
    ("schema_version = 0", "schema_version", "positive integer"),
    (
        CONVERTER + 'post_action = "archive"',
        "converters[0].post_action",
        "must be one of move, delete, zip, keep; got 'archive'",
    ),
    (CONVERTER + 'type = "stream"', "converters[0].type", "file, folder, scheduled"),
    (CONVERTER + "reject_threshold = 0.6", "converters[0].reject_threshold", "alarm_threshold"),
    (CONVERTER + "alarm_threshold = 1.5", "converters[0].alarm_threshold", "between 0 and 1"),
    (CONVERTER + "reject_threshold = -0.1", "converters[0].reject_threshold", "between 0 and 1"),
    (CONVERTER + "settle = -1.0", "converters[0].settle", "0 or more"),
    (CONVERTER + "min_files = -1", "converters[0].min_files", "0 or more"),
    (CONVERTER + 'patterns = ["*.json", ""]', "converters[0].patterns", "empty patterns"),
    (CONVERTER + "timeout = 0.0", "converters[0].timeout", "more than 0"),
    (CONVERTER + "memory_mb = 10", "converters[0].memory_mb", "at least 64"),
    (CONVERTER + "max_file_size = 0", "converters[0].max_file_size", "greater than 0"),
    (CONVERTER + 'max_file_size = "lots"', "converters[0].max_file_size", "size"),
    (CONVERTER + 'follow_symlinks = "yes"', "converters[0].follow_symlinks", "expected bool"),
    (CONVERTER + 'patterns = ["*.json", 1]', "converters[0].patterns[1]", "expected str"),
    (CONVERTER + 'schedule = "sometimes"', "converters[0].schedule", "cron"),
    (CONVERTER + "arguments = 3", "converters[0].arguments", "expected object, got int"),
    ('[[converters]]\nname = "c"\nkind = "wsjf"', "converters[0].watch", "file converter"),
    (
        '[[converters]]\nname = "c"\nkind = "k"\ntype = "folder"',
        "converters[0].watch",
        "folder converter",
    ),
    (
        '[[converters]]\nname = "c"\nkind = "k"\ntype = "scheduled"',
        "converters[0].schedule",
        "scheduled converter",
    ),
    ('[[converters]]\nkind = "k"\nwatch = "/in"', "converters[0].name", "required"),
    ('[[converters]]\nname = "c"\nwatch = "/in"', "converters[0].kind", "required"),
    (CONVERTER + CONVERTER, "converters[1].name", "duplicate name 'c' (also converters[0])"),
]


@pytest.mark.parametrize(("text", "key", "fragment"), INVALID)
def test_each_invalid_value_is_named(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    problems = problems_of(tmp_path, text)
    assert key in problems, problems
    assert fragment in problems[key]


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = """
[server]
url = "gopher://x"
timeout = "soon"
[queue]
upload_workers = 0
[control]
listen = "nowhere"
[log]
level = "loud"
[[converters]]
name = "a"
kind = "wsjf"
watch = "/in"
post_action = "archive"
[[converters]]
name = "b"
kind = "csv"
type = "scheduled"
"""
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    keys = [problem.key for problem in info.value.problems]
    assert sorted(keys) == sorted(
        [
            "server.url",
            "server.timeout",
            "queue.upload_workers",
            "control.listen",
            "log.level",
            "converters[0].post_action",
            "converters[1].schedule",
        ]
    )
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'config.toml'}: 7 problems:")
    assert "converters[0].post_action: must be one of move, delete, zip, keep; got 'archive'" in (
        message
    )


@pytest.mark.parametrize(
    "text",
    [
        '[control]\nlisten = "0.0.0.0:8765"\nallow_remote = true',
        '[control]\nlisten = "0.0.0.0:8765"\ntls_cert = "/c.pem"\ntls_key = "/k.pem"',
        '[control]\nlisten = "[::1]:8765"',
        '[control]\nlisten = "localhost:1"',
        '[control]\nlisten = "127.0.0.1:0"',  # any free port
        '[server]\nurl = "http://localhost:8080/wats"\ntoken_file = "/run/credentials/t"',
        CONVERTER + 'type = "folder"\nready_marker = "DONE"\nmin_files = 3',
        '[[converters]]\nname = "s"\nkind = "k"\ntype = "scheduled"\nschedule = "*/5 * * * 1-5"',
        '[[converters]]\nname = "s"\nkind = "k"\ntype = "scheduled"\nschedule = "every 5m"',
        CONVERTER + 'arguments = { delimiter = ";", columns = [1, 2], nested = { a = true } }',
    ],
)
def test_valid_variants(tmp_path: Path, text: str) -> None:
    load_config(write(tmp_path, text), env={})


def test_enumerations_are_case_insensitive(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[log]\nlevel = "INFO"\n' + CONVERTER + 'type = "File"'))
    assert config.log.level == "info"
    assert config.converters[0].type == "file"


def test_validate_checks_programmatic_configs() -> None:
    config = StationConfig(server=ServerConfig(url="nope"))
    assert [problem.key for problem in validate(config)] == ["server.url"]


# --- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "size"),
    [
        (1024, 1024),
        ('"1 GiB"', 1 << 30),
        ('"500 MB"', 500_000_000),
        ('"500mb"', 500_000_000),
        ('"1.5 GiB"', 3 << 29),
        ('"64 KiB"', 65536),
        ('"2G"', 2_000_000_000),
        ('"123"', 123),
        ('"10 B"', 10),
    ],
)
def test_sizes(tmp_path: Path, written: object, size: int) -> None:
    config = load_config(write(tmp_path, f"[queue]\nmax_bytes = {written}"), env={})
    assert config.queue.max_bytes == size


def test_sizes_are_saved_the_way_people_write_them(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(load_config(write(tmp_path, '[queue]\nmax_bytes = "500 MB"'), env={}), path, env={})
    assert 'max_bytes = "500 MB"' in path.read_text()


def test_converter_input_limits(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, CONVERTER), env={}).converters[0]
    assert (default.max_file_size, default.follow_symlinks) == (100_000_000, False)
    text = CONVERTER + 'max_file_size = "2 GiB"\nfollow_symlinks = true\n'
    path = tmp_path / "saved.toml"
    save_config(load_config(write(tmp_path, text), env={}), path, env={})
    conv = load_config(path, env={}).converters[0]
    assert (conv.max_file_size, conv.follow_symlinks) == (2 << 30, True)
    assert 'max_file_size = "2 GiB"' in path.read_text()


# --- environment ------------------------------------------------------------------------------


def test_env_overrides_url_but_never_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nurl = "https://file.example"\n')
    env = {"PYWATS_SERVER_URL": "https://env.example", "PYWATS_API_TOKEN": "env-token"}
    loaded = read_config(path, env=env)
    assert loaded.config.server.url == "https://env.example"
    assert loaded.overrides == {"server.url": "PYWATS_SERVER_URL"}
    # The token from the environment never enters the config object (so it is never saved).
    assert "env-token" not in json.dumps(msgspec.to_builtins(loaded.config))
    loaded.config.station.location = "Line 9"
    save_config(loaded.config, path, env=env)
    text = path.read_text()
    assert "https://file.example" in text
    assert "env.example" not in text
    assert "Line 9" in text
    assert "env-token" not in text


def test_env_url_is_validated_and_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.url: .*\(set by PYWATS_SERVER_URL\)"):
        load_config(write(tmp_path, ""), env={"PYWATS_SERVER_URL": "wats.example"})


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYWATS_SERVER_URL", "https://from-os.example")
    assert load_config(write(tmp_path, "")).server.url == "https://from-os.example"


# --- unknown keys -----------------------------------------------------------------------------


def test_unknown_keys_are_tolerated_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (
        'future = 1\n[server]\nmirror = "p"\n[telemetry]\non = true\n' + CONVERTER + "priority = 5"
    )
    loaded = read_config(write(tmp_path, text), env={})
    assert [(w.key, w.severity) for w in loaded.warnings] == [
        ("future", "warning"),
        ("server.mirror", "warning"),
        ("telemetry", "warning"),
        ("converters[0].priority", "warning"),
    ]
    assert all("unknown key" in w.message for w in loaded.warnings)
    with caplog.at_level(logging.WARNING, logger="pywats_station.config"):
        load_config(tmp_path / "config.toml", env={})
    assert "server.mirror: unknown key" in caplog.text


def test_a_misspelt_key_names_the_key_that_was_probably_meant(tmp_path: Path) -> None:
    text = "[queue]\nupload_workerz = 8\nmax_byte = 5\n[station]\ncolour = 1\n"
    loaded = read_config(write(tmp_path, text), env={})
    assert [str(w) for w in loaded.warnings] == [
        "queue.upload_workerz: unknown key (ignored); did you mean 'upload_workers'?",
        "queue.max_byte: unknown key (ignored); did you mean 'max_bytes'?",
        "station.colour: unknown key (ignored)",  # nothing close: no guess
    ]


def test_config_check_lists_the_warnings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYWATS_STATION_HOME": str(home)}
    env.pop("PYWATS_INSTANCE", None)
    env.pop("PYWATS_SERVER_URL", None)

    def check() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pywats_station", "config", "check"]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    missing = check()
    assert missing.returncode == 3
    assert "config init" in missing.stderr
    config = home / "config" / "default" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[station]\nname = "s1"\n', encoding="utf-8")
    assert check().stdout == f"{config}: OK\n"
    config.write_text('[station]\nnme = "s1"\n', encoding="utf-8")
    warned = check()
    assert (warned.returncode, warned.stdout) == (
        0,
        f"{config}: OK, with 1 warning:\n"
        "  station.nme: unknown key (ignored); did you mean 'name'?\n",
    )
    config.write_text("[queue]\nupload_workers = 0\n", encoding="utf-8")
    bad = check()
    assert bad.returncode == 3
    assert "queue.upload_workers: must be 1-64; got 0" in bad.stderr


def test_plain_token_in_a_readable_file_is_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\ntoken = "t"\n')
    path.chmod(0o644)
    assert [w.key for w in read_config(path, env={}).warnings] == ["server.token"]
    path.chmod(0o600)
    assert read_config(path, env={}).warnings == []


def test_a_builtin_folder_converter_needs_no_type() -> None:
    """``kind = "klippel"`` is a folder converter: the entry need not say ``type = "folder"``;
    a type that is said wins, and user converters stay ``file``."""
    import tomllib

    from pywats_station.config import config_from_dict

    text = """
    [[converters]]
    name = "speakers"
    kind = "klippel"
    watch = "/srv/klippel"
    [[converters]]
    name = "ict"
    kind = "teradyne_gr228x"
    watch = "/srv/ict"
    [[converters]]
    name = "mine"
    kind = "my_module:Converter"
    watch = "/srv/mine"
    """
    config, _, _ = config_from_dict(tomllib.loads(text))
    assert [(c.name, c.type) for c in config.converters] == [
        ("speakers", "folder"),
        ("ict", "file"),
        ("mine", "file"),
    ]
    assert type(config.converters[0].type) is str

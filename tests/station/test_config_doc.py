"""``docs/configuration.md`` matches the configuration schema (``pywats_station._config_doc``)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from pywats_station import _config_doc
from pywats_station._config_schema import ConverterConfig, StationConfig, document
from pywats_station.config import read_config


def _dotted(doc: dict[str, Any], prefix: str = "") -> set[str]:
    """The keys of a TOML-ready document, dotted, tables opened."""
    found: set[str] = set()
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and key != "arguments":
            found |= _dotted(value, f"{name}.")
        else:
            found.add(name)
    return found


def test_the_page_is_what_the_schema_gives() -> None:
    assert _config_doc.PAGE.read_text(encoding="utf-8") == _config_doc.render(), (
        "docs/configuration.md is stale: run python -m pywats_station._config_doc --write"
    )


def test_every_key_of_the_file_is_on_the_page() -> None:
    """The keys ``config init`` writes (another reading of the schema) are the page's keys."""
    doc = document(StationConfig(converters=[ConverterConfig(name="c", kind="wsjf")]))
    converter = doc.pop("converters")[0]
    expected = _dotted(doc) | {f"converters.{k}" for k in _dotted(converter)}
    documented = {key.dotted for key in _config_doc.documented_keys()}
    assert documented == expected
    page = _config_doc.PAGE.read_text(encoding="utf-8")
    for key in _config_doc.documented_keys():
        assert f"| `{key.name}` | {key.type} | {key.default} |" in page, key.dotted


def test_a_key_without_a_meaning_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    meanings = dict(_config_doc.MEANINGS)
    del meanings["queue.path"]
    monkeypatch.setattr(_config_doc, "MEANINGS", meanings)
    with pytest.raises(KeyError, match=r"no meaning for queue\.path"):
        _config_doc.render()


def test_every_meaning_names_a_key_of_the_schema() -> None:
    """A meaning left behind by a removed or renamed key would mislead nobody but is dead."""
    documented = {key.dotted for key in _config_doc.documented_keys()}
    assert set(_config_doc.MEANINGS) - documented == set()


def test_the_documented_defaults_load_as_the_defaults(tmp_path: Any) -> None:
    """Each default as the page writes it, put in a file, loads to the schema's default."""
    lines, section = [], None
    for key in _config_doc.documented_keys():
        if key.default == "empty" or key.section.startswith("converters"):
            continue
        if key.section != section:
            section = key.section
            lines.append(f"[{section}]" if section else "")
        lines.append(f"{key.name} = {key.default.strip('`')}")
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = read_config(path, env={})
    assert not loaded.warnings, [str(w) for w in loaded.warnings]
    assert msgspec.to_builtins(loaded.config) == msgspec.to_builtins(StationConfig())


def test_check_says_when_the_page_is_stale(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "configuration.md"
    monkeypatch.setattr(_config_doc, "PAGE", page)
    assert _config_doc.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert _config_doc.main(["--write"]) == 0
    assert _config_doc.main(["--check"]) == 0
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert _config_doc.main(["--check"]) == 1

"""``docs/converters.md`` on built-ins, choosing by content and hub mode: what the code does.

The blocks run in ``tests/test_docs_examples.py``; here: the table lists every built-in with a
page that exists, and the messages the sections quote are the ones the code produces.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pywats_station._cli_status import _print_running
from pywats_station.cli import main
from pywats_station.config import ConfigError, config_from_dict
from pywats_station.converters import Failed
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.tryit import render, try_convert
from tests.doc_examples import ROOT

DOC = ROOT / "docs" / "converters.md"


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def quoted(text: str) -> list[str]:
    """The inline code spans of ``text`` (fenced blocks left out), a span's line breaks joined."""
    prose = re.sub(r"^ *```.*?^ *```", "", text, flags=re.DOTALL | re.MULTILINE)
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


def test_the_table_lists_every_built_in_with_its_page() -> None:
    table = section("Built-in converters")
    listed = set(re.findall(r"^\| \[`(\w+)`\]\(([^)]+)\)", table, re.MULTILINE))
    listed |= {(kind, "") for kind in re.findall(r"\[`(\w+)`\]\(#", table)}
    kinds = {kind for kind, _ in listed}
    assert set(BUILTINS) <= kinds, f"not in the table: {sorted(set(BUILTINS) - kinds)}"
    for kind, link in listed:
        if link.startswith("converters/"):
            assert (DOC.parent / link).is_file(), f"{kind}: {link} does not exist"
            assert link == f"converters/{kind}.md"


def test_the_unrecognised_message_is_the_codes(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Shift notes\nfixture 7 cleaned\n", encoding="utf-8")
    result = try_convert(path)
    assert isinstance(result.result, Failed)
    text = section("Choosing the converter by content")
    assert result.result.reason in " ".join(quoted(text))
    shown = render(result).splitlines()
    assert f"outcome: failed: {result.result.reason}" in shown
    assert f"outcome: failed: {result.result.reason}" in text


def test_a_typo_in_a_kinds_table_reads_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("Choosing the converter by content")
    (claim,) = [q for q in quoted(text) if q.startswith("converters.line-3.arguments.")]
    config = tmp_path / "config.toml"
    config.write_text(
        '[[converters]]\nname = "line-3"\nkind = "auto"\nwatch = "in"\n'
        "[converters.arguments]\ntakaya_atd = {proces = 50}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    assert main(["config", "check", "--config", str(config)]) == 3
    assert capsys.readouterr().err.rstrip().endswith(claim)


def test_the_hub_modes_check_and_status_line_read_as_documented(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = section("Hub mode: one station, several testers")
    (claim,) = [q for q in quoted(text) if q.startswith("converters[0].station.name: ")]
    raw = tomllib.loads(
        f'[[converters]]\nname = "ict-1"\nkind = "wsjf"\nwatch = "/in"\n'
        f'[converters.station]\nname = "{"X" * 51}"\n'
    )
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw)
    assert [f"{p.key}: {p.message}" for p in caught.value.problems] == [claim]

    own = {"name": "ICT-1", "location": "Plant A / SMT line 2", "purpose": "Production"}
    conv = {"name": "ict-1", "state": "watching", "converted": 12, "failed": 0, "station": own}
    data = {"uptime": 5, "instance": "default", "pid": 1, "station": "line-2-pi",
            "connection": "online", "server_url": "https://wats", "processes_cached": 7,
            "queue": {"depth": 0, "dead": 0, "failed": 0}, "counters": {"uploaded": 0},
            "converters": [conv]}  # fmt: skip
    _print_running(data)
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("converter ")]
    assert line in text

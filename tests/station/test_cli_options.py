"""The global options of ``pywats-station``: before the command and after it, everywhere."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.cli import _parser, main

GLOBAL = ("--config", "--instance", "-v", "--verbose")


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command parser with its path (``("queue", "list")``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from commands(sub, (*path, name))


def test_every_command_takes_the_global_options() -> None:
    found = list(commands(_parser()))
    assert len(found) > 20  # the walk found the nested ones too (queue list, config check …)
    missing = {
        " ".join(path): [o for o in GLOBAL if o not in sub._option_string_actions]
        for path, sub in found
    }
    assert {path: options for path, options in missing.items() if options} == {}


@pytest.mark.parametrize(
    "argv",
    [
        ["--instance", "line-b", "queue", "list"],
        ["queue", "--instance", "line-b", "list"],
        ["queue", "list", "--instance", "line-b"],
    ],
)
def test_an_option_means_the_same_wherever_it_stands(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    assert (args.instance, args.queue_command, args.config, args.verbose) == (
        "line-b",
        "list",
        None,
        0,
    )


def test_an_option_before_the_command_is_not_reset_by_it() -> None:
    args = _parser().parse_args(["--config", "x.toml", "-v", "status", "--json"])
    assert (args.config, args.verbose, args.instance, args.json) == (Path("x.toml"), 1, None, True)
    args = _parser().parse_args(["status", "-vv"])
    assert args.verbose == 2


def test_systemd_unit_for_an_instance_as_operations_md_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path))
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)
    assert main(["systemd-unit", "--instance", "line-b"]) == 0
    after = capsys.readouterr().out
    assert main(["--instance", "line-b", "systemd-unit"]) == 0
    assert capsys.readouterr().out == after
    assert "Description=pyWATS station (line-b)" in after

"""``pywats-station config check``: what the daemon would refuse, named by its key.

The schema's own checks are tested in ``test_config.py``; here: converters that pass the schema
but that the daemon would show ``broken`` (an unknown kind, a wrong argument, a type that does
not match), loaded the daemon's way — user code only in a child process.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from pywats_station.cli import main

USER_CONVERTER = """
import os
from pathlib import Path

from pywats_station.converters import FileConverter, Failed

# Which process imported this file: the check must only ever do it in a child.
with open(Path(__file__).with_name("imported-by"), "a") as marks:
    marks.write(f"{os.getpid()}\\n")


class Probe(FileConverter):
    patterns = ("*.probe",)

    def convert(self, path, ctx):
        return Failed("never meant to convert")
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYWATS_INSTANCE", raising=False)
    monkeypatch.delenv("PYWATS_SERVER_URL", raising=False)
    path = tmp_path / "home" / "config" / "default" / "config.toml"
    path.parent.mkdir(parents=True)
    (tmp_path / "in").mkdir()
    return path


def converter(name: str, kind: str, folder: Path, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [[converters]]
        name = "{name}"
        kind = "{kind}"
        watch = "{folder}"
        """
    ) + textwrap.dedent(extra)


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["config", "check"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_misspelt_kind_is_an_error_naming_the_key_and_the_likely_kind(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text(converter("ict", "cvs", config_file.parent / "in"), encoding="utf-8")
    code, out, err = check(capsys)
    assert code == 3
    assert out == ""
    assert "converters.ict.kind: unknown converter kind 'cvs'" in err
    assert err.rstrip().endswith("did you mean 'csv'?")


def test_a_misspelt_argument_is_an_error_naming_the_argument(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = converter(
        "ict", "csv", config_file.parent / "in", '[converters.arguments]\npart_numbr = "PN-1"\n'
    )
    config_file.write_text(text, encoding="utf-8")
    code, _, err = check(capsys)
    assert code == 3
    assert "converters.ict.arguments.part_numbr: unknown argument (known: " in err


def test_every_broken_converter_is_named_at_once_and_good_ones_are_not(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = config_file.parent
    text = (
        converter("good", "wsjf", folder / "a")
        + converter("bad-kind", "wsjff", folder / "b")
        + converter("bad-type", "wsjf", folder / "c", 'type = "scheduled"\nschedule = "every 5m"\n')
    )
    config_file.write_text(text, encoding="utf-8")
    code, _, err = check(capsys)
    assert code == 3
    assert "3 problems" not in err
    assert "2 problems" in err
    assert "converters.bad-kind.kind: " in err
    assert "did you mean 'wsjf'?" in err
    assert "converters.bad-type.type: " in err
    assert "converters.good" not in err


def test_a_user_converter_is_checked_in_a_child_never_imported_here(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_file.parent / "probe.py").write_text(USER_CONVERTER, encoding="utf-8")
    text = converter(
        "probe", "probe.py", config_file.parent / "in", "[converters.arguments]\nx = 1\n"
    )
    config_file.write_text(text, encoding="utf-8")
    code, _, err = check(capsys)
    assert code == 3
    assert "converters.probe.arguments.x: unknown argument" in err
    importers = (config_file.parent / "imported-by").read_text().split()
    assert importers, "the converter was not loaded at all"
    assert str(os.getpid()) not in importers

    # Without the bad argument the same converter is fine.
    config_file.write_text(converter("probe", "probe.py", config_file.parent / "in"), "utf-8")
    code, out, _ = check(capsys)
    assert (code, out) == (0, f"{config_file}: OK\n")


def test_a_user_converter_that_cannot_be_imported_names_the_kind(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_file.parent / "broken.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    config_file.write_text(converter("b", "broken.py", config_file.parent / "in"), "utf-8")
    code, _, err = check(capsys)
    assert code == 3
    assert "converters.b.kind: " in err
    assert "did you mean" not in err  # a file, not a misspelt built-in


def test_a_disabled_broken_converter_is_a_warning(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = converter("later", "cvs", config_file.parent / "in", "enabled = false\n")
    config_file.write_text(text, encoding="utf-8")
    code, out, err = check(capsys)
    assert code == 0
    assert out.startswith(f"{config_file}: OK, with 1 warning:\n  converters.later.kind: ")
    assert "it would be broken once enabled" in out
    assert err == ""


def test_a_message_that_starts_with_a_key_of_the_entry_is_that_keys() -> None:
    from pywats_station._cli_config import _named
    from pywats_station.config import ConverterConfig

    cfg = ConverterConfig(name="line 2", kind="csv", watch="/in")
    # As the loader words a folder another converter of the station watches already.
    why = "watch folder /in is already watched by converter 'a' of this station"
    assert _named(cfg, "file", why) == ('converters."line 2".watch', why)
    assert _named(cfg, "file", "arguments.delimiter: expected str") == (
        'converters."line 2".arguments.delimiter',
        "expected str",
    )
    assert _named(cfg, "folder", "csv is a file converter") == (
        'converters."line 2".type',
        "csv is a file converter",
    )
    assert _named(cfg, "file", "creating X raised ValueError") == (
        'converters."line 2".kind',
        "creating X raised ValueError",
    )

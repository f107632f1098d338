"""Choosing a built-in by content: each real input is claimed by its own converter, and only by it.

``pywats-station convert FILE`` without a kind, and the ``auto`` converter, give a file to the
built-in most sure of it, and only if that one reaches the alarm threshold (0.5). That works
only if every built-in's ``validate()`` is honest about every format: sure of its own files,
below 0.5 for everything else. The matrix below checks it for every built-in in ``BUILTINS``
(found at collection time) and every real fixture; choosing for a fixture whose own converter
is not a built-in yet is skipped, naming the converter.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pywats.testing._seed import default_processes
from pywats_station.cli import main
from pywats_station.converters import Converted, Failed, FileConverter, FolderConverter
from pywats_station.converters.api import ConverterContext, StationInfo, parse_arguments
from pywats_station.converters.builtin._auto_select import ALARM, candidate_kinds
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.tryit import render, try_convert
from tests.fixtures import REAL
from tests.station.converters.real_inputs import Fixture, own_kind, real_inputs

STATION = StationInfo(name="SEL-1", location="Lab", purpose="Development")


def rating(kind: str, path: Path) -> tuple[float, str | None]:
    """``kind``'s confidence in ``path`` and its message, as the station asks for it."""
    cls = BUILTINS[kind]
    ctx = ConverterContext(
        station=STATION,
        processes=default_processes(),
        arguments=parse_arguments(cls, {}),
        log=logging.getLogger("tests.selection"),
    )
    converter = cls()
    assert isinstance(converter, FileConverter | FolderConverter)
    validation = converter.validate(path, ctx)
    return validation.confidence, validation.message


def skip_if_missing(fixture: Fixture) -> str | None:
    """The fixture's own kind; skips the test while that converter is not a built-in yet."""
    own = own_kind(fixture)
    if own is not None and own not in BUILTINS:
        pytest.skip(f"converter {own} is not among the built-ins yet (for {fixture.id})")
    return own


def matrix() -> list[Any]:
    """(kind, fixture) for every file or folder built-in but auto, and every fitting input."""
    inputs = real_inputs()
    if not inputs:
        return [pytest.param(None, None, id="no-fixtures")]
    params = []
    for folder in (False, True):
        for kind in candidate_kinds(folder=folder):
            params += [
                pytest.param(kind, f, id=f"{kind}-{f.id}") for f in inputs if f.folder == folder
            ]
    return params


@pytest.mark.parametrize(("kind", "fixture"), matrix())
def test_a_real_input_is_claimed_only_by_its_own_converter(
    kind: str | None, fixture: Fixture | None
) -> None:
    if kind is None or fixture is None:
        pytest.skip(f"real fixtures not found at {REAL} (set PYWATS_REAL_FIXTURES)")
    own = own_kind(fixture)  # not a built-in yet: the others must still leave its files alone
    confidence, message = rating(kind, fixture.path)
    if kind == own:
        assert confidence >= ALARM, (
            f"{kind} does not recognise its own {fixture.id}: {confidence:.2f} ({message})"
        )
    else:
        whose = f"{own}'s" if own else "no converter's"
        assert confidence < ALARM, (
            f"{kind} claims {fixture.id} ({whose}) at {confidence:.2f} ({message}); at most "
            f"{ALARM} is allowed for a file of another format"
        )


def inputs() -> list[Any]:
    found = real_inputs()
    if not found:
        return [pytest.param(None, id="no-fixtures")]
    return [pytest.param(f, id=f.id) for f in found]


@pytest.mark.parametrize("fixture", inputs())
def test_convert_without_a_kind_picks_the_own_converter(fixture: Fixture | None) -> None:
    """What ``pywats-station convert FILE`` does: the own converter converts; nothing else does."""
    if fixture is None:
        pytest.skip(f"real fixtures not found at {REAL} (set PYWATS_REAL_FIXTURES)")
    own = skip_if_missing(fixture)
    # A station that has never been online: no process list, so every converter's default
    # process code is taken as it is (the server checks it when the report arrives).
    result = try_convert(fixture.path, station=STATION, processes=[])
    ratings = {r.kind: r.confidence for r in result.ratings}
    if own is None:
        assert isinstance(result.result, Failed), render(result)
        what = "folder" if fixture.folder else "file"
        assert result.result.reason.startswith(f"no converter recognises this {what}")
        assert result.kind == ""
        return
    assert result.kind == own, render(result)
    assert max(ratings, key=lambda k: ratings[k]) == own  # the most confident, ahead of ties
    assert render(result).splitlines()[1].startswith(f"chosen by content: {own} ")
    if isinstance(result.result, Failed):
        # Only for want of configuration: the file lacks what the converter's arguments give
        # (a TestStand report without its part number), and the reason says which argument.
        assert "arguments." in result.result.reason, render(result)
    else:
        assert isinstance(result.result, Converted), render(result)


def test_a_file_nobody_recognises_names_the_best_guess(tmp_path: Path) -> None:
    """It was converted by the best of the weak: csv at 0.20 failed inside, naming line 2."""
    path = tmp_path / "notes.txt"
    path.write_text("Shift notes\nfixture 7 cleaned\n", encoding="utf-8")
    result = try_convert(path, station=STATION)
    assert isinstance(result.result, Failed)
    best = result.ratings[0]
    assert best.confidence < ALARM
    message = f" ({best.validation.message})" if best.validation.message else ""
    assert result.result.reason == (
        f"no converter recognises this file; best guess: {best.kind} at "
        f"{best.confidence:.2f}{message}"
    )
    assert {r.kind for r in result.ratings} == set(candidate_kinds())
    text = render(result)
    assert text.splitlines()[0] == "converter: none (no built-in recognises the input)"
    assert text.splitlines()[1].startswith(f"ratings: {best.kind} {best.confidence:.2f}")


def test_the_command_exits_non_zero_for_a_file_nobody_recognises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    path = tmp_path / "notes.txt"
    path.write_text("Shift notes\nfixture 7 cleaned\n", encoding="utf-8")
    assert main(["convert", str(path)]) == 1
    out = capsys.readouterr().out
    assert "outcome: failed: no converter recognises this file; best guess: " in out


def test_the_command_converts_with_the_most_confident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    source = Path(__file__).parent / "data" / "wstf_single.txt"
    path = shutil.copy(source, tmp_path / "unit [1].txt")
    assert main(["convert", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "converter: wstf (kind wstf)"
    assert out.splitlines()[1].startswith("chosen by content: wstf 1.00, ")
    assert "outcome: converted, 1 report(s)" in out


def _bytes_read() -> int:
    with open("/proc/self/io", encoding="ascii") as handle:
        fields = dict(line.split(": ") for line in handle.read().splitlines())
    return int(fields["rchar"])


def sample_for(kind: str) -> Path | None:
    """A real file of ``kind``'s own format, if there is one."""
    return next((f.path for f in real_inputs() if own_kind(f) == kind and not f.folder), None)


@pytest.mark.parametrize("kind", candidate_kinds())
def test_validate_reads_a_bounded_head_of_a_big_file(kind: str, tmp_path: Path) -> None:
    """Choosing asks every built-in about every file: each may read only the first few MB.

    The file is the kind's own format (a real sample repeated to 24 MB, or repeated lines
    when there is no sample), so that a validator that reads on while the content looks right
    is caught. Bytes read are counted by the kernel (``rchar``), after a first call on a
    small file has loaded whatever the validator imports.
    """
    if not os.path.exists("/proc/self/io"):
        pytest.skip("needs Linux's /proc/self/io to count the bytes read")
    sample = sample_for(kind)
    data = sample.read_bytes() if sample else b"SerialNumber;Step;Value\nSN-1;V;1.0\n"
    small = tmp_path / ("small" + (sample.suffix if sample else ".txt"))
    small.write_bytes(data)
    rating(kind, small)  # imports, caches
    big = tmp_path / ("big" + small.suffix)
    with open(big, "wb") as handle:
        for _ in range(24 * 2**20 // len(data) + 1):
            handle.write(data)
    before = _bytes_read()
    rating(kind, big)
    read = _bytes_read() - before
    assert read <= 4 * 2**20, f"{kind}.validate() read {read:,} bytes of a 24 MB file"

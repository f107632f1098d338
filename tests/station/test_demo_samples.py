"""The demo's equipment files: shipped in the package, with their provenance, and each converts.

``pywats-station demo`` must work from an installed package, without ``../shared``: its real
equipment files live in ``pywats_station/demo_samples/``. The demo itself runs in
``tests/station/e2e/test_converters_daemon.py`` (and the README's command in
``tests/test_docs_examples.py``); here each sample on its own, and the whole demo once showing
what they became.
"""

from __future__ import annotations

import importlib.resources
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pywats.testing._seed import default_processes
from pywats_station.converters import Converted
from pywats_station.converters.tryit import try_convert
from pywats_station.demo import EQUIPMENT

SAMPLES = importlib.resources.files("pywats_station").joinpath("demo_samples")


def test_every_sample_is_shipped_and_its_provenance_named() -> None:
    notice = SAMPLES.joinpath("NOTICE").read_text(encoding="utf-8")
    shipped = {entry.name for entry in SAMPLES.iterdir()} - {"NOTICE"}
    assert shipped == {sample for sample, _ in EQUIPMENT}
    for sample in shipped:
        entry = notice.split(sample, 1)[1].split("\n\n", 1)[0]
        assert re.search(r"From \S+/\S+ at commit [0-9a-f]{8}", entry), sample
        assert "licence" in entry or "LGPL" in entry, sample


@pytest.mark.parametrize(("sample", "name"), EQUIPMENT)
def test_each_sample_is_read_by_the_built_in_made_for_it(
    sample: str, name: str, tmp_path: Path
) -> None:
    path = tmp_path / name  # the name its tester writes it under
    path.write_bytes(SAMPLES.joinpath(sample).read_bytes())
    # What the demo's daemon knows: the emulator's processes (with the equipment's defaults).
    result = try_convert(path, kind="auto", processes=default_processes())
    assert isinstance(result.result, Converted), result.result
    assert result.validation is not None
    assert result.validation.confidence >= 0.5


@pytest.mark.e2e
def test_the_demo_shows_what_the_equipment_files_became(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pywats_station", "demo", "--duration", "12", "--dir",
         str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    summary = next(line for line in lines if line.startswith("equipment reports by "))
    assert summary == (
        "equipment reports by the converter that read them: atml 1, takaya_atd 1, "
        "teradyne_gr228x 3, teststand 1, xjtag 1"
    )
    done_folder = tmp_path / "in" / "equipment" / "Done"
    assert sorted(p.name for p in done_folder.iterdir()) == sorted(name for _, name in EQUIPMENT)
    assert not (tmp_path / "in" / "equipment" / "Error").exists() or not any(
        (tmp_path / "in" / "equipment" / "Error").iterdir()
    )

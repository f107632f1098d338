"""Every built-in converter's parser on broken inputs, in CI too.

:mod:`tests.station.converters.test_fuzz_real` breaks the real equipment files in the ways a
real file breaks (cut short, re-encoded, a line written twice), one mutation at a time, and
needs ``../shared/fixtures/real/`` (absent in CI). This suite adds what that one leaves out:

* seeds that ship with the repository (``pywats_station/demo_samples/``, the converter tests'
  own data, WSJF and WSXF written by the library), so CI fuzzes every built-in;
* stacked byte-level edits (:mod:`tests.fuzz._mutate`): tokens of the formats inserted,
  pieces repeated, swapped and deleted, several at once;
* every built-in on every seed, its own format or not (a watch folder holds what it holds).

Each case runs through the daemon's path (``validate()``, then ``run_conversion``) in the
worker process of ``test_fuzz_real`` (hangs are caught there), and is judged by its
:func:`~tests.station.converters.test_fuzz_real.check`: no exception, no hang, and a reason
that says where, or that is about the whole input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywats import CompOp, ReportBuilder
from pywats.formats import wsjf, wsxf
from pywats_station.converters.api import FolderConverter, ScheduledConverter
from pywats_station.converters.registry import BUILTINS
from tests.fixtures import REAL
from tests.fuzz._mutate import EDITS, Edit, apply
from tests.fuzz._profile import fuzz
from tests.station.converters.real_inputs import Fixture
from tests.station.converters.test_fuzz_real import Worker, check

_ROOT = Path(__file__).resolve().parent.parent.parent
SEED_BYTES = 64 * 1024  # a bigger seed is fuzzed from its start (a cut file is a case too)


def _generated() -> dict[str, bytes]:
    b = ReportBuilder.uut(
        pn="FZ-1",
        sn="FZ-0001",
        rev="A",
        process_code=10,
        station="FZ",
        location="Lab",
        purpose="Test",
    )
    seq = b.root.sequence("Main")
    seq.numeric("Voltage", 5.0, CompOp.GELE, low=4.9, high=5.1, unit="V")
    seq.pass_fail("Fuse", True)
    seq.string("Firmware", "1.2.3", CompOp.LOG)
    report = b.build()
    return {"generated.json": wsjf.dumps(report), "generated.xml": wsxf.dumps(report)}


def seeds() -> dict[str, bytes]:
    """Name -> the first :data:`SEED_BYTES` of every seed file, in a stable order."""
    found = dict(_generated())
    folders = [
        _ROOT / "pywats_station" / "demo_samples",
        _ROOT / "tests" / "station" / "converters" / "data",
    ]
    if REAL.is_dir():
        folders += sorted(p for p in REAL.iterdir() if p.is_dir())
    for folder in folders:
        for path in sorted(folder.glob("*")):
            if path.is_file() and path.name not in {"NOTICE", "README.md"}:
                with path.open("rb") as handle:
                    found.setdefault(path.name, handle.read(SEED_BYTES))
    return found


SEEDS = seeds()
NAMES = sorted(SEEDS)
FILE_KINDS = sorted(
    kind
    for kind, cls in BUILTINS.items()
    if not issubclass(cls, ScheduledConverter | FolderConverter)
)


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    running = Worker(time_limit=60.0)
    yield running
    running.close()


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_broken_file_fails_cleanly(kind: str, worker: Worker) -> None:
    @fuzz(ci_examples=12)
    @given(name=st.sampled_from(NAMES), edits=EDITS)
    def run(name: str, edits: list[Edit]) -> None:
        broken = apply(SEEDS[name], edits)
        answer = worker.run(kind, {name: broken}, name)
        check(kind, Fixture(REAL / "seed" / name, folder=False), f"{name} after {edits}", answer)

    run()


def test_every_file_builtin_and_seed_is_fuzzed() -> None:
    """Each built-in that reads files is here, and the shipped seeds are found."""
    readers = {k for k, c in BUILTINS.items() if not issubclass(c, ScheduledConverter)}
    folders = {k for k, c in BUILTINS.items() if issubclass(c, FolderConverter)}
    assert set(FILE_KINDS) == readers - folders
    assert {"generated.json", "generated.xml", "TSWithWats.xml", "csv_units.tsv"} <= set(NAMES)


# --- findings of the fuzz runs, kept as regression tests ------------------------------------


def _judge(worker: Worker, kind: str, name: str, data: bytes) -> str:
    """Convert ``data`` as ``name`` with ``kind``; check it as the fuzz cases are; the reason."""
    answer = worker.run(kind, {name: data}, name)
    check(kind, Fixture(REAL / "finding" / name, folder=False), "the finding", answer)
    reason: str = answer.get("failed", "")
    return reason


def test_a_wstf_header_line_without_a_key_fails_saying_where(worker: Worker) -> None:
    """A header line ``<TAB>value`` became a misc info without a name: the builder's
    ValueError came out of the converter (``converter raised ValueError``)."""
    data = SEEDS["wstf_single.txt"].replace(b"--\n", b"--\n\tstray value\n", 1)
    reason = _judge(worker, "wstf", "wstf_single.txt", data)
    assert reason.startswith("line 2:"), reason


def test_a_wsxf_file_declaring_an_unknown_encoding_fails_saying_where(worker: Worker) -> None:
    """``encoding="ttf-8"`` (a byte flipped): the reader's LookupError, then the place finder's
    second parse, came out of ``validate()``."""
    data = SEEDS["generated.xml"]
    assert b"encoding='utf-8'" in data[:60]
    broken = data.replace(b"utf-8", b"ttf-8", 1)
    for kind in ("wsxf", "auto"):
        reason = _judge(worker, kind, "generated.xml", broken)
        assert reason, f"{kind} converted a document in an unknown encoding"

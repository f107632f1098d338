"""Every built-in converter against every real fixture, broken in every way a real file breaks.

A station's watch folder gets whatever the equipment, the network share or an operator leaves
there: a copy cut short, a file rewritten by an editor in another encoding, a byte flipped on a
flaky link, a line written twice by a retrying tester, an empty file, a log whose line ending
never came. For each built-in in :data:`~pywats_station.converters.registry.BUILTINS` (read at
collection time, so every converter added to it is tested without touching this file) and each
file under ``../shared/fixtures/real/`` (each folder, for a folder converter), hypothesis breaks
the input and checks that

* neither ``validate()`` nor ``convert()`` (through
  :func:`~pywats_station.converters.sandbox.run_conversion`, the daemon's path) raises: an
  exception the converter did not turn into a ``ConversionError`` comes out of the sandbox as
  ``converter raised …``, which is a bug of the converter, not a broken input;
* neither hangs: each case runs in a worker process with a generous time limit, and a case that
  outlives it fails as ``hung``;
* a ``Failed`` reason says *where* (a line, a column, an element, a member…), unless it is about
  the whole input (:data:`WHOLE`: empty, not this format at all).

The converter's own fixtures get :data:`OWN_EXAMPLES` mutations each, another format's
:data:`OTHER_EXAMPLES` (a converter must also fail cleanly on a file it was never meant for: a
watch folder holds what it holds). Runs are derandomized and shrinking is off, so CI sees the
same cases every time; a failure names the mutation exactly (``truncated at byte 1234``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import re
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from pywats.testing._seed import default_processes
from pywats_station.converters.api import (
    ConversionResult,
    ConverterContext,
    Failed,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
    StationInfo,
    parse_arguments,
)
from pywats_station.converters.registry import BUILTINS, load_converter
from pywats_station.converters.sandbox import run_conversion
from tests.fixtures import REAL
from tests.station.converters.real_inputs import Fixture, own_kind, real_inputs

OWN_EXAMPLES = 24
OTHER_EXAMPLES = 4
TIME_LIMIT = 90.0  # seconds for one case; real files convert in well under a second
HUGE_LINE = 1 << 20  # bytes of one line that never ends (a binary file, a tester stuck)

# A reason that says where: what an operator needs to open the file at the spot.
WHERE = re.compile(
    r"\bline \d+|\bcolumn\b|\belements?\b|<[\w:.-]+|\bmembers?\b|\$\.|\battributes?\b|\bbyte \d+"
    r"|\boffset \d+|\brows? \d+|\brecords?\b|\bentry\b|report \d+ of \d+|\bfield\b|\bsection\b"
    r"|\bfile [\w.' -]*in (the|this) (folder|archive)\b"
    r"|^[^:\s][^:]*\.\w{1,6}: "  # which file of a folder input (or of an archive): name.txt: …
)
# A reason about the whole input, where no place could help: exempt from WHERE. Something the
# file lacks altogether (a part number no line names) has no place either.
WHOLE = re.compile(
    r"\bempty\b"
    r"|\bnot an? [\w .-]*\b(file|report|log|archive|export|document|format|folder|header)\b"
    r"|\bholds no\b|\bno [\w -]*\b(in|found in) (the|this) (file|folder)\b|\bas WSJF\b"
    r"|\bnests \d+ levels\b|\bnot (a|an|the) [\w -]+ format\b"
    r"|\b(has|have|names|gives|carries|contains) no\b|\bno [\w ()-]+ (found|given)\b|\bmissing\b"
    r"|\bno converter recognises\b|\bholds only blanks\b",
    re.IGNORECASE,
)
# Reasons the sandbox gives when the converter itself broke: never acceptable.
CRASHED = re.compile(
    r"^converter (raised|ran out of memory|called sys\.exit|returned)|without any report"
)


# --- the cases ---------------------------------------------------------------------------------


def cases() -> list[Any]:
    """(kind, fixture) for every built-in and every input of its type."""
    inputs = real_inputs()
    if not inputs:
        return [pytest.param(None, None, id="no-fixtures")]
    params = []
    for kind, cls in sorted(BUILTINS.items()):
        if issubclass(cls, ScheduledConverter):
            continue  # reads no file
        folder = issubclass(cls, FolderConverter)
        for fixture in inputs:
            if fixture.folder == folder:
                params.append(pytest.param(kind, fixture, id=f"{kind}-{fixture.id}"))
    return params


# --- the mutations ------------------------------------------------------------------------------

# Positions are drawn as fractions of the input (0 to 1 in 10,000ths), so one strategy serves
# every file and an explicit example reads the same for all of them.
_FRACTION = st.integers(0, 10_000)
_MASK = st.integers(1, 255)
MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), _FRACTION),
    st.tuples(st.just("flip"), st.lists(st.tuples(_FRACTION, _MASK), min_size=1, max_size=4)),
    st.tuples(st.just("drop-lines"), st.lists(_FRACTION, min_size=1, max_size=3)),
    st.tuples(st.just("duplicate-line"), _FRACTION),
    st.tuples(st.just("encode"), st.sampled_from(["utf-16", "utf-16-le", "latin-1", "utf-8-sig"])),
    st.tuples(st.just("huge-line"), _FRACTION),
    st.tuples(st.just("empty")),
)
Mutation = tuple[Any, ...]


def _at(fraction: int, length: int) -> int:
    return length * fraction // 10_000


def mutate(data: bytes, mutation: Mutation) -> tuple[bytes, str]:
    """The broken bytes, and what was done, in words (shown when the case fails)."""
    what = mutation[0]
    if what == "truncate":
        cut = _at(mutation[1], len(data))
        return data[:cut], f"truncated at byte {cut} of {len(data)}"
    if what == "flip":
        broken = bytearray(data)
        done = []
        for fraction, mask in mutation[1]:
            if broken:
                index = min(_at(fraction, len(broken)), len(broken) - 1)
                broken[index] ^= mask
                done.append(f"byte {index} ^ {mask:#04x}")
        return bytes(broken), "flipped " + ", ".join(done or ["nothing (empty)"])
    lines = data.splitlines(keepends=True)
    if what == "drop-lines":
        drop = sorted({min(_at(f, len(lines)), max(0, len(lines) - 1)) for f in mutation[1]})
        kept = [line for i, line in enumerate(lines) if i not in drop]
        return b"".join(kept), f"dropped lines {[i + 1 for i in drop]}"
    if what == "duplicate-line":
        index = min(_at(mutation[1], len(lines)), max(0, len(lines) - 1))
        doubled = lines[: index + 1] + lines[index:]
        return b"".join(doubled), f"line {index + 1} written twice"
    if what == "encode":
        text = data.decode("utf-8", "replace")
        return text.encode(mutation[1], "replace"), f"re-encoded as {mutation[1]}"
    if what == "huge-line":
        index = _at(mutation[1], len(lines))
        huge = b"9" * HUGE_LINE  # no line break: a number, a value, a name that never ends
        where = f"a {HUGE_LINE}-byte line inserted before line {index + 1}"
        return b"".join([*lines[:index], huge, *lines[index:]]), where
    if what == "empty":
        return b"", "emptied"
    return data, "unchanged"


def is_text(data: bytes) -> bool:
    """Whether re-encoding means anything (not a ZIP or other binary file)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


# --- the worker -----------------------------------------------------------------------------------


def _convert_in_worker(kind: str, files: dict[str, bytes], target: str) -> dict[str, Any]:
    """Rate and convert one input as the daemon does; what happened, as plain data."""
    cls = load_converter(kind)  # a built-in; module:Class for the harness's own tests
    log = logging.getLogger(f"tests.fuzz.{kind}")
    log.propagate = False
    log.addHandler(logging.NullHandler())
    ctx = ConverterContext(
        station=StationInfo(name="FUZZ-1", location="Lab", purpose="Development"),
        processes=default_processes(),
        arguments=parse_arguments(cls, {}),
        log=log,
    )
    with tempfile.TemporaryDirectory(prefix="pywats-fuzz-") as tmp:
        for name, data in files.items():
            path = Path(tmp, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        converter = cls()
        where = Path(tmp, target)
        if target.endswith("/"):  # a folder whose only file the mutation removed
            where.mkdir(parents=True, exist_ok=True)
        try:
            confidence = converter.validate(where, ctx).confidence  # type: ignore[union-attr]
        except Exception:
            return {"raised": "validate() raised " + traceback.format_exc()}
        result = run_conversion(converter, where, ctx)
    if isinstance(result, Failed):
        return {"failed": result.reason, "confidence": confidence}
    return {"outcome": type(result).__name__, "confidence": confidence}


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """The worker's loop: one case in, one answer out, until the pipe closes."""
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        try:
            answer = _convert_in_worker(*case)
        except BaseException:  # what escaped even the sandbox: report it, stay alive
            answer = {"raised": traceback.format_exc()}
        conn.send(answer)


class Worker:
    """A process that runs cases one at a time; killed and replaced when one hangs."""

    def __init__(self, time_limit: float = TIME_LIMIT) -> None:
        self.time_limit = time_limit
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None

    def run(self, kind: str, files: dict[str, bytes], target: str) -> dict[str, Any]:
        """The case's answer; ``{"hung": …}`` when it took longer than ``time_limit``."""
        if self._process is None or not self._process.is_alive():
            self._start()
        assert self._conn is not None
        self._conn.send((kind, files, target))
        if not self._conn.poll(self.time_limit):
            self.close()
            return {"hung": f"no answer after {self.time_limit:g} s"}
        try:
            answer: dict[str, Any] = self._conn.recv()
        except (EOFError, OSError):
            code = self._process.exitcode if self._process else None
            self.close()
            return {"raised": f"the worker process died (exit code {code})"}
        return answer

    def _start(self) -> None:
        # spawn: a fork of a pytest process with threads could deadlock.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()
        self._conn = ours

    def close(self) -> None:
        """Stop the worker (killed: it may be stuck in a converter)."""
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            with contextlib.suppress(Exception):
                self._process.kill()
                self._process.join(10)
        self._process, self._conn = None, None


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.close()


# --- the test ---------------------------------------------------------------------------------


def _inputs(
    fixture: Fixture, choice: int, mutation: Mutation, companions: tuple[str, ...] = ()
) -> tuple[dict[str, bytes], str, str]:
    """The files to write (relative names), the target, and the mutation in words.

    A folder input is written with the companion files that lie beside it (``companions``:
    their suffixes, as the folder converter declares them); any one of its files may be the
    one broken.
    """
    if not fixture.folder:
        data = fixture.path.read_bytes()
        if mutation[0] == "encode" and not is_text(data):
            mutation = ("flip", [(5000, 0x80)])  # a binary file is not re-encoded: break it
        broken, what = mutate(data, mutation)
        return {fixture.path.name: broken}, fixture.path.name, what
    # Written into a folder named like the original: a folder converter may read its name.
    name = fixture.path.name
    files = {
        f"{name}/{p.relative_to(fixture.path).as_posix()}": p.read_bytes()
        for p in sorted(fixture.path.rglob("*"))
        if p.is_file()
    }
    wanted = {(name + suffix).casefold() for suffix in companions}
    for beside in sorted(fixture.path.parent.iterdir()):
        if beside.is_file() and beside.name.casefold() in wanted:
            files[beside.name] = beside.read_bytes()
    target = sorted(files)[choice % len(files)]
    data = files[target]
    if mutation[0] == "empty" and choice % 2:
        del files[target]  # a file missing, instead of empty
        return files, f"{name}/", f"{target} removed"
    if mutation[0] == "encode" and not is_text(data):
        mutation = ("flip", [(5000, 0x80)])
    files[target], what = mutate(data, mutation)
    return files, f"{name}/", f"{target}: {what}"


def check(kind: str, fixture: Fixture, what: str, answer: dict[str, Any]) -> None:
    """Fail with what went wrong, the case named so it can be run again by hand."""
    case = f"{kind} on {fixture.id}, {what}"
    if "hung" in answer:
        pytest.fail(f"{case}: hung ({answer['hung']})")
    if "raised" in answer:
        pytest.fail(f"{case}: raised out of the converter:\n{answer['raised']}")
    reason = answer.get("failed")
    if reason is None:
        return
    if CRASHED.search(reason):
        pytest.fail(f"{case}: the converter broke instead of failing the input: {reason}")
    if not reason.strip():
        pytest.fail(f"{case}: failed with an empty reason")
    if not (WHERE.search(reason) or WHOLE.search(reason)):
        pytest.fail(
            f"{case}: the reason does not say where (a line, column, element or member), "
            f"nor is it about the whole file: {reason!r}"
        )


@pytest.mark.parametrize(("kind", "fixture"), cases())
def test_a_broken_real_file_fails_cleanly(
    kind: str | None, fixture: Fixture | None, worker: Worker
) -> None:
    if kind is None or fixture is None:
        pytest.skip(f"real fixtures not found at {REAL} (set PYWATS_REAL_FIXTURES)")
    own = own_kind(fixture) == kind
    examples = OWN_EXAMPLES if own else OTHER_EXAMPLES

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a hang would repeat for ever
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(mutation=MUTATIONS, choice=st.integers(0, 64))
    @example(mutation=("none",), choice=0)
    @example(mutation=("empty",), choice=0)
    @example(mutation=("truncate", 5000), choice=0)
    def run(mutation: Mutation, choice: int) -> None:
        assert fixture is not None
        assert kind is not None
        companions = tuple(getattr(BUILTINS[kind], "companions", ()))
        files, target, what = _inputs(fixture, choice, mutation, companions)
        check(kind, fixture, what, worker.run(kind, files, target))

    run()


def test_the_matrix_covers_every_builtin() -> None:
    """A built-in that reads files or folders is in the matrix once per fitting input."""
    if not real_inputs():
        pytest.skip(f"real fixtures not found at {REAL}")
    kinds = {param.values[0] for param in cases()}
    readers = {k for k, c in BUILTINS.items() if not issubclass(c, ScheduledConverter)}
    assert kinds == readers


def test_the_checks_catch_what_they_are_for() -> None:
    """The reason checks reject a reason without a place, accept a place or a whole-file one."""
    fixture = Fixture(REAL / "x" / "y.txt", folder=False)
    bad = [{"hung": "60 s"}, {"raised": "KeyError"}, {"failed": "bad value 'x'"}]
    bad += [{"failed": "converter raised KeyError: 'sn'"}, {"failed": "  "}]
    for answer in bad:
        with pytest.raises(pytest.fail.Exception):
            check("k", fixture, "w", answer)
    good = ["line 3, column 4: bad", "the file is empty", "not an ATML file", "<Step> no Name"]
    good += ["a Klippel header has no part number: set arguments.part_number"]
    good += ["DUT 7.txt: no Ctrl_OverallVerdict= line", "Run 1.xml: not well-formed"]
    good += ["invalid WSJF: Expected `int` - at `$.processCode`", "Info.xml: element <Run> …"]
    for reason in good:
        check("k", fixture, "w", {"failed": reason})
    assert mutate(b"a\nb\nc\n", ("drop-lines", [5000]))[0] == b"a\nc\n"
    assert mutate(b"a\nb\n", ("duplicate-line", 0))[0] == b"a\na\nb\n"


class Hangs(FileConverter):
    """A converter that never returns (reading a file that never ends, say)."""

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        threading.Event().wait()
        raise AssertionError("unreachable")


class Raises(FileConverter):
    """A converter with a bug: an exception that is not a ConversionError."""

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        empty: dict[str, str] = {}
        return Failed(reason=empty["sn"])


def test_the_worker_catches_a_hang_and_a_crash() -> None:
    """A hanging converter fails its case as hung (and the next case gets a fresh worker)."""
    worker = Worker(time_limit=3.0)
    try:
        hung = worker.run(f"{__name__}:Hangs", {"x.txt": b"x"}, "x.txt")
        assert hung == {"hung": "no answer after 3 s"}
        crashed = worker.run(f"{__name__}:Raises", {"x.txt": b"x"}, "x.txt")
        assert crashed["failed"] == "converter raised KeyError: 'sn'"
    finally:
        worker.close()
    with pytest.raises(pytest.fail.Exception, match="broke instead of failing the input"):
        check("k", Fixture(REAL / "x" / "y.txt", folder=False), "w", crashed)

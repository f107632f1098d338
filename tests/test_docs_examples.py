"""Every example in README.md and under docs/ works as written (see ``tests/doc_examples.py``).

Each fenced block says in a marker how it is tested; here the blocks are read from the
documents and run: Python against the emulated server, configurations through the station's
loader, sample inputs through their converter, commands through their program's own argument
parser (some for real), JSON-RPC lines against a control server. A block without a marker fails
:func:`test_every_block_says_how_it_is_tested`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import inspect
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
import trio

import pywats
from pywats import CompOp, ReportBuilder, UUTReport
from pywats.formats import wsjf
from pywats.testing import FakeWATS
from pywats_station import converters as converter_api
from pywats_station.config import read_config
from pywats_station.control.methods import decode_event
from pywats_station.converters import Converted
from pywats_station.converters.api import StationInfo, parse_arguments
from pywats_station.converters.registry import BUILTINS
from pywats_station.converters.tryit import try_convert
from tests.doc_examples import KINDS, ROOT, Block, all_blocks, blocks, documents

STATION = StationInfo(name="DOCS-1", location="Lab", purpose="Development")
# What a shell block may run besides the programs whose arguments are checked here.
KNOWN_PROGRAMS = frozenset(
    {
        "apt", "blkid", "cat", "cp", "diff", "grep", "journalctl", "ln", "ls", "mkdir", "mount",
        "nano", "pip", "pipx", "scp", "systemctl", "tee", "useradd", "wc", "websocat",
    }
)  # fmt: skip
KNOWN_MODULES = frozenset({"venv", "pip", "pytest"})  # `python -m …` not ours
DEFAULT_CONTROL_URL = "ws://127.0.0.1:8765"


# --- the examples, as scenarios ----------------------------------------------------------------


@dataclass
class Scenario:
    """One block, or the blocks of one group: run together, in one folder."""

    name: str
    blocks: list[Block]


def scenarios() -> list[Scenario]:
    """Every block that runs, alone or with its group."""
    found: dict[str, Scenario] = {}
    for block in all_blocks():
        if block.kind in (None, "illustrative"):
            continue
        doc = str(block.doc.relative_to(ROOT))
        name = f"{doc}:{block.group}" if block.group else block.where
        found.setdefault(name, Scenario(name, [])).blocks.append(block)
    return list(found.values())


def test_every_block_says_how_it_is_tested() -> None:
    problems = []
    for block in all_blocks():
        if block.marker is None:
            problems.append(f"{block.where}: no <!-- example: KIND --> marker before the block")
        elif block.kind not in KINDS:
            problems.append(f"{block.where}: unknown example kind {block.kind!r}")
        elif block.kind == "illustrative" and not block.options.get("why"):
            problems.append(f"{block.where}: say why it is illustrative (illustrative: WHY)")
        elif block.kind == "input" and "file" not in block.options:
            problems.append(f"{block.where}: an input needs file=NAME")
    assert not problems, (
        "Every fenced block of the docs is tested or marked illustrative; see the convention in "
        "tests/doc_examples.py.\n" + "\n".join(problems)
    )


def test_the_pages_in_sub_folders_are_tested() -> None:
    """Each built-in converter's page (``docs/converters/<kind>.md``) is a document here."""
    pages = {doc.relative_to(ROOT).as_posix() for doc in documents()}
    converters = sorted((ROOT / "docs" / "converters").glob("*.md"))
    assert converters, "no page under docs/converters"
    assert {page.relative_to(ROOT).as_posix() for page in converters} <= pages


def test_the_convention_finds_the_examples() -> None:
    """The parser sees the blocks (a broken fence pattern would make every test vacuous)."""
    kinds = {block.kind for block in all_blocks()}
    assert {"python", "config", "input", "shell"} <= kinds
    assert len(scenarios()) > 20


# --- running one scenario ----------------------------------------------------------------------


@dataclass
class Context:
    """What the blocks of a scenario share: their folder, namespace, emulators, config."""

    folder: Path
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    stack: contextlib.ExitStack
    namespace: dict[str, Any] = field(default_factory=dict)
    fakes: dict[str | None, FakeWATS] = field(default_factory=dict)
    config: Path | None = None
    setups_done: set[str] = field(default_factory=set)

    def fake(self, token: str | None = "test-token") -> FakeWATS:
        """The emulator that accepts ``token`` (one per token, closed at the end)."""
        if token not in self.fakes:
            self.fakes[token] = FakeWATS(token=token)
            self.stack.callback(self.fakes[token].close)
        return self.fakes[token]

    def processes(self) -> list[Any]:
        """The emulator's processes (50 PCBA test, …): what a synced station knows."""
        return list(self.fake().state.processes)


def _params() -> list[Any]:
    """The scenarios; those that start a daemon process are end-to-end tests."""
    return [
        pytest.param(s, id=s.name, marks=[pytest.mark.e2e] if _starts_processes(s) else [])
        for s in scenarios()
    ]


def _starts_processes(scenario: Scenario) -> bool:
    return any(
        "station" in b.options.get("setup", "").split(",") or b.options.get("run")
        for b in scenario.blocks
    )


@pytest.mark.parametrize("scenario", _params())
def test_example(scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "example"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PYWATS_STATION_HOME", str(tmp_path / "home"))
    with contextlib.ExitStack() as stack:
        ctx = Context(folder, tmp_path, monkeypatch, stack)
        _route_clients_to_the_emulator(ctx)
        for block in scenario.blocks:  # files first: a sample may come before its converter
            if block.kind in ("config", "input") or "file" in block.options:
                _materialise(block, ctx)
        for block in scenario.blocks:
            try:
                _prepare(block, ctx)
                RUNNERS[block.kind](block, ctx)
            except BaseException as exc:
                exc.add_note(f"in the example at {block.where}")
                raise


def _materialise(block: Block, ctx: Context) -> None:
    if block.kind == "config":
        ctx.config = ctx.folder / "config.toml"
        text = block.text
        converter = block.options.get("converter")
        if converter is not None:  # a fragment: the rest of a [[converters]] entry
            watch = ctx.folder / "in"
            text = f'[[converters]]\nname = "example"\nkind = "{converter}"\nwatch = "{watch}"\n'
            text += block.text
        ctx.config.write_text(text, encoding="utf-8")
        return
    target = ctx.folder / block.options["file"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.text, encoding="utf-8")


def _route_clients_to_the_emulator(ctx: Context) -> None:
    """``pyWATS(url, token)`` without a transport talks to an emulator accepting that token."""

    def routed(cls: type[Any]) -> Callable[..., Any]:
        @functools.wraps(cls)
        def make(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("transport") is None:
                token = kwargs.get("token", args[1] if len(args) > 1 else None)
                kwargs["transport"] = ctx.fake(token)
            return cls(*args, **kwargs)

        return make

    ctx.monkeypatch.setattr(pywats, "pyWATS", routed(pywats.pyWATS))
    ctx.monkeypatch.setattr(pywats, "AsyncWATS", routed(pywats.AsyncWATS))


# --- python ------------------------------------------------------------------------------------


class ExampleDone(BaseException):
    """Ends an example that waits forever (an event loop) once it has shown what it should."""


def _prepare(block: Block, ctx: Context) -> None:
    """Run the setups the block names (once per scenario)."""
    for name in filter(None, block.options.get("setup", "").split(",")):
        if name not in ctx.setups_done:
            ctx.setups_done.add(name)
            ctx.namespace.update(SETUPS[name](ctx))


def _run_python(block: Block, ctx: Context) -> None:
    if "file" in block.options:
        return  # written by _materialise: a module the group's other blocks use
    before = set(ctx.namespace)
    text = block.text
    if "__control_url__" in ctx.namespace:  # the daemon the example expects on 8765
        text = text.replace(DEFAULT_CONTROL_URL, ctx.namespace["__control_url__"])
    code = compile(text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    with contextlib.redirect_stdout(io.StringIO()):  # what examples print is for readers
        try:
            awaited = eval(code, ctx.namespace)
            if inspect.iscoroutine(awaited):  # top-level await: run it as trio would

                async def main() -> None:
                    await awaited

                trio.run(main)
        except* ExampleDone:  # alone, or out of a nursery in a group
            pass
    for name in sorted(set(ctx.namespace) - before):
        value = ctx.namespace[name]
        if name.startswith("test_") and callable(value):
            _call_test(value, ctx)
        if isinstance(value, type) and issubclass(value, converter_api.FileConverter | (
                converter_api.FolderConverter | converter_api.ScheduledConverter)):  # fmt: skip
            _check_converter_class(value)


def _call_test(test: Callable[..., Any], ctx: Context) -> None:
    """Call a test function the example defines, with fixtures by parameter name."""
    arguments = {}
    for name in inspect.signature(test).parameters:
        if name == "tmp_path":
            path = ctx.tmp / f"{test.__name__}-tmp"
            path.mkdir()
            arguments[name] = path
        else:
            arguments[name] = ctx.namespace[name]
    test(**arguments)


def _check_converter_class(cls: type[Any]) -> None:
    """What an example converter class sets exists on its base class (no misspelt ClassVar)."""
    base = next(b for b in cls.__mro__[1:] if b.__module__.startswith("pywats_station."))
    for name in vars(cls):
        if not name.startswith("_"):
            assert hasattr(base, name), f"{cls.__name__}.{name}: {base.__name__} has no {name}"
    if hasattr(cls, "schedule"):
        from pywats_station.converters.schedule import parse_schedule

        parse_schedule(cls.schedule)


# --- config, input -----------------------------------------------------------------------------


def _load_config(block: Block, ctx: Context) -> None:
    assert ctx.config is not None
    loaded = read_config(ctx.config, env={})
    assert not loaded.warnings, [str(w) for w in loaded.warnings]
    for converter in loaded.config.converters:
        cls = BUILTINS.get(converter.kind)
        if cls is not None:
            parse_arguments(cls, converter.arguments)  # raises naming the argument


def _convert_input(block: Block, ctx: Context) -> None:
    path = ctx.folder / block.options["file"]
    kind, arguments = block.options.get("kind"), {}
    if kind is None:
        assert ctx.config is not None, "an input needs kind=KIND or a config in its group"
        (converter,) = read_config(ctx.config, env={}).config.converters
        kind, arguments = converter.kind, converter.arguments
    result = try_convert(path, kind=kind, arguments=arguments, station=STATION,
                         processes=ctx.processes(), base_dir=ctx.folder)  # fmt: skip
    assert isinstance(result.result, Converted), result.result
    assert result.result.reports


# --- shell -------------------------------------------------------------------------------------


class _Parsed(Exception):
    """Raised instead of running a command once its arguments parsed."""


def parses(main: Callable[[list[str]], Any], argv: list[str]) -> None:
    """Whether ``main`` (an argparse command line) accepts ``argv``: parsed, never run."""
    original = argparse.ArgumentParser.parse_args

    def parse_only(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)
        raise _Parsed

    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err):
        patch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
        try:
            main(argv)
        except _Parsed:
            return
        except SystemExit as exc:
            if exc.code in (0, None):  # --version, --help: printed, and exited successfully
                return
            raise AssertionError(f"{argv} does not parse: {err.getvalue().strip()}") from None
    raise AssertionError(f"{argv}: the program never parsed its arguments")


def _main_of(module: str) -> Callable[[list[str]], Any]:
    if module in ("pywats_station", "pywats-station"):
        from pywats_station.cli import main

        return main
    if module in ("pywats_station.tui", "pywats-tui"):
        from pywats_station.tui.cli import main as tui_main

        return tui_main
    if module == "pywats.testing":
        from pywats.testing.__main__ import main as emulator_main

        return emulator_main
    if module == "pywats_station.control._docgen":
        from pywats_station.control._docgen import main as docgen_main

        return docgen_main
    raise AssertionError(f"python -m {module}: not a program of this project the tests know")


def commands(text: str) -> list[list[str]]:
    """The simple commands of a shell block: pipelines, ``&&`` and ``$(…)`` taken apart."""
    found: list[list[str]] = []
    for line in text.splitlines():
        substituted = re.findall(r"\$\(([^()]*)\)", line)
        line = re.sub(r"\$\([^()]*\)", "SUBSTITUTED", line)
        for part in [*substituted, line]:
            lexer = shlex.shlex(part, posix=True, punctuation_chars="|&;")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for word in lexer:
                if set(word) <= set("|&;"):
                    if words:
                        found.append(words)
                    words = []
                else:
                    words.append(word)
            if words:
                found.append(words)
    return found


def _program(words: list[str]) -> tuple[str, list[str]] | None:
    """The program a command runs and its arguments, past ``VAR=…`` and ``sudo [-u USER]``;
    ``None`` for a bare assignment."""
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words = words[1:]
    if not words:
        return None
    if words[:1] == ["sudo"]:
        words = words[3:] if words[1:2] == ["-u"] else words[1:]
    program = Path(words[0]).name
    if re.fullmatch(r"python3?(\.\d+)?", program) and words[1:2] == ["-m"]:
        return f"python -m {words[2]}", words[3:]
    return program, words[1:]


def _run_shell(block: Block, ctx: Context) -> None:
    run = {int(n) for n in filter(None, block.options.get("run", "").split(","))}
    interrupt = float(block.options["interrupt"]) if "interrupt" in block.options else None
    assert interrupt is None or run, f"{block.where}: interrupt= applies to the commands run="
    for number, words in enumerate(commands(block.text), start=1):
        found = _program(words)
        if found is None:
            continue
        program, argv = found
        if program == "pywats-station" or program == "python -m pywats_station":
            main = _main_of("pywats_station")
        elif program == "pywats-tui":
            # A terminal UI: its arguments are checked, it is never run here (tests/tui run it).
            assert number not in run, f"command {number}: a terminal UI is not run"
            main = _main_of("pywats-tui")
        elif program.startswith("python -m "):
            module = program.removeprefix("python -m ")
            if module in KNOWN_MODULES:
                assert number not in run, f"command {number}: not ours, not run"
                continue
            main = _main_of(module)
        else:
            assert program in KNOWN_PROGRAMS, (
                f"{block.where}: {program!r} is not a program the tests know: add it to "
                "KNOWN_PROGRAMS if it is not ours, or check it"
            )
            assert number not in run, f"command {number}: not ours, not run"
            continue
        parses(main, argv)
        if number in run:
            _run_for_real(program, argv, ctx, interrupt)


def _run_for_real(
    program: str, argv: list[str], ctx: Context, interrupt: float | None = None
) -> None:
    """Run a command of ours in the scenario's folder; it must exit 0.

    With ``interrupt`` it is one that runs until stopped: still running after that many
    seconds, it gets SIGINT (Ctrl-C) and must then exit 0 by itself.
    """
    module = "pywats_station" if program == "pywats-station" else program.removeprefix("python -m ")
    shown = f"{program} {shlex.join(argv)}"
    process = subprocess.Popen(
        [sys.executable, "-m", module, *argv],
        cwd=ctx.folder,
        # TMPDIR: what a command makes in a temporary folder (the demo's) stays in the test's.
        env={**os.environ, "PYWATS_STATION_HOME": str(ctx.tmp / "home"), "TMPDIR": str(ctx.tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if interrupt is not None:
            try:
                process.wait(timeout=interrupt)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
            else:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"{shown} ended before it was interrupted: {output}")
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, f"{shown} exited {process.returncode}: {output}"


def test_the_readme_runs_its_demo_until_interrupted() -> None:
    """The README's first command ends in ``pywats-station demo``, without ``--duration``: its
    block runs it for real (``test_example``) and stops it with Ctrl-C, as a reader does."""
    found = [
        (block, number, program_argv[1])
        for block in blocks(ROOT / "README.md")
        if block.kind == "shell"
        for number, words in enumerate(commands(block.text), start=1)
        if (program_argv := _program(words)) is not None
        and program_argv[0] == "pywats-station"
        and program_argv[1][:1] == ["demo"]
    ]
    assert found, "the README shows no pywats-station demo command"
    block, number, argv = found[0]
    assert "--duration" not in argv
    assert str(number) in block.options.get("run", "").split(","), block.where
    assert float(block.options["interrupt"]) > 0, block.where


# --- JSON-RPC ----------------------------------------------------------------------------------


def _run_event(block: Block, ctx: Context) -> None:
    message = json.loads(block.text)
    assert message["jsonrpc"] == "2.0"
    event = message["method"].removeprefix("notify.")
    decoded = decode_event(event, message["params"])
    # The decoder drops members it does not know: each one shown must be one the payload has.
    _shown_is_decoded(message["params"], msgspec.to_builtins(decoded), block.where)


def _shown_is_decoded(shown: Any, decoded: Any, where: str) -> None:
    """Whether every member of ``shown`` (nested too) survived decoding with its value."""
    if isinstance(shown, dict):
        assert isinstance(decoded, dict), f"{where}: {shown!r} is not an object there"
        for key, value in shown.items():
            assert key in decoded, f"{where}: the payload has no member {key!r}"
            _shown_is_decoded(value, decoded[key], where)
    elif isinstance(shown, list):
        assert isinstance(decoded, list), f"{where}: {shown!r} is not a list there"
        for one, other in zip(shown, decoded, strict=True):
            _shown_is_decoded(one, other, where)
    else:
        assert shown == decoded, f"{where}: {shown!r} decodes as {decoded!r}"


def _exchange(block: Block, ctx: Context) -> None:
    """Send the ``→`` lines (all lines, for ``requests``) to a control server; compare."""
    from tests.station.control.helpers import TOKEN, make_server, raw_connection

    lines = [line for line in block.text.splitlines() if line.strip()]
    pairs: list[tuple[str, str | None]]
    if block.kind == "requests":
        pairs = [(line, None) for line in lines]
    else:
        sent = [line.removeprefix("→ ") for line in lines if line.startswith("→ ")]
        answers = [line.removeprefix("← ") for line in lines if line.startswith("← ")]
        assert len(sent) == len(answers) == len(lines) / 2, "→ and ← alternate"
        pairs = [(request, answer) for request, answer in zip(sent, answers, strict=True)]

    async def replay() -> None:
        server = make_server()
        token = TOKEN if block.kind == "requests" else None
        async with raw_connection(server, token=token) as raw:
            for request, expected in pairs:
                await raw.send(request.replace("<token>", TOKEN))
                answer = await raw.receive()
                if expected is None:
                    assert "error" not in answer, (request, answer)
                else:
                    assert _same_answer(answer, json.loads(expected)), (request, answer, expected)

    try:
        trio.run(replay)
    except BaseExceptionGroup as group:  # the connection's nursery: show the failure itself
        first: BaseException = group
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


def _same_answer(answer: Any, expected: Any) -> bool:
    """Equal, but for ``time`` (the server's clock) in results."""
    if isinstance(answer, list) and isinstance(expected, list):
        return len(answer) == len(expected) and all(
            _same_answer(a, e) for a, e in zip(answer, expected, strict=True)
        )
    if isinstance(answer, dict) and isinstance(expected, dict):
        result, wanted = answer.get("result"), expected.get("result")
        if isinstance(result, dict) and isinstance(wanted, dict) and "time" in wanted:
            answer = {**answer, "result": {**result, "time": wanted["time"]}}
    return bool(answer == expected)


RUNNERS: dict[str | None, Callable[[Block, Context], None]] = {
    "python": _run_python,
    "config": _load_config,
    "input": _convert_input,
    "shell": _run_shell,
    "requests": _exchange,
    "exchange": _exchange,
    "event": _run_event,
}


# --- setups: the names examples use without defining them ---------------------------------------


def _built_report(sn: str = "SN-0001") -> UUTReport:
    uut = ReportBuilder.uut(pn="PN-100", sn=sn, rev="A", process_code=10,
                            station="DOCS-1", location="Lab", purpose="Development")  # fmt: skip
    power = uut.root.sequence("Power")
    power.numeric("3V3 rail", 3.31, CompOp.GELE, low=3.2, high=3.4, unit="V")
    uut.root.pass_fail("LED", True)
    return uut.build()


def _setup_report(ctx: Context) -> dict[str, Any]:
    return {"report": _built_report()}


def _setup_fake(ctx: Context) -> dict[str, Any]:
    return {"fake": ctx.fake()}


def _setup_api(ctx: Context) -> dict[str, Any]:
    """An open client on an emulator holding one report (``api``, ``report_id``)."""
    api = ctx.stack.enter_context(pywats.pyWATS("http://wats.test", "test-token"))
    report_id = api.report.submit_report(_built_report())
    return {"api": api, "report_id": report_id, "fake": ctx.fake()}


def _setup_wats(ctx: Context) -> dict[str, Any]:
    """The pytest plugin's ``wats`` and ``fake_wats``, and a ``my_script`` that uploads."""
    fake = ctx.fake()
    wats = ctx.stack.enter_context(pywats.pyWATS("http://wats.test", "test-token"))

    def upload(api: pywats.pyWATS) -> None:
        api.report.submit_report(_built_report())

    return {"wats": wats, "fake_wats": fake, "my_script": types.SimpleNamespace(upload=upload)}


def _setup_uut_json(ctx: Context) -> dict[str, Any]:
    (ctx.folder / "uut.json").write_bytes(wsjf.dumps(_built_report()))
    return {}


def _setup_synced(ctx: Context) -> dict[str, Any]:
    """The station home's process list, as a station that has been online keeps it."""
    from pywats_station.actors.sync import MetadataCache, save_cache
    from pywats_station.paths import instance_paths

    paths = instance_paths("default", env={"PYWATS_STATION_HOME": str(ctx.tmp / "home")})
    paths.cache_dir.mkdir(parents=True, exist_ok=True)
    save_cache(paths.cache_dir / "metadata.json", MetadataCache(processes=ctx.processes()))
    return {}


def _setup_converter_api(ctx: Context) -> dict[str, Any]:
    names = {name: getattr(converter_api, name) for name in converter_api.__all__}
    return {**names, "ClassVar": ClassVar, "Path": Path}


def _setup_station(ctx: Context) -> dict[str, Any]:
    """A real daemon on the emulator over TCP, its control channel where the examples look.

    The examples connect to ``ws://127.0.0.1:8765`` and read the token of instance
    ``default``: the URL is pointed at this daemon's port, the instance lives in the test's
    station home. A report is dropped into its watch folder every half second, so that an
    example waiting for ``report_uploaded`` gets one; the first one printed ends the example.
    """
    from tests.station.e2e.harness import Station as RealStation
    from tests.station.e2e.harness import emulator, make_report

    server = ctx.stack.enter_context(emulator())
    station = RealStation(ctx.tmp / "home", server)
    inbox = ctx.tmp / "inbox"
    inbox.mkdir()
    station.write_config(
        f'[[converters]]\nname = "wsjf"\nkind = "wsjf"\nwatch = "{inbox}"\nsettle = 0.05\n'
    )
    station.start()
    ctx.stack.callback(station.stop)
    url = station.control_url()
    ctx.monkeypatch.setenv("PYWATS_STATION_HOME", str(station.home))
    stop = threading.Event()

    def feed() -> None:
        n = 0
        while not stop.wait(0.5):
            n += 1
            _, data = make_report(n)
            (inbox / f"r{n}.json").write_bytes(data)

    threading.Thread(target=feed, daemon=True).start()
    ctx.stack.callback(stop.set)
    real_print = print

    def shown(*args: Any, **kwargs: Any) -> None:
        real_print(*args, **kwargs)
        if args and args[0] == "report_uploaded":
            raise ExampleDone

    return {"print": shown, "__control_url__": url}


SETUPS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "report": _setup_report,
    "fake": _setup_fake,
    "api": _setup_api,
    "wats": _setup_wats,
    "uut-json": _setup_uut_json,
    "converter-api": _setup_converter_api,
    "synced": _setup_synced,
    "station": _setup_station,
}

"""The docs' install and upgrade commands work as written, in fresh virtual environments.

pyWATS is not published on a package index, so the docs install it from its source tree or from
a wheel built from it. Every fenced ``sh`` block that follows ``<!-- install-test: NAME -->`` in
the README or ``docs/`` is read here and run line by line, so the docs and this test cannot drift
apart. What is changed on the way, and why:

* The source tree is a copy of the checkout's (what a build reads: ``pyproject.toml``, the
  README, ``.gitignore`` and the two packages), so nothing is built or installed in the checkout
  and its ``.venv`` is never used. ``python3`` is the interpreter running the tests; no virtual
  environment is on ``PATH``.
* The machine's root is not ours: lines that create users, talk to systemd or install system
  packages (``useradd``, ``systemctl``, ``apt``) are skipped, ``sudo`` is dropped, and the
  system folders the docs name (``/opt/pywats-station``, ``/usr/local/bin``,
  ``/etc/systemd/system``) are moved into a temporary folder.
* ``pywats-station demo --duration N`` runs for 3 seconds.

Dependencies come from PyPI (or pip's cache), as they do for a user and for ``.ci/run``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_MARKED = re.compile(r"<!-- install-test: ([\w-]+) -->\n```sh\n(.*?)\n```", re.S)
_SH_BLOCK = re.compile(r"```sh\n(.*?)\n```", re.S)
_INSTALL = re.compile(r"\b(pip|pipx)\s+(install|wheel)\b")

# The blocks the scenarios below run; a block that loses its marker fails here, not silently.
EXPECTED_BLOCKS = {
    "build-wheel",
    "station",
    "station-upgrade",
    "user-pipx",
    "user-pipx-upgrade",
    "user-venv",
    "library",
    "pi-pipx",
}
# Modules the daemon needs and the library must neither import nor install.
DAEMON_MODULES = ("trio", "trio_websocket", "watchfiles", "textual", "hypercorn", "cryptography")
# The system folders the docs install into, moved under a temporary root.
SYSTEM_FOLDERS = ("/opt/pywats-station", "/usr/local/bin", "/etc/systemd/system")
DEMO_SECONDS = 3


def marked_blocks() -> dict[str, list[str]]:
    """Every ``<!-- install-test: NAME -->`` block of the docs, as its lines."""
    blocks: dict[str, list[str]] = {}
    for doc in DOCS:
        for name, body in _MARKED.findall(doc.read_text(encoding="utf-8")):
            assert name not in blocks, f"install-test block {name!r} appears twice"
            blocks[name] = body.splitlines()
    return blocks


def _command(line: str) -> str:
    """A shell line without its comment (the docs' lines hold no ``#`` inside quotes)."""
    return line.split("#", 1)[0].strip()


def _doc_wheel_name() -> str:
    """The wheel file the operations guide installs."""
    found: set[str] = {
        m for line in marked_blocks()["station"] for m in re.findall(r"pywats-[^'\s\[]+\.whl", line)
    }
    assert len(found) == 1, f"the station block should name one wheel, names {found}"
    return found.pop()


def _source_version() -> str:
    """The version the source tree declares, in its one place (hatch reads it from there)."""
    text = (ROOT / "pywats" / "_version.py").read_text(encoding="utf-8")
    version = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert version is not None
    return version.group(1)


# --- fast checks: which commands the docs hold ----------------------------------------------------


def test_every_marked_block_is_there() -> None:
    assert set(marked_blocks()) == EXPECTED_BLOCKS


def test_every_install_command_in_the_docs_is_run_here() -> None:
    """An install line outside the marked blocks must repeat one of them (or be the README's)."""
    tested = {_command(line) for lines in marked_blocks().values() for line in lines}
    untested = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in _SH_BLOCK.findall(text):
            for line in block.splitlines():
                command = _command(line)
                if not _INSTALL.search(command) or command in tested:
                    continue
                # The README's set-up commands: editable installs of the checkout, for
                # development; .ci/run runs the second, tests/test_readme.py pins their form.
                if doc.name == "README.md" and " install -e " in command:
                    continue
                untested.append(f"{doc.relative_to(ROOT)}: {command}")
    assert untested == []


def test_the_docs_name_the_wheel_this_version_builds() -> None:
    expected = f"pywats-{_source_version()}-py3-none-any.whl"
    assert _doc_wheel_name() == expected
    named = {
        m
        for doc in DOCS
        for m in re.findall(r"pywats-\d[^'\s\[`]*\.whl", doc.read_text(encoding="utf-8"))
    }
    assert named == {expected}


# --- running them ---------------------------------------------------------------------------------


@dataclass
class Shell:
    """Runs doc lines as a user would, with the changes the module docstring lists."""

    tmp: Path
    path: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """Where the docs' system folders go."""
        return self.tmp / "root"

    def environ(self) -> dict[str, str]:
        """The environment of a command: this shell's ``PATH`` and variables."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYWATS_INSTANCE")
        }
        env.update(self.env)
        env["PATH"] = os.pathsep.join(self.path)
        return env

    def rewrite(self, line: str) -> str | None:
        """The line as run here, or None for one that needs the machine's root."""
        if re.search(r"\b(useradd|systemctl|apt)\b", _command(line)):
            return None
        line = re.sub(r"\bsudo\s+", "", line)
        for folder in SYSTEM_FOLDERS:
            line = line.replace(folder, f"{self.root}{folder}")
        return re.sub(r"(\bdemo --duration )\d+", rf"\g<1>{DEMO_SECONDS}", line)

    def run(self, line: str, cwd: Path) -> str:
        """Run one line with ``sh``; fail the test with its output unless it succeeds."""
        done = subprocess.run(
            ["sh", "-ec", line],
            cwd=cwd,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, (
            f"{line!r} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return done.stdout

    def run_block(self, name: str, cwd: Path) -> str:
        """Run a marked block of the docs, line by line; return what it printed."""
        out = []
        for line in marked_blocks()[name]:
            command = self.rewrite(line)
            if command is not None:
                out.append(self.run(command, cwd))
        return "".join(out)

    def which(self, program: str) -> Path:
        """Where ``program`` is found on this shell's ``PATH``."""
        found = shutil.which(program, path=os.pathsep.join(self.path))
        assert found is not None, f"{program} is not on PATH"
        return Path(found)


def _clean_path() -> list[str]:
    """``PATH`` without any virtual environment (the test's own included)."""
    venvs = {Path(sys.prefix) / "bin"} if sys.prefix != sys.base_prefix else set()
    if os.environ.get("VIRTUAL_ENV"):
        venvs.add(Path(os.environ["VIRTUAL_ENV"]) / "bin")
    resolved = {v.resolve() for v in venvs}
    return [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and Path(p).resolve() not in resolved
    ]


def _wrapper(folder: Path, name: str, *argv: str) -> None:
    script = folder / name
    script.write_text(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n', encoding="utf-8")
    script.chmod(0o755)


def _user_shell(tmp: Path) -> Shell:
    """A user's shell: ``python3`` (and ``pipx`` when installed), temporary files in ``tmp``."""
    tools = tmp / "tools"
    tools.mkdir()
    _wrapper(tools, "python3", sys.executable)
    if importlib.util.find_spec("pipx") is not None:
        _wrapper(tools, "pipx", sys.executable, "-m", "pipx")
    (tmp / "tmp").mkdir()
    return Shell(
        tmp,
        [str(tools), *_clean_path()],
        {
            "TMPDIR": str(tmp / "tmp"),
            # The station's files (`config path`, `config init`) stay in tmp, whoever runs the
            # tests (root would otherwise use /etc/pywats-station).
            "PYWATS_STATION_HOME": str(tmp / "station-home"),
        },
    )


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return _user_shell(tmp_path)


def copy_source_tree(dest: Path) -> Path:
    """A source tree like a clone's, without the checkout's caches and virtual environment."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", ".gitignore"):
        shutil.copy2(ROOT / name, dest / name)
    for package in ("pywats", "pywats_station"):
        shutil.copytree(
            ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return dest


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return copy_source_tree(tmp_path / "src")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the operations guide's build command makes, in a copy of the source tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = copy_source_tree(tmp / "src")
    shell = _user_shell(tmp)
    shell.run_block("build-wheel", source)
    wheels = list((source / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _site_packages(venv: Path) -> Path:
    found = list(venv.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def _check_station(shell: Shell, station: Path, venv: Path) -> None:
    """The checks every installed station passes: help, config path, a light ``import pywats``."""
    assert "usage: pywats-station" in shell.run(f"{shlex.quote(str(station))} --help", shell.tmp)
    printed = shell.run(f"{shlex.quote(str(station))} config path", shell.tmp).strip()
    assert printed == str(shell.tmp / "station-home" / "config" / "default" / "config.toml")
    probe = f"import sys, pywats; print(sorted(m for m in {DAEMON_MODULES!r} if m in sys.modules))"
    out = shell.run(
        f"{shlex.quote(str(venv / 'bin' / 'python'))} -c {shlex.quote(probe)}", shell.tmp
    )
    assert out.strip() == "[]"


def _check_demo(out: str) -> None:
    uploaded = re.search(r"^(\d+) reports? uploaded$", out, re.M)
    assert uploaded is not None, out
    assert int(uploaded.group(1)) > 0


# --- the wheel ------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_wheel_holds_what_the_station_needs(wheel: Path) -> None:
    assert wheel.name == _doc_wheel_name()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
        wheel_info = archive.read(f"{info}/WHEEL").decode()
    # Pure Python, for any platform (a Raspberry Pi included), and the version of its one place.
    assert wheel.name.endswith("-py3-none-any.whl")
    assert "Root-Is-Purelib: true" in wheel_info
    assert f"\nVersion: {_source_version()}\n" in metadata
    # Every file of both packages (modules, py.typed, data), and nothing else.
    expected = {
        p.relative_to(ROOT).as_posix()
        for package in ("pywats", "pywats_station")
        for p in (ROOT / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert {n for n in names if not n.startswith(info)} == expected
    assert {"pywats/py.typed", "pywats_station/py.typed"} <= names
    assert "pywats-station = pywats_station.cli:main" in entry_points
    assert "pywats-tui = pywats_station.tui.cli:main" in entry_points
    # The library alone needs httpx and msgspec; everything else comes with an extra.
    plain = {
        re.split(r"[<>=!~;\s\[]", line.split(":", 1)[1].strip())[0]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert plain == {"httpx", "msgspec"}


# --- the service install (docs/operations.md) -----------------------------------------------------


def _systemd_unit_line() -> str:
    """The operations guide's line that writes the unit file."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    lines: list[str] = [
        line
        for block in _SH_BLOCK.findall(text)
        for line in block.splitlines()
        if "systemd-unit" in line and " tee " in line
    ]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.e2e
def test_service_install_and_upgrade_from_the_wheel(shell: Shell, wheel: Path) -> None:
    folder = shell.tmp / "copied"  # "copy the wheel to the station"
    folder.mkdir()
    shutil.copy2(wheel, folder / wheel.name)
    bin_dir = shell.root / "usr" / "local" / "bin"
    bin_dir.mkdir(parents=True)
    (shell.root / "etc" / "systemd" / "system").mkdir(parents=True)
    shell.path.insert(0, str(bin_dir))

    shell.run_block("station", folder)

    venv = shell.root / "opt" / "pywats-station"
    station = shell.which("pywats-station")
    assert station == bin_dir / "pywats-station"
    _check_station(shell, station, venv)
    _check_demo(shell.run(f"pywats-station demo --duration {DEMO_SECONDS}", shell.tmp))

    # The unit, written as the guide writes it, starts the venv's program.
    command = shell.rewrite(_systemd_unit_line())
    assert command is not None
    shell.run(command, shell.tmp)
    unit = (shell.root / "etc" / "systemd" / "system" / "pywats-station.service").read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M)
    assert exec_start is not None
    program = (venv / "bin" / "pywats-station").resolve()
    assert shlex.split(exec_start.group(1)) == [str(program), "run"]

    # Upgrade: a file of the installed version changed, the same wheel installed again over it
    # replaces it (pip skips a wheel whose version is installed unless told otherwise).
    installed = _site_packages(venv) / "pywats_station" / "__init__.py"
    original = installed.read_text(encoding="utf-8")
    installed.write_text(original + "# the old version\n", encoding="utf-8")
    shell.run("pywats-station config init", shell.tmp)
    shell.run_block("station-upgrade", folder)
    assert installed.read_text(encoding="utf-8") == original


# --- the user guide -------------------------------------------------------------------------------


@pytest.mark.e2e
def test_user_guide_pipx_install_and_upgrade(shell: Shell, source: Path) -> None:
    if importlib.util.find_spec("pipx") is None:
        pytest.skip("pipx is not installed (it comes with the dev extra)")
    pipx_bin = shell.tmp / "pipx-bin"
    shell.env.update(
        PIPX_HOME=str(shell.tmp / "pipx"),
        PIPX_BIN_DIR=str(pipx_bin),
        PIPX_MAN_DIR=str(shell.tmp / "pipx-man"),
    )
    shell.path.insert(0, str(pipx_bin))

    _check_demo(shell.run_block("user-pipx", source))

    venv = shell.tmp / "pipx" / "venvs" / "pywats"
    assert shell.which("pywats-station").resolve() == (venv / "bin" / "pywats-station").resolve()
    _check_station(shell, shell.which("pywats-station"), venv)

    installed = _site_packages(venv) / "pywats_station" / "__init__.py"
    with (source / "pywats_station" / "__init__.py").open("a", encoding="utf-8") as f:
        f.write("# the new version\n")
    shell.run_block("user-pipx-upgrade", source)
    assert installed.read_text(encoding="utf-8").endswith("# the new version\n")


@pytest.mark.e2e
def test_user_guide_venv_install_and_upgrade(shell: Shell, source: Path) -> None:
    _check_demo(shell.run_block("user-venv", source))
    venv = source / ".venv"
    _check_station(shell, venv / "bin" / "pywats-station", venv)

    # Upgrade, as the guide says: the install part of the same line, again. From a source tree
    # pip reinstalls even when the version is the same.
    install = marked_blocks()["user-venv"][0].split(" && ", 1)[1]
    assert install.startswith(".venv/bin/pip install ")
    installed = _site_packages(venv) / "pywats_station" / "__init__.py"
    with (source / "pywats_station" / "__init__.py").open("a", encoding="utf-8") as f:
        f.write("# the new version\n")
    shell.run(install, source)
    assert installed.read_text(encoding="utf-8").endswith("# the new version\n")


# --- the library and the emulator (docs/library.md, docs/testing-with-the-emulator.md) ------------


@pytest.mark.e2e
def test_library_install_then_the_emulator(shell: Shell, source: Path) -> None:
    venv = shell.tmp / "project-venv"
    shell.run(f"python3 -m venv {shlex.quote(str(venv))}", shell.tmp)
    # The user's project environment, activated.
    shell.path.insert(0, str(venv / "bin"))
    shell.env["VIRTUAL_ENV"] = str(venv)
    python = shlex.quote(str(venv / "bin" / "python"))
    absent = f"import importlib.util as u; print([m for m in {DAEMON_MODULES!r} if u.find_spec(m)])"
    library, testing = marked_blocks()["library"]

    shell.run(library, source)
    assert shell.run(f"{python} -c {shlex.quote(absent)}", shell.tmp).strip() == "[]"
    # The README's quick start needs nothing more (its emulator runs in process).
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    quick_start = re.search(r"```python\n(.*?)```", readme, re.S)
    assert quick_start is not None
    assert "ReportHeader(" in shell.run(
        f"{python} -c {shlex.quote(quick_start.group(1))}", shell.tmp
    )

    shell.run(testing, source)
    server = subprocess.Popen(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pywats.testing",
            "serve",
            "--port",
            "0",
            "--token",
            "T",
        ],
        env=shell.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("serving WATS emulator on http://")
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    out = shell.run(f"{python} -c {shlex.quote(absent)}", shell.tmp)
    assert out.strip() == "['trio', 'hypercorn']"  # the emulator's own, none of the daemon's


# --- the Raspberry Pi guide (docs/raspberry-pi.md) ------------------------------------------------


@pytest.mark.e2e
def test_raspberry_pi_pipx_install_of_the_wheel(shell: Shell, wheel: Path) -> None:
    """The wheel installed with pipx gives both programs, each printing the source's version."""
    if importlib.util.find_spec("pipx") is None:
        pytest.skip("pipx is not installed (it comes with the dev extra)")
    folder = shell.tmp / "copied"  # "copy the wheel to the Pi"
    folder.mkdir()
    shutil.copy2(wheel, folder / wheel.name)
    pipx_bin = shell.tmp / "pipx-bin"
    shell.env.update(
        PIPX_HOME=str(shell.tmp / "pipx"),
        PIPX_BIN_DIR=str(pipx_bin),
        PIPX_MAN_DIR=str(shell.tmp / "pipx-man"),
    )
    shell.path.insert(0, str(pipx_bin))

    out = shell.run_block("pi-pipx", folder)

    version = _source_version()
    assert f"pywats-station {version}\n" in out
    assert f"pywats-tui {version}\n" in out
    _check_demo(out)
    venv = shell.tmp / "pipx" / "venvs" / "pywats"
    for program in ("pywats-station", "pywats-tui"):
        assert shell.which(program).resolve() == (venv / "bin" / program).resolve()
    _check_station(shell, shell.which("pywats-station"), venv)


def _pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/msgspec/", timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.mark.e2e
def test_the_dependencies_install_on_a_raspberry_pi_from_wheels(wheel: Path) -> None:
    """Every dependency of ``wheel[station]`` has a wheel for Bookworm (aarch64, CPython 3.11).

    ``bench/aarch64_wheels.py`` asks pip to resolve it for that platform with
    ``--only-binary=:all:``; a dependency that would need compiling on the Pi fails it.
    """
    if not _pypi_reachable():
        pytest.skip("PyPI (https://pypi.org) cannot be reached: the check asks it for wheels")
    check: Any = importlib.import_module("bench.aarch64_wheels")
    resolved = check.resolve(wheel)
    names = {r.name.lower() for r in resolved}
    assert {"pywats", "httpx", "msgspec", "trio", "textual", "cryptography", "watchfiles"} <= names
    compiled = [r for r in resolved if not r.pure]
    assert compiled, "some dependencies are compiled (msgspec, cryptography, watchfiles)"
    for r in resolved:
        assert r.wheel.endswith(".whl"), r
    for r in compiled:
        assert "aarch64" in r.wheel, r
        assert re.search(r"-(cp311|abi3)-", r.wheel), r
    # The guide names every compiled one (the versions move on; the names should not).
    page = (ROOT / "docs" / "raspberry-pi.md").read_text(encoding="utf-8")
    assert [r.name for r in compiled if f"| {r.name} |" not in page] == []

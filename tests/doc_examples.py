"""The fenced code blocks of ``README.md`` and every page under ``docs/``, with what tests them.

Every fenced block a reader might copy is exercised by a test, read from the document as it is
written. Which test is said by an HTML comment on the line right before the block (invisible
when the Markdown is rendered)::

    <!-- example: KIND option=value … -->

``KIND`` is one of:

``python``
    Run, against the emulated server (``pywats.testing.FakeWATS``), in a fresh folder.
    ``setup=a,b`` names what the test prepares first (names the snippet uses without
    defining them: ``api``, ``report``…, see ``tests/test_docs_examples.py``); test functions
    the snippet defines (``def test_…(tmp_path)``) are then called. ``file=PATH`` writes the
    block to that file instead (a converter module used by the other blocks of its group).
``config``
    A configuration file, loaded with the station's configuration loader; the arguments of
    built-in converters are checked too. ``converter=KIND`` marks a fragment: the rest of a
    ``[[converters]]`` entry of that kind, loaded after the entry's required keys.
``input``
    A sample input (``file=NAME``), converted with its group's configured converter (or
    ``kind=KIND``): it must convert.
``shell``
    Commands: every ``pywats-station …``, ``pywats-tui …`` and ``python -m <module> …`` command
    must parse with that program's own argument parser; ``run=1,3`` runs those commands
    (counted from 1, in the block's order; never a ``pywats-tui``: tests/tui runs it) for
    real, in the group's folder, with a station home of their own; each must exit 0.
    ``interrupt=SECONDS`` is for commands that run until stopped (the demo): each one run
    must still be running after that many seconds, then gets SIGINT (what Ctrl-C sends) and
    must exit 0. Other programs must be ones the tests know (pip, systemctl…).
``requests`` / ``exchange``
    JSON-RPC lines sent to a control server: ``requests`` must all be answered without an
    error; in an ``exchange`` every ``→`` line is sent and its answer must be the ``←`` line.
``event``
    A notification, decoded as the event it names; every member it shows (nested ones too)
    must be one the payload has, with the value shown.
``illustrative: WHY``
    Not run: sample output, pseudo-code. ``WHY`` says what it is.

A block of install commands is marked ``<!-- install-test: NAME -->`` instead: it is run for
real by ``tests/test_install.py``, and its commands are parsed here as a ``shell`` block's.

``group=NAME`` ties blocks of one document together (a converter, its configuration, its
sample input and the commands that use them): they share one folder and, for Python, one
namespace, in document order. A block without a marker fails ``test_docs_examples.py``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = frozenset(
    {"python", "config", "input", "shell", "requests", "exchange", "event", "illustrative"}
)

_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
# The install commands are run for real by tests/test_install.py, under its own marker; here
# their commands are parsed like any other shell block's.
_INSTALL_MARKER = re.compile(r"^<!--\s*install-test:\s*([\w-]+)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its text, and what its marker says."""

    doc: Path
    line: int  # of the opening fence, counted from 1
    language: str
    text: str
    marker: str | None  # the marker's text after "example:", None without one
    kind: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``docs/converters.md:602``."""
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def group(self) -> str | None:
        """The group the block belongs to, if any."""
        return self.options.get("group")


def documents() -> list[Path]:
    """Every document whose examples are tested: the README and every page under ``docs/``
    (``docs/converters/<kind>.md`` included: a page added there is tested without a change
    here)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _parse_marker(marker: str) -> tuple[str, dict[str, str]]:
    """``KIND`` and its options; ``illustrative: WHY`` keeps ``WHY`` as option ``why``."""
    head, colon, why = marker.partition(":")
    if head.strip() == "illustrative":
        return "illustrative", {"why": why.strip()} if colon else {}
    words = shlex.split(marker)
    if not words:
        return "", {}
    options = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        options[key] = value
    return words[0], options


def blocks(doc: Path) -> list[Block]:
    """The fenced blocks of ``doc`` in order, each with its marker (if any)."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, language = opening.groups()
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != fence:
            end += 1
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        previous = lines[before] if before >= 0 and before == index - 1 else ""
        marked = _MARKER.match(previous)
        install = _INSTALL_MARKER.match(previous)
        text = "\n".join(lines[index + 1 : end]) + "\n"
        if install is not None:
            options = {"install-test": install.group(1)}
            found.append(Block(doc, index + 1, language, text, previous, "shell", options))
        elif marked is None:
            found.append(Block(doc, index + 1, language, text, None))
        else:
            kind, options = _parse_marker(marked.group(1))
            found.append(Block(doc, index + 1, language, text, marked.group(1), kind, options))
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    """The blocks of every tested document."""
    return [block for doc in documents() for block in blocks(doc)]


def group(doc: Path, name: str) -> list[Block]:
    """The blocks of group ``name`` in ``doc``, in order."""
    found = [block for block in blocks(doc) if block.group == name]
    assert found, f"no example group {name!r} in {doc.relative_to(ROOT)}"
    return found

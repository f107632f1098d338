"""The README's quick start and the runnable example work as written."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_quick_start_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    lines = code.group(1).strip().splitlines()
    assert len(lines) <= 12  # a quick start stays short
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})
    printed = out.getvalue()
    assert printed.startswith("P [ReportHeader(")
    assert "serial_number='SN-0001'" in printed


def test_readme_names_the_two_set_up_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)\n```", text.split("## Set up", 1)[1], re.S)[:2]
    assert len(commands) == 2
    assert all(c.startswith("python3 -m venv .venv && .venv/bin/pip install -e") for c in commands)
    assert commands[1].endswith(".venv/bin/python -m pytest")


def test_quickstart_example_script() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "result F" in done.stdout
    assert "Ripple: 0.08 V LE -> F" in done.stdout
    assert "header: SN-0001 Failed run 1" in done.stdout

"""The MES scripts in docs/examples, run as a user runs them: a separate process against the
emulator over TCP. Each script checks the server's answers itself and exits non-zero if one is
not what an MES would expect."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats.testing.pytest_plugin import EmulatorProcess, start_emulator

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def server() -> Iterator[EmulatorProcess]:
    running = start_emulator(token="mes-example-token")
    try:
        yield running
    finally:
        running.stop()


def run(script: str, server: EmulatorProcess) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--url", server.url, "--token", server.token],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_mes_production_line(server: EmulatorProcess) -> None:
    out = run("mes_production_line.py", server)
    assert "product CTRL-100: revisions A, B; BOM PCB-200 x2" in out
    assert "serial numbers 000001 … 000010" in out
    assert "unit 000001 assembled with 000002 and 000003: matches the BOM" in out
    assert "report 1 for 000001: Failed" in out
    assert "fixture FIX-ICT-7: 5 uses; calibrated, next due" in out
    # What the script did is on the server, seen from outside it.
    with server.admin() as admin:
        assert admin.get("/_emulator/reports").json()["count"] == 2


def test_quality_review(server: EmulatorProcess) -> None:
    out = run("quality_review.py", server)
    assert "submitted 50 reports of 40 boards" in out
    assert "PCBA-100: 40 units, 50 reports, first pass yield 75 %, last pass yield 100 %" in out
    assert "top failed step: 3V3 rail, failed in 10 reports" in out
    assert "ticket 1: solved and archived, attachment intact" in out
    assert "released with ict/limits.csv, ict/pcba100.tst" in out
    with server.admin() as admin:
        assert admin.get("/_emulator/reports").json()["count"] == 50

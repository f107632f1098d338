"""``pywats-station demo`` without ``--duration``: it says how to stop it and how to watch it.

The run with ``--duration`` (what it uploads) is in ``test_converters_daemon.py``; this one runs
it as the README does, until Ctrl-C, and follows the ``pywats-tui`` command it prints.
"""

from __future__ import annotations

import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pywats_station.control import BlockingClient, read_control_token
from pywats_station.demo import tui_command
from pywats_station.paths import instance_paths
from tests.station.e2e.harness import wait_for

pytestmark = pytest.mark.e2e

_TUI_LINE = re.compile(r"^terminal UI on this station \(in another terminal\): (.+)$")


class Lines:
    """The lines a process prints, read in a thread so that waiting for one has a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                self._lines.put(line.rstrip("\n"))
            self._lines.put(None)

        threading.Thread(target=read, daemon=True).start()

    def until(self, pattern: re.Pattern[str], seconds: float) -> re.Match[str]:
        """Read lines until one matches ``pattern``; fail after ``seconds`` or at the end."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError("the demo ended:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if found := pattern.match(line):
                return found
        raise AssertionError(f"no line like {pattern.pattern!r}:\n" + "\n".join(self.seen))

    def rest(self, seconds: float) -> list[str]:
        """Every line until the process's output ends (within ``seconds``)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            line = self._lines.get(timeout=left)
            if line is None:
                return self.seen
            self.seen.append(line)
        raise AssertionError("the output did not end:\n" + "\n".join(self.seen))


def test_the_demo_runs_until_ctrl_c_and_names_a_working_tui_command(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pywats_station", "demo", "--dir", str(tmp_path / "demo")]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            _follow(process, tmp_path)
        finally:
            if process.poll() is None:
                process.kill()


def _follow(process: subprocess.Popen[str], tmp_path: Path) -> None:
    lines = Lines(process)
    found = lines.until(_TUI_LINE, seconds=60)
    # It said how it stops before anything else happened.
    assert any("Ctrl-C to stop" in line for line in lines.seen[:3]), lines.seen

    program, *argv = shlex.split(found.group(1))
    assert Path(program).name == "pywats-tui"
    assert argv[0::2] == ["--url", "--token-file"]
    url, token_file = argv[1], Path(argv[3])
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+", url), url
    # The demo's own instance, its operator token: what an operator's TUI uses.
    env = {"PYWATS_STATION_HOME": str(tmp_path / "demo" / "home")}
    assert token_file == instance_paths("demo", env=env).control_token_file
    with BlockingClient(url, read_control_token(token_file), timeout=10) as client:
        ping = client.call("station.ping")
        assert (ping["authenticated"], ping["role"]) == (True, "operator")
        assert client.call("station.status")["instance"] == "demo"
        # What the TUI's screens ask answers too (the config names the token's file: the
        # channel refuses replies that contain a secret, so the token must not be a word of it).
        assert client.call("config.get", {"key": "server"})["value"]["token_file"]
        wait_for(lambda: bool(client.call("processes.list")["processes"]), what="processes")

    time.sleep(1.0)  # no --duration: still running
    assert process.poll() is None, "\n".join(lines.seen)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, "\n".join(lines.rest(5))
    output = lines.rest(5)
    assert re.fullmatch(r"[1-9]\d* reports uploaded", output[-1]), output
    assert not any("Traceback" in line for line in output), output


def test_the_tui_command_is_quoted_for_a_shell(tmp_path: Path) -> None:
    token_file = tmp_path / "a folder" / "control-token"
    command = tui_command("ws://127.0.0.1:4321", token_file)
    expected = ["--url", "ws://127.0.0.1:4321", "--token-file", str(token_file)]
    assert shlex.split(command)[1:] == expected

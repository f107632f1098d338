"""``pywats-tui`` as a command: which stations it shows, clear errors for bad arguments and
stations files, and a process that ends when its terminal goes away."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from pywats_station.tui.cli import UsageError, load_stations, main, specs_of
from pywats_station.tui.cli import _parser as parser


def specs(*argv: str) -> list[tuple[str | None, str | None, str | None]]:
    found = specs_of(parser().parse_args(list(argv)))
    return [(s.name, s.url, s.instance) for s in found]


def test_no_arguments_means_this_machines_default_instance() -> None:
    assert specs() == [(None, None, None)]


def test_several_stations_from_arguments(tmp_path: Path) -> None:
    token = tmp_path / "t"
    assert specs(
        "--instance",
        "a",
        "--url",
        "ws://10.0.0.7:8765",
        "--url",
        "wss://b.example:9000",
        "--token-file",
        str(token),
    ) == [
        (None, None, "a"),
        ("10.0.0.7:8765", "ws://10.0.0.7:8765", None),
        ("b.example:9000", "wss://b.example:9000", None),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://x:1"], "not a ws:// or wss:// URL"),
        (["--url", "ws://x:1"], "needs --token-file"),
        (
            [
                "--url",
                "ws://x:1",
                "--url",
                "ws://y:1",
                "--token-file",
                "a",
                "--token-file",
                "b",
                "--token-file",
                "c",
            ],
            "3 --token-file",
        ),
        (["--token-file", "a"], "--token-file is for a --url"),
        (["--url", "ws://x:1", "--url", "ws://x:1", "--token-file", "a"], "two stations"),
    ],
)
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        specs_of(parser().parse_args(argv))


def test_main_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "ws://x:1"]) == 2
    assert "pywats-tui: ws://x:1: a remote station needs --token-file" in capsys.readouterr().err


def test_stations_file(tmp_path: Path) -> None:
    path = tmp_path / "line.toml"
    path.write_text(
        '[[stations]]\nname = "ict"\nurl = "ws://10.0.0.7:8765"\ntoken_file = "ict.token"\n'
        '[[stations]]\nname = "here"\ninstance = "line-b"\n',
        encoding="utf-8",
    )
    [ict, here] = load_stations(path)
    assert (ict.name, ict.url, ict.token_file) == (
        "ict",
        "ws://10.0.0.7:8765",
        tmp_path / "ict.token",
    )
    assert (here.name, here.instance) == ("here", "line-b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no \\[\\[stations\\]\\]"),
        ("[[stations]\n", "line 1"),
        ('[[stations]]\nurl = "ws://x:1"\nport = 3\n', "stations\\[0\\]: unknown key 'port'"),
        ("[[stations]]\nurl = 5\n", "stations\\[0\\].url: must be a string"),
        ('[[stations]]\nurl = "ws://x:1"\n', "stations\\[0\\]: ws://x:1: a remote station"),
    ],
)
def test_bad_stations_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "line.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_stations(path)


def _start_in_a_terminal(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    token = tmp_path / "token"
    token.write_text("x" * 43 + "\n")
    token.chmod(0o600)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        # Nothing listens on port 9: the UI shows a station it cannot reach.
        [
            sys.executable,
            "-m",
            "pywats_station.tui",
            "--url",
            "ws://127.0.0.1:9",
            "--token-file",
            str(token),
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Uploads/min" not in seen:
        assert time.monotonic() < deadline, f"no dashboard: {seen[-300:]!r}"
        if select.select([master], [], [], 0.1)[0]:
            seen += os.read(master, 65536)
    return process, master


def test_the_ui_ends_when_its_terminal_goes_away(tmp_path: Path) -> None:
    process, master = _start_in_a_terminal(tmp_path)
    try:
        os.close(master)  # the SSH session dropped without a hang-up signal
        process.wait(10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode is not None


def test_a_hang_up_ends_the_ui(tmp_path: Path) -> None:
    process, master = _start_in_a_terminal(tmp_path)
    try:
        process.send_signal(signal.SIGHUP)
        process.wait(10)
    finally:
        os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_stations_file_in_the_docs_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "tui.md").read_text(encoding="utf-8")
    marker = "tests/tui/test_cli.py loads this very block -->\n```toml\n"
    text = doc[doc.index(marker) + len(marker) :].split("```", 1)[0]
    path = tmp_path / "line-3.toml"
    path.write_text(text, encoding="utf-8")
    stations = load_stations(path)
    assert [s.name for s in stations] == ["ict-01", "fct-02", "this one"]
    assert stations[0].cafile == tmp_path / "line-ca.pem"
    assert stations[1].token_file == tmp_path / "tokens" / "fct-02.token"
    assert stations[2].instance == "default"

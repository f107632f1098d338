"""The sd_notify protocol spoken to a real datagram socket, journald priorities, the unit file."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pywats_station.systemd import (
    JournalFormatter,
    Notifier,
    under_systemd,
    unit_file,
    watchdog_interval,
)


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_messages_reach_the_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("online; queue 0")
    assert sock.recv(4096) == b"READY=1\nSTATUS=online; queue 0"
    assert notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.status("two\nlines")
    assert sock.recv(4096) == b"STATUS=two lines"
    assert notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    notifier.close()


def test_abstract_namespace_socket() -> None:
    name = f"pywats-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
    try:
        assert notifier.ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        notifier.close()
        sock.close()


def test_without_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.ready()


def test_a_vanished_socket_never_raises(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert not notifier.watchdog()
    notifier.close()


def test_watchdog_interval() -> None:
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}) == 10.0
    assert watchdog_interval({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}) is None
    pid = str(os.getpid())
    assert watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": pid}) == 2.0
    assert watchdog_interval({"WATCHDOG_USEC": "junk"}) is None


def test_under_systemd() -> None:
    assert under_systemd({"INVOCATION_ID": "abc"})
    assert under_systemd({"JOURNAL_STREAM": "8:123"})
    assert not under_systemd({})


def test_journal_priorities_on_every_line() -> None:
    formatter = JournalFormatter()

    def fmt(level: int, msg: str) -> str:
        return formatter.format(logging.LogRecord("x", level, __file__, 1, msg, None, None))

    assert fmt(logging.ERROR, "boom") == "<3>x: boom"
    assert fmt(logging.WARNING, "w") == "<4>x: w"
    assert fmt(logging.INFO, "i") == "<6>x: i"
    assert fmt(logging.DEBUG, "d") == "<7>x: d"
    assert fmt(logging.CRITICAL, "a\nb") == "<2>x: a\n<2>b"


def test_unit_file() -> None:
    text = unit_file(instance="line2", user="tester", executable="/opt/venv/bin/pywats-station")
    assert "Type=notify" in text
    assert "WatchdogSec=60" in text
    assert "ExecStart=/opt/venv/bin/pywats-station --instance line2 run" in text
    # The base folder every instance shares, as root uses it without systemd (paths.py).
    assert "\nStateDirectory=pywats-station\n" in text
    assert "User=tester" in text
    # Above the 1024 default, and the value the daemon raises its own soft limit to.
    assert "\nLimitNOFILE=8192\n" in text

"""pytest fixtures for testing code that talks to WATS.

Enable them in a ``conftest.py``::

    pytest_plugins = ["pywats.testing.pytest_plugin"]

Fixtures:

* ``fake_wats``: a fresh in-process :class:`~pywats.testing.FakeWATS` (token ``test-token``).
* ``wats``: a blocking :class:`~pywats.pyWATS` wired to ``fake_wats``.
* ``async_wats``: an :class:`~pywats.AsyncWATS` wired to ``fake_wats``; works in trio and asyncio
  tests alike (it holds no sockets, so it needs no async teardown).
* ``wats_server``: the emulator as a real process over TCP (``url``, ``token``, ``admin()``),
  for code that must speak real HTTP; one per test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pywats import AsyncWATS, RetryPolicy, pyWATS
from pywats.testing._emulator import FakeWATS

__all__ = ["EmulatorProcess", "async_wats", "fake_wats", "start_emulator", "wats", "wats_server"]

TOKEN = "test-token"
BASE_URL = "http://wats.test"


@pytest.fixture
def fake_wats() -> Iterator[FakeWATS]:
    """A fresh in-process emulator."""
    emulator = FakeWATS(TOKEN)
    yield emulator
    emulator.close()


@pytest.fixture
def wats(fake_wats: FakeWATS) -> Iterator[pyWATS]:
    """A blocking client talking to ``fake_wats`` (no retry waits)."""
    with pyWATS(BASE_URL, TOKEN, transport=fake_wats, retry=RetryPolicy(base_delay=0.0)) as api:
        yield api


@pytest.fixture
def async_wats(fake_wats: FakeWATS) -> AsyncWATS:
    """An async client talking to ``fake_wats`` (no retry waits)."""
    return AsyncWATS(BASE_URL, TOKEN, transport=fake_wats, retry=RetryPolicy(base_delay=0.0))


@dataclass
class EmulatorProcess:
    """An emulator served over TCP by ``python -m pywats.testing serve``."""

    process: subprocess.Popen[str]
    url: str
    token: str

    def admin(self) -> httpx.Client:
        """An httpx client for the admin routes (``/_emulator/faults`` …)."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Basic {self.token}"}, timeout=10
        )

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the server and wait for it; returns its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


def start_emulator(
    *,
    token: str = TOKEN,
    data_dir: Path | None = None,
    strict: bool = False,
    admin: bool = True,
    port: int = 0,
    timeout: float = 30.0,
    read_timeout: float | None = None,
    max_body: int | None = None,
    tls: tuple[Path, Path] | None = None,
) -> EmulatorProcess:
    """Start the emulator process and wait until it accepts connections.

    ``read_timeout`` and ``max_body`` are the server's ``--read-timeout``/``--max-body``
    (``None``: its defaults); ``tls`` (certificate file, key file) serves HTTPS.
    """
    args = [sys.executable, "-m", "pywats.testing", "serve", "--port", str(port), "--token", token]
    if tls is not None:
        args += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    if read_timeout is not None:
        args += ["--read-timeout", str(read_timeout)]
    if max_body is not None:
        args += ["--max-body", str(max_body)]
    if data_dir is not None:
        args += ["--data", str(data_dir)]
    if strict:
        args.append("--strict")
    if admin:
        args.append("--admin")
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise RuntimeError("the emulator did not start in time")
    line = process.stdout.readline().strip()
    prefix = "serving WATS emulator on "
    if not line.startswith(prefix):
        process.kill()
        raise RuntimeError(f"unexpected emulator output: {line!r}")
    return EmulatorProcess(process, line[len(prefix) :], token)


@pytest.fixture
def wats_server(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """The emulator over TCP (admin routes on), stopped after the test."""
    server = start_emulator()
    try:
        yield server
    finally:
        server.stop()

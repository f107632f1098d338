"""The accept loop: out of descriptors pauses accepting, says so once, never stops the server."""

from __future__ import annotations

import errno
import logging
import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import trio
import trio.testing

from pywats_station.control._accept import serve_listeners


class ScriptedListener(trio.abc.Listener[trio.abc.Stream]):
    """A listener whose ``accept`` follows a script: an errno raises, a stream is returned."""

    def __init__(self, script: list[int | trio.abc.Stream]) -> None:
        self.script = script
        self.closed = False

    async def accept(self) -> trio.abc.Stream:
        await trio.lowlevel.checkpoint()
        if not self.script:
            await trio.sleep_forever()
        step = self.script.pop(0)
        if isinstance(step, int):
            raise OSError(step, os.strerror(step))
        return step

    async def aclose(self) -> None:
        self.closed = True


def _stream() -> trio.abc.Stream:
    return trio.testing.memory_stream_pair()[1]


@pytest.mark.trio
async def test_running_out_of_descriptors_is_logged_once_per_outage(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """trio.serve_listeners logs an error with a traceback every 0.1 s meanwhile."""
    caplog.set_level(logging.DEBUG)
    first, second = _stream(), _stream()
    listener = ScriptedListener(
        [*[errno.EMFILE] * 50, first, *[errno.ENFILE] * 30, errno.ENOBUFS, second]
    )
    served: list[trio.abc.Stream] = []

    async def handler(stream: trio.abc.Stream) -> None:
        served.append(stream)

    async with trio.open_nursery() as nursery:
        await nursery.start(serve_listeners, handler, [listener])
        await trio.sleep(120)
        nursery.cancel_scope.cancel()
    assert served == [first, second]
    assert listener.closed
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "control channel cannot accept connections: EMFILE (Too many open files); new clients "
        "wait until descriptors are free again (logged once)",
        "control channel cannot accept connections: ENFILE (Too many open files in system); "
        "new clients wait until descriptors are free again (logged once)",
    ]
    recovered = [r.getMessage() for r in caplog.records if "accepts connections again" in r.msg]
    assert len(recovered) == 2
    assert recovered[1].endswith("(31 failed accepts)")
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


@pytest.mark.trio
async def test_other_accept_errors_end_the_loop() -> None:
    listener = ScriptedListener([errno.EBADF])

    async def handler(stream: trio.abc.Stream) -> None:
        raise AssertionError("nothing to serve")  # pragma: no cover

    failed = pytest.RaisesGroup(
        pytest.RaisesExc(OSError, match="Bad file descriptor"), flatten_subgroups=True
    )
    with failed:
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_listeners, handler, [listener])
    assert listener.closed


_SERVER = textwrap.dedent(
    """
    import logging, os, resource, sys
    from functools import partial
    import trio
    from pywats_station.control import Registry
    from pywats_station.control.server import serve_control

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    async def main():
        async with trio.open_nursery() as nursery:
            port = await nursery.start(partial(
                serve_control, Registry(), port=0, token="t" * 32))
            hogs = []
            try:
                while True:  # something else takes every descriptor left
                    hogs.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                pass
            print(port, flush=True)
            await trio.to_thread.run_sync(sys.stdin.readline)  # the test: "free them"
            for fd in hogs:
                os.close(fd)
            await trio.to_thread.run_sync(sys.stdin.readline)  # the test: "stop"
            nursery.cancel_scope.cancel()

    trio.run(main)
    """
)


def _read_until(stream: Any, text: str, most: int = 100) -> list[str]:
    """The server's log lines up to one holding ``text``; fails after ``most`` other lines."""
    lines: list[str] = []
    while len(lines) < most:
        line = stream.readline()
        assert line, f"the server ended before saying {text!r}: {lines}"
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{most} log lines without {text!r}: {''.join(lines[-10:])}")


_HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is POSIX")
def test_a_real_emfile_waits_and_then_serves() -> None:
    """The real process out of descriptors: clients wait in the backlog, then get in."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    assert server.stderr is not None
    try:
        port = int(server.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            before = _read_until(server.stderr, "cannot accept")  # the kernel took it, we wait
            client.sendall(_HANDSHAKE)
            server.stdin.write("free\n")
            server.stdin.flush()
            answer = client.recv(4096)
            assert answer.startswith(b"HTTP/1.1 101 ")  # served once descriptors were free
        after = _read_until(server.stderr, "accepts connections")
        rest, _ = server.communicate("stop\n", timeout=30)
        log = "".join(before + after)
        assert log.count("cannot accept connections: EMFILE") == 1
        # A quarter of 256 cannot hold the default pools: they were shrunk, and it says so.
        assert "the open file limit (256) leaves the control channel 64 descriptors" in log
        assert "Traceback" not in log + rest
        assert server.returncode == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

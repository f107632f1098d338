"""Serve the emulator over TCP with hypercorn on trio (``python -m pywats.testing serve``).

A ``down`` fault really closes the listening socket for its duration (clients get "connection
refused"), then the server binds the same port again.

Slow and silent clients cannot hold the server: hypercorn closes a connection that has not sent
complete request headers within the emulator's ``read_timeout`` (its keep-alive timeout, which
runs from the connection's start and between requests), and the application answers 408 to a
body that does not arrive within the same time (:mod:`pywats.testing._asgi`). Each connection is
its own task, so a stuck one never delays another.
"""

from __future__ import annotations

import logging
import signal
import sys
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio import serve as hypercorn_serve

from pywats.testing._asgi import Dropped
from pywats.testing._emulator import FakeWATS

__all__ = ["serve"]

_POLL = 0.05


class _QuietDrops(logging.Filter):
    """Hide hypercorn's traceback for connections dropped on purpose by a ``drop`` fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, Dropped)


_errorlog = logging.getLogger("pywats.testing.hypercorn")
_errorlog.addFilter(_QuietDrops())


def _config(host: str, port: int, read_timeout: float, tls: tuple[str, str] | None) -> Config:
    config = Config()
    config.bind = [f"{host}:{port}"]
    if tls is not None:  # a certificate of a private CA: tests of clients' ca_file settings
        config.certfile, config.keyfile = tls
    config.graceful_timeout = 0.5
    # The idle timer runs until a request's headers are complete, so it also bounds a client
    # that connects and sends nothing, or trickles its headers. (hypercorn's own read_timeout
    # is not used: it would also cut off answers held back by a latency fault.)
    config.keep_alive_timeout = read_timeout
    config.accesslog = None
    config.errorlog = _errorlog
    return config


async def serve(
    emulator: FakeWATS,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    announce: bool = True,
    tls: tuple[str, str] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``emulator`` until SIGTERM/SIGINT (or cancellation); report the bound port.

    Prints ``serving WATS emulator on http://HOST:PORT`` (``https://`` with ``tls``, a PEM
    certificate chain file and its key file) once it accepts connections.
    """
    stopping = trio.Event()
    started = False
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:

            async def watch_signals() -> None:
                async for _ in signals:
                    stopping.set()
                    return

            nursery.start_soon(watch_signals)
            while not stopping.is_set():
                pause = emulator.faults.down_for()
                if pause > 0:
                    with trio.move_on_after(pause):
                        await stopping.wait()
                    continue
                shutdown = trio.Event()
                async with trio.open_nursery() as inner:
                    binds = await inner.start(
                        partial(
                            hypercorn_serve,
                            emulator,  # type: ignore[arg-type]  # hypercorn's ASGI types are narrower
                            _config(host, port, emulator.read_timeout, tls),
                            shutdown_trigger=shutdown.wait,
                        )
                    )
                    if not started:
                        port = int(binds[0].rsplit(":", 1)[1])
                        started = True
                        if announce:
                            scheme = "https" if tls else "http"
                            print(f"serving WATS emulator on {scheme}://{host}:{port}", flush=True)
                        task_status.started(port)
                    while not stopping.is_set() and emulator.faults.down_for() <= 0:
                        with trio.move_on_after(_POLL):
                            await stopping.wait()
                    shutdown.set()
            nursery.cancel_scope.cancel()
    emulator.close()
    if announce:
        print("WATS emulator stopped", file=sys.stderr, flush=True)

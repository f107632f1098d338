"""The control channel's accept loop: out of descriptors means "not now", never "stop".

:func:`trio.serve_listeners` already survives ``EMFILE`` and friends on ``accept``, but logs
an error with a traceback every 0.1 s for as long as they last: thousands of journal lines
while something else has used the descriptors up. :func:`serve_listeners` here does the same
job and says it once: one error line when accepting stops working, one line with the duration
and the count when it works again. Meanwhile new connections wait in the kernel's listen
backlog (and the pause grows to 1 s, so the loop does not spin).

Any other error from ``accept`` ends the loop (the control actor logs it and starts again).
"""

from __future__ import annotations

import errno
import logging
import math
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, NoReturn

import trio

__all__ = ["CAPACITY_ERRNOS", "defer_accept", "serve_listeners"]

log = logging.getLogger("pywats_station.control")

CAPACITY_ERRNOS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
"""What ``accept`` answers when the process or the system is out of something: temporary."""
FIRST_PAUSE: Final = 0.1
MAX_PAUSE: Final = 1.0

Handler = Callable[[Any], Awaitable[object]]


class _Outage:
    """Accepting does not work since ``since``; ``failures`` attempts so far."""

    def __init__(self, since: float) -> None:
        self.since = since
        self.failures = 0
        self.pause = FIRST_PAUSE


async def serve_listeners(
    handler: Handler,
    listeners: Sequence[trio.abc.Listener[Any]],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Accept connections on ``listeners`` and run ``handler(stream)`` for each, until cancelled.

    The handler owns the stream (it must close it) and must not raise: one client's failure
    would otherwise end every connection. The listeners are closed on the way out.

    Raises:
        OSError: ``accept`` failed for another reason than a lack of resources.
    """
    async with trio.open_nursery() as nursery:
        for listener in listeners:
            nursery.start_soon(_accept_loop, listener, handler, nursery)
        task_status.started()
        await trio.sleep_forever()
    raise AssertionError("unreachable")  # pragma: no cover - sleep_forever never returns


async def _accept_loop(
    listener: trio.abc.Listener[Any], handler: Handler, nursery: trio.Nursery
) -> None:
    outage: _Outage | None = None
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                if exc.errno not in CAPACITY_ERRNOS:
                    raise
                if outage is None:
                    outage = _Outage(trio.current_time())
                    log.error(
                        "control channel cannot accept connections: %s (%s); new clients "
                        "wait until descriptors are free again (logged once)",
                        errno.errorcode.get(exc.errno or 0, exc.errno),
                        os.strerror(exc.errno or 0),
                    )
                outage.failures += 1
                await trio.sleep(outage.pause)
                outage.pause = min(MAX_PAUSE, outage.pause * 2)
                continue
            if outage is not None:
                log.warning(
                    "control channel accepts connections again after %.1f s (%d failed accepts)",
                    trio.current_time() - outage.since,
                    outage.failures,
                )
                outage = None
            nursery.start_soon(handler, stream)


def defer_accept(listener: trio.abc.Listener[Any], seconds: float) -> None:
    """Have the kernel hand over a connection only once its client has sent something.

    ``TCP_DEFER_ACCEPT`` (Linux): a client that connects and says nothing stays in the
    kernel's queue of half-open connections, holding none of our descriptors, for up to
    ``seconds``; a real client's first bytes (its handshake, a TLS hello) come at once. What
    still comes in silent meets the pending pool. Elsewhere this does nothing.
    """
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    if isinstance(listener, trio.SSLListener):
        listener = listener.transport_listener
    if option is None or not isinstance(listener, trio.SocketListener):
        return
    try:
        listener.socket.setsockopt(socket.IPPROTO_TCP, option, max(1, math.ceil(seconds)))
    except OSError as exc:  # pragma: no cover - an exotic kernel: the pools still hold
        log.debug("TCP_DEFER_ACCEPT not set: %s", exc)

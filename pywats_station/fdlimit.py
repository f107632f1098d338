"""The daemon's file descriptor limit: raised at start, and shared out so no part starves.

Linux starts services with a soft ``RLIMIT_NOFILE`` of 1024 (systemd's default, kept low for
programs that still use ``select()``, which cannot watch descriptors above 1023) and a much
higher hard limit. The station's own descriptors are few: the queue's files one at a time, a
few per upload worker and per converter (its watcher, the file being read), a child process's
pipes, the control channel's clients. But a watch folder flooded by a test line, or many
clients, can take hundreds, and running out is how a daemon stops working.

So :func:`raise_limit` lifts the soft limit towards :data:`TARGET` (never above the hard
limit, never down) when the daemon starts, and the control channel takes at most
:data:`CONTROL_SHARE` of what there is (:func:`control_budget`): the queue, the converters
and the uploads always keep the rest. The daemon itself never calls ``select()``; a user
converter's child process inherits the raised limit.

On systems without ``RLIMIT_NOFILE`` (Windows) these do nothing.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["CONTROL_SHARE", "TARGET", "control_budget", "raise_limit", "soft_limit"]

log = logging.getLogger("pywats_station.fdlimit")

TARGET: Final = 8192
"""The soft limit the daemon asks for: far above what it needs, far below kernel maxima."""
CONTROL_SHARE: Final = 0.25
"""The part of the soft limit the control channel's clients may hold at most."""

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]


def soft_limit() -> int | None:
    """The current soft limit on open descriptors; ``None`` if unlimited or unknown."""
    if resource is None:  # pragma: no cover - Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_limit(target: int = TARGET) -> int | None:
    """Raise the soft descriptor limit to ``target`` (at most the hard limit); never lower it.

    Args:
        target: The soft limit wanted.

    Returns:
        The soft limit now (``None``: unlimited or unknown).
    """
    if resource is None:  # pragma: no cover - Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open file limit from %d to %d: %s", soft, wanted, exc)
        else:
            log.info("open file limit raised from %d to %d (hard limit %s)", soft, wanted, hard)
    return soft_limit()


def control_budget(limit: int | None = None) -> int | None:
    """Descriptors the control channel's clients may hold (``limit``: the current soft limit).

    ``None`` when there is no limit to share.
    """
    limit = soft_limit() if limit is None else limit
    return None if limit is None else int(limit * CONTROL_SHARE)

"""Old names kept working for a while: each warns once, naming what to use instead.

Scripts written for the predecessor client (``pywats-api``) call names this library spells
differently (``docs/migrating.md``). An alias does the same thing under the old name and emits one
``DeprecationWarning`` per name and process: enough to be seen, never a flood in a loop.
"""

from __future__ import annotations

import threading
import warnings

__all__ = ["warn_renamed"]

_warned: set[str] = set()
_lock = threading.Lock()


def warn_renamed(old: str, new: str, *, stacklevel: int = 2, note: str = "") -> None:
    """Warn, once per ``old`` name, that ``old`` is deprecated in favour of ``new``.

    Args:
        old: the deprecated name, as the caller wrote it (``api.report.query_uut_headers``).
        new: what to write instead.
        stacklevel: as for :func:`warnings.warn`, counted from the caller of this function.
        note: what else differs, appended to the message.
    """
    with _lock:  # two threads calling the alias at once still warn once
        if old in _warned:
            return
        _warned.add(old)
    message = f"{old} is deprecated; use {new}" + (f" ({note})" if note else "")
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel + 1)


def _forget() -> None:
    """Warn again for every name (for tests)."""
    with _lock:
        _warned.clear()

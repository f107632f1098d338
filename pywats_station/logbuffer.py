"""The daemon's recent log records, in memory: ``logs.tail`` and the ``log_record`` event.

:class:`LogBuffer` is a :class:`logging.Handler` the daemon installs on the root logger. It keeps
the last ``capacity`` records (a ring buffer) and, once :meth:`LogBuffer.attach` ed to the
daemon's trio loop, hands each new record to a publisher (the control hub) on that loop.

Rules it keeps:

* **thread-safe**: converters, queue operations and uploads log from worker threads; records
  are appended under the handler's lock and published through
  ``TrioToken.run_sync_soon``, which may be called from any thread and never blocks;
* **no feedback loop**: records of the ``pywats_station.control`` loggers (the control
  channel's own, e.g. "client dropped", "event not sent: it contains a secret") are neither
  kept nor published, or publishing a record could log a record to publish, and so on;
* **always encodable**: a message quoting a file name that is not UTF-8 carries lone
  surrogates; they are kept as ``\\udcff`` escapes, so the record can always be sent as JSON;
* **no secrets**: registered secrets (the API token, the control token) are replaced by
  ``***`` before a record is kept, so neither a tail nor an event can carry them.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Collection
from typing import Final

import trio

from pywats_station.control.events import LogLevel, LogRecord

__all__ = ["CONTROL_LOGGER", "LogBuffer", "level_name"]

CONTROL_LOGGER: Final = "pywats_station.control"
"""Records of this logger and its children are never kept (see the module docstring)."""
DEFAULT_CAPACITY: Final = 2000
_MIN_SECRET = 8  # shorter "secrets" would mask harmless text

_LEVELS: Final[dict[LogLevel, int]] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def level_name(levelno: int) -> LogLevel:
    """The control channel's name for a numeric level (custom levels round down)."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    return "info" if levelno >= logging.INFO else "debug"


class LogBuffer(logging.Handler):
    """The last ``capacity`` log records, published as they come; see the module docstring.

    Args:
        capacity: How many records to keep.
        secrets: Strings to mask as ``***`` in every record.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, secrets: Collection[str] = ()):
        super().__init__(logging.NOTSET)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._records: collections.deque[LogRecord] = collections.deque(maxlen=capacity)
        self._secrets: tuple[str, ...] = ()
        self._token: trio.lowlevel.TrioToken | None = None
        self._publish: Callable[[LogRecord], None] | None = None
        self._formatter = logging.Formatter()
        self.add_secrets(secrets)

    def add_secrets(self, values: Collection[str]) -> None:
        """Mask these strings too (empty and very short values are ignored)."""
        with self.lock_held():
            extra = {value for value in values if len(value) >= _MIN_SECRET}
            # Longest first: a secret containing another is masked whole.
            self._secrets = tuple(sorted(set(self._secrets) | extra, key=len, reverse=True))

    def attach(self, token: trio.lowlevel.TrioToken, publish: Callable[[LogRecord], None]) -> None:
        """Publish each new record with ``publish``, called on the trio loop of ``token``."""
        with self.lock_held():
            self._token, self._publish = token, publish

    def detach(self) -> None:
        """Stop publishing (the loop is ending); records are still kept."""
        with self.lock_held():
            self._token = self._publish = None

    def emit(self, record: logging.LogRecord) -> None:
        """Keep (and publish) one record; called by :mod:`logging` with the handler's lock."""
        name = record.name
        if name == CONTROL_LOGGER or name.startswith(CONTROL_LOGGER + "."):
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += "\n" + self._formatter.formatException(record.exc_info)
            elif record.exc_text:
                message += "\n" + record.exc_text
            for secret in self._secrets:
                message = message.replace(secret, "***")
            if not message.isascii():
                # A lone surrogate (a file name that is not UTF-8, quoted by a converter or an
                # exception) cannot be encoded: the event would fail on the loop, for everyone.
                message = message.encode("utf-8", "backslashreplace").decode("utf-8")
            event = LogRecord(
                time=record.created, level=level_name(record.levelno), logger=name, message=message
            )
        except Exception:  # a bad format string must not break the caller's logging call
            self.handleError(record)
            return
        self._records.append(event)
        token, publish = self._token, self._publish
        if token is not None and publish is not None:
            try:
                # Deferred even on the loop's own thread: the record may come from inside the
                # hub or a supervisor, which must not be re-entered mid-operation.
                token.run_sync_soon(publish, event)
            except trio.RunFinishedError:
                self._token = self._publish = None

    def tail(self, lines: int = 100, level: LogLevel = "debug") -> list[LogRecord]:
        """The latest ``lines`` records at ``level`` or above, oldest first."""
        threshold = _LEVELS[level]
        with self.lock_held():
            records = list(self._records)
        wanted = [r for r in records if _LEVELS[r.level] >= threshold]
        return wanted[-lines:] if lines > 0 else []

    def lock_held(self) -> _Locked:
        """The handler's own lock (the one :mod:`logging` holds around :meth:`emit`)."""
        return _Locked(self)

    def __len__(self) -> int:
        return len(self._records)


class _Locked:
    """``with buffer.lock_held():``: the handler's (re-entrant) lock as a context manager."""

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = handler

    def __enter__(self) -> None:
        self._handler.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._handler.release()

"""Checking ``api.production`` arguments before anything is sent, and reading upload files.

A wrong argument becomes a :class:`~pywats.models.production.InvalidArgumentError` naming the
parameter, instead of a request the server would refuse (or an httpx/msgspec exception).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx

from pywats._call import Call, QueryValue
from pywats._errors import InvalidArgumentError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Upload",
    "date_param",
    "int_param",
    "no_result",
    "optional_text",
    "read_upload",
    "text_param",
]

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""The largest serial-number file sent. WATS servers run behind IIS, whose default request limit
is 30,000,000 bytes; the multipart envelope needs a little room."""

Upload = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
"""A file to upload: its bytes, a path (``str`` or :class:`~pathlib.Path`), or a binary file."""


def text_param(name: str, value: object, *, empty: bool = False) -> str:
    """``value`` as a query/path text, or :class:`InvalidArgumentError` naming ``name``."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be text, not {type(value).__name__}")
    if not empty and not value.strip():
        raise InvalidArgumentError(f"{name} must not be empty")
    return value


def optional_text(name: str, value: object) -> str | None:
    """Like :func:`text_param`, ``None`` passing through."""
    return None if value is None else text_param(name, value)


def int_param(name: str, value: object, *, minimum: int | None = None) -> int:
    """``value`` as an int (never a bool), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an integer, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, not {value}")
    if not -(2**31) <= value < 2**31:
        raise InvalidArgumentError(f"{name} must fit in 32 bits, not {value}")
    return value


def date_param(name: str, value: object) -> str | None:
    """A date-time query value (ISO 8601), ``None`` passing through."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidArgumentError(f"{name} must be a datetime, not {type(value).__name__}")
    return value.isoformat()


def no_result(
    method: str, path: str, params: Mapping[str, QueryValue | None] | None = None
) -> Call[None]:
    """A call whose answer carries nothing the caller needs (the server says only "object")."""

    def parse(response: httpx.Response) -> None:
        return None

    return Call(method=method, path=path, parse=parse, params=params)


def read_upload(file: Upload, what: str, limit: int | None = None) -> tuple[bytes, str]:
    """The bytes of ``file`` and a file name for it, read at most ``limit`` bytes.

    ``limit`` is :data:`MAX_UPLOAD_BYTES` unless given (looked up at each call).

    The client sends a request body whole (``pywats._call.Call`` holds bytes), so the file is
    read into memory; reading stops one byte past ``limit``: a larger file is refused, never read
    to its end.

    Raises:
        InvalidArgumentError: not bytes, a path or a binary file; unreadable; or too large.
    """
    if limit is None:
        limit = MAX_UPLOAD_BYTES
    name = what
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    elif isinstance(file, str | os.PathLike):
        path = Path(file)
        name = path.name
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read {what} {str(path)!r}: {exc}") from exc
    elif hasattr(file, "read"):
        name = Path(str(getattr(file, "name", what))).name or what
        try:
            chunk: Any = file.read(limit + 1)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"cannot read {what}: {exc}") from exc
        if not isinstance(chunk, bytes | bytearray):
            raise InvalidArgumentError(
                f"{what} must be opened in binary mode (read gave {type(chunk).__name__})"
            )
        data = bytes(chunk)
    else:
        raise InvalidArgumentError(
            f"{what} must be bytes, a path or a binary file, not {type(file).__name__}"
        )
    if len(data) > limit:
        raise InvalidArgumentError(
            f"{what} is larger than {limit:,} bytes, more than the server accepts in one upload"
        )
    return data, name

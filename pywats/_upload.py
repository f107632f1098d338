"""Files handed to an upload operation: bytes, a path or a binary file object, read with a limit.

A :class:`~pywats._call.Call` carries its body as bytes (it must be sendable again when a retry
is allowed), so an upload is read into memory once. The limit is checked *before* reading where
the size is known (a path, a seekable file), so a file too large is refused without being read.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import BinaryIO

import httpx

from pywats._errors import InvalidArgumentError

__all__ = ["UploadSource", "multipart_body", "read_upload"]

UploadSource = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""What an upload accepts: the content, a path to a file, or a file object opened in binary mode."""


def _too_large(size: int, limit: int, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{what} is {size:,} bytes; the limit is {limit:,} bytes (max_size): nothing was sent"
    )


def _read_path(path: Path, max_size: int | None, what: str) -> bytes:
    try:
        if not path.is_file():
            raise InvalidArgumentError(f"{what}: {path} is not a file")
        size = path.stat().st_size
        if max_size is not None and size > max_size:
            raise _too_large(size, max_size, what)
        return path.read_bytes()
    except OSError as exc:
        raise InvalidArgumentError(f"{what}: cannot read {path}: {exc}") from exc


def _remaining(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable stream, without reading them; ``None`` when unknown."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
    except (OSError, ValueError):
        return None
    return max(end - here, 0)


def _read_stream(stream: BinaryIO, max_size: int | None, what: str) -> bytes:
    left = _remaining(stream)
    if max_size is not None and left is not None and left > max_size:
        raise _too_large(left, max_size, what)
    try:
        # One byte more than allowed tells a stream of unknown length that is too long.
        data = stream.read() if max_size is None else stream.read(max_size + 1)
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"{what}: cannot read the file object: {exc}") from exc
    if not isinstance(data, bytes | bytearray):
        raise InvalidArgumentError(
            f"{what}: the file object gave {type(data).__name__}, not bytes (open it with 'rb')"
        )
    if max_size is not None and len(data) > max_size:
        raise InvalidArgumentError(
            f"{what} is more than {max_size:,} bytes (max_size): nothing was sent"
        )
    return bytes(data)


def read_upload(
    source: UploadSource,
    filename: str | None,
    *,
    max_size: int | None,
    what: str = "the file",
) -> tuple[bytes, str]:
    """The content and file name of an upload.

    Args:
        source: the content (bytes), a path, or a binary file object (read from where it is).
        filename: the name to upload under; by default the path's or file object's name.
        max_size: the most bytes accepted (``None``: no limit).
        what: how error messages name the upload.

    Raises:
        InvalidArgumentError: not one of the accepted kinds, unreadable, without a name when
            one is needed, or larger than ``max_size``.
    """
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise InvalidArgumentError(f"{what}: filename must be a non-empty str, not {filename!r}")
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if max_size is not None and len(data) > max_size:
            raise _too_large(len(data), max_size, what)
        if filename is None:
            raise InvalidArgumentError(f"{what}: give a filename with content passed as bytes")
        return data, filename
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return _read_path(path, max_size, what), filename or path.name
    if callable(getattr(source, "read", None)):
        data = _read_stream(source, max_size, what)
        name = getattr(source, "name", None)
        fallback = os.path.basename(name) if isinstance(name, str) else None
        if filename is None and not fallback:
            raise InvalidArgumentError(f"{what}: the file object has no name; give a filename")
        return data, filename or fallback or ""
    raise InvalidArgumentError(
        f"{what} must be bytes, a path or a binary file object, not {type(source).__name__}"
    )


def multipart_body(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body holding one file part; returns it and its content type.

    httpx writes the part (the file name escaped as browsers do, RFC 7578); the part's content
    type is guessed from the file name.
    """
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    request = httpx.Request(
        "POST", "http://upload.invalid/", files={field: (filename, data, content_type)}
    )
    return request.read(), request.headers["Content-Type"]

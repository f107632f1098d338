"""Files handed to an upload operation: bytes, a path or a binary file object, read with a limit.

:func:`multipart_upload` streams a path or a seekable file object (a
:class:`~pywats._body.StreamBody`, read again from the file on a retry); bytes, and file objects
that cannot seek, are read into memory (:func:`read_upload`). The limit is checked *before*
reading where the size is known (a path, a seekable file), so a file too large is refused
without being read.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import BinaryIO

import httpx

from pywats._body import StreamBody, file_part
from pywats._errors import InvalidArgumentError

__all__ = ["UploadSource", "multipart_body", "multipart_upload", "read_upload"]

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


def multipart_upload(
    field: str,
    source: UploadSource,
    filename: str | None,
    *,
    max_size: int | None,
    what: str = "the file",
    part_type: str | None = None,
) -> tuple[bytes | StreamBody, str, str]:
    """A ``multipart/form-data`` body with one file part, streamed from a path or a seekable
    file object (never read into memory), built in memory from bytes or a file object that
    cannot seek.

    Args:
        field: the form field's name.
        source, filename, max_size, what: as :func:`read_upload`.
        part_type: the part's content type (default: guessed from the file name).

    Returns:
        The body, the request's ``Content-Type`` (with its boundary) and the file's name.

    Raises:
        InvalidArgumentError: as :func:`read_upload`; the limit is checked before anything is
            read.
    """
    part = None
    if not isinstance(source, bytes | bytearray | memoryview) and (
        isinstance(source, str | os.PathLike) or callable(getattr(source, "read", None))
    ):
        part = file_part(source, what)
    if part is None:  # bytes, or a file object that cannot seek: read (bounded) into memory
        data, name = read_upload(source, filename, max_size=max_size, what=what)
        kind = part_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        request = httpx.Request("POST", "http://upload.invalid/", files={field: (name, data, kind)})
        return request.read(), request.headers["Content-Type"], name
    if max_size is not None and part.size > max_size:
        raise _too_large(part.size, max_size, what)
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise InvalidArgumentError(f"{what}: filename must be a non-empty str, not {filename!r}")
    name = filename or _source_name(source)
    if not name:
        raise InvalidArgumentError(f"{what}: the file object has no name; give a filename")
    kind = part_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    # httpx writes the framing (boundary, escaped name) around an empty part; the file goes
    # between its headers and the closing boundary.
    empty = httpx.Request("POST", "http://upload.invalid/", files={field: (name, b"", kind)})
    framing = empty.read()
    split = framing.index(b"\r\n\r\n") + 4
    body = StreamBody([framing[:split], part, framing[split:]])
    return body, empty.headers["Content-Type"], name


def _source_name(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) else ""

"""File uploads as ``multipart/form-data`` bodies, and reading what a caller hands over.

The server's upload operations (a software package's zip, …) take one file part. A caller may
give the file as bytes, a path, or a binary file object; :func:`read_upload` reads it once, and
refuses one larger than the limit before reading it where its size is known.

The body is built in memory: a :class:`~pywats._call.Call` carries its content as ``bytes`` (it is
re-sent as is on a retry and serves the blocking and the async client alike), so an upload is
held in memory while it is sent.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

from pywats._errors import InvalidArgumentError

__all__ = ["UploadSource", "form_data", "read_upload"]

UploadSource = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
"""A file to upload: its content, its path, or a binary file object open for reading."""


def _too_large(size: int | str, limit: int, what: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{what} is {size:,} bytes; the limit is {limit:,} bytes (max_size): nothing was sent"
        if isinstance(size, int)
        else f"{what} is {size} {limit:,} bytes (max_size): nothing was sent"
    )


def read_upload(
    source: UploadSource, default_name: str, *, max_size: int | None, what: str
) -> tuple[bytes, str]:
    """The content of ``source`` and a file name for it (the path's, else ``default_name``).

    Raises:
        InvalidArgumentError: ``source`` is none of the accepted kinds (a file object in text
            mode too), cannot be read, or is larger than ``max_size`` bytes.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        if max_size is not None and len(source) > max_size:
            raise _too_large(len(source), max_size, what)
        data = bytes(source)
        name = default_name
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            if max_size is not None and size > max_size:
                raise _too_large(size, max_size, what)
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidArgumentError(f"{what}: cannot read {path}: {exc}") from exc
        name = path.name or default_name
    elif callable(getattr(source, "read", None)):
        try:
            # One byte more than allowed tells a stream of unknown length that is too long.
            data = source.read() if max_size is None else source.read(max_size + 1)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"{what}: cannot read the file object: {exc}") from exc
        if not isinstance(data, bytes | bytearray):
            raise InvalidArgumentError(
                f"{what}: the file object gave {type(data).__name__}, not bytes: "
                "open it in binary mode ('rb')"
            )
        data = bytes(data)
        file_name = getattr(source, "name", None)
        name = Path(file_name).name if isinstance(file_name, str) and file_name else default_name
    else:
        raise InvalidArgumentError(
            f"{what} must be bytes, a path or a binary file object, not {type(source).__name__}"
        )
    if max_size is not None and len(data) > max_size:
        raise _too_large("more than", max_size, what)
    return data, name


def _quoted(value: str) -> str:
    # RFC 7578 §4.2: a quoted-string; quotes and line breaks in a file name are percent-encoded,
    # as browsers do, so they can never end the header.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def form_data(data: bytes, *, field: str, filename: str, content_type: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file part; returns it and its ``Content-Type``."""
    boundary = secrets.token_hex(16)
    while boundary.encode("ascii") in data:  # 128 random bits: practically never loops
        boundary = secrets.token_hex(16)
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{_quoted(field)}"; '
        f'filename="{_quoted(filename)}"\r\n'
        f"Content-Type: {content_type}\r\n"
        "\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    return b"".join((head, data, tail)), f"multipart/form-data; boundary={boundary}"

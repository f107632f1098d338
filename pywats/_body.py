"""Request bodies sent in chunks, read again from their source on every attempt.

An upload given as a path or a seekable file object is never read into memory: the body is a
:class:`StreamBody` of byte strings and :class:`FilePart` s, sent in :data:`CHUNK` pieces with a
``Content-Length``. A retry sends it again, so each part re-reads its source from the start (a
path is reopened, a file object sought back to where it was).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pywats._errors import InvalidArgumentError

__all__ = ["CHUNK", "FilePart", "StreamBody"]

CHUNK = 1 << 20
"""Bytes read and sent at a time: memory stays at about this, whatever the file's size."""


@dataclass(frozen=True)
class FilePart:
    """``size`` bytes of a file: a path (reopened each time) or a seekable binary file object
    (read from ``start``)."""

    size: int
    path: Path | None = None
    stream: BinaryIO | None = None
    start: int = 0
    what: str = "the file"

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes, read afresh; raises if the file changed size meanwhile."""
        if self.path is not None:
            try:
                with self.path.open("rb") as handle:
                    yield from self._read(handle)
            except OSError as exc:
                raise InvalidArgumentError(f"{self.what}: cannot read {self.path}: {exc}") from exc
            return
        assert self.stream is not None
        try:
            self.stream.seek(self.start)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"{self.what}: cannot read the file object: {exc}") from exc
        yield from self._read(self.stream)

    def _read(self, handle: BinaryIO) -> Iterator[bytes]:
        left = self.size
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                # Content-Length is already promised: a shorter body cannot be sent.
                raise InvalidArgumentError(
                    f"{self.what} became shorter while it was sent ({self.size - left:,} of "
                    f"{self.size:,} bytes)"
                )
            left -= len(chunk)
            yield bytes(chunk)


class StreamBody:
    """A request body made of byte strings and file parts, of a known length."""

    def __init__(self, parts: Sequence[bytes | FilePart]) -> None:
        self.parts = tuple(parts)
        self.length = sum(len(p) if isinstance(p, bytes) else p.size for p in self.parts)

    def chunks(self) -> Iterator[bytes]:
        """The body for a blocking client."""
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
            else:
                yield from part.chunks()

    async def achunks(self) -> AsyncIterator[bytes]:
        """The body for an async client. Reads of a local file are short (one chunk) and are
        done in the event loop, as ``httpx`` does for file bodies."""
        for chunk in self.chunks():
            yield chunk

    def read(self) -> bytes:
        """The whole body (tests, and small bodies only)."""
        return b"".join(self.chunks())

    def __repr__(self) -> str:
        return f"StreamBody({self.length:,} bytes in {len(self.parts)} parts)"


def file_part(source: str | os.PathLike[str] | BinaryIO, what: str) -> FilePart | None:
    """A part for a path or a seekable file object, its size checked now; ``None`` for a file
    object that cannot seek (it must be read into memory)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            if not path.is_file():
                raise InvalidArgumentError(f"{what}: {path} is not a file")
            return FilePart(path.stat().st_size, path=path, what=what)
        except OSError as exc:
            raise InvalidArgumentError(f"{what}: cannot read {path}: {exc}") from exc
    try:
        probe = source.read(0)  # reads nothing; says whether the object gives bytes
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(probe, bytes | bytearray):
        raise InvalidArgumentError(
            f"{what}: the file object gave {type(probe).__name__}, not bytes (open it with 'rb')"
        )
    try:
        if not source.seekable():
            return None
        start = source.tell()
        end = source.seek(0, os.SEEK_END)
        source.seek(start)
    except (OSError, ValueError, AttributeError):
        return None
    return FilePart(max(end - start, 0), stream=source, start=start, what=what)

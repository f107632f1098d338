"""Bodies that do not pass through memory: uploads sent in chunks from their files
(:class:`StreamBody`), downloads written in chunks to theirs (:class:`Sink`).

An upload given as a path or a seekable file object is never read into memory: the body is a
:class:`StreamBody` of byte strings and :class:`FilePart` s, sent in :data:`CHUNK` pieces with a
``Content-Length``. A retry sends it again, so each part re-reads its source from the start (a
path is reopened, a file object sought back to where it was).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pywats._errors import InvalidArgumentError

__all__ = ["CHUNK", "FilePart", "Sink", "StreamBody"]

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


class Sink:
    """Where a download goes instead of memory: a path (written beside it and renamed into
    place once whole, so a failed or retried download never leaves half a file) or a binary
    file object (written from where it was; sought back and truncated for a retry)."""

    def __init__(self, to: str | os.PathLike[str] | BinaryIO, what: str = "the download") -> None:
        self.what = what
        self.path: Path | None = None
        self.stream: BinaryIO | None = None
        self.start = 0
        if isinstance(to, str | os.PathLike):
            self.path = Path(to)
            if self.path.is_dir():
                raise InvalidArgumentError(f"{what}: {self.path} is a folder, not a file name")
        elif callable(getattr(to, "write", None)):
            self.stream = to
            try:
                self.start = to.tell() if to.seekable() else -1
            except (OSError, ValueError):
                self.start = -1
        else:
            raise InvalidArgumentError(
                f"{what}: to= must be a path or a binary file object, not {type(to).__name__}"
            )
        self.written = 0

    @property
    def retry_safe(self) -> bool:
        """Whether a second attempt can start the file over (not a pipe or a socket)."""
        return self.path is not None or self.start >= 0

    def receive(self, chunks: Iterator[bytes]) -> None:
        """Write the body (blocking clients)."""
        with self._open() as write:
            for chunk in chunks:
                write(chunk)

    async def areceive(self, chunks: AsyncIterator[bytes]) -> None:
        """Write the body (async clients; each chunk's write is a short local write)."""
        with self._open() as write:
            async for chunk in chunks:
                write(chunk)

    def _open(self) -> _Writing:
        return _Writing(self)


class _Writing:
    """One attempt's writing into a :class:`Sink`."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.temp: Path | None = None
        self.handle: BinaryIO | None = None

    def __enter__(self) -> Callable[[bytes], None]:
        sink = self.sink
        sink.written = 0
        try:
            if sink.path is not None:
                self.temp = sink.path.with_name(f".{sink.path.name}.part")
                self.handle = self.temp.open("wb")
            else:
                assert sink.stream is not None
                self.handle = sink.stream
                if sink.start >= 0:
                    sink.stream.seek(sink.start)
                    sink.stream.truncate()
        except OSError as exc:
            raise InvalidArgumentError(f"{sink.what}: cannot write: {exc}") from exc
        return self._write

    def _write(self, chunk: bytes) -> None:
        assert self.handle is not None
        try:
            self.handle.write(chunk)
        except OSError as exc:
            raise InvalidArgumentError(f"{self.sink.what}: cannot write: {exc}") from exc
        self.sink.written += len(chunk)

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        sink = self.sink
        if self.temp is None or self.handle is None:
            return
        self.handle.close()
        if error is None and sink.path is not None:
            try:
                os.replace(self.temp, sink.path)
            except OSError as exc:
                raise InvalidArgumentError(f"{sink.what}: cannot write: {exc}") from exc
        else:
            self.temp.unlink(missing_ok=True)

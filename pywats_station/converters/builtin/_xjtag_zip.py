"""Opening an XJTAG ``.xjlog`` archive (a ZIP) without trusting it.

A real log holds a handful of small members with plain names: ``Info.xml``, ``Run <n>.xml``,
``Run <n>.checksum`` and one connection-test data file per run. Whatever else a ZIP in the
watch folder may hold is refused before anything is decompressed, naming the member:

* a central directory that is missing (a file cut short, still being written), larger than
  :data:`MAX_DIRECTORY` bytes or listing more than :data:`MAX_MEMBERS` members;
* names with a path (``../x``, ``dir/x``, a drive, a NUL), which no XJTAG log has (nothing is
  ever written to disk here, but such a name says the archive is not a log);
* a name listed twice (ignoring case, as Windows does), encrypted members, compression methods
  other than stored and deflate (what XJTAG's .NET writer uses);
* members declared bigger than the caller's cap, or compressed more than :data:`MAX_RATIO`
  to 1 (a ZIP bomb).

Members are then read as a stream with the cap enforced again on what actually comes out, so a
member whose header lies about its size is stopped too; a damaged member (bad CRC, broken
deflate data) fails naming it.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from types import TracebackType

from pywats_station.converters.api import ConversionError

__all__ = [
    "MAX_DIRECTORY",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "LogArchive",
    "is_zip",
    "open_archive",
]

MAX_DIRECTORY = 1 << 20
"""The largest central directory read, in bytes (a real log's is about 400)."""
MAX_MEMBERS = 4096
"""The most members an archive may list (a real log: 2 per run, plus 2)."""
MAX_RATIO = 1000
"""The highest compression ratio accepted for a member over 1 MiB (XJTAG's XML: about 10)."""

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_TAIL = _EOCD_SIZE + 0xFFFF  # the record, and the longest comment that may follow it
_CHUNK = 1 << 16
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
# What zipfile and zlib raise on damaged data (a bad CRC, deflate data that does not decode,
# a header that does not match the directory, a struct cut short).
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
    UnicodeDecodeError,
)
_PATH_LIKE = re.compile(r"[/\\\x00:]|^\.{1,2}$|^$")


def is_zip(head: bytes) -> bool:
    """Whether a file's first bytes are a ZIP archive's (a member, or an empty archive)."""
    return head.startswith((b"PK\x03\x04", _EOCD))


def _directory_size(path: Path) -> None:
    """Check the end-of-central-directory record before ``zipfile`` reads the directory.

    Raises:
        ConversionError: no record (cut short, not a ZIP), or a directory too large.
    """
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = max(0, size - _TAIL)
        handle.seek(start)
        tail = handle.read(size - start)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise ConversionError(
            f"the ZIP archive is cut short or damaged: it ends at byte {size:,} without its "
            "central directory (an XJTAG log still being written, or not an XJTAG log archive)"
        )
    entries, directory = struct.unpack("<10xHI6x", tail[at : at + _EOCD_SIZE])
    if entries > MAX_MEMBERS or directory > MAX_DIRECTORY:
        raise ConversionError(
            f"the ZIP archive lists {entries:,} members in a central directory of "
            f"{directory:,} bytes (at byte {start + at:,}); an XJTAG log holds a few small "
            "members: not an XJTAG log archive"
        )


class LogArchive:
    """An open ``.xjlog`` whose member list has been checked (see the module docstring).

    Use :func:`open_archive`; close it (or use it as a context manager) when done.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        self.members: dict[str, zipfile.ZipInfo] = {}
        """The members by their name folded to lower case."""
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ConversionError(
                f"the ZIP archive lists {len(infos):,} members (at most {MAX_MEMBERS:,}): "
                "not an XJTAG log archive"
            )
        for info in infos:
            name = info.filename
            if _PATH_LIKE.search(name) or name != name.strip():
                raise ConversionError(
                    f"member {name!r} has a path or an odd name; an XJTAG log holds plain "
                    "file names only: not an XJTAG log archive"
                )
            key = name.casefold()
            if key in self.members:
                raise ConversionError(
                    f"member {name!r} is in the archive twice (names ignoring case): not an "
                    "XJTAG log archive"
                )
            self.members[key] = info

    def __enter__(self) -> LogArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The member called ``name`` (ignoring case), or ``None``."""
        return self.members.get(name.casefold())

    def read(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        """The member's bytes, checked against ``cap`` before and while decompressing.

        Raises:
            ConversionError: encrypted, an unexpected compression method, declared or found
                bigger than ``cap`` bytes, a ratio of a ZIP bomb, or damaged; naming the member.
        """
        name = info.filename
        if info.flag_bits & 0x1:
            raise ConversionError(f"member {name!r} is encrypted; XJTAG logs are not")
        if info.compress_type not in _METHODS:
            raise ConversionError(
                f"member {name!r} is compressed with ZIP method {info.compress_type}; XJTAG "
                "logs use deflate"
            )
        if info.file_size > cap:
            raise ConversionError(
                f"member {name!r} is {info.file_size:,} bytes uncompressed, over the "
                f"{cap:,} bytes read of it: too large for an XJTAG log (a ZIP bomb?)"
            )
        if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise ConversionError(
                f"member {name!r} expands {info.compress_size:,} bytes into "
                f"{info.file_size:,}, over {MAX_RATIO}:1: a ZIP bomb, not an XJTAG log"
            )
        chunks: list[bytes] = []
        total = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > cap:  # the header lied about the size
                        raise ConversionError(
                            f"member {name!r} holds more than the {info.file_size:,} bytes its "
                            f"header declares (over {cap:,} read): damaged, or a ZIP bomb"
                        )
                    chunks.append(chunk)
        except _DAMAGED as exc:
            raise ConversionError(
                f"member {name!r} cannot be read: {exc} (the archive is damaged, or cut short)"
            ) from None
        return b"".join(chunks)


def open_archive(path: Path) -> LogArchive:
    """Open ``path`` as an XJTAG log archive and check its member list.

    Raises:
        ConversionError: not a ZIP archive, cut short or damaged, or a member list no XJTAG
            log has (see the module docstring).
    """
    _directory_size(path)
    try:
        archive = zipfile.ZipFile(path)
    except _DAMAGED as exc:
        raise ConversionError(
            f"the ZIP archive's central directory cannot be read: {exc} (cut short, damaged, "
            "or not an XJTAG log archive)"
        ) from None
    try:
        return LogArchive(archive)
    except BaseException:
        archive.close()
        raise

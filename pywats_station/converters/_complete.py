"""Whether a file's own format says it is complete: the settle wait's fast path.

A file is normally read once it has stayed unchanged for ``settle`` seconds, because equipment
and shares write in chunks. A file that arrives whole (renamed into the folder, or closed
after writing) need not wait, *if* its content can prove it is whole. Some formats can:

* JSON (a top-level object or array): no proper prefix of one is a complete document, so a
  file that parses is whole, one that does not is truncated (or broken: the settle wait and
  then the converter will say so);
* XML: a well-formed document ends with its root element's end tag;
* ZIP: the central directory is written last; a file that opens as an archive is whole.

Anything else (CSV, text logs, binary formats) cannot tell a half-written file from a whole
one: :func:`looks_complete` says ``None`` and the settle wait applies, as before. So does a
file larger than :data:`MAX_CHECKED`: parsing it twice would cost more than the wait saves.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

import msgspec

__all__ = ["MAX_CHECKED", "looks_complete"]

MAX_CHECKED = 16 * 1024 * 1024  # bytes: larger files take the settle wait
_BOM = b"\xef\xbb\xbf"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def looks_complete(path: Path) -> bool | None:
    """``True``: the format says the file is whole; ``False``: truncated; ``None``: cannot tell.

    Never raises for what the file holds; an error reading it, or a name that is no longer a
    regular file (a FIFO swapped in would block a plain open), gives ``None``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            head = handle.read(8)
            if head.startswith(_ZIP_MAGIC):
                return _zip_complete(handle)
            data = head + handle.read(MAX_CHECKED + 1 - len(head))
    except OSError:
        return None
    if len(data) > MAX_CHECKED:
        return None
    text = data[len(_BOM) :] if data.startswith(_BOM) else data
    first = text.lstrip()[:1]
    if first in (b"{", b"["):
        return _json_complete(text)
    if first == b"<":
        return _xml_complete(data)
    return None


def _json_complete(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return True


def _xml_complete(data: bytes) -> bool:
    # expat resolves no external entity unless asked, and bounds entity expansion.
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return False
    except (LookupError, ValueError):  # an encoding declared that Python cannot decode
        return False
    return True


def _zip_complete(handle: BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(handle) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return True

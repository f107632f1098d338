"""Text files of test equipment: which encoding, and their lines numbered and cleaned.

Shared by the SPEA 3030 and TAKAYA converters, whose files come from Windows programs that
write ANSI (Windows-1252), sometimes UTF-8 or UTF-16, with or without a byte-order mark, and
with any line ending.

``encoding = "auto"`` (the default of both converters) means: a byte-order mark says it; else
UTF-16 when every other byte of the head is zero (UTF-16 written without a mark); else UTF-8
when the whole file is valid UTF-8 (checked in one streamed pass, in bounded memory); else
Windows-1252, the code page WATS's own converters read these files in. A configured encoding is
used as it is (a byte-order mark still wins, see :mod:`._textfile`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Generator
from pathlib import Path

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._common import BOMS, read_head
from pywats_station.converters.builtin._textfile import head_text, iter_lines

__all__ = ["ANSI", "check_encoding", "clean", "head_lines", "numbered_lines", "resolve_encoding"]

ANSI = "cp1252"
"""The Windows code page of the equipment PCs (and the default of WATS's converters)."""

_CHUNK = 64 * 1024
# What XML (and so WATS) cannot carry; Virinco's text converters drop these characters too.
# A tab is data in the TAKAYA layout and stays.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _utf16(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the head looks like UTF-16 text without a mark."""
    sample = head[:256]
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) // 2 * 2]
    evens, odds = sample[0::2], sample[1::2]
    if not odds.strip(b"\0") and b"\0" not in evens:
        return "utf-16-le"
    if not evens.strip(b"\0") and b"\0" not in odds:
        return "utf-16-be"
    return None


def _binary(head: bytes) -> ConversionError | None:
    """The error for a head that is binary data (a ZIP, an image), not text; else ``None``.

    More than 2 % of the first 4 kB in control bytes other than tab, line breaks and form
    feed: text has none, while a byte flipped in a text file makes one.
    """
    sample = head[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in b"\t\n\r\f")
    if sample and controls * 50 > len(sample):
        first = next(i for i, byte in enumerate(sample) if byte < 32 and byte not in b"\t\n\r\f")
        return ConversionError(
            f"not a text file: binary data (byte {first} is {sample[first]:#04x}, and "
            f"{controls} of the first {len(sample)} bytes are control bytes)"
        )
    return None


def _auto(configured: str | None) -> bool:
    return configured is None or configured.strip().lower() == "auto"


def check_encoding(encoding: str) -> None:
    """Check an ``encoding`` argument (``auto`` or a Python codec name).

    Raises:
        ValueError: no codec has that name (the configuration is refused, naming it).
    """
    if _auto(encoding):
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"encoding {encoding!r} is not 'auto' nor an encoding Python knows (e.g. cp1252)"
        ) from None


def resolve_encoding(path: Path, configured: str | None) -> str:
    """The encoding to read ``path`` in (see the module docstring).

    Raises:
        ConversionError: the configured encoding is unknown, or the file is binary data.
        OSError: the file cannot be read.
    """
    if configured is not None and not _auto(configured):
        try:
            codecs.lookup(configured)
        except LookupError:
            raise ConversionError(f"unknown encoding {configured!r}") from None
        return configured
    head = read_head(path, _CHUNK)
    if any(head.startswith(bom) for bom, _ in BOMS):
        return "utf-8"  # the reader follows the mark
    utf16 = _utf16(head)
    if utf16 is not None:
        return utf16
    if (binary := _binary(head)) is not None:
        raise binary
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return ANSI
    # A file cut inside a UTF-8 character stays UTF-8: the reader then says where it ends.
    return "utf-8"


def clean(line: str) -> str:
    """A line without its line break and without the characters WATS cannot store."""
    text = line.rstrip("\r\n")
    return _INVALID.sub("", text) if _INVALID.search(text) else text


def numbered_lines(path: Path, encoding: str) -> Generator[tuple[int, str], None, None]:
    """``(line number, cleaned text)`` of every line, read and decoded as they are needed.

    Raises:
        ConversionError: a byte is not in the encoding (naming its line and column).
        OSError: the file cannot be read.
    """
    lines = iter_lines(path, encoding)
    try:
        for number, line in enumerate(lines, start=1):
            yield number, clean(line)
    finally:
        lines.close()


def head_lines(path: Path, limit: int, configured: str | None) -> list[str]:
    """The cleaned lines of the first ``limit`` bytes (the bounded read of ``validate()``).

    With ``auto`` (or ``None``) the head is read as UTF-16 (no mark), UTF-8 or
    Windows-1252, whichever fits it (a mark wins).

    Raises:
        ConversionError: the head is not in the encoding, or is binary data.
        OSError: the file cannot be read.
    """
    encoding = None if _auto(configured) else configured
    if encoding is None:
        head = read_head(path, 4096)
        encoding = _utf16(head)
        marked = any(head.startswith(bom) for bom, _ in BOMS)
        if encoding is None and not marked and (binary := _binary(head)) is not None:
            raise binary
        encoding = encoding or "utf-8"
    try:
        text = head_text(path, limit, encoding)
    except ConversionError:
        if not _auto(configured) or encoding != "utf-8":
            raise
        text = head_text(path, limit, ANSI)
    return [clean(line) for line in text.splitlines()]

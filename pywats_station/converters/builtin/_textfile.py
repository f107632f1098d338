"""Reading a text file line by line, in bounded memory, in any encoding.

The line-based converters (``csv``, ``wstf``) read their input through :func:`iter_lines`: the
bytes are decoded in chunks by an incremental decoder, so a file of any size costs one chunk and
one line of memory, and a byte that is not in the encoding is reported with its line and
column, exactly as :func:`pywats_station.converters.builtin._common.decode_text` does for a
whole text.
A byte-order mark wins over the configured encoding (Windows tools write one; it is how UTF-16
files are recognised).

Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` and keep their ending, as ``open(newline="")`` and
the :mod:`csv` module expect; other Unicode line breaks (form feed, U+2028…) are data.

:func:`head_text` is the bounded read of ``validate()``: the first bytes of a file, decoded
without the incomplete character and the incomplete line a cut may leave at the end.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Generator
from pathlib import Path

from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._common import BOMS, not_encoded, read_head

__all__ = ["head_text", "iter_lines"]

_CHUNK = 64 * 1024


def _encoding(first: bytes, encoding: str) -> tuple[str, int]:
    """The encoding to use (a byte-order mark's, else ``encoding``) and the mark's length."""
    for bom, name in BOMS:
        if first.startswith(bom):
            return name, len(bom)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConversionError(f"unknown encoding {encoding!r}") from None
    return encoding, 0


# Every converter reading through this module has an ``encoding`` argument.
_HINT = "set arguments.encoding"


def iter_lines(path: Path, encoding: str = "utf-8") -> Generator[str, None, None]:
    """Yield the lines of a text file with their endings, decoding as it reads.

    Raises:
        ConversionError: the encoding is unknown, or a byte is not in it (naming the line).
        OSError: the file cannot be read.
    """
    with path.open("rb") as handle:
        first = handle.read(_CHUNK)
        name, skip = _encoding(first, encoding)
        decoder = codecs.getincrementaldecoder(name)("strict")
        line = 1  # the line the next decoded character belongs to
        pending: list[str] = []  # the start of a line not yet ended
        chunk = first[skip:]
        while True:
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                raise not_encoded(
                    exc, name, before="".join(pending), line=line, hint=_HINT
                ) from None
            if "\n" in text or "\r" in text:
                pending.append(text)
                lines = io.StringIO("".join(pending), newline="").readlines()
                pending.clear()
                last = lines[-1]
                # The last piece continues in the next chunk unless it ended; a lone "\r" may
                # be the first half of "\r\n".
                if not final and (last.endswith("\r") or not last.endswith("\n")):
                    pending.append(lines.pop())
                line += len(lines)
                yield from lines
            elif text:
                # Joined only once the line ends: a line without an end costs no copies.
                pending.append(text)
            if final:
                if pending:
                    yield "".join(pending)
                return
            chunk = handle.read(_CHUNK)


def head_text(path: Path, limit: int, encoding: str = "utf-8") -> str:
    """The first ``limit`` bytes of a file as text, ending with the last whole line.

    Without a cut (the file is shorter than ``limit``) the whole text is returned.

    Raises:
        ConversionError: the encoding is unknown, or a byte is not in it (naming the line).
        OSError: the file cannot be read.
    """
    data = read_head(path, limit + 1)  # one more byte tells whether there is more
    cut = len(data) > limit
    data = data[:limit]
    name, skip = _encoding(data, encoding)
    decoder = codecs.getincrementaldecoder(name)("strict")
    try:
        # Not final after a cut: an incomplete character at the end stays in the decoder.
        text = decoder.decode(data[skip:], final=not cut)
    except UnicodeDecodeError as exc:
        raise not_encoded(exc, name, hint=_HINT) from None
    if cut:
        end = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: end + 1]
    return text

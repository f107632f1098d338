"""Showing names and text that came from outside: one line, valid UTF-8, nothing hidden.

A file name is whatever bytes the equipment (or anyone with write access to a watch folder)
chose: bytes that are not UTF-8 (Python hands them over as lone surrogates, ``\\udcff``), a
newline that would start a forged log line, escape sequences for the terminal, right-to-left
overrides that reverse what an operator reads, invisible characters. Such a string cannot even
be encoded as UTF-8 (JSON, the queue header, a websocket frame), so every place that shows or
stores a name goes through :func:`display_name`, and free text that may carry one (a converter's
reason, an exception message) through :func:`display_text`.

The escapes, chosen so that a shown name maps back to exactly one name:

=====================================  =========================
undecodable byte 0x80-0xFF             ``\\xff``
newline, carriage return, tab          ``\\n``, ``\\r``, ``\\t``
other ASCII control characters, DEL    ``\\x1b``, ``\\x7f``
any other unprintable character        ``\\u202e``, ``\\U000e0001``
(``str.isprintable()`` false: controls, format characters, line separators, spaces other than
the plain space, unassigned code points; lone surrogates not from bytes)
a backslash (in a name, on POSIX)      ``\\\\``
=====================================  =========================

Printable text, including any language's letters and the plain space, is shown as it is.
"""

from __future__ import annotations

import os

__all__ = ["display_name", "display_text"]

# On Windows the backslash separates path components and can never be part of a name, so it
# needs no escape there (and doubling it would make every path hard to read).
_ESCAPE_BACKSLASH = os.sep != "\\"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str, backslash: bool) -> str:
    if ch == "\\":
        return "\\\\" if backslash else ch
    if ch.isprintable():
        return ch
    if named := _NAMED.get(ch):
        return named
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape(text: str, backslash: bool, limit: int | None) -> str:
    # The common case costs one C-level scan: printable text without a backslash is shown as is.
    if text.isprintable() and not (backslash and "\\" in text):
        shown = text
    else:
        shown = "".join(_escape_char(ch, backslash) for ch in text)
    if limit is not None and len(shown) > limit:
        # Cut between escapes, never inside one (half an escape would read as another name).
        pieces: list[str] = []
        size = 0
        for ch in text:
            piece = _escape_char(ch, backslash)
            if size + len(piece) > limit - 1:
                break
            pieces.append(piece)
            size += len(piece)
        shown = "".join(pieces) + "…"
    return shown


def display_name(name: str | bytes | os.PathLike[str], *, limit: int | None = None) -> str:
    """A file name or path as one printable line that names it unambiguously.

    Undecodable bytes, control and other unprintable characters are escaped (see the module
    docstring), and so is a backslash on POSIX, where it is an ordinary character of a name:
    the result, and only it, maps back to the original name.

    Args:
        name: a name or path; ``bytes`` are decoded the way :func:`os.fsdecode` does.
        limit: at most this many characters; a longer result is cut and ends with ``…``.

    Returns:
        Printable text without line breaks, always encodable as UTF-8.
    """
    text = os.fsdecode(name) if isinstance(name, bytes) else os.fspath(name)
    return _escape(text, _ESCAPE_BACKSLASH, limit)


def display_text(text: str, *, limit: int | None = None) -> str:
    """Free text (a reason, an exception message) as one printable line, encodable as UTF-8.

    As :func:`display_name`, except that a backslash is left as it is: messages quote paths,
    patterns and escapes of their own, and they only need to be safe, not reversible. Applying
    it to text that is already escaped changes nothing.

    Args:
        text: the text.
        limit: at most this many characters; a longer result is cut and ends with ``…``.
    """
    return _escape(text, False, limit)

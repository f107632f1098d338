"""A Teradyne GR228x log ``factor`` times bigger: its boards tested again, one report each.

The program line stays once; everything after it (the boards from their ``@`` line to their
end line) is repeated, each copy's serial numbers made its own (``…535753-2``) so that every
board is a distinct report.
"""

from __future__ import annotations

import re

__all__ = ["enlarge"]

_BOARD = re.compile(rb"^(@[^\r\n]*? SN [^\r\n]*?)([ \t]*\r?)$", re.MULTILINE)


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (a GR228x log) with its boards repeated ``factor`` times, serials unique.

    Raises:
        ValueError: ``factor`` is below 1, or the log holds no board.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    first = _BOARD.search(data)
    if first is None:
        raise ValueError("the log holds no board (@<date> SN <serial>)")
    if not data.endswith((b"\n", b"\r")):
        data += b"\r\n" if b"\r\n" in data else b"\n"
    head, boards = data[: first.start()], data[first.start() :]
    copies = [head, boards]
    for copy in range(2, factor + 1):
        copies.append(_BOARD.sub(rb"\g<1>-%d\g<2>" % copy, boards))
    return b"".join(copies)

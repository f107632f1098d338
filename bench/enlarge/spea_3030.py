"""A SPEA 3030 record file ``factor`` times bigger: the boards of the file, tested again.

Every ``FORMAT`` … ``END`` block is a board; the copies are the same boards re-tested, each
with a serial number of its own (``SN9871234012-2``…) so that they are distinct reports.
"""

from __future__ import annotations

import re

__all__ = ["enlarge"]

_SERIAL = re.compile(rb"^(SN;[^\r\n]*)", re.MULTILINE)


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (a SPEA 3030 file) repeated ``factor`` times, the serial numbers made unique.

    Raises:
        ValueError: ``factor`` is below 1.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    if not data.endswith((b"\n", b"\r")):
        data += b"\r\n" if b"\r\n" in data else b"\n"
    copies = [data]
    for copy in range(2, factor + 1):
        copies.append(_SERIAL.sub(rb"\1-%d" % copy, data))
    return b"".join(copies)

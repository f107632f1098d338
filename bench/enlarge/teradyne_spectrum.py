"""A Teradyne Spectrum CTRD file ``factor`` times bigger: one board with more steps.

A Spectrum file is one report. Its sections and steps (from the first ``(SECTION_NAME:`` to
the USER lines after the last ``(STEP:``) are repeated, as if the test program ran its tests
``factor`` times; the header (program, serial number) and the trailer (the board's result)
stay once. Past a factor of about 90 the one report outgrows what a WATS server accepts
(30 MB of WSJF), and the conversion fails saying so: benchmark larger sizes with a raised
``max_report_size``.
"""

from __future__ import annotations

__all__ = ["enlarge"]


def _line_start(data: bytes, index: int) -> int:
    return max(data.rfind(b"\n", 0, index), data.rfind(b"\r", 0, index)) + 1


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (a Spectrum file) with its sections and steps repeated ``factor`` times.

    Raises:
        ValueError: ``factor`` is below 1, or the file has no section or step.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    first = data.find(b"(SECTION_NAME:")
    last = data.rfind(b"(STEP:")
    if first < 0 or last < 0:
        raise ValueError("the file has no (SECTION_NAME: or (STEP: to repeat")
    start = _line_start(data, first)
    trailer = data.find(b"(USER:", last)
    end = _line_start(data, trailer) if trailer >= 0 else len(data)
    body = data[start:end]
    if not body.endswith((b"\n", b"\r")):
        body += b"\r\n" if b"\r\n" in data else b"\n"
    return data[:start] + body * factor + data[end:]

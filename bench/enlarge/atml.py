"""An ATML file ``factor`` times bigger: more UUTs (5.00, 6.01), or more steps (2.02).

A ``TestResultsCollection`` (ATML 5.00 and 6.01) holds one ``TestResults`` per UUT: its UUTs
are repeated, as a batch execution writes them, each copy with a serial number and uuid of its
own (``123456789-2``) so that every UUT is a distinct report. A 2.02 file is one UUT: the steps
of its root sequence are repeated instead, as if the sequence ran ``factor`` times (one report,
``factor`` times the steps; past a factor of about 5,000 it outgrows what a WATS server takes).
"""

from __future__ import annotations

import re

__all__ = ["enlarge"]

_RESULTS_START = re.compile(rb"<(?:[\w.-]+:)?TestResults[\s>]")
_RESULTS_END = re.compile(rb"</(?:[\w.-]+:)?TestResults\s*>")
_UUT_SERIAL = re.compile(
    rb"(<(?:[\w.-]+:)?UUT[\s>].*?</(?:[\w.-]+:)?Definition\s*>\s*<(?:[\w.-]+:)?SerialNumber>)"
    rb"\s*([^<]*?)\s*(</)",
    re.DOTALL,
)
_UUID = re.compile(rb'(uuid\s*=\s*")([0-9a-fA-F-]+)(")')
_OUTCOME = re.compile(rb"<(?:[\w.-]+:)?Outcome\b[^>]*/>")
_GROUP_START = re.compile(rb"<(?:[\w.-]+:)?TestGroup[\s>]")
_GROUP_END = re.compile(rb"</(?:[\w.-]+:)?TestGroup\s*>")
_RESULT_SET_END = re.compile(rb"</(?:[\w.-]+:)?ResultSet\s*>")


def _copy(block: bytes, number: int) -> bytes:
    block = _UUT_SERIAL.sub(lambda m: m.group(1) + m.group(2) + b"-%d" % number + m.group(3), block)
    return _UUID.sub(lambda m: m.group(1) + m.group(2)[:-6] + b"%06d" % number + m.group(3), block)


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (an ATML file as TestStand writes it) about ``factor`` times bigger.

    Raises:
        ValueError: ``factor`` is below 1, or ``data`` is not ATML test results.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    starts = list(_RESULTS_START.finditer(data))
    ends = list(_RESULTS_END.finditer(data))
    if not starts or not ends:
        raise ValueError("no <TestResults> element: not ATML test results")
    if b"TestResultsCollection" in data[: starts[0].start()]:
        head, tail = data[: starts[0].start()], data[ends[-1].end() :]
        uuts = data[starts[0].start() : ends[-1].end()]
        copies = [uuts] + [_copy(uuts, n) for n in range(2, factor + 1)]
        return head + b"\n".join(copies) + tail
    # 2.02: one UUT. Its root sequence is the TestGroup in the ResultSet; repeat its steps.
    result_set_end = _RESULT_SET_END.search(data)
    if result_set_end is None:
        raise ValueError("no </ResultSet>: not ATML test results")
    closes = list(_GROUP_END.finditer(data, 0, result_set_end.start()))
    root = _GROUP_START.search(data, starts[0].end())
    outcome = _OUTCOME.search(data, root.end()) if root is not None else None
    if not closes or outcome is None:
        raise ValueError("no root sequence (<TestGroup>) with steps to repeat")
    steps = data[outcome.end() : closes[-1].start()]
    return data[: outcome.end()] + steps * factor + data[closes[-1].start() :]

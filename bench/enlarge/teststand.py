"""A TestStand XML report ``factor`` times bigger: more UUTs, or more steps.

TestStand's own XML report (``<Reports>``) holds one ``<Report>`` per UUT: its reports are
repeated, as a file TestStand appends to (or a batch) holds them, each copy with a serial number
of its own (``2342343-2``) so that every UUT is a distinct report. A WATS add-on report
(``<TSReport>``) is one UUT: the results of its main sequence are repeated instead, as if the
sequence ran its steps again and again (one report, its steps repeated until the file is
``factor`` times the size: its header, a few kB, is not repeated).
"""

from __future__ import annotations

import re
from xml.parsers import expat

__all__ = ["enlarge"]

_REPORT_START = re.compile(rb"<Report[\s>]")
_REPORT_END = re.compile(rb"</Report\s*>")
_SERIAL = re.compile(rb"(<Prop\s+Name=['\"]SerialNumber['\"][^>]*>\s*<Value>)([^<]*)(</Value>)")
_ID = re.compile(rb"^(<Value\s+ID=['\"]\[)\d+(\]['\"])")
_HBOUND = re.compile(rb"(HBound=['\"]\[)\d*(\]['\"])")


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (a TestStand XML report) about ``factor`` times bigger.

    Raises:
        ValueError: ``factor`` is below 1, or ``data`` is not a TestStand XML report.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    if re.search(rb"<Reports[\s>]", data[:4096]):
        return _more_reports(data, factor)
    if re.search(rb"<TSReport[\s>]", data[:4096]):
        return _more_steps(data, factor)
    raise ValueError("no <Reports> or <TSReport> root: not a TestStand XML report")


def _more_reports(data: bytes, factor: int) -> bytes:
    starts = list(_REPORT_START.finditer(data))
    ends = list(_REPORT_END.finditer(data))
    if not starts or not ends:
        raise ValueError("no <Report> element in <Reports>")
    head, tail = data[: starts[0].start()], data[ends[-1].end() :]
    reports = data[starts[0].start() : ends[-1].end()]

    def copy(number: int) -> bytes:
        return _SERIAL.sub(
            lambda m: m.group(1) + m.group(2) + b"-%d" % number + m.group(3), reports, count=1
        )

    return head + b"\n".join([reports, *(copy(n) for n in range(2, factor + 1))]) + tail


def _more_steps(data: bytes, factor: int) -> bytes:
    """The items of the first (the main sequence's) ``ResultList``, repeated and renumbered."""
    tag, items = _result_list(data)
    if not items:
        raise ValueError("the main sequence's ResultList holds no result")
    blocks = [data[start:end] for start, end in items]
    # The header stays as it is: repeat the steps until the whole is factor times the size.
    body = sum(len(b) + 1 for b in blocks)
    times = max(1, round((factor * len(data) - (len(data) - body)) / body))
    copies = [_ID.sub(rb"\g<1>%d\g<2>" % n, block) for n, block in enumerate(blocks * times)]
    start_tag = _HBOUND.sub(
        lambda m: m.group(1) + b"%d" % (len(copies) - 1) + m.group(2), data[tag[0] : tag[1]]
    )
    first, last = items[0][0], items[-1][1]
    return data[: tag[0]] + start_tag + data[tag[1] : first] + b"\n".join(copies) + data[last:]


def _result_list(data: bytes) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """Where the first ResultList's start tag is, and each of its items (byte offsets)."""
    parser = expat.ParserCreate()
    depth = 0
    found: dict[str, int] = {}
    items: list[tuple[int, int]] = []
    starts: list[int] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        here = parser.CurrentByteIndex
        if "list" not in found and name == "Prop" and attrs.get("Name") == "ResultList":
            found["list"], found["depth"] = here, depth
            found["tag"] = data.index(b">", here) + 1
        elif found.get("depth") == depth - 1 and "end" not in found and name == "Value":
            starts.append(here)

    def end(name: str) -> None:
        nonlocal depth
        if found.get("depth") == depth - 1 and "end" not in found and name == "Value":
            close = data.index(b">", parser.CurrentByteIndex) + 1
            items.append((starts[-1], close))
        if found.get("depth") == depth and "end" not in found:
            found["end"] = parser.CurrentByteIndex
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    if "list" not in found:
        raise ValueError("no ResultList: not a TestStand report with steps")
    return (found["list"], found["tag"]), items

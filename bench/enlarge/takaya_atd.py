"""A TAKAYA ATD file ``factor`` times bigger: a panel with ``factor`` times the boards.

The ``* GROUP No.n *`` sections of the file (its boards) are repeated as further boards of the
same panel, numbered on from the last one, with serial numbers of their own; in the tab layout
each row's group column follows its board's number.
"""

from __future__ import annotations

import re

__all__ = ["enlarge"]

_GROUP = re.compile(rb"^\* *GROUP +No\. *(\d+) *\*[ \t]*\r?$", re.MULTILINE)
_SERIAL = re.compile(rb"^(Serial No\.:[^\r\n(]*?)( *\(|\r?$)", re.MULTILINE)
_TAB_ROW = re.compile(rb"^\d+\t", re.MULTILINE)


def _renumber(section: bytes, new: int, copy: int) -> bytes:
    section = _GROUP.sub(b"* GROUP No.%-3d *" % new, section, count=1)
    section = _SERIAL.sub(lambda m: m.group(1).rstrip() + b"-%d" % copy + m.group(2), section)
    return _TAB_ROW.sub(b"%02d\t" % new, section)


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (a TAKAYA ATD file with one panel) with its boards repeated ``factor`` times.

    Raises:
        ValueError: ``factor`` is below 1, or ``data`` has no ``* GROUP No.n *`` section.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    groups = list(_GROUP.finditer(data))
    if not groups:
        raise ValueError("no '* GROUP No.n *' section to repeat")
    closing = data.rfind(b"\n@")
    end = closing + 1 if closing > groups[-1].start() else len(data)
    head, body, tail = data[: groups[0].start()], data[groups[0].start() : end], data[end:]
    numbers = [int(g.group(1)) for g in groups]
    starts = [g.start() - groups[0].start() for g in groups] + [len(body)]
    sections = [(numbers[i], body[starts[i] : starts[i + 1]]) for i in range(len(groups))]
    out = [head, body]
    after = max(numbers)
    for copy in range(2, factor + 1):
        for _, section in sections:
            after += 1
            out.append(_renumber(section, after, copy))
    return b"".join([*out, tail])

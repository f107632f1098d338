"""What the server's storage can hold: the last check before the emulator stores a report.

Validation (:mod:`pywats.validation`) checks what a report *means*. The server also refuses what
it cannot *store*: every integer of its report schema is a 32-bit ``int`` (the server's own API
description says ``int32`` for each of them, and JSON.NET answers a larger number with 400), and
reports are kept as XML, which has no room for control characters. The emulator checks every
member the same way, so that whatever it accepts it can also export as WSJF and WSXF.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from pywats.models.report import UURReport, UUTReport

__all__ = ["INT32", "MAX_LISTED", "storage_problems"]

INT32 = (-(2**31), 2**31 - 1)
MAX_LISTED = 50
"""At most this many problems are listed (a hostile report can hold millions)."""

# The characters XML 1.0 cannot carry (lone surrogates cannot even be decoded from JSON).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def storage_problems(report: UUTReport | UURReport) -> list[str]:
    """Every member of ``report`` the server could not store, in document order.

    Each problem names its member with msgspec's path grammar (``$.root.steps[0].id``), as a
    decoding error does. At most :data:`MAX_LISTED` are listed, then how many more there are.
    """
    problems: list[str] = []
    found = 0
    # An explicit stack: the document may be nested as deeply as WSJF allows.
    stack: list[tuple[str, Any]] = [("$", msgspec.to_builtins(report))]
    while stack:
        path, value = stack.pop()
        problem: str | None = None
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT32[0] <= value <= INT32[1]:
                problem = f"{path}: {value} does not fit in a 32-bit integer."
        elif isinstance(value, str):
            bad = _NOT_XML.search(value)
            if bad is not None:
                code = ord(bad.group())
                problem = f"{path}: contains the character U+{code:04X}, which XML cannot carry."
        if problem is not None:
            found += 1
            if found <= MAX_LISTED:
                problems.append(problem)
    if found > MAX_LISTED:
        problems.append(f"… and {found - MAX_LISTED} more members the server could not store.")
    return problems

"""The summary table XJTAG puts at the end of a run: times and skipped tests older logs omit.

A run ends with ``<summary>`` (an HTML table: one row per test group, its result and time in
seconds, and the total time) and ``<snippets>`` (per group, one HTML row per test function: its
name, result and time). XJTAG 3.10 writes the same facts in the run itself (``time-taken`` in
milliseconds, a ``testfunction`` with result ``Skipped`` for a skipped test); older versions
(the 2018 fixture, XJTAG 3.7) do not: there the summary is the only place that holds the
run's duration, each test's time and the tests that were skipped.

So the summary is read, best effort, to fill in what the run lacks: it is HTML in CDATA, and a
summary that cannot be read, or that disagrees with the run, is ignored (the run's own elements
always win). Times are written with the station's decimal separator (``4,474`` or ``0.454``):
XJTAG writes three decimals, so the last ``.`` or ``,`` followed by digits is the decimal point.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from pywats_station.converters.builtin._xjtag_xml import Node

__all__ = ["SummaryFunction", "SummaryGroup", "read_summary", "seconds", "strip_tags"]

_CELL_START = re.compile(r"<t[dh](?=[\s>/])")
_ID = re.compile(r"""\bid\s*=\s*["']([^"']*)["']""")
_CLASS = re.compile(r"""\bclass\s*=\s*["']([^"']*)["']""")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_TIME = re.compile(r"(\d[\d \u00a0',.]*?)(?:[.,](\d+))?")


@dataclass
class SummaryFunction:
    """One test function's row: its name, result word and time in seconds (if given)."""

    name: str
    result: str
    seconds: float | None


@dataclass
class SummaryGroup:
    """One test group's row and its functions' rows (from the group's snippet)."""

    name: str
    result: str
    seconds: float | None
    functions: list[SummaryFunction] = field(default_factory=list)


@dataclass
class Summary:
    """What the summary of a run says: its groups in order and the total time."""

    groups: list[SummaryGroup]
    total: float | None


def strip_tags(fragment: str) -> str:
    """The text of an HTML fragment: tags removed, entities decoded.

    Only what looks like a tag (``<`` and a letter or ``/``) is removed, so text such as
    ``>>>> PASSED <<<<`` or ``V < 3`` stays.
    """
    return html.unescape(_TAG.sub("", fragment))


def seconds(text: str) -> float | None:
    """A time XJTAG wrote in seconds (``4,474``, ``0.454``, ``1 234,5``); ``None`` if not one."""
    text = text.strip()
    found = _TIME.fullmatch(text) if len(text) <= 40 else None
    if found is None:
        return None
    whole = re.sub(r"\D", "", found.group(1))
    fraction = found.group(2) or "0"
    return float(f"{whole}.{fraction}")


def _rows(table: str) -> list[tuple[str, str]]:
    """The (attributes, content) of each ``<tr>`` of an HTML fragment.

    Split, not matched with one pattern: a fragment of many unclosed rows costs one pass.
    """
    rows = []
    for piece in table.split("<tr")[1:]:
        attrs, closed, rest = piece.partition(">")
        if closed and (not attrs or attrs[0].isspace()):
            rows.append((attrs, rest.split("</tr>", 1)[0]))
    return rows


def _cells(row: str) -> list[tuple[str, str]]:
    """The (class, text) of each cell of a table row."""
    cells = []
    for piece in _CELL_START.split(row)[1:]:
        attrs, _, rest = piece.partition(">")
        content = rest.split("</t", 1)[0]
        found = _CLASS.search(attrs)
        cells.append((found.group(1) if found else "", strip_tags(content).strip()))
    return cells


def _time_of(cells: list[tuple[str, str]]) -> float | None:
    for cls, text in cells:
        if cls in ("testtime", "totaltime"):
            return seconds(text)
    return None


def _function(fragment: str) -> SummaryFunction | None:
    for _, row in _rows(fragment):
        cells = _cells(row)
        if len(cells) >= 2 and cells[0][0] == "firstcolfunc" and cells[0][1]:
            return SummaryFunction(cells[0][1], cells[1][1], _time_of(cells))
    return None


def read_summary(run: Node) -> Summary | None:
    """The run's summary, or ``None`` when it has none or it cannot be read (see the module)."""
    summary = run.child("summary")
    if summary is None:
        return None
    table = "".join(node.text() for node in summary.iter("html-output"))
    snippets = {node.attrs.get("key", ""): node for node in _iter(run.child("snippets"), "snippet")}
    groups: list[SummaryGroup] = []
    total: float | None = None
    for attrs, row in _rows(table):
        cells = _cells(row)
        key = _ID.search(attrs)
        if any(cls == "totaltime" for cls, _ in cells):
            total = _time_of(cells)
            continue
        if key is None or len(cells) < 2 or cells[0][0] != "firstcoltest" or not cells[0][1]:
            continue
        group = SummaryGroup(cells[0][1], cells[1][1], _time_of(cells))
        snippet = snippets.get(key.group(1))
        if snippet is not None:
            for part in snippet.iter("snippet-html"):
                function = _function(part.text())
                if function is None:
                    return None  # a row not understood: trust nothing of it
                group.functions.append(function)
        groups.append(group)
    if not groups and total is None:
        return None
    return Summary(groups, total)


def _iter(node: Node | None, tag: str) -> list[Node]:
    return [] if node is None else list(node.iter(tag))

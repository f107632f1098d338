"""One XJTAG test function (``<testfunction>``) → one step, and the text helpers around it.

A function becomes a pass/fail step (``ET_PFT``): Passed and Failed carry the pass/fail
measurement; Skipped, Error and Terminated are ``ET_PFT`` steps without one (as WATS's own
exports show skipped steps), and a result word not known here is status Unknown with the word
in the report text (not guessed). The report text is the function's text outputs and inline
HTML outputs in order, as text: what XJTAG's ``plain-text`` shows (which the XML export
re-indents, so it is not read). Circuit references and connection-test errors go to the
step's additional results; the connection test's data file the step links to becomes its
attachment.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

from pywats.models.report import AdditionalData, AdditionalDataProperty
from pywats.report_builder import STEP_ATTACHMENT_LIMIT, SequenceBuilder, StepHandle
from pywats.validation import FieldLimits
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._xjtag_summary import SummaryFunction, strip_tags
from pywats_station.converters.builtin._xjtag_xml import Node

__all__ = [
    "LIMITS",
    "MAX_REPORT_TEXT",
    "STATUSES",
    "Fetch",
    "add_function",
    "checked",
    "clean",
    "cut",
    "milliseconds",
    "step_name",
]

MAX_REPORT_TEXT = 10_000
"""The most characters of a step's report text; a longer text keeps its start and end."""
LIMITS = FieldLimits()
"""WATS's field lengths (the C# API's, the stricter source)."""
STATUSES = {
    "passed": "P",
    "failed": "F",
    "skipped": "S",
    "error": "E",
    "terminated": "T",
    "aborted": "T",
    "stopped": "T",
    "done": "D",
}
"""XJTAG's result words (any case) → WATS step statuses."""

Fetch = Callable[[str], tuple[str, int, bytes | None] | None]
"""Looks up a data file a run links to by name: its name, size and bytes (``None`` when too
big to be read), or ``None`` when there is no such file."""

_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Bounded: a text of many unclosed calls must not cost a scan to its end for each.
_CONNTEST_LINK = re.compile(r"ShowFullConnTestOutput\(\s{0,10}'([^']{1,1000})'")


def clean(text: str) -> str:
    """``text`` without the characters XML cannot carry (the WATS API strips them too)."""
    return _INVALID.sub("", text)


def cut(text: str, limit: int = MAX_REPORT_TEXT) -> str:
    """``text`` at most ``limit`` characters long, its start and end kept, the cut said.

    For free text only (report texts, comments, misc infos): what identifies something
    (serial number, names) is never cut, see :func:`checked`.
    """
    if len(text) <= limit:
        return text
    if limit < 200:
        return text[: limit - 1] + "…"
    keep = limit - 60
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    return f"{text[:head]}\n[… {len(text) - head - tail:,} characters left out …]\n{text[-tail:]}"


def checked(label: str, node: Node, value: str, limit: int, what: str) -> str:
    """``value`` if it fits WATS's ``limit``; too long fails, naming the element.

    Raises:
        ConversionError: ``value`` is longer than ``limit``.
    """
    if len(value) > limit:
        raise ConversionError(
            f"{label}{node.where}: the {what} is {len(value):,} characters long; WATS takes "
            f"at most {limit}"
        )
    return value


def step_name(label: str, node: Node) -> str:
    """The ``name`` attribute of a group or function, checked.

    Raises:
        ConversionError: no name, or one longer than WATS takes.
    """
    name = clean(node.attrs.get("name", ""))
    if not name.strip():
        raise ConversionError(f"{label}{node.where} has no name")
    return checked(label, node, name, LIMITS.step_name, "name")


def add_function(
    label: str,
    seq: SequenceBuilder,
    function: Node | str,
    row: SummaryFunction | None,
    fetch: Fetch | None,
) -> StepHandle:
    """Add one test function to ``seq``: an element, or a name only the summary lists.

    Args:
        label: how messages name the run's document.
        seq: the group's sequence.
        function: the ``<testfunction>``, or the name of a function the summary lists as
            skipped without an element of its own (older logs).
        row: the function's summary row, if matched (its time when the element has none).
        fetch: finds the data files steps link to; ``None``: attach nothing.

    Raises:
        ConversionError: no name or result, a time that is not a number; naming the element.
    """
    if isinstance(function, str):
        options: dict[str, Any] = {"step_type": "ET_PFT"}
        if row is not None and row.seconds is not None:
            options["tot_time"] = row.seconds
        name = clean(function).strip()[: LIMITS.step_name] or "(no name)"
        return seq.action(name, status="S", **options)
    name = step_name(label, function)
    result = function.child("result")
    word = result.attrs.get("value", "").strip() if result is not None else ""
    if not word:
        raise ConversionError(f"{label}{function.where} ({name!r}) has no <result value>")
    status = STATUSES.get(word.casefold(), "U")
    text = _report_text(function)
    if status == "U":  # a word this converter does not know: kept, not guessed
        text = f"XJTAG result: {word}\n{text}"
    options = {}
    if text.strip():
        options["report_text"] = cut(clean(text))
    tot_time = _time(label, function, row)
    if tot_time is not None:
        options["tot_time"] = tot_time
    if status in ("P", "F"):
        handle = seq.pass_fail(name, status == "P", **options)
    else:
        handle = seq.action(name, status=status, step_type="ET_PFT", **options)
    extra = _additional(function)
    if extra is not None:
        handle.step.additional_results = [extra]
    if fetch is not None:
        _attach_data(fetch, handle, function)
    return handle


def milliseconds(label: str, node: Node) -> float | None:
    """The element's text, a time in milliseconds, in seconds (``None`` when empty).

    Raises:
        ConversionError: not a finite, non-negative number; naming the element.
    """
    taken = node.text()
    if not taken:
        return None
    try:
        millis = float(taken)
    except ValueError:
        raise ConversionError(
            f"{label}{node.where}: {taken[:40]!r} is not a number of milliseconds"
        ) from None
    if not 0 <= millis < float("inf"):  # NaN too
        raise ConversionError(f"{label}{node.where}: {taken[:40]!r} is not a time")
    return millis / 1000


def _time(label: str, function: Node, row: SummaryFunction | None) -> float | None:
    """``time-taken`` (milliseconds) in seconds, else the summary row's time."""
    node = function.child("time-taken")
    found = milliseconds(label, node) if node is not None else None
    if found is None and row is not None:
        found = row.seconds
    return found


def _report_text(function: Node) -> str:
    """The function's output as text: its text outputs and inline HTML outputs, in order.

    The texts are HTML (XJTAG 3.10 escapes ``&``, older versions put ``<span>``s in them):
    tags are removed and entities decoded. Non-inline HTML outputs are anchors and links.
    """
    parts = []
    for node in function.children:
        if node.tag == "text-output" or (
            node.tag == "html-output" and node.attrs.get("inline", "").casefold() == "true"
        ):
            parts.append(strip_tags(node.text()))
    return "".join(parts).rstrip()


def _additional(function: Node) -> AdditionalData | None:
    """Circuit references and connection-test errors, as the step's additional results.

    References are written as XJTAG's links write them: ``board,device`` and
    ``board,device,pin``, each once.
    """
    devices: list[str] = []
    pins: list[str] = []
    for refs in function.iter("circuit-refs"):
        for ref in refs.children:
            parts = [ref.attrs.get(key, "") for key in ("board", "device", "pin")]
            if ref.tag == "device-ref":
                devices.append(",".join(parts[:2]))
            elif ref.tag == "pin-ref":
                pins.append(",".join(parts))
    props = []
    for name, found in (("Devices", devices), ("Pins", pins)):
        unique = list(dict.fromkeys(found))
        if unique:
            props.append(_prop(name, "; ".join(unique)))
    errors = [node.text() for node in function.iter("conntest-errors") if node.text()]
    if errors:
        props.append(_prop("ConnectionTestErrors", "\n".join(errors)))
    return AdditionalData(name="XJTAG", props=props) if props else None


def _prop(name: str, value: str) -> AdditionalDataProperty:
    return AdditionalDataProperty(name=name, type="String", value=cut(clean(value)))


def _attach_data(fetch: Fetch, handle: StepHandle, function: Node) -> None:
    """Attach the connection-test data file the function links to (zipped when over 100 KB).

    The link is a Windows path in a JavaScript call of a non-inline HTML output
    (``ShowFullConnTestOutput('C:\\\\…\\\\10199_637280009689789873')``); its last part names
    the archive member. A file too big even zipped is named in the report text instead.
    """
    for node in function.iter("html-output"):
        link = _CONNTEST_LINK.search(node.text())
        if link is None:
            continue
        wanted = re.split(r"[\\/]+", link.group(1))[-1]
        found = fetch(wanted) if wanted else None
        if found is None:
            return
        name, size, data = found
        if data is None:
            _note(handle, f"connection test data {name!r} ({size:,} bytes) not attached: too big")
            return
        if len(data) <= STEP_ATTACHMENT_LIMIT:
            handle.attach(name, data, "text/plain")
            return
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
            packed.writestr(name, data)
        if buffer.tell() <= STEP_ATTACHMENT_LIMIT:
            handle.attach(f"{name}.zip", buffer.getvalue(), "application/zip")
            return
        _note(
            handle,
            f"connection test data {name!r} ({len(data):,} bytes) not attached: over "
            f"{STEP_ATTACHMENT_LIMIT // 1024} KB even zipped",
        )
        return


def _note(handle: StepHandle, note: str) -> None:
    """Add a line to the step's report text (what could not go where it belongs)."""
    before = handle.step.report_text
    handle.step.report_text = f"{before}\n{note}" if before else note

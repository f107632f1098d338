"""The ``xjtag`` converter: XJTAG boundary-scan logs (``.xjlog``) and their XML export.

One kind reads both forms of a run, telling them apart by content (a ZIP archive or XML):

* ``.xjlog``: a ZIP of ``Info.xml`` (``LogFileInfo``: ``TestRunCount``, ``ProjectPath``), one
  ``Run <n>.xml`` per run, a ``Run <n>.checksum`` each (XJTAG's keyed digest, which cannot be
  checked without XJTAG's key: the ZIP's own CRCs are), and the connection test's full data
  (``<xjlink serial>_<ticks>``), linked from the connection-test step. One report per run.
* the XML export: one run, the same ``<testrun>`` document as a ``Run <n>.xml``, indented.

The mapping of a run is in :mod:`._xjtag_run`; the archive is opened by :mod:`._xjtag_zip` and
the XML read by :mod:`._xjtag_xml`, neither trusting its input (size and ratio caps, no
DOCTYPE, no path-like member names). The process, which no XJTAG file names, is
``arguments.process`` or 210, the one WATS's own XJTAG converter uses.

Arguments: the equipment arguments (:class:`._equipment.EquipmentArguments`: ``process``,
``process_map``, ``operator``, ``part_number``, ``revision``, ``timezone``) and
``attach_connection_test`` (default true).
"""

from __future__ import annotations

import codecs
import functools
import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats.models.report import UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._budget import (
    OutputBudget,
    TooBigForThread,
    current_budget,
    human_size,
)
from pywats_station.converters.builtin._common import read_head
from pywats_station.converters.builtin._equipment import EquipmentArguments, resolve_process
from pywats_station.converters.builtin._xjtag_run import Run, run_report
from pywats_station.converters.builtin._xjtag_xml import Node, parse_xml
from pywats_station.converters.builtin._xjtag_zip import LogArchive, is_zip, open_archive

__all__ = ["DEFAULT_PROCESS", "XjtagArguments", "XjtagConverter", "read_xjtag"]

DEFAULT_PROCESS = 210
"""The process of WATS's own XJTAG converter (its code's default; its README says 10)."""
MAX_RUN_BYTES = 64 << 20
"""The largest run document read (a real one is about 45 kB)."""
MAX_INFO_BYTES = 64 << 10
"""The largest ``Info.xml`` read (a real one is about 300 bytes)."""
MAX_DATA_BYTES = 16 << 20
"""The largest connection-test data file read to be attached (a real one is about 45 kB)."""
MAX_RUNS = 1000
"""The most runs one log may hold."""

_SNIFF = 64 << 10
_ROOT_TAG = re.compile(r"<([A-Za-z_][\w:.-]*)([^<>]*)>")
_NAME = re.compile(
    r"(?P<sn>.+)_\d\d_\d\d_\d\d_\d\d[._]\d\d[._]\d{4}_(?P<result>[A-Za-z]+)", re.IGNORECASE
)
_RESULT_WORDS = {"pass": "P", "passed": "P", "fail": "F", "failed": "F"}
_RUN_MEMBER = re.compile(r"run \d+\.(xml|checksum)")


class XjtagArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``xjtag`` converter (the equipment arguments, and one of its own).

    Attributes:
        attach_connection_test: attach the connection test's full data file of an ``.xjlog``
            to the step that links to it (zipped when over 100 KB).
    """

    attach_connection_test: bool = True


def _arguments(ctx: ConverterContext) -> XjtagArguments:
    if isinstance(ctx.arguments, XjtagArguments):
        return ctx.arguments
    return XjtagArguments()


def _process(ctx: ConverterContext, args: XjtagArguments) -> int:
    try:
        return resolve_process(ctx, args, None, DEFAULT_PROCESS)
    except ConversionError as exc:
        raise ConversionError(
            f"the file holds no process (XJTAG logs name none), and the converter's is not "
            f"usable: {exc}; set arguments.process"
        ) from None


def _archive_runs(
    archive: LogArchive, path: Path, args: XjtagArguments, used: set[str]
) -> Iterator[Run]:
    """The runs of an open ``.xjlog``, each parsed when it is reached."""
    info_member = archive.find("Info.xml")
    if info_member is None:
        raise ConversionError("the archive has no member 'Info.xml': not an XJTAG log archive")
    used.add(info_member.filename.casefold())
    info = parse_xml(archive.read(info_member, MAX_INFO_BYTES), "member 'Info.xml', ")
    if info.tag != "LogFileInfo":
        raise ConversionError(
            f"member 'Info.xml', {info.where}: the root element is not <LogFileInfo>: not an "
            "XJTAG log archive"
        )
    count = _run_count(archive, info)
    project = (info.child_text("ProjectPath") or "").strip() or None

    def fetch(name: str) -> tuple[str, int, bytes | None] | None:
        member = archive.find(name)
        key = name.casefold()
        if member is None or key == "info.xml" or _RUN_MEMBER.fullmatch(key):
            return None
        used.add(key)
        if member.file_size > MAX_DATA_BYTES:  # not worth reading: it cannot be attached
            return member.filename, member.file_size, None
        return member.filename, member.file_size, archive.read(member, MAX_DATA_BYTES)

    for number in range(1, count + 1):
        name = f"Run {number}.xml"
        member = archive.find(name)
        if member is None:
            raise ConversionError(
                f"the archive has no member {name!r}, though Info.xml says it holds {count} "
                "run(s): cut short or damaged"
            )
        used.add(member.filename.casefold())
        used.add(f"run {number}.checksum")
        label = f"member {member.filename!r}, "
        root = parse_xml(archive.read(member, MAX_RUN_BYTES), label)
        yield Run(
            root=root,
            label=label,
            number=number,
            count=count,
            project_path=project,
            source=path.name,
            fetch=fetch if args.attach_connection_test else None,
        )


def _run_count(archive: LogArchive, info: Node) -> int:
    """``Info.xml``'s ``TestRunCount``, or (without one) the ``Run <n>.xml`` members from 1."""
    node = info.child("TestRunCount")
    if node is None:
        count = 0
        while count < MAX_RUNS and archive.find(f"Run {count + 1}.xml") is not None:
            count += 1
    else:
        text = node.text()
        if not re.fullmatch(r"\s*\d{1,9}\s*", text):
            raise ConversionError(
                f"member 'Info.xml', {node.where}: {text!r} is not a number of runs"
            )
        count = int(text)
        if count > MAX_RUNS:
            raise ConversionError(
                f"member 'Info.xml', {node.where}: {count:,} runs, over the {MAX_RUNS} one "
                "log may hold"
            )
    if count == 0:
        raise ConversionError("member 'Info.xml': the log holds no run")
    return count


def _fits_this_thread(archive: LogArchive, budget: OutputBudget) -> None:
    """Hand a log that expands beyond what the daemon converts in its own thread to a child.

    The station converts a small input in its thread and a big one in a child process, whose
    memory goes back to the system; an archive is small on disk but its runs are read
    expanded, so it is judged by what it expands to.

    Raises:
        TooBigForThread: the members add up to more than the budget's ``thread_limit``.
    """
    expanded = sum(info.file_size for info in archive.members.values())
    if budget.thread_limit is not None and expanded > budget.thread_limit:
        raise TooBigForThread(f"the archive expands to {human_size(expanded)}")


def read_xjtag(path: Path, ctx: ConverterContext) -> list[UUTReport | UURReport]:
    """The reports of an XJTAG log or XML export: one per run.

    Raises:
        ConversionError: the input is broken or not XJTAG's; the message names the member,
            element and line; the reports are over the output budget.
    """
    args = _arguments(ctx)
    # Resolved when the first report is made: a broken file is said to be broken first.
    process = functools.cache(lambda: _process(ctx, args))
    budget = current_budget()
    reports: list[UUTReport | UURReport] = []
    if is_zip(read_head(path, 4)):
        used: set[str] = set()
        with open_archive(path) as archive:
            _fits_this_thread(archive, budget)
            for run in _archive_runs(archive, path, args, used):
                reports.append(run_report(run, ctx, args, process, budget))
            left = sorted(i.filename for k, i in archive.members.items() if k not in used)
        if left:
            ctx.log.info("%s: members not converted: %s", path.name, ", ".join(left))
        return reports
    size = os.stat(path).st_size
    if size > MAX_RUN_BYTES:
        raise ConversionError(
            f"the file is {size:,} bytes, over the {MAX_RUN_BYTES:,} read of an XJTAG export: "
            "not an XJTAG run export"
        )
    data = path.read_bytes()
    if not data.strip():
        raise ConversionError("the file is empty" if not data else "the file holds only blanks")
    if not _head_text(data[:64]).lstrip().startswith("<"):
        raise ConversionError(
            f"not an XJTAG log or run export: neither a ZIP archive nor XML (it starts with "
            f"{data[:8]!r})"
        )
    run = Run(root=parse_xml(data), label="", source=path.name)
    reports.append(run_report(run, ctx, args, process, budget))
    return reports


# --- recognition -------------------------------------------------------------------------------


def _name_preview(path: Path) -> Preview:
    """What XJRunner's file names say: ``<serial>_HH_mm_ss_dd.MM.yyyy_<Pass|Fail>``."""
    found = _NAME.fullmatch(path.stem)
    if found is None:
        return Preview()
    return Preview(serial_number=found["sn"], result=_RESULT_WORDS.get(found["result"].casefold()))


def _head_text(head: bytes) -> str:
    """The first bytes of an XML file as text: a byte-order mark or UTF-16's zero bytes tell
    the encoding, else UTF-8 (the tag names that matter are ASCII in any other)."""
    encoding = "utf-8"
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            encoding = name
            break
    else:
        if head.startswith(b"<\x00"):
            encoding = "utf-16-le"
        elif head.startswith(b"\x00<"):
            encoding = "utf-16-be"
    return head.decode(encoding, "ignore")


def _root_tag(text: str) -> re.Match[str] | None:
    """The root element's start tag: after the declaration, processing instructions and
    comments (skipped by searching their ends, one pass: no pattern that could backtrack)."""
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        for start, end in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(start, at):
                found = text.find(end, at + len(start))
                if found < 0:
                    return None
                at = found + len(end)
                break
        else:
            return _ROOT_TAG.match(text, at)


def _element_text(text: str, tag: str) -> str | None:
    start = text.find(f"<{tag}>")
    end = text.find(f"</{tag}>", start)
    if start < 0 or end < 0:
        return None
    return html.unescape(text[start + len(tag) + 2 : end].strip())


def _validate_xml(head: bytes, path: Path) -> Validation:
    text = _head_text(head)
    if not text.strip():
        return Validation(confidence=0.0, message="the file is empty: not an XJTAG run")
    root = _root_tag(text)
    if root is None or root.group(1) != "testrun":
        name = f"<{root.group(1)}>" if root else "no XML root element"
        return Validation(confidence=0.0, message=f"{name}: not an XJTAG run (<testrun>)")
    if "datetime" not in root.group(2):
        return Validation(confidence=0.5, message="<testrun> without its datetime attribute")
    confidence = 1.0 if re.search(r"<(testgroup|testruninfo)\b", text) else 0.9
    preview = _name_preview(path)
    info = _element_text(text, "testruninfo")
    if info is not None:
        serial = _element_text(info, "serial")
        word = (_element_text(info, "result") or "").casefold()
        preview = Preview(
            serial_number=serial or preview.serial_number,
            result=_RESULT_WORDS.get(word, "F" if word else preview.result),
        )
    return Validation(confidence=confidence, preview=preview, message="XJTAG run (XML export)")


def _validate_zip(path: Path) -> Validation:
    named = path.suffix.casefold() == ".xjlog"
    try:
        with open_archive(path) as archive:
            info = archive.find("Info.xml")
            run = archive.find("Run 1.xml")
            if info is None and run is None:
                return Validation(
                    confidence=0.0,
                    message="a ZIP archive without Info.xml or Run 1.xml: not an XJTAG log",
                )
            if info is None or run is None:
                missing = "Info.xml" if info is None else "Run 1.xml"
                return Validation(confidence=0.6, message=f"an XJTAG log without {missing}?")
            root = parse_xml(archive.read(info, MAX_INFO_BYTES), "member 'Info.xml', ")
    except ConversionError as exc:
        return Validation(confidence=0.5 if named else 0.1, message=str(exc))
    if root.tag != "LogFileInfo":
        return Validation(confidence=0.6, message=f"Info.xml's root is <{root.tag}>")
    runs = (root.child_text("TestRunCount") or "?").strip()
    return Validation(
        confidence=1.0, preview=_name_preview(path), message=f"XJTAG log ({runs} run(s))"
    )


class XjtagConverter(FileConverter):
    """XJTAG logs (``*.xjlog``) and XJTAG's XML export (``*.xml``): one report per run."""

    name: ClassVar[str] = "xjtag"
    description: ClassVar[str] = "XJTAG boundary-scan logs (.xjlog) and their XML export"
    patterns: ClassVar[tuple[str, ...]] = ("*.xjlog", "*.xml")
    Arguments: ClassVar[type[msgspec.Struct]] = XjtagArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for an ``.xjlog`` whose ``Info.xml`` is a ``LogFileInfo`` and that holds
        ``Run 1.xml``, or XML whose root is ``<testrun datetime=…>`` with a test group; reads
        the first 64 KiB of XML, of a ZIP only its central directory and ``Info.xml``."""
        try:
            head = read_head(path, _SNIFF)
        except OSError as exc:
            return Validation(confidence=0.0, message=f"cannot be read: {exc}")
        if is_zip(head):
            return _validate_zip(path)
        return _validate_xml(head, path)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per run of the log (see :func:`read_xjtag`)."""
        return Converted(reports=read_xjtag(path, ctx))

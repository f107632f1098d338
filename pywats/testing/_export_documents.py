"""The files the emulator's certificate exports produce: PDF certificates in a zip.

A certificate is one PDF page per report: its header (part, revision, serial number, operation,
start, result), the details the export's dimensions name, and, unless the export is for header
data only, one line per step with its status and measurements. Text only, Helvetica, valid
PDF 1.4 that any reader opens.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pywats.models.report import UUTReport
from pywats.testing._analytics_measures import STATUS_WORDS

__all__ = ["CertificateOptions", "certificate_lines", "certificates_zip", "pdf"]

_LINES_PER_PAGE = 48


@dataclass(frozen=True, slots=True)
class CertificateOptions:
    """What an export asked for (``POST /api/Export/Certificate``'s parameters)."""

    header_data_only: bool
    as_individual_files: bool
    dimensions: frozenset[str]  # casefolded; empty: every detail
    numeric_format: str  # casefolded NumericFormat value
    body_footer: Callable[[UUTReport], str | None]
    document_footer: Callable[[UUTReport], str | None]

    def shows(self, dimension: str) -> bool:
        """Whether the certificate shows a detail (all do when no dimension was named)."""
        return not self.dimensions or dimension.casefold() in self.dimensions


def _number(value: float | None, fmt: str) -> str:
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    whole = round(value)
    formats: dict[str, Callable[[], str]] = {
        "integer": lambda: str(whole),
        "decimal": lambda: f"{value:.3f}",
        "scientific": lambda: f"{value:.6e}",
        "general": lambda: f"{value:.6g}",
        "hexadecimal": lambda: hex(whole),
        "binary": lambda: bin(whole),
    }
    return formats.get(fmt, lambda: repr(value))()


def _header_lines(report: UUTReport, opts: CertificateOptions) -> list[str]:
    lines = [
        "Test certificate",
        f"Part number {report.pn or ''}  revision {report.rev or ''}",
        f"Serial number {report.sn or ''}",
        f"Started {report.start.isoformat() if report.start else ''}",
    ]
    uut = report.uut
    details: list[tuple[str, str | None]] = [
        ("testOperation", f"Operation {report.process_code} {report.process_name or ''}".strip()),
        ("reportStatus", f"Result {STATUS_WORDS.get(report.result or '', report.result)}"),
        ("stationData", f"Station {report.machine_name} ({report.location}, {report.purpose})"),
        ("operator", f"Operator {uut.user}" if uut and uut.user else None),
        ("batchNumber", f"Batch {uut.batch_sn}" if uut and uut.batch_sn else None),
        ("fixtureId", f"Fixture {uut.fixture_id}" if uut and uut.fixture_id else None),
        ("executionTime", f"Execution time {uut.exec_time} s" if uut and uut.exec_time else None),
        ("comment", f"Comment {uut.comment}" if uut and uut.comment else None),
        ("errorCode", f"Error code {uut.error_code}" if uut and uut.error_code else None),
        ("errorMessage", f"Error {uut.error_message}" if uut and uut.error_message else None),
    ]
    lines.extend(text for key, text in details if text and opts.shows(key))
    if opts.shows("miscInfo"):
        lines.extend(
            f"{m.description}: {m.text if m.text is not None else m.numeric}"
            for m in report.misc_infos or ()
        )
    if opts.shows("subUnitInfo"):
        lines.extend(
            f"Sub-unit {u.part_type} {u.pn} {u.rev} {u.sn}" for u in report.sub_units or ()
        )
    if opts.shows("asset"):
        lines.extend(f"Asset {a.asset_sn}" for a in report.assets or ())
    return lines


def _step_lines(report: UUTReport, opts: CertificateOptions) -> list[str]:
    if report.root is None:
        return []
    out: list[str] = ["", "Steps"]
    stack = [(report.root, 0)]
    while stack:
        step, depth = stack.pop()
        indent = "  " * depth if opts.shows("viewStepHierarchy") else ""
        parts = [f"{indent}{step.name or ''}"]
        if opts.shows("stepStatus"):
            parts.append(STATUS_WORDS.get(step.status or "", step.status or ""))
        for m in step.numeric_meas or ():
            item = [m.name or ""] if m.name else []
            if opts.shows("measurement"):
                item.append(_number(m.value, opts.numeric_format))
            if opts.shows("units") and m.unit:
                item.append(m.unit)
            if opts.shows("compOperator") and m.comp_op:
                item.append(m.comp_op)
            if opts.shows("lowLimit") and m.low_limit is not None:
                item.append(f"low {_number(m.low_limit, opts.numeric_format)}")
            if opts.shows("highLimit") and m.high_limit is not None:
                item.append(f"high {_number(m.high_limit, opts.numeric_format)}")
            parts.append(" ".join(item))
        if opts.shows("stepTime") and step.tot_time is not None:
            parts.append(f"{step.tot_time} s")
        out.append("  ".join(p for p in parts if p))
        stack.extend((child, depth + 1) for child in reversed(step.steps or ()))
    return out


def certificate_lines(report: UUTReport, opts: CertificateOptions) -> list[str]:
    """The text of one report's certificate."""
    lines = _header_lines(report, opts)
    if not opts.header_data_only:
        lines.extend(_step_lines(report, opts))
    for footer in (opts.body_footer(report), opts.document_footer(report)):
        if footer:
            lines.extend(["", footer])
    return lines


def _pages(lines: list[str]) -> list[list[str]]:
    return [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)] or [[]]


def pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A valid PDF 1.4 document with one page per item of ``pages`` (lines of text)."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    count = max(len(pages), 1)
    # Objects: 1 catalog, 2 page tree, 3 font, then a page and its content stream per page.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i in range(count):
        lines = pages[i] if i < len(pages) else ()
        text = "BT /F1 11 Tf 56 800 Td 15 TL " + " ".join(f"({esc(t)}) '" for t in lines) + " ET"
        stream = text.encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _entry_name(report: UUTReport, seen: set[str]) -> str:
    base = "_".join(
        "".join(c if c.isalnum() or c in "-." else "-" for c in part)
        for part in (report.pn or "unknown", report.sn or "unknown", str(report.id)[:8])
    )
    name, n = f"{base}.pdf", 1
    while name in seen:
        n += 1
        name = f"{base}-{n}.pdf"
    seen.add(name)
    return name


def certificates_zip(reports: Sequence[UUTReport], opts: CertificateOptions) -> bytes:
    """The export's zip: a PDF per report, or one PDF with a page (or more) per report."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if opts.as_individual_files:
            seen: set[str] = set()
            for report in reports:
                page_lines = _pages(certificate_lines(report, opts))
                archive.writestr(_entry_name(report, seen), pdf(page_lines))
        else:
            pages = [p for r in reports for p in _pages(certificate_lines(r, opts))]
            archive.writestr("Certificates.pdf", pdf(pages))
    return buffer.getvalue()

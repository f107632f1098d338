"""The emulator's ``export`` routes:

Exporting reports and data (tag Export). A certificate export (``POST /api/Export/Certificate``)
runs at once in the emulator: its zip (PDF certificates of the test reports the filter selects,
the newest ``topCount`` (1000 by default), oldest first) is in ``GET /api/Export/List`` as soon as
the answer names it, and ``GET /api/Export/{fileName}`` downloads it. Exports belong to the user
the token identifies: another user's export is not listed and is not found. The emulator mails
nothing: ``email`` (which the server requires of a token, to mail the link to) is accepted and
not checked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pywats.models.export import CertificateDimension, NumericFormat
from pywats.models.report import UUTReport
from pywats.testing._analytics_select import decode_filter, documents, select_reports
from pywats.testing._export_documents import CertificateOptions, certificates_zip
from pywats.testing._http import HTTPFailure, Request, Response, Router, json_response

if TYPE_CHECKING:
    from pywats.testing._emulator import FakeWATS

__all__ = ["ExportState", "add_export_routes", "export_state"]

_DEFAULT_TOP = 1000
_DIMENSIONS = {d.value.casefold(): d.value for d in CertificateDimension}
_FORMATS = {f.value.casefold() for f in NumericFormat}


@dataclass
class ExportState:
    """Finished exports, by owner (the user a token identifies), in the order queued."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # user -> name -> zip
    queued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, user: str, data: bytes) -> str:
        """Keep a finished export of ``user``; return its file name (unique on this server)."""
        with self.lock:
            self.queued += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            name = f"CertificateExport_{stamp}_{self.queued}.zip"
            self.files.setdefault(user, {})[name] = data
            return name

    def names(self, user: str) -> list[str]:
        """The user's export file names, oldest first."""
        with self.lock:
            return list(self.files.get(user, {}))

    def find(self, user: str, name: str) -> tuple[str, bytes] | None:
        """A user's export (its name and content) by its name, with or without ``.zip``, in
        any letter case."""
        wanted = name.casefold()
        with self.lock:
            for stored, data in self.files.get(user, {}).items():
                if wanted in (stored.casefold(), stored.casefold().removesuffix(".zip")):
                    return stored, data
        return None


def export_state(emu: FakeWATS) -> ExportState:
    """The emulator's exports."""
    return emu.domain_state("export", ExportState)


def add_export_routes(router: Router) -> None:
    """Register the export routes on ``router``."""
    # Literal routes first: /api/Export/List is not a file named "List".
    router.add("GET", "/api/Export/List", export_list)
    router.add("POST", "/api/Export/Certificate", queue_certificate)
    router.add("GET", "/api/Export/{fileName}", exported_file)


def _required_flag(req: Request, name: str) -> bool:
    value = req.param(name)
    if value is None or not value.strip():
        raise HTTPFailure(400, f"The request is invalid. {name} is required.")
    if value.strip().lower() not in ("true", "false"):
        raise HTTPFailure(400, f"The value '{value}' is not valid for {name}.")
    return value.strip().lower() == "true"


def _dimensions(text: str | None) -> frozenset[str]:
    chosen = set()
    for part in (text or "").split(";"):
        name = part.strip()
        if not name:
            continue
        if name.casefold() not in _DIMENSIONS:
            raise HTTPFailure(
                400,
                f"dimensions: '{name}' is not supported; use {', '.join(_DIMENSIONS.values())}.",
            )
        chosen.add(name.casefold())
    return frozenset(chosen)


def _footer(emu: FakeWATS, tag: str | None) -> Callable[[UUTReport], str | None]:
    """The value of a product tag on each report's part number (``None``: no such tag)."""
    if tag is None or not tag.strip():
        return lambda report: None
    from pywats.testing._product_routes import product_state

    products = product_state(emu)

    def value(report: UUTReport) -> str | None:
        record = products.product(report.pn or "")
        tags = record.get("tags") if record else None
        for item in tags if isinstance(tags, list) else ():
            if isinstance(item, dict) and str(item.get("key", "")).casefold() == tag.casefold():
                found = item.get("value")
                return str(found) if found is not None else None
        return None

    return value


def queue_certificate(emu: FakeWATS, req: Request) -> Response:
    """``POST /api/Export/Certificate``: export the certificates of the filter's test reports."""
    header_only = _required_flag(req, "headerDataOnly")
    individual = _required_flag(req, "asIndividualFiles")
    flt = decode_filter(req)
    numeric = (req.param("numericFormat") or "default").strip().casefold()
    if numeric not in _FORMATS:
        raise HTTPFailure(
            400, f"numericFormat: '{numeric}' is not supported; use {', '.join(sorted(_FORMATS))}."
        )
    dimensions = _dimensions(req.param("dimensions")) or _dimensions(flt.dimensions)
    chosen = select_reports(emu, flt, report_type="T")
    chosen = chosen[-(flt.top_count or _DEFAULT_TOP) :]
    reports = [doc for _, doc in documents(emu, chosen) if isinstance(doc, UUTReport)]
    options = CertificateOptions(
        header_data_only=header_only,
        as_individual_files=individual,
        dimensions=dimensions,
        numeric_format=numeric,
        body_footer=_footer(emu, req.param("bodyFooterTag")),
        document_footer=_footer(emu, req.param("documentFooterTag")),
    )
    name = export_state(emu).add(req.user or "", certificates_zip(reports, options))
    return json_response({"exportFileName": name})


def export_list(emu: FakeWATS, req: Request) -> Response:
    """``GET /api/Export/List``: the calling user's export file names."""
    return json_response(export_state(emu).names(req.user or ""))


def exported_file(emu: FakeWATS, req: Request, fileName: str) -> Response:
    """``GET /api/Export/{fileName}``: download one of the calling user's exports."""
    name = fileName.strip()
    if name in ("", ".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        raise HTTPFailure(400, f"fileName: {fileName!r} is not a file name.")
    found = export_state(emu).find(req.user or "", name)
    if found is None:
        raise HTTPFailure(404, f"Export '{name}' was not found.")
    stored, data = found
    return Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{stored}"'},
    )

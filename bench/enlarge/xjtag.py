"""An XJTAG input ``factor`` times bigger, for the throughput benchmark.

* A ``.xjlog`` (a ZIP) gets ``factor`` runs: ``Run 1.xml`` copied as ``Run <n>.xml`` (with its
  checksum member and its own copy of the connection-test data it links to), each copy's
  serial number made its own (``567567-2``), ``Info.xml``'s ``TestRunCount`` set to match; one
  report per run.
* An XML export (one run by nature) gets its test groups repeated ``factor`` times, each copy
  named ``<group> (<n>)``: one report with ``factor`` times the steps. (Its summary then no
  longer matches the groups, so the converter reads the run alone, as it does for any summary
  that disagrees.)
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile

__all__ = ["enlarge"]

_SERIAL = re.compile(r"(<serial>)([^<]*)(</serial>)")
_GROUP = re.compile(r'(<testgroup\b[^>]*\bname=")([^"]*)(")')


def _decode(data: bytes) -> tuple[str, str]:
    """The text of an XML document and the encoding to write it back in."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(name), name
    return data.decode("utf-8"), "utf-8"


def _enlarge_log(data: bytes, factor: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    run = next((name for name in members if name.casefold() == "run 1.xml"), None)
    info = next((name for name in members if name.casefold() == "info.xml"), None)
    if run is None or info is None:
        raise ValueError("not an XJTAG log: no Info.xml or Run 1.xml")
    text, encoding = _decode(members[run])
    checksum = members.get("Run 1.checksum", b"")
    others = {
        name: content
        for name, content in members.items()
        if not re.fullmatch(r"(?i)run \d+\.(xml|checksum)|info\.xml", name)
    }
    linked = [name for name in others if name in text]  # the run's connection-test data
    info_text, info_encoding = _decode(members[info])
    info_text = re.sub(
        r"<TestRunCount>\s*\d+\s*</TestRunCount>",
        f"<TestRunCount>{factor}</TestRunCount>",
        info_text,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(1, factor + 1):
            copy = text
            if number > 1:  # its own serial number, and its own copy of the data it links to
                copy = _SERIAL.sub(rf"\g<1>\g<2>-{number}\g<3>", copy)
                for name in linked:
                    copy = copy.replace(name, f"{name}-{number}")
                    archive.writestr(f"{name}-{number}", others[name])
            archive.writestr(f"Run {number}.xml", copy.encode(encoding))
            archive.writestr(f"Run {number}.checksum", checksum)
        for name, content in others.items():
            archive.writestr(name, content)
        archive.writestr(info, info_text.encode(info_encoding))
    return out.getvalue()


def _enlarge_export(data: bytes, factor: int) -> bytes:
    text, encoding = _decode(data)
    first = text.find("<testgroup")
    last = text.rfind("</testgroup>")
    if first < 0 or last < 0:
        raise ValueError("not an XJTAG run: no <testgroup>")
    end = last + len("</testgroup>")
    groups = text[first:end]
    copies = [groups]
    for number in range(2, factor + 1):
        copies.append(_GROUP.sub(rf"\g<1>\g<2> ({number})\g<3>", groups))
    return (text[:first] + "\n  ".join(copies) + text[end:]).encode(encoding)


def enlarge(data: bytes, factor: int) -> bytes:
    """``data`` (an ``.xjlog`` or an XML export) about ``factor`` times bigger (see above).

    Raises:
        ValueError: ``factor`` is below 1, or ``data`` is not an XJTAG log or run.
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    if data.startswith(b"PK\x03\x04"):
        return _enlarge_log(data, factor)
    return _enlarge_export(data, factor)

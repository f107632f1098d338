"""The on-disk formats of one queue entry: file names, the payload header and the state sidecar.

A payload file is immutable once renamed into place::

    {"v":1,"id":"…","size":1234,"checksum":"sha256:…","created_at":1700000000.0,"source":"…",
     "unit":{"kind":"uut","part_number":"…","serial_number":"…",…}}\\n
    <size bytes of WSJF>

The header is one line of JSON (msgspec escapes newlines inside strings, so the first ``\\n`` ends
it). ``size`` lets a truncated file be recognised from its length alone, without hashing it;
``checksum`` catches everything else when the payload is read for upload or verified.

``unit`` (which unit the report is about, see ``_unit``) came later, within version 1: a header
without it (an entry queued before) reads as an entry without a unit, and a version before it
ignores it (an unknown member). It is read leniently: a summary that does not decode is lost
alone, it never makes the entry corrupt.

The sidecar holds what changes (state, attempts, next attempt, errors) as one JSON object. It is
absent for an entry that has never failed: most entries are written once and deleted once.
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from pywats_station._display import display_text

from ._state import Entry, EntryState
from ._unit import Unit, decode_unit

__all__ = [
    "BUCKET_SIZE",
    "HEADER_MAX",
    "PAYLOAD_SUFFIX",
    "SIDECAR_SUFFIX",
    "BadEntry",
    "Header",
    "Sidecar",
    "bucket_name",
    "check_report_id",
    "checksum_of",
    "decode_sidecar",
    "encode_header",
    "encode_sidecar",
    "entry_from",
    "parse_bucket",
    "parse_stem",
    "read_header",
    "read_payload",
    "stem_of",
    "storable_source",
]

FORMAT_VERSION = 1
PAYLOAD_SUFFIX = ".wsjf"
SIDECAR_SUFFIX = ".state"
BUCKET_SIZE = 1000
"""Entries per sub-folder, so that no folder listing holds more than 2000 names."""
HEADER_MAX = 64 * 1024
"""A longer first line is not a header: the file is corrupt."""
SOURCE_MAX = 4096
"""Characters of ``source`` kept in a header (a file name is at most 255 bytes; a path 4096)."""
_HEADER_PROBE = 4096  # headers are ~400 bytes; do not read 64 KiB of payload to find the end
SEQ_DIGITS = 12
BUCKET_DIGITS = SEQ_DIGITS - 3  # BUCKET_SIZE = 10**3

_REPORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_STEM = re.compile(rf"(\d{{{SEQ_DIGITS}}})-({_REPORT_ID.pattern})")
_BUCKET = re.compile(rf"\d{{{BUCKET_DIGITS}}}")
_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")


class BadEntry(Exception):
    """Internal: an entry's files fail a check; the message is the reason kept beside it."""


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """The first line of a payload file: what the entry is, fixed at ``put`` time."""

    v: int
    id: str
    size: int
    checksum: str
    created_at: float
    source: str | None = None
    # Kept undecoded (and left out when there is none): decode_unit reads it leniently.
    unit: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class Sidecar(msgspec.Struct, frozen=True, kw_only=True):
    """The mutable part of an entry, replaced atomically on every change."""

    v: int
    state: EntryState
    attempts: int = 0
    next_attempt_at: float | None = None
    last_error: str | None = None
    dead_reason: str | None = None


_header_decoder = msgspec.json.Decoder(Header)
_sidecar_decoder = msgspec.json.Decoder(Sidecar)


def check_report_id(report_id: str) -> None:
    """Refuse ids that cannot be part of a file name (a GUID string always can).

    Raises:
        ValueError: not 1-128 characters of letters, digits, ``.``, ``_`` and ``-``.
    """
    if not isinstance(report_id, str) or not _REPORT_ID.fullmatch(report_id):
        raise ValueError(f"report id {report_id!r} is not usable as a queue entry name")


def stem_of(seq: int, report_id: str) -> str:
    """``<seq:012d>-<report id>``: sorting stems sorts by seq, i.e. FIFO."""
    return f"{seq:0{SEQ_DIGITS}d}-{report_id}"


def parse_stem(stem: str) -> tuple[int, str] | None:
    """``(seq, report id)`` of a stem, or ``None`` for a name that is not an entry's."""
    m = _STEM.fullmatch(stem)
    return (int(m[1]), m[2]) if m else None


def bucket_name(seq: int) -> str:
    """The sub-folder of ``entries/`` that holds the entry ``seq``."""
    return f"{seq // BUCKET_SIZE:0{BUCKET_DIGITS}d}"


def parse_bucket(name: str) -> int | None:
    """The bucket number of a sub-folder name, or ``None`` for anything else."""
    return int(name) if _BUCKET.fullmatch(name) else None


def checksum_of(wsjf: bytes) -> str:
    """``"sha256:<hex>"`` of the WSJF bytes."""
    return "sha256:" + hashlib.sha256(wsjf).hexdigest()


def storable_source(source: str | None) -> str | None:
    """``source`` as a header keeps it: one printable line of at most :data:`SOURCE_MAX` chars.

    A source names a file, and a file name may hold anything (bytes that are not UTF-8, which
    JSON cannot encode, newlines, control characters): those are escaped, never refused, so no
    name can stop a report from being queued. Text that is already escaped stays as it is.
    """
    return None if source is None else display_text(source, limit=SOURCE_MAX)


def _storable(text: str | None) -> str | None:
    """Free text (an error message) made encodable as UTF-8, escaped only when it must be."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. a file name quoted in an OSError
        return display_text(text)
    return text


def encode_header(
    report_id: str,
    wsjf: bytes,
    checksum: str,
    created_at: float,
    source: str | None,
    unit: Unit | None = None,
) -> bytes:
    """The header line of a new payload file, without its ``\\n``.

    ``source`` is stored as :func:`storable_source` makes it: any string can be stored.
    ``unit`` (escaped already by ``unit_of``) is left out when ``None``.
    """
    header = Header(
        v=FORMAT_VERSION,
        id=report_id,
        size=len(wsjf),
        checksum=checksum,
        created_at=created_at,
        source=storable_source(source),
        unit=msgspec.UNSET if unit is None else msgspec.Raw(msgspec.json.encode(unit)),
    )
    return msgspec.json.encode(header)


def _parse_header(first: bytes, report_id: str) -> Header:
    end = first.find(b"\n")
    if end < 0:
        raise BadEntry("no header line (empty, truncated or not a queue entry)")
    try:
        header = _header_decoder.decode(first[:end])
    except msgspec.DecodeError as exc:
        raise BadEntry(f"unreadable header: {exc}") from None
    if header.v != FORMAT_VERSION:
        raise BadEntry(f"unknown format version {header.v}")
    if header.id != report_id:
        raise BadEntry(f"header names report {header.id!r}, file name {report_id!r}")
    if header.size < 0 or not _CHECKSUM.fullmatch(header.checksum):
        raise BadEntry("header has an invalid size or checksum")
    return header


def _check_length(header: Header, header_len: int, file_size: int) -> None:
    expected = header_len + 1 + header.size
    if file_size != expected:
        raise BadEntry(f"file has {file_size} bytes, header promises {expected} (truncated?)")


def read_header(path: str, report_id: str) -> tuple[Header, int]:
    """The header of a payload file and the file's size, checking the size but not the checksum.

    Raises:
        FileNotFoundError: the entry is gone (completed or purged meanwhile).
        BadEntry: unreadable header, wrong id or version, or a length that does not match.
    """
    with open(path, "rb") as f:
        first = f.read(_HEADER_PROBE)
        if b"\n" not in first and len(first) == _HEADER_PROBE:  # a long ``source``, or garbage
            first += f.read(HEADER_MAX - _HEADER_PROBE)
        header = _parse_header(first, report_id)
        file_size = f.seek(0, 2)
    _check_length(header, first.index(b"\n"), file_size)
    return header, file_size


def read_payload(path: str, report_id: str) -> tuple[Header, bytes, int]:
    """The header, WSJF bytes and file size of a payload file, every check included.

    Raises:
        FileNotFoundError: the entry is gone (completed or purged meanwhile).
        BadEntry: as ``read_header``, or the WSJF bytes do not match the checksum.
    """
    with open(path, "rb") as f:
        content = f.read()
    header = _parse_header(content[:HEADER_MAX], report_id)
    start = content.index(b"\n") + 1
    _check_length(header, start - 1, len(content))
    wsjf = content[start:]
    if checksum_of(wsjf) != header.checksum:
        raise BadEntry(f"checksum mismatch: header says {header.checksum}")
    return header, wsjf, len(content)


def encode_sidecar(e: Entry) -> bytes:
    """The sidecar of an entry; UPLOADING is never persisted (an interrupted upload is re-sent)."""
    if e.state is EntryState.UPLOADING:
        raise ValueError("UPLOADING is a state in memory only")
    sidecar = Sidecar(
        v=FORMAT_VERSION,
        state=e.state,
        attempts=e.attempts,
        next_attempt_at=e.next_attempt_at,
        last_error=_storable(e.last_error),
        dead_reason=_storable(e.dead_reason),
    )
    return msgspec.json.encode(sidecar)


def decode_sidecar(data: bytes) -> Sidecar:
    """Parse and check a sidecar.

    Raises:
        BadEntry: not JSON, wrong fields or version, or negative attempts.
    """
    try:
        sidecar = _sidecar_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise BadEntry(f"unreadable state file: {exc}") from None
    if sidecar.v != FORMAT_VERSION or sidecar.attempts < 0:
        raise BadEntry("state file has an unknown version or negative attempts")
    return sidecar


def entry_from(seq: int, header: Header, sidecar: Sidecar | None) -> Entry:
    """Assemble an entry from its two files; no sidecar means QUEUED and never attempted."""
    entry = Entry(
        seq=seq,
        report_id=header.id,
        state=EntryState.QUEUED,
        size=header.size,
        checksum=header.checksum,
        created_at=header.created_at,
        source=header.source,
        unit=None if header.unit is msgspec.UNSET else decode_unit(header.unit),
    )
    if sidecar is None:
        return entry
    return msgspec.structs.replace(
        entry,
        state=sidecar.state,
        attempts=sidecar.attempts,
        next_attempt_at=sidecar.next_attempt_at,
        last_error=sidecar.last_error,
        dead_reason=sidecar.dead_reason,
    )

"""Reading a software package's zip upload safely: the multipart body, then the archive.

Everything in an upload is hostile until checked. The archive is refused, with a 400 naming the
member, when a member would land outside the package (an absolute path, a drive letter, ``..``),
is a symbolic link, is encrypted, sits at the zip's root (the server wants every file inside a
folder), or when the archive unpacks to more than the limits allow (a zip bomb): the members'
declared sizes are checked before anything is unpacked, and unpacking never reads past them
(:mod:`zipfile` stops at the declared size and checks the CRC).
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass

from pywats.testing._http import HTTPFailure
from pywats.testing._multipart import MultipartError, boundary_of, parse_multipart

__all__ = ["ZipLimits", "Unpacked", "unpack_zip", "zip_part"]

_ROOT_RULE = "every file must be inside a folder (myFolder/myFile.txt)"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """How much one zip upload may hold."""

    max_members: int = 10_000
    max_unpacked: int = 100 * 1024 * 1024
    """Bytes of all files together, unpacked."""
    max_ratio: int = 200
    """Unpacked size / packed size of one member above ``ratio_floor`` bytes (a zip bomb)."""
    ratio_floor: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Unpacked:
    """One file of an accepted zip: its folder inside the package, its name and content."""

    folder: str
    name: str
    content: bytes


def zip_part(body: bytes, content_type: str | None) -> bytes:
    """The zip file of a ``multipart/form-data`` upload.

    Raises:
        HTTPFailure: 400 when the body is not multipart/form-data, has no file part or more
            than one, or its file part is not ``application/zip``.
    """
    media = (content_type or "").split(";", 1)[0].strip()
    if media.lower() != "multipart/form-data":
        raise HTTPFailure(
            400,
            f"The request content must be multipart/form-data with one application/zip file, "
            f"not {media or 'empty'!r}.",
        )
    boundary = boundary_of(content_type)
    if boundary is None or len(boundary) > 70:  # RFC 2046 §5.1.1
        raise HTTPFailure(400, "The multipart/form-data content type has no valid boundary.")
    try:
        parts = parse_multipart(body, boundary)
    except MultipartError as exc:
        raise HTTPFailure(400, f"The multipart/form-data body is malformed: {exc}.") from None
    files = [part for part in parts if part.filename is not None]
    if not files:
        raise HTTPFailure(400, "The multipart/form-data request has no file: attach one zip.")
    if len(files) > 1:
        raise HTTPFailure(400, f"The request has {len(files)} files; upload one zip at a time.")
    part = files[0]
    part_type = (part.content_type or "").split(";", 1)[0].strip().lower()
    if part_type != "application/zip":
        raise HTTPFailure(
            400,
            f"The file {part.filename!r} has content type {part_type or 'none'!r}; "
            "it must be application/zip.",
        )
    return part.data


def unpack_zip(data: bytes, limits: ZipLimits) -> list[Unpacked]:
    """The files of a zip upload, checked (see the module docstring).

    Raises:
        HTTPFailure: 400 naming what is wrong (and the member, when one is).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise HTTPFailure(400, f"The uploaded file is not a readable zip archive: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise HTTPFailure(
                400,
                f"The zip has {len(members):,} members; at most {limits.max_members:,} are "
                "accepted.",
            )
        planned = _plan(members, limits)
        return [_read(archive, info, folder, name) for info, folder, name in planned]


def _plan(
    members: list[zipfile.ZipInfo], limits: ZipLimits
) -> list[tuple[zipfile.ZipInfo, str, str]]:
    """Check every member before anything is unpacked; the files' folders and names."""
    planned: list[tuple[zipfile.ZipInfo, str, str]] = []
    seen: set[str] = set()
    total = 0
    for info in members:
        raw = info.filename
        path = raw.replace("\\", "/")
        if path.startswith("/") or _DRIVE.match(path):
            raise HTTPFailure(400, f"Zip member {raw!r} has an absolute path.")
        segments = [s for s in path.split("/") if s not in ("", ".")]
        if ".." in segments:
            raise HTTPFailure(400, f"Zip member {raw!r} leaves its folder ('..' in its path).")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise HTTPFailure(400, f"Zip member {raw!r} is a symbolic link; links are refused.")
        if any(ord(c) < 32 for c in path):
            raise HTTPFailure(400, f"Zip member {raw!r} has control characters in its name.")
        if info.is_dir() or not segments:
            continue  # folders come with their files; an empty one holds nothing to install
        if info.flag_bits & 0x1:
            raise HTTPFailure(400, f"Zip member {raw!r} is encrypted.")
        if len(segments) < 2:
            raise HTTPFailure(400, f"Zip member {raw!r} is at the zip's root; {_ROOT_RULE}.")
        key = "/".join(segments).casefold()  # Windows stations: one file per name, any case
        if key in seen:
            raise HTTPFailure(400, f"Zip member {raw!r} is in the zip twice.")
        seen.add(key)
        total += info.file_size
        if total > limits.max_unpacked:
            raise HTTPFailure(
                400,
                f"The zip unpacks to more than {limits.max_unpacked:,} bytes (at member "
                f"{raw!r}); upload less at a time.",
            )
        packed = max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and info.file_size / packed > limits.max_ratio:
            raise HTTPFailure(
                400,
                f"Zip member {raw!r} expands {info.file_size // packed:,} times "
                f"({info.compress_size:,} to {info.file_size:,} bytes): refused as a zip bomb.",
            )
        planned.append((info, "/".join(segments[:-1]), segments[-1]))
    return planned


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, folder: str, name: str) -> Unpacked:
    out = bytearray()
    try:
        with archive.open(info) as member:
            # zipfile stops at the declared size and checks the CRC; the cap is one more guard.
            while len(out) <= info.file_size and (chunk := member.read(_CHUNK)):
                out += chunk
    except (
        zipfile.BadZipFile,
        NotImplementedError,
        RuntimeError,
        ValueError,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:
        raise HTTPFailure(400, f"Zip member {info.filename!r} cannot be unpacked: {exc}") from None
    if len(out) > info.file_size:
        raise HTTPFailure(400, f"Zip member {info.filename!r} is larger than it says.")
    return Unpacked(folder, name, bytes(out))

"""Reading ``multipart/form-data`` request bodies (file uploads) byte for byte.

The standard library's ``email`` parser is made for mail: it may rewrite line ends inside a
part. Uploads must come back exactly as sent, so parts are cut at their boundaries here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MultipartError", "Part", "boundary_of", "parse_multipart"]


class MultipartError(ValueError):
    """The body is not well-formed ``multipart/form-data``; the message says why."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a form: its field name, file name (for a file), content type and bytes."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes


_PARAM = re.compile(
    r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.IGNORECASE | re.DOTALL
)


def _params(value: str) -> dict[str, str]:
    """The ``; key=value`` parameters of a header value (keys lower-cased)."""
    out: dict[str, str] = {}
    for match in _PARAM.finditer(value):
        key = match.group(1).lower()
        quoted, bare = match.group(2), match.group(3)
        out[key] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return out


def boundary_of(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` content type, or ``None`` for any other type."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        return None
    return _params(content_type).get("boundary") or None


def _file_name(params: dict[str, str]) -> str | None:
    extended = params.get("filename*")
    if extended is not None and "''" in extended:  # RFC 5987: charset''percent-encoded
        charset, _, encoded = extended.partition("''")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    name = params.get("filename")
    # Browsers and httpx escape a quote in a file name as %22 (RFC 7578 §4.2).
    return name.replace("%22", '"') if name is not None else None


def _part(raw: bytes) -> Part:
    head, separator, data = raw.partition(b"\r\n\r\n")
    if not separator:
        if raw.startswith(b"\r\n"):  # a part without headers
            head, data = b"", raw[2:]
        else:
            raise MultipartError("a part has no blank line after its headers")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise MultipartError(f"a part's header line is not 'Name: value': {line[:80]!r}")
        headers[key.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    params = _params(disposition)
    return Part(
        name=params.get("name"),
        filename=_file_name(params),
        content_type=headers.get("content-type"),
        data=data,
    )


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body.

    Raises:
        MultipartError: no opening boundary, a part without headers, or no closing boundary.
    """
    delimiter = b"--" + boundary.encode("latin-1", errors="replace")
    if body.startswith(delimiter):
        position = len(delimiter)
    else:
        found = body.find(b"\r\n" + delimiter)  # after a preamble
        if found < 0:
            raise MultipartError("the body does not start with its boundary")
        position = found + 2 + len(delimiter)
    parts: list[Part] = []
    while True:
        if body.startswith(b"--", position):
            return parts
        if not body.startswith(b"\r\n", position):
            raise MultipartError("a boundary is not followed by a line end")
        start = position + 2
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise MultipartError("the body ends without its closing boundary")
        parts.append(_part(body[start:end]))
        position = end + 2 + len(delimiter)

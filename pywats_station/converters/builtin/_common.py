"""Helpers shared by the built-in converters: text decoding, numbers, statuses, limits, times."""

from __future__ import annotations

import codecs
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from pywats.models.report import CompOp, StepStatus, UURReport, UUTReport
from pywats_station.converters.api import ConversionError, Preview, Validation

__all__ = [
    "BOMS",
    "decode_text",
    "infer_comp_op",
    "parse_bool",
    "parse_number",
    "parse_status",
    "parse_time",
    "position",
    "read_head",
    "recognised",
]

BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
"""Byte-order marks and their encodings: a mark wins over the configured encoding."""
_STATUS_WORDS = {
    "p": "P",
    "pass": "P",
    "passed": "P",
    "ok": "P",
    "f": "F",
    "fail": "F",
    "failed": "F",
    "nok": "F",
    "d": "D",
    "done": "D",
    "s": "S",
    "skip": "S",
    "skipped": "S",
    "e": "E",
    "error": "E",
    "t": "T",
    "terminated": "T",
    "aborted": "T",
    "u": "U",
    "unknown": "U",
}
_TRUE = frozenset({"1", "true", "yes", "pass", "passed", "ok", "p"})
_FALSE = frozenset({"0", "false", "no", "fail", "failed", "nok", "f"})


def decode_text(data: bytes, encoding: str = "utf-8") -> str:
    """Decode file bytes: a byte-order mark wins over ``encoding`` (Windows tools write one).

    Raises:
        ConversionError: the bytes are not in that encoding (the message gives the line).
    """
    for bom, name in BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    try:
        return data.decode(encoding)
    except LookupError:
        raise ConversionError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConversionError(
            f"line {line}: the file is not {encoding} (byte {data[exc.start]:#04x}); "
            "set arguments.encoding"
        ) from None


def read_head(path: Path, limit: int) -> bytes:
    """The first ``limit`` bytes of a file (all of it if shorter).

    Reads exactly what is there: ``read(limit)`` of a small file allocates ``limit`` bytes and
    shrinks them, which fragments the heap of a daemon that looks at every file.
    """
    with path.open("rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size  # 0 for what is not a regular file: read on
        return handle.read(min(limit, size) if size else limit)


def position(data: bytes, offset: int) -> str:
    """``line L, column C`` of a 0-based byte offset into ``data``."""
    head = data[:offset]
    line = head.count(b"\n") + 1
    column = offset - (head.rfind(b"\n") + 1)
    return f"line {line}, column {column + 1}"


def parse_number(text: str, what: str, decimal: str = ".") -> float:
    """Parse a number written with ``decimal`` as the decimal separator.

    Raises:
        ConversionError: ``text`` is not a finite number (``what`` says where).
    """
    cleaned = text.strip()
    if decimal != ".":
        cleaned = cleaned.replace(decimal, ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ConversionError(f"{what}: {text.strip()!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConversionError(f"{what}: {text.strip()!r} is not a finite number")
    return value


def parse_status(text: str, what: str) -> str | None:
    """A status word or letter (``Passed``, ``F``, ``ok``…) as a WSJF status; ``None`` if blank.

    Raises:
        ConversionError: the word is not a status.
    """
    word = text.strip().lower()
    if not word:
        return None
    status = _STATUS_WORDS.get(word)
    if status is None:
        raise ConversionError(f"{what}: {text.strip()!r} is not a status (Passed, Failed, Done…)")
    return status


def parse_bool(text: str, what: str) -> bool:
    """A pass/fail value: ``1/0``, ``true/false``, ``pass/fail``, ``ok/nok``…

    Raises:
        ConversionError: the word is neither.
    """
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConversionError(f"{what}: {text.strip()!r} is not a pass/fail value")


def is_bool_word(text: str) -> bool:
    """Whether ``text`` reads as a pass/fail value (and is not a plain number)."""
    word = text.strip().lower()
    return word in (_TRUE | _FALSE) - {"1", "0"}


def infer_comp_op(
    op: str | None, low: float | None, high: float | None, what: str
) -> tuple[CompOp, float | None, float | None]:
    """The comparison operator and limits for a numeric measurement.

    A given operator is used as it is. Without one: both limits → ``GELE``, a low limit →
    ``GE``, a high limit → ``LE`` (which WATS compares against the *low* limit member, so the
    high limit moves there), none → ``LOG``.

    Raises:
        ConversionError: the operator is unknown.
    """
    if op and op.strip():
        try:
            return CompOp.parse(op.strip()), low, high
        except ValueError:
            raise ConversionError(f"{what}: {op.strip()!r} is not a comparison operator") from None
    if low is not None and high is not None:
        return CompOp.GELE, low, high
    if low is not None:
        return CompOp.GE, low, None
    if high is not None:
        return CompOp.LE, high, None
    return CompOp.LOG, None, None


_OFFSET_Z = re.compile(r"Z$", re.IGNORECASE)


def parse_time(text: str, what: str, fmt: str | None = None, *, utc: bool = False) -> datetime:
    """Parse a time: ISO 8601 (``2024-03-01 10:00:00``, with or without offset) or ``fmt``.

    A time without an offset is local time, or UTC when ``utc`` is set.

    Raises:
        ConversionError: ``text`` does not match.
    """
    raw = text.strip()
    try:
        if fmt:
            when = datetime.strptime(raw, fmt)
        else:
            when = datetime.fromisoformat(_OFFSET_Z.sub("+00:00", raw))
    except ValueError:
        expected = f"the format {fmt!r}" if fmt else "ISO 8601, e.g. 2024-03-01 10:00:00"
        raise ConversionError(f"{what}: {raw!r} is not a time in {expected}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC).astimezone() if utc else when.astimezone()
    return when


def file_time(path: Path) -> datetime:
    """The file's modification time, local with offset: the test time when the file has none."""
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone()


def step_status(status: str | None) -> StepStatus | None:
    """``status`` as a :class:`StepStatus` (``None`` stays ``None``)."""
    return None if status is None else StepStatus(status)


def recognised(reports: list[UUTReport | UURReport]) -> Validation:
    """Full confidence in a file that decoded into reports, with the first one as preview."""
    first = reports[0]
    message = f"{len(reports)} reports" if len(reports) > 1 else None
    preview = Preview(serial_number=first.sn, part_number=first.pn, result=first.result)
    return Validation(confidence=1.0, preview=preview, message=message)

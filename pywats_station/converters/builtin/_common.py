"""Helpers shared by the built-in converters: text decoding, numbers, statuses, limits, times."""

from __future__ import annotations

import codecs
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from pywats.models.report import CompOp, StepStatus, UURReport, UUTReport
from pywats_station.converters.api import ConversionError, Preview, Validation
from pywats_station.converters.builtin._where import place

__all__ = [
    "BOMS",
    "argument",
    "decode_text",
    "infer_comp_op",
    "not_encoded",
    "parse_bool",
    "parse_number",
    "parse_status",
    "parse_time",
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
# How the decoders of codecs say that the bytes stop inside a character.
_CUT_SHORT = frozenset({"unexpected end of data", "truncated data"})
_TRUE = frozenset({"1", "true", "yes", "pass", "passed", "ok", "p"})
_FALSE = frozenset({"0", "false", "no", "fail", "failed", "nok", "f"})


def decode_text(data: bytes, encoding: str = "utf-8", *, hint: str) -> str:
    """Decode file bytes: a byte-order mark wins over ``encoding`` (Windows tools write one).

    Args:
        data: the file's bytes.
        encoding: the encoding to expect without a byte-order mark.
        hint: what the user can do about bytes not in the encoding, in the converter's own
            terms: an argument it has (its ``encoding``), or none.

    Raises:
        ConversionError: the bytes are not in that encoding (naming the line and column).
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
        raise not_encoded(exc, encoding, hint=hint) from None


def not_encoded(
    exc: UnicodeDecodeError, encoding: str, *, before: str = "", line: int = 1, hint: str
) -> ConversionError:
    """The error for a byte that is not in ``encoding``, naming its line and column.

    Args:
        exc: the decoder's error; ``exc.object[:exc.start]`` decodes cleanly.
        encoding: the encoding the file was read in.
        before: text of the same line decoded before ``exc.object`` (an incremental decoder's
            earlier chunks).
        line: the line ``before`` (or, without it, ``exc.object``) starts on.
        hint: what the user can do about it (see :func:`decode_text`).
    """
    head = before + exc.object[: exc.start].decode(encoding, "replace")
    if exc.end == len(exc.object) and exc.reason in _CUT_SHORT:
        # Not a wrong byte: the file stops inside a character (a copy cut short).
        return ConversionError(
            f"the file ends at {place(head, line)}, in the middle of a character (the "
            f"last {exc.end - exc.start} bytes begin a {encoding} character that does not end)"
        )
    return ConversionError(
        f"{place(head, line)}: the file is not {encoding} (byte "
        f"{exc.object[exc.start]:#04x}); {hint}"
    )


def argument(arguments: msgspec.Struct, name: str) -> str:
    """``arguments.<name>`` for a message's hint, when the converter has that argument.

    Hints name only arguments the converter has (a hint naming another's sends the user
    looking for a setting that does not exist): a name built at run time goes through here.

    Args:
        arguments: the converter's arguments (an instance of its ``Arguments`` struct).
        name: the argument, possibly with a path inside it (``measurements[0].column``).

    Raises:
        AssertionError: the converter has no such argument (a bug in the converter).
    """
    field = re.match(r"\w*", name)
    fields = type(arguments).__struct_fields__
    if field is None or field.group() not in fields:
        raise AssertionError(f"{type(arguments).__name__} has no argument {name!r}")
    return "arguments." + name


def read_head(path: Path, limit: int) -> bytes:
    """The first ``limit`` bytes of a file (all of it if shorter).

    Reads exactly what is there: ``read(limit)`` of a small file allocates ``limit`` bytes and
    shrinks them, which fragments the heap of a daemon that looks at every file.
    """
    with path.open("rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size  # 0 for what is not a regular file: read on
        return handle.read(min(limit, size) if size else limit)


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

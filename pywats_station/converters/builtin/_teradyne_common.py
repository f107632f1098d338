"""What the two Teradyne ICT converters share: reading their text, SI prefixes, limit steps.

Both formats (GR228x logs, Spectrum CTRD text) are plain text written by Windows test stations:
ANSI (code page 1252) in the fixtures, but UTF-8 and UTF-16 where a station's tools were set up
so. ``encoding = "auto"`` (their default) decides from the first bytes (:func:`pick_encoding`);
the file is then read line by line in bounded memory (:class:`NumberedLines`).

Both write values with an SI prefix (``100.2K``, ``(VAL: 4.69) (SCALE: n)``) and limits that may
carry a different prefix than the value. :func:`rescale` moves a number from one prefix to
another in decimal arithmetic, so that ``500K`` shown in ``MEG`` is exactly ``0.5``, not
``0.49999999999999994``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Unpack

from pywats.models.report import StepStatus
from pywats.report_builder import SequenceBuilder, StepHandle, StepOptions
from pywats_station.converters.api import ConversionError, ConverterContext
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._common import BOMS, infer_comp_op, read_head
from pywats_station.converters.builtin._equipment import EquipmentArguments, resolve_process
from pywats_station.converters.builtin._textfile import head_text, iter_lines

__all__ = [
    "MAX_LINE",
    "NumberedLines",
    "SNIFF",
    "Limits",
    "add_limit_step",
    "add_verdict_step",
    "at",
    "pick_encoding",
    "process_for",
    "rescale",
    "sniff",
]

SNIFF = 16 * 1024
"""How much of a file ``validate()`` reads: a few board or step records of either format."""

MAX_LINE = 64 * 1024
"""The longest line either format has a use for (characters); a longer one fails the file."""

# Undefined in code page 1252: a file holding them is not ANSI text.
_NOT_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


def at(line: int, message: str) -> ConversionError:
    """The error for a problem on ``line`` of the input: ``line 12: …``."""
    return ConversionError(f"line {line}: {message}")


def process_for(ctx: ConverterContext, args: EquipmentArguments, default: int) -> int:
    """The process of a file that names none: ``arguments.process``, else ``default``.

    Raises:
        ConversionError: that process is not one of the server's (the message lists them).
    """
    try:
        return resolve_process(ctx, args, None, default)
    except ConversionError as exc:
        # Neither format names its operation: the setting (or the format's default) is at fault.
        raise ConversionError(
            f"no process found in the file, so arguments.process decides (default {default}), "
            f"and {exc}; set arguments.process to one of them"
        ) from None


def pick_encoding(path: Path, encoding: str) -> str:
    """The encoding to read ``path`` in: ``encoding``, or a guess from its head for ``auto``.

    The guess: a byte-order mark's encoding; UTF-16 when every other byte of the head is zero
    (Windows tools writing UTF-16 without a mark); UTF-8 when the head holds non-ASCII bytes
    that are valid UTF-8; otherwise code page 1252, what these testers write.

    Raises:
        OSError: the file cannot be read.
    """
    if encoding.strip().lower() != "auto":
        return encoding
    head = read_head(path, SNIFF)
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    pairs = len(head) // 2
    if pairs:
        # Text in UTF-16 has a zero high byte for every ASCII character.
        if head[1 : pairs * 2 : 2].count(0) * 10 >= pairs * 9:
            return "utf-16-le"
        if head[0 : pairs * 2 : 2].count(0) * 10 >= pairs * 9:
            return "utf-16-be"
    if head.isascii():
        return "cp1252"
    try:
        # Not final: the head may cut a character in two.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # Latin-1 would read anything; cp1252 at least refuses its five undefined bytes.
        return "cp1252" if not _NOT_CP1252.intersection(head) else "latin-1"
    return "utf-8"


def sniff(path: Path, encoding: str) -> str:
    """The head of ``path`` as text, for ``validate()``; ``""`` when it cannot be decoded."""
    try:
        return head_text(path, SNIFF, pick_encoding(path, encoding))
    except (ConversionError, OSError):
        return ""


class NumberedLines:
    """The lines of a file with their numbers (from 1), without line endings.

    Iterate once; afterwards :attr:`ends_at` says where the file ends, as an editor's cursor
    stands at its end (column 1 of the line after the last when that one has a line break).

    Iterating raises:
        ConversionError: a byte is not in the encoding, or a line is longer than
            :data:`MAX_LINE` (naming the line).
        OSError: the file cannot be read.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.end = (1, 1)  # line and column just after the last character

    def __iter__(self) -> Iterator[tuple[int, str]]:
        lines = iter_lines(self.path, pick_encoding(self.path, self.encoding))
        try:
            for number, raw in enumerate(lines, start=1):
                line = raw.rstrip("\r\n")
                self.end = (number + 1, 1) if len(line) < len(raw) else (number, len(line) + 1)
                if len(line) > MAX_LINE:
                    raise at(number, f"the line is {len(line):,} characters long (not a record)")
                yield number, line
        finally:
            lines.close()

    @property
    def ends_at(self) -> str:
        """``the file ends at line L, column C`` (once the lines are read)."""
        return f"the file ends at line {self.end[0]}, column {self.end[1]}"


def rescale(number: str, shift: int, what: str) -> float:
    """``number`` (decimal text) times ``10**shift``, as a finite float.

    Raises:
        ConversionError: ``number`` is not a number, or too large for a double.
    """
    try:
        exact = Decimal(number.strip()).scaleb(shift)
    except (InvalidOperation, ValueError):
        raise ConversionError(f"{what}: {number.strip()!r} is not a number") from None
    value = float(exact)
    if not exact.is_finite() or value in (float("inf"), float("-inf")):
        raise ConversionError(f"{what}: {number.strip()!r} is not a finite number")
    return value


@dataclass(frozen=True)
class Limits:
    """A measurement's limits in the value's unit; either may be absent."""

    low: float | None = None
    high: float | None = None


def add_limit_step(
    seq: SequenceBuilder,
    name: str,
    value: float,
    limits: Limits,
    unit: str | None,
    status: str | None,
    *,
    line: int,
    budget: OutputBudget,
    log_only: bool = False,
    **options: Unpack[StepOptions],
) -> StepHandle:
    """Add a numeric step whose operator follows from the limits given.

    Both limits → ``GELE``, low only → ``GE``, high only → ``LE`` (which WATS compares against
    the *low* limit member, where the limit then goes), none or ``log_only`` → ``LOG``.
    ``status`` (``P``/``F``/``S``) is the tester's verdict and wins over the limits: the file
    is the record of what the tester decided.

    Raises:
        ConversionError: the limits cannot make a measurement (low above high…), naming ``line``.
    """
    low, high = (None, None) if log_only else (limits.low, limits.high)
    op, low, high = infer_comp_op(None, low, high, f"line {line}")
    try:
        handle = seq.numeric(
            name,
            value,
            op,
            low=low,
            high=high,
            unit=unit or None,
            status=status,
            **options,
        )
    except (TypeError, ValueError) as exc:
        raise at(line, str(exc)) from None
    budget.add_step(handle.step, line)
    return handle


def add_verdict_step(
    seq: SequenceBuilder,
    name: str,
    status: str,
    *,
    line: int,
    budget: OutputBudget,
    **options: Unpack[StepOptions],
) -> StepHandle:
    """A step for a verdict without a value: pass/fail for ``P``/``F``, else a ``status`` action.

    Raises:
        ConversionError: the step cannot be made (an empty name…), naming ``line``.
    """
    try:
        if status in (StepStatus.PASSED, StepStatus.FAILED):
            handle = seq.pass_fail(name, status == StepStatus.PASSED, **options)
        else:
            handle = seq.action(name, status=status, **options)
    except (TypeError, ValueError) as exc:
        raise at(line, str(exc)) from None
    budget.add_step(handle.step, line)
    return handle

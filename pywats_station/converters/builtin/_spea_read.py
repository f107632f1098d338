"""Reading SPEA 3030 ICT record files board by board: the records, and each board's header.

A file is a series of semicolon records, one per line, field 1 naming the record (the layout is
documented in :mod:`pywats_station.converters.builtin.spea_3030`). A board is the block from a
``START`` record to its ``END`` record; its serial number and verdict come *after* its
measurements. So that a board's report can be started with its header known, and without
holding its measurements in memory, the file is read by two readers of the same lines:
:func:`read_boards` runs ahead and yields each complete board (its header records, checked),
:func:`board_records` then reads that board's measurement records from the second reader.

Every complaint names the line it is about.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pywats_station.converters.api import ConversionError

__all__ = ["Board", "Record", "board_records", "parse_limit", "read_boards", "split"]

RECORDS = ("FORMAT", "START", "LOT", "ANL", "FUNC", "SN", "BOARDRESULT", "END")
_IN_BOARD = frozenset({"LOT", "ANL", "FUNC", "SN", "BOARDRESULT", "END"})
_MEASURES = frozenset({"ANL", "FUNC"})
_VERDICTS = {"PASS": "P", "FAIL": "F", "ERROR": "E", "ABORT": "T", "ABORTED": "T", "STOP": "T"}
_MIN_FIELDS = {"START": 8, "ANL": 12, "FUNC": 12, "END": 4}
_RECORD_NAMES = ", ".join(RECORDS)
_MSVC_SPECIAL = re.compile(r"[+-]?\d\.#(?:QNAN|SNAN|IND|INF)\d*$", re.IGNORECASE)


def split(text: str) -> list[str]:
    """The fields of a record line (SPEA quotes nothing: a semicolon always separates)."""
    return text.split(";")


@dataclass
class Board:
    """The header records of one board (``START`` … ``END``) with the lines they are on.

    Attributes:
        start_line: the ``START`` line; ``end_line``: the ``END`` line.
        program, sequence, version, sequence_again, operator: ``START`` fields 2 to 6.
        start, end: the ``START`` and ``END`` times as written (no offset).
        lot: the ``LOT`` record's value (``None`` without one, ``""`` when empty).
        serial: the ``SN`` record's value; ``serial_line`` its line.
        board_result: the ``BOARDRESULT`` word; verdict: ``END`` field 2 as a WATS result.
        verdict_word: ``END`` field 2 as written.
        date_order: the ``FORMAT`` record before the board (``mmdd`` or ``ddmm``).
    """

    start_line: int
    program: str
    sequence: str
    version: str
    sequence_again: str
    operator: str
    start: datetime
    date_order: str
    end_line: int = 0
    end: datetime | None = None
    lot: str | None = None
    serial: str | None = None
    serial_line: int = 0
    board_result: str | None = None
    verdict: str = "P"
    verdict_word: str = ""

    @property
    def where(self) -> str:
        """``the board from line 2 to line 1204`` (``… from line 2`` until its end is read)."""
        if self.end_line:
            return f"the board from line {self.start_line} to line {self.end_line}"
        return f"the board from line {self.start_line}"


@dataclass(frozen=True)
class Record:
    """One ``ANL`` (analog) or ``FUNC`` (functional) record, its fields stripped of blanks."""

    line: int
    kind: str
    site: str  # field 2: the board of the panel (1 in a single-board program)
    reference: str  # field 3: component or test reference (R12, DSC-CP[C109], Counter)
    test: str  # field 4: test number
    subtest: str  # field 5: sub-test number
    name: str  # field 6
    spare: str  # field 7
    result: str  # field 8: PASS, FAIL(+), FAIL(-), FAIL(+/-)
    value: str  # field 9
    low: str  # field 10
    high: str  # field 11
    unit: str  # field 12
    nodes: str  # field 13: the tester's nodes (H and L)
    index: str  # field 14 (ANL only): running index


def _fields(text: str, line: int, kind: str) -> list[str]:
    fields = [f.strip() for f in split(text)]
    needed = _MIN_FIELDS.get(kind, 2)
    if len(fields) < needed:
        raise ConversionError(
            f"line {line}: {kind} record with {len(fields)} fields, at least {needed} expected "
            "(a line cut short?)"
        )
    return fields


def parse_time(date: str, time: str, order: str, line: int, what: str) -> datetime:
    """``MM/dd/yyyy`` (``ddmm``: ``dd/MM/yyyy``) and ``HH:mm:ss`` as a naive time.

    Raises:
        ConversionError: not a date and time in that order (naming the line).
    """
    fmt = "%d/%m/%Y %H:%M:%S" if order == "ddmm" else "%m/%d/%Y %H:%M:%S"
    try:
        return datetime.strptime(f"{date} {time}", fmt)
    except ValueError:
        shown = "dd/MM/yyyy" if order == "ddmm" else "MM/dd/yyyy"
        raise ConversionError(
            f"line {line}: the {what} time {date!r} {time!r} is not a date {shown} and a "
            "time HH:mm:ss"
        ) from None


def read_boards(lines: Iterator[tuple[int, str]]) -> Iterator[Board]:
    """Yield each board once its ``END`` record is read, its header records checked.

    Raises:
        ConversionError: a record out of place, a field wrong, a board without its ``SN`` or
            ``END`` (a file cut short), or no board at all; each naming its line.
    """
    order = "mmdd"
    board: Board | None = None
    last = 0
    found = False
    for number, text in lines:
        last = number
        if not text.strip():
            continue
        kind = text.split(";", 1)[0].strip().upper()
        if kind not in RECORDS or ";" not in text:
            shown = text[:40] + ("…" if len(text) > 40 else "")
            raise ConversionError(
                f"line {number}: {shown!r} is not a SPEA 3030 record ({_RECORD_NAMES})"
            )
        if board is None and kind in _IN_BOARD:
            raise ConversionError(
                f"line {number}: {kind} record outside a board (no START before it)"
            )
        if board is not None and kind in ("FORMAT", "START"):
            raise ConversionError(
                f"line {number}: {kind} record inside {board.where}, whose END record is missing"
            )
        if kind in _MEASURES:
            continue  # read by board_records()
        fields = _fields(text, number, kind)
        if kind == "FORMAT":
            order = fields[1].lower()
            if order not in ("mmdd", "ddmm"):
                raise ConversionError(f"line {number}: FORMAT {fields[1]!r} is not mmdd or ddmm")
        elif kind == "START":
            board = Board(
                start_line=number,
                program=fields[1],
                sequence=fields[2],
                version=fields[3],
                sequence_again=fields[4],
                operator=fields[5],
                start=parse_time(fields[6], fields[7], order, number, "START"),
                date_order=order,
            )
        elif board is not None:
            _header_record(board, kind, fields, number)
            if kind == "END":
                found = True
                yield board
                board = None
    if board is not None:
        raise ConversionError(
            f"the file ends at line {last} inside {board.where}, before its END record (cut "
            "short, or still being written)"
        )
    if not found:
        raise ConversionError("the file holds no board (no START … END block of records)")


def _header_record(board: Board, kind: str, fields: list[str], line: int) -> None:
    if kind == "LOT":
        board.lot = fields[1]
    elif kind == "SN":
        if board.serial is not None and board.serial != fields[1]:
            raise ConversionError(
                f"line {line}: a second SN record ({fields[1]!r}) in {board.where}, whose SN "
                f"is {board.serial!r} (line {board.serial_line})"
            )
        board.serial, board.serial_line = fields[1], line
    elif kind == "BOARDRESULT":
        board.board_result = fields[1]
    elif kind == "END":
        board.end_line = line
        word = fields[1].upper()
        if word not in _VERDICTS:
            raise ConversionError(f"line {line}: END {fields[1]!r} is not PASS or FAIL")
        board.verdict, board.verdict_word = _VERDICTS[word], fields[1]
        board.end = parse_time(fields[2], fields[3], board.date_order, line, "END")
        if not board.serial:
            raise ConversionError(f"{board.where} has no serial number (no SN record)")


def board_records(lines: Iterator[tuple[int, str]], board: Board) -> Iterator[Record]:
    """The ``ANL`` and ``FUNC`` records of ``board``, read from ``lines`` (the second reader).

    ``lines`` must stand before the board's ``START`` line; it is left after its ``END`` line.

    Raises:
        ConversionError: a record has too few fields (naming its line).
    """
    for number, text in lines:
        if number < board.start_line:
            continue
        if number >= board.end_line:
            return
        kind = text.split(";", 1)[0].strip().upper()
        if kind not in _MEASURES:
            continue
        f = _fields(text, number, kind)
        f += [""] * (14 - len(f))
        yield Record(number, kind, *f[1:14])


def parse_limit(text: str, line: int, what: str) -> float | None:
    """A number field: ``None`` when empty or not finite (``-NAN``, ``inf``).

    Raises:
        ConversionError: the field is not a number (naming the line and field).
    """
    if not text:
        return None
    if _MSVC_SPECIAL.match(text):
        return None  # 1.#QNAN, -1.#IND, 1.#INF: how Windows C runtimes print NaN and infinity
    try:
        value = float(text)
    except ValueError:
        raise ConversionError(f"line {line}, field {what}: {text!r} is not a number") from None
    return value if math.isfinite(value) else None

"""The Teradyne GR228x ICT log converter: one report per board of a ``.LOG`` datalog.

A log is plain text, one record per line (the first character says which)::

    F:\\BOARDS\\43420_BIO2_PROGRAM\\43420_BIO2.obc[31-JUL-12  14:17:35    the program loaded
    TOP_OF_LOOP-B                                  the next board is panel position B (2)
    @31-JUL-12  14:19:32 SN 24422984989544535753   a board starts: its serial number
    WATS_partNumber=123456                         site additions right after the @ line
    (O 397,398,                                    a board-level failure and its nodes/pins
    R508=100.20007K(92.919K,105.131K)R             a measurement: ref, verdict, value, limits, type
    R211#10.636159(,)R                             '#': logged, not judged
    D103_B1=                                       a verdict without a value
    /31-JUL-12  14:19:49                           the board ends: '"' passed, '/' failed…

How WATS's own converter maps it is described in the reference; this converter keeps its step
names (``R508(R)``, ``R-Group1``, ``CONTACT fixture failure``) so that yield statistics carry
on when a station moves over, and departs from it where it loses information (see
``docs/converters/teradyne_gr228x.md``): units are physical (``kΩ``, not ``K(R)``), setup lines
(``IS``/``VS`` without a value) and boards aborted before any test are kept, an ``*`` end line
ends its board, and an unknown line fails the file instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats._errors import ReportInvalidError
from pywats.models.report import StepStatus, UUTReport
from pywats.report_builder import ReportBuilder, SequenceBuilder, StepOptions, UUTBuilder
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._budget import OutputBudget, current_budget
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
)
from pywats_station.converters.builtin._teradyne_common import (
    Limits,
    NumberedLines,
    add_limit_step,
    add_verdict_step,
    at,
    process_for,
    rescale,
    sniff,
)
from pywats_station.converters.builtin._teradyne_gr228x_records import (
    BOARD,
    END,
    END_EVENTS,
    FAILURE,
    FAILURES,
    KEY,
    MEASURE,
    MEASURE_WITH_LIMITS,
    PROGRAM,
    SOCKET,
    Measure,
    parse_date,
)

__all__ = ["Gr228xArguments", "Gr228xConverter", "read_gr228x"]

DEFAULT_PROCESS = 10
"""The process of WATS's own GR228x converter (its ``operationTypeCode`` default)."""
DEFAULT_REVISION = "1"
"""The revision of WATS's own GR228x converter when the log has no ``WATS_partRevision=``."""

# WATS_<key>= lines with a place in the report header; other keys become misc infos.
_HEADER_KEYS = frozenset(
    {"partnumber", "partrevision", "sequencename", "sequenceversion", "operator", "stationname"}
)


class Gr228xArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``teradyne_gr228x`` converter (and those of every equipment converter)."""

    encoding: str = "auto"
    part_number_pattern: str = r"^[^_.]+"

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            re.compile(self.part_number_pattern)
        except re.error as exc:
            raise ValueError(f"part_number_pattern is not a regular expression: {exc}") from None


@dataclass
class _Program:
    """The program line: the test program's path, its file name's part number, its date."""

    path: str
    part_number: str | None
    date: str


@dataclass
class _Board:
    """One board between its ``@`` line and its end line."""

    line: int
    sn: str
    start: datetime
    socket: int | None
    keys: dict[str, str] = field(default_factory=dict)  # WATS_<key>, key folded
    key_names: dict[str, str] = field(default_factory=dict)  # folded -> as written
    builder: UUTBuilder | None = None
    seq: SequenceBuilder | None = None
    letter: str = ""  # the current group's first letter of references
    groups: dict[str, int] = field(default_factory=dict)  # groups made per letter


class _Reader:
    """The line state machine: feeds lines, hands back each finished board's report."""

    def __init__(self, path: Path, ctx: ConverterContext, args: Gr228xArguments) -> None:
        self.path = path
        self.ctx = ctx
        self.args = args
        self.budget: OutputBudget = current_budget()
        self.program: _Program | None = None
        self.socket: int | None = None  # from TOP_OF_LOOP-<X>, for the next board
        self.board: _Board | None = None
        self.process: int | None = None

    def feed(self, number: int, line: str) -> UUTReport | None:
        text = line.strip()
        if not text:
            return None
        if match := BOARD.match(text):
            self._start(number, match)
        elif match := END.match(text):
            return self._end(number, match)
        elif match := KEY.match(text):
            self._key(number, match["key"], match["value"].strip())
        elif match := MEASURE.match(text):
            self._measure(number, Measure.of(match))
        elif match := FAILURE.match(text):
            self._failure(number, match)
        elif match := SOCKET.match(text):
            index = ord(match["letter"].upper()) - ord("A") + 1
            if self.board is None:
                self.socket = index  # the next board's
            elif self.board.builder is None:
                self.board.socket = index  # taken when its report is begun
            else:
                self.board.builder.details(test_socket_index=index)
        elif match := PROGRAM.match(text):
            if self.board is not None:
                raise at(number, "a program line inside a board (its end line is missing)")
            pn = _program_part_number(match["path"], self.args.part_number_pattern)
            self.program = _Program(match["path"], pn, match["date"])
        else:
            raise at(number, f"not a GR228x log record: {_clip(text)!r}")
        return None

    def finish(self, ends_at: str) -> None:
        if self.board is not None:
            raise ConversionError(
                f"{ends_at}, inside the board that starts at line "
                f"{self.board.line} (SN {self.board.sn}): it has no end line ('\"', '/', '?'… "
                "and a date); the file is cut short, or still being written"
            )

    # --- records ---------------------------------------------------------------------------

    def _start(self, number: int, match: re.Match[str]) -> None:
        if self.board is not None:
            raise at(
                number,
                f"a board starts before the board of line {self.board.line} ended (its end line "
                "is missing)",
            )
        sn = (match["sn"] or "").strip()
        if not sn:
            raise at(number, "the board has no serial number after 'SN'")
        start = parse_date(match["date"], number)
        self.board = _Board(line=number, sn=sn, start=start, socket=self.socket)
        self.socket = None
        self.budget.start_report()

    def _key(self, number: int, key: str, value: str) -> None:
        board = self._in_board(number, f"WATS_{key}")
        folded = key.casefold()
        if board.builder is not None and folded in _HEADER_KEYS - {
            "sequencename",
            "sequenceversion",
        }:
            raise at(
                number,
                f"WATS_{key} after the board's first test: put the WATS_ lines "
                "right after the @ line",
            )
        if folded == "sequencename" and board.builder is not None:
            board.builder.sequence_info(name=value)
        elif folded == "sequenceversion" and board.builder is not None:
            board.builder.sequence_info(version=value)
        board.keys[folded] = value
        board.key_names.setdefault(folded, f"WATS_{key}")

    def _failure(self, number: int, match: re.Match[str]) -> None:
        board = self._in_board(number, "a board-level failure")
        seq = board.seq or self._builder(number).root
        options: StepOptions = {}
        if info := (match["info"] or "").strip():
            options["report_text"] = info
        add_verdict_step(
            seq,
            FAILURES[match["kind"].upper()],
            StepStatus.FAILED,
            line=number,
            budget=self.budget,
            **options,
        )

    def _measure(self, number: int, m: Measure) -> None:
        board = self._in_board(number, "a measurement")
        seq = self._group(board, m.ref, number)
        options: StepOptions = {}
        notes = [m.message] if m.message else []
        if m.failed:
            options["error_message"] = f"{m.description} failed ('{m.verdict}')"
        if m.value is None:
            if m.low is not None or m.high is not None:
                notes.append(f"limits {m.limits_text}")
            if notes:
                options["report_text"] = "\n".join(notes)
            # A source setting (IS/VS) or a logged line without a value has no verdict.
            status = (
                StepStatus.DONE
                if m.setup or m.verdict == "#"
                else (StepStatus.FAILED if m.failed else StepStatus.PASSED)
            )
            add_verdict_step(seq, m.name, status, line=number, budget=self.budget, **options)
            return
        shift, unit = m.scale()
        value = rescale(m.value, m.value_exp - shift, f"line {number}, value")
        low = (
            None
            if m.low is None
            else rescale(m.low, m.low_exp - shift, f"line {number}, low limit")
        )
        high = (
            None
            if m.high is None
            else rescale(m.high, m.high_exp - shift, f"line {number}, high limit")
        )
        logged = m.verdict == "#"
        if logged and (low is not None or high is not None):
            notes.append(f"logged only; limits {m.limits_text}")
        if notes:
            options["report_text"] = "\n".join(notes)
        add_limit_step(
            seq,
            m.name,
            value,
            Limits(low, high),
            unit,
            StepStatus.FAILED if m.failed else StepStatus.PASSED,
            line=number,
            budget=self.budget,
            log_only=logged,
            **options,
        )

    def _end(self, number: int, match: re.Match[str]) -> UUTReport | None:
        event = match["event"]
        board = self.board
        if board is None:
            if event == "]":
                # "Return to diagnose" after a board's end: the operator's later action.
                return None
            raise at(number, "a board end line without a board (its @ … SN line is missing)")
        end = parse_date(match["date"], number)
        builder = self._builder(number)
        result, label = END_EVENTS[event]
        if result is not None:
            builder.result(result)
        if label:
            builder.misc_info("End event", f"{label} ({event})")
        seconds = (end - board.start).total_seconds()
        if seconds >= 0:  # a clock set back during the test leaves no duration to tell
            builder.details(exec_time=seconds)
        self.board = None
        try:
            report = builder.build()
        except (ReportInvalidError, ValueError) as exc:
            raise ConversionError(
                f"the board from line {board.line} to line {number} (SN {board.sn}): {exc}"
            ) from None
        self.budget.add_report(report, number)
        return report

    # --- helpers ---------------------------------------------------------------------------

    def _in_board(self, number: int, what: str) -> _Board:
        if self.board is None:
            raise at(number, f"{what} outside a board (no @<date> SN <serial> line before it)")
        return self.board

    def _builder(self, number: int) -> UUTBuilder:
        """The board's report builder, made at its first test (after its WATS_ lines)."""
        board = self._in_board(number, "a record")
        if board.builder is not None:
            return board.builder
        if self.process is None:
            self.process = process_for(self.ctx, self.args, DEFAULT_PROCESS)
        keys, program = board.keys, self.program
        pn = (
            keys.get("partnumber")
            or (program.part_number if program else None)
            or self.args.part_number
            or self.path.name.split(".")[0]
        )
        try:
            builder = ReportBuilder.uut(
                pn=pn,
                sn=board.sn,
                rev=keys.get("partrevision") or self.args.revision or DEFAULT_REVISION,
                process_code=self.process,
                station=keys.get("stationname") or self.ctx.station.name,
                location=self.ctx.station.location,
                purpose=self.ctx.station.purpose,
                operator=keys.get("operator") or self.args.operator,
                start=local_time(board.start, self.args),
            )
            builder.sequence_info(
                path=program.path if program else None,
                name=keys.get("sequencename") or (program.path if program else self.path.name),
                version=keys.get("sequenceversion") or "0.0.0",
            )
            if program is not None:
                builder.misc_info("Program date", program.date)
            for key, value in keys.items():
                if key not in _HEADER_KEYS and value:
                    builder.misc_info(board.key_names[key], value)
            if board.socket is not None:
                builder.details(test_socket_index=board.socket)
        except (TypeError, ValueError) as exc:
            raise at(board.line, str(exc)) from None
        board.builder = builder
        return builder

    def _group(self, board: _Board, ref: str, number: int) -> SequenceBuilder:
        """The sequence for ``ref``: a new ``<letter>-Group<n>`` when its first letter changes."""
        builder = self._builder(number)
        letter = ref[0].upper()
        if board.seq is None or letter != board.letter:
            board.groups[letter] = board.groups.get(letter, 0) + 1
            board.seq = builder.root.sequence(f"{letter}-Group{board.groups[letter]}")
            board.letter = letter
            self.budget.add_step(board.seq.step, number)
        return board.seq


def _program_part_number(path: str, pattern: str) -> str | None:
    """The part number in the program's file name (``43420`` of ``43420_BIO2.obc``).

    It is ``pattern``'s group ``part_number`` when it has one, else its whole match.
    """
    name = re.split(r"[\\/]", path)[-1]
    found = re.search(pattern, name)
    if found is None:
        return None
    pn = found.group("part_number") if "part_number" in found.re.groupindex else found.group()
    return pn or None


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[:size] + "…"


def read_gr228x(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert a GR228x log into one report per board, reading it line by line.

    Raises:
        ConversionError: a line is not a log record, a value is wrong, a board has no end
            (the file is cut short), or the file holds no board; naming the line.
    """
    args = ctx.arguments if isinstance(ctx.arguments, Gr228xArguments) else Gr228xArguments()
    reader = _Reader(path, ctx, args)
    boards = 0
    lines = NumberedLines(path, args.encoding)
    for number, line in lines:
        report = reader.feed(number, line)
        if report is not None:
            boards += 1
            yield report
    reader.finish(lines.ends_at)
    if not boards:
        raise ConversionError("the file holds no board (no '@<date> SN <serial>' line)")


class Gr228xConverter(FileConverter):
    """Teradyne GR228x ICT datalogs (``*.log``), one report per board."""

    name: ClassVar[str] = "teradyne_gr228x"
    description: ClassVar[str] = "Teradyne GR228x ICT log (one report per board)"
    patterns: ClassVar[tuple[str, ...]] = ("*.log",)
    Arguments: ClassVar[type[msgspec.Struct]] = Gr228xArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for a program line and a board line in the head, less for fewer signs."""
        args = ctx.arguments if isinstance(ctx.arguments, Gr228xArguments) else Gr228xArguments()
        lines = [line.strip() for line in sniff(path, args.encoding).splitlines()]
        program = next((m for line in lines if (m := PROGRAM.match(line))), None)
        board = next((m for line in lines if (m := BOARD.match(line))), None)
        records = sum(1 for line in lines if MEASURE_WITH_LIMITS.match(line) or END.match(line))
        preview = Preview(
            serial_number=(board["sn"] or "").strip() or None if board else None,
            part_number=_program_part_number(program["path"], args.part_number_pattern)
            if program
            else None,
        )
        if program and board:
            return Validation(
                confidence=1.0, preview=preview, message="a GR228x program line and a board line"
            )
        if board and records:
            return Validation(
                confidence=0.9,
                preview=preview,
                message="a GR228x board line and measurements (no program line)",
            )
        if program:
            return Validation(confidence=0.6, message="a GR228x program line but no board yet")
        if records >= 3:
            return Validation(confidence=0.3, message="lines like GR228x measurements only")
        return Validation(confidence=0.0, message="no GR228x program, board or measurement lines")

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """One report per board of the log, read line by line."""
        return Converted(reports=list(read_gr228x(path, ctx)))

"""The Teradyne Spectrum ICT converter: CTRD result text, one report per file.

The file is parenthesised CTRD text (:mod:`._teradyne_ctrd`)::

    (PROGRAM_NAME: "PB3187900")                   the part number
    (SECTION_NAME: "CAPACITORS")                  a sequence for the steps that follow
    (STEP: (TYPE: RAW) (TIME: 02/09/2023 16:44:30 ) (SNAME: "CAP[C1]") (DESC: "…")
        (PAGE: (TYPE: CAP) (PAGE_NAME: "C1") (STAT: PASS)
            (ANA: (LOLIM: …) (NOMVAL: …) (MEASVAL: (VAL: 4.69) (SCALE: n) (UNIT: F)) (HILIM: …)
                  (MEAS: (TPNUM: 35) (TPNAME: CH_/OUT14_B)) …))
        (STAT: PASS))
    (USER: Serialnumber:1111111111)               the test program's own lines: serial
    (USER: Operator:1234567)                      number, operator, …
    (USER: STATUS: BOARD PASSED)                  … and the board's result, last

A STEP with one PAGE is one step in its section; with several, a sequence named after the STEP
(``SNAME``) holding a step per page (:mod:`._teradyne_spectrum_pages`). The report starts at
the first STEP's time and lasts until the USER ``EndTime`` (else the last STEP's time).

The serial number and operator are written by the test program in USER lines after the first
steps, and the result at the very end, so the file is read twice, line by line: once for the
header, once for the steps (memory stays that of one STEP plus the report). A file without the
USER ``STATUS`` line is cut short (or still being written) and fails, unless
``require_status = false``, when the result follows from the steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from pywats_station.converters.builtin._common import parse_status
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
)
from pywats_station.converters.builtin._teradyne_common import (
    NumberedLines,
    add_verdict_step,
    at,
    process_for,
    sniff,
)
from pywats_station.converters.builtin._teradyne_ctrd import Group, read_groups
from pywats_station.converters.builtin._teradyne_spectrum_pages import add_page, status_of

__all__ = ["SpectrumArguments", "SpectrumConverter", "read_spectrum"]

DEFAULT_PROCESS = 30
"""The process of WATS's own Spectrum converter (its ``operationTypeCode``)."""
DEFAULT_REVISION = "1"
"""The revision when none is configured: the file has none, and WATS needs one."""

_HEADER_KEYS = frozenset({"PROGRAM_NAME", "SUBPROGRAM_NAME", "USER"})
_STEP_KEYS = frozenset({"TYPE", "TIME", "SNAME", "DESC", "PAGE", "STAT"})
# USER keys with a place in the header (folded: lower case, no blanks or underscores).
_SERIAL = frozenset({"serialnumber", "serialno", "sn", "serial"})
_OPERATOR = frozenset({"operator", "operatorname", "user"})
_STATUS = "status"
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:[:.](\d{1,6}))?$")
_PROGRAM_HEAD = re.compile(r'^\s*\(\s*PROGRAM_NAME\s*:\s*"?([^")]*)"?\s*\)', re.IGNORECASE)
_SERIAL_HEAD = re.compile(r"\(\s*USER\s*:\s*Serial\s*number\s*:\s*([^)]*)\)", re.IGNORECASE)


class SpectrumArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of ``teradyne_spectrum`` (and those of every equipment converter)."""

    encoding: str = "auto"
    time_format: str = "%m/%d/%Y %H:%M:%S"
    require_status: bool = True


@dataclass
class _User:
    key: str  # as written
    value: str
    line: int

    @property
    def folded(self) -> str:
        return re.sub(r"[\s_]", "", self.key).casefold()


@dataclass
class _Header:
    """What the first reading collects: program, USER lines, the STEP times."""

    program: Group | None = None
    subprogram: str = ""
    users: list[_User] = field(default_factory=list)
    others: list[Group] = field(default_factory=list)
    first: tuple[datetime, int] | None = None
    last: tuple[datetime, int] | None = None

    def user(self, keys: frozenset[str] | str) -> _User | None:
        wanted = {keys} if isinstance(keys, str) else keys
        return next((u for u in self.users if u.folded in wanted and u.value), None)


def _time(step: Group, args: SpectrumArguments) -> tuple[datetime, int] | None:
    found = step.child("TIME")
    if found is None or not found.value:
        return None
    try:
        return datetime.strptime(found.value, args.time_format), found.line
    except ValueError:
        raise at(
            found.line, f"{found.value!r} is not a time in {args.time_format!r} (time_format)"
        ) from None


def _header(path: Path, args: SpectrumArguments) -> _Header:
    header = _Header()
    for group in read_groups(NumberedLines(path, args.encoding)):
        if group.key == "PROGRAM_NAME" and header.program is None:
            header.program = group
        elif group.key == "SUBPROGRAM_NAME":
            header.subprogram = header.subprogram or group.value
        elif group.key == "USER":
            key, sep, value = group.value.partition(":")
            if not sep:
                key, value = "USER", group.value
            header.users.append(_User(key.strip(), value.strip(), group.line))
        elif group.key == "STEP":
            when = _time(group, args)
            if when is not None:
                header.first = header.first or when
                header.last = when
        elif group.key != "SECTION_NAME" and group.value:
            header.others.append(group)
    return header


class _Builder:
    """The second reading: the report's header from :class:`_Header`, then its steps."""

    def __init__(
        self, path: Path, ctx: ConverterContext, args: SpectrumArguments, header: _Header
    ) -> None:
        self.path, self.ctx, self.args, self.header = path, ctx, args, header
        self.budget: OutputBudget = current_budget()
        self.builder = self._start()
        self.seq: SequenceBuilder = self.builder.root

    def _start(self) -> UUTBuilder:
        header, args = self.header, self.args
        pn = header.program.value if header.program is not None else args.part_number
        if not pn:
            raise ConversionError(
                "no part number found in the file: no (PROGRAM_NAME: …) (or set "
                "arguments.part_number)"
            )
        serial = header.user(_SERIAL)
        if serial is None:
            raise ConversionError("no serial number found in the file (USER: Serialnumber:…)")
        if header.first is None:
            raise ConversionError("no start time found in the file (a (STEP: with a (TIME: …))")
        operator = header.user(_OPERATOR)
        version = header.user("version")
        try:
            builder = ReportBuilder.uut(
                pn=pn,
                sn=serial.value,
                rev=args.revision or DEFAULT_REVISION,
                process_code=process_for(self.ctx, args, DEFAULT_PROCESS),
                station=self.ctx.station.name,
                location=self.ctx.station.location,
                purpose=self.ctx.station.purpose,
                operator=operator.value if operator is not None else args.operator,
                start=local_time(header.first[0], args),
            )
            builder.sequence_info(
                path=header.subprogram or pn,
                name=pn,
                version=version.value if version is not None else "0.0.0",
            )
            self._misc(builder, "File", self.path.name, 0)
            if header.subprogram:
                self._misc(builder, "Subprogram", header.subprogram, 0)
            for user in header.users:
                if user is not serial and user is not operator and user.folded != _STATUS:
                    self._misc(builder, user.key or "USER", user.value, user.line)
            for group in header.others:
                self._misc(builder, group.key, group.value, group.line)
        except (TypeError, ValueError) as exc:
            raise at(header.first[1], f"the report header: {exc}") from None
        self._result(builder)
        return builder

    @staticmethod
    def _misc(builder: UUTBuilder, key: str, text: str, line: int) -> None:
        # WATS keeps 50 characters of a misc info's name and 255 of its text.
        if len(key) > 50 or len(text) > 255:
            raise at(line, f"{key[:50]!r}: over WATS's 50 (name) or 255 (text) characters")
        if text:
            builder.misc_info(key, text)

    def _result(self, builder: UUTBuilder) -> None:
        header = self.header
        status = header.user(_STATUS)
        if status is not None:
            word = status.value.split()[-1]
            letter = parse_status(word, f"line {status.line}, USER STATUS")
            if letter in ("F", "E", "T"):
                builder.result(letter)
        elif self.args.require_status:
            raise ConversionError(
                "no result found in the file (USER: STATUS: BOARD PASSED/FAILED): it is cut "
                "short or still being written (or set arguments.require_status = false)"
            )
        assert header.first is not None
        start, seconds = header.first[0], None
        end = header.user("endtime")
        clock = _CLOCK.match(end.value) if end is not None else None
        if clock is not None:
            hour, minute, second, fraction = clock.groups()
            when = start.replace(hour=int(hour), minute=int(minute), second=int(second))
            when += timedelta(seconds=float(f"0.{fraction or 0}"))
            seconds = (when - start).total_seconds() % 86400  # past midnight: the next day
        elif header.last is not None:
            seconds = (header.last[0] - start).total_seconds()
        if seconds is not None and seconds >= 0:
            builder.details(exec_time=seconds)

    def feed(self, group: Group) -> None:
        if group.key == "SECTION_NAME":
            name = group.value or "SECTION"
            try:
                self.seq = self.builder.root.sequence(name)
            except (TypeError, ValueError) as exc:
                raise at(group.line, str(exc)) from None
            self.budget.add_step(self.seq.step, group.line)
        elif group.key == "STEP":
            self._step(group)

    def _step(self, step: Group) -> None:
        found = _time(step, self.args)
        start = local_time(found[0], self.args) if found is not None else None
        sname = step.text_of("SNAME") or "STEP"
        notes = [step.text_of("DESC")] if step.text_of("DESC") else []
        notes += [f"{c.key} {c.value}" for c in step.children if c.key not in _STEP_KEYS]
        status = status_of(step)
        pages = step.all("PAGE")
        if len(pages) > 1:
            options: StepOptions = {"report_text": "\n".join(notes)} if notes else {}
            if start is not None:
                options["start"] = start
            failing = status if status in (StepStatus.FAILED, "E", "T") else None
            try:
                seq = self.seq.sequence(sname, status=failing, **options)
            except (TypeError, ValueError) as exc:
                raise at(step.line, str(exc)) from None
            self.budget.add_step(seq.step, step.line)
            for page in pages:
                name = page.text_of("PAGE_NAME") or sname
                add_page(seq, page, name, [], status, budget=self.budget)
        elif pages:
            name = pages[0].text_of("PAGE_NAME") or sname
            add_page(self.seq, pages[0], name, notes, status, budget=self.budget, start=start)
        else:
            options = {"report_text": "\n".join(notes)} if notes else {}
            if start is not None:
                options["start"] = start
            add_verdict_step(
                self.seq, sname, status or StepStatus.DONE, line=step.line, budget=self.budget,
                **options,
            )  # fmt: skip

    def build(self, line: int) -> UUTReport:
        try:
            report = self.builder.build()
        except (ReportInvalidError, ValueError) as exc:
            raise ConversionError(f"the report (ending at line {line}): {exc}") from None
        self.budget.add_report(report, line)
        return report


def read_spectrum(path: Path, ctx: ConverterContext) -> Iterator[UUTReport]:
    """Convert a Spectrum CTRD file into its report, reading it twice, line by line.

    Raises:
        ConversionError: the text is not CTRD, is cut short, or lacks the serial number, part
            number, start time or result; a value is wrong (naming the line).
    """
    args = ctx.arguments if isinstance(ctx.arguments, SpectrumArguments) else SpectrumArguments()
    header = _header(path, args)
    budget = current_budget()
    budget.start_report()
    builder = _Builder(path, ctx, args, header)
    last = 0
    for group in read_groups(NumberedLines(path, args.encoding)):
        builder.feed(group)
        last = group.end
    yield builder.build(last)


class SpectrumConverter(FileConverter):
    """Teradyne Spectrum ICT results (CTRD text, ``*.txt``), one report per file."""

    name: ClassVar[str] = "teradyne_spectrum"
    description: ClassVar[str] = "Teradyne Spectrum ICT results (CTRD text)"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt", "*.log", "*.dat")
    Arguments: ClassVar[type[msgspec.Struct]] = SpectrumArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """1.0 for ``(PROGRAM_NAME:`` first and STEP/PAGE groups in the head; less for less."""
        args = ctx.arguments if isinstance(ctx.arguments, SpectrumArguments) else None
        text = sniff(path, args.encoding if args is not None else "auto")
        program = _PROGRAM_HEAD.match(text)
        serial = _SERIAL_HEAD.search(text)
        groups = re.search(r"\(\s*STEP\s*:", text) and re.search(r"\(\s*PAGE\s*:", text)
        preview = Preview(
            part_number=program[1].strip() or None if program else None,
            serial_number=serial[1].strip() or None if serial else None,
        )
        if program and groups:
            return Validation(
                confidence=1.0, preview=preview, message="CTRD text: PROGRAM_NAME, STEP, PAGE"
            )
        if groups:
            return Validation(
                confidence=0.8,
                preview=preview,
                message="CTRD STEP and PAGE groups, no PROGRAM_NAME first",
            )
        if program:
            return Validation(
                confidence=0.5, preview=preview, message="a PROGRAM_NAME, no STEP yet"
            )
        return Validation(confidence=0.0, message="no CTRD (PROGRAM_NAME:/(STEP:/(PAGE: groups")

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """The file's one report."""
        return Converted(reports=list(read_spectrum(path, ctx)))

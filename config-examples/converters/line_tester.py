"""A complete user converter: the log files of an (imaginary) LT200 line tester.

A log looks like this (``|``-separated measurement lines between two ``---`` lines)::

    LT200 RESULT v2
    serial: PSU-0042
    product: PSU-48V-200 rev C
    operator: anna.berg
    started: 2024-05-02 14:03:11
    ---
    3V3 rail | 3.312 V | 3.2..3.4        value and unit, limits low..high
    Ripple | 0.021 V | ..0.05            only a high limit
    Idle current | 0.41 A                no limits: logged
    Fan | PASS                           pass/fail
    Firmware | 1.4.2 | =1.4.2            a string and its expected value
    ---
    verdict: PASS
    end

The tester also writes calibration logs (``LT200 CALIBRATION``), which are not test results
(``Skipped``), and writes a log line by line while it tests: a log without its ``end`` line is
not finished yet (``Suspended``, tried again later). Everything else that is wrong is a broken
log (``ConversionError``, naming the line): it goes to the error folder.

Configure it (see README.md beside this file)::

    [[converters]]
    name = "line-tester"
    kind = "/etc/pywats-station/converters/line_tester.py"
    watch = "/srv/testdata/lt200"
    patterns = ["*.log"]

    [converters.arguments]
    process = "PCBA test"
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats.report_builder import ReportBuilder, SequenceBuilder
from pywats_station.converters import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    FileConverter,
    Preview,
    Skipped,
    Suspended,
    Validation,
)

_LIMITS = re.compile(r"^(?P<low>[-+\d.eE]*)\.\.(?P<high>[-+\d.eE]*)$")


class LineTesterArguments(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[converters.arguments]`` of the line tester converter."""

    process: str = "PCBA test"  # process name or code in WATS
    sequence: str = "Line test"  # the sequence the measurements go into
    retry_after: float = 30.0  # seconds before an unfinished log is read again


class LineTesterConverter(FileConverter):
    """LT200 line tester logs (``*.log``): one report per log."""

    name: ClassVar[str] = "line-tester"
    description: ClassVar[str] = "LT200 line tester logs"
    patterns: ClassVar[tuple[str, ...]] = ("*.log",)
    Arguments: ClassVar[type[msgspec.Struct]] = LineTesterArguments

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """Sure when the first line is the LT200 signature; preview from the header."""
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not lines or not lines[0].startswith("LT200 "):
            return Validation(confidence=0.0, message="no LT200 signature")
        header = _header(lines)
        return Validation(
            confidence=1.0,
            preview=Preview(
                serial_number=header.get("serial"),
                part_number=header.get("product", "").split(" rev ")[0] or None,
                result=header.get("verdict"),
            ),
        )

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """Read one log into one report."""
        args = ctx.args(LineTesterArguments)
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines or not lines[0].startswith("LT200 "):
            raise ConversionError("line 1: not an LT200 log (no 'LT200' signature)")
        if lines[0].startswith("LT200 CALIBRATION"):
            return Skipped(reason="a calibration log, not a test result")
        written = [line.strip() for line in lines if line.strip()]
        if written[-1] != "end":
            return Suspended(reason="the log has no 'end' line yet", retry_after=args.retry_after)
        header = _header(lines)
        for key in ("serial", "product", "started"):
            if key not in header:
                raise ConversionError(f"the log has no '{key}:' line")
        pn, _, rev = header["product"].partition(" rev ")
        try:
            started = datetime.strptime(header["started"], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ConversionError(f"started: {header['started']!r} is not a time") from None
        builder = ReportBuilder.uut(
            pn=pn.strip(),
            sn=header["serial"],
            rev=rev.strip() or "A",
            process_code=ctx.process_code(args.process),
            station=ctx.station.name,
            location=ctx.station.location,
            purpose=ctx.station.purpose,
            operator=header.get("operator"),
            start=started,  # local time of the station
        )
        sequence = builder.root.sequence(args.sequence)
        for number, line in _measurement_lines(lines):
            try:
                _measurement(sequence, line)
            except ValueError as exc:  # the builder's complaints, and float() on a bad number
                raise ConversionError(f"line {number}: {exc}") from None
        if header.get("verdict", "").upper() == "FAIL":
            builder.result("F")  # the tester's verdict can fail the unit; nothing makes it pass
        ctx.log.info("LT200 log of %s: %d lines", header["serial"], len(lines))
        return Converted(reports=[builder.build()])


def _header(lines: list[str]) -> dict[str, str]:
    """``key: value`` lines outside the measurement block (header and footer)."""
    header: dict[str, str] = {}
    for _, line in _lines_outside(lines):
        key, sep, value = line.partition(":")
        if sep:
            header[key.strip().lower()] = value.strip()
    return header


def _lines_outside(lines: list[str]) -> list[tuple[int, str]]:
    inside, out = False, []
    for number, line in enumerate(lines, start=1):
        if line.strip() == "---":
            inside = not inside
        elif not inside:
            out.append((number, line))
    return out


def _measurement_lines(lines: list[str]) -> list[tuple[int, str]]:
    outside = {number for number, _ in _lines_outside(lines)}
    return [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if number not in outside and line.strip() and line.strip() != "---"
    ]


def _measurement(sequence: SequenceBuilder, line: str) -> None:
    parts = [part.strip() for part in line.split("|")]
    name, value = parts[0], parts[1] if len(parts) > 1 else ""
    limits = parts[2] if len(parts) > 2 else ""
    if value.upper() in ("PASS", "FAIL"):
        sequence.pass_fail(name, value.upper() == "PASS")
    elif limits.startswith("="):
        sequence.string(name, value, "CASESENSIT", limit=limits[1:])
    else:
        number_text, _, unit = value.partition(" ")
        number = float(number_text)
        match = _LIMITS.match(limits)
        if limits and match is None:
            raise ValueError(f"limits {limits!r} are not low..high")
        low = float(match["low"]) if match and match["low"] else None
        high = float(match["high"]) if match and match["high"] else None
        if low is not None and high is not None:
            sequence.numeric(name, number, "GELE", low=low, high=high, unit=unit or None)
        elif low is not None:
            sequence.numeric(name, number, "GE", low=low, unit=unit or None)
        elif high is not None:  # WATS compares LE against the low limit member
            sequence.numeric(name, number, "LE", low=high, unit=unit or None)
        else:
            sequence.numeric(name, number, unit=unit or None)

"""The ``klippel`` converter: Klippel QC runs, a header file and the folder of curves beside it.

Klippel QC writes each tested unit (DUT) as a pair in its log folder::

    DUT xyz115 2020-05-14 10-01-37-5 UTC+0200.txt     the header: Key=Value lines
    DUT xyz115 2020-05-14 10-01-37-5 UTC+0200/        the data, one file per task result
        Impedance-imp.txt                             a curve: frq, imp, max, min
        Impedance-values.txt                          single values: name, value, max, min
        Sound Pressure-resp.txt …

The input is the folder; the header is its companion (``companions = (".txt",)``): the station
lists the pair when either part is there, lets the two settle together (``settle`` seconds
without a change to either), and moves, zips, deletes or sends them to Error together.

**When is a pair complete?** The header names the results Klippel judged, not the files it
wrote (results such as ``pol`` have no file), so completeness is: the header is there, the
folder is there and holds at least one ``.txt`` file (and a match for each of
``expected_files``, when given), and nothing in either has changed for ``settle`` seconds.
Until then :meth:`KlippelConverter.convert` answers :class:`Suspended`; a pair still incomplete
``incomplete_timeout`` seconds after its last change (a header whose folder never came, a
folder without its header) fails to Error, both parts with the reason beside them.

The mapping (header keys, steps, charts, limits) is in :mod:`._klippel_report` and
``docs/converters/klippel.md``; the header's format in :mod:`._klippel_header`, the data files'
in :mod:`._klippel_data`.
"""

from __future__ import annotations

import codecs
import os
import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import msgspec

from pywats.models.report import UUTReport
from pywats_station._display import display_name
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    Failed,
    FolderConverter,
    Preview,
    Validation,
)
from pywats_station.converters.builtin._equipment import (
    EquipmentArguments,
    local_time,
    resolve_process,
)
from pywats_station.converters.builtin._klippel_data import (
    Curve,
    NotRead,
    Values,
    read_data_file,
    task_of,
)
from pywats_station.converters.builtin._klippel_header import (
    VERDICTS,
    KlippelHeader,
    name_time,
    parse_start,
    read_header,
)
from pywats_station.converters.builtin._klippel_pair import (
    SUFFIX,
    data_names,
    incomplete,
    missing,
    pair,
    sniff_data,
)
from pywats_station.converters.builtin._klippel_report import Run, build_report
from pywats_station.converters.builtin._textfile import head_text

__all__ = [
    "DEFAULT_PART_NUMBER",
    "DEFAULT_PROCESS",
    "DEFAULT_REVISION",
    "KlippelArguments",
    "KlippelConverter",
]

DEFAULT_PROCESS = 10
"""The process WATS's own Klippel converter reports under (``operationTypeCode`` 10)."""
DEFAULT_PART_NUMBER = "PartNumber1"
DEFAULT_REVISION = "1.0"
"""Part number and revision when none is configured: the files carry neither, and these are
WATS's own converter's placeholders (plain to see in WATS as "not configured")."""
_IDENTITY = 50  # characters WATS takes in a serial number
_OPERATOR = 128  # … in an operator's name

_SNIFF = 65536  # bytes of a header that validate() reads
_MAX_DURATION = 3600.0  # a test longer than this is not a Klippel QC test: no execTime
_HEADER_KEYS = re.compile(r"^[ \t]*(Cfg_DutStartTime|Ctrl_OverallVerdict)[ \t]*=", re.MULTILINE)
_SERIAL = re.compile(r"^[ \t]*Cfg_SerialNumber[ \t]*=[ \t]*(.*?)[ \t\r]*$", re.MULTILINE)
_VERDICT = re.compile(r"^[ \t]*Ctrl_OverallVerdict[ \t]*=[ \t]*(-?\d+)[ \t\r]*$", re.MULTILINE)


class KlippelArguments(EquipmentArguments, forbid_unknown_fields=True, kw_only=True):
    """Arguments of the ``klippel`` converter (and those every equipment converter has).

    Attributes:
        encoding: of the header and data files (a byte-order mark wins).
        units: result name → unit, over the defaults of Klippel QC's standard results
            (:data:`~._klippel_report.DEFAULT_UNITS`); the files carry no units.
        max_points: the most frequencies a chart series shows (thinned evenly beyond; the
            measurements always cover every frequency).
        incomplete_timeout: seconds a pair may stay incomplete after its last change before it
            fails to Error (0: at once).
        expected_files: patterns of files the folder must hold before it is converted
            (``["*-resp.txt", "*-values.txt"]``); none: any ``.txt`` file will do.
    """

    encoding: str = "utf-8"
    units: dict[str, str] = msgspec.field(default_factory=dict)
    max_points: int = 2000
    incomplete_timeout: float = 600.0
    expected_files: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"encoding {self.encoding!r} is not an encoding") from None
        if self.max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {self.max_points}")
        if not 0 <= self.incomplete_timeout < float("inf"):
            raise ValueError(f"incomplete_timeout must be 0 or more, got {self.incomplete_timeout}")


def _args(ctx: ConverterContext) -> KlippelArguments:
    return ctx.arguments if isinstance(ctx.arguments, KlippelArguments) else KlippelArguments()


class KlippelConverter(FolderConverter):
    """Klippel QC: one report per header file and the folder of curves of the same name."""

    name: ClassVar[str] = "klippel"
    description: ClassVar[str] = "Klippel QC: a header file and the folder of curves beside it"
    patterns: ClassVar[tuple[str, ...]] = ("*",)
    ready_marker: ClassVar[str | None] = None
    min_files: ClassVar[int] = 1  # a folder alone counts once it holds a file
    companions: ClassVar[tuple[str, ...]] = (SUFFIX,)
    Arguments: ClassVar[type[msgspec.Struct]] = KlippelArguments

    def is_ready(self, folder: Path) -> bool:
        """Whether the pair is complete by presence: the header, and a ``.txt`` file beside it.

        The station decides by its own listing (a part alone is handed over, and
        :meth:`convert` waits); this is what ``pywats-station convert`` asks.
        """
        folder, header = pair(folder)
        return header is not None and bool(data_names(folder))

    def validate(self, folder: Path, ctx: ConverterContext) -> Validation:
        """1.0 for a Klippel header with a folder of Klippel data files, 0.9 for the header
        alone, 0.6 for the data folder alone, 0.3 for a header missing a key; else 0.

        Reads at most the first 64 kB of the header and 256 bytes of 20 of the folder's files.
        """
        args = _args(ctx)
        folder, header = pair(folder)
        name = display_name(folder.name)
        data = sniff_data(folder, args.encoding)
        if header is None:
            if data:
                return Validation(
                    confidence=0.6,
                    message=f"a Klippel QC run folder ({data}) without its header {name}.txt (yet)",
                )
            return Validation(
                confidence=0.0,
                message=f"not Klippel QC: no header {name}.txt and no Klippel data file in {name}",
            )
        shown = display_name(header.name)
        try:
            text = head_text(header, _SNIFF, args.encoding)
        except (ConversionError, OSError) as exc:
            return Validation(confidence=0.0, message=f"{shown}: {exc}")
        keys = {m.group(1) for m in _HEADER_KEYS.finditer(text)}
        if not keys:
            return Validation(
                confidence=0.0,
                message=f"{shown} is not a Klippel QC header: no Cfg_DutStartTime= and "
                "Ctrl_OverallVerdict= lines",
            )
        preview = _preview(text)
        if len(keys) < 2:
            absent = ({"Cfg_DutStartTime", "Ctrl_OverallVerdict"} - keys).pop()
            return Validation(
                confidence=0.3, preview=preview, message=f"{shown}: a header without {absent}="
            )
        if data:
            return Validation(
                confidence=1.0, preview=preview, message=f"a Klippel QC header and its {data}"
            )
        where = "is not there (yet)" if not folder.is_dir() else "holds no Klippel data file (yet)"
        return Validation(
            confidence=0.9, preview=preview, message=f"a Klippel QC header; its folder {where}"
        )

    def convert(self, folder: Path, ctx: ConverterContext) -> ConversionResult:
        """Convert a complete pair; :class:`Suspended` while a part is missing, then Failed."""
        args = _args(ctx)
        folder, header = pair(folder)
        name = display_name(folder.name)
        if header is None and not os.path.isdir(folder):
            return Failed(reason=f"neither the header {name}.txt nor the folder {name} is there")
        lacking = missing(folder, header, args.expected_files)
        if lacking:
            return incomplete(folder, header, lacking, args.incomplete_timeout)
        assert header is not None  # missing() names it when it is absent
        return Converted(reports=[_convert(folder, header, ctx, args)])


def _convert(
    folder: Path, header_path: Path, ctx: ConverterContext, args: KlippelArguments
) -> UUTReport:
    """Read a complete pair and build its report.

    Raises:
        ConversionError: a file is broken (naming it and the line), or the configuration
            lacks what the files do not carry (part number, revision).
    """
    header_name = display_name(header_path.name)
    header = read_header(header_path, args.encoding, header_name)
    serial = _limited(header, "Cfg_SerialNumber", _IDENTITY, required=True)
    operator = _limited(header, "Cfg_UserName", _OPERATOR) or args.operator
    _, word, result = header.verdict()
    start = _start(header, header_path, folder, args)
    if not (args.part_number and args.revision):
        # The format carries neither: WATS's own converter's placeholders, said in the log.
        ctx.log.warning(
            "%s: no arguments.part_number/revision configured: the report says %s %s",
            header_name,
            args.part_number or DEFAULT_PART_NUMBER,
            args.revision or DEFAULT_REVISION,
        )
    files = _read_folder(folder, args)
    if not any(isinstance(f, Curve | Values) for f in files):
        why = "; ".join(f"{f.file}: {f.reason}" for f in files if isinstance(f, NotRead))
        raise ConversionError(f"the folder {display_name(folder.name)} holds no data file: {why}")
    run = Run(
        header=header,
        header_name=header_name,
        files=files,
        serial_number=serial,
        part_number=args.part_number or DEFAULT_PART_NUMBER,
        revision=args.revision or DEFAULT_REVISION,
        operator=operator,
        process_code=resolve_process(ctx, args, None, DEFAULT_PROCESS),
        start=start,
        result=result,
        verdict_word=word,
        exec_time=_duration(start, [header_path, *_data_paths(folder)]),
        units=args.units,
    )
    return build_report(run, ctx.station)


def _limited(header: KlippelHeader, key: str, limit: int, *, required: bool = False) -> str:
    """A header value that becomes a WATS field of at most ``limit`` characters."""
    value = header.required(key).value if required else header.get(key)
    if len(value) > limit:
        raise ConversionError(
            f"{header.where(key)}: {key} is {len(value):,} characters long; WATS takes at most "
            f"{limit}"
        )
    return value


def _start(
    header: KlippelHeader, header_path: Path, folder: Path, args: KlippelArguments
) -> datetime:
    """The start: ``Cfg_DutStartTime`` with its offset; else the time in the file's name."""
    named = name_time(header_path.name) or name_time(folder.name)
    entry = header.entries.get("Cfg_DutStartTime")
    if entry is None or not entry.value:
        if named is None:
            raise ConversionError(
                f"{header.where('Cfg_DutStartTime')}: no Cfg_DutStartTime, and the name "
                "carries no time (… 2020-05-14 10-01-37-5 UTC+0200)"
            )
        return named
    when, has_offset = parse_start(entry.value, header.where(entry.key))
    if has_offset:
        return when
    # An older header without the offset: the name's (which Klippel writes), else the zone's.
    return when.replace(tzinfo=named.tzinfo) if named is not None else local_time(when, args)


def _data_paths(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if e.is_file()]
    except OSError:
        return []


def _duration(start: datetime, paths: list[Path]) -> float | None:
    """Seconds from the start to the newest file: Klippel writes them as the test ends.

    ``None`` when that is not between 0 and an hour (a copy that did not keep the times).
    """
    newest = max((p.stat().st_mtime for p in paths), default=0.0)
    seconds = newest - start.timestamp()
    return round(seconds, 3) if 0 <= seconds <= _MAX_DURATION else None


def _read_folder(folder: Path, args: KlippelArguments) -> list[Curve | Values | NotRead]:
    """Every entry of the run folder, read, in name order (as Klippel's own listing)."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda e: (e.name.casefold(), e.name))
    files: list[Curve | Values | NotRead] = []
    for entry in entries:
        shown = display_name(entry.name)
        if entry.is_dir():
            files.append(NotRead(shown, "a folder"))
        elif not entry.is_file():
            files.append(NotRead(shown, "not a regular file"))
        elif entry.name.startswith("."):
            files.append(NotRead(shown, "a hidden file"))
        elif not entry.name.casefold().endswith(SUFFIX):
            files.append(NotRead(shown, "not a .txt file"))
        else:
            task = display_name(task_of(entry.name[: -len(SUFFIX)]))
            files.append(
                read_data_file(
                    Path(entry.path),
                    shown,
                    task,
                    encoding=args.encoding,
                    max_points=args.max_points,
                )
            )
    return files


def _preview(text: str) -> Preview:
    serial = _SERIAL.search(text)
    verdict = _VERDICT.search(text)
    result = None
    if verdict is not None and int(verdict.group(1)) in VERDICTS:
        result = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated"}[
            VERDICTS[int(verdict.group(1))][1]
        ]
    return Preview(serial_number=(serial.group(1) or None) if serial else None, result=result)

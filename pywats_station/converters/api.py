"""The converter API: what a converter is, what it is given, and what it answers.

A *converter* turns what test equipment leaves behind into WATS reports. There are three types:

* :class:`FileConverter` — one file is one input (``*.json``, ``*.csv``…);
* :class:`FolderConverter` — one sub-folder is one input, converted once it is *ready*
  (a marker file, enough files, the expected files);
* :class:`ScheduledConverter` — no input at all: it runs on a schedule and fetches what it
  converts (a database, another system's API).

Each one answers with a :data:`ConversionResult`:

=============  ==========================================================================
``Converted``  the reports (≥ 1 for file and folder converters); the station queues them,
               then applies the post action (move to Done, delete, zip, keep)
``Skipped``    not a test result (a log file…): no report, the input goes to Done or stays
``Suspended``  not ready yet (a companion file is missing): tried again after ``retry_after``
``Failed``     broken input: it goes to the Error folder, with ``<name>.error.txt`` saying why
=============  ==========================================================================

Raising :class:`ConversionError` inside ``convert()`` is the same as returning
``Failed(reason=str(exc))``; any other exception is a bug in the converter and fails the input
too (``converter raised ValueError: …``), without harming the station.

A converter class is instantiated without arguments. Its settings, ``[converters.arguments]``
in the station's configuration, are a typed :class:`msgspec.Struct` named ``Arguments`` on the
class, checked by :func:`parse_arguments` when the converter starts and handed over as
``ctx.arguments``.
"""

from __future__ import annotations

import abc
import fnmatch
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import msgspec

from pywats.models.app import Process
from pywats.models.report import UURReport, UUTReport

__all__ = [
    "ConversionError",
    "ConversionResult",
    "Converted",
    "ConverterConfigError",
    "ConverterContext",
    "ConverterError",
    "ConverterType",
    "Failed",
    "FileConverter",
    "FolderConverter",
    "NoArguments",
    "Preview",
    "ScheduledConverter",
    "Skipped",
    "StationInfo",
    "Suspended",
    "Validation",
    "classify_confidence",
    "companion_owner",
    "companion_paths",
    "folder_ready",
    "matches_patterns",
    "parse_arguments",
]

S = TypeVar("S", bound=msgspec.Struct)


class ConverterType(StrEnum):
    """How a converter is triggered: by a file, by a ready folder, or by a schedule."""

    FILE = "file"
    FOLDER = "folder"
    SCHEDULED = "scheduled"


class StationInfo(msgspec.Struct, kw_only=True):
    """How the station names itself in its reports (``machineName``, location, purpose).

    WATS requires all three to be non-empty in a report.
    """

    name: str
    location: str
    purpose: str


# --- errors ---------------------------------------------------------------------------------


class ConverterError(Exception):
    """Base of the errors about a converter itself (as opposed to one input)."""


class ConverterConfigError(ConverterError, ValueError):
    """The converter's ``arguments`` are wrong; ``key`` is ``arguments.<name>``.

    Attributes:
        key: the argument at fault, e.g. ``arguments.measurements[0].low``.
        problem: what is wrong with it.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class ConversionError(Exception):
    """Raised inside ``convert()``: this input is broken. Becomes ``Failed(reason=str(exc))``."""


# --- validation and results -----------------------------------------------------------------


class Preview(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a converter can tell about an input before converting it."""

    serial_number: str | None = None
    part_number: str | None = None
    result: str | None = None


class Validation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A converter's confidence (0 to 1) that it can read an input, with a preview.

    Guide: 1.0 the content is certainly this format; 0.7 to 0.9 it looks right; 0.5 only the file
    name matches; 0.0 it is not this format.
    """

    confidence: float
    preview: Preview = msgspec.field(default_factory=Preview)
    message: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be between 0 and 1, got {self.confidence}")


class Converted(msgspec.Struct, kw_only=True, tag_field="outcome", tag="converted"):
    """The input became these reports (at least one, except from a scheduled converter)."""

    reports: list[UUTReport | UURReport]


class Skipped(msgspec.Struct, kw_only=True, tag_field="outcome", tag="skipped"):
    """The input is not a test result (a log file, a summary…): no report, no error."""

    reason: str


class Suspended(msgspec.Struct, kw_only=True, tag_field="outcome", tag="suspended"):
    """Not ready yet (a companion file is missing): try again after ``retry_after`` seconds."""

    reason: str
    retry_after: float = 60.0


class Failed(msgspec.Struct, kw_only=True, tag_field="outcome", tag="failed"):
    """The input is broken: it goes to the error folder, with ``reason`` beside it."""

    reason: str


ConversionResult = Converted | Skipped | Suspended | Failed
"""What ``convert()`` (and a scheduled converter's ``run()``) returns."""

RESULT_TYPES: tuple[type, ...] = (Converted, Skipped, Suspended, Failed)


def classify_confidence(
    v: Validation, *, alarm: float, reject: float
) -> Literal["ok", "alarm", "reject"]:
    """Apply a converter's configured thresholds to a validation.

    Below ``reject`` the input is refused (error folder); below ``alarm`` it is converted but
    flagged; otherwise it is simply converted.
    """
    if v.confidence < reject:
        return "reject"
    if v.confidence < alarm:
        return "alarm"
    return "ok"


# --- the context ----------------------------------------------------------------------------


@dataclass
class ConverterContext:
    """What a converter is given besides its input.

    Attributes:
        station: this station's name, location and purpose (for the report header).
        processes: the server's processes, synced to disk; empty on a station that has never
            been online.
        arguments: the converter's ``Arguments`` instance (checked by :func:`parse_arguments`).
        log: the converter's logger; what it logs shows in the station log.
    """

    station: StationInfo
    processes: list[Process]
    arguments: Any
    log: logging.Logger

    def args(self, cls: type[S]) -> S:
        """Return :attr:`arguments`, typed: ``args = ctx.args(MyConverter.Arguments)``.

        Raises:
            TypeError: the arguments are not an instance of ``cls``.
        """
        if not isinstance(self.arguments, cls):
            raise TypeError(f"arguments are {type(self.arguments).__name__}, not {cls.__name__}")
        return self.arguments

    def process_code(self, name_or_code: str | int, default: int | None = None) -> int:
        """Return the process code for a process name (any case) or code.

        A code (``10`` or ``"10"``) is accepted as it is while no process list has been synced
        (the server checks it on upload); otherwise it must be one of the synced processes.

        Raises:
            ConversionError: the process is unknown and no ``default`` was given.
        """
        key = name_or_code.strip() if isinstance(name_or_code, str) else name_or_code
        code: int | None = None
        if isinstance(key, int) and not isinstance(key, bool):
            code = key
        elif isinstance(key, str) and re.fullmatch(r"[+-]?\d+", key):
            code = int(key)
        if code is not None:
            if not self.processes or any(p.code == code for p in self.processes):
                return code
        elif isinstance(key, str):
            folded = key.casefold()
            for process in self.processes:
                if (process.name or "").casefold() == folded:
                    return process.code
        if default is not None:
            return default
        if not self.processes:
            raise ConversionError(
                f"unknown process {name_or_code!r}: no process list has been synced from the "
                "server yet, so only a numeric process code can be used"
            )
        known = ", ".join(f"{p.code} {p.name}" for p in self.processes)
        raise ConversionError(f"unknown process {name_or_code!r} (known: {known})")

    def now(self) -> datetime:
        """The current time, local, with its UTC offset (what a report's ``start`` needs)."""
        return datetime.now().astimezone()


# --- arguments ------------------------------------------------------------------------------


class NoArguments(msgspec.Struct, forbid_unknown_fields=True):
    """The ``Arguments`` of a converter that takes none: any argument given is an error."""


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`")
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`")


def parse_arguments(converter_cls: type, raw: Mapping[str, Any]) -> msgspec.Struct:
    """Check ``raw`` (the ``[converters.arguments]`` table) against ``converter_cls.Arguments``.

    Strings are coerced to numbers and booleans where the field needs one (``"5"`` → ``5``);
    TOML already gives proper types.

    Raises:
        ConverterConfigError: an argument is unknown, missing, or of the wrong type or value;
            ``key`` names it (``arguments.delimiter``).
    """
    cls: type[msgspec.Struct] = getattr(converter_cls, "Arguments", NoArguments)
    if not isinstance(raw, Mapping):
        raise ConverterConfigError("arguments", f"must be a table, not {type(raw).__name__}")
    try:
        return msgspec.convert(dict(raw), cls, strict=False)
    except msgspec.ValidationError as exc:
        raise _config_error(str(exc), cls) from None


def _config_error(message: str, cls: type[msgspec.Struct]) -> ConverterConfigError:
    match = _AT.match(message)
    assert match is not None  # the pattern matches any text
    msg, path = match["msg"], match["path"] or ""
    if unknown := _UNKNOWN.fullmatch(msg):
        key = f"arguments{path}.{unknown['field']}"
        known = ", ".join(cls.__struct_fields__) if not path else ""
        hint = f" (known: {known})" if known else ""
        return ConverterConfigError(key, f"unknown argument{hint}")
    if missing := _MISSING.fullmatch(msg):
        return ConverterConfigError(f"arguments{path}.{missing['field']}", "is required")
    msg = msg[:1].lower() + msg[1:]
    return ConverterConfigError(f"arguments{path}", msg)


# --- patterns and folder readiness ----------------------------------------------------------


def matches_patterns(name: str, patterns: Iterable[str]) -> bool:
    """Whether a file name matches any fnmatch pattern, ignoring case on every system."""
    folded = name.casefold()
    return any(fnmatch.fnmatchcase(folded, p.casefold()) for p in patterns)


def folder_ready(
    folder: Path, *, marker: str | None, min_files: int, expected: Sequence[str] = ()
) -> bool:
    """Whether a folder input is complete.

    Ready when the ``marker`` file exists, or when the count rule holds: at least ``min_files``
    regular files (sub-folders do not count) and, for each ``expected`` pattern, a file that
    matches it. With ``min_files`` 0 and nothing expected the count rule is off: only the
    marker makes the folder ready.
    """
    try:
        files = [entry.name for entry in folder.iterdir() if entry.is_file()]
    except OSError:  # vanished or unreadable: not ready now, the watcher will see it again
        return False
    if marker and any(name.casefold() == marker.casefold() for name in files):
        return True
    if min_files <= 0 and not expected:
        return False
    if len(files) < min_files:
        return False
    return all(any(matches_patterns(name, [pattern]) for name in files) for pattern in expected)


def companion_paths(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """The companion files of a folder input that exist: ``<folder name><suffix>`` beside it.

    Names are matched ignoring case, as patterns are (``RUN-7.TXT`` is a companion of
    ``run-7``); the exact name is looked up first, so the folder beside it is listed only
    when case differs. Whatever exists under the name is returned (a link, a FIFO): what may
    be read of it is the station's check, not this lookup's.
    """
    found: list[Path] = []
    listing: list[str] | None = None
    for suffix in suffixes:
        exact = folder.parent / (folder.name + suffix)
        if os.path.lexists(exact):
            found.append(exact)
            continue
        if listing is None:
            try:
                listing = os.listdir(folder.parent)
            except OSError:
                listing = []
        wanted = (folder.name + suffix).casefold()
        found += [folder.parent / name for name in sorted(listing) if name.casefold() == wanted][:1]
    return found


def companion_owner(name: str, suffixes: Sequence[str]) -> str | None:
    """The folder name whose companion ``name`` is (``run-7.txt`` → ``run-7``), or ``None``."""
    for suffix in suffixes:
        cut = len(name) - len(suffix)
        if suffix and cut > 0 and name[cut:].casefold() == suffix.casefold():
            return name[:cut]
    return None


# --- the three converter types --------------------------------------------------------------


class _Converter:
    """Class attributes every converter type has."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Arguments: ClassVar[type[msgspec.Struct]] = NoArguments
    type: ClassVar[ConverterType]
    # False (the default): the station gives each report an id derived from the input's
    # content, so converting the same file again (after a crash before its post action)
    # re-sends the same report instead of a duplicate. True: the input carries the report's
    # own id (WSJF, WSXF), which is kept.
    keeps_report_ids: ClassVar[bool] = False

    _auto_name: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A converter that does not name itself is named after its class (the name shows in
        # logs and error files); a name set by hand is inherited like any class attribute.
        if "name" in cls.__dict__:
            cls._auto_name = False
        elif cls._auto_name:
            cls.name = cls.__name__


class FileConverter(_Converter, abc.ABC):
    """Converts one file into reports. Subclass it and implement :meth:`convert`.

    Class attributes: ``name``, ``description``, ``patterns`` (fnmatch, any case; the
    configuration's ``patterns`` take precedence when set), ``Arguments``.
    """

    patterns: ClassVar[tuple[str, ...]] = ("*",)
    type: ClassVar[ConverterType] = ConverterType.FILE

    def matches(self, path: Path) -> bool:
        """Whether the file name matches one of :attr:`patterns` (ignoring case)."""
        return matches_patterns(path.name, self.patterns)

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """Rate how surely this converter can read ``path`` (default: 0.5 if a pattern matches).

        Override it to look into the file and fill a :class:`Preview`.
        """
        return Validation(confidence=0.5 if self.matches(path) else 0.0)

    @abc.abstractmethod
    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """Read ``path`` and return the outcome (see :data:`ConversionResult`)."""


class FolderConverter(_Converter, abc.ABC):
    """Converts one folder (a test run's several files) into reports.

    Readiness (:meth:`is_ready`): ``ready_marker`` exists, or at least ``min_files`` regular
    files and every ``expected`` pattern present. Override :meth:`is_ready` for other rules.

    ``companions``: suffixes of files *beside* the folder that belong to the same input (see
    :func:`companion_paths`). With ``(".txt",)`` the input ``run-7`` is the folder ``run-7``
    and the file ``run-7.txt`` together: they settle together, are checked and hashed together,
    and the post action and the Error folder take them together. Such an input reaches the
    converter once its parts present have settled, even while one is missing (a header without
    its folder yet, or the other way round): the converter decides whether to wait
    (:class:`Suspended`) or give up (:class:`Failed`). A folder alone counts only once it is
    ready by the rules above; a companion alone always counts.
    """

    patterns: ClassVar[tuple[str, ...]] = ("*",)
    type: ClassVar[ConverterType] = ConverterType.FOLDER
    ready_marker: ClassVar[str | None] = "COMPLETE.marker"
    min_files: ClassVar[int] = 0  # 0: the marker alone says ready (the safe default)
    expected: ClassVar[tuple[str, ...]] = ()
    companions: ClassVar[tuple[str, ...]] = ()

    def matches(self, folder: Path) -> bool:
        """Whether the folder name matches one of :attr:`patterns` (ignoring case)."""
        return matches_patterns(folder.name, self.patterns)

    def is_ready(self, folder: Path) -> bool:
        """Whether the folder is complete and can be converted (see :func:`folder_ready`)."""
        return folder_ready(
            folder, marker=self.ready_marker, min_files=self.min_files, expected=self.expected
        )

    def validate(self, folder: Path, ctx: ConverterContext) -> Validation:
        """Rate how surely this converter can read ``folder`` (default: 0.5 if the name matches)."""
        return Validation(confidence=0.5 if self.matches(folder) else 0.0)

    @abc.abstractmethod
    def convert(self, folder: Path, ctx: ConverterContext) -> ConversionResult:
        """Read the files in ``folder`` and return the outcome."""


class ScheduledConverter(_Converter, abc.ABC):
    """Runs on a schedule and fetches what it converts (a database, another system).

    ``schedule`` is ``"every 30s|5m|2h|1d"`` or a five-field cron expression; the
    configuration's ``schedule`` takes precedence when set.
    """

    type: ClassVar[ConverterType] = ConverterType.SCHEDULED
    schedule: ClassVar[str] = "every 1h"
    run_at_startup: ClassVar[bool] = False

    @abc.abstractmethod
    def run(self, ctx: ConverterContext) -> ConversionResult:
        """Fetch and convert; ``Converted`` may hold no report, ``Skipped`` means nothing new."""


AnyConverter = FileConverter | FolderConverter | ScheduledConverter
CONVERTER_BASES: tuple[type, ...] = (FileConverter, FolderConverter, ScheduledConverter)

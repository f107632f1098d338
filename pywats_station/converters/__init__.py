"""Converters: turning test equipment's files into WATS reports.

The API (re-exported here from :mod:`pywats_station.converters.api`) is what a converter is
written against. Beside it: ``registry`` finds a converter from its ``kind``, ``sandbox`` runs
one safely, ``schedule`` parses schedules, ``tryit`` tries one on a file. See
``docs/converters.md``.
"""

from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterConfigError,
    ConverterContext,
    ConverterError,
    ConverterType,
    Failed,
    FileConverter,
    FolderConverter,
    NoArguments,
    Preview,
    ScheduledConverter,
    Skipped,
    StationInfo,
    Suspended,
    Validation,
    classify_confidence,
    folder_ready,
    matches_patterns,
    parse_arguments,
)

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
    "folder_ready",
    "matches_patterns",
    "parse_arguments",
]

"""Trying a converter on one file, for ``pywats-station convert FILE [--kind K] [--json]``.

:func:`try_convert` loads the converter, checks its arguments, rates the file and converts it
in this process (so a traceback of the user's code stays visible in the log), exactly as the
station would apart from the sandbox. :func:`render_tree` draws a report's step tree;
:func:`render` the whole outcome. A :class:`TryResult` encodes to JSON with
``msgspec.json.encode``.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from pywats.models.app import Process
from pywats.models.report import LoopInfo, Step, UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionResult,
    Converted,
    ConverterConfigError,
    ConverterContext,
    Failed,
    FileConverter,
    FolderConverter,
    ScheduledConverter,
    StationInfo,
    Validation,
    classify_confidence,
    parse_arguments,
)
from pywats_station.converters.builtin._auto_select import (
    Candidate,
    KindRating,
    candidate_kinds,
    choose,
    rate,
    unrecognised,
)
from pywats_station.converters.registry import BUILTINS, ConverterLoadError, create_converter
from pywats_station.converters.sandbox import run_conversion

__all__ = ["TryResult", "render", "render_tree", "try_convert"]

_WORDS = {
    "P": "Passed",
    "F": "Failed",
    "D": "Done",
    "S": "Skipped",
    "E": "Error",
    "T": "Terminated",
    "U": "Unknown",
}
_RATINGS = 4  # the ratings shown when the kind was chosen by content
_LIMITS = {
    "EQ": "x == {lo}",
    "NE": "x != {lo}",
    "GT": "x > {lo}",
    "GE": "x >= {lo}",
    "LT": "x < {lo}",
    "LE": "x <= {lo}",
    "GTLT": "{lo} < x < {hi}",
    "GTLE": "{lo} < x <= {hi}",
    "GELT": "{lo} <= x < {hi}",
    "GELE": "{lo} <= x <= {hi}",
    "LTGT": "x < {lo} or x > {hi}",
    "LTGE": "x < {lo} or x >= {hi}",
    "LEGT": "x <= {lo} or x > {hi}",
    "LEGE": "x <= {lo} or x >= {hi}",
}


class TryResult(msgspec.Struct, kw_only=True):
    """What trying a converter on a file gave.

    Attributes:
        kind: the converter kind tried (the most confident built-in when none was given; ""
            when none was confident enough).
        converter: the converter's name ("" when it could not be loaded or none was chosen).
        validation: its rating of the file (``None`` for a scheduled converter or a load error).
        verdict: the thresholds applied to the rating: ``ok``, ``alarm`` or ``reject``.
        result: the outcome of the conversion.
        log: what the converter logged, one line per record.
        ratings: without a kind given, every built-in's rating of the file, best first.
    """

    kind: str
    converter: str
    validation: Validation | None
    verdict: Literal["ok", "alarm", "reject"] | None
    result: ConversionResult
    log: list[str] = msgspec.field(default_factory=list)
    ratings: list[KindRating] = msgspec.field(default_factory=list)


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")
        if record.exc_info and record.exc_info[1] is not None:
            self.lines.extend(logging.Formatter().formatException(record.exc_info).splitlines())


def try_convert(
    path: Path,
    *,
    kind: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    station: StationInfo | None = None,
    processes: list[Process] | None = None,
    base_dir: Path | None = None,
    alarm: float = 0.5,
    reject: float = 0.2,
) -> TryResult:
    """Rate and convert ``path`` with the converter named by ``kind``; never raises for it.

    Args:
        path: the file (or folder, for a folder converter) to convert.
        kind: a built-in name, ``module:Class`` or a ``.py`` file; ``None``: every built-in
            rates the file and the most confident converts it, if it reaches ``alarm``; if none
            does, the result is ``Failed`` with ``no converter recognises this file; best
            guess: …`` and nothing is converted.
        arguments: the converter's arguments, as in ``[converters.arguments]`` (without a
            ``kind``: given to each built-in whose arguments they are).
        station: the station in the report header (default: this host, location
            ``pywats-station convert``, purpose Development).
        processes: the processes known (default none: numeric process codes only).
        base_dir: the folder a relative ``.py`` path is relative to.
        alarm: the alarm threshold for :attr:`TryResult.verdict`, and the least confidence a
            built-in needs to be chosen.
        reject: the reject threshold.
    """
    lines: list[str] = []
    log = logging.Logger(f"pywats_station.converter.try.{path.name}")  # not in the hierarchy
    log.addHandler(_ListHandler(lines))
    station = station or StationInfo(
        name=socket.gethostname(), location="pywats-station convert", purpose="Development"
    )
    raw = dict(arguments or {})
    ratings: list[KindRating] = []
    if kind is None:
        ratings = _rate_builtins(path, station, processes or [], raw, log)
        chosen = choose(ratings, alarm)
        if chosen is None:
            return TryResult(
                kind="",
                converter="",
                validation=None,
                verdict=None,
                result=Failed(reason=unrecognised(ratings, "folder" if path.is_dir() else "file")),
                log=lines,
                ratings=ratings,
            )
        kind = chosen.kind
        log.info("kind %s chosen (confidence %.2f)", kind, chosen.confidence)
    try:
        converter = create_converter(kind, base_dir=base_dir)
        parsed = parse_arguments(type(converter), raw)
    except (ConverterLoadError, ConverterConfigError) as exc:
        return TryResult(kind=kind, converter="", validation=None, verdict=None,
                         result=Failed(reason=str(exc)), log=lines, ratings=ratings)  # fmt: skip
    ctx = ConverterContext(station=station, processes=processes or [], arguments=parsed, log=log)
    validation: Validation | None = None
    verdict: Literal["ok", "alarm", "reject"] | None = None
    if isinstance(converter, FileConverter | FolderConverter):
        try:
            validation = converter.validate(path, ctx)
        except Exception as exc:
            log.exception("validate() raised")
            validation = Validation(confidence=0.0, message=f"validate() raised {exc!r}")
        verdict = classify_confidence(validation, alarm=alarm, reject=reject)
        if isinstance(converter, FolderConverter) and not converter.is_ready(path):
            log.warning("the folder is not ready yet (the station would wait for it)")
    target = None if isinstance(converter, ScheduledConverter) else path
    result = run_conversion(converter, target, ctx)
    return TryResult(
        kind=kind,
        converter=converter.name,
        validation=validation,
        verdict=verdict,
        result=result,
        log=lines,
        ratings=ratings,
    )


def _rate_builtins(
    path: Path, station: StationInfo, processes: list[Process], raw: dict[str, Any],
    log: logging.Logger,
) -> list[KindRating]:  # fmt: skip
    """Every built-in's rating of ``path`` (file or folder built-ins, as ``path`` is)."""
    candidates = []
    for name in candidate_kinds(folder=path.is_dir()):
        cls = BUILTINS[name]
        try:
            ctx = ConverterContext(station, processes, parse_arguments(cls, raw), log)
        except ConverterConfigError:  # arguments meant for another converter
            continue
        converter = cls()
        assert isinstance(converter, FileConverter | FolderConverter)  # candidate_kinds' promise
        candidates.append(Candidate(name, converter, ctx))
    return rate(path, candidates)


# --- rendering ------------------------------------------------------------------------------


def render(result: TryResult) -> str:
    """The whole outcome as text: rating, verdict, outcome, and every report's tree."""
    if result.kind:
        out = [f"converter: {result.converter or '?'} (kind {result.kind})"]
    else:
        out = ["converter: none (no built-in recognises the input)"]
    if result.ratings:
        shown = ", ".join(f"{r.kind} {r.confidence:.2f}" for r in result.ratings[:_RATINGS])
        rest = result.ratings[_RATINGS:]
        if rest:
            shown += f" and {len(rest)} more at {rest[0].confidence:.2f} or less"
        out.append(f"{'chosen by content' if result.kind else 'ratings'}: {shown}")
    if result.validation is not None:
        v = result.validation
        preview = ", ".join(
            f"{k} {val}"
            for k, val in (
                ("sn", v.preview.serial_number),
                ("pn", v.preview.part_number),
                ("result", v.preview.result),
            )
            if val
        )
        note = f" — {v.message}" if v.message else ""
        verdict = f" ({result.verdict})" if result.verdict else ""
        out.append(f"confidence: {v.confidence:.2f}{verdict}{note}")
        if preview:
            out.append(f"preview: {preview}")
    outcome = result.result
    if isinstance(outcome, Converted):
        out.append(f"outcome: converted, {len(outcome.reports)} report(s)")
        for report in outcome.reports:
            out += ["", render_tree(report)]
    elif isinstance(outcome, Failed):
        out.append(f"outcome: failed: {outcome.reason}")
    else:
        retry = (
            f" (retry after {outcome.retry_after:g} s)" if hasattr(outcome, "retry_after") else ""
        )
        out.append(f"outcome: {type(outcome).__name__.lower()}: {outcome.reason}{retry}")
    if result.log:
        out += ["", "log:", *(f"  {line}" for line in result.log)]
    return "\n".join(out)


def render_tree(report: UUTReport | UURReport) -> str:
    """A readable, indented view of a report: header, then each step with status, values, limits."""
    kind = "UUT" if isinstance(report, UUTReport) else "UUR"
    lines = [
        f"{kind} sn {report.sn}  pn {report.pn}  rev {report.rev}  process {report.process_code}"
        f"  result {_word(report.result)}",
        f"start {report.start.isoformat() if report.start else '?'}  station {report.machine_name}",
    ]
    if isinstance(report, UURReport):
        for unit in report.sub_units or ():
            lines.append(
                f"  unit {unit.idx}: {unit.part_type} {unit.pn} sn {unit.sn} rev {unit.rev}"
            )
            for failure in unit.failures or ():
                ref = f" {failure.com_ref}" if failure.com_ref else ""
                lines.append(f"    failure {failure.category} / {failure.code}{ref}")
        return "\n".join(lines)
    if report.root is not None:
        _tree(report.root, 0, lines)
    return "\n".join(lines)


def _word(status: str | None) -> str:
    return _WORDS.get(status or "", status or "?")


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.10g}"


def _loop(loop: LoopInfo | None) -> str:
    if loop is None:
        return ""
    if loop.is_summary:
        return f"  (loop: {loop.num} iterations, {loop.failed or 0} failed)"
    return f"  (iteration {loop.idx})"


def _limits(op: str | None, low: float | None, high: float | None) -> str:
    template = _LIMITS.get((op or "LOG").upper())
    if template is None:
        return "(log)"
    return f"({template.format(lo=_num(low), hi=_num(high))})"


def _tree(step: Step, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    head = f"{pad}{step.name}  [{_word(step.status)}]"
    numeric, strings, booleans = (
        step.numeric_meas or [],
        step.string_meas or [],
        step.boolean_meas or [],
    )
    names = [m.name for m in numeric] + [m.name for m in strings] + [m.name for m in booleans]
    single = len(names) == 1 and names[0] is None
    if single and numeric:
        m = numeric[0]
        unit = f" {m.unit}" if m.unit else ""
        head += f"  {_num(m.value)}{unit}  {_limits(m.comp_op, m.low_limit, m.high_limit)}"
    elif single and strings:
        s = strings[0]
        limit = f"  (== {s.limit!r}, {s.comp_op})" if s.limit is not None else "  (log)"
        head += f"  {s.value!r}{limit}"
    lines.append(head + _loop(step.loop))
    if not single:
        for m in numeric:
            unit = f" {m.unit}" if m.unit else ""
            lines.append(
                f"{pad}  - {m.name}  [{_word(m.status)}]  {_num(m.value)}{unit}  "
                f"{_limits(m.comp_op, m.low_limit, m.high_limit)}"
            )
        for s in strings:
            lines.append(f"{pad}  - {s.name}  [{_word(s.status)}]  {s.value!r}")
        for b in booleans:
            lines.append(f"{pad}  - {b.name}  [{_word(b.status)}]")
    for child in step.steps or ():
        _tree(child, depth + 1, lines)

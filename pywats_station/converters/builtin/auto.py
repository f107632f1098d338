"""The ``auto`` converter: one watch folder for several kinds of equipment file.

A watch folder is claimed by one converter (docs/converters.md, "One watch folder, one
converter"); a station whose testers drop ATML, TestStand and TAKAYA files into one share
therefore needs one converter that reads them all. For each file, ``auto`` asks each candidate
built-in how surely it can read it (``validate()``), converts with the most confident one, and
sends a file no candidate recognises to the Error folder, naming the best guess (see
:mod:`~pywats_station.converters.builtin._auto_select`)::

    [[converters]]
    name = "line-3"
    kind = "auto"
    watch = "/srv/test-results/line-3"

    [converters.arguments]
    kinds = ["atml", "teststand", "takaya_atd"]    # default: every file built-in
    takaya_atd = {process = "ICT"}                 # each kind's own arguments

Arguments:
    kinds (list of kinds, default all file built-ins): the candidates, in order of preference
        when two are equally sure.
    threshold (0 to 1, default 0.5): the least confidence a candidate needs to get a file.
    <kind> (table): that kind's arguments, checked by its own ``Arguments`` when the converter
        is loaded, so a typo fails at start (``arguments.takaya_atd.proces: unknown argument``).

Which kind converted a file is logged and kept in each report as the misc info
``pyWATS converter``. Report ids: a WSJF or WSXF file's own ids are kept; the reports of any
other kind get ids derived from the kind and the file's content, as the station would give them,
so a file converted twice still makes each report once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, cast

import msgspec

from pywats.models.report import MiscInfo, UURReport, UUTReport
from pywats_station.converters.api import (
    ConversionError,
    ConversionResult,
    Converted,
    ConverterContext,
    Failed,
    FileConverter,
    Validation,
)
from pywats_station.converters.builtin._auto_select import (
    ALARM,
    Candidate,
    KindRating,
    candidate_kinds,
    choose,
    rate,
    unrecognised,
)

__all__ = ["MISC_DESCRIPTION", "AutoConverter", "auto_arguments"]

MISC_DESCRIPTION = "pyWATS converter"
"""The misc info that names the kind that converted a report."""
_ID_NAMESPACE = uuid.UUID("0b7f3a4c-52d1-4f57-8c55-2f4c8f1e9a61")
_HASH_CHUNK = 1 << 20
_OWN_FIELDS = ("kinds", "threshold")


class _Base(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What every variant of the arguments checks beyond their types."""

    def __post_init__(self) -> None:
        # A kind whose Arguments have required fields has no default table: it must be given.
        for kind in getattr(self, "kinds", None) or candidate_kinds():
            if getattr(self, kind, True) is None:
                raise ValueError(f"{kind}: this kind needs arguments (arguments.{kind} = {{…}})")


@functools.cache
def _arguments_for(kinds: tuple[tuple[str, type[msgspec.Struct]], ...]) -> type[msgspec.Struct]:
    # Built from the registry, so that a built-in added to it is a candidate (and a table of
    # arguments) without a change here. Each kind's table is typed by its own Arguments: msgspec
    # checks it with the rest and names the key (arguments.atml.process_map).
    one_of = cast(Any, Literal)[tuple(kind for kind, _ in kinds)]  # Literal["atml", …]
    fields: list[tuple[str, Any, Any]] = [
        ("kinds", list[one_of], msgspec.field(default_factory=list)),  # type: ignore[valid-type]
        ("threshold", Annotated[float, msgspec.Meta(ge=0.0, le=1.0)], ALARM),
    ]
    for kind, cls in kinds:
        if kind in _OWN_FIELDS:  # pragma: no cover - a built-in named like an argument
            raise RuntimeError(f"a built-in converter may not be named {kind!r}")
        try:
            cls()
        except TypeError:  # required fields: no default table
            fields.append((kind, cls | None, None))
        else:
            fields.append((kind, cls, msgspec.field(default_factory=cls)))
    return msgspec.defstruct("AutoArguments", fields, bases=(_Base,), module=__name__)


def auto_arguments() -> type[msgspec.Struct]:
    """The ``Arguments`` of ``auto`` for the built-ins registered now (one class per set)."""
    from pywats_station.converters.registry import BUILTINS

    return _arguments_for(tuple((kind, BUILTINS[kind].Arguments) for kind in candidate_kinds()))


class _ArgumentsOfTheRegistry:
    """``AutoConverter.Arguments``: :func:`auto_arguments`, looked up when it is asked for.

    The registry imports this module before its table of built-ins exists, so the class
    cannot be built at import time.
    """

    def __get__(self, instance: object, owner: type | None = None) -> type[msgspec.Struct]:
        return auto_arguments()


class _PatternsOfTheRegistry:
    """``AutoConverter.patterns``: every name a candidate takes (``*`` if one takes any)."""

    def __get__(self, instance: object, owner: type | None = None) -> tuple[str, ...]:
        from pywats_station.converters.registry import BUILTINS

        found: dict[str, None] = {}
        for kind in candidate_kinds():
            patterns: tuple[str, ...] = getattr(BUILTINS[kind], "patterns", ("*",))
            found.update(dict.fromkeys(p.lower() for p in patterns))
        return ("*",) if "*" in found else tuple(found)


class AutoConverter(FileConverter):
    """Any file a candidate built-in recognises, converted by the most confident one."""

    name: ClassVar[str] = "auto"
    description: ClassVar[str] = (
        "any equipment file a built-in recognises: each file converted by the most confident "
        "one (arguments.kinds)"
    )
    patterns = _PatternsOfTheRegistry()
    Arguments = _ArgumentsOfTheRegistry()
    keeps_report_ids: ClassVar[bool] = True  # kept from WSJF/WSXF, derived for the others

    def __init__(self) -> None:
        self._converters: dict[str, FileConverter] = {}
        # The last file rated, with its size and time, the arguments and the ratings: the
        # station calls validate() and then convert() on the same file.
        self._last: tuple[tuple[str, int, int], object, list[KindRating]] | None = None

    def candidates(self, ctx: ConverterContext) -> list[Candidate]:
        """The candidate converters with their contexts, in the order of ``kinds``."""
        from pywats_station.converters.registry import BUILTINS

        args = ctx.arguments
        found = []
        for kind in dict.fromkeys(args.kinds or candidate_kinds()):
            converter = self._converters.get(kind)
            if converter is None:
                made = BUILTINS[kind]()
                assert isinstance(made, FileConverter)  # the arguments admit file kinds only
                converter = self._converters[kind] = made
            sub = ConverterContext(
                station=ctx.station,
                processes=ctx.processes,
                arguments=getattr(args, kind),
                log=ctx.log,
            )
            found.append(Candidate(kind, converter, sub))
        return found

    def ratings(self, path: Path, ctx: ConverterContext) -> list[KindRating]:
        """Every candidate's rating of ``path``, the most confident first."""
        try:
            st = os.stat(path)
            key = (str(path), st.st_size, st.st_mtime_ns)
        except OSError:
            key = (str(path), -1, -1)
        if self._last is not None and self._last[0] == key and self._last[1] is ctx.arguments:
            return self._last[2]
        ratings = rate(path, self.candidates(ctx))
        self._last = (key, ctx.arguments, ratings)
        return ratings

    def validate(self, path: Path, ctx: ConverterContext) -> Validation:
        """The chosen candidate's rating (its message says which); the best guess's if none
        reaches the threshold, with the reason that :meth:`convert` would give."""
        ratings = self.ratings(path, ctx)
        chosen = choose(ratings, ctx.arguments.threshold)
        if chosen is None:
            best = ratings[0].confidence if ratings else 0.0
            return Validation(confidence=best, message=unrecognised(ratings))
        said = chosen.validation
        message = f"{chosen.kind}: {said.message}" if said.message else chosen.kind
        return Validation(confidence=said.confidence, preview=said.preview, message=message)

    def convert(self, path: Path, ctx: ConverterContext) -> ConversionResult:
        """Convert with the most confident candidate; none sure enough: ``ConversionError``."""
        ratings = self.ratings(path, ctx)
        chosen = choose(ratings, ctx.arguments.threshold)
        if chosen is None:
            raise ConversionError(unrecognised(ratings))
        candidate = next(c for c in self.candidates(ctx) if c.kind == chosen.kind)
        ctx.log.info("%s: read as %s (confidence %.2f)", path.name, chosen.kind, chosen.confidence)
        try:
            result = candidate.converter.convert(path, candidate.ctx)
        except ConversionError as exc:  # which kind failed belongs in the reason
            raise ConversionError(f"{chosen.kind}: {exc}") from None
        if isinstance(result, Failed):
            return Failed(reason=f"{chosen.kind}: {result.reason}")
        if not isinstance(result, Converted):
            return result
        if not type(candidate.converter).keeps_report_ids:
            _derive_ids(result.reports, chosen.kind, path)
        for report in result.reports:
            report.misc_infos = [
                *(report.misc_infos or ()),
                MiscInfo(description=MISC_DESCRIPTION, text=chosen.kind),
            ]
        if getattr(candidate.ctx.arguments, "strict", False) is True:
            # The station checks reports with the strict argument of the converter it runs,
            # auto's, which has none: the kind's own is applied here.
            from pywats_station.converters.sandbox import check_reports

            return check_reports(result, scheduled=False, strict=True)
        return result


def _derive_ids(reports: list[UUTReport | UURReport], kind: str, path: Path) -> None:
    """Ids from the kind and the content, the same at every conversion of the same file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    key = digest.hexdigest()
    for index, report in enumerate(reports):
        report.id = uuid.uuid5(_ID_NAMESPACE, f"{kind}\0{key}\0{index}")

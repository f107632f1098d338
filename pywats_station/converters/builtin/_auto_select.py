"""Choosing the built-in converter for an input by its content: every candidate rates it.

Each candidate's ``validate()`` says how surely it can read the input (0 to 1, see
:class:`~pywats_station.converters.api.Validation`); the most confident converts it, if it
reaches the threshold (the alarm threshold, 0.5 by default: "it looks right"). Below that no
converter is trusted with the file, and the reason names the best guess, so that the operator
sees which converter came closest and why it refused::

    no converter recognises this file; best guess: csv at 0.20 (no column Step, Value)

Used by ``pywats-station convert FILE`` without ``--kind`` and by the ``auto`` converter
(:mod:`pywats_station.converters.builtin.auto`). The validators read bounded heads of a file
(a built-in's ``validate()`` never decodes a big file whole), so rating a file with every
built-in costs a few reads of its first bytes, not a conversion each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pywats_station.converters.api import (
    ConverterContext,
    FileConverter,
    FolderConverter,
    Validation,
)

__all__ = ["ALARM", "KindRating", "candidate_kinds", "choose", "rate", "unrecognised"]

ALARM = 0.5
"""The least confidence a converter must have in a file to be given it (``alarm_threshold``)."""
AUTO = "auto"  # the kind that chooses; never a candidate of itself


class KindRating(msgspec.Struct, kw_only=True, frozen=True):
    """One candidate's rating of an input.

    Attributes:
        kind: the built-in kind (``atml``…).
        validation: its ``validate()`` answer (confidence 0 with the reason when it raised).
    """

    kind: str
    validation: Validation

    @property
    def confidence(self) -> float:
        """The candidate's confidence, 0 to 1."""
        return self.validation.confidence

    def describe(self) -> str:
        """``atml at 0.20 (its message)``: the rating in words."""
        note = f" ({self.validation.message})" if self.validation.message else ""
        return f"{self.kind} at {self.confidence:.2f}{note}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A converter that may be given the input, with the context it rates and converts in."""

    kind: str
    converter: FileConverter | FolderConverter
    ctx: ConverterContext


def candidate_kinds(*, folder: bool = False) -> list[str]:
    """The built-ins that recognise files (or folders, ``folder=True``) by their content.

    Every file (or folder) built-in but ``auto`` itself, in the registry's order.
    """
    # Imported here: the registry imports the built-ins, this module among them.
    from pywats_station.converters.registry import BUILTINS

    wanted = FolderConverter if folder else FileConverter
    return [kind for kind, cls in BUILTINS.items() if kind != AUTO and issubclass(cls, wanted)]


def rate(path: Path, candidates: Iterable[Candidate]) -> list[KindRating]:
    """Every candidate's rating of ``path``, the most confident first (ties: in given order).

    A ``validate()`` that raises rates the input 0, with the exception as its message: one
    broken candidate never stops the others from being asked.
    """
    ratings = []
    for candidate in candidates:
        try:
            validation = candidate.converter.validate(path, candidate.ctx)
        except Exception as exc:
            candidate.ctx.log.debug("%s: validate() raised", candidate.kind, exc_info=True)
            validation = Validation(confidence=0.0, message=f"validate() raised {exc!r}")
        ratings.append(KindRating(kind=candidate.kind, validation=validation))
    # sorted() is stable: among equals the first given wins, so the order of `kinds` decides.
    return sorted(ratings, key=lambda r: -r.confidence)


def choose(ratings: Sequence[KindRating], threshold: float = ALARM) -> KindRating | None:
    """The most confident rating if it reaches ``threshold``, else ``None``."""
    if ratings and ratings[0].confidence >= threshold:
        return ratings[0]
    return None


def unrecognised(ratings: Sequence[KindRating], what: str = "file") -> str:
    """``no converter recognises this file; best guess: …`` (or that there was no candidate)."""
    if not ratings:
        return f"no converter recognises this {what}: there is no candidate converter"
    return f"no converter recognises this {what}; best guess: {ratings[0].describe()}"

"""One Spectrum ``PAGE`` as one WATS step: its measurement, limits, verdict and the rest as text.

A page holds measurement blocks (``ANA``, ``INTC``, ``DSCAN``…) that carry a measured value
(``MEASVAL``, directly or in an ``INTC_RESULT``), limits (``LOLIM``/``HILIM``, or ``LOW``/
``HIGH``), a nominal value and the nodes measured. A page with one measured value becomes a
numeric step, with several a multi-numeric step (one measurement per block, named after the
block's type), and without any a pass/fail step carrying the page's verdict (``STAT``).

Values are ``(VAL: v) (SCALE: s) (UNIT: u)``; limits are shown in the measured value's scale
(``2.24 nΩ`` as ``2.24e-06 mΩ``), and ``O`` (ohm) as ``Ω``. Everything else a page says (its
comment, nominal value, nodes, the limits of a block without a value, an external program)
goes into the step's report text, one line per part, so nothing the tester wrote is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Unpack

from pywats.models.report import StepStatus
from pywats.report_builder import Measure, SequenceBuilder, StepOptions
from pywats_station.converters.api import ConversionError
from pywats_station.converters.builtin._budget import OutputBudget
from pywats_station.converters.builtin._common import infer_comp_op, parse_status
from pywats_station.converters.builtin._teradyne_common import (
    Limits,
    add_limit_step,
    add_verdict_step,
    at,
    rescale,
)
from pywats_station.converters.builtin._teradyne_ctrd import Group

__all__ = ["add_page", "status_of"]

_SCALES = {
    "f": -15,
    "p": -12,
    "n": -9,
    "u": -6,
    "µ": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "K": 3,
    "M": 6,
    "G": 9,
    "T": 12,
}
_SYMBOLS = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
_UNITS = {"O": "Ω", "OHM": "Ω", "OHMS": "Ω"}
# Page members said elsewhere than in its blocks' text lines.
_PAGE_KEYS = frozenset({"TYPE", "PAGE_NAME", "STAT", "COMMENT", "FAIL_MSG", "EXTPROG"})
_MEASURED = ("MEASVAL", "MEAS_VAL")
_LOW = ("LOLIM", "LOW")
_HIGH = ("HILIM", "HIGH")
_MEAS_STATUS = {"P": "P", "F": "F", "S": "S"}


@dataclass(frozen=True)
class _Quantity:
    """``(VAL: v) (SCALE: s) (UNIT: u)``: the number as written, its scale, its unit."""

    value: str
    exp: int
    unit: str
    line: int

    @classmethod
    def of(cls, group: Group) -> _Quantity:
        value = group.text_of("VAL")
        if not value:
            raise at(group.line, f"({group.key}: has no (VAL: …)")
        scale = group.text_of("SCALE")
        if scale not in _SCALES:
            raise at(group.line, f"({group.key}: scale {scale!r} is not an SI prefix")
        unit = group.text_of("UNIT")
        return cls(value, _SCALES[scale], _UNITS.get(unit.upper(), unit), group.line)

    def text(self) -> str:
        """``30 mV``, as a person reads it."""
        return f"{self.value} {_SYMBOLS[self.exp]}{self.unit}".rstrip()

    def number(self, exp: int, what: str) -> float:
        return rescale(self.value, self.exp - exp, f"line {self.line}, {what}")


@dataclass
class _Measured:
    """A block's measured value and its limits, in the value's scale and unit."""

    name: str
    value: float
    limits: Limits
    unit: str | None
    status: str | None


def status_of(group: Group, fallback: str | None = None) -> str | None:
    """The WSJF status letter of a group's ``(STAT: …)``, else ``fallback``.

    Raises:
        ConversionError: the word is not a status (naming its line).
    """
    stat = group.child("STAT")
    if stat is None or not stat.value:
        return fallback
    return parse_status(stat.value, f"line {stat.line}, STAT")


def add_page(
    seq: SequenceBuilder,
    page: Group,
    name: str,
    notes: list[str],
    fallback: str | None,
    *,
    budget: OutputBudget,
    start: datetime | None = None,
) -> None:
    """Add the step for ``page`` to ``seq``; ``notes`` open its report text.

    Raises:
        ConversionError: a value, limit, scale or status is wrong (naming its line).
    """
    status = status_of(page, fallback)
    used: set[int] = set()
    measured: list[_Measured] = []
    blocks = [c for c in page.children if c.key not in _PAGE_KEYS]
    for block in blocks:
        found = _measured(block, status, used)
        if found is not None:
            measured.append(found)
    options: StepOptions = {}
    if start is not None:
        options["start"] = start
    text = [*notes, *_page_text(page, blocks, used)]
    if text:
        options["report_text"] = "\n".join(text)
    if status in (StepStatus.ERROR, StepStatus.TERMINATED):
        # A measurement's status is P, F or S: an error is said in the step's message.
        options["error_message"] = f"STAT {page.text_of('STAT')}"
    verdict = _MEAS_STATUS.get(status or "")
    if not measured:
        add_verdict_step(
            seq, name, status or StepStatus.DONE, line=page.line, budget=budget, **options
        )
    elif len(measured) == 1:
        one = measured[0]
        add_limit_step(
            seq, name, one.value, one.limits, one.unit, verdict, line=page.line,
            budget=budget, **options,
        )  # fmt: skip
    else:
        _add_multi(seq, name, measured, verdict, page.line, budget, **options)


def _measured(block: Group, status: str | None, used: set[int]) -> _Measured | None:
    """The measured value of ``block`` (or of a result group in it), with its limits."""
    for holder in (block, *block.children):
        value_group = next((c for key in _MEASURED if (c := holder.child(key))), None)
        if value_group is not None:
            break
    else:
        return None
    value = _Quantity.of(value_group)
    used.add(id(value_group))
    limits: list[float | None] = []
    for keys, what in ((_LOW, "low limit"), (_HIGH, "high limit")):
        group = next((c for key in keys for h in (holder, block) if (c := h.child(key))), None)
        if group is None:
            limits.append(None)
            continue
        limit = _Quantity.of(group)
        if limit.unit and value.unit and limit.unit != value.unit:
            raise at(
                group.line,
                f"the {what} is in {limit.unit} but the measured value in {value.unit}",
            )
        used.add(id(group))
        limits.append(limit.number(value.exp, what))
    unit = f"{_SYMBOLS[value.exp]}{value.unit}" if value.unit else None
    own = status_of(block, status)
    return _Measured(
        name=block.text_of("TYPE") or block.key,
        value=value.number(value.exp, "measured value"),
        limits=Limits(limits[0], limits[1]),
        unit=unit,
        status=_MEAS_STATUS.get(own or ""),
    )


def _add_multi(
    seq: SequenceBuilder,
    name: str,
    measured: list[_Measured],
    verdict: str | None,
    line: int,
    budget: OutputBudget,
    **options: Unpack[StepOptions],
) -> None:
    seen: dict[str, int] = {}
    measures: list[Measure] = []
    try:
        for one in measured:
            # Measurement names must be unique in a step: a second ANA block is "ANA 2".
            seen[one.name] = seen.get(one.name, 0) + 1
            label = one.name if seen[one.name] == 1 else f"{one.name} {seen[one.name]}"
            op, low, high = infer_comp_op(None, one.limits.low, one.limits.high, f"line {line}")
            measures.append(Measure(label, one.value, op, low, high, one.unit, one.status))
        handle = seq.multi_numeric(name, measures, status=verdict, **options)
    except (TypeError, ValueError) as exc:
        raise at(line, str(exc)) from None
    budget.add_step(handle.step, line)


def _page_text(page: Group, blocks: list[Group], used: set[int]) -> list[str]:
    """The report text lines of what the page says besides its measured values and limits."""
    lines = [page.text_of(key) for key in ("COMMENT", "FAIL_MSG") if page.text_of(key)]
    for program in page.all("EXTPROG"):
        called = program.text_of("PROG_NAME") or program.value
        lines.append(f"EXTPROG {called}".rstrip())
    page_type = page.text_of("TYPE")
    if page_type and all(b.text_of("TYPE") != page_type for b in blocks):
        lines.append(f"TYPE {page_type}")
    for block in blocks:
        parts = [
            _render(child, used)
            for child in block.children
            if child.key not in ("TYPE", "STAT") and id(child) not in used
        ]
        head = " ".join(p for p in (block.key, block.text_of("TYPE"), block.text_of("STAT")) if p)
        if block.value:
            parts.insert(0, block.value)
        lines.append(f"{head}: {'; '.join(p for p in parts if p)}".rstrip(": "))
    return lines


def _render(group: Group, used: set[int]) -> str:
    """A group as one line of text: ``HILIM 30 mV``, ``MEAS 35 CH_/OUT14_B, 799 CH2_…``."""
    if group.child("VAL") is not None:
        try:
            return f"{group.key} {_Quantity.of(group).text()}"
        except ConversionError:
            pass  # not a quantity after all: rendered as the groups it holds
    if group.child("TPNUM") is not None or group.child("TPNAME") is not None:
        nodes: list[str] = []
        for child in group.children:
            if child.key == "TPNUM" or not nodes:
                nodes.append(child.value)
            else:
                nodes[-1] = f"{nodes[-1]} {child.value}".strip()
        return f"{group.key} {', '.join(nodes)}"
    parts = [group.value] if group.value else []
    parts += [_render(c, used) for c in group.children if id(c) not in used]
    if not group.children:
        return f"{group.key} {group.value}".rstrip()
    return f"{group.key}({'; '.join(p for p in parts if p)})"

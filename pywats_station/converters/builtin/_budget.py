"""How big a conversion's reports may get, checked while they are built and once they are done.

A WATS server takes one report per request, and IIS, which WATS runs on, refuses a request body
above ``maxAllowedContentLength``, 30,000,000 bytes unless the server's administrator raised it:
that is :data:`SERVER_REQUEST_LIMIT`, the default of ``max_report_size``. The station also holds
all reports of one input in memory while it queues them (several times their WSJF size), so
their sum is capped too (``max_output_size``).

Converters that build many steps from a few bytes (``csv``, ``wstf``) ask the *current budget*
(:func:`current_budget`) after each step and each report. The estimate of a report in progress
is the sum of its steps encoded one by one as WSJF: a lower bound of the finished report (the
step ids, the nesting and the header come on top), so a conversion is stopped only when its
report is certainly too large, long before it holds a million steps. The exact sizes are checked
by :func:`pywats_station.converters.sandbox.run_conversion` once the converter returns.

The budget is a context variable, set by ``run_conversion`` for the duration of one
``convert()`` (the converter API has no place for it, and a user converter need not know it).
Called without one, as in a converter's unit tests, the default limits apply.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import msgspec

from pywats.models.report import Step, UURReport, UUTReport
from pywats_station.converters.api import ConversionError

__all__ = [
    "SERVER_REQUEST_LIMIT",
    "OutputBudget",
    "OutputLimits",
    "OutputTooLarge",
    "TooBigForThread",
    "current_budget",
    "human_size",
    "using_budget",
]

SERVER_REQUEST_LIMIT = 30_000_000
"""IIS's default ``maxAllowedContentLength`` in bytes: the largest report a WATS server takes."""

_encoder = msgspec.json.Encoder()


class OutputLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The caps on a conversion's reports, and where they are configured (for messages).

    Attributes:
        max_report_size: the largest report, in bytes of WSJF.
        max_output_size: the largest sum of all reports of one input, in bytes of WSJF.
        settings: the configuration table that sets them, e.g. ``converters.line-csv``; empty
            when they are not configured (the messages then name the bare key).
    """

    max_report_size: int = SERVER_REQUEST_LIMIT
    max_output_size: int = SERVER_REQUEST_LIMIT
    settings: str = ""

    def key(self, name: str) -> str:
        """The setting ``name`` as the user writes it: ``converters.csv.max_report_size``."""
        return f"{self.settings}.{name}" if self.settings else name


class OutputTooLarge(ConversionError):
    """A report, or the reports of one input together, exceed their cap: the input fails."""


class TooBigForThread(Exception):
    """The reports outgrew what a conversion inside the daemon may build: use a child process.

    Raised only when the budget has a ``thread_limit``; the input is then converted again in a
    child process, whose memory goes back to the system when it exits.
    """


def human_size(size: int) -> str:
    """A byte count as people read it: ``812 bytes``, ``40.9 kB``, ``30 MB``, ``1.2 GB``."""
    if size < 10_000:
        return f"{size:,} bytes"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            value = f"{size / factor:.1f}".removesuffix(".0")
            return f"{value} {unit}"
    raise AssertionError(size)  # pragma: no cover - every size >= 10,000 has a unit


class OutputBudget:
    """The running size of one conversion's reports, against the limits.

    Args:
        limits: the caps and where they are configured.
        thread_limit: when converting inside the daemon, the most WSJF to build there before
            :class:`TooBigForThread` moves the input to a child process; ``None`` in a child.
    """

    def __init__(self, limits: OutputLimits, *, thread_limit: int | None = None) -> None:
        self.limits = limits
        self.thread_limit = thread_limit
        self.report = 0  # estimate of the report being built
        self.steps = 0  # steps of the report being built
        self.done = 0  # exact size of the reports finished so far
        self.reports = 0  # how many

    def start_report(self) -> None:
        """A new report begins (its steps are counted from zero)."""
        self.report = 0
        self.steps = 0

    def add_step(self, step: Step, line: int) -> None:
        """Count one step (as it is now: no children, no id) read from ``line``.

        Raises:
            OutputTooLarge: the report or the input's reports are now certainly over a cap.
            TooBigForThread: the reports outgrew :attr:`thread_limit`.
        """
        self.report += len(_encoder.encode(step)) + 1  # the comma between steps
        self.steps += 1
        if self.report > self.limits.max_report_size:
            raise OutputTooLarge(
                f"the report is over {human_size(self.limits.max_report_size)} as WSJF by "
                f"line {line:,} ({self.steps:,} steps; conversion stopped there); the server "
                f"accepts at most {human_size(self.limits.max_report_size)} "
                f"({self.limits.key('max_report_size')})"
            )
        self._check_total(self.done + self.report, line)

    def add_report(self, report: UUTReport | UURReport, line: int) -> None:
        """Count a finished report exactly; ``line`` is where its input ended.

        Raises:
            OutputTooLarge: the report, or all reports so far, are over their cap.
            TooBigForThread: the reports outgrew :attr:`thread_limit`.
        """
        size = len(_encoder.encode(report))
        self.reports += 1
        self.start_report()
        if size > self.limits.max_report_size:
            raise OutputTooLarge(
                f"the report of line {line:,} (sn {report.sn!r}) is {human_size(size)} as WSJF; "
                f"the server accepts at most {human_size(self.limits.max_report_size)} "
                f"({self.limits.key('max_report_size')})"
            )
        self.done += size
        self._check_total(self.done, line)

    def _check_total(self, total: int, line: int) -> None:
        if total > self.limits.max_output_size:
            raise OutputTooLarge(
                f"the reports of this input are over {human_size(self.limits.max_output_size)} "
                f"as WSJF together by line {line:,} ({self.reports:,} reports finished; "
                "conversion stopped there); the station takes at most "
                f"{human_size(self.limits.max_output_size)} of reports from one input "
                f"({self.limits.key('max_output_size')}): split the file or raise the limit"
            )
        if self.thread_limit is not None and total > self.thread_limit:
            raise TooBigForThread(f"over {human_size(self.thread_limit)} of reports")


_current: ContextVar[OutputBudget | None] = ContextVar("pywats_output_budget", default=None)


def current_budget() -> OutputBudget:
    """The budget of the conversion in progress (a fresh one with default limits if none)."""
    budget = _current.get()
    return budget if budget is not None else OutputBudget(OutputLimits())


@contextlib.contextmanager
def using_budget(budget: OutputBudget) -> Iterator[OutputBudget]:
    """Make ``budget`` the current one for the ``with`` block (one ``convert()`` call)."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)

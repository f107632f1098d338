"""The data side of ``api.analytics``: measurements and aggregated measurements, test-step
analysis, serial-number history, UUT/UUR report lists, repair statistics (tag App)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["DataOperations"]


class DataOperations(Domain[ModeT]):
    """Measurements, step analysis, histories, report lists, repairs (a part of
    :class:`~pywats._calls.analytics.AnalyticsDomain`)."""

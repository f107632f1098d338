"""``api.analytics``:

Statistics from the stored reports: yield, top failed, measurements, OEE (tag App). Two
modules hold the operations (:mod:`._analytics_yield`, :mod:`._analytics_data`); this class
joins them.
"""

from __future__ import annotations

from pywats._calls._analytics_data import DataOperations
from pywats._calls._analytics_yield import YieldOperations
from pywats._domain import ModeT

__all__ = ["AnalyticsDomain"]


class AnalyticsDomain(YieldOperations[ModeT], DataOperations[ModeT]):
    """Statistics computed by the server from the reports it holds."""

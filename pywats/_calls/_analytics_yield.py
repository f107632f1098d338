"""The yield side of ``api.analytics``: volume and yield, worst yield, dynamic yield, high
volume, top failed steps, OEE (tag App).

Every statistic takes a :class:`~pywats.models.analytics_filter.WATSFilter` (sent as the
request body). The lists that the server also offers as a ``GET`` with a few query parameters
(``VolumeYield``, ``HighVolume``, ``WorstYield``, ``TopFailed``) are one method each: called with
a filter they ``POST`` it; called with the simple keywords (``days``, ``product_group``, …) they
``GET``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pywats._call import Call, json_call
from pywats._domain import Domain, ModeT, operation
from pywats._errors import InvalidArgumentError
from pywats.models.analytics_filter import INT32_MAX, DateGrouping, WATSFilter, check_filter
from pywats.models.analytics_yield import (
    OeeAnalysisResult,
    TopFailedStep,
    YieldData,
    parse_dimensions,
)

__all__ = ["YieldOperations"]

Names = str | int | Sequence[str | int]
"""Product groups, levels or processes: an id, a name, or several (sent ``;``-separated)."""

ALL_HOURS = (24.0, 24.0, 24.0, 24.0, 24.0, 24.0, 24.0)
"""``availableTime`` when none is given: every hour of every day."""


# --- checking arguments -------------------------------------------------------------------------


def _count(value: object, what: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{what} must be an int, not {type(value).__name__}")
    if not 1 <= value <= INT32_MAX:
        raise InvalidArgumentError(f"{what} must be from 1 to {INT32_MAX}, not {value}")
    return value


def _names(value: object, what: str) -> str:
    """One or several ids or names as the server takes them (``;`` between; empty: all)."""
    if value is None:
        return ""
    items = [value] if isinstance(value, str | int) else value
    if not isinstance(items, Sequence) or isinstance(items, bytes):
        raise InvalidArgumentError(
            f"{what} must be a str, an int or a sequence of them, not {type(value).__name__}"
        )
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InvalidArgumentError(f"{what}: {item!r} is not a str or an int")
        text = str(item).strip()
        if ";" in text:
            raise InvalidArgumentError(f"{what}: {text!r} holds ';', which separates names")
        out.append(text)
    return ";".join(t for t in out if t)


def _dimensions(value: object) -> str | None:
    """A ``dimensions`` text from a text or a sequence of items, checked."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        text = ";".join(str(v) for v in value)
    else:
        raise InvalidArgumentError(
            f"dimensions must be a str or a sequence of str, not {type(value).__name__}"
        )
    if not parse_dimensions(text):
        raise InvalidArgumentError("dimensions must name at least one dimension or KPI")
    return text


def _hours(value: object) -> str:
    """``availableTime``: seven numbers of hours (Monday first), or that text."""
    hours: list[float] = []
    if isinstance(value, str):
        try:
            hours = [float(p) for p in value.split(",")]
        except ValueError:
            hours = []
    elif isinstance(value, Sequence):
        hours = [float(h) for h in value if isinstance(h, int | float) and not isinstance(h, bool)]
        if len(hours) != len(value):
            hours = []
    if len(hours) != 7 or not all(0 <= h <= 24 for h in hours):
        raise InvalidArgumentError(
            f"available_time must be seven numbers of hours from 0 to 24, not {value!r}"
        )
    return ",".join(f"{h:g}" for h in hours)


def _seconds(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{what} must be an int (seconds), not {type(value).__name__}")
    if not 0 <= value <= INT32_MAX:
        raise InvalidArgumentError(f"{what} must be from 0 to {INT32_MAX}, not {value}")
    return value


def _body(flt: WATSFilter | None, *, dimensions: bool = False) -> WATSFilter:
    checked = check_filter(flt)
    if dimensions and checked.dimensions is not None:
        _dimensions(checked.dimensions)
    return checked


# --- the calls ----------------------------------------------------------------------------------


def _post_rows(path: str, flt: WATSFilter | None) -> Call[list[YieldData]]:
    return json_call("POST", path, list[YieldData], body=_body(flt), empty=[])


def _rows(
    path: str,
    flt: WATSFilter | None,
    days: int | None,
    product_group: Names | None,
    level: Names | None,
) -> Call[list[YieldData]]:
    """``POST`` with a filter, else ``GET`` with ``days``, ``productGroupId``, ``levelId``."""
    if flt is not None:
        if days is not None or product_group is not None or level is not None:
            raise InvalidArgumentError(
                "give a filter, or days, product_group and level; not both "
                "(the filter has date_from, product_group and level of its own)"
            )
        return _post_rows(path, flt)
    return json_call(
        "GET",
        path,
        list[YieldData],
        params={
            "days": _count(days, "days", 30),
            "productGroupId": _names(product_group, "product_group"),
            "levelId": _names(level, "level"),
        },
        empty=[],
    )


class YieldOperations(Domain[ModeT]):
    """Yield and volume statistics (a part of :class:`~pywats._calls.analytics.AnalyticsDomain`).

    Yields are percentages; a unit is a serial number of a part number in a test operation, and
    it counts where its first run is (``docs/analytics.md``).
    """

    @operation
    def get_dynamic_yield(
        self,
        filter: WATSFilter | None = None,  # noqa: A002 - the server's own word
        *,
        dimensions: str | Sequence[str] | None = None,
    ) -> Call[list[YieldData]]:
        """Yield grouped by any dimensions, with the KPIs asked for (``POST DynamicYield``).

        Args:
            filter: which reports count (the server's default: the last 30 days).
            dimensions: how to group and order the rows, e.g.
                ``"unitCount desc;partNumber;testOperation"`` or
                ``["partNumber", "period", "fpy asc"]``: dimension names
                (:data:`~pywats.models.analytics_yield.YIELD_DIMENSIONS`) group, KPI names
                (:data:`~pywats.models.analytics_yield.YIELD_KPIS`) choose the KPIs returned
                (all when none is named); each may carry ``asc``/``desc``. Sent as the
                ``dimensions`` query parameter; without it the filter's ``dimensions`` count,
                else the server's default (top 10 part number/test operation pairs by units).

        Returns:
            One :class:`YieldData` per combination of dimension values.

        Raises:
            InvalidArgumentError: an unknown dimension or KPI, a filter member of the wrong
                type or out of range (nothing is sent).
        """
        return json_call(
            "POST",
            "/api/App/DynamicYield",
            list[YieldData],
            params={"dimensions": _dimensions(dimensions)},
            body=_body(filter, dimensions=True),
            empty=[],
        )

    @operation
    def get_volume_yield(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
        *,
        days: int | None = None,
        product_group: Names | None = None,
        level: Names | None = None,
    ) -> Call[list[YieldData]]:
        """Volume and yield per product and test operation (``VolumeYield``), by part number.

        With ``filter``: ``POST`` (it reads productGroup, level, periodCount, dateGrouping,
        includeCurrentPeriod; with a date grouping, rows per period too). Without: ``GET`` for
        the last ``days`` days (30 by default) of the product groups and levels named (ids or
        names; all when none).
        """
        return _rows("/api/App/VolumeYield", filter, days, product_group, level)

    @operation
    def get_high_volume(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
        *,
        days: int | None = None,
        product_group: Names | None = None,
        level: Names | None = None,
    ) -> Call[list[YieldData]]:
        """Yield per product and test operation, most units first (``HighVolume``).

        Arguments as :meth:`get_volume_yield` (``POST`` with a filter, else ``GET``).
        """
        return _rows("/api/App/HighVolume", filter, days, product_group, level)

    @operation
    def get_worst_yield(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
        *,
        days: int | None = None,
        product_group: Names | None = None,
        level: Names | None = None,
    ) -> Call[list[YieldData]]:
        """Yield per product and test operation, lowest first-pass yield first (``WorstYield``).

        Arguments as :meth:`get_volume_yield`. In the filter, ``yield_`` keeps the rows at or
        below that yield and ``min_count`` those with at least that many units.
        """
        return _rows("/api/App/WorstYield", filter, days, product_group, level)

    @operation
    def get_high_volume_by_product_group(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
    ) -> Call[list[YieldData]]:
        """Yield per product group and test operation, most units first."""
        return _post_rows("/api/App/HighVolumeByProductGroup", filter)

    @operation
    def get_worst_yield_by_product_group(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
    ) -> Call[list[YieldData]]:
        """Yield per product group and test operation, lowest first-pass yield first."""
        return _post_rows("/api/App/WorstYieldByProductGroup", filter)

    @operation
    def get_top_failed(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
        *,
        part_number: str | None = None,
        process_code: Names | None = None,
        product_group: Names | None = None,
        level: Names | None = None,
        days: int | None = None,
        count: int | None = None,
    ) -> Call[list[TopFailedStep]]:
        """The steps that failed most, per product and test operation (``TopFailed``).

        With ``filter``: ``POST`` (it reads partNumber, testOperation, yield, productGroup,
        level, the dates or periods, topCount). Without: ``GET`` for the last ``days`` days
        (30 by default), the ``count`` steps (10 by default) that failed most for
        ``part_number`` in the test operations ``process_code`` (codes or names), the product
        groups and levels named (all when ``None``).

        Returns:
            Steps by reports failed, most first, with how often they ran and their fail rate.
        """
        if filter is not None:
            simple = (part_number, process_code, product_group, level, days, count)
            if any(v is not None for v in simple):
                raise InvalidArgumentError(
                    "give a filter, or part_number, process_code, product_group, level, days "
                    "and count; not both"
                )
            return json_call(
                "POST", "/api/App/TopFailed", list[TopFailedStep], body=_body(filter), empty=[]
            )
        if part_number is not None and not isinstance(part_number, str):
            raise InvalidArgumentError(
                f"part_number must be a str, not {type(part_number).__name__}"
            )
        return json_call(
            "GET",
            "/api/App/TopFailed",
            list[TopFailedStep],
            params={
                "partNumber": part_number or "",
                "processCode": _names(process_code, "process_code"),
                "productGroupId": _names(product_group, "product_group"),
                "levelId": _names(level, "level"),
                "days": _count(days, "days", 30),
                "count": _count(count, "count", 10),
            },
            empty=[],
        )

    @operation
    def get_oee_analysis(
        self,
        filter: WATSFilter | None = None,  # noqa: A002
        *,
        available_time: Sequence[float] | str = ALL_HOURS,
        min_connection_time: int | None = None,
        max_connection_time: int | None = None,
        min_execution_time: int | None = None,
        max_execution_time: int | None = None,
        target_output: int | None = None,
    ) -> Call[OeeAnalysisResult]:
        """Overall equipment effectiveness of the test stations (``POST OeeAnalysis``).

        Args:
            filter: which reports count (productGroup, level, partNumber, revision,
                stationName, testOperation, status, swFilename, swVersion, socket, dates).
            available_time: the hours a station is available on each weekday, Monday first
                (every hour by default).
            min_connection_time, max_connection_time, min_execution_time,
                max_execution_time: bounds in seconds; reports outside them are left out.
            target_output: the tests a day the stations should run; it sets the ideal cycle
                time (without it, the shortest test is the ideal).
        """
        params = {
            "availableTime": _hours(available_time),
            "minConnectionTime": _seconds(min_connection_time, "min_connection_time"),
            "maxConnectionTime": _seconds(max_connection_time, "max_connection_time"),
            "minExecutionTime": _seconds(min_execution_time, "min_execution_time"),
            "maxExecutionTime": _seconds(max_execution_time, "max_execution_time"),
            "targetOutput": None
            if target_output is None
            else _count(target_output, "target_output", 1),
        }
        return json_call(
            "POST", "/api/App/OeeAnalysis", OeeAnalysisResult, params=params, body=_body(filter)
        )

    # --- conveniences ---------------------------------------------------------------------------

    @operation
    def get_yield_summary(
        self,
        part_number: str,
        revision: str | None = None,
        days: int = 30,
        *,
        test_operation: str | None = None,
        per_day: bool = False,
    ) -> Call[list[YieldData]]:
        """Yield and volume of one product over the last ``days`` days, one row per test
        operation (and per day with ``per_day``), through ``DynamicYield``.

        Every KPI is returned: ``unit_count``, ``fpy``, ``lpy``, ``test_report_count``…
        """
        if not isinstance(part_number, str) or not part_number.strip():
            raise InvalidArgumentError(f"part_number must be a non-empty str, not {part_number!r}")
        dims = ["partNumber", "testOperation", *(["period"] if per_day else [])]
        flt = WATSFilter(
            part_number=part_number,
            revision=revision,
            test_operation=test_operation,
            period_count=_count(days, "days", 30),
            date_grouping=DateGrouping.DAY,
            include_current_period=True,
            top_count=INT32_MAX,
        )
        return json_call(
            "POST",
            "/api/App/DynamicYield",
            list[YieldData],
            params={"dimensions": ";".join(dims)},
            body=_body(flt),
            empty=[],
        )

    @operation
    def get_station_yield(self, station_name: str, days: int = 7) -> Call[list[YieldData]]:
        """Yield of one test station over the last ``days`` days, one row per product and
        test operation, through ``DynamicYield``."""
        if not isinstance(station_name, str) or not station_name.strip():
            raise InvalidArgumentError(
                f"station_name must be a non-empty str, not {station_name!r}"
            )
        flt = WATSFilter(
            station_name=station_name,
            period_count=_count(days, "days", 7),
            date_grouping=DateGrouping.DAY,
            include_current_period=True,
            top_count=INT32_MAX,
        )
        return json_call(
            "POST",
            "/api/App/DynamicYield",
            list[YieldData],
            params={"dimensions": "stationName;partNumber;testOperation"},
            body=_body(flt),
            empty=[],
        )

"""Control methods about the station itself: status, tree, queue, connection, test report, logs.

Every handler is bound to an :class:`~pywats_station.actors.control_port.OperatorPort` (what an
operator may reach; see that module). Queue operations and anything else that touches files run
in a worker thread (``trio.to_thread.run_sync``); the queue's own lock makes that safe next to
the uploader's workers.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from pywats import CompOp, ReportBuilder, __version__
from pywats._errors import HTTPError, PyWATSError
from pywats.formats import wsjf
from pywats.models.report import UURReport, UUTReport
from pywats_station._supervisor import ChildStatistics, SupervisorStatistics
from pywats_station.actors.sync import MetadataCache
from pywats_station.control import CallContext, ControlError, ErrorCode, Registry
from pywats_station.control import methods as m
from pywats_station.control.events import UploadWait
from pywats_station.queue import (
    CorruptEntry,
    Entry,
    EntryNotFound,
    EntryState,
    QueueFull,
    QueueStats,
    Unit,
    unit_of,
)
from pywats_station.runtime import Runtime

if TYPE_CHECKING:
    from pywats_station.actors.control_port import OperatorPort

__all__ = [
    "counters_event",
    "entry_unit",
    "queue_entry",
    "queue_stats_event",
    "register_service_methods",
    "register_station_methods",
    "report_header",
    "tree_node",
    "unit_header",
]

log = logging.getLogger("pywats_station.control_actor")

# --- conversions (shared with the control actor's events) ---------------------------------------


def counters_event(runtime: Runtime) -> m.Counters:
    """The runtime's totals as the control channel's type."""
    return m.Counters(**msgspec.structs.asdict(runtime.counters))


def upload_wait_of(runtime: Runtime) -> UploadWait | None:
    """The uploads' wait in effect now, as the control channel's type (``None``: none)."""
    wait = runtime.current_upload_wait()
    if wait is None:
        return None
    return UploadWait(reason=wait.reason, until=wait.until, detail=wait.detail)


def queue_stats_event(stats: QueueStats) -> m.QueueStats:
    """The queue's statistics as the control channel's type."""
    return m.QueueStats(**msgspec.structs.asdict(stats))


def queue_entry(entry: Entry) -> m.QueueEntry:
    """A queue entry as the control channel's type."""
    return msgspec.convert(msgspec.to_builtins(entry), m.QueueEntry)


def unit_header(unit: Unit) -> m.ReportHeader:
    """A queue entry's unit as the control channel's type (the same fields)."""
    return m.ReportHeader(**msgspec.structs.asdict(unit))


def entry_unit(entry: Entry) -> m.ReportHeader | None:
    """The unit an entry recorded when it was queued (``None``: queued without one)."""
    return None if entry.unit is None else unit_header(entry.unit)


def report_header(report: UUTReport | UURReport) -> m.ReportHeader:
    """What a report is about (``queue.show``, ``converters.convert_file``): ``unit_of``, the
    one reading of it that the queue records too."""
    return unit_header(unit_of(report))


def tree_node(node: SupervisorStatistics | ChildStatistics) -> m.TreeNode:
    """One node of the supervision tree (tracebacks stay in the log)."""
    if isinstance(node, SupervisorStatistics):
        return m.TreeNode(
            name=node.name,
            kind="supervisor",
            state=node.state,
            strategy=node.strategy,
            restart=node.restart,
            restarts=node.restarts,
            restarts_in_window=node.restarts_in_window,
            last_error=node.last_error,
            started_at=node.started_at,
            uptime=node.uptime,
            last_exit=node.last_exit,
            children=[tree_node(child) for child in node.children],
        )
    return m.TreeNode(
        name=node.name,
        kind="child",
        state=node.state,
        restart=node.restart,
        restarts=node.restarts,
        last_error=node.last_error,
        started_at=node.started_at,
        uptime=node.uptime,
        last_exit=node.last_exit,
    )


def not_found(message: str, **data: Any) -> ControlError:
    """A -32010 error."""
    return ControlError(ErrorCode.NOT_FOUND, message, data or None)


def station_error(message: str, reason: str, **data: Any) -> ControlError:
    """A -32013 error with ``data.reason``."""
    return ControlError(ErrorCode.STATION_ERROR, message, {"reason": reason, **data})


def _bad_selector(exc: ValueError) -> ControlError:
    return ControlError(ErrorCode.INVALID_PARAMS, f"invalid params: {exc}", {"field": "selector"})


# --- the handlers --------------------------------------------------------------------------------


def register_station_methods(registry: Registry, station: OperatorPort) -> None:
    """Register ``station.*`` and ``queue.*`` for ``station``."""
    queue = station.queue

    @registry.implement(m.STATION_STATUS)
    async def station_status(ctx: CallContext, params: m.NoParams) -> m.StationStatus:
        rt = station.runtime
        stats = await trio.to_thread.run_sync(queue.stats)
        return m.StationStatus(
            instance=station.instance,
            pid=os.getpid(),
            version=__version__,
            station=rt.station_name,
            server_url=station.safe_server_url(),
            connection=rt.connection.value,
            connection_error=rt.connection_error,
            server_version=rt.server_version,
            started_at=rt.started_at,
            uptime=time.time() - rt.started_at,
            last_online_at=rt.last_online_at,
            queue=queue_stats_event(stats),
            counters=counters_event(rt),
            processes_cached=rt.processes_cached,
            processes_synced_at=rt.processes_synced_at,
            control_connections=station.control_connections(),
            config_problem=rt.config_problem,
            upload_wait=upload_wait_of(rt),
        )

    @registry.implement(m.STATION_TREE)
    async def station_tree(ctx: CallContext, params: m.NoParams) -> m.TreeNode:
        tree = station.tree_statistics()
        if tree is None:
            return m.TreeNode(name="station", kind="supervisor", state="stopped")
        return tree_node(tree)

    @registry.implement(m.PROCESSES_LIST)
    async def processes_list(ctx: CallContext, params: m.NoParams) -> m.ProcessesListResult:
        cache = station.runtime.metadata
        if not isinstance(cache, MetadataCache):
            return m.ProcessesListResult()
        return m.ProcessesListResult(
            synced_at=cache.synced_at,
            server_version=cache.server_version,
            processes=[
                m.ProcessInfo(
                    code=p.code,
                    name=p.name,
                    description=p.description,
                    test=p.is_test_operation,
                    repair=p.is_repair_operation,
                    wip=p.is_wip_operation,
                    active=p.active,
                )
                for p in cache.processes
            ],
        )

    @registry.implement(m.QUEUE_LIST)
    async def queue_list(ctx: CallContext, params: m.QueueListParams) -> m.QueueListResult:
        state = EntryState(params.state) if params.state else None

        def page() -> tuple[list[Entry], QueueStats]:
            entries = queue.list(state=state, offset=params.offset, limit=params.limit)
            return entries, queue.stats()

        entries, stats = await trio.to_thread.run_sync(page)
        # Dead entries are not part of the depth (they wait for a human), but they are listed.
        total: int = stats.depth + stats.dead if state is None else getattr(stats, state.value)
        return m.QueueListResult(
            entries=[queue_entry(e) for e in entries],
            total=total,
            offset=params.offset,
            limit=params.limit,
        )

    @registry.implement(m.QUEUE_SHOW)
    async def queue_show(ctx: CallContext, params: m.QueueShowParams) -> m.QueueShowResult:
        def show() -> tuple[Entry, m.ReportHeader | None]:
            entry = queue.show(params.entry)
            header = entry_unit(entry)
            if header is not None:
                return entry, header
            try:  # queued by a version that did not record the unit: the report says
                header = report_header(wsjf.loads(queue.read(entry)))
            except (CorruptEntry, EntryNotFound, msgspec.DecodeError, ValueError):
                header = None  # uploaded meanwhile, or unreadable: the entry still says a lot
            return entry, header

        try:
            entry, header = await trio.to_thread.run_sync(show)
        except (EntryNotFound, ValueError):
            raise not_found(f"no queue entry {params.entry!r}", entry=params.entry) from None
        return m.QueueShowResult(entry=queue_entry(entry), report=header)

    @registry.implement(m.QUEUE_RETRY)
    async def queue_retry(ctx: CallContext, params: m.QueueRetryParams) -> m.QueueCountResult:
        try:
            count = await trio.to_thread.run_sync(queue.retry, params.selector)
        except EntryNotFound:
            raise not_found(f"no queue entry {params.selector!r}", entry=params.selector) from None
        except ValueError as exc:
            raise _bad_selector(exc) from None
        if count:
            log.info("control: %d queue entries sent again (%s)", count, params.selector)
            station.runtime.wake_uploader()
        return m.QueueCountResult(count=count)

    @registry.implement(m.QUEUE_PURGE)
    async def queue_purge(ctx: CallContext, params: m.QueuePurgeParams) -> m.QueueCountResult:
        try:
            count = await trio.to_thread.run_sync(queue.purge, params.selector)
        except EntryNotFound:
            raise not_found(f"no queue entry {params.selector!r}", entry=params.selector) from None
        except ValueError as exc:
            raise _bad_selector(exc) from None
        log.warning("control: %d queue entries purged (%s)", count, params.selector)
        return m.QueueCountResult(count=count)

    @registry.implement(m.QUEUE_VERIFY)
    async def queue_verify(ctx: CallContext, params: m.NoParams) -> m.QueueVerifyResult:
        report = await trio.to_thread.run_sync(queue.verify)
        if report.corrupt:
            log.warning("control: queue verify set %d corrupt entries aside", report.corrupt)
        return m.QueueVerifyResult(ok=report.ok, corrupt=report.corrupt, orphans=report.orphans)


def register_service_methods(registry: Registry, station: OperatorPort) -> None:
    """Register ``connection.test``, ``reports.send_test`` and ``logs.tail`` for ``station``."""
    queue = station.queue

    @registry.implement(m.CONNECTION_TEST)
    async def connection_test(ctx: CallContext, params: m.NoParams) -> m.ConnectionTestResult:
        url = station.safe_server_url()
        started = trio.current_time()
        try:
            version = await station.server_version()
        except HTTPError as exc:
            reason = "auth_failed" if exc.status in (401, 403) else "server_error"
            raise station_error(
                f"{url} answered {exc.status}: {exc.message}", reason, status=exc.status, url=url
            ) from None
        except PyWATSError as exc:
            raise station_error(f"{url} is unreachable: {exc}", "unreachable", url=url) from None
        if version is None:
            raise station_error("no server configured (server.url)", "not_configured")
        latency = trio.current_time() - started
        return m.ConnectionTestResult(url=url, server_version=version, latency=latency)

    @registry.implement(m.REPORTS_SEND_TEST)
    async def send_test(ctx: CallContext, params: m.SendTestParams) -> m.SendTestResult:
        identity = station.config.station
        tests = [p.code for p in station.processes() if p.is_test_operation and p.active]
        serial = params.serial_number or (
            f"TEST-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2).upper()}"
        )
        try:
            builder = ReportBuilder.uut(
                pn=params.part_number,
                sn=serial,
                rev="1",
                process_code=params.process_code or (tests[0] if tests else 10),
                station=station.runtime.station_name,
                location=identity.location or "Unknown",
                purpose=identity.purpose or "Production",
                operator="pywats-station",
            )
            builder.root.numeric("Supply voltage", 5.0, CompOp.GELE, low=4.75, high=5.25, unit="V")
            builder.root.pass_fail("Connection test", True)
            report = builder.build()
        except (PyWATSError, ValueError) as exc:
            raise ControlError(ErrorCode.INVALID_PARAMS, f"invalid params: {exc}") from None
        report_id, source = str(report.id), "control:send_test"
        data, unit = wsjf.dumps(report), unit_of(report)

        def put() -> tuple[Entry, int]:
            entry = queue.put(report_id, data, source=source, unit=unit)
            return entry, queue.stats().depth

        try:
            entry, depth = await trio.to_thread.run_sync(put)
        except QueueFull as exc:
            raise station_error(str(exc), "queue_full") from None
        except OSError as exc:
            raise station_error(f"the queue refused the report: {exc}", "queue_error") from None
        station.runtime.counters.queued += 1
        station.runtime.wake_uploader()
        queued = m.ReportQueued(
            report_id=report_id,
            seq=entry.seq,
            source=source,
            size=entry.size,
            depth=depth,
            unit=unit_header(unit),
        )
        station.publish("report_queued", queued)
        log.info("control: test report %s queued (seq %d)", report_id, entry.seq)
        return m.SendTestResult(report_id=report_id, seq=entry.seq)

    @registry.implement(m.LOGS_TAIL)
    async def logs_tail(ctx: CallContext, params: m.LogsTailParams) -> m.LogsTailResult:
        return m.LogsTailResult(records=station.tail_logs(params.lines, params.level))

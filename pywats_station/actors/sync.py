"""The sync actor: processes, levels and product groups, cached on disk for offline use.

A station that boots without a network still knows its process codes (the predecessor kept them
only in memory for five minutes). The cache is refreshed at start-up, on every reconnect and
every ``interval`` seconds while online, and written atomically.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import msgspec
import trio

from pywats import AsyncWATS
from pywats._errors import PyWATSError
from pywats.models.app import Level, Process, ProductGroup
from pywats_station.paths import atomic_write
from pywats_station.runtime import Runtime

__all__ = ["MetadataCache", "load_cache", "run_sync", "save_cache"]

log = logging.getLogger("pywats_station.sync")


class MetadataCache(msgspec.Struct, kw_only=True):
    """What the station keeps of the server's metadata."""

    synced_at: float | None = None
    server_version: str | None = None
    processes: list[Process] = msgspec.field(default_factory=list)
    levels: list[Level] = msgspec.field(default_factory=list)
    product_groups: list[ProductGroup] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(MetadataCache)


def load_cache(path: Path) -> MetadataCache:
    """The cached metadata, or an empty cache when there is none or it is unreadable."""
    try:
        return _decoder.decode(path.read_bytes())
    except FileNotFoundError:
        return MetadataCache()
    except (OSError, msgspec.DecodeError) as exc:
        log.warning("metadata cache %s unreadable (%s); starting empty", path, exc)
        return MetadataCache()


def save_cache(path: Path, cache: MetadataCache) -> None:
    """Write the cache atomically (temp file, fsync, rename)."""
    atomic_write(path, msgspec.json.encode(cache), mode=0o644)


async def run_sync(
    api: AsyncWATS,
    runtime: Runtime,
    cache_file: Path,
    *,
    interval: float = 3600.0,
    task_status: trio.TaskStatus[MetadataCache] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep the metadata cache fresh until cancelled."""
    cache = await trio.to_thread.run_sync(load_cache, cache_file)
    _publish(runtime, cache)
    task_status.started(cache)
    while True:
        await runtime.online.wait()
        runtime.reconnected = trio.Event()
        try:
            cache = MetadataCache(
                synced_at=time.time(),
                server_version=runtime.server_version,
                processes=await api.process.get_processes(include_inactive=True),
                levels=await api.app.get_levels(),
                product_groups=await api.app.get_product_groups(),
            )
        except PyWATSError as exc:
            log.warning("metadata sync failed: %s", exc)
            runtime.wake_connection()
            with trio.move_on_after(min(interval, 60.0)):
                await runtime.reconnected.wait()
            continue
        await trio.to_thread.run_sync(save_cache, cache_file, cache)
        _publish(runtime, cache)
        log.info("metadata synced: %d processes", len(cache.processes))
        with trio.move_on_after(interval):
            await runtime.reconnected.wait()


def _publish(runtime: Runtime, cache: MetadataCache) -> None:
    runtime.processes_cached = len(cache.processes)
    runtime.processes_synced_at = cache.synced_at
    runtime.metadata = cache

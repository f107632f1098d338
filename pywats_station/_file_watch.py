"""Wait for a change to any of a few files (the config file, the token's file) without polling.

:func:`open_file_watch` watches the folders holding the files with inotify; the block then
awaits ``changed()``, which returns after an event in one of them (any entry: an editor that
saves by renaming a new file over the old one changes only the folder). Where a folder cannot
be watched (no inotify, a limit reached, the folder missing) ``changed()`` returns after
``fallback`` seconds instead: the caller compares the files' stamps either way, so an event
about another file only costs one look.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import trio

from pywats_station.actors import _inotify
from pywats_station.actors._inotify import Inotify

__all__ = ["open_file_watch"]


@asynccontextmanager
async def open_file_watch(
    files: Iterable[Path], *, fallback: float
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Watch the folders of ``files``; yields ``changed``, which returns after a change."""
    folders = dict.fromkeys(path.parent for path in files)
    watches: list[Inotify] = []
    timeout = math.inf
    async with AsyncExitStack() as stack:
        for folder in folders:
            if not _inotify.available():
                timeout = fallback
                break
            try:
                watches.append(stack.enter_context(Inotify(folder, recursive=False)))
            except OSError:
                timeout = fallback

        async def changed() -> None:
            with trio.move_on_after(timeout):
                async with trio.open_nursery() as nursery:

                    async def one(watch: Inotify) -> None:
                        await watch.read()
                        nursery.cancel_scope.cancel()

                    for watch in watches:
                        nursery.start_soon(one, watch)
                    if not watches:
                        await trio.sleep_forever()

        yield changed

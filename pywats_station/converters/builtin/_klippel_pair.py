"""Whether a Klippel QC run is complete: its header beside its folder, and the folder's files.

A run is complete when the header ``<name>.txt`` is there, the folder ``<name>`` is there and
holds at least one ``.txt`` file (and a file for each ``expected_files`` pattern), and neither
has changed for the converter's ``settle`` seconds (the station's part: it settles the pair as
one input). While a part is missing the converter answers :class:`Suspended`, looking again
soon and then less often; once the pair has not changed for ``incomplete_timeout`` seconds it
fails, and the station sends what is there to Error.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from pywats_station._display import display_name
from pywats_station.converters.api import (
    Failed,
    Suspended,
    companion_paths,
    matches_patterns,
)
from pywats_station.converters.builtin._common import read_head

__all__ = ["SUFFIX", "data_names", "incomplete", "last_change", "missing", "pair", "sniff_data"]

SUFFIX = ".txt"
"""The header's suffix, and the data files'."""
_SNIFF_FILES = 20  # files of a folder that validate() looks into …
_SNIFF_DATA = 256  # … and bytes of each
_DATA_START = re.compile(r"(frq\t[^\t\r\n]+|name\tvalue)(\t|\r|\n|$)", re.IGNORECASE)


def pair(path: Path) -> tuple[Path, Path | None]:
    """The run folder of an input (there or not) and its header, if it exists.

    The input is the folder; given the header itself (``… UTC+0200.txt``, as on the command
    line), the folder is the one named like it.
    """
    folder = path
    if path.name.casefold().endswith(SUFFIX) and path.is_file():
        folder = path.with_name(path.name[: -len(SUFFIX)])
    headers = [p for p in companion_paths(folder, (SUFFIX,)) if p.is_file()]
    return folder, headers[0] if headers else None


def data_names(folder: Path) -> list[str]:
    """The ``.txt`` files of a run folder (not hidden), in the order they are read."""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not e.name.startswith(".") and e.is_file()]
    except OSError:
        return []
    names = [n for n in names if n.casefold().endswith(SUFFIX)]
    return sorted(names, key=lambda n: (n.casefold(), n))


def missing(folder: Path, header: Path | None, expected: list[str]) -> list[str]:
    """What the pair still lacks to be complete (see the module docstring)."""
    name = display_name(folder.name)
    missing = [] if header is not None else [f"the header {name}.txt"]
    if not folder.is_dir():
        return [*missing, f"the folder {name}"]
    names = data_names(folder)
    if not names:
        return [*missing, f"a .txt file in the folder {name}"]
    for pattern in expected:
        if not any(matches_patterns(n, [pattern]) for n in names):
            missing.append(f"a file {pattern} in the folder {name}")
    return missing


def incomplete(
    folder: Path, header: Path | None, missing: list[str], timeout: float
) -> Suspended | Failed:
    """Wait for the rest of a pair, or give up once it has not changed for ``timeout`` s."""
    waited = time.time() - last_change(folder, header)
    what = " and ".join(missing)
    if waited >= timeout:
        return Failed(
            reason=f"incomplete: {what} still missing {waited:.0f} s after the last change "
            f"(arguments.incomplete_timeout = {timeout:g} s)"
        )
    # Soon at first (the rest is usually a moment behind), then less often.
    retry = min(30.0, max(1.0, waited / 2), max(0.5, timeout - waited))
    return Suspended(reason=f"waiting for {what}", retry_after=retry)


def last_change(folder: Path, header: Path | None) -> float:
    """When the pair last changed here: the newest modification or status change of its parts.

    The status change counts too: a copy that keeps the writer's modification times (most
    do) still arrived now, and the wait is measured from its arrival.
    """
    paths = [header] if header is not None else []
    if folder.is_dir():
        paths.append(folder)
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            paths += [Path(e.path) for e in entries]
    newest = 0.0
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        newest = max(newest, st.st_mtime, st.st_ctime)
    return newest


def sniff_data(folder: Path, encoding: str) -> str:
    """``"3 data files"`` when the folder holds Klippel data files (a few seen), else ``""``."""
    if not folder.is_dir():
        return ""
    found = 0
    for name in data_names(folder)[:_SNIFF_FILES]:
        try:
            head = read_head(folder / name, _SNIFF_DATA)
        except OSError:
            continue
        text = head.decode(encoding, "replace").lstrip("\ufeff")
        if _DATA_START.match(text):
            found += 1
    return f"{found} data file{'s' * (found != 1)}" if found else ""

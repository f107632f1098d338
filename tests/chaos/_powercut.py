"""Roll folders back to what a strict POSIX disk holds after a power cut (see ``_fsjournal``).

Before each start of the daemon the test takes a :class:`Baseline` of the roots (every folder's
entries by inode, every file's content): the state after the previous cut, durable by
definition. The daemon runs with ``PYWATS_STATION_FS_JOURNAL`` set, is SIGKILLed, and
:func:`roll_back` rebuilds each root from the baseline and the journal:

* a folder holds the entries of its last recorded fsync (else those of the baseline; a folder
  never flushed holds nothing);
* a file holds the content of its inode's last fsync (else the baseline's, unless the inode was
  created anew since; else nothing).

Everything under the roots is then replaced by that state. What was not fsynced is gone.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pywats_station._fsjournal import ENV, ROOTS_ENV

Listing = dict[str, tuple[int, str]]  # name -> (inode, kind: d, f or l)
Durable = dict[str, tuple[tuple[int, int], str]]  # name -> ((inode, generation), kind)


@dataclass
class Baseline:
    roots: list[Path]
    listings: dict[str, Listing] = field(default_factory=dict)
    content: dict[int, bytes] = field(default_factory=dict)
    links: dict[int, str] = field(default_factory=dict)

    @classmethod
    def take(cls, roots: list[Path]) -> Baseline:
        base = cls([Path(os.path.realpath(r)) for r in roots])
        for root in base.roots:
            root.mkdir(parents=True, exist_ok=True)
            for folder, dirs, files in os.walk(root):
                listing: Listing = {}
                for name in dirs + files:
                    path = os.path.join(folder, name)
                    st = os.lstat(path)
                    if os.path.islink(path):
                        listing[name] = (st.st_ino, "l")
                        base.links[st.st_ino] = os.readlink(path)
                    elif name in dirs:
                        listing[name] = (st.st_ino, "d")
                    else:
                        listing[name] = (st.st_ino, "f")
                        with open(path, "rb") as handle:
                            base.content[st.st_ino] = handle.read()
                base.listings[folder] = listing
        return base


@dataclass
class Rollback:
    """What the cut undid, for the counts."""

    records: int = 0
    entries_dropped: int = 0  # names present before the cut, absent after
    entries_revived: int = 0  # names absent before the cut, back after
    files_changed: int = 0  # files whose content differs from what the daemon last saw


def journal_env(journal: Path, roots: list[Path]) -> dict[str, str]:
    """The daemon's environment for a journaled run."""
    return {ENV: str(journal), ROOTS_ENV: os.pathsep.join(str(r) for r in roots)}


def _read_journal(journal: Path) -> list[dict[str, object]]:
    path = journal / "journal.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            break  # a line cut by the kill: the operation it records did not return
    return records


def _current(roots: list[Path]) -> dict[str, bytes | None]:
    """Every path under the roots with its content (``None`` for folders and links)."""
    seen: dict[str, bytes | None] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs:
                seen[os.path.join(folder, name)] = None
            for name in files:
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as handle:
                        seen[path] = handle.read()
                except OSError:
                    seen[path] = None
    return seen


def roll_back(base: Baseline, journal: Path) -> Rollback:
    """Replace the roots' contents with their durable state; clear the journal."""
    # A file is an inode *generation*: the number of a file unlinked (not durably) and then
    # reused by a new file must not make the old name show the new file's content.
    gen: dict[int, int] = {}
    listings: dict[str, Durable] = {
        path: {n: ((ino, 0), kind) for n, (ino, kind) in listing.items()}
        for path, listing in base.listings.items()
    }
    content: dict[tuple[int, int], bytes] = {(ino, 0): data for ino, data in base.content.items()}
    records = _read_journal(journal)
    for rec in records:
        op = rec["op"]
        if op == "F":
            ino = int(str(rec["ino"]))
            blob = journal / "blobs" / str(rec["blob"])
            content[(ino, gen.get(ino, 0))] = blob.read_bytes()
        elif op == "N":
            ino = int(str(rec["ino"]))
            gen[ino] = gen.get(ino, 0) + 1
            content[(ino, gen[ino])] = b""
        elif op == "D":
            entries = rec["entries"]
            assert isinstance(entries, dict)
            listings[str(rec["path"])] = {
                n: ((int(v[0]), gen.get(int(v[0]), 0)), str(v[1])) for n, v in entries.items()
            }
    durable: dict[str, bytes | None] = {}
    links: dict[str, str] = {}

    def walk(folder: str) -> None:
        for name, (ino, kind) in listings.get(folder, {}).items():
            path = os.path.join(folder, name)
            if kind == "d":
                durable[path] = None
                walk(path)
            elif kind == "l":
                if (
                    ino[1] == 0 and ino[0] in base.links
                ):  # a link made since and flushed: its target is unknown
                    links[path] = base.links[ino[0]]
            else:
                durable[path] = content.get(ino, b"")

    for root in base.roots:
        walk(str(root))
    before = _current(base.roots)
    result = Rollback(records=len(records))
    result.entries_dropped = sum(1 for p in before if p not in durable and p not in links)
    result.entries_revived = sum(1 for p in durable if p not in before)
    result.files_changed = sum(
        1 for p, data in durable.items() if data is not None and p in before and before[p] != data
    )
    for root in base.roots:
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    for path in sorted(durable):  # parents sort before their children
        data = durable[path]
        if data is None:
            os.mkdir(path)
        else:
            with open(path, "wb") as handle:
                handle.write(data)
    for path, target in links.items():
        os.symlink(target, path)
    shutil.rmtree(journal)
    journal.mkdir()
    return result

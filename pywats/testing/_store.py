"""Where the emulator keeps reports: in memory, or in a SQLite file that survives restarts.

Header rows (what the header query filters on) live in memory in both cases; with a SQLite file
the report documents themselves are read from disk on demand, so a large store does not have to
fit in memory twice.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from pywats.models.report_query import ReportHeader

__all__ = ["ReportStore", "StoredReport"]


class StoredReport(msgspec.Struct, kw_only=True):
    """One stored report."""

    id: str  # lower-case GUID
    type: str  # "T" or "R"
    wsjf: bytes
    header: ReportHeader
    ref_uut: str | None = None  # for a UUR: the repaired UUT's id
    run_key: tuple[str, str, int] | None = None
    asset_usage: dict[str, int] = msgspec.field(default_factory=dict)  # asset SN -> usage

    def row(self) -> dict[str, Any]:
        """The header as a query row: wire names, datetimes and UUIDs kept as objects."""
        from datetime import datetime
        from uuid import UUID

        row: dict[str, Any] = msgspec.to_builtins(self.header, builtin_types=(datetime, UUID))
        return row


_header_enc = msgspec.json.Encoder()
_header_dec = msgspec.json.Decoder(ReportHeader)
_usage_dec = msgspec.json.Decoder(dict[str, int])

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    wsjf BLOB NOT NULL,
    header BLOB NOT NULL,
    ref_uut TEXT,
    run_pn TEXT,
    run_sn TEXT,
    run_process INTEGER,
    asset_usage BLOB
)
"""


class ReportStore:
    """Reports keyed by id, with an optional SQLite file behind them."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._reports: dict[str, StoredReport] = {}
        self._db: sqlite3.Connection | None = None
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._load()

    def _load(self) -> None:
        assert self._db is not None
        rows = self._db.execute(
            "SELECT id, type, header, ref_uut, run_pn, run_sn, run_process, asset_usage"
            " FROM reports"
        )
        for rid, rtype, header, ref_uut, pn, sn, process, usage in rows:
            run_key = (pn, sn, process) if pn is not None else None
            self._reports[rid] = StoredReport(
                id=rid,
                type=rtype,
                wsjf=b"",  # read from the file on demand
                header=_header_dec.decode(header),
                ref_uut=ref_uut,
                run_key=run_key,
                asset_usage=_usage_dec.decode(usage) if usage else {},
            )

    def put(self, report: StoredReport) -> None:
        """Store or replace a report."""
        with self._lock:
            if self._db is not None:
                pn, sn, process = report.run_key or (None, None, None)
                self._db.execute(
                    "INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        report.id,
                        report.type,
                        report.wsjf,
                        _header_enc.encode(report.header),
                        report.ref_uut,
                        pn,
                        sn,
                        process,
                        _header_enc.encode(report.asset_usage),
                    ),
                )
                report = msgspec.structs.replace(report, wsjf=b"")
            self._reports[report.id] = report

    def get(self, report_id: str) -> StoredReport | None:
        """The report with this id (any case), document included, or ``None``."""
        key = report_id.lower()
        with self._lock:
            found = self._reports.get(key)
            if found is None or self._db is None:
                return found
            row = self._db.execute("SELECT wsjf FROM reports WHERE id = ?", (key,)).fetchone()
        return msgspec.structs.replace(found, wsjf=bytes(row[0])) if row else None

    def delete(self, report_id: str) -> bool:
        """Remove a report; ``True`` if it existed."""
        key = report_id.lower()
        with self._lock:
            existed = self._reports.pop(key, None) is not None
            if self._db is not None:
                self._db.execute("DELETE FROM reports WHERE id = ?", (key,))
        return existed

    def clear(self) -> None:
        """Remove every report."""
        with self._lock:
            self._reports.clear()
            if self._db is not None:
                self._db.execute("DELETE FROM reports")

    def __len__(self) -> int:
        return len(self._reports)

    def __contains__(self, report_id: object) -> bool:
        return isinstance(report_id, str) and report_id.lower() in self._reports

    def headers(self) -> Iterator[StoredReport]:
        """Every stored report, without documents (a snapshot, safe while others submit)."""
        with self._lock:
            snapshot = list(self._reports.values())
        return iter(snapshot)

    def close(self) -> None:
        """Close the SQLite file, if any."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

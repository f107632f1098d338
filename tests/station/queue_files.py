"""Queue entries written by hand, byte for byte as an earlier version of the station wrote them."""

from __future__ import annotations

import json
from pathlib import Path

from pywats_station.queue._format import bucket_name, checksum_of, stem_of


def write_old_entry(
    queue_dir: Path,
    seq: int,
    report_id: str,
    data: bytes,
    *,
    source: str = "wsjf:old.json",
    created_at: float = 1_700_000_000.0,
) -> Path:
    """Write a QUEUED entry as a version before unit summaries did: no ``unit`` in its header.

    Spelled out here rather than written with ``encode_header``, so that the old format stays
    what it was whatever the encoder does today. Returns the payload file.
    """
    header = {
        "v": 1,
        "id": report_id,
        "size": len(data),
        "checksum": checksum_of(data),
        "created_at": created_at,
        "source": source,
    }
    folder = queue_dir / "entries" / bucket_name(seq)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem_of(seq, report_id)}.wsjf"
    path.write_bytes(json.dumps(header, separators=(",", ":")).encode() + b"\n" + data)
    return path

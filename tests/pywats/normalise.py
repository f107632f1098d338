"""The normalisation under which a decoded-and-re-encoded report equals its source.

Documented in ``docs/reports.md``:

* ``null`` and an absent member are the same (we never write ``null``);
* numbers compare by value (``5`` equals ``5.0``);
* date-times compare as instants at microsecond precision (the server writes 7 fractional
  digits; Python keeps 6, truncating);
* GUIDs compare case-insensitively;
* the ``type`` member and object key order do not matter.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _datetime(text: str) -> datetime:
    head, _, frac_zone = text.partition(".")
    if frac_zone:
        digits = re.match(r"\d+", frac_zone)
        assert digits is not None
        rest = frac_zone[digits.end() :]
        text = f"{head}.{digits.group()[:6].ljust(6, '0')}{rest}"
    return datetime.fromisoformat(text)


def normalise(value: Any) -> Any:
    """Return ``value`` (a JSON tree) in normal form."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if _DATETIME.match(value):
            return _datetime(value)
        if _GUID.match(value):
            return value.lower()
    return value

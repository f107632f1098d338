"""Report ids: :class:`uuid.UUID` in everything the library returns, ``str`` or UUID accepted.

A report's ``id``, a header's ``uuid`` and what ``submit_report`` returns are all UUIDs, so they
compare equal; where an id is passed in, its text works too (as copied from the WATS web UI) and is
checked here, so a mistyped id fails before a request is sent rather than as a 404.
"""

from __future__ import annotations

import uuid

from pywats._errors import InvalidArgumentError

__all__ = ["ReportId", "as_report_id"]

ReportId = str | uuid.UUID
"""A report id as callers may give it: a :class:`uuid.UUID`, or its text (any case, braces
allowed)."""


def as_report_id(value: ReportId, what: str = "report_id") -> uuid.UUID:
    """Return ``value`` as a :class:`uuid.UUID`.

    Raises:
        InvalidArgumentError: ``value`` is neither a UUID nor a str, or its text is not a UUID
            (a ``TypeError`` and a ``ValueError``).
    """
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{what} must be a uuid.UUID or a str, not {type(value).__name__}"
        )
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidArgumentError(f"{what} {value!r} is not a UUID") from None

"""Workflow (WATS MES): the status of the workflow definition a unit runs under."""

from __future__ import annotations

import enum

__all__ = ["WorkflowStatus"]


class WorkflowStatus(enum.IntEnum):
    """Status of a workflow definition (the ``status`` query parameter of ``/api/Workflow``).

    A unit's workflow is initialised under one status; starting and ending its test activities
    must name the same one. The server assumes ``RELEASED`` when none is given.
    """

    DRAFT = 0
    PENDING = 1
    RELEASED = 2
    REVOKED = 3

"""``api.workflow``: Starting and ending a test in a workflow (tag Workflow)."""

from __future__ import annotations

from pywats._domain import Domain, ModeT

__all__ = ["WorkflowDomain"]


class WorkflowDomain(Domain[ModeT]):
    """Starting and ending a test in a workflow (tag Workflow)."""

"""The emulator's ``workflow`` routes: Starting and ending a test in a workflow (tag Workflow)."""

from __future__ import annotations

from pywats.testing._http import Router

__all__ = ["add_workflow_routes"]


def add_workflow_routes(router: Router) -> None:
    """Register the workflow routes on ``router``."""

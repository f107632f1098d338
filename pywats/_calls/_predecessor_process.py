"""``api.process``'s operations under the predecessor's names (``pywats-api``): see
:mod:`pywats._calls._predecessor_report` and ``docs/migrating.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pywats._call import Flow, as_flow
from pywats._domain import deprecated
from pywats.models.app import Process

if TYPE_CHECKING:
    from pywats._calls.app import ProcessDomain

__all__ = ["PredecessorProcessNames"]


class PredecessorProcessNames:
    """``api.process``'s operations under the predecessor's names (deprecated)."""

    @deprecated("get_process(code)")
    def get_process_by_code(self: ProcessDomain[Any], code: int) -> Flow[Process | None]:
        """Deprecated: :meth:`get_process` with a code (``None`` when there is none)."""
        return (yield from as_flow(type(self).get_process.calls(self, code)))

    @deprecated("get_process(name)")
    def get_process_by_name(self: ProcessDomain[Any], name: str) -> Flow[Process | None]:
        """Deprecated: :meth:`get_process` with a name (any case; ``None`` when there is none)."""
        return (yield from as_flow(type(self).get_process.calls(self, name)))

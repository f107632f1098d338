"""An emulated WATS server: same routes, auth, validation and errors; faults on demand.

In process, as an httpx transport::

    from pywats import pyWATS
    from pywats.testing import FakeWATS

    fake = FakeWATS(token="test-token")
    with pyWATS("http://wats.test", "test-token", transport=fake) as api:
        api.report.submit_report(report)
    assert len(fake.reports) == 1

Over TCP: ``python -m pywats.testing serve --port 0 --token TOKEN`` (needs ``pywats[testing]``).
See ``docs/testing-with-the-emulator.md``.
"""

from __future__ import annotations

from pywats.testing._emulator import FakeWATS, LogEntry
from pywats.testing._faults import Fault, Faults
from pywats.testing._http import Request, Response
from pywats.testing._seed import State, TokenInfo

__all__ = ["Fault", "FakeWATS", "Faults", "LogEntry", "Request", "Response", "State", "TokenInfo"]

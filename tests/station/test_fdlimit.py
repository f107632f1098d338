"""The open-file limit: raised at start towards 8192, never lowered, shared out to the channel.

Each case runs in a child process with the limits it needs, so this process keeps its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pywats_station import fdlimit
from pywats_station.control.server import ConnectionLimits

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is POSIX")


def _limits_after_raise(soft: int, hard: int) -> tuple[int, int]:
    """``(soft, hard)`` in a child started with ``soft``/``hard`` after ``raise_limit()``."""
    script = textwrap.dedent(
        f"""
        import resource
        from pywats_station.fdlimit import raise_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
        reported = raise_limit()
        now = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert reported == now[0], (reported, now)
        print(*now)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    low, high = done.stdout.split()
    return int(low), int(high)


def _hard_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def test_the_soft_limit_is_raised_to_the_target_within_the_hard_limit() -> None:
    hard = _hard_limit()
    if hard != -1 and hard < fdlimit.TARGET + 1:
        pytest.skip(f"the hard limit here ({hard}) is below the target")
    assert _limits_after_raise(1024, fdlimit.TARGET + 1) == (fdlimit.TARGET, fdlimit.TARGET + 1)


def test_a_lower_hard_limit_is_as_far_as_it_goes() -> None:
    assert _limits_after_raise(256, 2048) == (2048, 2048)


def test_a_higher_soft_limit_is_never_lowered() -> None:
    hard = _hard_limit()
    if hard != -1 and hard < fdlimit.TARGET + 100:
        pytest.skip(f"the hard limit here ({hard}) is below the target")
    wanted = fdlimit.TARGET + 100
    assert _limits_after_raise(wanted, wanted) == (wanted, wanted)


def test_the_control_channel_gets_a_quarter() -> None:
    assert fdlimit.control_budget(1024) == 256
    assert fdlimit.control_budget(8192) == 2048
    # The default pools fit in the quarter of the 1024 default.
    assert ConnectionLimits().descriptors <= 256

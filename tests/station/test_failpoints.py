"""Failpoints (the chaos tests' aim): inert without the variable, a SIGKILL where it says."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from pywats_station._failpoints import ENV, FailpointSpecError, parse

SCRIPT = """
from pywats_station._failpoints import failpoint
for name in {names!r}:
    failpoint(name)
    print("passed", name, flush=True)
"""


def run(names: list[str], spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if spec is not None:
        env[ENV] = spec
    return subprocess.run(
        [sys.executable, "-c", SCRIPT.format(names=names)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_without_the_variable_nothing_happens() -> None:
    done = run(["queue.put.durable", "upload.accepted"], None)
    assert done.returncode == 0
    assert done.stdout.split("\n")[:2] == ["passed queue.put.durable", "passed upload.accepted"]


def test_the_nth_hit_kills_the_process_and_says_where() -> None:
    done = run(["a", "b", "a", "a"], "a=2")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.splitlines() == ["passed a", "passed b"]
    assert "failpoint a hit" in done.stderr


def test_a_prefix_with_probability_one_kills_at_the_first_match() -> None:
    done = run(["upload.x", "queue.write.y"], "queue.*=1.0,seed=3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.splitlines() == ["passed upload.x"]
    assert "failpoint queue.write.y hit" in done.stderr


def test_probability_zero_never_kills() -> None:
    assert run(["a"] * 20, "a=0.0").returncode == 0


def test_rules_and_seed_parse() -> None:
    rules, seed = parse(" a=3 , b.*=0.5, seed=7 ")
    assert seed == 7
    assert [(r.pattern, r.nth, r.probability) for r in rules] == [
        ("a", 3, None),
        ("b.*", None, 0.5),
    ]


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("a", "is not NAME=N"),
        ("=3", "is not NAME=N"),
        ("a=0", "the first hit is 1"),
        ("a=1.5", "between 0 and 1"),
        ("a=x", "invalid literal"),
        ("seed=x", "invalid literal"),
    ],
)
def test_a_bad_value_is_refused_with_the_reason(spec: str, why: str) -> None:
    with pytest.raises(FailpointSpecError, match=why):
        parse(spec)


def test_a_bad_value_stops_the_daemon_at_import_naming_the_variable() -> None:
    done = run(["a"], "a=0")
    assert done.returncode == 1
    assert ENV in done.stderr

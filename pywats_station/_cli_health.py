"""Whether a station is healthy, from what ``pywats-station status`` gathered, and why not.

*Healthy* means: the station does its job and needs no one. What heals by itself does not count
against it: a server that is down (reports wait in the queue and go out when it is back), a
converter actor restarting after one failure. What needs a person does:

* the daemon is not running;
* an actor of the supervision tree has been given up on (``failed``);
* the server does not accept the station (``auth_failed``: no token, an unusable one, one the
  server refuses, or one not confirmed for the configured server);
* no server is configured, so nothing can be uploaded;
* a converter is broken (it cannot be loaded, its arguments are wrong) or reports an error that
  keeps it from working (a watch folder that is gone, one another daemon holds: ``refused``);
* reports the server rejected wait as dead letters;
* the configuration file on disk is invalid: the daemon keeps running on the one it loaded
  before, but would not start again with it.

Each reason is one line for a person (the text output lists them; ``status --json`` carries
them as ``reasons``, next to ``healthy``). :func:`exit_code` turns the verdict into the exit
code documented in :mod:`pywats_station.cli`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pywats_station._cli_common import ExitCode

__all__ = ["exit_code", "reasons"]


def reasons(data: Mapping[str, Any]) -> list[str]:
    """Why the station described by ``data`` (as ``status --json`` prints it) is not healthy.

    Args:
        data: The merged status: ``running``, ``tree``, ``connection``, ``converters``,
            ``queue``, ``config_problem`` …; keys that are absent count as fine.

    Returns:
        One line per problem, most fundamental first; empty when the station is healthy.
    """
    found: list[str] = []
    if data.get("starting"):
        found.append("the daemon is starting")
    elif not data.get("running"):
        found.append("the daemon is not running")
    problem = data.get("config_problem")
    if problem:
        line = _one_line(str(problem))
        if data.get("running"):
            found.append(f"the configuration file is invalid and was not applied: {line}")
        else:
            found.append(f"the configuration cannot be used: {line}")
    if data.get("running"):
        found += _running_reasons(data)
    dead = (data.get("queue") or {}).get("dead") or 0
    if dead:
        which = "report waits" if dead == 1 else "reports wait"
        found.append(
            f"{dead} {which} as dead letters, rejected by the server "
            "(pywats-station queue list --state dead)"
        )
    return found


def _running_reasons(data: Mapping[str, Any]) -> list[str]:
    """What only a running daemon can tell: its tree, its connection, its converters."""
    found = [
        f"{name} was given up on: {error or 'no error recorded'}"
        for name, error in _failed(data.get("tree"))
    ]
    connection = data.get("connection")
    if connection == "auth_failed":
        error = data.get("connection_error") or "the server does not accept the station"
        found.append(f"not authorized: {error}")
    elif connection == "unconfigured":
        found.append("no server is configured (server.url): reports wait in the queue")
    for conv in data.get("converters") or []:
        if conv.get("state") == "broken" or conv.get("error"):
            error = conv.get("error") or "no reason recorded"
            found.append(f"converter {conv.get('name')} is {conv.get('state')}: {error}")
    return found


def _one_line(text: str) -> str:
    """A multi-line problem list (``path: 2 problems:`` + one per line) as one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return lines[0] if lines else text
    return f"{lines[0].rstrip(':')}: " + "; ".join(lines[1:])


def _failed(node: Any) -> Iterator[tuple[str, str | None]]:
    """The given-up nodes of a tree (the status file's or ``station.tree``'s), depth first."""
    if not isinstance(node, Mapping):
        return
    if node.get("state") == "failed":
        yield str(node.get("name")), node.get("last_error")
    for child in node.get("children") or []:
        yield from _failed(child)


def exit_code(data: Mapping[str, Any], found: list[str]) -> int:
    """``status``'s exit code: 0 healthy, 10 not running, 9 running (or starting) but not
    healthy."""
    if not data.get("running") and not data.get("starting"):
        return ExitCode.NOT_RUNNING
    return ExitCode.UNHEALTHY if found else ExitCode.OK

"""``pywats-station login`` and ``logout``: the API token, tried, stored encrypted, bound.

``login`` tries the token before it keeps it, when it knows the server (``--url``,
``$PYWATS_SERVER_URL`` or ``server.url``): one ``GET /api/App/Version`` with the token, through
pywats's client, with a short timeout and no retries. Then:

* the server answers: the token is stored, *confirmed*;
* the server refuses it (401/403): nothing is stored and the exit code is 6, unless ``--force``
  (a token for a server that is being set up, say), which stores it with a warning;
* the server cannot be reached, or answers something else: the token is stored with a warning
  (a station is often set up before its network is);
* no server is known yet: the token is stored, untried.

Then the token is bound to the configured server (:mod:`pywats_station.token_binding`: login is
the confirmation), and a running daemon is told it reconnects with it.
"""

from __future__ import annotations

import argparse
import enum
import getpass
import os
import sys
from dataclasses import dataclass
from typing import Any

from pywats_station._cli_common import CliError, ExitCode, paths_of

__all__ = ["TRY_TIMEOUT", "TokenTrial", "Verdict", "cmd_login", "cmd_logout", "try_token"]

TRY_TIMEOUT = 10.0  # seconds for the one trial request: a person is waiting


class Verdict(enum.Enum):
    """What the server made of a token."""

    CONFIRMED = "confirmed"
    REFUSED = "refused"
    UNTRIED = "untried"  # unreachable, an unexpected answer, or no server known


@dataclass(frozen=True)
class TokenTrial:
    """The outcome of trying a token: the verdict and what to tell the person."""

    verdict: Verdict
    detail: str


def try_token(url: str, token: str, *, access: Any = None) -> TokenTrial:
    """Ask ``url`` for its version with ``token`` (one request, :data:`TRY_TIMEOUT`).

    ``access``: the instance's :class:`~pywats_station.server_access.ServerAccess` (its CA and
    proxy); ``None``: the defaults.
    """
    from pywats import (
        AuthenticationError,
        AuthorizationError,
        HTTPError,
        PyWATSError,
        RetryPolicy,
        TransportError,
        pyWATS,
    )
    from pywats_station.server_access import ServerAccess, explain

    access = access or ServerAccess()
    try:
        with pyWATS(
            url,
            token,
            timeout=TRY_TIMEOUT,
            retry=RetryPolicy(max_attempts=1),
            **access.client_options(),
        ) as api:
            version = api.app.get_version()
    except (AuthenticationError, AuthorizationError) as exc:
        return TokenTrial(Verdict.REFUSED, f"{exc.status}: {exc.message}")
    except TransportError as exc:
        why = explain(exc, access)
        return TokenTrial(Verdict.UNTRIED, why or f"the server cannot be reached ({exc})")
    except HTTPError as exc:
        why = explain(exc, access)
        return TokenTrial(
            Verdict.UNTRIED, why or f"the server answered {exc.status}: {exc.message}"
        )
    except (PyWATSError, ValueError) as exc:  # ValueError: a URL or token httpx cannot send
        return TokenTrial(Verdict.UNTRIED, f"it could not be tried: {exc}")
    return TokenTrial(Verdict.CONFIRMED, f"server version {version}")


def _server(paths: Any, url: str | None) -> tuple[str | None, Any]:
    """The server to try the token on, and how to reach it (CA, proxy)."""
    from pywats_station._cli_proxy import access_of
    from pywats_station.config import URL_ENV, ConfigError, load_config

    try:
        config = load_config(paths.config_file, missing_ok=True)
    except (ConfigError, OSError):
        config = None
    access = access_of(config, paths) if config is not None else None
    if url:
        return url, access
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV], access
    return (config.server.url or None) if config is not None else None, access


def cmd_login(args: argparse.Namespace) -> int:
    """``pywats-station login [--token-stdin] [--url URL] [--force]``."""
    from pywats_station.config import ConfigError, set_server_url
    from pywats_station.secrets import store_token

    paths = paths_of(args)
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = getpass.getpass("API token: ").strip()
    if not token:
        raise CliError("no token given", ExitCode.USAGE)
    url, access = _server(paths, args.url)
    trial = try_token(url, token, access=access) if url else None
    if trial is not None and trial.verdict is Verdict.REFUSED and not args.force:
        raise CliError(
            f"{url} refused the token ({trial.detail}); nothing was stored. Check the token, "
            "or store it anyway with --force",
            ExitCode.AUTH,
        )
    where = store_token(paths, token)
    print(f"token stored encrypted in {where}")
    if trial is None:
        print("not tried: no server is configured yet (server.url, or login --url)")
    elif trial.verdict is Verdict.CONFIRMED:
        print(f"{url} accepted the token ({trial.detail})")
    elif trial.verdict is Verdict.REFUSED:
        print(
            f"pywats-station: warning: {url} refused the token ({trial.detail}); stored anyway "
            "(--force)",
            file=sys.stderr,
        )
    else:
        print(
            f"pywats-station: warning: the token was not tried: {trial.detail}; stored anyway",
            file=sys.stderr,
        )
    if args.url:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            set_server_url(paths.config_file, args.url)
        except ConfigError as exc:
            raise CliError(f"server.url not set:\n{exc}", ExitCode.CONFIG) from exc
        print(f"server.url set to {args.url} in {paths.config_file}")
    _confirm_server(paths)
    _tell_running_daemon(paths)
    return ExitCode.OK


def _confirm_server(paths: Any) -> None:
    """Bind the token to the configured server (``token_binding``): login is the confirmation."""
    from pywats_station.config import URL_ENV, ConfigError, load_config
    from pywats_station.token_binding import bind_origin, read_binding

    try:
        config = load_config(paths.config_file)
    except (ConfigError, OSError):
        return  # no usable config yet: the first start binds the server it names
    url = os.environ.get(URL_ENV) or config.server.url
    if not url or os.environ.get(URL_ENV):
        return  # none yet, or from the environment (always trusted)
    before = read_binding(paths)
    try:
        origin = bind_origin(paths, url)
    except ValueError:
        return
    if before.pending == origin:
        print(f"{url} was set over the control channel; the token is now confirmed for it")
    else:
        print(f"the token is confirmed for {origin}")


def cmd_logout(args: argparse.Namespace) -> int:
    """``pywats-station logout``: delete the stored token."""
    from pywats_station.secrets import delete_token

    paths = paths_of(args)
    delete_token(paths)
    print("stored token deleted")
    _tell_running_daemon(paths)
    return ExitCode.OK


def _tell_running_daemon(paths: Any) -> None:
    """A running daemon notices a changed token or config within seconds: say so."""
    from pywats_station.status import read_status

    snapshot = read_status(paths)
    if snapshot is not None:
        print(f"the running daemon (pid {snapshot.pid}) reconnects with it within a few seconds")

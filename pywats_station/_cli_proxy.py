"""``pywats-station proxy [URL|system|none]``: set or show how the station reaches its server.

A proxy URL with a user (``http://alice@proxy.example:3128``) asks for the password (or reads
it from stdin with ``--password-stdin``), stores it encrypted beside the API token
(:func:`pywats_station.secrets.store_proxy_password`) and writes the URL *without* it into
``server.proxy``, keeping the file's comments. A password typed into the URL on the command
line is taken out the same way. ``system`` and ``none`` delete a stored password.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any
from urllib.parse import urlsplit

from pywats_station._cli_common import CliError, ExitCode, paths_of

__all__ = ["access_of", "cmd_proxy"]


def access_of(config: Any, paths: Any) -> Any:
    """The instance's :class:`~pywats_station.server_access.ServerAccess` (exit 3 if unusable)."""
    from pywats_station.server_access import AccessError, server_access

    try:
        return server_access(config, paths)
    except AccessError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from exc


def _split(url: str) -> tuple[str, str | None]:
    """``url`` without the password of its userinfo, and that password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}@{host}").geturl(), parts.password


def cmd_proxy(args: argparse.Namespace) -> int:
    """``pywats-station proxy [SETTING] [--password-stdin]``."""
    from urllib.parse import unquote

    from pywats_station.config import ConfigError, set_server_value
    from pywats_station.secrets import delete_proxy_password, store_proxy_password
    from pywats_station.server_access import PROXY_NONE, PROXY_SYSTEM, check_proxy

    paths = paths_of(args)
    if args.setting is None:
        from pywats_station._cli_common import load_instance_config

        config = load_instance_config(paths, required=False)
        access = access_of(config, paths)
        print(f"server.proxy = {access.proxy_setting!r}: {access.describe()}")
        return ExitCode.OK
    setting = args.setting.strip()
    problem = check_proxy(setting)
    if problem is not None:
        raise CliError(f"server.proxy {problem}", ExitCode.USAGE)
    password: str | None = None
    if setting not in (PROXY_SYSTEM, PROXY_NONE):
        setting, typed = _split(setting)
        user = urlsplit(setting).username
        if typed is not None:
            password = unquote(typed)
        elif user is not None:
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
            else:
                password = getpass.getpass(f"password of {unquote(user)} on the proxy: ")
            if not password:
                raise CliError("no password given; nothing was changed", ExitCode.USAGE)
    # The password first: a running daemon that sees the new URL finds it there already.
    if password:
        where = store_proxy_password(paths, password)
        print(f"proxy password stored encrypted in {where}")
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        set_server_value(paths.config_file, "proxy", setting)
    except ConfigError as exc:
        raise CliError(f"server.proxy not set:\n{exc}", ExitCode.CONFIG) from exc
    if not password and delete_proxy_password(paths):
        print("the stored proxy password was deleted")
    print(f"server.proxy set to {setting!r} in {paths.config_file}")
    from pywats_station._cli_login import _tell_running_daemon

    _tell_running_daemon(paths)
    return ExitCode.OK

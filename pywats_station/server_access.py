"""How the station reaches its server: which CAs it trusts and which proxy it goes through.

Factory networks put a proxy (often with credentials) between a station and the internet, or
run WATS behind a certificate of a private CA. Both are ``[server]`` keys:

* ``proxy``: ``"system"`` (the default) takes the environment's ``HTTPS_PROXY``/``HTTP_PROXY``/
  ``ALL_PROXY`` and ``NO_PROXY``, as curl, pip and httpx do; ``"none"`` connects directly
  whatever the environment says; a URL (``http://user@proxy.example:3128``) sends every request
  through that proxy. Its password is stored encrypted by ``pywats-station proxy URL``
  (:func:`pywats_station.secrets.store_proxy_password`), never in the file; a password written
  into the URL in the file still works, and is redacted wherever the configuration is shown.
* ``ca_file``: a PEM bundle of the CAs that sign the server's certificate, trusted *instead of*
  the public ones. ``verify_tls = false`` turns checking off altogether (test servers only).

:func:`server_access` turns these into the options of pywats's client, once, for every caller:
the daemon (:meth:`pywats_station.daemon.Station.make_api`), ``login``, ``send-test-report`` and
``diagnose``. :func:`explain` turns the failures these settings cause (an untrusted
certificate, a proxy refusing its credentials) into a sentence that names the key to fix.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from pywats_station.config import StationConfig
    from pywats_station.paths import InstancePaths

__all__ = [
    "PROXY_NONE",
    "PROXY_SYSTEM",
    "AccessError",
    "ServerAccess",
    "check_ca_file",
    "check_proxy",
    "explain",
    "proxy_without_password",
    "server_access",
]

PROXY_SYSTEM = "system"
PROXY_NONE = "none"
_PROXY_SCHEMES = ("http", "https")
_ENV_PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class AccessError(Exception):
    """A ``[server]`` access setting that cannot be used now (the message names the key)."""


def check_proxy(value: str) -> str | None:
    """What is wrong with a ``server.proxy`` value, or ``None`` when it is usable."""
    if value in (PROXY_SYSTEM, PROXY_NONE):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        shown = proxy_without_password(value)
        return f'must be "system", "none" or a proxy URL; got {shown!r} ({exc})'
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
        return (
            'must be "system", "none" or an http:// or https:// proxy URL such as '
            f'"http://proxy.example:3128"; got {proxy_without_password(value)!r}'
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "a proxy URL is scheme://[user@]host:port, without a path or query"
    if any(ch.isspace() for ch in value):
        return "must not contain spaces"
    return None


def check_ca_file(value: str) -> str | None:
    """What is wrong with a ``server.ca_file`` value, or ``None`` when it is usable."""
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        return f"must be an absolute path; got {value!r}"
    try:
        ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        return f"{path} does not exist"
    except PermissionError:
        return f"{path} cannot be read by this user (uid {os.getuid()})"
    except IsADirectoryError:
        return f"{path} is a folder; name the PEM file of the CA bundle"
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"{path} is not a PEM CA bundle ({exc})"
    return None


def proxy_without_password(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***`` (for display)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


@dataclass(frozen=True)
class ServerAccess:
    """The client options one ``[server]`` table and the stored proxy password give.

    Attributes:
        verify: ``True`` (the public CAs), ``False`` (no check) or a context with the private CA.
        proxy: The proxy URL to send through, credentials included (secret: never shown), or
            ``None`` (the environment's, if ``trust_env``; else none).
        trust_env: Whether httpx reads proxies (and ``SSL_CERT_FILE``, ``.netrc``) from the
            environment.
        ca_file: ``server.ca_file``, for messages.
        proxy_setting: ``server.proxy`` as it may be shown (password replaced).
        secrets: Values to keep out of logs (the proxy password).
    """

    verify: bool | ssl.SSLContext = True
    proxy: str | None = None
    trust_env: bool = True
    ca_file: str = ""
    proxy_setting: str = PROXY_SYSTEM
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``pyWATS``/``AsyncWATS``."""
        return {"verify": self.verify, "proxy": self.proxy, "trust_env": self.trust_env}

    def describe(self, env: Mapping[str, str] | None = None) -> str:
        """One line on the route to the server, for people (no password)."""
        environ = os.environ if env is None else env
        if self.proxy_setting == PROXY_SYSTEM:
            found = next((name for name in _ENV_PROXIES if environ.get(name)), None)
            route = (
                f"proxy from ${found} ({proxy_without_password(environ[found])})"
                if found
                else "direct (no proxy in the environment)"
            )
        elif self.proxy_setting == PROXY_NONE:
            route = "direct (server.proxy = none)"
        else:
            route = f"proxy {self.proxy_setting}"
        trust = (
            "TLS not verified (verify_tls = false)"
            if self.verify is False
            else f"CA {self.ca_file}"
            if self.ca_file
            else "public CAs"
        )
        return f"{route}; {trust}"


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    if parts.username is None or parts.password is not None:
        return url  # no user to log in as, or the file's own password wins
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}"
    return parts._replace(netloc=netloc).geturl()


def server_access(config: StationConfig, paths: InstancePaths) -> ServerAccess:
    """The client options for ``config.server``: trust and proxy, credentials resolved.

    Args:
        config: The loaded configuration.
        paths: The instance's paths (the stored proxy password).

    Raises:
        AccessError: ``ca_file`` cannot be loaded now, or the stored proxy password cannot be
            decrypted (each message names the key and the fix).
    """
    from pywats_station.secrets import SecretsError, load_proxy_password

    server = config.server
    verify: bool | ssl.SSLContext = bool(server.verify_tls)
    if server.verify_tls and server.ca_file:
        problem = check_ca_file(server.ca_file)
        if problem is not None:
            raise AccessError(f"server.ca_file: {problem}")
        verify = ssl.create_default_context(cafile=str(Path(server.ca_file).expanduser()))
    setting = server.proxy
    if setting == PROXY_SYSTEM:
        return ServerAccess(verify, None, True, server.ca_file, setting)
    if setting == PROXY_NONE:
        return ServerAccess(verify, None, False, server.ca_file, setting)
    problem = check_proxy(setting)
    if problem is not None:
        raise AccessError(f"server.proxy: {problem}")
    secrets: list[str] = []
    url = setting
    parts = urlsplit(setting)
    if parts.password:
        secrets.append(parts.password)
    elif parts.username is not None:
        try:
            stored = load_proxy_password(paths)
        except SecretsError as exc:
            raise AccessError(f"server.proxy: {exc}") from None
        if stored:
            url = _with_password(setting, stored)
            secrets.append(stored)
    return ServerAccess(
        verify, url, False, server.ca_file, proxy_without_password(setting), tuple(secrets)
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def explain(exc: BaseException, access: ServerAccess | None = None) -> str | None:
    """Say what an access failure means and which setting fixes it; ``None`` when it is not one.

    Recognised: the server's certificate not trusted, a TLS handshake that fails otherwise,
    the proxy refusing its credentials (407), and a proxy that cannot be reached.
    """
    text = " ".join(str(e) for e in _chain(exc))
    status = getattr(exc, "status", None)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        why = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
        if access is not None and access.ca_file:
            return (
                f"the server's TLS certificate is not trusted ({why}): it is not signed by a CA "
                f"in server.ca_file ({access.ca_file}); point server.ca_file at the bundle of "
                "the CA that signed it"
            )
        return (
            f"the server's TLS certificate is not trusted ({why}); if it is signed by a private "
            "CA, set server.ca_file to that CA's PEM bundle"
        )
    if status == 407 or "407 Proxy Authentication Required" in text or " 407 " in f" {text} ":
        return (
            "the proxy refused its credentials (407 Proxy Authentication Required); set the "
            "proxy's user and password with `pywats-station proxy http://USER@HOST:PORT`"
        )
    if access is not None and access.proxy is not None:
        lowered = text.lower()
        if "proxy" in lowered or "connection refused" in lowered or "name or service" in lowered:
            return (
                f"the proxy {access.proxy_setting} cannot be reached or failed ({text}); check "
                "server.proxy"
            )
    if "SSL" in text or "TLS" in text:
        return f"the TLS handshake with the server failed ({text})"
    return None

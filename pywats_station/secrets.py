"""The API token at rest: encrypted storage for ``pywats-station login``, and which token to use.

``store_token`` encrypts the token with Fernet (AES-128-CBC with an HMAC-SHA256, from
``cryptography``) under a random key. The key lives in ``<secrets_dir>/key`` and the encrypted
token in ``<secrets_dir>/token``; both files are mode 0600, the folder 0700, every write is atomic,
and a file that group or others can access is refused when loading.

What this protects against, and what it does not:

* The token is **not in the configuration file**, which gets shown (``config show``), copied,
  backed up, committed and pasted into support tickets; a copy of the config, or of the
  encrypted token file alone, does not reveal the token.
* The token is **not readable by other local users** (file and folder permissions).
* It does **not** protect against root, nor against anyone who can act as the service's own
  user: they can read the key next to the token and decrypt it. Any encryption that is bound
  to the machine without a TPM, a hardware token or an OS keyring that asks for a secret is
  limited this way; the encryption keeps the token out of casual copies, it is not a vault.
  A backup that contains the whole secrets folder contains the token.

Which token the daemon uses (:func:`resolve_token`), first match wins:

1. ``$PYWATS_API_TOKEN``;
2. the systemd credential ``pywats-api-token`` (``LoadCredential=`` in the unit:
   ``$CREDENTIALS_DIRECTORY/pywats-api-token``);
3. ``server.token_file``: a file holding the token, e.g. a systemd credential (``$VARS`` in the
   path are expanded, a relative path is relative to the config file's folder);
4. the token stored by ``pywats-station login``;
5. ``server.token`` in the configuration file (discouraged).

A source that is configured but unusable (missing token file, unreadable or tampered store)
raises :class:`SecretsError` instead of silently falling through to the next one.
"""

from __future__ import annotations

import contextlib
import os
import string
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pywats_station.config import StationConfig
from pywats_station.paths import (
    InstancePaths,
    atomic_write,
    fsync_directory,
    give_to_folder_owner,
)
from pywats_station.token_binding import BINDING_FILE

__all__ = [
    "TOKEN_ENV",
    "SecretsError",
    "delete_proxy_password",
    "delete_token",
    "load_proxy_password",
    "load_token",
    "resolve_token",
    "store_proxy_password",
    "store_token",
    "token_source",
    "token_files",
    "token_status",
]

TOKEN_ENV = "PYWATS_API_TOKEN"
# systemd's LoadCredential=: the folder it names holds one file per credential.
CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"
TOKEN_CREDENTIAL = "pywats-api-token"
KEY_FILE = "key"
TOKEN_FILE = "token"
# The proxy's password has a key of its own: `logout` deletes the token's key, not this one.
PROXY_KEY_FILE = "proxy.key"
PROXY_PASSWORD_FILE = "proxy.password"

_POSIX = sys.platform != "win32"  # Windows relies on the ACLs of the user's profile instead.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class SecretsError(Exception):
    """A stored secret that cannot be used (permissions, corruption, missing file)."""


def _check_private(path: Path, mode: int, *, folder: bool = False) -> None:
    """Refuse a secret that group or others could read (a folder: that they could change)."""
    if not _POSIX:
        return
    loose = mode & (0o022 if folder else 0o077)
    if loose:
        fix = "700" if folder else "600"
        raise SecretsError(
            f"{path} is accessible by other users (mode {mode & 0o777:o}); refusing to use it. "
            f"Restrict it with `chmod {fix} {path}`, and consider the token exposed."
        )


def _read_private(path: Path) -> bytes | None:
    """Read a secret file, checking the permissions of the file actually opened."""
    try:
        # O_NOFOLLOW: a symlink planted in place of the file is not followed elsewhere.
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretsError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as stream:
        _check_private(path, os.fstat(stream.fileno()).st_mode)
        return stream.read()


def _secrets_dir(paths: InstancePaths, *, create: bool) -> Path:
    folder = paths.secrets_dir
    if create:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _POSIX:
            os.chmod(folder, 0o700)  # mkdir's mode is reduced by the umask, never widened.
    elif folder.exists():
        _check_private(folder, folder.stat().st_mode, folder=True)
    return folder


def _create_key(folder: Path, name: str = KEY_FILE) -> bytes:
    """Write a new random key without a moment in which it is readable by others or partial."""
    key = Fernet.generate_key()
    temp = folder / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(key)
            stream.flush()
            os.fsync(stream.fileno())
        give_to_folder_owner(temp)
        os.replace(temp, folder / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    fsync_directory(folder)
    return key


def store_token(paths: InstancePaths, token: str) -> Path:
    """Encrypt and store the API token of an instance (``pywats-station login``).

    An existing valid key is reused; a missing, corrupt or too widely readable one is replaced
    (the token is being rewritten anyway, so nothing depends on the old key).

    Args:
        paths: The instance's paths.
        token: The API token; surrounding whitespace is removed.

    Returns:
        The path of the encrypted token file.

    Raises:
        ValueError: If the token is empty.
    """
    token = token.strip()
    if not token:
        raise ValueError("the token is empty")
    return _store_secret(paths, KEY_FILE, TOKEN_FILE, token)


def _store_secret(paths: InstancePaths, key_file: str, secret_file: str, text: str) -> Path:
    """Encrypt ``text`` into ``secret_file`` with the key in ``key_file`` (made when missing
    or unreadable), both in the instance's secrets folder, private to the folder's owner."""
    folder = _secrets_dir(paths, create=True)
    try:
        key = _read_private(folder / key_file)
        fernet = Fernet(key) if key else None
    except (SecretsError, ValueError):
        fernet = None
    if fernet is None:
        fernet = Fernet(_create_key(folder, key_file))
    target = folder / secret_file
    atomic_write(target, fernet.encrypt(text.encode("utf-8")), mode=0o600)
    give_to_folder_owner(target)
    return target


def load_token(paths: InstancePaths) -> str | None:
    """Decrypt the stored API token of an instance.

    Args:
        paths: The instance's paths.

    Returns:
        The token, or ``None`` if none is stored.

    Raises:
        SecretsError: The files are accessible by others, the key is missing or does not match,
            or the token file was altered.
    """
    folder = _secrets_dir(paths, create=False)
    encrypted = _read_private(folder / TOKEN_FILE)
    if encrypted is None:
        return None
    key = _read_private(folder / KEY_FILE)
    if not key:
        raise SecretsError(
            f"{folder / KEY_FILE} is missing, so the stored token cannot be decrypted; "
            "run `pywats-station login` again"
        )
    try:
        return Fernet(key).decrypt(encrypted).decode("utf-8")
    except (InvalidToken, ValueError):
        raise SecretsError(
            f"the stored token in {folder} cannot be decrypted (key replaced or file altered); "
            "run `pywats-station login` again"
        ) from None


def delete_token(paths: InstancePaths) -> bool:
    """Delete the stored token and its key (``pywats-station logout``).

    Returns:
        Whether a token was stored.
    """
    existed = False
    for name in (TOKEN_FILE, KEY_FILE):
        with contextlib.suppress(FileNotFoundError):
            (paths.secrets_dir / name).unlink()
            existed = existed or name == TOKEN_FILE
    return existed


def token_status(paths: InstancePaths) -> str:
    """Describe the stored token for people (CLI status, the TUI); never the token itself.

    Returns:
        ``"no stored token"``, ``"encrypted token stored in <path> (saved <UTC time>)"``, or
        ``"stored token unusable: <reason>"``.
    """
    target = paths.secrets_dir / TOKEN_FILE
    try:
        if load_token(paths) is None:
            return "no stored token"
        saved = datetime.fromtimestamp(target.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except (SecretsError, OSError) as exc:
        return f"stored token unusable: {exc}"
    return f"encrypted token stored in {target} (saved {saved})"


def _token_file_path(config: StationConfig, paths: InstancePaths, env: Mapping[str, str]) -> Path:
    raw = string.Template(config.server.token_file).safe_substitute(env)
    path = Path(raw).expanduser()
    return path if path.is_absolute() else paths.config_file.parent / path


def token_files(
    config: StationConfig, paths: InstancePaths, env: Mapping[str, str] | None = None
) -> list[Path]:
    """The files whose change can change the resolved token (the daemon watches them).

    The encrypted store (``login``/``logout``) and ``server.token_file`` if configured; the
    configuration file itself is watched anyway.
    """
    # The binding too: `login` confirming a server must reach a running daemon.
    # The proxy's password: `pywats-station proxy` changing only it must reach the daemon too.
    files = [
        paths.secrets_dir / TOKEN_FILE,
        paths.secrets_dir / BINDING_FILE,
        paths.secrets_dir / PROXY_PASSWORD_FILE,
    ]
    if config.server.token_file:
        files.append(_token_file_path(config, paths, os.environ if env is None else env))
    return files


def _read_token_file(config: StationConfig, paths: InstancePaths, env: Mapping[str, str]) -> str:
    path = _token_file_path(config, paths, env)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretsError(f"server.token_file {path}: {exc.strerror}") from None
    if not token:
        raise SecretsError(f"server.token_file {path} is empty")
    return token


def _read_credential(env: Mapping[str, str]) -> str | None:
    """The token systemd passed with ``LoadCredential=``, or ``None`` if it passed none."""
    folder = env.get(CREDENTIALS_ENV, "")
    if not folder:
        return None
    path = Path(folder) / TOKEN_CREDENTIAL
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None  # credentials for something else, not the token
    except OSError as exc:
        raise SecretsError(f"systemd credential {path}: {exc.strerror}") from None
    if not token:
        raise SecretsError(f"systemd credential {path} is empty")
    return token


def _resolve(
    config: StationConfig, paths: InstancePaths, env: Mapping[str, str] | None
) -> tuple[str | None, str]:
    environ = os.environ if env is None else env
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV].strip(), f"environment variable {TOKEN_ENV}"
    credential = _read_credential(environ)
    if credential is not None:
        return credential, f"systemd credential {TOKEN_CREDENTIAL}"
    if config.server.token_file:
        return _read_token_file(config, paths, environ), "server.token_file"
    stored = load_token(paths)
    if stored is not None:
        return stored, f"encrypted token in {paths.secrets_dir / TOKEN_FILE}"
    if config.server.token:
        return config.server.token, "server.token in the configuration file"
    return None, "none"


def resolve_token(
    config: StationConfig, paths: InstancePaths, env: Mapping[str, str] | None = None
) -> str | None:
    """The API token the daemon should use; see the module docstring for the order.

    Args:
        config: The loaded configuration.
        paths: The instance's paths.
        env: Environment (``os.environ`` when ``None``).

    Returns:
        The token, or ``None`` when no source provides one.

    Raises:
        SecretsError: A configured source is unusable (missing token file, refused store).
    """
    return _resolve(config, paths, env)[0]


def token_source(
    config: StationConfig, paths: InstancePaths, env: Mapping[str, str] | None = None
) -> str:
    """Where :func:`resolve_token` would take the token from, for status output (no secret).

    Raises:
        SecretsError: As :func:`resolve_token`.
    """
    return _resolve(config, paths, env)[1]


# --- the proxy's password ---------------------------------------------------------------------


def store_proxy_password(paths: InstancePaths, password: str) -> Path:
    """Encrypt and store the password of ``server.proxy`` (``pywats-station proxy``).

    Stored like the token (its own key, mode 0600, folder 0700), so that the configuration
    file names the proxy and its user but never the password.

    Returns:
        The path of the encrypted password file.

    Raises:
        ValueError: If the password is empty.
    """
    if not password:
        raise ValueError("the proxy password is empty")
    return _store_secret(paths, PROXY_KEY_FILE, PROXY_PASSWORD_FILE, password)


def load_proxy_password(paths: InstancePaths) -> str | None:
    """The stored proxy password, or ``None`` if none is stored.

    Raises:
        SecretsError: As :func:`load_token`, for the proxy's files.
    """
    folder = _secrets_dir(paths, create=False)
    encrypted = _read_private(folder / PROXY_PASSWORD_FILE)
    if encrypted is None:
        return None
    key = _read_private(folder / PROXY_KEY_FILE)
    try:
        return Fernet(key or b"").decrypt(encrypted).decode("utf-8")
    except (InvalidToken, ValueError):  # ValueError: no key, or not a key
        raise SecretsError(
            f"the stored proxy password in {folder} cannot be decrypted (key missing or "
            "replaced, or file altered); set it again with `pywats-station proxy URL`"
        ) from None


def delete_proxy_password(paths: InstancePaths) -> bool:
    """Delete the stored proxy password and its key; returns whether one was stored."""
    existed = False
    for name in (PROXY_PASSWORD_FILE, PROXY_KEY_FILE):
        with contextlib.suppress(FileNotFoundError):
            (paths.secrets_dir / name).unlink()
            existed = existed or name == PROXY_PASSWORD_FILE
    return existed

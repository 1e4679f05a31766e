"""Camera credentials, kept apart from the stream URL and encrypted at rest.

A camera's row holds its URL with the userinfo and every secret parameter replaced by
``***`` (``oversight.redaction.split_url``: exactly what every page and command shows)
and, in ``cameras.credentials``, what was taken out, as a Fernet token (AES-128-CBC
with HMAC-SHA256, from ``cryptography``) under the key ``<data dir>/keys/credentials.key``
(mode 0600 in a 0700 directory; made on the first camera with credentials, never
overwritten). Every recorder node and monitor that opens streams needs a copy of it.

:func:`open_url` is the one way back to the full URL: the recorder, its source probe
and the health monitor call it at the moment they open the stream, and keep it no
longer than the process they hand it to. :func:`scrub` cleans free text with the known
secrets of the cameras it may quote, before it is stored, logged or put in a leaf.
"""

from __future__ import annotations

import contextlib
import os
import secrets as random
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight import redaction
from oversight.bootstrap import System
from oversight.db import models as m
from oversight.errors import ConfigError, InvalidInput

KEY_FILE = "credentials.key"


class Source(Protocol):
    """A camera as the recorder and the monitor get it (``recording.CameraSource``)."""

    @property
    def id(self) -> str: ...
    @property
    def stream_url(self) -> str: ...
    @property
    def credentials(self) -> str | None: ...


def key_path(keys_dir: Path) -> Path:
    return keys_dir / KEY_FILE


def _create_key(keys_dir: Path) -> None:
    """Write a new key unless one exists; atomic, so a concurrent reader or creator
    sees either no key or the whole of one key."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    tmp = keys_dir / f".{KEY_FILE}.{random.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, key_path(keys_dir))  # fails if another process made one first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _fernet(keys_dir: Path, *, create: bool = False) -> Fernet:
    path = key_path(keys_dir)
    if create and not path.exists():
        _create_key(keys_dir)
    try:
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    except FileNotFoundError:
        raise ConfigError(
            f"the camera credentials key {path} does not exist: copy it from the node that "
            "registered the cameras"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the camera credentials key {path}: {exc.strerror}"
        ) from None
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(f"the camera credentials key {path} is readable by others: chmod 600 it")
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigError(f"the camera credentials key {path} is malformed") from None


def seal(keys_dir: Path, found: redaction.StreamSecrets) -> str:
    return _fernet(keys_dir, create=True).encrypt(found.to_json().encode()).decode()


def unseal(keys_dir: Path, token: str) -> redaction.StreamSecrets:
    try:
        return redaction.StreamSecrets.from_json(_fernet(keys_dir).decrypt(token).decode())
    except InvalidToken:
        raise ConfigError(
            f"stored camera credentials do not open with {key_path(keys_dir)}: wrong key"
        ) from None


def with_login(url: str, username: str | None, password: str | None) -> str:
    """``url`` with a username and password given apart from it (``--username``,
    ``--password-file``) put in as its userinfo, percent-encoded."""
    if username is None and password is None:
        return url
    if username is None:
        raise InvalidInput("a stream password needs a username (--username)")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidInput("--username and --password-file need a network stream URL")
    if redaction.split_url(url)[1].userinfo is not None:
        raise InvalidInput("the stream URL already holds credentials: give them only once")
    login = quote(username, safe="")
    if password is not None:
        login += ":" + quote(password, safe="")
    return f"{scheme}://{login}@{rest}"


def store_form(system: System, url: str) -> tuple[str, str | None]:
    """(the URL to store, the sealed credentials or None): what ``cameras`` holds."""
    stored, found = redaction.split_url(url)
    return stored, (seal(system.settings.keys_dir, found) if found else None)


def open_url(system: System, source: Source) -> str:
    """The full stream URL of ``source``, credentials and all: only for opening the
    stream. Never log, store or show it."""
    if source.credentials is None:
        return source.stream_url
    found = unseal(system.settings.keys_dir, source.credentials)
    try:
        return redaction.join_url(source.stream_url, found)
    except ValueError:
        raise ConfigError(
            f"the stored stream URL of camera {source.id} does not match its credentials"
        ) from None


def known_secrets(session: Session, system: System, cameras: Iterable[str] | None) -> list[str]:
    """The secrets of ``cameras`` (None: of every camera) to mask in free text."""
    query = select(m.Camera.credentials).where(m.Camera.credentials.is_not(None))
    if cameras is not None:
        query = query.where(m.Camera.id.in_(sorted(set(cameras))))
    found: list[str] = []
    with session.no_autoflush:  # called while the caller's rows are half built
        tokens = list(session.scalars(query))
    for token in tokens:
        if token is not None:
            found.extend(unseal(system.settings.keys_dir, token).known())
    return found


def scrub(session: Session, system: System, text: str, cameras: Iterable[str] | None) -> str:
    """``text`` fit to store, log or put in a leaf: the one redactor, with the known
    secrets of the cameras it may quote (None: any camera)."""
    with contextlib.suppress(ConfigError):  # no key: the structural rules still apply
        return redaction.scrub(text, known_secrets(session, system, cameras))
    return redaction.scrub(text)

"""CSRF tokens, signed by ``itsdangerous`` with a server secret in ``keys/csrf.key``.

Two kinds, each under its own salt so neither can stand in for the other:

- **session forms**: the signature of the session token's SHA-256. Deterministic (every
  page of a session carries the same token), unknowable without both the session
  token and the server secret;
- **the login form** (finding 17): a timestamped, signed *pre-session* id. ``GET
  /login`` sets the pre-session cookie (``HttpOnly``, ``SameSite=Strict``) and puts the
  signed id in the form; ``POST /login`` accepts only a token the server signed, no
  older than ``login_form_max_age_s``, for the pre-session this browser holds. A page
  elsewhere can neither read that token nor make one, so it cannot log a victim's
  browser in to the attacker's account (login CSRF), even with a cookie it planted.

The secret is 32 random bytes, made on first use with ``O_EXCL`` (mode 0600, in the
0700 keys directory) and refused when others can read it.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
import threading
from pathlib import Path

from fastapi import Request
from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

from oversight.bootstrap import System
from oversight.errors import ConfigError
from oversight.services.auth import token_digest

SECRET_FILE = "csrf.key"  # noqa: S105 (a file name, not a secret)
_SESSION_SALT = "oversight.csrf.session"
_LOGIN_SALT = "oversight.csrf.login"
_CREATE = threading.Lock()


def load_secret(keys_dir: Path) -> bytes:
    """The CSRF secret, created on first use; refused if others can read it."""
    path = keys_dir / SECRET_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made by a concurrent start: read it below
        else:
            try:
                os.write(fd, secrets.token_bytes(32))
                os.fsync(fd)
            finally:
                os.close(fd)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        secret = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the CSRF secret {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise ConfigError(f"the CSRF secret {path} is readable by others: chmod 600 it")
    if len(secret) < 32:
        raise ConfigError(f"the CSRF secret {path} is shorter than 32 bytes: delete it")
    return secret


class CsrfTokens:
    def __init__(self, secret: bytes, login_max_age_s: int) -> None:
        self._session = Signer(secret, salt=_SESSION_SALT)
        self._login = URLSafeTimedSerializer(secret, salt=_LOGIN_SALT)
        self.login_max_age_s = login_max_age_s

    def for_session(self, session_token: str) -> str:
        return self._session.get_signature(token_digest(session_token)).decode("ascii")

    def session_ok(self, session_token: str, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8"), self.for_session(session_token).encode())

    @staticmethod
    def new_presession() -> str:
        return secrets.token_urlsafe(24)

    def for_login(self, presession: str) -> str:
        return self._login.dumps(presession)

    def login_ok(self, presession: str, given: str) -> bool:
        try:
            signed = self._login.loads(given, max_age=self.login_max_age_s)
        except BadSignature:  # also an expired one (SignatureExpired)
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, presession)


def tokens(request: Request) -> CsrfTokens:
    """The app's token maker (made on first use, like ``web/witness.py``'s registry)."""
    state = request.app.state
    found = getattr(state, "csrf_tokens", None)
    if isinstance(found, CsrfTokens):
        return found
    with _CREATE:
        found = getattr(state, "csrf_tokens", None)
        if not isinstance(found, CsrfTokens):
            system: System = state.system
            settings = system.settings
            found = CsrfTokens(load_secret(settings.keys_dir), settings.login_form_max_age_s)
            state.csrf_tokens = found
    return found

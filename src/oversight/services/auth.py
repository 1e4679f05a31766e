"""Authentication: passwords, login sessions, the failed-login back-off.

A login issues a random token (``secrets.token_urlsafe(32)``); only its SHA-256 is
stored, in ``sessions``, with an expiry. Failed logins are counted per user, slowed
(a growing delay before each further attempt) and, after ``MAX_FAILURES``, locked for
``LOCKOUT``; each failure is logged and recorded as a ``person`` leaf with the user id
only. Passwords and tokens are never logged, stored or put in a leaf.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import people as rules
from oversight.domain.people import AuthenticationError, Person, Training
from oversight.services import people

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
_WRONG = "wrong user id or password"


@dataclass(frozen=True)
class Login:
    person: Person
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    # Checked against for unknown user ids, so they take as long as known ones.
    return people.hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return people.hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    system: System, user_id: str, password: str, *, sleep: Sleep = time.sleep
) -> Person:
    """Check a user's password (also for a witness entering their own credentials).

    Raises :class:`AuthenticationError` with one message for an unknown user and a
    wrong password; a locked or disabled account says so.
    """
    now = system.clock.now()
    with system.reads() as s:
        row = s.get(m.User, user_id)
        snapshot = None if row is None else (row.password_hash, row.failed_logins, row.locked_until)
    if snapshot is None:
        # The id is not logged: it may be a password typed into the wrong field.
        _verify(_dummy_hash(), password)
        log.warning("login failed: unknown user id")
        sleep(rules.login_delay(1))
        raise AuthenticationError(_WRONG)
    password_hash, failures, locked = snapshot
    if locked is not None and locked > now:
        log.warning("login refused: user %s is locked until %s", user_id, locked.isoformat())
        raise AuthenticationError(
            f"user {user_id} is locked until {locked.isoformat(timespec='seconds')} after "
            f"{rules.MAX_FAILURES} failed logins: try again later or ask an admin to reset "
            "the password"
        )
    sleep(rules.login_delay(failures))
    if not _verify(password_hash, password):
        count = _count_failure(system, user_id)
        log.warning("login failed: wrong password for user %s (%d in a row)", user_id, count)
        raise AuthenticationError(_WRONG)
    return _succeed(system, user_id, password)


def _count_failure(system: System, user_id: str) -> int:
    with system.sessions.begin() as s:
        row = people.user_row(s, user_id, for_update=True)
        now = system.clock.now()
        row.failed_logins += 1
        row.locked_until = rules.locked_until(row.failed_logins, now)
        details: dict[str, object] = {"failures": row.failed_logins}
        if row.locked_until is not None:
            details["locked_until"] = row.locked_until.isoformat()
        # Whoever tried is not known; the subject is.
        people.record(s, system, "unauthenticated", "login.failed", user_id, details)
        return row.failed_logins


def _succeed(system: System, user_id: str, password: str) -> Person:
    with system.sessions.begin() as s:
        row = people.user_row(s, user_id, for_update=True)
        if row.disabled_at is not None:
            log.warning("login refused: user %s is disabled", user_id)
            raise AuthenticationError(f"user {user_id} is disabled")
        row.failed_logins, row.locked_until = 0, None
        if people.hasher.check_needs_rehash(row.password_hash):
            row.password_hash = people.hasher.hash(password)
        return people.load_person(s, user_id)


def login(
    system: System, user_id: str, password: str, *, sleep: Sleep = time.sleep
) -> tuple[str, Login]:
    """Authenticate and open a session; the token is returned once and never stored."""
    person = authenticate(system, user_id, password, sleep=sleep)
    token = secrets.token_urlsafe(32)
    now = system.clock.now()
    expires = now + rules.SESSION_TTL
    with system.sessions.begin() as s:
        s.add(
            m.LoginSession(
                token_sha256=token_digest(token),
                user_id=user_id,
                created_at=now,
                expires_at=expires,
                revoked_at=None,
            )
        )
        people.record(s, system, user_id, "login", user_id, {"expires_at": expires.isoformat()})
    log.info("user %s logged in until %s", user_id, expires.isoformat())
    return token, Login(person, expires)


def resolve(system: System, token: str) -> Login:
    """The person a session token belongs to; fails closed on anything doubtful."""
    now = system.clock.now()
    with system.reads() as s:
        rows = s.connection().execute(_LOGIN, {"digest": token_digest(token)}).all()
    if not rows or rows[0].revoked_at is not None:
        raise AuthenticationError("the session is not valid (logged out or revoked): log in again")
    first = rows[0]
    if first.expires_at <= now:
        raise AuthenticationError(
            f"the session expired at {first.expires_at.isoformat(timespec='seconds')}: log in again"
        )
    if first.disabled_at is not None:
        raise AuthenticationError(f"user {first.user_id} is disabled")
    trainings = tuple(
        Training(first.user_id, r.trained_on, r.valid_until, tuple(r.topics), r.recorded_by, r.tid)
        for r in rows
        if r.tid is not None
    )
    person = Person(
        id=first.user_id,
        name=first.name,
        roles=tuple(first.roles or ()),
        sites=tuple(first.sites or ()),
        id_doc=first.id_doc,
        disabled=False,
        trainings=trainings,
    )
    return Login(person, first.expires_at)


# Every API request resolves its token: one prebuilt Core statement, one round trip for
# the login, its user and the user's trainings (one row per training).
_LOGIN = (
    select(
        m.LoginSession.expires_at,
        m.LoginSession.revoked_at,
        m.User.id.label("user_id"),
        m.User.name,
        m.User.roles,
        m.User.sites,
        m.User.id_doc,
        m.User.disabled_at,
        m.TrainingRecord.id.label("tid"),
        m.TrainingRecord.trained_on,
        m.TrainingRecord.valid_until,
        m.TrainingRecord.topics,
        m.TrainingRecord.recorded_by,
    )
    .join(m.User, m.User.id == m.LoginSession.user_id)
    .outerjoin(m.TrainingRecord, m.TrainingRecord.user_id == m.User.id)
    .where(m.LoginSession.token_sha256 == bindparam("digest"))
    .order_by(m.TrainingRecord.id)
)


def logout(system: System, token: str) -> str | None:
    """End a session (expired or not); the user id it belonged to, or None if unknown."""
    with system.sessions.begin() as s:
        row = s.get(m.LoginSession, token_digest(token), with_for_update=True)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = system.clock.now()
            people.record(s, system, row.user_id, "logout", row.user_id, {})
        return row.user_id

"""Authentication: passwords, login sessions, the limiter in front of every check.

A login issues a random token (``secrets.token_urlsafe(32)``); only its SHA-256 is
stored, in ``sessions``, with an expiry. Every password check (a login, or a witness
entering their own credentials) goes through ``services.login_guard``: the failure is
reserved atomically before the check, throttled per account and address, slowed per
account, and hashed in a bounded number of slots. An unknown id costs one argon2id
verification against a dummy hash and gets the same answers as a known one. A failure
of a known account is logged and recorded as a ``person`` leaf with the user id only.
Passwords and tokens are never logged, stored or put in a leaf.
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

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select, update

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import people as rules
from oversight.domain.people import AuthenticationError, Person, Training
from oversight.services import login_guard, people
from oversight.services.login_guard import LoginGuard, TooManyAttempts

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
_WRONG = "wrong user id or password"
# The CLI's "address": its throttle is apart from every network address's.
LOCAL = "local"


@dataclass(frozen=True)
class Login:
    person: Person
    expires_at: datetime


@dataclass(frozen=True)
class Attempt:
    """A password check whose failure is reserved; wait ``delay`` s before checking."""

    user_id: str
    address: str
    delay: float


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Checked against for unknown user ids, with the hasher's own cost (finding 7).
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return people.hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def begin(system: System, guard: LoginGuard, user_id: str, address: str) -> Attempt:
    """Steps 2 and 3 of the guard: reserve the failure (or TooManyAttempts), and the
    account's slow-down. The same for ids that exist and ids that do not."""
    with system.sessions.begin() as s:
        earlier = login_guard.reserve(s, guard.limits, user_id, address, system.clock.now())
    return Attempt(user_id, address, guard.limits.slowdown(earlier))


def check(system: System, guard: LoginGuard, attempt: Attempt, password: str) -> Person:
    """Step 4 and the check itself: one argon2id verification in a bounded slot."""
    with system.reads() as s:
        row = s.get(m.User, attempt.user_id)
        password_hash = None if row is None else row.password_hash
    try:
        with guard.hashing():
            ok = _verify(password_hash or _dummy_hash(people.hasher), password)
    except TooManyAttempts:
        _release(system, attempt)  # nothing was checked
        raise
    if password_hash is None:
        # The id is not logged: it may be a password typed into the wrong field.
        log.warning("login failed: unknown user id")
        raise AuthenticationError(_WRONG)
    if not ok:
        count = _count_failure(system, attempt.user_id)
        log.warning(
            "login failed: wrong password for user %s (%d in a row)", attempt.user_id, count
        )
        raise AuthenticationError(_WRONG)
    return _succeed(system, guard, attempt, password, password_hash)


def authenticate(
    system: System,
    user_id: str,
    password: str,
    *,
    client: str = LOCAL,
    guard: LoginGuard | None = None,
    sleep: Sleep = time.sleep,
) -> Person:
    """Check a user's password (also for a witness entering their own credentials).

    Raises :class:`AuthenticationError` with one message for an unknown user and a
    wrong password, :class:`TooManyAttempts` (429) when the guard refuses. ``guard``
    is the app's (``app.state.login_limiter``); a CLI run makes its own."""
    guard = guard or LoginGuard.from_settings(system.settings)
    guard.check_address(client)
    attempt = begin(system, guard, user_id, client)
    sleep(attempt.delay)
    return check(system, guard, attempt, password)


def _release(system: System, attempt: Attempt) -> None:
    with system.sessions.begin() as s:
        login_guard.release(s, attempt.user_id, attempt.address)


_FAILED = (
    update(m.User)
    .where(m.User.id == bindparam("uid"))
    .values(failed_logins=m.User.failed_logins + 1)
    .returning(m.User.failed_logins)
)


def _count_failure(system: System, user_id: str) -> int:
    """The account's consecutive failures (shown to admins), counted atomically."""
    with system.sessions.begin() as s:
        count = int(s.execute(_FAILED, {"uid": user_id}).scalar_one())
        # Whoever tried is not known; the subject is.
        people.record(s, system, "unauthenticated", "login.failed", user_id, {"failures": count})
        return count


def _succeed(
    system: System, guard: LoginGuard, attempt: Attempt, password: str, password_hash: str
) -> Person:
    user_id = attempt.user_id
    rehashed = None
    if people.hasher.check_needs_rehash(password_hash):
        try:
            with guard.hashing():
                rehashed = people.hasher.hash(password)
        except TooManyAttempts:
            pass  # busy: rehashed at a later login
    with system.sessions.begin() as s:
        login_guard.release(s, user_id, attempt.address)
        row = people.user_row(s, user_id, for_update=True)
        if row.disabled_at is not None:
            log.warning("login refused: user %s is disabled", user_id)
            raise AuthenticationError(f"user {user_id} is disabled")
        row.failed_logins, row.locked_until = 0, None
        if rehashed is not None:
            row.password_hash = rehashed
        return people.load_person(s, user_id)


def open_session(system: System, person: Person) -> tuple[str, Login]:
    """A new session for an authenticated person; the token is returned once."""
    token = secrets.token_urlsafe(32)
    now = system.clock.now()
    expires = now + rules.SESSION_TTL
    with system.sessions.begin() as s:
        s.add(
            m.LoginSession(
                token_sha256=token_digest(token),
                user_id=person.id,
                created_at=now,
                expires_at=expires,
                revoked_at=None,
            )
        )
        people.record(s, system, person.id, "login", person.id, {"expires_at": expires.isoformat()})
    log.info("user %s logged in until %s", person.id, expires.isoformat())
    return token, Login(person, expires)


def login(
    system: System,
    user_id: str,
    password: str,
    *,
    client: str = LOCAL,
    guard: LoginGuard | None = None,
    sleep: Sleep = time.sleep,
) -> tuple[str, Login]:
    """Authenticate and open a session; the token is returned once and never stored."""
    person = authenticate(system, user_id, password, client=client, guard=guard, sleep=sleep)
    return open_session(system, person)


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

"""The one limiter in front of every password check (issue 18, findings 6, 7, 13, 14).

Every check, a login through the API, the console or the CLI, or a witness typing their
password for a two-person action, passes, in this order:

1. the **address limit**: at most ``address_attempts`` checks per client address per
   window, any account (``limits``, moving window, in memory: a flood from one address
   is refused before any database work);
2. the **account-and-address throttle**: a failure is *reserved* in ``login_failures``
   by one atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` before the password
   is checked, and refused beyond ``attempts`` per window. Concurrent attempts cannot
   all read "no failures yet" (finding 6), and the throttle stops only that address:
   the owner elsewhere still gets in (finding 13). Unknown ids are counted like known
   ones, so the throttle tells nothing about which exist (finding 7);
3. the **account-wide slow-down**: failures of the account from all addresses in the
   window make every check of it wait (0.25 s doubling, at most ``slowdown_max_s``),
   instead of locking it;
4. the **argon2 bound**: at most ``hash_concurrency`` checks hash at once, at most
   ``hash_queue`` wait (for ``hash_wait_s``) and any further one is a 429 at once,
   without hashing (finding 14).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oversight.config import Settings
from oversight.db import models as m
from oversight.errors import OversightError

_F = m.LoginFailure
SLOWDOWN_STEP_S = 0.25


class TooManyAttempts(OversightError):
    """Refused before the password is checked; ``retry_after`` seconds for the header."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class LoginLimits:
    attempts: int = 5
    window_s: int = 900
    address_attempts: int = 30
    slowdown_max_s: float = 4.0
    hash_concurrency: int = 2
    hash_queue: int = 8
    hash_wait_s: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            attempts=settings.login_attempts,
            window_s=settings.login_window_s,
            address_attempts=settings.login_address_attempts,
            slowdown_max_s=settings.login_slowdown_max_s,
            hash_concurrency=settings.login_argon2_concurrency,
            hash_queue=settings.login_argon2_queue,
            hash_wait_s=settings.login_argon2_wait_s,
        )

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_s)

    def slowdown(self, earlier_failures: int) -> float:
        """Seconds to wait before a check of an account with ``earlier_failures`` in the
        window (from every address)."""
        if earlier_failures <= 0:
            return 0.0
        return min(self.slowdown_max_s, SLOWDOWN_STEP_S * 2.0 ** min(earlier_failures - 1, 16))


def throttled(retry_after: int) -> TooManyAttempts:
    # One message for every id, known or not (finding 7).
    return TooManyAttempts(
        "too many failed logins for this user id from this address: try again in "
        f"{max(1, retry_after)} s",
        retry_after,
    )


class LoginGuard:
    """The per-process state of the limiter (the address window and the argon2 slots);
    the per-account counts live in the database, shared by every process."""

    def __init__(self, limits: LoginLimits | None = None) -> None:
        self.limits = limits or LoginLimits()
        self._item = RateLimitItemPerSecond(self.limits.address_attempts, self.limits.window_s)
        self._window = MovingWindowRateLimiter(MemoryStorage())
        self._slots = threading.BoundedSemaphore(self.limits.hash_concurrency)
        self._waiting = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGuard:
        return cls(LoginLimits.from_settings(settings))

    def check_address(self, client: str) -> None:
        """Step 1: count one check from ``client``; refused beyond the address limit."""
        if self._window.hit(self._item, "login", client):
            return
        reset = self._window.get_window_stats(self._item, "login", client).reset_time
        wait = math.ceil(reset - time.time())
        raise TooManyAttempts(
            f"too many login attempts from this address: try again in {max(1, wait)} s", wait
        )

    # Kept for callers of the former hand-written limiter.
    check = check_address

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Step 4: a slot to run one argon2 check in, or a 429 without hashing."""
        if not self._slots.acquire(blocking=False):
            with self._lock:
                full = self._waiting >= self.limits.hash_queue
                if not full:
                    self._waiting += 1
            if full:
                raise _busy()
            try:
                got = self._slots.acquire(timeout=self.limits.hash_wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise _busy()
        try:
            yield
        finally:
            self._slots.release()


def _busy() -> TooManyAttempts:
    return TooManyAttempts("the server is busy checking other logins: try again in 1 s", 1)


# ---- step 2 and 3: the database counts ----


def _key(user_id: str, address: str) -> tuple[str, str]:
    # The id as typed may be a password typed into the wrong field: only its digest is
    # kept. An address longer than the column (none is) is cut to it.
    digest = hashlib.sha256(b"oversight-login\0" + user_id.encode("utf-8")).hexdigest()
    return digest, address[:64]


def reserve(
    session: Session, limits: LoginLimits, user_id: str, address: str, now: datetime
) -> int:
    """Count one failure of (``user_id``, ``address``) before its check, atomically;
    the account's earlier failures in the window (for the slow-down). Raises
    :class:`TooManyAttempts` when the pair is at its limit (nothing counted then)."""
    key, address = _key(user_id, address)
    cutoff = now - limits.window
    session.execute(delete(_F).where(_F.window_start <= cutoff))  # forgotten failures
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = insert(_F).values(user_key=key, address=address, failures=1, window_start=now)
    stmt = values.on_conflict_do_update(
        index_elements=[_F.user_key, _F.address],
        set_={"failures": _F.failures + 1},
        where=_F.failures < limits.attempts,
    ).returning(_F.failures)
    if session.execute(stmt).first() is None:
        start = session.scalar(
            select(_F.window_start).where(_F.user_key == key, _F.address == address)
        )
        left = (start + limits.window - now).total_seconds() if start else limits.window_s
        raise throttled(math.ceil(left))
    total = session.scalar(select(func.sum(_F.failures)).where(_F.user_key == key))
    return int(total or 1) - 1


def release(session: Session, user_id: str, address: str) -> None:
    """Give back a reservation: the password was right, or it was never checked."""
    key, address = _key(user_id, address)
    pair = (_F.user_key == key, _F.address == address)
    session.execute(update(_F).where(*pair, _F.failures > 0).values(failures=_F.failures - 1))
    session.execute(delete(_F).where(*pair, _F.failures <= 0))

"""Two-person execution of a grant in the console (Art. 17(3)).

The logged-in custodian asks the witness to type their own user id and password on the
same screen, checked through the app's one login limiter like any login
(``api.security.check_password``: throttled per account and address); success opens a
short-lived *execution* of that grant for that browser session. While it is open,
playback and export run through the enforcement point with
``present=[custodian, witness]``, so every use is still checked (grant, training, two
distinct people) and audited there.

Why in memory: an execution is a convenience on top of those checks, not a record (the
ledger holds what was done, by whom). Keeping it in the process means nothing about
it can leak from the database, and a server restart merely asks for the witness again.
Keys are the digest of the custodian's session token and the grant id: another
session, even of the same person, has no execution; logging out ends it as well.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request

from oversight.errors import PermissionDenied
from oversight.services.auth import token_digest

TTL = timedelta(minutes=30)
_CREATE = threading.Lock()


@dataclass(frozen=True)
class Execution:
    grant_id: int
    custodian: str
    witness: str
    opened_at: datetime
    expires_at: datetime


class Executions:
    """Open executions, keyed by (session token digest, grant id)."""

    def __init__(self, ttl: timedelta = TTL) -> None:
        self.ttl = ttl
        self._open: dict[tuple[str, int], Execution] = {}
        self._lock = threading.Lock()

    def open(
        self, token: str, grant_id: int, custodian: str, witness: str, now: datetime
    ) -> Execution:
        run = Execution(grant_id, custodian, witness, now, now + self.ttl)
        with self._lock:
            self._purge(now)
            self._open[(token_digest(token), grant_id)] = run
        return run

    def get(self, token: str, grant_id: int, custodian: str, now: datetime) -> Execution | None:
        with self._lock:
            self._purge(now)
            run = self._open.get((token_digest(token), grant_id))
        return run if run is not None and run.custodian == custodian else None

    def close(self, token: str, grant_id: int) -> None:
        with self._lock:
            self._open.pop((token_digest(token), grant_id), None)

    def _purge(self, now: datetime) -> None:
        for key in [k for k, run in self._open.items() if run.expires_at <= now]:
            del self._open[key]


def executions(request: Request) -> Executions:
    """The app's registry (made on first use: app.py stays generic)."""
    state = request.app.state
    with _CREATE:
        found = getattr(state, "executions", None)
        if not isinstance(found, Executions):
            found = Executions()
            state.executions = found
    return found


def require(
    request: Request, token: str, grant_id: int, custodian: str, now: datetime
) -> Execution:
    """The open execution of this session and grant, or a refusal saying what to do."""
    run = executions(request).get(token, grant_id, custodian, now)
    if run is None:
        raise PermissionDenied(
            f"grant {grant_id} is not being executed in this session: a witness must sign "
            "in on the grant's page first (two people, Art. 17(3))"
        )
    return run

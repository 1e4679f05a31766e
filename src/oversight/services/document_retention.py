"""Documents of refused and withdrawn access requests follow retention: a step of the
retention run (``services/purge.py``) removes them ``document_retention_days`` after the
decision, each removal a ``retention`` leaf ``document.deleted`` written before the
bytes go.

Never removed: a document also attached to a request that is pending or approved
(whose grant may be live, or was executed: a release's documents are evidence of
Art. 17), a document of a request with any grant, or a procedure's document. The
request row keeps each document's SHA-256 (the register), only the bytes go.

Crash safety: under the log's lock (which ``services.access.submit_request`` also takes
to store documents) each file is renamed to ``.removed-<sha256>`` and its leaf
appended in one transaction; the renamed files are unlinked after the commit. A run
that finds renamed files left behind puts them back first, so they are decided again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.services.documents import documents_dir
from oversight.services.recording import utc
from oversight.services.retention import retention_leaf

# Statuses whose documents retention removes; "withdrawn" once requests can be withdrawn.
DISCARDED = ("denied", "withdrawn")
_REMOVED = ".removed-"


@dataclass(frozen=True)
class Removal:
    sha256: str
    requests: tuple[int, ...]
    kinds: tuple[str, ...]


def _restore_leftovers(system: System) -> None:
    directory = documents_dir(system)
    if not directory.is_dir():
        return
    for path in directory.glob(f"{_REMOVED}*"):
        target = directory / path.name.removeprefix(_REMOVED)
        if target.exists():
            path.unlink()
        else:
            path.rename(target)


def _due(session: Session, cutoff: datetime) -> list[Removal]:
    """Documents of requests refused or withdrawn before ``cutoff`` that nothing else
    still needs."""
    granted = set(session.scalars(select(m.AccessGrant.request_id)))
    keep: set[str] = {d for d in session.scalars(select(m.EmergencyProcedure.document_sha256)) if d}
    due: dict[str, list[tuple[int, str]]] = {}
    for row in session.scalars(select(m.AccessRequest).order_by(m.AccessRequest.id)):
        expired = (
            row.status in DISCARDED
            and row.id not in granted
            and row.decided_at is not None
            and utc(row.decided_at) <= cutoff
        )
        for kind, digest in dict(row.documents).items():
            if expired:
                due.setdefault(digest, []).append((row.id, kind))
            else:
                keep.add(digest)
    return [
        Removal(d, tuple(sorted({r for r, _ in uses})), tuple(sorted({k for _, k in uses})))
        for d, uses in sorted(due.items())
        if d not in keep
    ]


def _leaves(
    system: System, actor: Person, removals: Iterable[Removal], days: int
) -> list[dict[str, Any]]:
    return [
        retention_leaf(
            system,
            actor,
            "document.deleted",
            f"document:{r.sha256}",
            {
                "requests": list(r.requests),
                "kinds": list(r.kinds),
                "reason": f"request refused or withdrawn {days} days ago or more "
                "(setting document_retention_days)",
            },
        )
        for r in removals
    ]


def purge_documents(system: System, actor: Person, now: datetime) -> int:
    """Remove the documents due at ``now``; how many went. The caller has checked that
    ``actor`` may run retention."""
    _restore_leftovers(system)
    days = system.settings.document_retention_days
    directory = documents_dir(system)
    try:
        with system.sessions.begin() as session:
            system.ledger.lock(session)
            due = [
                r
                for r in _due(session, now - timedelta(days=days))
                if (directory / r.sha256).exists()
            ]
            if not due:
                return 0
            system.ledger.append(session, _leaves(system, actor, due, days))
            for r in due:
                (directory / r.sha256).rename(directory / f"{_REMOVED}{r.sha256}")
    except BaseException:
        _restore_leftovers(system)  # the leaves were rolled back: the files stay
        raise
    for r in due:
        (directory / f"{_REMOVED}{r.sha256}").unlink(missing_ok=True)
    return len(due)

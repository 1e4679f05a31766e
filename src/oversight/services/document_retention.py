"""Documents of refused and withdrawn access requests follow retention: a step of the
retention run (``services/purge.py``) removes them ``document_retention_days`` after the
decision, each removal a ``retention`` leaf ``document.deleted`` written before the
bytes go.

Never removed: a document also attached to a request that is pending or approved
(whose grant may be live, or was executed: a release's documents are evidence of
Art. 17), a document of a request with any grant, or a procedure's document. The
request row keeps each document's SHA-256 (the register), only the bytes go.

Crash safety: under the log's lock (under which ``services.access.submit_request``
writes again a document removed since it stored it) each leaf is appended and its file renamed to
``.removed-<sha256>-<leaf index>`` in one transaction; the renamed files are unlinked
after the commit. A run that finds renamed files left behind removes those whose leaf
was committed and puts the others back, to be decided again.
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
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
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


def _recorded(system: System, index: int, digest: str) -> bool:
    """Whether leaf ``index`` is the committed removal of ``digest``."""
    with system.reads() as session:
        try:
            leaf = leaves.decode(system.ledger.leaf(session, index).data)
        except (NotFound, InvalidInput):
            return False
    return leaf.get("action") == "document.deleted" and leaf.get("subject") == (
        f"document:{digest}"
    )


def _restore_leftovers(system: System) -> None:
    """Finish what an interrupted run left: ``.removed-<sha256>-<leaf>`` files whose
    leaf was committed go; the others (rolled back) are put back to be decided again."""
    directory = documents_dir(system)
    if not directory.is_dir():
        return
    for path in directory.glob(f"{_REMOVED}*"):
        digest, _, index = path.name.removeprefix(_REMOVED).partition("-")
        target = directory / digest
        if target.exists() or (index.isdigit() and _recorded(system, int(index), digest)):
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
            indexes = system.ledger.append(session, _leaves(system, actor, due, days))
            moved = [
                directory / f"{_REMOVED}{r.sha256}-{i}" for r, i in zip(due, indexes, strict=True)
            ]
            for r, path in zip(due, moved, strict=True):
                (directory / r.sha256).rename(path)
    except BaseException:
        _restore_leftovers(system)  # the leaves were rolled back: the files stay
        raise
    for path in moved:
        path.unlink(missing_ok=True)
    return len(due)

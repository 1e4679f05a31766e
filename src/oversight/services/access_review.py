"""Reviewing access requests (issue 22, item 5): a custodian's inbox, whether a person
may decide a request (so that a page offers Approve and Deny only when the service
would accept them), and a request's documents in words.

Every answer comes from the one policy and the same checks ``services.access`` applies
when the decision is taken; the decision itself is still checked there (and refused
with its leaf): what a page shows is never what it allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import access as rules
from oversight.domain import policy
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import AuthenticationError, InvalidInput, NotFound, RuleViolation
from oversight.services import authz
from oversight.services.access import _check_decider, _request_row, _today
from oversight.services.recording import utc

INBOX_PAGE = 50  # rows per inbox page
_SCAN = 200  # pending rows read per batch while filling a page


@dataclass(frozen=True)
class DocumentView:
    """One document a request carries or lacks, in words, and whether the viewer may
    open it through the audited route."""

    kind: str
    zh: str
    en: str
    cite: str
    sha256: str | None  # None: required but not attached
    may_open: bool

    def words(self, lang: str) -> str:
        return rules.NeededDocument(self.kind, self.zh, self.en, self.cite).words(lang)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": {"zh": self.zh, "en": self.en},
            "article": self.cite,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class InboxItem:
    id: int
    requester_name: str
    organisation: str
    org_class: str
    kind: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    purpose: str
    created_at: datetime
    age: timedelta
    present: tuple[str, ...]  # document kinds attached
    missing: tuple[rules.NeededDocument, ...]  # required now, not attached

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requester_name": self.requester_name,
            "organisation": self.organisation,
            "org_class": self.org_class,
            "kind": self.kind,
            "cameras": list(self.cameras),
            "start": self.start,
            "end": self.end,
            "purpose": self.purpose,
            "created_at": self.created_at,
            "age_s": int(self.age.total_seconds()),
            "documents_present": list(self.present),
            "documents_missing": [d.kind for d in self.missing],
            "href": f"/access/{self.id}",
        }


def _may_decide(s: Session, system: System, actor: Person, row: m.AccessRequest) -> bool:
    """Whether ``services.access.approve`` / ``deny`` would let ``actor`` decide ``row``
    now: pending, the policy's ``access.decide`` in scope, not their own, trained."""
    if row.status != "pending":
        return False
    try:
        _check_decider(s, system, actor, row)
    except (PermissionDenied, RuleViolation, AuthenticationError, NotFound):
        return False
    return True


def may_decide(system: System, actor: Person, request_id: int) -> bool:
    with system.reads() as s:
        return _may_decide(s, system, actor, _request_row(s, request_id))


def _missing(system: System, row: m.AccessRequest) -> tuple[rules.NeededDocument, ...]:
    try:
        _, missing = rules.missing_documents(
            system.packs, row.org_class, row.kind, _today(system), set(row.documents)
        )
    except (RuleViolation, InvalidInput):
        return ()  # the class or kind has no route any more: the decision is refused there
    return missing


def inbox(system: System, actor: Person, *, after: int = 0) -> list[InboxItem]:
    """The pending requests ``actor`` may decide now, oldest first, at most
    :data:`INBOX_PAGE` (``after``: the last id of the previous page). Requests outside
    their scope, their own and those they may not decide never appear."""
    if after < 0:
        raise InvalidInput("after: an inbox page starts after a request id >= 0")
    now = system.clock.now()
    out: list[InboxItem] = []
    with system.reads() as s:
        policy.require(authz.current(s, actor), "access.decide")
        cursor = after
        while len(out) < INBOX_PAGE:
            rows = list(
                s.scalars(
                    select(m.AccessRequest)
                    .where(m.AccessRequest.status == "pending", m.AccessRequest.id > cursor)
                    .order_by(m.AccessRequest.id)
                    .limit(_SCAN)
                )
            )
            if not rows:
                break
            cursor = rows[-1].id
            for row in rows:
                if len(out) < INBOX_PAGE and _may_decide(s, system, actor, row):
                    created = utc(row.created_at)
                    out.append(
                        InboxItem(
                            row.id,
                            row.requester_name,
                            row.organisation,
                            row.org_class,
                            row.kind,
                            tuple(row.cameras),
                            utc(row.start_at),
                            utc(row.end_at),
                            row.purpose,
                            created,
                            now - created,
                            tuple(sorted(row.documents)),
                            _missing(system, row),
                        )
                    )
    return out


def request_documents(system: System, actor: Person, request_id: int) -> list[DocumentView]:
    """The documents of a request the actor may read: those attached, then those the
    rules in force now require but it lacks; each in words, openable or not."""
    with system.reads() as s:
        row = _request_row(s, request_id)
        authz.on_cameras(
            s, actor, "access.read", row.cameras, kind="request", id=row.id, owner=row.requested_by
        )
        person = authz.current(s, actor)
        sites = authz.camera_sites(s, row.cameras)
        target = policy.at_sites("request", row.id, sites, row.requested_by)
        openable = policy.allowed(person, "access.documents", target)
        attached = dict(row.documents)
        missing = _missing(system, row)
    views = []
    for kind, digest in sorted(attached.items()):
        d = rules.describe(system.packs, kind)
        views.append(DocumentView(kind, d.zh, d.en, d.cite, digest, openable))
    views += [DocumentView(d.kind, d.zh, d.en, d.cite, None, False) for d in missing]
    return views


def form_classes(system: System) -> list[tuple[str, tuple[rules.NeededDocument, ...]]]:
    """Each organisation class with an access route under the packs in force today, and
    exactly the documents it must attach (the request form's guide)."""
    today = _today(system)
    out = []
    for org_class in rules.ORG_CLASSES:
        docs = rules.class_documents(system.packs, org_class, today)
        if docs is not None:
            out.append((org_class, docs))
    return out

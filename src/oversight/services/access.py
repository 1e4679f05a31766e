"""Access requests, decisions and grants (Arts. 16-17): one transaction per use case.

The pure rules are in ``domain/access.py``; this module applies them, stores the
attached documents (write-once, under DATA_DIR/documents/<sha256>) and records every
step as an ``access`` leaf: ``request``, ``approve``, ``deny``, ``revoke`` and each
refused attempt (``request.refused``, ``approve.refused``, ...). A refusal writes that
leaf and nothing else. Leaves never carry an identity-document number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import access as rules
from oversight.domain import policy
from oversight.domain.people import (
    PermissionDenied,
    Person,
    check_trained,
    mask_id_doc,
    normalise_id_doc,
)
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.ledger import leaves
from oversight.services import authz
from oversight.services.documents import check_attachments, ensure_document, store_document
from oversight.services.recording import utc

DEFAULT_VALIDITY = timedelta(days=7)
APPROVERS = policy.CUSTODIANS  # who may decide and execute (the policy table says)


@dataclass(frozen=True)
class RequestRec:
    id: int
    kind: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    requester_name: str
    work_id: str
    id_doc_masked: str
    organisation: str
    org_class: str
    purpose: str
    destination: str
    documents: dict[str, str]
    requested_by: str
    created_at: datetime
    status: str
    decided_by: str | None
    decision_note: str | None
    grant: GrantRec | None

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "grant"}
        out["cameras"] = list(self.cameras)
        out["grant"] = None if self.grant is None else self.grant.to_json()
        return out


@dataclass(frozen=True)
class GrantRec:
    id: int
    request_id: int
    kind: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    expires_at: datetime
    approved_by: str
    revoked_at: datetime | None

    def to_domain(self) -> rules.Grant:
        scope = rules.Scope(self.kind, frozenset(self.cameras), self.start, self.end)
        return rules.Grant(
            self.id, self.request_id, scope, self.expires_at, self.revoked_at is not None
        )

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "cameras": list(self.cameras)}


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


def _range(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": leaves.instant(start), "end": leaves.instant(end)}


def access_leaf(
    system: System,
    *,
    actors: Sequence[str],
    action: str,
    target: str,
    purpose: str = "",
    destination: str = "",
    grant: str = "",
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``access`` leaf (ledger/leaves.py ``access``) with optional ``details``."""
    leaf = leaves.access(
        at=system.clock.now(),
        actors=list(actors),
        action=action,
        target=target,
        purpose=purpose,
        destination=destination,
        grant=grant,
    )
    if details:
        leaf["details"] = {k: v for k, v in details.items() if v is not None}
    return leaf


def record_refusal(
    system: System,
    exc: RuleViolation | PermissionDenied,
    *,
    actors: Sequence[str],
    action: str,
    target: str,
    purpose: str = "",
    destination: str = "",
    grant: str = "",
    details: Mapping[str, Any] | None = None,
) -> int:
    """Record a refused attempt as its own leaf, in its own transaction; its index."""
    why: dict[str, Any] = {"reason": exc.message}
    if isinstance(exc, RuleViolation):
        why.update(rule=exc.rule, article=exc.article)
    if isinstance(exc, rules.MissingDocuments):
        why["missing"] = exc.kinds
    leaf = access_leaf(
        system,
        actors=actors,
        action=f"{action}.refused",
        target=target,
        purpose=purpose,
        destination=destination,
        grant=grant,
        details={**(details or {}), **why},
    )
    with system.sessions.begin() as s:
        return system.ledger.append(s, [leaf])[0]


def refuse_unless_allowed(
    system: System, person: Person, action: str, *, verb: str, target: str
) -> None:
    """The role half of the policy for an action on footage or its governance, asked
    before a request is read any further (a route, a form): a refusal is a
    ``<verb>.refused`` leaf of the register (Art. 14(3)), then raised."""
    try:
        with system.reads() as s:
            policy.require(authz.current(s, person), action)
    except PermissionDenied as exc:
        record_refusal(system, exc, actors=[person.id], action=verb, target=target)
        raise


# ---- conversions ----


def _grant_rec(row: m.AccessGrant) -> GrantRec:
    return GrantRec(
        row.id,
        row.request_id,
        row.kind,
        tuple(row.cameras),
        utc(row.start_at),
        utc(row.end_at),
        utc(row.expires_at),
        row.approved_by,
        None if row.revoked_at is None else utc(row.revoked_at),
    )


def _request_rec(row: m.AccessRequest, grant: m.AccessGrant | None) -> RequestRec:
    return RequestRec(
        row.id,
        row.kind,
        tuple(row.cameras),
        utc(row.start_at),
        utc(row.end_at),
        row.requester_name,
        row.work_id,
        mask_id_doc(row.id_doc),
        row.organisation,
        row.org_class,
        row.purpose,
        row.destination,
        dict(row.documents),
        row.requested_by,
        utc(row.created_at),
        row.status,
        row.decided_by,
        row.decision_note,
        None if grant is None else _grant_rec(grant),
    )


def _grant_of(session: Session, request_id: int) -> m.AccessGrant | None:
    return session.scalar(select(m.AccessGrant).where(m.AccessGrant.request_id == request_id))


def _request_row(session: Session, request_id: int, *, for_update: bool = False) -> m.AccessRequest:
    row = session.get(m.AccessRequest, request_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"access request {request_id} does not exist")
    return row


# ---- use cases ----


def submit_request(
    system: System,
    actor: Person,
    *,
    kind: str,
    cameras: Sequence[str],
    start: datetime,
    end: datetime,
    requester_name: str,
    work_id: str,
    id_doc: str,
    organisation: str,
    org_class: str,
    purpose: str,
    destination: str = "",
    documents: Mapping[str, bytes] | None = None,
) -> RequestRec:
    """Record a request; refused (with the article, only a ``request.refused`` leaf
    written) when the packs require a document that is not attached."""
    scope = rules.check_scope(kind, [c.strip() for c in cameras if c.strip()], start, end)
    name = check_text(requester_name, "--requester-name")
    work = check_text(work_id, "--work-id")
    doc = normalise_id_doc(id_doc)
    org = check_text(organisation, "--org")
    why = check_text(purpose, "--purpose")
    where = check_text(destination, "--destination", required=False)
    docs = {k.strip(): v for k, v in (documents or {}).items()}
    cams = sorted(scope.cameras)
    today = _today(system)
    described = {
        "kind": kind,
        "cameras": cams,
        **_range(scope.start, scope.end),
        "requester": name,
        "organisation": org,
        "org_class": org_class,
    }

    def refused(exc: RuleViolation | PermissionDenied, details: Mapping[str, Any]) -> None:
        record_refusal(
            system,
            exc,
            actors=[actor.id],
            action="request",
            target="request:new",
            purpose=why,
            destination=where,
            details=details,
        )

    try:
        with system.reads() as s:
            authz.on_cameras(s, actor, "access.request", cams, kind="request", id="new")
    except PermissionDenied as exc:
        # Before the documents are looked at: an account without the role stores nothing.
        refused(exc, described)
        raise
    kinds = rules.document_kinds(system.packs, org_class, today)
    check_attachments(system, docs, allowed=kinds, who=org_class)
    hashes = {k: hashlib.sha256(v).hexdigest() for k, v in docs.items()}
    summary = {**described, "documents": hashes}
    try:
        allowance = timedelta(seconds=system.settings.access_clock_allowance_s)
        bound = rules.bounds(system.packs, today)
        rules.check_recorded(bound, scope.end, system.clock.now(), allowance)
        # Every missing document and approval at once, in words (issue 22, item 5).
        rules.check_documents(system.packs, org_class, kind, today, hashes)
    except (RuleViolation, PermissionDenied) as exc:
        refused(exc, summary)
        raise
    for data in docs.values():
        store_document(system, data)
    with system.sessions.begin() as s:
        # The retention run removes documents under the log's lock: under it, a document
        # it removed since is written again before the request refers to it.
        system.ledger.lock(s)
        authz.on_cameras(s, actor, "access.request", cams, kind="request", id="new")
        for doc_kind, data in docs.items():
            ensure_document(system, hashes[doc_kind], data)
        row = m.AccessRequest(
            kind=kind,
            cameras=cams,
            start_at=scope.start,
            end_at=scope.end,
            requester_name=name,
            work_id=work,
            id_doc=doc,
            organisation=org,
            org_class=org_class,
            purpose=why,
            destination=where,
            documents=hashes,
            requested_by=actor.id,
            created_at=system.clock.now(),
            leaf_index=-1,
            status="pending",
        )
        s.add(row)
        s.flush()
        leaf = access_leaf(
            system,
            actors=[actor.id],
            action="request",
            target=f"request:{row.id}",
            purpose=why,
            destination=where,
            details=summary,
        )
        row.leaf_index = system.ledger.append(s, [leaf])[0]
        return _request_rec(row, None)


def _refusable(
    system: System,
    actor: Person,
    action: str,
    request_id: int,
    check: Any,
) -> Any:
    """Run ``check(session)`` in a transaction; a RuleViolation or PermissionDenied is
    recorded as ``<action>.refused`` (after the rollback) and re-raised."""
    try:
        with system.sessions.begin() as s:
            return check(s)
    except (RuleViolation, PermissionDenied) as exc:
        with system.reads() as s:
            row = s.get(m.AccessRequest, request_id)
            purpose = row.purpose if row else ""
            destination = row.destination if row else ""
        record_refusal(
            system,
            exc,
            actors=[actor.id],
            action=action,
            target=f"request:{request_id}",
            purpose=purpose,
            destination=destination,
        )
        raise


def _check_pending(row: m.AccessRequest) -> None:
    if row.status != "pending":
        raise RuleViolation(
            f"access request {row.id} was {row.status} already by {row.decided_by}: "
            "a decision is taken once",
            rule="access_decision_once",
            article="Art. 16",
        )


def _check_decider(session: Session, system: System, actor: Person, row: m.AccessRequest) -> None:
    current = authz.on_cameras(
        session, actor, "access.decide", row.cameras, kind="request", id=row.id
    )
    entered_by = session.get(m.User, row.requested_by)
    rules.check_approver(row.requested_by, current.id, current.id_doc, row.id_doc)
    if entered_by is not None:
        rules.check_approver(row.requested_by, current.id, current.id_doc, entered_by.id_doc)
    check_trained(current, system.packs, _today(system))


def approve(
    system: System,
    actor: Person,
    request_id: int,
    *,
    note: str = "",
    valid_for: timedelta = DEFAULT_VALIDITY,
) -> GrantRec:
    """Approve a pending request: a grant with the request's scope, valid ``valid_for``,
    at most the packs' maximum lifetime (refused with an ``approve.refused`` leaf)."""
    if valid_for <= timedelta(0):
        raise InvalidInput("the grant's validity must be positive")
    text = check_text(note, "--note", required=False)

    def check(s: Session) -> GrantRec:
        row = _request_row(s, request_id, for_update=True)
        _check_decider(s, system, actor, row)
        _check_pending(row)
        rules.check_lifetime(rules.bounds(system.packs, _today(system)), valid_for)
        now = system.clock.now()
        grant = m.AccessGrant(
            request_id=row.id,
            kind=row.kind,
            cameras=list(row.cameras),
            start_at=row.start_at,
            end_at=row.end_at,
            expires_at=now + valid_for,
            approved_by=actor.id,
            created_at=now,
            leaf_index=-1,
        )
        s.add(grant)
        s.flush()
        leaf = access_leaf(
            system,
            actors=[actor.id],
            action="approve",
            target=f"request:{row.id}",
            purpose=row.purpose,
            destination=row.destination,
            grant=str(grant.id),
            details={
                "kind": row.kind,
                "cameras": list(row.cameras),
                **_range(utc(row.start_at), utc(row.end_at)),
                "expires_at": leaves.instant(now + valid_for),
                "note": text or None,
            },
        )
        index = system.ledger.append(s, [leaf])[0]
        grant.leaf_index = index
        row.status, row.decided_by, row.decided_at = "approved", actor.id, now
        row.decision_note, row.decision_leaf = text or None, index
        return _grant_rec(grant)

    result: GrantRec = _refusable(system, actor, "approve", request_id, check)
    return result


def deny(system: System, actor: Person, request_id: int, *, reason: str) -> RequestRec:
    why = check_text(reason, "--reason")

    def check(s: Session) -> RequestRec:
        row = _request_row(s, request_id, for_update=True)
        _check_decider(s, system, actor, row)
        _check_pending(row)
        now = system.clock.now()
        leaf = access_leaf(
            system,
            actors=[actor.id],
            action="deny",
            target=f"request:{row.id}",
            purpose=row.purpose,
            destination=row.destination,
            details={"reason": why},
        )
        index = system.ledger.append(s, [leaf])[0]
        row.status, row.decided_by, row.decided_at = "denied", actor.id, now
        row.decision_note, row.decision_leaf = why, index
        return _request_rec(row, None)

    result: RequestRec = _refusable(system, actor, "deny", request_id, check)
    return result


def revoke(system: System, actor: Person, grant_id: int, *, reason: str) -> GrantRec:
    why = check_text(reason, "--reason")
    try:
        with system.reads() as s:
            row = s.get(m.AccessGrant, grant_id)
            if row is None:
                raise NotFound(f"grant {grant_id} does not exist")
            authz.on_cameras(s, actor, "access.revoke", row.cameras, kind="grant", id=grant_id)
    except PermissionDenied as exc:
        record_refusal(
            system,
            exc,
            actors=[actor.id],
            action="revoke",
            target=f"grant:{grant_id}",
            grant=str(grant_id),
        )
        raise
    with system.sessions.begin() as s:
        row = s.get(m.AccessGrant, grant_id, with_for_update=True)
        if row is None:
            raise NotFound(f"grant {grant_id} does not exist")
        authz.on_cameras(s, actor, "access.revoke", row.cameras, kind="grant", id=grant_id)
        if row.revoked_at is not None:
            raise InvalidInput(f"grant {grant_id} was revoked already")
        request = _request_row(s, row.request_id)
        leaf = access_leaf(
            system,
            actors=[actor.id],
            action="revoke",
            target=f"grant:{row.id}",
            purpose=request.purpose,
            destination=request.destination,
            grant=str(row.id),
            details={"reason": why},
        )
        system.ledger.append(s, [leaf])
        row.revoked_at, row.revoked_by, row.revoke_reason = system.clock.now(), actor.id, why
        return _grant_rec(row)


def _sites(session: Session) -> dict[str, str]:
    return dict(session.execute(select(m.Camera.id, m.Camera.site_id)).all())


def list_requests(system: System, actor: Person, status: str | None = None) -> list[RequestRec]:
    """The requests ``actor`` may see (``access.read``: in their scope, or their own)."""
    with system.reads() as s:
        person = authz.current(s, actor)
        sites = _sites(s)
        query = select(m.AccessRequest).order_by(m.AccessRequest.id)
        if status is not None:
            query = query.where(m.AccessRequest.status == status)
        return [
            _request_rec(r, _grant_of(s, r.id))
            for r in s.scalars(query)
            if policy.visible(
                person,
                "access.read",
                [sites.get(c, "") for c in r.cameras],
                owner=r.requested_by,
            )
        ]


def _check_reader(s: Session, actor: Person, row: m.AccessRequest) -> None:
    authz.on_cameras(
        s, actor, "access.read", row.cameras, kind="request", id=row.id, owner=row.requested_by
    )


def get_request(system: System, actor: Person, request_id: int) -> RequestRec:
    with system.reads() as s:
        row = _request_row(s, request_id)
        _check_reader(s, actor, row)
        return _request_rec(row, _grant_of(s, row.id))


def get_grant(system: System, actor: Person, grant_id: int) -> tuple[GrantRec, RequestRec]:
    with system.reads() as s:
        row = s.get(m.AccessGrant, grant_id)
        if row is None:
            raise NotFound(f"grant {grant_id} does not exist")
        request = _request_row(s, row.request_id)
        _check_reader(s, actor, request)
        return _grant_rec(row), _request_rec(request, row)

"""People use cases: accounts, roles, passwords and training records.

Each public function is one transaction. The acting person is passed in (resolved from
a login by ``services/auth.py``) and checked again inside the transaction. Validation,
permissions and the training gate run before anything is written, so a refused action
writes nothing. Ledger leaves carry user ids, roles, sites and dates only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import people as rules
from oversight.domain import policy
from oversight.domain.people import Person, Training
from oversight.errors import AlreadyExists, NotFound
from oversight.ledger import leaves

# argon2id with the library's (RFC 9106 low-memory) defaults; hashes made with older
# parameters are upgraded at the next successful login (services/auth.py).
hasher = PasswordHasher()


def hash_password(password: str) -> str:
    rules.check_password(password)
    return hasher.hash(password)


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


# ---- conversions ----


def to_training(row: m.TrainingRecord) -> Training:
    return Training(
        row.user_id, row.trained_on, row.valid_until, tuple(row.topics), row.recorded_by, row.id
    )


def to_person(row: m.User, trainings: Iterable[m.TrainingRecord] = ()) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        roles=tuple(row.roles or ()),
        sites=tuple(row.sites or ()),
        id_doc=row.id_doc,
        disabled=row.disabled_at is not None,
        trainings=tuple(to_training(t) for t in trainings),
    )


def load_person(session: Session, user_id: str) -> Person:
    row = user_row(session, user_id)
    trainings = session.scalars(
        select(m.TrainingRecord)
        .where(m.TrainingRecord.user_id == user_id)
        .order_by(m.TrainingRecord.id)
    )
    return to_person(row, trainings)


def load_people(session: Session) -> list[Person]:
    by_user: dict[str, list[m.TrainingRecord]] = {}
    for t in session.scalars(select(m.TrainingRecord).order_by(m.TrainingRecord.id)):
        by_user.setdefault(t.user_id, []).append(t)
    return [
        to_person(u, by_user.get(u.id, ()))
        for u in session.scalars(select(m.User).order_by(m.User.id))
    ]


def user_row(session: Session, user_id: str, *, for_update: bool = False) -> m.User:
    row = session.get(m.User, user_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"user {user_id!r} does not exist")
    return row


def _acting(session: Session, actor: Person) -> Person:
    """The actor as stored now (roles or disabled may have changed since login)."""
    return load_person(session, actor.id)


def _manage(session: Session, actor: Person, user_id: str, sites: Sequence[str]) -> Person:
    """The policy's ``people.manage`` on an account scoped to ``sites`` (none: the whole
    deployment, so only an unscoped admin manages it); the actor as stored now."""
    current = _acting(session, actor)
    target = policy.Target("user", user_id, frozenset(sites) if sites else None)
    policy.decide(current, "people.manage", target)
    return current


def site_categories(session: Session, sites: Sequence[str]) -> list[str] | None:
    """Categories of a site scope (None: every site), for the packs' exemptions."""
    if not sites:
        return None
    out = []
    for site_id in sites:
        site = session.get(m.Site, site_id)
        if site is None:
            raise NotFound(f"site {site_id!r} does not exist")
        out.append(site.category)
    return out


def record(
    session: Session,
    system: System,
    actor: str,
    action: str,
    user_id: str,
    details: dict[str, object],
) -> int:
    """Append a ``person`` leaf by ``actor`` in the caller's transaction; its index."""
    values = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items()}
    leaf = leaves.person(
        at=system.clock.now(),
        actor=actor,
        action=action,
        subject=f"user:{user_id}",
        details={k: v for k, v in values.items() if v is not None},
    )
    return system.ledger.append(session, [leaf])[0]


# ---- accounts ----


def add_user(
    system: System,
    actor: Person | None,
    *,
    user_id: str,
    name: str,
    roles: Iterable[str],
    sites: Iterable[str] = (),
    id_doc: str | None,
    password: str,
) -> Person:
    """Add an account. ``actor`` None (or the CLI's host principal) is the bootstrap
    (``oversight init --admin-id``): allowed only while no admin exists, and only for
    an admin account."""
    bootstrap = actor is None or actor.has_role(policy.HOST_ROLE)
    by = "bootstrap" if actor is None else actor.id
    rules.check_user_id(user_id)
    name = rules.check_name(name)
    wanted = rules.check_roles(roles)
    scope = tuple(dict.fromkeys(s.strip() for s in sites if s.strip()))
    doc = rules.normalise_id_doc(id_doc) if id_doc is not None else None
    password_hash = hash_password(password)  # validates first: nothing written if too short
    with system.sessions.begin() as s:
        if bootstrap:
            _check_bootstrap(system, s, wanted)
        else:
            assert actor is not None
            _manage(s, actor, user_id, scope)
        if s.get(m.User, user_id) is not None:
            raise AlreadyExists(f"user {user_id!r} already exists")
        categories = site_categories(s, scope)
        new = Person(user_id, name, wanted, scope, doc)
        if not bootstrap:  # the bootstrap admin cannot have been trained yet
            rules.check_role_grant(new, wanted, system.packs, _today(system), categories)
        s.add(
            m.User(
                id=user_id,
                name=name,
                roles=list(wanted),
                sites=list(scope),
                id_doc=doc,
                password_hash=password_hash,
                failed_logins=0,
                locked_until=None,
                disabled_at=None,
                created_by=by,
                created_at=system.clock.now(),
            )
        )
        s.flush()
        details: dict[str, object] = {"roles": list(wanted), "sites": list(scope)}
        if bootstrap:
            details["bootstrap"] = "first admin"
        record(s, system, by, "user.add", user_id, details)
        return new


def _check_bootstrap(system: System, session: Session, roles: tuple[str, ...]) -> None:
    if roles != ("admin",):
        raise rules.PermissionDenied("the first account must be an admin and nothing else")
    system.ledger.lock(session)  # two concurrent bootstraps: the second sees the first
    for row in session.scalars(select(m.User)):
        if "admin" in (row.roles or ()):
            raise rules.PermissionDenied(
                f"an admin exists already ({row.id}): log in as an admin to add users"
            )


def _visible(person: Person, other: Person) -> bool:
    target = policy.Target("user", other.id, frozenset(other.sites) if other.sites else None)
    return policy.allowed(person, "people.read", target)


def list_users(system: System, actor: Person) -> list[Person]:
    """The accounts ``actor`` may see (``people.read``; a scoped reader: those scoped
    within their sites)."""
    with system.reads() as s:
        current = _acting(s, actor) if not actor.has_role(policy.HOST_ROLE) else actor
        policy.require(current, "people.read")
        return [p for p in load_people(s) if _visible(current, p)]


def get_user(system: System, actor: Person, user_id: str) -> Person:
    """One account, for ``actor``: themselves, or one they may read."""
    with system.reads() as s:
        other = load_person(s, user_id)
        if actor.id == user_id:
            return other
        current = _acting(s, actor)
        target = policy.Target("user", user_id, frozenset(other.sites) if other.sites else None)
        policy.decide(current, "people.read", target)
        return other


def person_by_id(system: System, user_id: str) -> Person:
    """An account as stored now, for the enforcement point and the witness sign-in: the
    person is then decided on by the policy where they take part (not a read for
    someone)."""
    with system.reads() as s:
        return load_person(s, user_id)


def disable_user(system: System, actor: Person, user_id: str) -> Person:
    with system.sessions.begin() as s:
        target = load_person(s, user_id)
        current = _manage(s, actor, user_id, target.sites)
        rules.check_may_disable(current, target)
        row = user_row(s, user_id, for_update=True)
        now = system.clock.now()
        row.disabled_at = now
        revoked = _revoke_sessions(s, user_id, now)
        record(s, system, current.id, "user.disable", user_id, {"sessions_revoked": revoked})
        return load_person(s, user_id)


def set_password(system: System, actor: Person, user_id: str, password: str) -> int:
    """Change a password (one's own, or anyone's as an admin); every session of that
    user ends. Returns how many sessions were ended."""
    password_hash = hash_password(password)
    with system.sessions.begin() as s:
        current = _acting(s, actor)
        if current.id != user_id:
            _manage(s, actor, user_id, load_person(s, user_id).sites)
        rules.check_may_set_password(current, user_id)
        row = user_row(s, user_id, for_update=True)
        now = system.clock.now()
        row.password_hash = password_hash
        # An admin's reset also lifts a lockout.
        row.failed_logins, row.locked_until = 0, None
        revoked = _revoke_sessions(s, user_id, now)
        record(s, system, current.id, "user.passwd", user_id, {"sessions_revoked": revoked})
        return revoked


def _revoke_sessions(session: Session, user_id: str, now: datetime) -> int:
    rows = session.scalars(
        select(m.LoginSession).where(
            m.LoginSession.user_id == user_id, m.LoginSession.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


# ---- roles ----


def grant_role(system: System, actor: Person, user_id: str, role: str) -> Person:
    (wanted,) = rules.check_roles([role])
    with system.sessions.begin() as s:
        target = load_person(s, user_id)
        current = _manage(s, actor, user_id, target.sites)
        rules.check_may_change_roles(current, user_id)
        if target.disabled:
            raise rules.PermissionDenied(f"user {user_id} is disabled")
        if wanted in target.roles:
            raise AlreadyExists(f"user {user_id} has the role {wanted} already")
        categories = site_categories(s, target.sites)
        rules.check_role_grant(target, [wanted], system.packs, _today(system), categories)
        row = user_row(s, user_id, for_update=True)
        row.roles = list(rules.check_roles([*target.roles, wanted]))
        record(
            s, system, current.id, "role.grant", user_id, {"role": wanted, "roles": list(row.roles)}
        )
        return load_person(s, user_id)


def revoke_role(system: System, actor: Person, user_id: str, role: str) -> Person:
    (unwanted,) = rules.check_roles([role])
    with system.sessions.begin() as s:
        target = load_person(s, user_id)
        current = _manage(s, actor, user_id, target.sites)
        rules.check_may_change_roles(current, user_id)
        if unwanted not in target.roles:
            raise NotFound(f"user {user_id} does not have the role {unwanted}")
        row = user_row(s, user_id, for_update=True)
        row.roles = [r for r in target.roles if r != unwanted]
        record(
            s,
            system,
            current.id,
            "role.revoke",
            user_id,
            {"role": unwanted, "roles": list(row.roles)},
        )
        return load_person(s, user_id)


# ---- training ----


def record_training(
    system: System,
    actor: Person,
    *,
    user_id: str,
    trained_on: date,
    valid_until: date,
    topics: Iterable[str],
) -> Training:
    chosen = rules.normalise_topics(topics, rules.known_topics(system.packs))
    rules.check_training_dates(trained_on, valid_until, _today(system))
    with system.sessions.begin() as s:
        _manage(s, actor, user_id, load_person(s, user_id).sites)
        leaf = record(
            s,
            system,
            actor.id,
            "training.record",
            user_id,
            {"trained_on": trained_on, "valid_until": valid_until, "topics": list(chosen)},
        )
        row = m.TrainingRecord(
            user_id=user_id,
            trained_on=trained_on,
            valid_until=valid_until,
            topics=list(chosen),
            recorded_by=actor.id,
            created_at=system.clock.now(),
            leaf_index=leaf,
        )
        s.add(row)
        s.flush()
        return to_training(row)


def list_training(system: System, actor: Person, user_id: str | None = None) -> list[Training]:
    """Training records of the accounts ``actor`` may see."""
    with system.reads() as s:
        current = _acting(s, actor)
        policy.require(current, "people.read")
        seen = {p.id for p in load_people(s) if _visible(current, p)}
        query = select(m.TrainingRecord).order_by(m.TrainingRecord.id)
        if user_id is not None:
            user_row(s, user_id)
            query = query.where(m.TrainingRecord.user_id == user_id)
        return [to_training(r) for r in s.scalars(query) if r.user_id in seen]


def people_with_scope(system: System) -> list[tuple[Person, list[str] | None]]:
    """Every account with the categories of its site scope, for the compliance report."""
    with system.reads() as s:
        return [(p, site_categories(s, p.sites)) for p in load_people(s)]

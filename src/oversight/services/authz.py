"""The policy applied inside a transaction: load the person and the target as stored now,
then ask ``domain.policy.decide``. Every service that reads or writes for someone goes
through here before it touches the target."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.domain.policy import Target
from oversight.errors import NotFound
from oversight.services import people


def current(session: Session, actor: Person) -> Person:
    """The actor as stored now (roles, scope, training or disabled may have changed
    since login); the host and system principals are not accounts and stay as given."""
    if actor.has_role(policy.HOST_ROLE, policy.SYSTEM_ROLE):
        return actor
    return people.load_person(session, actor.id)


def camera_sites(session: Session, cameras: Iterable[str]) -> frozenset[str]:
    """The sites of ``cameras``; an unknown camera is NotFound."""
    wanted = sorted(set(cameras))
    found = dict(
        session.execute(select(m.Camera.id, m.Camera.site_id).where(m.Camera.id.in_(wanted))).all()
    )
    for cam in wanted:
        if cam not in found:
            raise NotFound(f"camera {cam!r} does not exist")
    return frozenset(found.values())


def decide(session: Session, actor: Person, action: str, target: Target) -> Person:
    """The current person, once ``action`` on ``target`` is allowed (else raises)."""
    person = current(session, actor)
    policy.decide(person, action, target)
    return person


def on_cameras(
    session: Session,
    actor: Person,
    action: str,
    cameras: Collection[str],
    *,
    kind: str = "camera",
    id: object = None,
    owner: str | None = None,
) -> Person:
    """Decide ``action`` on a target lying where ``cameras`` are."""
    label = id if id is not None else ",".join(sorted(cameras))
    target = policy.at_sites(kind, label, camera_sites(session, cameras), owner)
    return decide(session, actor, action, target)


def on_site(session: Session, actor: Person, action: str, site_id: str) -> Person:
    if session.get(m.Site, site_id) is None:
        raise NotFound(f"site {site_id!r} does not exist")
    return decide(session, actor, action, policy.at_sites("site", site_id, [site_id]))


def deployment(session: Session, actor: Person, action: str) -> Person:
    """Decide ``action`` on the deployment as a whole (no site)."""
    return decide(session, actor, action, policy.DEPLOYMENT)


def visible_cameras(session: Session, actor: Person, action: str) -> frozenset[str] | None:
    """The cameras whose items ``actor`` may see under ``action`` (None: all); raises
    when the role does not allow the action at all."""
    person = current(session, actor)
    sites = policy.site_filter(person, action)
    if sites is None:
        return None
    return frozenset(
        session.scalars(select(m.Camera.id).where(m.Camera.site_id.in_(sorted(sites))))
    )


def check_cameras(system: System, actor: Person, action: str, cameras: Collection[str]) -> Person:
    """:func:`on_cameras` in a read transaction of its own, for work outside the
    database (a tamper reference, a file) that must be decided before it starts."""
    with system.reads() as session:
        return on_cameras(session, actor, action, cameras)

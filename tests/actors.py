"""Principals for tests that call services directly, as the CLI's host account would
(``domain.policy.host``): the registry and operations, never footage, access decisions,
the register or people (tests of those act as the people of their cast)."""

from __future__ import annotations

from oversight import bootstrap
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.services import people

HOST = policy.host("tester")


def admin(system: bootstrap.System) -> Person:
    """The deployment's first admin (created through the bootstrap if none exists yet),
    for service tests that read what only accounts may read (the register, incidents)."""
    admins = [p for p, _ in people.people_with_scope(system) if p.has_role("admin")]
    if admins:
        return admins[0]
    return people.add_user(
        system,
        None,
        user_id=ADMIN_ID,
        name="Test Admin",
        roles=["admin"],
        id_doc="TADM0001",
        password="test admin password",
    )


ADMIN_ID = "test-admin"

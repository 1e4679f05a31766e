"""The authorization table (domain/policy.py): roles, site scope, owners, the host and
system principals; and docs/people.md shows the table as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.domain import policy
from oversight.domain.people import ROLES, Person
from oversight.errors import AuthenticationError, PermissionDenied

S1 = policy.at_sites("camera", "cam1", ["s1"])
S1_S3 = policy.at_sites("request", 7, ["s1", "s3"])
DOCS = Path(__file__).resolve().parents[2] / "docs" / "people.md"


def person(*roles: str, sites: tuple[str, ...] = ()) -> Person:
    return Person("p", "P", roles, sites)


@pytest.mark.parametrize("action", sorted(policy.TABLE))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_exactly_what_its_row_says(action: str, role: str) -> None:
    rule = policy.TABLE[action]
    want = not rule.roles or role in rule.roles
    assert policy.allowed(person(role), action, S1) is want
    if not want:
        with pytest.raises(PermissionDenied) as caught:
            policy.decide(person(role), action, S1)
        assert caught.value.rule == "role"


@pytest.mark.parametrize("action", sorted(a for a, r in policy.TABLE.items() if r.scoped))
def test_a_scoped_person_acts_only_inside_their_sites(action: str) -> None:
    rule = policy.TABLE[action]
    role = rule.roles[0] if rule.roles else "requester"
    inside, outside = person(role, sites=("s1",)), person(role, sites=("s3",))
    assert policy.allowed(inside, action, S1)
    with pytest.raises(PermissionDenied, match="limited to sites s3") as caught:
        policy.decide(outside, action, S1)
    assert caught.value.rule == "site_scope"
    # All of a target's sites must be in scope, not just one of them.
    assert not policy.allowed(inside, action, S1_S3)
    assert policy.allowed(person(role, sites=("s1", "s3")), action, S1_S3)
    # The deployment as a whole is outside every scope unless the row allows reads.
    assert policy.allowed(inside, action, policy.DEPLOYMENT) is rule.deployment_ok
    # Unscoped: every site.
    assert policy.allowed(person(role), action, S1_S3)


def test_the_owner_of_a_request_sees_it_whatever_their_roles() -> None:
    mine = policy.at_sites("request", 1, ["s1"], owner="p")
    theirs = policy.at_sites("request", 2, ["s1"], owner="q")
    assert policy.allowed(person("requester"), "access.read", mine)
    assert not policy.allowed(person("requester"), "access.read", theirs)
    assert not policy.allowed(person("operator"), "access.decide", mine)  # only reads


def test_host_and_system_get_their_marked_rows_only() -> None:
    host = policy.host("root")
    for action, rule in policy.TABLE.items():
        assert policy.allowed(host, action, S1) is rule.host, action
        assert policy.allowed(policy.SYSTEM, action, S1) is rule.system, action
    # Never footage, access decisions, the register or people.
    for action in ("footage.view", "footage.export", "access.decide", "audit.read"):
        assert not policy.allowed(host, action, S1)


def test_unknown_actions_and_disabled_accounts_fail_closed() -> None:
    with pytest.raises(PermissionDenied, match="unknown action"):
        policy.decide(person("admin"), "registry.delete_everything", S1)
    with pytest.raises(AuthenticationError, match="disabled"):
        policy.decide(Person("x", "X", ("admin",), disabled=True), "registry.read", S1)


def test_site_filter_names_the_scope_or_none_and_refuses_without_the_role() -> None:
    assert policy.site_filter(person("auditor", sites=("s1",)), "audit.read") == {"s1"}
    assert policy.site_filter(person("auditor"), "audit.read") is None
    with pytest.raises(PermissionDenied):
        policy.site_filter(person("operator"), "audit.read")


def test_docs_people_shows_the_table_as_it_is() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("<!-- policy-table")
    table = text[text.index("\n", start) + 1 : text.index("<!-- /policy-table -->")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    want = [f"| `{a}` | {r} | {s} | {w} |" for a, r, s, w in policy.table_rows()]
    assert rows == want, "regenerate the table in docs/people.md from policy.table_rows()"

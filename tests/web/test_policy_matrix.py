"""The policy table through the interfaces: for each role, scoped to the camera's site
(s1) or to another one (s3), and each action below, the API and the CLI give the
allow or deny that ``domain.policy`` gives, and a deny is a 403 naming the policy rule
or a one-line error with exit 2, writing nothing but (for footage governance) its
refused leaf. The expected answer is computed from the table, never written here.

The console's pages are covered by the finding tests (test_authorization_findings);
its forms call the same services, so the decisions are the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight.api.security import LoginLimiter
from oversight.domain import policy
from oversight.domain.people import Person
from tests.conftest import Env
from tests.web.api_data import recent_start, sealed_camera
from tests.web.authz_helpers import LEDGER_TABLES, add_person, add_site
from tests.web.conftest import Web

ROLES = ("admin", "operator", "custodian", "auditor", "witness", "requester")
TARGET = policy.at_sites("camera", "cam1", ["s1"])


def _hold_range() -> dict[str, str]:
    start = recent_start()
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=1)).isoformat()}


# action -> (API call, CLI argv): each acts on camera cam1 at site s1.
Api = Callable[[Any], Any]
CASES: dict[str, tuple[Api, list[str]]] = {
    "registry.read": (
        lambda c: c.get("/api/v1/cameras/cam1"),
        ["cameras", "show", "cam1", "--json"],
    ),
    "registry.write": (
        lambda c: c.post(
            "/api/v1/obstructions",
            json={"camera_id": "cam1", "reported_on": "2026-01-02", "cause": "tree"},
        ),
        [
            "obstructions",
            "report",
            "--camera",
            "cam1",
            "--cause",
            "tree",
            "--date",
            "2026-01-02",
        ],
    ),
    "recordings.read": (
        lambda c: c.get("/api/v1/segments", params={"camera": "cam1"}),
        ["segments", "list", "--camera", "cam1", "--json"],
    ),
    "audit.read": (
        lambda c: c.get("/api/v1/audit", params={"camera": "cam1"}),
        ["audit", "log", "--camera", "cam1", "--json"],
    ),
    "retention.mark": (
        lambda c: c.post(
            "/api/v1/retention/holds", json={"camera": "cam1", "reason": "case", **_hold_range()}
        ),
        [
            "retention",
            "hold",
            "--camera",
            "cam1",
            "--from",
            _hold_range()["start"],
            "--to",
            _hold_range()["end"],
            "--reason",
            "case",
        ],
    ),
}
GOVERNANCE = {"retention.mark"}  # refusals of these are register leaves


def _outside_ledger(env: Env) -> dict[str, int]:
    return {k: v for k, v in env.counts().items() if k not in LEDGER_TABLES}


@pytest.fixture
def people(web: Web, tmp_path: Path) -> dict[str, Person]:
    web.app.state.login_limiter = LoginLimiter(limit=1000)  # a dozen people log in
    sealed_camera(web.system, tmp_path, count=1)
    add_site(web, "s3")
    out = {}
    for n, role in enumerate(ROLES):
        for site in ("s1", "s3"):
            user = f"{role[:4]}{site}"
            add_person(web, user, f"MTX{n:02d}{site.upper()}", role, [site])
            out[user] = Person(user, user, (role,), (site,))
    return out


def test_api_and_cli_answer_as_the_policy_table(
    web: Web, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for user, person in people.items():
        client = web.api(user)
        token = client.headers["Authorization"].split(" ", 1)[1]
        for action, (call, argv) in CASES.items():
            allowed = policy.allowed(person, action, TARGET)
            where = f"{user} {action}"
            before = _outside_ledger(web.env)
            reply = call(client)
            if allowed:
                assert reply.status_code not in (401, 403), (where, reply.text)
            else:
                assert reply.status_code == 403, (where, reply.status_code, reply.text)
                body = reply.json()
                assert body["rule"] in ("policy.role", "policy.site_scope"), (where, body)
                assert _outside_ledger(web.env) == before, where
            monkeypatch.setenv("OVERSIGHT_TOKEN", token)
            before = _outside_ledger(web.env)
            result = web.env.run(*argv)
            denied = "may not" in result.output or "limited to sites" in result.output
            if allowed:
                assert not denied, (where, result.output)
            else:
                assert result.exit_code == 2 and denied, (where, result.output)
                lines = [ln for ln in result.output.splitlines() if ln.strip()]
                assert len(lines) == 1 and lines[0].startswith("error: "), (where, lines)
                assert _outside_ledger(web.env) == before, where
            monkeypatch.delenv("OVERSIGHT_TOKEN")
            checked += 1
    assert checked == len(people) * len(CASES)


def test_refused_governance_is_a_register_leaf_naming_the_person(
    web: Web, people: dict[str, Person]
) -> None:
    from tests.web.authz_helpers import refusals_since, size

    for user, person in people.items():
        for action in GOVERNANCE:
            if policy.allowed(person, action, TARGET):
                continue
            start = size(web.env.url)
            call, _ = CASES[action]
            assert call(web.api(user)).status_code == 403
            assert refusals_since(web.env.url, start, user), (user, action)

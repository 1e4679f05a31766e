"""Every route of the app refuses an anonymous caller (401 with the JSON error shape
on the API, a redirect to the login page on the console), and each role reaches only
the API routes its role set allows.

The enumeration reads the app's own route table, so routes added later are covered
without editing this file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount

from oversight.api.errors import is_api_path
from oversight.domain import policy
from tests.web.conftest import CAST, Web

# Reachable without logging in: the login page and form, and the API's login.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/v1/session")}
PARAM = re.compile(r"\{[^}]+\}")


def _flat(routes: list[BaseRoute]) -> Iterator[Any]:
    try:  # FastAPI >= 0.130 keeps included routers nested; this walks them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists every route flat
        yield from routes
        return
    yield from iter_route_contexts(routes)


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every route; path parameters get a dummy value."""
    out = []
    for route in _flat(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):  # static files: public by design
            continue
        path, methods = route.path, route.methods or set()
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            out.append((method, PARAM.sub("1", path)))
    return out


def test_the_enumeration_sees_the_api_and_the_console(web: Web) -> None:
    found = routes(web.app)
    assert len(found) >= 40
    assert ("GET", "/api/v1/cameras/1") in found and ("GET", "/") in found


def test_every_route_refuses_an_anonymous_caller(web: Web) -> None:
    client = web.client()
    checked = 0
    for method, path in routes(web.app):
        if (method, path) in PUBLIC:
            continue
        reply = client.request(method, path)
        where = f"{method} {path}"
        if is_api_path(path):
            assert reply.status_code == 401, (where, reply.status_code, reply.text[:200])
            assert reply.json() == {"error": "log in first", "rule": None, "article": None}, where
        else:
            assert reply.status_code == 303, (where, reply.status_code, reply.text[:200])
            assert reply.headers["location"].startswith("/login"), where
        checked += 1
    assert checked >= 40


def test_a_forged_or_expired_token_is_401_everywhere_on_the_api(web: Web) -> None:
    client = web.client()
    client.headers["Authorization"] = "Bearer not-a-real-token"
    for method, path in routes(web.app):
        if is_api_path(path) and (method, path) not in PUBLIC:
            assert client.request(method, path).status_code == 401, (method, path)


# Representative routes and the policy action each serves (an empty body is fine: the
# role check comes before validation, so a refused caller sees 403, an allowed one a
# 2xx or a 4xx about the body, never 403). Who may take an action is the policy
# table's (domain/policy.py), not this file's.
MATRIX: list[tuple[str, str, str | None]] = [
    ("GET", "/api/v1/session", None),  # None: anyone logged in
    ("GET", "/api/v1/cameras", "registry.read"),
    ("POST", "/api/v1/cameras", "registry.write"),
    ("DELETE", "/api/v1/cameras/nope?removed=2026-01-01", "registry.write"),
    ("POST", "/api/v1/filings", "registry.write"),
    ("GET", "/api/v1/compliance", "compliance.read"),
    ("GET", "/api/v1/segments", "recordings.read"),
    ("PUT", "/api/v1/retention/keep", "retention.configure"),
    ("POST", "/api/v1/retention/holds", "retention.mark"),
    ("DELETE", "/api/v1/segments/1", "segments.delete"),
    ("POST", "/api/v1/access/requests", "access.request"),
    ("GET", "/api/v1/access/requests", None),  # each sees what the policy shows them
    ("POST", "/api/v1/access/requests/1/approve", "access.decide"),
    ("POST", "/api/v1/grants/1/revoke", "access.revoke"),
    ("GET", "/api/v1/audit", "audit.read"),
    ("GET", "/api/v1/ledger/checkpoints", "ledger.read"),
    ("POST", "/api/v1/ledger/verify?sample=1", "ledger.verify"),
    ("GET", "/api/v1/users", "people.read"),
]


@pytest.mark.parametrize("user", sorted(CAST))
def test_each_role_gets_403_exactly_where_its_roles_do_not_reach(web: Web, user: str) -> None:
    client = web.api(user)
    held = set(web.cast[user].roles)
    for method, path, action in MATRIX:
        reply = client.request(method, path, json={})
        may = action is None or bool(held & set(policy.TABLE[action].roles))
        if may:
            assert reply.status_code not in (401, 403), (user, method, path, reply.text)
        else:
            assert reply.status_code == 403, (user, method, path, reply.status_code)
            assert set(reply.json()) == {"error", "rule", "article"}

"""Helpers of the authorization tests (issue 17): a second site s3 and people scoped to
it, set up through the API as the admin; the ledger read back; row counts that leave
out the ledger (where a refused attempt is expected to leave its leaf)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from oversight.db import models as m
from oversight.ledger.leaves import decode
from tests.conftest import Env
from tests.web.conftest import PW, Web

# The ledger's own tables: a refused attempt on footage or its governance writes a leaf
# (and the checkpoint and register index that follow it); nothing else may change.
LEDGER_TABLES = frozenset({"ledger_leaves", "ledger_checkpoints", "register_times"})
TOPICS = ["skills", "confidentiality"]
# People scoped to site s3 only: user id -> (identity document, role or None).
SCOPED: dict[str, tuple[str, str | None]] = {
    "cust3": ("CUST0003", "custodian"),
    "op3": ("OPER0003", "operator"),
    "aud3": ("AUDI0003", "auditor"),
    "wit3": ("WIT00003", "custodian"),  # a role that may witness: only the site is wrong
}


def yesterday() -> str:
    """A commissioning day that is in the past in every time zone of the packs."""
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def outside_ledger(env: Env) -> dict[str, int]:
    """Rows per table, the ledger's own tables left out."""
    return {k: v for k, v in env.counts().items() if k not in LEDGER_TABLES}


def ledger(url: str) -> list[tuple[int, dict[str, Any]]]:
    """Every leaf of the ledger at ``url``, decoded, as (index, leaf), oldest first."""
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            rows = s.scalars(select(m.LedgerLeaf).order_by(m.LedgerLeaf.idx))
            return [(r.idx, decode(bytes(r.data))) for r in rows]
    finally:
        engine.dispose()


def names(leaf: dict[str, Any], user: str) -> bool:
    """Whether ``leaf`` names ``user`` as (one of) the person(s) who acted."""
    return user in leaf.get("actors", ()) or leaf.get("actor") == user


def refusals_since(url: str, size: int, user: str) -> list[dict[str, Any]]:
    """The ``*.refused`` leaves from index ``size`` on that name ``user``."""
    return [
        leaf
        for idx, leaf in ledger(url)
        if idx >= size and str(leaf.get("action", "")).endswith(".refused") and names(leaf, user)
    ]


def size(url: str) -> int:
    found = ledger(url)
    return found[-1][0] + 1 if found else 0


def add_site(web: Web, site_id: str, owner: str = "acme") -> None:
    """Site ``site_id`` (category school, like s1) registered by the admin."""
    reply = web.api("boss").post(
        "/api/v1/sites",
        json={"id": site_id, "name": f"Site {site_id}", "category": "school", "owner_id": owner},
    )
    assert reply.status_code == 201, reply.text


def add_camera_at(web: Web, camera: str, site: str) -> None:
    """Camera ``camera`` at ``site``, registered by the admin."""
    reply = web.api("boss").post(
        "/api/v1/cameras",
        json={
            "id": camera,
            "site_id": site,
            "placement": "general",
            "coverage": "entrance",
            "stream_url": f"rtsp://127.0.0.1:8554/{camera}",
            "commissioned": yesterday(),
        },
    )
    assert reply.status_code == 201, reply.text


def add_person(
    web: Web, user: str, doc: str, role: str | None, sites: list[str] | None = None
) -> None:
    """A trained account (password PW) with ``role``, limited to ``sites`` (default:
    every site), added by the admin through the API."""
    boss = web.api("boss")
    added = boss.post(
        "/api/v1/users",
        json={
            "id": user,
            "name": user.title(),
            "id_doc": doc,
            "password": PW,
            "roles": [],
            "sites": sites or [],
        },
    )
    assert added.status_code == 201, added.text
    today = datetime.now(UTC).date()
    trained = boss.post(
        "/api/v1/training",
        json={
            "user_id": user,
            "trained_on": (today - timedelta(days=30)).isoformat(),
            "valid_until": (today + timedelta(days=365)).isoformat(),
            "topics": TOPICS,
        },
    )
    assert trained.status_code == 201, trained.text
    if role is not None:
        granted = boss.post(f"/api/v1/users/{user}/roles", json={"role": role})
        assert granted.status_code == 200, granted.text


def add_scoped_people(web: Web, site: str = "s3") -> None:
    """The people of :data:`SCOPED`, each limited to ``site``."""
    for user, (doc, role) in SCOPED.items():
        add_person(web, user, doc, role, [site])


class Cases:
    """Several cases of one finding in one test (one setup): each is checked on its own
    and every failing case is reported, not only the first."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    @contextmanager
    def case(self, name: str) -> Iterator[None]:
        try:
            yield
        except AssertionError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "assertion failed"
            self.failures.append(f"{name}: {first}")

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)

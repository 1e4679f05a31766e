"""/api/v1 people writes (admins only): accounts, roles (gated by training, Art.
14(2)), training records, disabling; identity documents only ever masked."""

from __future__ import annotations

from tests.web.conftest import Web

NEW = {"id": "newbie", "name": "New Person", "id_doc": "NEWB0001", "password": "x" * 16}
TRAINING = {
    "user_id": "newbie",
    "trained_on": "2026-01-01",
    "valid_until": "2030-01-01",
    "topics": ["skills", "confidentiality"],
}


def test_an_admin_adds_trains_and_grants_a_role(web: Web) -> None:
    api = web.api("boss")
    reply = api.post("/api/v1/users", json=NEW)
    assert reply.status_code == 201, reply.text
    assert "NEWB0001" not in reply.text and reply.json()["id_doc_masked"].endswith("0001")
    trained = api.post("/api/v1/training", json=TRAINING)
    assert trained.status_code == 201, trained.text
    granted = api.post("/api/v1/users/newbie/roles", json={"role": "operator"})
    assert granted.status_code == 200 and granted.json()["roles"] == ["operator"]
    revoked = api.delete("/api/v1/users/newbie/roles/operator")
    assert revoked.status_code == 200 and revoked.json()["roles"] == []


def test_a_role_for_an_untrained_person_is_refused_with_its_article(web: Web) -> None:
    api = web.api("boss")
    api.post("/api/v1/users", json=NEW)
    before = web.env.counts()
    reply = api.post("/api/v1/users/newbie/roles", json={"role": "custodian"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["article"] and reply.json()["rule"]
    assert web.env.counts() == before


def test_disabling_an_account_ends_its_sessions(web: Web) -> None:
    cop = web.api("cop")
    assert cop.get("/api/v1/session").status_code == 200
    reply = web.api("boss").post("/api/v1/users/cop/disable")
    assert reply.status_code == 200 and reply.json()["disabled"] is True
    assert cop.get("/api/v1/session").status_code == 401


def test_people_writes_are_for_admins_only_and_bad_input_writes_nothing(web: Web) -> None:
    clients = {u: web.api(u) for u in ("boss", "op", "cust", "aud", "wit", "cop")}
    before = web.env.counts()
    for user, client in clients.items():
        if user != "boss":
            assert client.post("/api/v1/users", json=NEW).status_code == 403, user
            assert client.post("/api/v1/users/wit/disable").status_code == 403, user
    boss = clients["boss"]
    assert boss.post("/api/v1/users", json={**NEW, "id": "bad id"}).status_code == 422
    assert boss.post("/api/v1/users", json={**NEW, "id": "op"}).status_code == 409
    assert boss.post("/api/v1/training", json={**TRAINING, "user_id": "nobody"}).status_code == 404
    late = {**TRAINING, "user_id": "op", "trained_on": "2031-01-01"}
    reply = boss.post("/api/v1/training", json=late)
    assert 400 <= reply.status_code < 500 and "\n" not in reply.json()["error"]
    assert web.env.counts() == before

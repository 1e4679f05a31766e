"""/api/v1 registry: organisations, sites, cameras, obstructions; refused placements
cite their article and write nothing."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Web

ORG = {"id": "acme", "name": "Acme", "kind": "owner"}
SITE = {"id": "s1", "name": "Gate school", "category": "school", "owner_id": "acme"}


def camera(**over: Any) -> dict[str, Any]:
    return {
        "id": "cam1",
        "site_id": "s1",
        "placement": "general",
        "coverage": "entrance",
        "stream_url": "rtsp://admin:secret@10.0.0.5/main",
        "commissioned": "2026-01-05",
        **over,
    }


def setup_site(web: Web) -> None:
    api = web.api("op")
    assert api.post("/api/v1/orgs", json=ORG).status_code == 201
    assert api.post("/api/v1/sites", json=SITE).status_code == 201


def test_an_operator_registers_an_org_site_and_camera_and_reads_them_back(web: Web) -> None:
    setup_site(web)
    api = web.api("op")
    reply = api.post("/api/v1/cameras", json=camera())
    assert reply.status_code == 201, reply.text
    assert reply.json()["stream"] == "rtsp://***@10.0.0.5/main"  # credentials never echoed
    assert [o["id"] for o in api.get("/api/v1/orgs").json()] == ["acme"]
    assert [s["id"] for s in api.get("/api/v1/sites").json()] == ["s1"]
    listed = api.get("/api/v1/cameras").json()
    assert [c["id"] for c in listed] == ["cam1"] and "secret" not in str(listed)
    one = web.api("aud").get("/api/v1/cameras/cam1")
    assert one.status_code == 200 and one.json()["coverage_point"] == "entrance"


def test_a_prohibited_placement_is_422_with_rule_and_article_and_writes_nothing(web: Web) -> None:
    setup_site(web)
    api = web.api("op")
    before = web.env.counts()
    reply = api.post("/api/v1/cameras", json=camera(placement="public_toilet"))
    assert reply.status_code == 422
    body = reply.json()
    assert body["rule"] and body["article"].startswith("Art. 8")
    assert body["article"] in body["error"] and "\n" not in body["error"]
    assert web.env.counts() == before


def test_registry_writes_need_a_registrar(web: Web) -> None:
    clients = {u: web.api(u) for u in ("cust", "aud", "wit", "cop")}  # logins leave leaves
    before = web.env.counts()
    for user, client in clients.items():
        reply = client.post("/api/v1/orgs", json=ORG)
        assert reply.status_code == 403, user
        assert set(reply.json()) == {"error", "rule", "article"}
    assert web.env.counts() == before


def test_registry_reads_are_refused_to_people_without_a_staff_role(web: Web) -> None:
    for user in ("wit", "cop"):
        assert web.api(user).get("/api/v1/cameras").status_code == 403


def test_bad_input_is_a_one_line_4xx_and_writes_nothing(web: Web) -> None:
    setup_site(web)
    before = web.env.counts()
    api = web.api("op")
    cases = [
        (camera(id="bad id!"), 422),
        (camera(commissioned="2099-01-01"), 400),
        (camera(stream_url="ftp://x/y"), 400),
        (camera(site_id="nowhere"), 404),
        (camera(commissioned="not a date"), 422),
    ]
    for payload, status in cases:
        reply = api.post("/api/v1/cameras", json=payload)
        assert reply.status_code == status, (payload, reply.text)
        assert reply.json()["error"] and "\n" not in reply.json()["error"]
    assert api.post("/api/v1/orgs", json=ORG).status_code == 409
    assert web.env.counts() == before


def test_removing_a_camera_records_the_date_once(web: Web) -> None:
    setup_site(web)
    api = web.api("op")
    api.post("/api/v1/cameras", json=camera())
    reply = api.delete("/api/v1/cameras/cam1", params={"removed": "2026-02-01"})
    assert reply.status_code == 200 and reply.json()["removed"] == "2026-02-01"
    before = web.env.counts()
    again = api.delete("/api/v1/cameras/cam1", params={"removed": "2026-02-02"})
    assert again.status_code == 400 and "already removed" in again.json()["error"]
    assert api.delete("/api/v1/cameras/nope", params={"removed": "2026-02-02"}).status_code == 404
    assert web.env.counts() == before


def test_obstructions_are_reported_and_resolved(web: Web) -> None:
    setup_site(web)
    api = web.api("op")
    api.post("/api/v1/cameras", json=camera())
    reply = api.post(
        "/api/v1/obstructions",
        json={"camera_id": "cam1", "reported_on": "2026-01-10", "cause": "tree"},
    )
    assert reply.status_code == 201, reply.text
    oid = reply.json()["id"]
    done = api.post(f"/api/v1/obstructions/{oid}/resolve", json={"resolved_on": "2026-01-12"})
    assert done.status_code == 200 and done.json()["resolved_on"] == "2026-01-12"
    assert web.api("aud").get("/api/v1/obstructions").json()[0]["resolved_on"] == "2026-01-12"
    missing = api.post("/api/v1/obstructions/999/resolve", json={"resolved_on": "2026-01-12"})
    assert missing.status_code == 404

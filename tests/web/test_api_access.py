"""/api/v1 access: requests with base64 documents, approve/deny by custodians (never
the requester), grants and revocation; refusals cite their article."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.web.api_data import SEGMENT, recent_start, sealed_camera
from tests.web.conftest import Web

DOCS = {
    "work_id": b"work id scan",
    "identity_document": b"id card scan",
    "unit_letter": b"letter of the unit",
    "own_agency_head": b"signed approval of the agency head",
}


def payload(**over: Any) -> dict[str, Any]:
    t0 = recent_start()
    return {
        "kind": "copy",
        "cameras": ["cam1"],
        "start": t0.isoformat(),
        "end": (t0 + 2 * SEGMENT).isoformat(),
        "requester_name": "Officer Li",
        "work_id": "PS-1234",
        "id_doc": "COP00001",
        "organisation": "County Police",
        "org_class": "police",
        "purpose": "theft investigation 2026-17",
        "destination": "County Police evidence room",
        "documents": {k: base64.b64encode(v).decode() for k, v in DOCS.items()},
        **over,
    }


def submit(web: Web) -> int:
    reply = web.api("cop").post("/api/v1/access/requests", json=payload())
    assert reply.status_code == 201, reply.text
    request_id: int = reply.json()["id"]
    return request_id


def test_a_request_is_submitted_listed_approved_and_its_grant_revoked(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    request_id = submit(web)
    shown = web.api("aud").get(f"/api/v1/access/requests/{request_id}").json()
    assert shown["status"] == "pending" and set(shown["documents"]) == set(DOCS)
    assert "COP00001" not in str(shown) and shown["id_doc_masked"].endswith("0001")
    pending = web.api("cust").get("/api/v1/access/requests", params={"status": "pending"})
    assert [r["id"] for r in pending.json()] == [request_id]
    grant = web.api("cust").post(
        f"/api/v1/access/requests/{request_id}/approve", json={"note": "ok", "valid_days": 3}
    )
    assert grant.status_code == 200, grant.text
    grant_id = grant.json()["id"]
    both = web.api("aud").get(f"/api/v1/grants/{grant_id}").json()
    assert both["grant"]["approved_by"] == "cust" and both["request"]["status"] == "approved"
    revoked = web.api("appr").post(f"/api/v1/grants/{grant_id}/revoke", json={"reason": "done"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None


def test_a_request_missing_a_required_document_is_422_with_article(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    cop = web.api("cop")
    before = web.env.counts()
    docs = payload()["documents"]
    del docs["unit_letter"]
    reply = cop.post("/api/v1/access/requests", json=payload(documents=docs))
    assert reply.status_code == 422, reply.text
    assert reply.json()["article"] and reply.json()["rule"]
    after = web.env.counts()
    assert after["access_requests"] == before["access_requests"]
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1  # the refusal is logged


def test_bad_documents_and_fields_are_one_line_400s_that_write_nothing(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    cop = web.api("cop")
    before = web.env.counts()
    bad = cop.post("/api/v1/access/requests", json=payload(documents={"unit_letter": "@@not"}))
    assert bad.status_code == 400 and bad.json()["error"] == (
        "document 'unit_letter' is not valid base64"
    )
    naive = cop.post("/api/v1/access/requests", json=payload(start="2026-01-01T00:00:00"))
    assert naive.status_code == 400 and "time zone" in naive.json()["error"]
    kind = cop.post("/api/v1/access/requests", json=payload(kind="steal"))
    assert kind.status_code == 422 and kind.json()["error"].startswith("kind:")
    cam = cop.post("/api/v1/access/requests", json=payload(cameras=["nope"]))
    assert cam.status_code == 404
    assert web.env.counts() == before


def test_deciding_needs_a_custodian_who_is_not_the_requester(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path)
    request_id = submit(web)
    url = f"/api/v1/access/requests/{request_id}/approve"
    clients = {u: web.api(u) for u in ("op", "aud", "wit", "cop")}
    before = web.env.counts()
    for user, client in clients.items():
        assert client.post(url, json={}).status_code == 403, user
        assert (
            client.post(
                f"/api/v1/access/requests/{request_id}/deny", json={"reason": "x"}
            ).status_code
            == 403
        )
    assert web.env.counts()["access_grants"] == before["access_grants"]
    # The list is open to every account; each sees what the policy shows them: the
    # requester their own request, an operator none.
    mine = clients["cop"].get("/api/v1/access/requests").json()
    assert [r["id"] for r in mine] == [request_id]
    assert clients["op"].get("/api/v1/access/requests").json() == []
    assert clients["op"].get(f"/api/v1/access/requests/{request_id}").status_code == 403


def test_a_custodian_cannot_approve_their_own_request(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path)
    cust = web.api("cust")
    mine = cust.post("/api/v1/access/requests", json=payload())
    assert mine.status_code == 201, mine.text
    before = web.env.counts()
    reply = cust.post(f"/api/v1/access/requests/{mine.json()['id']}/approve", json={})
    assert reply.status_code == 422, reply.text
    assert reply.json()["rule"] == "no_self_approval" and reply.json()["article"] == "Art. 16"
    assert web.env.counts()["access_grants"] == before["access_grants"]


def test_a_denied_request_cannot_be_approved_after(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path)
    request_id = submit(web)
    appr = web.api("appr")
    denied = appr.post(f"/api/v1/access/requests/{request_id}/deny", json={"reason": "no basis"})
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    before = web.env.counts()
    again = appr.post(f"/api/v1/access/requests/{request_id}/approve", json={})
    assert 400 <= again.status_code < 500 and "\n" not in again.json()["error"]
    assert web.env.counts()["access_grants"] == before["access_grants"]
    assert appr.get("/api/v1/access/requests/9999").status_code == 404
    assert appr.get("/api/v1/grants/9999").status_code == 404
    assert appr.post("/api/v1/access/requests/1/approve", json={"valid_days": 0}).status_code == 422

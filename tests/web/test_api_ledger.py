"""/api/v1 audit register (JSON and CSV), ledger (key, checkpoints, leaves, proofs,
verify) and people (masked identity documents)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from oversight.ledger import note, proof
from tests.web.api_data import recent_start, sealed_camera
from tests.web.conftest import Web


def test_the_audit_register_filters_by_camera_and_time(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, camera="cam1", count=2)
    sealed_camera(web.system, tmp_path, camera="cam2", count=1)
    api = web.api("aud")
    entries = api.get("/api/v1/audit", params={"camera": "cam1"}).json()
    assert [e["action"] for e in entries] == ["record", "record"]
    assert all(e["cameras"] == ["cam1"] for e in entries)
    assert len(api.get("/api/v1/audit").json()) == 3
    future = (recent_start().replace(year=2099)).isoformat()
    assert api.get("/api/v1/audit", params={"from": future}).json() == []
    naive = api.get("/api/v1/audit", params={"from": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and "time zone" in naive.json()["error"]


def test_the_audit_register_pages_newest_first(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, camera="cam1", count=3)
    api = web.api("aud")
    every = api.get("/api/v1/audit").json()
    assert len(every) == 3
    newest = api.get("/api/v1/audit", params={"limit": 2})
    assert newest.json() == every[1:]  # the newest two, oldest first
    before = newest.headers["x-older-before"]
    assert before == str(every[1]["leaf_index"])
    last = api.get("/api/v1/audit", params={"limit": 2, "before": before})
    assert last.json() == every[:1] and "x-older-before" not in last.headers
    for bad in ({"limit": 0}, {"limit": 10_001}, {"before": -1}, {"before": 2**63}):
        assert api.get("/api/v1/audit", params=bad).status_code == 422, bad


def test_the_audit_csv_is_a_download_with_a_header_row(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    reply = web.api("cust").get("/api/v1/audit.csv", params={"camera": "cam1"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0][:3] == ["leaf_index", "at", "action"] and rows[0][-1] == "details"
    assert len(rows) == 3 and rows[1][2] == "record"


def test_the_audit_register_is_refused_to_operators_and_requesters(web: Web) -> None:
    for user in ("op", "wit", "cop"):
        assert web.api(user).get("/api/v1/audit").status_code == 403
        assert web.api(user).get("/api/v1/audit.csv").status_code == 403


def test_a_proof_from_the_api_verifies_offline_with_the_published_key(
    web: Web, tmp_path: Path
) -> None:
    [seg] = sealed_camera(web.system, tmp_path, count=1)
    api = web.api("aud")
    key = api.get("/api/v1/ledger/pubkey")
    assert key.status_code == 200 and key.headers["content-type"].startswith("text/plain")
    checkpoint = api.get("/api/v1/ledger/checkpoint").text
    size = int(checkpoint.splitlines()[1])
    found = api.get(f"/api/v1/ledger/proof/{seg.leaf_index}").json()
    assert found["size"] == size and found["checkpoint"] == checkpoint
    cp, data = proof.verify(found["tlog_proof"], [note.parse_verifier(key.text.strip())])
    assert cp.size == size and b"cam1" in data
    leaf = api.get(f"/api/v1/ledger/leaves/{seg.leaf_index}").json()
    assert leaf["kind"] == "segment_sealed" and leaf["leaf"]["camera"] == "cam1"
    sizes = [c["size"] for c in api.get("/api/v1/ledger/checkpoints").json()]
    assert sizes == sorted(sizes) and sizes[-1] == size
    before_leaf = max(s for s in sizes if s <= seg.leaf_index)
    older = api.get(f"/api/v1/ledger/proof/{seg.leaf_index}", params={"size": before_leaf})
    assert older.status_code == 404 and "does not cover" in older.json()["error"]
    first = api.get("/api/v1/ledger/proof/0", params={"size": before_leaf}).json()
    assert first["size"] == before_leaf and first["index"] == 0
    assert api.get("/api/v1/ledger/leaves/999999").status_code == 404
    assert api.get("/api/v1/ledger/proof/999999").status_code == 404
    assert api.get("/api/v1/ledger/proof/0", params={"size": 10**9}).status_code == 404


def test_verify_runs_for_auditors_and_is_recorded(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    api = web.api("aud")
    assert api.get("/api/v1/ledger/verify").json() is None
    refused = web.api("op").post("/api/v1/ledger/verify")
    assert refused.status_code == 403
    reply = api.post("/api/v1/ledger/verify")
    assert reply.status_code == 200, reply.text
    assert reply.json()["ok"] is True and reply.json()["segments_checked"] == 2
    latest = web.api("op").get("/api/v1/ledger/verify").json()
    assert latest["ok"] is True and latest["run_by"] == "aud"
    sampled = api.post("/api/v1/ledger/verify", params={"sample": 1}).json()
    assert sampled["sampled"] is True and sampled["segments_checked"] == 1


def test_people_are_listed_with_masked_identity_documents_only(web: Web) -> None:
    api = web.api("aud")
    reply = api.get("/api/v1/users")
    assert reply.status_code == 200
    users = {u["id"]: u for u in reply.json()}
    assert users["cust"]["roles"] == ["custodian"] and users["cust"]["trainings"]
    for doc in ("BOSS0001", "CUST0001", "COP00001"):
        assert doc not in reply.text
    assert users["cust"]["id_doc_masked"].endswith("0001")
    one = web.api("boss").get("/api/v1/users/cop")
    assert one.status_code == 200 and "COP00001" not in one.text
    assert web.api("boss").get("/api/v1/users/nobody").status_code == 404
    training = api.get("/api/v1/training", params={"user": "op"}).json()
    assert [t["user_id"] for t in training] == ["op"]
    for user in ("op", "cust", "wit", "cop"):
        assert web.api(user).get("/api/v1/users").status_code == 403


def test_instants_are_iso_text_never_unix_seconds(web: Web, tmp_path: Path) -> None:
    # pydantic would read 0.0 as 1970-01-01T00:00:00Z; the schema promises ISO 8601 text.
    sealed_camera(web.system, tmp_path, camera="cam1", count=1)
    api = web.api("aud")
    for path, params in (
        ("/api/v1/audit", {"to": "0.0"}),
        ("/api/v1/audit", {"from": "1700000000", "limit": 5}),
        ("/api/v1/segments", {"from": "1e9"}),
        ("/api/v1/compliance", {"day": "0.0"}),
        ("/api/v1/filings/due", {"at": "86400"}),  # midnight of 1970-01-02 to pydantic
    ):
        reply = api.get(path, params=params)
        assert reply.status_code == 422, (path, params, reply.text)
    assert api.get("/api/v1/audit", params={"to": "2099-01-01T00:00:00Z"}).status_code == 200
    from pydantic import ValidationError

    from oversight.api.routers.retention import Range

    body = {"camera": "cam1", "end": "2026-01-02T00:00:00Z", "reason": "riot"}
    with pytest.raises(ValidationError, match="ISO 8601 text"):
        Range.model_validate(body | {"start": 0})
    assert Range.model_validate(body | {"start": "2026-01-01T00:00:00Z"}).start.year == 2026

"""/api/v1 retention: keep-for, marks, holds (second person releases), the plan, and
the refused deletion within retention (Art. 15(2)) that is itself logged."""

from __future__ import annotations

from pathlib import Path

from tests.web.api_data import SEGMENT, recent_start, sealed_camera
from tests.web.conftest import Web


def _range(reason: str = "incident 42") -> dict[str, str]:
    t0 = recent_start()
    return {
        "camera": "cam1",
        "start": t0.isoformat(),
        "end": (t0 + 2 * SEGMENT).isoformat(),
        "reason": reason,
    }


def test_keep_for_marks_and_holds_show_in_the_state(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    assert web.api("op").put("/api/v1/retention/keep", json={"days": 90}).status_code == 200
    cust = web.api("cust")
    mark = cust.post("/api/v1/retention/marks", json=_range())
    assert mark.status_code == 201, mark.text
    hold = cust.post("/api/v1/retention/holds", json=_range("court order"))
    assert hold.status_code == 201 and hold.json()["by"] == "cust"
    state = web.api("aud").get("/api/v1/retention").json()
    assert [(p["scope"], p["days"]) for p in state["keep_for"]] == [("*", 90)]
    assert [m["reason"] for m in state["marks"]] == ["incident 42"]
    assert [h["reason"] for h in state["holds"]] == ["court order"]


def test_a_keep_for_below_the_legal_minimum_is_refused_with_its_article(web: Web) -> None:
    api = web.api("op")
    before = web.env.counts()
    reply = api.put("/api/v1/retention/keep", json={"days": 5})
    assert reply.status_code == 422, reply.text
    assert reply.json()["article"] and reply.json()["rule"]
    assert web.env.counts() == before


def test_a_hold_is_released_only_by_a_second_person(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    cust, appr = web.api("cust"), web.api("appr")
    hold_id = cust.post("/api/v1/retention/holds", json=_range()).json()["id"]
    before = web.env.counts()
    alone = cust.post(f"/api/v1/retention/holds/{hold_id}/release", json={"reason": "done"})
    assert alone.status_code == 400 and "second person" in alone.json()["error"]
    assert web.env.counts() == before
    done = appr.post(f"/api/v1/retention/holds/{hold_id}/release", json={"reason": "done"})
    assert done.status_code == 200 and done.json()["released_by"] == "appr"
    missing = appr.post("/api/v1/retention/holds/9999/release", json={"reason": "x"})
    assert missing.status_code == 404


def test_deleting_a_segment_within_retention_is_422_with_art_15_2_and_logged(
    web: Web, tmp_path: Path
) -> None:
    [seg] = sealed_camera(web.system, tmp_path, count=1)
    api = web.api("cust")
    before = web.env.counts()
    reply = api.delete(f"/api/v1/segments/{seg.id}", params={"reason": "tidy up"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["article"] == "Art. 15(2)" and reply.json()["rule"]
    after = web.env.counts()
    assert after["segments"] == before["segments"]
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1  # the refusal is a leaf
    live = api.get("/api/v1/segments").json()
    assert [s["id"] for s in live] == [seg.id] and live[0]["deleted_at"] is None


def test_retention_writes_are_refused_to_the_wrong_roles(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    clients = {u: web.api(u) for u in ("op", "aud", "wit", "cop")}
    before = web.env.counts()
    for user, client in clients.items():
        assert client.post("/api/v1/retention/holds", json=_range()).status_code == 403, user
        assert client.delete("/api/v1/segments/1", params={"reason": "x"}).status_code == 403
    for user in ("cust", "aud", "wit", "cop"):
        assert web.api(user).put("/api/v1/retention/keep", json={"days": 90}).status_code == 403
    assert web.env.counts()["retention_holds"] == before["retention_holds"]
    assert web.env.counts()["retention_policies"] == before["retention_policies"]


def test_bad_ranges_are_refused_and_write_nothing(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    api = web.api("cust")
    before = web.env.counts()
    naive = {**_range(), "start": "2026-01-01T00:00:00"}
    reply = api.post("/api/v1/retention/marks", json=naive)
    assert reply.status_code == 400 and "time zone" in reply.json()["error"]
    backwards = {**_range(), "start": _range()["end"], "end": _range()["start"]}
    assert api.post("/api/v1/retention/marks", json=backwards).status_code == 400
    assert api.post("/api/v1/retention/marks", json={**_range(), "reason": ""}).status_code == 422
    unknown = api.post("/api/v1/retention/holds", json={**_range(), "camera": "nope"})
    assert unknown.status_code == 404
    assert web.env.counts() == before


def test_the_plan_lists_nothing_expired_for_fresh_footage(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    api = web.api("aud")
    plan = api.get("/api/v1/retention/plan").json()
    assert plan["segments"] == 2 and plan["expired"] == 0 and plan["decisions"] == []
    everything = api.get("/api/v1/retention/plan", params={"all": "true"}).json()
    assert [d["expired"] for d in everything["decisions"]] == [False, False]
    far = api.get("/api/v1/retention/plan", params={"at": "2099-01-01T00:00:00Z"}).json()
    assert far["expired"] == 2
    naive = api.get("/api/v1/retention/plan", params={"at": "2099-01-01T00:00:00"})
    assert naive.status_code == 400

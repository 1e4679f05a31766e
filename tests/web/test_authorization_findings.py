"""Issue 17, found items 1, 2, 3, 5 and 6, through the API and the console: a person
scoped to site s3 acts on nothing of site s1; the requester never counts as the second
person; operators do not read the access register through the ledger; who sees an
access request is the same everywhere; every refusal about footage is a leaf.

Each refusal is a 403 (API) or a 403 page (console) that writes nothing but, where it
concerns footage or its governance, its own ``*.refused`` leaf naming who acted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oversight.api.security import LoginLimiter
from oversight.services.sealing import SealedSegment, seal_file
from tests.web.api_data import SEGMENT, recent_start, sealed_camera
from tests.web.authz_helpers import (
    Cases,
    add_camera_at,
    add_person,
    add_scoped_people,
    add_site,
    ledger,
    names,
    outside_ledger,
    refusals_since,
    size,
    yesterday,
)
from tests.web.conftest import PW, Web
from tests.web.footage_helpers import T0, seal
from tests.web.test_api_access import payload

EN = {"accept-language": "en"}
PURPOSE = "theft investigation 2026-17"
DESTINATION = "County Police evidence room"


@dataclass(frozen=True)
class Sites:
    """cam1 at s1 and cam3 at s3, each with sealed footage; the SCOPED people at s3."""

    s1: list[SealedSegment]
    s3: list[SealedSegment]


@pytest.fixture
def sites(web: Web, tmp_path: Path) -> Sites:
    s1 = sealed_camera(web.system, tmp_path)
    add_site(web, "s3")
    add_camera_at(web, "cam3", "s3")
    path = tmp_path / "cam3-0.mp4"
    path.write_bytes(b"segment cam3 0" * 10)
    t0 = recent_start()
    s3 = [seal_file(web.system, camera="cam3", path=path, start=t0, end=t0 + SEGMENT)]
    add_scoped_people(web)
    return Sites(s1, s3)


def request_for(web: Web, camera: str = "cam1", user: str = "cop", **over: Any) -> int:
    """A request for ``camera`` entered through the API by ``user``; its id."""
    reply = web.api(user).post("/api/v1/access/requests", json=payload(cameras=[camera], **over))
    assert reply.status_code == 201, reply.text
    request_id: int = reply.json()["id"]
    return request_id


def grant_for(web: Web, request_id: int, by: str = "cust") -> int:
    reply = web.api(by).post(
        f"/api/v1/access/requests/{request_id}/approve", json={"note": "ok", "valid_days": 3}
    )
    assert reply.status_code == 200, reply.text
    grant_id: int = reply.json()["id"]
    return grant_id


def hold_on(web: Web, camera: str = "cam1", by: str = "cust") -> int:
    t0 = recent_start()
    reply = web.api(by).post(
        "/api/v1/retention/holds",
        json={
            "camera": camera,
            "start": t0.isoformat(),
            "end": (t0 + 2 * SEGMENT).isoformat(),
            "reason": "court order 17",
        },
    )
    assert reply.status_code == 201, reply.text
    hold_id: int = reply.json()["id"]
    return hold_id


def hold_state(web: Web, hold_id: int) -> dict[str, Any]:
    state = web.api("boss").get("/api/v1/retention")
    assert state.status_code == 200, state.text
    [hold] = [h for h in state.json()["holds"] if h["id"] == hold_id]
    return hold  # type: ignore[no-any-return]


def refused(web: Web, reply: Any, before: dict[str, int], since: int, user: str) -> None:
    """A 403 that wrote nothing outside the ledger and left a refused leaf naming ``user``."""
    assert reply.status_code == 403, f"expected 403, got {reply.status_code}: {reply.text[:300]}"
    assert outside_ledger(web.env) == before, "the refused attempt wrote rows"
    assert refusals_since(web.env.url, since, user), f"no *.refused leaf names {user}"


def denied_only(web: Web, reply: Any, before: dict[str, int]) -> None:
    """A 403 that wrote nothing outside the ledger (registry: no refused leaf required)."""
    assert reply.status_code == 403, f"expected 403, got {reply.status_code}: {reply.text[:300]}"
    assert outside_ledger(web.env) == before, "the refused attempt wrote rows"


# ---- Finding 1: site scope, API ----------------------------------------------------------


@pytest.mark.parametrize(("decision", "body"), [("approve", {}), ("deny", {"reason": "no"})])
def test_f1_an_s3_custodian_cannot_decide_a_request_for_an_s1_camera(
    web: Web, sites: Sites, decision: str, body: dict[str, str]
) -> None:
    """Finding 1: a custodian scoped to s3 approved (or denied) a request for a camera at
    s1. Expected: 403, no grant, the request still pending, a refused leaf."""
    request_id = request_for(web)
    client = web.api("cust3")
    client.get("/api/v1/session")  # logged in before the counts
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = client.post(f"/api/v1/access/requests/{request_id}/{decision}", json=body)
    refused(web, reply, before, since, "cust3")
    assert web.api("aud").get(f"/api/v1/access/requests/{request_id}").json()["status"] == (
        "pending"
    )


def test_f1_an_s3_custodian_cannot_revoke_an_s1_grant(web: Web, sites: Sites) -> None:
    """Finding 1: a custodian scoped to s3 revoked a grant for s1 footage. Expected: 403,
    the grant still in force, a refused leaf naming them."""
    grant_id = grant_for(web, request_for(web))
    client = web.api("cust3")
    client.get("/api/v1/session")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = client.post(f"/api/v1/grants/{grant_id}/revoke", json={"reason": "not mine"})
    refused(web, reply, before, since, "cust3")
    shown = web.api("aud").get(f"/api/v1/grants/{grant_id}").json()
    assert shown["grant"]["revoked_at"] is None


def test_f1_an_s3_custodian_cannot_release_a_legal_hold_on_s1_footage(
    web: Web, sites: Sites
) -> None:
    """Finding 1: a custodian scoped to s3 released a legal hold on s1 footage (which
    lets retention delete it). Expected: 403, the hold still on, a refused leaf."""
    hold_id = hold_on(web)
    client = web.api("cust3")
    client.get("/api/v1/session")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = client.post(f"/api/v1/retention/holds/{hold_id}/release", json={"reason": "lift"})
    refused(web, reply, before, since, "cust3")
    assert hold_state(web, hold_id)["released_at"] is None


def test_f1_an_s3_operator_cannot_register_a_camera_at_s1(web: Web, sites: Sites) -> None:
    """Finding 1: an operator scoped to s3 registered a camera at site s1. Expected: 403
    and no camera."""
    client = web.api("op3")
    client.get("/api/v1/session")
    before = outside_ledger(web.env)
    reply = client.post(
        "/api/v1/cameras",
        json={
            "id": "cam9",
            "site_id": "s1",
            "placement": "general",
            "coverage": "entrance",
            "stream_url": "rtsp://127.0.0.1:8554/cam9",
            "commissioned": yesterday(),
        },
    )
    denied_only(web, reply, before)
    assert web.api("boss").get("/api/v1/cameras/cam9").status_code == 404


def test_f1_an_s3_operator_cannot_report_an_obstruction_on_an_s1_camera(
    web: Web, sites: Sites
) -> None:
    """Finding 1: an operator scoped to s3 reported an obstruction on a camera at s1.
    Expected: 403 and no obstruction recorded."""
    client = web.api("op3")
    client.get("/api/v1/session")
    before = outside_ledger(web.env)
    reply = client.post(
        "/api/v1/obstructions",
        json={"camera_id": "cam1", "reported_on": yesterday(), "cause": "advert"},
    )
    denied_only(web, reply, before)
    assert web.api("boss").get("/api/v1/obstructions").json() == []


def test_f1_an_s3_auditor_reads_nothing_of_s1_through_the_api(web: Web, sites: Sites) -> None:
    """Finding 1: an auditor scoped to s3 read s1's segments, audit entries and access
    requests. Expected: lists filtered to s3 (cam3 still shown), s1 items 403 or 404."""
    s1_request = request_for(web)
    s1_grant = grant_for(web, s1_request)
    s3_request = request_for(web, "cam3")
    aud3 = web.api("aud3")

    segments = aud3.get("/api/v1/segments")
    assert segments.status_code == 200, segments.text
    cams = {s["camera"] for s in segments.json()}
    assert "cam1" not in cams, f"an s3 auditor listed s1 segments: {sorted(cams)}"
    assert "cam3" in cams
    only = aud3.get("/api/v1/segments", params={"camera": "cam1"})
    assert only.status_code in (403, 404) or only.json() == [], only.text

    audit = aud3.get("/api/v1/audit")
    assert audit.status_code == 200, audit.text
    entries = audit.json()
    s1_entries = [
        e for e in entries if "cam1" in e["cameras"] or e["target"] == f"request:{s1_request}"
    ]
    assert s1_entries == [], f"an s3 auditor read {len(s1_entries)} s1 audit entries"
    assert any("cam3" in e["cameras"] for e in entries)

    listed = aud3.get("/api/v1/access/requests")
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()] == [s3_request]
    assert aud3.get(f"/api/v1/access/requests/{s1_request}").status_code in (403, 404)
    assert aud3.get(f"/api/v1/grants/{s1_grant}").status_code in (403, 404)


# ---- Finding 1: site scope, console ----------------------------------------------------


def _approve(web: Web) -> tuple[str, str, dict[str, str]]:
    return "cust3", f"/access/{request_for(web)}/approve", {"note": "", "valid_days": "3"}


def _revoke(web: Web) -> tuple[str, str, dict[str, str]]:
    return "cust3", f"/grants/{grant_for(web, request_for(web))}/revoke", {"reason": "x"}


def _release(web: Web) -> tuple[str, str, dict[str, str]]:
    return "cust3", f"/retention/holds/{hold_on(web)}/release", {"reason": "lift"}


def _camera(web: Web) -> tuple[str, str, dict[str, str]]:
    form = {
        "camera_id": "cam9",
        "site_id": "s1",
        "placement": "general",
        "coverage": "entrance",
        "stream_url": "rtsp://127.0.0.1:8554/cam9",
        "commissioned": yesterday(),
    }
    return "op3", "/registry/cameras", form


def _obstruction(web: Web) -> tuple[str, str, dict[str, str]]:
    form = {"camera_id": "cam1", "reported_on": yesterday(), "cause": "advert"}
    return "op3", "/registry/obstructions", form


CONSOLE_ACTS = {  # act -> (set up, governs footage: a refused leaf is expected)
    "approve": (_approve, True),
    "revoke": (_revoke, True),
    "release-hold": (_release, True),
    "add-camera": (_camera, False),
    "report-obstruction": (_obstruction, False),
}


def test_f1_the_console_refuses_s3_people_acting_on_s1(web: Web, sites: Sites) -> None:
    """Finding 1 in the console: an s3-scoped custodian approves, revokes or releases a
    hold on s1; an s3-scoped operator registers a camera at s1 or reports an
    obstruction on an s1 camera. Expected, for each: a 403 page, nothing written, and
    for the footage decisions a refused leaf naming them."""
    clients = {user: web.console(user) for user in ("cust3", "op3")}
    cases = Cases()
    for act, (make, governs_footage) in CONSOLE_ACTS.items():
        with cases.case(act):
            user, url, form = make(web)
            before, since = outside_ledger(web.env), size(web.env.url)
            reply = clients[user].submit(url, form, headers=EN)
            if governs_footage:
                refused(web, reply, before, since, user)
            else:
                denied_only(web, reply, before)
    cases.check()


def test_f1_an_s3_auditor_reads_nothing_of_s1_in_the_console(web: Web, sites: Sites) -> None:
    """Finding 1 in the console: the s3 auditor's request list, register and recordings
    show nothing of s1; an s1 request's page is 403 or 404."""
    s1_request = request_for(web)
    s3_request = request_for(web, "cam3")
    aud3 = web.console("aud3")
    listed = aud3.get("/access", headers=EN)
    assert listed.status_code == 200
    assert f'id="request-{s1_request}"' not in listed.text, "an s3 auditor lists an s1 request"
    assert f'id="request-{s3_request}"' in listed.text
    assert aud3.get(f"/access/{s1_request}", headers=EN).status_code in (403, 404)
    register = aud3.get("/audit", headers=EN)
    assert register.status_code == 200
    assert "cam1" not in register.text, "an s3 auditor reads s1 entries of the register"
    recordings = aud3.get("/recordings", headers=EN)
    assert recordings.status_code == 200
    assert "cam1" not in recordings.text, "an s3 auditor sees s1 recordings"
    assert aud3.get("/recordings/cam1", headers=EN).status_code in (403, 404)


def test_f1_a_witness_scoped_to_s3_is_not_accepted_for_s1_footage(web: Web, sites: Sites) -> None:
    """Finding 1: a witness limited to s3 was accepted as the second person for s1
    footage. Expected: refused (403, or 422 under the two-person rule), a refused leaf
    naming the custodian, and no execution open (no footage served)."""
    grant_id = grant_for(web, request_for(web), by="appr")
    cust = web.console("cust")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = cust.submit(
        f"/grants/{grant_id}/witness", {"witness": "wit3", "witness_password": PW}, headers=EN
    )
    assert reply.status_code in (403, 422), (
        f"a witness scoped to s3 was accepted for s1: {reply.status_code}"
    )
    assert outside_ledger(web.env) == before
    assert refusals_since(web.env.url, since, "cust"), "the refused witness left no leaf"
    assert cust.get(f"/play/{grant_id}/cam1/index.m3u8").status_code == 403


# ---- Finding 2: the requester is never the second person -------------------------------


@pytest.fixture
def insiders(web: Web) -> None:
    """Two trained custodians (a role that may witness, so only the rule on requesters
    can refuse them): cust2, and li, whose identity document LIDOC001 a request names."""
    add_person(web, "cust2", "CUST0002", "custodian")
    add_person(web, "li", "LIDOC001", "custodian")


def requester_grants(web: Web, **window: str) -> dict[str, tuple[str, int]]:
    """case -> (the requester as witness, the grant of their request, approved by appr)."""
    return {
        "by user id (the police requester)": (
            "cop",
            grant_for(web, request_for(web, **window), by="appr"),
        ),
        "by user id (a custodian who entered the request)": (
            "cust2",
            grant_for(web, request_for(web, user="cust2", **window), by="appr"),
        ),
        "by the request's identity document": (
            "li",
            grant_for(web, request_for(web, id_doc="LIDOC001", **window), by="appr"),
        ),
    }


@pytest.mark.usefixtures("insiders")
def test_f2_the_requester_is_not_the_second_person_in_the_console(web: Web, tmp_path: Path) -> None:
    """Finding 2: a custodian opened the execution of a grant with the requester as
    witness. The requester is matched by account (cop, or the custodian cust2, entered
    the request) or by the request's identity document (li's). Expected, for each:
    refused (403 or 422), a refused leaf, no execution open (no footage served)."""
    sealed_camera(web.system, tmp_path)
    grants = requester_grants(web)
    cust = web.console("cust")
    cases = Cases()
    for matched_by, (witness, grant_id) in grants.items():
        with cases.case(f"requester matched {matched_by}"):
            before, since = outside_ledger(web.env), size(web.env.url)
            reply = cust.submit(
                f"/grants/{grant_id}/witness",
                {"witness": witness, "witness_password": PW},
                headers=EN,
            )
            assert reply.status_code in (403, 422), (
                f"the requester was accepted as the second person: {reply.status_code}"
            )
            assert outside_ledger(web.env) == before
            assert refusals_since(web.env.url, since, "cust"), "the refusal left no leaf"
            assert cust.get(f"/play/{grant_id}/cam1/index.m3u8").status_code == 403
    cases.check()


@pytest.mark.ffmpeg
@pytest.mark.parametrize("database_url", [None])  # real ffmpeg footage: SQLite is enough
@pytest.mark.usefixtures("insiders")
def test_f2_the_requester_is_not_the_second_person_of_an_api_export(
    web: Web, tmp_path: Path
) -> None:
    """Finding 2 through POST /api/v1/grants/N/export on real footage, with the requester
    as witness (by account, or by the request's identity document). Expected, for
    each: 403 or 422 with a one-line error, no package, an export.refused leaf and no
    export leaf."""
    seal(web, tmp_path)
    window = {"start": T0.isoformat(), "end": (T0 + 10 * SEGMENT).isoformat()}
    grants = requester_grants(web, **window)
    cust = web.api("cust")
    cases = Cases()
    for matched_by, (witness, grant_id) in grants.items():
        with cases.case(f"requester matched {matched_by}"):
            before, since = outside_ledger(web.env), size(web.env.url)
            reply = cust.post(
                f"/api/v1/grants/{grant_id}/export",
                json={"witness": witness, "witness_password": PW, "watermark": False},
            )
            assert reply.status_code in (403, 422), (
                f"an export with the requester as witness was served: {reply.status_code}"
            )
            assert reply.headers["content-type"].startswith("application/json")
            error = reply.json()["error"]
            assert error and "\n" not in error
            assert outside_ledger(web.env) == before
            new = [x for idx, x in ledger(web.env.url) if idx >= since and x["type"] == "access"]
            assert [x["action"] for x in new] == ["export.refused"]
            assert names(new[0], "cust")
    cases.check()


# ---- Finding 3: the access register through the ledger ---------------------------------


def _request_leaf(web: Web) -> int:
    [index] = [
        idx
        for idx, leaf in ledger(web.env.url)
        if leaf["type"] == "access" and leaf["action"] == "request"
    ]
    return index


def _no_access_details(text: str, where: str) -> None:
    for secret in (PURPOSE, DESTINATION, '"cop"', "cam1"):
        assert secret not in text, f"an operator read {secret} of an access leaf via {where}"


def test_f3_an_operator_reads_no_access_details_through_a_ledger_leaf(
    web: Web, tmp_path: Path
) -> None:
    """Finding 3: refused at /api/v1/audit, an operator read an access leaf (who, camera,
    purpose, destination) through /api/v1/ledger/leaves/N. Expected: 403, or the leaf's
    index, type and hash only."""
    sealed_camera(web.system, tmp_path)
    request_for(web)
    index = _request_leaf(web)
    op = web.api("op")
    assert op.get("/api/v1/audit").status_code == 403
    reply = op.get(f"/api/v1/ledger/leaves/{index}")
    assert reply.status_code in (200, 403), reply.text
    _no_access_details(reply.text, f"/api/v1/ledger/leaves/{index}")
    if reply.status_code == 200:
        full = web.api("aud").get(f"/api/v1/ledger/leaves/{index}").json()
        assert str(index) in reply.text
        assert full["leaf_hash"] in reply.text  # its hash stays readable: proofs still work


def test_f3_an_operator_reads_no_access_details_through_an_inclusion_proof(
    web: Web, tmp_path: Path
) -> None:
    """Finding 3, the same register read through /api/v1/ledger/proof/N, whose tlog-proof
    carries the leaf's bytes. Expected: 403, or a proof without the access details."""
    sealed_camera(web.system, tmp_path)
    request_for(web)
    index = _request_leaf(web)
    reply = web.api("op").get(f"/api/v1/ledger/proof/{index}")
    assert reply.status_code in (200, 403), reply.text
    _no_access_details(reply.text, "the proof")
    if reply.status_code == 200:
        for line in reply.json()["tlog_proof"].splitlines():
            if line.startswith("extra "):
                carried = base64.b64decode(line.removeprefix("extra ")).decode()
                _no_access_details(carried, "the proof's leaf bytes")


# ---- Finding 5: who may see an access request ------------------------------------------


def _visible(web: Web, user: str, ids: tuple[int, ...]) -> dict[str, set[int]]:
    """The requests ``user`` sees: listed and opened, through the API and the console.
    A 403 on a list counts as seeing none."""
    api, console = web.api(user), web.console(user)
    listed = api.get("/api/v1/access/requests")
    assert listed.status_code in (200, 403), listed.text
    page = console.get("/access", headers=EN)
    assert page.status_code in (200, 403), page.text
    return {
        "api list": {r["id"] for r in listed.json()} if listed.status_code == 200 else set(),
        "api show": {r for r in ids if api.get(f"/api/v1/access/requests/{r}").status_code == 200},
        "console list": {r for r in ids if f'id="request-{r}"' in page.text},
        "console show": {r for r in ids if console.get(f"/access/{r}").status_code == 200},
    }


def test_f5_who_sees_an_access_request_is_the_same_on_the_api_and_the_console(
    web: Web, tmp_path: Path
) -> None:
    """Finding 5: the API refused requesters their own requests, the console showed
    them. Expected on both: a requester sees their own requests and only theirs; a
    custodian and an auditor (in scope) see all; an operator sees none."""
    sealed_camera(web.system, tmp_path)
    web.app.state.login_limiter = LoginLimiter(limit=100)  # ten people log in twice
    add_person(web, "cop2", "COP00002", "requester")
    mine = request_for(web, user="cop")
    theirs = request_for(web, user="cop2", id_doc="COP00002")
    expected = {
        "cop": {mine},
        "cop2": {theirs},
        "cust": {mine, theirs},
        "aud": {mine, theirs},
        "op": set(),
    }
    seen = {user: _visible(web, user, (mine, theirs)) for user in expected}
    wanted = {
        user: dict.fromkeys(("api list", "api show", "console list", "console show"), ids)
        for user, ids in expected.items()
    }
    assert seen == wanted


# ---- Finding 6: refusals that left no leaf ---------------------------------------------


def test_f6_a_custodian_naming_themselves_as_witness_leaves_a_refused_leaf(
    web: Web, tmp_path: Path
) -> None:
    """Finding 6: a custodian naming themselves as witness was refused without a trace.
    Expected: the refusal (today a 422 citing Art. 17(3)) is a *.refused leaf naming
    them."""
    sealed_camera(web.system, tmp_path)
    grant_id = grant_for(web, request_for(web), by="appr")
    cust = web.console("cust")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = cust.submit(
        f"/grants/{grant_id}/witness", {"witness": "cust", "witness_password": PW}, headers=EN
    )
    assert reply.status_code in (403, 422), reply.status_code
    assert outside_ledger(web.env) == before
    assert refusals_since(web.env.url, since, "cust"), "the refusal left no *.refused leaf"


def test_f6_a_playback_attempt_without_the_role_leaves_a_refused_leaf(
    web: Web, tmp_path: Path
) -> None:
    """Finding 6: a playback attempt by a person without the custodian role (an operator,
    an auditor, the requester) was a bare 403. Expected, for each: 403, no bytes, and
    a *.refused leaf naming them (Art. 14(3))."""
    [first, *_] = sealed_camera(web.system, tmp_path)
    grant_id = grant_for(web, request_for(web), by="appr")
    cases = Cases()
    for user in ("op", "aud", "cop"):
        with cases.case(user):
            client = web.console(user)
            before, since = outside_ledger(web.env), size(web.env.url)
            reply = client.get(f"/play/{grant_id}/seg/{first.id}/media.m4s", headers=EN)
            assert reply.status_code == 403
            assert not reply.headers["content-type"].startswith("video/")
            assert outside_ledger(web.env) == before
            assert refusals_since(web.env.url, since, user), (
                f"the playback attempt by {user} left no *.refused leaf"
            )
    cases.check()

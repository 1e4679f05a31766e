"""Requests as a custodian sees them (issue 22, item 5), on SQLite and PostgreSQL: the
inbox of pending requests they may decide, the guided form (exactly the documents of
the class chosen, presets, a prefill from a link), every missing document named at once
in words, and no Approve or Deny where the service would refuse."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight.services import access as svc
from oversight.services import access_review
from oversight.web import i18n
from tests.actors import admin
from tests.web.authz_helpers import add_camera_at, add_person, add_site
from tests.web.conftest import Web
from tests.web.footage_helpers import (
    POLICE_DOCS,
    access_leaves,
    doc_files,
    request_form,
    seal,
    submit_request,
)

EN = {"accept-language": "en"}


def _file_inputs(html: str) -> list[str]:
    return re.findall(r'type="file" name="doc_([a-z_]+)"', html)


def _scoped_world(web: Web, tmp: Path) -> dict[str, int]:
    """cam1 at s1, cam3 at s3; cust3 a custodian of s3 only. Requests: cop's on cam1,
    cop's on cam3, cust's own on cam1."""
    seal(web, tmp, count=1)
    add_site(web, "s3")
    add_camera_at(web, "cam3", "s3")
    add_person(web, "cust3", "CUST0003", "custodian", ["s3"])
    cop, cust = web.console("cop"), web.console("cust")
    out = {"cop1": submit_request(cop), "cop3": submit_request(cop, camera="cam3")}
    reply = cust.submit("/access/new", request_form(id_doc="CUST0001"), files=doc_files())
    assert reply.status_code == 303, reply.text
    out["cust1"] = int(reply.headers["location"].rsplit("/", 1)[1])
    return out


def _inbox_ids(web: Web, user: str) -> list[int]:
    page = web.console(user).get("/access/inbox", headers=EN)
    assert page.status_code == 200, page.text[:300]
    return [int(x) for x in re.findall(r'id="inbox-(\d+)"', page.text)]


def test_the_inbox_lists_only_what_each_custodian_may_decide(web: Web, tmp_path: Path) -> None:
    ids = _scoped_world(web, tmp_path)
    assert _inbox_ids(web, "appr") == [ids["cop1"], ids["cop3"], ids["cust1"]]
    assert _inbox_ids(web, "cust") == [ids["cop1"], ids["cop3"]]  # never their own
    assert _inbox_ids(web, "cust3") == [ids["cop3"]]  # never out of scope
    page = web.console("appr").get("/access/inbox", headers=EN).text
    row = page.split(f'id="inbox-{ids["cop1"]}"', 1)[1].split("</tr>", 1)[0]
    for shown in (
        "Officer Li",
        "cam1",
        "theft investigation 2026-17",
        f'href="/access/{ids["cop1"]}"',
    ):
        assert shown in row
    assert "Attached: 4" in row and " min" in row
    # The nav links to it for those who may decide, not for a requester, who gets 403.
    assert 'href="/access/inbox"' in page
    cop = web.console("cop")
    assert 'href="/access/inbox"' not in cop.get("/access", headers=EN).text
    assert cop.get("/access/inbox").status_code == 403
    # Decided requests leave it.
    svc.approve(web.system, web.cast["appr"], ids["cop1"])
    assert _inbox_ids(web, "cust") == [ids["cop3"]]


def test_the_inbox_api_answers_json_in_the_same_scope(web: Web, tmp_path: Path) -> None:
    ids = _scoped_world(web, tmp_path)
    reply = web.api("cust3").get("/api/v1/access/inbox")
    assert reply.status_code == 200
    [item] = reply.json()
    assert item["id"] == ids["cop3"] and item["cameras"] == ["cam3"]
    assert sorted(item["documents_present"]) == sorted(POLICE_DOCS)
    assert item["documents_missing"] == [] and item["href"] == f"/access/{ids['cop3']}"
    after = web.api("appr").get(f"/api/v1/access/inbox?after={ids['cop3']}").json()
    assert [i["id"] for i in after] == [ids["cust1"]]
    assert web.api("cop").get("/api/v1/access/inbox").status_code == 403
    assert web.api("appr").get("/api/v1/access/inbox?after=-1").status_code == 422


def test_no_approve_or_deny_where_the_service_would_refuse(web: Web, tmp_path: Path) -> None:
    ids = _scoped_world(web, tmp_path)
    own = web.console("cust").get(f"/access/{ids['cust1']}", headers=EN).text
    assert 'id="approve-form"' not in own and 'id="deny-form"' not in own
    other = web.console("cust").get(f"/access/{ids['cop1']}", headers=EN).text
    assert 'id="approve-form"' in other and 'id="deny-form"' in other
    # The refusal still holds on the server, with its leaf and nothing else.
    before = web.env.counts()
    reply = web.console("cust").submit(f"/access/{ids['cust1']}/approve", {}, headers=EN)
    assert reply.status_code == 422 and "own request" in reply.text
    after = web.env.counts()
    assert after["access_grants"] == before["access_grants"]
    assert access_leaves(web)[-1]["action"] == "approve.refused"
    # Decided: no buttons for anyone any more.
    svc.deny(web.system, web.cast["appr"], ids["cop1"], reason="no case")
    decided = web.console("cust").get(f"/access/{ids['cop1']}", headers=EN).text
    assert 'id="approve-form"' not in decided and 'id="deny-form"' not in decided


def test_the_form_shows_exactly_the_documents_of_the_class_chosen(web: Web) -> None:
    cop = web.console("cop")
    default = cop.get("/access/new", headers=EN).text
    assert _file_inputs(default) == list(POLICE_DOCS)  # the first class: police
    individual = cop.get("/access/new?org_class=individual", headers=EN).text
    assert _file_inputs(individual) == ["identity_document", "police_approval", "county_police"]
    assert "Approval of the county (city) police".lower() in individual.lower()
    assert 'name="org_class" id="request-org-class" value="individual"' in individual
    emergency = cop.get("/access/new?org_class=emergency_response", headers=EN).text
    assert _file_inputs(emergency) == ["work_id", "identity_document", "unit_letter"]
    zh = cop.get("/access/new?org_class=police&lang=zh").text
    assert "单位证明文件" in zh and "本机关负责人的批准文件" in zh


def _local(web: Web, moment: datetime) -> str:
    return moment.astimezone(web.system.packs.timezone).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_form_is_prefilled_from_a_link_and_by_a_preset(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    start = datetime(2026, 5, 1, 2, 30, tzinfo=web.system.packs.timezone)
    end = start + timedelta(minutes=5)
    url = f"/access/new?camera=cam1&start={start.isoformat()}&end={end.isoformat()}"
    page = cop.get(url.replace("+", "%2B"), headers=EN).text
    assert 'value="cam1" checked' in page
    assert f'id="request-start" step="1" required value="{_local(web, start)}"' in page
    assert f'id="request-end" step="1" required value="{_local(web, end)}"' in page
    # The class form carries camera and range along when the class changes.
    assert '<input type="hidden" name="camera" value="cam1">' in page
    # A preset link: the last 15 minutes up to the server's now.
    assert 'href="/access/new?last=15&amp;org_class=police&amp;camera=cam1"' in page
    preset = cop.get("/access/new?last=15&camera=cam1", headers=EN).text
    got = re.search(r'id="request-start" step="1" required value="([^"]+)"', preset)
    end_got = re.search(r'id="request-end" step="1" required value="([^"]+)"', preset)
    assert got and end_got
    span = datetime.fromisoformat(end_got[1]) - datetime.fromisoformat(got[1])
    assert span == timedelta(minutes=15)
    # Malformed: one line, 400.
    bad = cop.get("/access/new?start=yesterday", headers=EN)
    assert (
        bad.status_code == 400 and "start: &#39;yesterday&#39; is not a date and time" in bad.text
    )
    assert cop.get("/access/new?camera=<script>", headers=EN).status_code == 400


def test_every_missing_document_is_named_at_once_in_words_and_nothing_written(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    before = web.env.counts()
    only = {"work_id": POLICE_DOCS["work_id"]}
    reply = cop.submit("/access/new", request_form(), files=doc_files(only), headers=EN)
    assert reply.status_code == 422
    missing = re.findall(
        r'<li data-kind="([a-z_]+)">', reply.text.split('id="missing-documents"')[1]
    )
    assert missing == ["identity_document", "unit_letter", "own_agency_head"]
    for words in ("identity document", "letter of the requesting unit", "signed approval"):
        assert words in reply.text
    assert "KIND=FILE" not in reply.text and "--document" not in reply.text
    assert 'class="article">Art. 16 para 1' in reply.text
    assert (
        'value="Officer Li"' in reply.text and "COP00001" not in reply.text
    )  # kept, but not the ID
    after = web.env.counts()
    assert after["access_requests"] == 0
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1
    leaf = access_leaves(web)[-1]
    assert leaf["action"] == "request.refused"
    assert leaf["details"]["missing"] == ["identity_document", "unit_letter", "own_agency_head"]
    assert not (web.system.settings.data_dir / "documents").exists()
    zh = cop.submit("/access/new?lang=zh", request_form(), files=doc_files(only))
    assert zh.status_code == 422 and "身份证件" in zh.text and "单位证明文件" in zh.text


def test_the_api_names_every_missing_document_in_words(web: Web, tmp_path: Path) -> None:
    import base64

    seal(web, tmp_path, count=1)
    form: dict[str, Any] = request_form()
    body = {k: v for k, v in form.items() if k != "cameras"} | {"cameras": ["cam1"]}
    body["documents"] = {"work_id": base64.b64encode(b"work id scan").decode()}
    client = web.api("cop")  # logging in is a leaf of its own
    before = web.env.counts()
    reply = client.post("/api/v1/access/requests", json=body)
    assert reply.status_code == 422
    out = reply.json()
    assert out["missing"] == ["identity_document", "unit_letter", "own_agency_head"]
    assert out["rule"] == "access_approval" and out["article"] == "Art. 16 para 1"
    assert "letter of the requesting unit" in out["error"] and "\n" not in out["error"]
    assert "--document" not in out["error"]
    after = web.env.counts()
    assert after["access_requests"] == before["access_requests"] == 0
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1
    assert svc.list_requests(web.system, admin(web.system)) == []


def test_the_inbox_is_bounded_to_a_page(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _scoped_world(web, tmp_path)
    monkeypatch.setattr(access_review, "INBOX_PAGE", 2)
    page = web.console("appr").get("/access/inbox", headers=EN).text
    assert re.findall(r'id="inbox-(\d+)"', page) == [str(ids["cop1"]), str(ids["cop3"])]
    assert f'href="/access/inbox?after={ids["cop3"]}"' in page
    rest = web.console("appr").get(f"/access/inbox?after={ids['cop3']}", headers=EN).text
    assert re.findall(r'id="inbox-(\d+)"', rest) == [str(ids["cust1"])]
    assert 'id="inbox-next"' not in rest


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_request_pages_render_in_both_languages(web: Web, tmp_path: Path, lang: str) -> None:
    ids = _scoped_world(web, tmp_path)
    catalog = i18n.catalog()
    raw_key = re.compile(r"\baccess\.[a-z_]+(?:\.[a-z_]+)?\b")
    appr = web.console("appr")
    for url in ("/access/new?org_class=individual", "/access/inbox", f"/access/{ids['cop1']}"):
        reply = appr.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert reply.status_code == 200, (url, reply.text[:300])
        visible = re.sub(r"<script[^>]*>.*?</script>|<[^>]*>", " ", reply.text, flags=re.S)
        assert raw_key.findall(visible) == [], url
    inbox = appr.get(f"/access/inbox?lang={lang}").text
    assert catalog["access.inbox"][lang] in inbox and catalog["access.class.police"][lang] in inbox

"""The access workflow in the console: a request with its documents, decisions by
another custodian, revocation, and the evidence package downloaded as a .zip that
verifies once unzipped. Refusals carry their article and write only their own leaf."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest

from oversight.evidence.verify import verify_package
from oversight.services import access as svc
from tests.actors import admin
from tests.web.conftest import Web
from tests.web.footage_helpers import (
    POLICE_DOCS,
    access_leaves,
    approved_grant,
    doc_files,
    open_execution,
    request_form,
    seal,
    submit_request,
)

EN = {"accept-language": "en"}


def test_the_new_request_form_offers_cameras_kinds_and_the_documents_of_the_pack(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    page = web.console("cop").get("/access/new", headers=EN)
    assert page.status_code == 200
    assert 'id="request-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert 'name="cameras" value="cam1"' in page.text
    for kind in POLICE_DOCS:
        assert f'name="doc_{kind}"' in page.text


def test_a_request_with_its_documents_is_stored_and_shown(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    request_id = submit_request(cop)
    rec = svc.get_request(web.system, admin(web.system), request_id)
    assert rec.status == "pending" and set(rec.documents) == set(POLICE_DOCS)
    for kind, data in POLICE_DOCS.items():
        stored = web.system.settings.data_dir / "documents" / rec.documents[kind]
        assert stored.read_bytes() == data
    detail = cop.get(f"/access/{request_id}", headers=EN).text
    assert "theft investigation 2026-17" in detail and "****0001" in detail
    assert 'id="approve-form"' not in detail  # a requester does not decide
    assert f'id="request-{request_id}"' in cop.get("/access").text
    assert access_leaves(web)[-1]["action"] == "request"


def test_a_missing_document_is_refused_with_the_article_and_only_the_refusal_logged(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    before = web.env.counts()
    docs = {k: v for k, v in POLICE_DOCS.items() if k != "unit_letter"}
    reply = cop.submit("/access/new", request_form(), files=doc_files(docs), headers=EN)
    assert reply.status_code == 422
    assert "letter of the requesting unit" in reply.text and 'class="article">Art. 16' in reply.text
    after = web.env.counts()
    assert after["access_requests"] == before["access_requests"] == 0
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1
    assert access_leaves(web)[-1]["action"] == "request.refused"
    assert not (web.system.settings.data_dir / "documents").exists()


def test_a_form_without_the_csrf_token_is_refused_and_writes_nothing(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    before = web.env.counts()
    reply = cop.post("/access/new", data=request_form(), files=doc_files())
    assert reply.status_code == 403 and "CSRF" in reply.text
    _request_id, grant = approved_grant(web)
    appr = web.console("appr")
    mid = web.env.counts()
    assert appr.post(f"/grants/{grant}/revoke", data={"reason": "x"}).status_code == 403
    assert web.env.counts() == mid
    assert before["access_requests"] == 0


def test_a_custodian_approves_in_the_console_and_the_requester_sees_the_grant(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    request_id = submit_request(web.console("cop"))
    appr = web.console("appr")
    page = appr.get(f"/access/{request_id}").text
    assert 'id="approve-form"' in page and 'id="deny-form"' in page
    reply = appr.submit(f"/access/{request_id}/approve", {"note": "urgent", "valid_days": "2"})
    assert reply.status_code == 303 and reply.headers["location"] == f"/access/{request_id}"
    rec = svc.get_request(web.system, admin(web.system), request_id)
    assert rec.status == "approved" and rec.decision_note == "urgent" and rec.grant is not None
    assert (rec.grant.expires_at - web.system.clock.now()).days in (1, 2)
    shown = web.console("cop").get(f"/access/{request_id}").text
    assert f"{rec.grant.id}" in shown and 'id="witness-form"' not in shown


def test_a_denial_needs_a_reason_and_is_final(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    request_id = submit_request(web.console("cop"))
    appr = web.console("appr")
    assert appr.submit(f"/access/{request_id}/deny", {"reason": "no case"}).status_code == 303
    assert svc.get_request(web.system, admin(web.system), request_id).status == "denied"
    reply = web.console("cust").submit(f"/access/{request_id}/approve", {}, headers=EN)
    assert reply.status_code == 422 and "denied already" in reply.text
    assert access_leaves(web)[-1]["action"] == "approve.refused"


def test_nobody_decides_their_own_request(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    cust = web.console("cust")
    reply = cust.submit("/access/new", request_form(id_doc="CUST0001"), files=doc_files())
    request_id = int(reply.headers["location"].rsplit("/", 1)[1])
    before = web.env.counts()
    reply = cust.submit(f"/access/{request_id}/approve", {}, headers=EN)
    assert reply.status_code == 422 and "own request" in reply.text and "Art. 16" in reply.text
    after = web.env.counts()
    assert after["access_grants"] == before["access_grants"]
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1


def test_requesters_see_only_their_own_requests(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    mine = submit_request(web.console("cop"))
    cust = web.console("cust")
    theirs = cust.submit("/access/new", request_form(id_doc="CUST0001"), files=doc_files())
    other = int(theirs.headers["location"].rsplit("/", 1)[1])
    listing = web.console("cop").get("/access").text
    assert f'id="request-{mine}"' in listing and f'id="request-{other}"' not in listing
    assert web.console("cop").get(f"/access/{other}").status_code == 403
    audit = web.console("aud").get("/access").text
    assert f'id="request-{mine}"' in audit and f'id="request-{other}"' in audit
    assert web.console("op").get(f"/access/{mine}").status_code == 403


def _unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert all(not n.startswith("/") and ".." not in n for n in names)
        zf.extractall(into)
    [top] = {n.split("/", 1)[0] for n in names}
    return into / top


@pytest.mark.ffmpeg
def test_the_evidence_package_downloads_as_a_zip_that_verifies(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seal(web, tmp_path)
    _request_id, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    reply = cust.submit(f"/grants/{grant}/export", {"watermark": "true"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    assert f'filename="oversight-grant{grant}-cam1-' in reply.headers["content-disposition"]
    package = _unzip(reply.content, tmp_path / "unzipped")
    report = verify_package(package)
    assert report.ok, report.problems
    leaf, done = access_leaves(web)[-2:]
    assert leaf["action"] == "export" and leaf["actors"] == ["cust", "wit"]
    assert leaf["destination"] == "County Police evidence room"
    assert done["action"] == "export.done"
    assert list(scratch.iterdir()) == []  # the package and zip were removed after sending


def test_export_needs_the_witness_and_a_copy_grant(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    before = web.env.counts()
    reply = cust.submit(f"/grants/{grant}/export", {}, headers=EN)
    assert reply.status_code == 403 and "witness must sign in" in reply.text
    assert web.env.counts() == before
    request_id, view = approved_grant(web, kind="view")
    assert open_execution(cust, view).status_code == 303
    page = cust.get(f"/access/{request_id}", headers=EN).text
    assert 'id="export-button"' not in page and "A view grant cannot be exported" in page
    reply = cust.submit(f"/grants/{view}/export", {}, headers=EN)
    assert reply.status_code == 422 and "allows view, not copy" in reply.text
    assert access_leaves(web)[-1]["action"] == "export.refused"

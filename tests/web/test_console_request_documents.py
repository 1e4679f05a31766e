"""Approvers open the documents they approve (issue 22, item 5), on SQLite and
PostgreSQL: through one audited route (console and API), a ``document.open`` leaf
before the bytes, a download that never runs in the console's origin, a 403 with a
refused leaf for anyone else, and nothing served when the leaf cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.errors import StorageError
from tests.web.authz_helpers import add_person, add_site, refusals_since, size
from tests.web.conftest import Web
from tests.web.footage_helpers import POLICE_DOCS, access_leaves, doc_files, request_form, seal

EN = {"accept-language": "en"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


def _request(web: Web, tmp: Path, **docs: bytes) -> int:
    seal(web, tmp, count=1)
    files = doc_files({**POLICE_DOCS, **docs})
    reply = web.console("cop").submit("/access/new", request_form(), files=files)
    assert reply.status_code == 303, reply.text
    return int(reply.headers["location"].rsplit("/", 1)[1])


def test_an_approver_opens_a_document_and_the_opening_is_a_leaf(web: Web, tmp_path: Path) -> None:
    rid = _request(web, tmp_path, unit_letter=PDF, work_id=HTML)
    appr = web.console("appr")
    detail = appr.get(f"/access/{rid}", headers=EN).text
    assert f'href="/access/{rid}/documents/unit_letter"' in detail
    assert "letter of the requesting unit" in detail  # in words, not only the hash
    reply = appr.get(f"/access/{rid}/documents/unit_letter")
    assert reply.status_code == 200 and reply.content == PDF
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.headers["content-disposition"] == (
        f'attachment; filename="request-{rid}-unit_letter.pdf"'
    )
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in reply.headers["content-security-policy"]
    leaf = access_leaves(web)[-1]
    assert leaf["action"] == "document.open" and leaf["actors"] == ["appr"]
    assert leaf["target"] == f"request:{rid}"
    digest = reply.headers["x-document-sha256"]
    assert leaf["details"] == {"document": "unit_letter", "sha256": digest}
    # HTML is never served as HTML: a download of bytes.
    html = appr.get(f"/access/{rid}/documents/work_id")
    assert html.content == HTML and html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"].startswith("attachment;")
    # The API route, under the same rule; the requester who entered it may open it too.
    api = web.api("cust").get(f"/api/v1/access/requests/{rid}/documents/identity_document")
    assert api.status_code == 200 and api.content == POLICE_DOCS["identity_document"]
    own = web.console("cop").get(f"/access/{rid}/documents/unit_letter")
    assert own.status_code == 200
    assert [x["actors"] for x in access_leaves(web) if x["action"] == "document.open"] == [
        ["appr"], ["appr"], ["cust"], ["cop"],
    ]  # fmt: skip


@pytest.mark.parametrize("user", ["aud", "op", "cust3"])
def test_anyone_else_is_refused_with_a_leaf_and_gets_no_bytes(
    web: Web, tmp_path: Path, user: str
) -> None:
    rid = _request(web, tmp_path)
    add_site(web, "s3")
    add_person(web, "cust3", "CUST0003", "custodian", ["s3"])  # another site's custodian
    client = web.console(user)
    if user == "aud":  # an auditor reads the request but may not open its documents
        assert 'class="doc-open"' not in client.get(f"/access/{rid}", headers=EN).text
    start = size(web.env.url)
    reply = client.get(f"/access/{rid}/documents/unit_letter", headers=EN)
    assert reply.status_code == 403 and POLICE_DOCS["unit_letter"] not in reply.content
    [refused] = refusals_since(web.env.url, start, user)
    assert refused["action"] == "document.open.refused"
    assert refused["details"]["document"] == "unit_letter"
    assert not [x for x in access_leaves(web) if x["action"] == "document.open"]
    api = web.api(user).get(f"/api/v1/access/requests/{rid}/documents/unit_letter")
    assert api.status_code == 403 and set(api.json()) == {"error", "rule", "article"}


def test_nothing_is_served_when_the_leaf_cannot_be_written(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _request(web, tmp_path)
    appr = web.console("appr")

    def broken(*args: object, **kwargs: object) -> list[int]:
        raise StorageError("the ledger's disk is full")

    monkeypatch.setattr(web.system.ledger, "append", broken)
    reply = appr.get(f"/access/{rid}/documents/unit_letter", headers=EN)
    monkeypatch.undo()
    assert reply.status_code == 503 and POLICE_DOCS["unit_letter"] not in reply.content
    assert not [x for x in access_leaves(web) if x["action"] == "document.open"]


def test_bad_or_unknown_kinds_are_one_line_4xx(web: Web, tmp_path: Path) -> None:
    rid = _request(web, tmp_path)
    appr = web.api("appr")
    missing = appr.get(f"/api/v1/access/requests/{rid}/documents/police_approval")
    assert missing.status_code == 404 and "no document 'police_approval'" in missing.json()["error"]
    assert appr.get(f"/api/v1/access/requests/{rid}/documents/..%2Fetc").status_code in (404, 422)
    assert appr.get(f"/api/v1/access/requests/{rid}/documents/{'a' * 80}").status_code == 422
    assert appr.get("/api/v1/access/requests/999/documents/unit_letter").status_code == 404

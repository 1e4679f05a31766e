"""Issue 18, findings 10 (standing grants) and 12 (unlimited documents), through the
real API and console on SQLite and PostgreSQL.

10: a request covers recorded footage only and a grant lasts at most the rule packs'
maximum (``access_bounds``, 30 days): refused with the rule and article, a
``*.refused`` leaf and nothing else written.
12: attaching documents needs a role (``access.request``), each document and their
number are bounded by the settings, only kinds the organisation class may need are
accepted: refused in one line with nothing written.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.web.api_data import sealed_camera
from tests.web.authz_helpers import add_person, outside_ledger, refusals_since, size
from tests.web.conftest import Web
from tests.web.footage_helpers import POLICE_DOCS, doc_files, request_form, seal, submit_request
from tests.web.test_api_access import payload, submit

EN = {"accept-language": "en"}
REQUESTS = "/api/v1/access/requests"


@pytest.fixture
def limits(env: Env) -> None:
    """Small document bounds, set before the ``web`` fixture builds its System."""
    env.monkeypatch.setenv("OVERSIGHT_DOCUMENT_MAX_BYTES", "4096")
    env.monkeypatch.setenv("OVERSIGHT_DOCUMENT_MAX_COUNT", "4")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def no_documents(web: Web) -> bool:
    directory = web.system.settings.data_dir / "documents"
    return not directory.exists() or not any(directory.iterdir())


def only_refused(web: Web, before: dict[str, int], since: int, user: str, action: str) -> None:
    """Nothing written outside the ledger, and exactly one ``action`` leaf by ``user``."""
    assert outside_ledger(web.env) == before, "the refused attempt wrote rows"
    assert [leaf["action"] for leaf in refusals_since(web.env.url, since, user)] == [action]
    assert size(web.env.url) == since + 1


# ---- Finding 10: requests cover the past and present; grants are bounded --------------


def test_api_a_request_for_ten_future_years_is_refused_with_the_rule(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    now, cop = datetime.now(UTC), web.api("cop")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = cop.post(REQUESTS, json=payload(end=(now + timedelta(days=3650)).isoformat()))
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert (body["rule"], body["article"]) == ("access_bounds", "Art. 16")
    assert "recorded footage only" in body["error"] and "operator policy" in body["error"]
    assert "\n" not in body["error"]
    only_refused(web, before, since, "cop", "request.refused")
    assert no_documents(web)


def test_api_a_request_ending_now_is_accepted_within_the_clock_allowance(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    end = datetime.now(UTC) + timedelta(seconds=60)  # a requester's clock a minute ahead
    reply = web.api("cop").post(REQUESTS, json=payload(end=end.isoformat()))
    assert reply.status_code == 201, reply.text


def test_api_a_grant_of_ten_years_is_refused_and_thirty_days_granted(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    request_id = submit(web)
    url, cust = f"{REQUESTS}/{request_id}/approve", web.api("cust")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = cust.post(url, json={"note": "ok", "valid_days": 3650})
    assert reply.status_code == 422, reply.text
    body = reply.json()
    assert body["rule"] == "access_bounds" and body["article"] == "Art. 16"
    assert "at most 30 days, not 3650 days" in body["error"]
    only_refused(web, before, since, "cust", "approve.refused")
    shown = cust.get(f"{REQUESTS}/{request_id}").json()
    assert shown["status"] == "pending" and shown["grant"] is None
    granted = cust.post(url, json={"note": "ok", "valid_days": 30})
    assert granted.status_code == 200, granted.text
    expires = datetime.fromisoformat(granted.json()["expires_at"])
    assert expires <= datetime.now(UTC) + timedelta(days=30)


def test_console_a_grant_of_31_days_is_refused_with_the_rule(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    request_id = submit_request(web.console("cop"))
    appr = web.console("appr")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = appr.submit(
        f"/access/{request_id}/approve", {"note": "ok", "valid_days": "31"}, headers=EN
    )
    assert reply.status_code == 422, reply.text[:300]
    assert "at most 30 days" in reply.text and 'class="article">Art. 16' in reply.text
    only_refused(web, before, since, "appr", "approve.refused")


def test_console_a_request_into_the_future_is_refused_and_stores_no_document(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    future = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = cop.submit("/access/new", request_form(end=future), files=doc_files(), headers=EN)
    assert reply.status_code == 422, reply.text[:300]
    assert "recorded footage only" in reply.text
    only_refused(web, before, since, "cop", "request.refused")
    assert no_documents(web)


# ---- Finding 12: documents need a role, and are bounded --------------------------------


def test_api_an_account_without_a_role_may_not_request_nor_store_documents(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    add_person(web, "nobody", "NOBO0001", None)
    nobody = web.api("nobody")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = nobody.post(REQUESTS, json=payload())
    assert reply.status_code == 403, reply.text
    assert "needs the role" in reply.json()["error"] and "requester" in reply.json()["error"]
    only_refused(web, before, since, "nobody", "request.refused")
    assert no_documents(web)


def test_console_an_account_without_a_role_may_not_request_nor_store_documents(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    add_person(web, "nobody", "NOBO0001", None)
    client = web.console("nobody")
    before, since = outside_ledger(web.env), size(web.env.url)
    reply = client.submit("/access/new", request_form(), files=doc_files(), headers=EN)
    assert reply.status_code == 403, reply.text[:300]
    only_refused(web, before, since, "nobody", "request.refused")
    assert no_documents(web)


def test_api_a_document_over_the_size_setting_is_one_line_and_writes_nothing(
    limits: None, web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    docs = {k: b64(v) for k, v in POLICE_DOCS.items()}
    docs["unit_letter"] = b64(b"x" * 4097)
    cop = web.api("cop")
    before = web.env.counts()
    reply = cop.post(REQUESTS, json=payload(documents=docs))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == (
        "document 'unit_letter' is larger than 4096 bytes (document_max_bytes)"
    )
    assert web.env.counts() == before
    assert no_documents(web)
    docs["unit_letter"] = b64(b"x" * 4096)  # at the limit: accepted
    assert cop.post(REQUESTS, json=payload(documents=docs)).status_code == 201


def test_api_more_documents_than_the_count_setting_is_one_line_and_writes_nothing(
    limits: None, web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path)
    docs = {k: b64(v) for k, v in POLICE_DOCS.items()}
    docs["police_approval"] = b64(b"one more")
    cop = web.api("cop")
    before = web.env.counts()
    reply = cop.post(REQUESTS, json=payload(documents=docs))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == (
        "5 documents attached: at most 4 per request (document_max_count)"
    )
    assert web.env.counts() == before
    assert no_documents(web)


def test_api_a_kind_the_organisation_class_never_needs_is_refused(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path)
    docs = {k: b64(v) for k, v in POLICE_DOCS.items()}
    docs["holiday_video"] = b64(b"not a document of any request")
    cop = web.api("cop")
    before = web.env.counts()
    reply = cop.post(REQUESTS, json=payload(documents=docs))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error.startswith("document 'holiday_video' is not one a police request may need")
    assert "own_agency_head" in error and "\n" not in error
    assert web.env.counts() == before
    assert no_documents(web)


def test_console_a_document_over_the_size_setting_is_refused_and_writes_nothing(
    limits: None, web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    cop = web.console("cop")
    files = doc_files({**POLICE_DOCS, "unit_letter": b"x" * 5000})
    before = web.env.counts()
    reply = cop.submit("/access/new", request_form(), files=files, headers=EN)
    assert reply.status_code == 400, reply.text[:300]
    assert "larger than 4096 bytes (document_max_bytes)" in reply.text
    assert web.env.counts() == before
    assert no_documents(web)

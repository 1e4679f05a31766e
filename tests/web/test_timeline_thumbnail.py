"""Hover thumbnails are footage: only through the enforcement point, with a grant this
session executes with a witness, each one a ``view.thumbnail`` leaf committed before the
JPEG is made; every refusal a 403 and a ``view.thumbnail.refused`` leaf. Real ffmpeg
decodes the real sealed H.264 segment (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oversight.web.timeline_window import iso
from tests.web.conftest import Web
from tests.web.footage_helpers import T0, access_leaves, approved_grant, open_execution, seal

pytestmark = pytest.mark.ffmpeg


def _url(grant: int, at: str) -> str:
    return f"/timeline/thumbnail/{grant}?camera=cam1&at={at}"


def test_a_custodian_executing_the_grant_gets_a_logged_thumbnail(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    before = len(access_leaves(web))
    reply = cust.get(_url(grant, iso(T0 + timedelta(seconds=1))))
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/jpeg"
    assert reply.content.startswith(b"\xff\xd8") and len(reply.content) > 500
    assert reply.headers["cache-control"] == "private, no-store"
    [leaf] = access_leaves(web)[before:]
    assert leaf["action"] == "view.thumbnail"
    assert leaf["actors"] == ["cust", "wit"]
    assert leaf["grant"] == str(grant)
    # The page offers thumbnails for that grant to this session only.
    html = cust.get(f"/timeline?span=6h&end={iso(T0 + timedelta(hours=1))}").text
    assert f'data-thumbs="[{grant}]"' in html
    assert (
        'data-thumbs="[]"'
        in web.console("appr").get(f"/timeline?span=6h&end={iso(T0 + timedelta(hours=1))}").text
    )


def test_without_an_open_execution_a_thumbnail_is_refused_and_logged(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    before = len(access_leaves(web))
    reply = web.console("cust").get(_url(grant, iso(T0 + timedelta(seconds=1))))
    assert reply.status_code == 403
    assert "witness must sign in" in reply.text
    [leaf] = access_leaves(web)[before:]
    assert leaf["action"] == "view.thumbnail.refused" and leaf["actors"] == ["cust"]


def test_a_role_that_never_views_footage_is_refused_and_logged(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    before = len(access_leaves(web))
    reply = web.console("op").get(_url(grant, iso(T0 + timedelta(seconds=1))))
    assert reply.status_code == 403
    [leaf] = access_leaves(web)[before:]
    assert leaf["action"] == "view.thumbnail.refused" and leaf["actors"] == ["op"]


def test_an_instant_outside_the_grant_is_refused_by_the_enforcement_point(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    open_execution(cust, grant)
    before = len(access_leaves(web))
    reply = cust.get(_url(grant, iso(T0 - timedelta(hours=2))))
    assert (
        reply.status_code == 422
    )  # a rule refuses (the app's status for a rule, with its article)
    assert "Art. 16" in reply.text
    [leaf] = access_leaves(web)[before:]
    assert leaf["action"] == "view.thumbnail.refused"
    assert leaf["details"]["article"] == "Art. 16"


def test_a_malformed_instant_is_a_400_and_writes_nothing(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    open_execution(cust, grant)
    before = len(access_leaves(web))
    reply = cust.get(_url(grant, "noon"))
    assert reply.status_code == 400 and "is not an ISO 8601 instant" in reply.text
    assert len(access_leaves(web)) == before

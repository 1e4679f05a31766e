"""The register, readable (issue 22, item 7): filters by action, camera, person and
request that combine and survive paging; a camera-hour of seals as one line; a playback
session as one line with the range viewed; every row that has a request links to it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight.ledger import leaves
from oversight.services import audit, verify
from oversight.services.access import access_leaf
from oversight.services.sealing import SealedSegment
from oversight.web.console import audit as console_audit
from tests.web.api_data import sealed_camera
from tests.web.authz_helpers import size
from tests.web.conftest import Web
from tests.web.footage_helpers import (
    T0,
    access_leaves,
    approved_grant,
    open_execution,
    seal,
)
from tests.web.test_authorization_findings import (  # noqa: F401  (sites: a fixture)
    Sites,
    request_for,
    sites,
)


def _hour() -> datetime:
    """The start of a whole hour three hours ago: three 60 s segments stay inside it."""
    return (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


def _append(web: Web, **leaf: object) -> None:
    with web.system.sessions.begin() as session:
        web.system.ledger.append(session, [access_leaf(web.system, **leaf)])  # type: ignore[arg-type]


def _seed(web: Web, tmp: Path) -> list[SealedSegment]:
    """cam1: three seals in one hour; cam2: one; cust viewed cam1 (request 7), appr
    approved request 7, cust exported cam2."""
    seals = sealed_camera(web.system, tmp, camera="cam1", count=3, start=_hour())
    sealed_camera(web.system, tmp, camera="cam2", count=1, start=_hour())
    _append(
        web,
        actors=["cust"],
        action="view",
        target="cam1",
        grant="3",
        details={"cameras": ["cam1"], "request": "7"},
    )
    _append(web, actors=["appr"], action="approve", target="request:7")
    _append(web, actors=["cust"], action="export", target="cam2", details={"cameras": ["cam2"]})
    return seals


def _register(html: str) -> str:
    return html[html.index('id="register"') :]


def test_the_action_filter_selects_one_kind_of_entry(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("aud")
    views = _register(client.get("/audit?action=view&lang=en").text)
    assert 'class="session"' in views  # cust's view of grant 3, as a playback line
    assert "<code>export</code>" not in views and "<code>approve</code>" not in views
    assert "sealed" not in views
    records = _register(client.get("/audit?action=record&fold=0&lang=en").text)
    assert records.count("<code>record</code>") == 4 and "<code>view</code>" not in records


def test_filters_combine(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("aud")
    both = _register(client.get("/audit?person=cust&camera=cam2&lang=en").text)
    assert "<code>export</code>" in both and "<code>view</code>" not in both
    none = client.get("/audit?person=cust&camera=cam2&action=view&lang=en").text
    assert "No entries match." in none


def test_the_request_filter_finds_its_views_and_decisions(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    html = _register(web.console("aud").get("/audit?request=7&lang=en").text)
    assert 'class="session"' in html and "<code>approve</code>" in html
    assert "<code>export</code>" not in html and "sealed" not in html


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("action=peek", "unknown action"),
        ("action=" + "v" * 65, ""),
        ("request=abc", "request"),
        ("request=-3", "request"),
        ("request=" + "9" * 30, ""),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(web: Web, query: str, words: str) -> None:
    for url in (f"/audit?{query}", f"/audit.csv?{query}"):
        reply = web.console("aud").get(url)
        assert reply.status_code in (400, 422), (url, reply.status_code)
        assert words in reply.text
    assert web.api("aud").get(f"/api/v1/audit?{query}").status_code in (400, 422)


def test_paging_keeps_every_filter(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(web, tmp_path)
    _append(web, actors=["cust"], action="view", target="cam1", details={"request": "7"})
    monkeypatch.setattr(console_audit, "SHOWN", 1)
    html = web.console("aud").get("/audit?action=view&person=cust&request=7&lang=en").text
    link = re.search(r'href="([^"]+)" id="audit-older"', html)
    assert link is not None
    older = link.group(1).replace("&amp;", "&")
    for part in ("action=view", "person=cust", "request=7", "before="):
        assert part in older, older
    assert 'class="session"' in web.console("aud").get(older + "&lang=en").text


def test_a_camera_hour_of_seals_is_one_line(web: Web, tmp_path: Path) -> None:
    first, *_, last = [s.leaf_index for s in _seed(web, tmp_path)]
    html = _register(web.console("aud").get("/audit?lang=en").text).replace("&amp;", "&")
    assert html.count('class="seals"') == 2  # cam1 and cam2, one line each
    line = html[html.index('id="seals-cam1-') :]
    line = line[: line.index("</tr>")]
    assert "3 segments sealed" in line and f"leaves {first}–{last}" in line, line
    local = _hour().astimezone(web.system.packs.timezone)
    assert f"{local:%H}:00–{(local + timedelta(hours=1)):%H}:00" in line
    assert "<code>record</code>" not in html  # none left unfolded
    assert f"/audit?camera=cam1&action=record&fold=0&before={last + 1}" in line
    unfolded = _register(web.console("aud").get("/audit?fold=0&lang=en").text)
    assert unfolded.count("<code>record</code>") == 4


def test_every_row_with_a_request_links_to_it(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    html = _register(web.console("aud").get("/audit?lang=en").text)
    view = html[html.index('class="session"') :]
    assert 'href="/access/7"' in view[: view.index("</tr>")]
    approve = html[html.index("<code>approve</code>") :]
    assert 'href="/access/7"' in approve[: approve.index("</tr>")]
    entries = web.api("aud").get("/api/v1/audit").json()
    assert {e["action"]: e["request"] for e in entries}["approve"] == "7"


def _play(web: Web, tmp: Path) -> tuple[int, int, list[int]]:
    """cust watches the two sealed segments of cam1 under an approved grant, witnessed."""
    segments = seal(web, tmp)
    request_id, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    assert cust.get(f"/play/{grant}/cam1/index.m3u8").status_code == 200
    for s in segments:
        for part in ("init.mp4", "media.m4s"):
            assert cust.get(f"/play/{grant}/seg/{s.id}/{part}").status_code == 200
    return request_id, grant, [s.id for s in segments]


def test_a_playback_session_is_one_line_with_the_range_viewed(web: Web, tmp_path: Path) -> None:
    request_id, grant, _ = _play(web, tmp_path)
    views = [leaf for leaf in access_leaves(web) if leaf["action"] == "view"]
    assert len(views) == 4  # one per part fetched
    # The enforcement point names the footage handed over, not only the grant's range.
    assert views[0]["details"]["viewed"] == [
        {
            "camera": "cam1",
            "start": leaves.instant(T0),
            "end": leaves.instant(T0 + timedelta(seconds=2)),
        }
    ]
    html = _register(web.console("aud").get("/audit?lang=en").text)
    assert html.count('class="session"') == 1
    assert "<code>view</code>" not in html and "<code>view.probe</code>" not in html
    row = html[html.index('class="session"') :]
    row = row[: row.index("</tr>")]
    tz = web.system.packs.timezone
    first, last = T0.astimezone(tz), (T0 + timedelta(seconds=4)).astimezone(tz)
    assert f"{first:%Y-%m-%d %H:%M:%S}" in row and f"{last:%H:%M:%S}" in row, row
    assert "cust, wit" in row and "cam1" in row
    assert f'href="/access/{request_id}"' in row and f">{grant}<" in row
    assert "fetches" in row
    report = verify.verify(web.system)  # the leaves with ``viewed`` still verify
    assert report.ok, report


def test_a_session_ends_after_a_pause(web: Web, tmp_path: Path) -> None:
    _play(web, tmp_path)
    web.system.settings.register_session_gap_s = 0  # a fresh System per test
    html = _register(web.console("aud").get("/audit?lang=en").text)
    # Without a pause allowance every fetch that is not in the same instant is its own line.
    assert html.count('class="session"') >= 2


def test_an_auditor_scoped_to_a_site_sees_only_its_lines(web: Web, sites: Sites) -> None:  # noqa: F811
    """Issue 17's scope holds under every new filter and in folded lines."""
    s1_request, s3_request = request_for(web), request_for(web, "cam3")
    aud3 = web.console("aud3")
    records = _register(aud3.get("/audit?action=record&lang=en").text)
    assert 'id="seals-cam3-' in records and "cam1" not in records
    assert "cam1" not in _register(aud3.get("/audit?lang=en").text)
    assert "No entries match." in aud3.get(f"/audit?request={s1_request}&lang=en").text
    own = _register(aud3.get(f"/audit?request={s3_request}&lang=en").text)
    assert "<code>request</code>" in own and f'href="/access/{s3_request}"' in own
    assert aud3.get("/audit?camera=cam1&action=record").status_code in (403, 404)
    api = web.api("aud3").get(f"/api/v1/audit?request={s1_request}")
    assert api.status_code == 200 and api.json() == []


def test_a_refused_filter_writes_nothing(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("aud")
    before = size(web.env.url)
    for query in ("action=peek", "request=x", "action=" + "v" * 65):
        assert client.get(f"/audit?{query}").status_code in (400, 422)
    assert size(web.env.url) == before


def test_a_page_reads_a_bounded_number_of_leaves(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rare match does not make one page read the whole ledger: it stops at
    OVERSIGHT_REGISTER_SCAN_LEAVES and links on to the older leaves."""
    _seed(web, tmp_path)
    for _ in range(3):
        _append(web, actors=["cust"], action="export", target="cam2")
    monkeypatch.setattr(web.system.settings, "register_scan_leaves", 2)
    monkeypatch.setattr(audit, "_CHUNK", 2)  # the chunk is the unit of reading
    html = web.console("aud").get("/audit?request=7&lang=en").text
    assert "No entries match." in html and 'id="audit-older"' in html
    assert "This page read 2 ledger leaves" in html

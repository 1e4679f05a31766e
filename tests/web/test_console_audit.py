"""The audit register page: entries from the ledger, filters by camera, person and
local dates, and the CSV download with the same filters."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from oversight.services.access import access_leaf
from oversight.web.console import audit as console_audit
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web


def _seed(web: Web, tmp: Path) -> None:
    """Two cameras' recordings and one viewing by cust of cam1."""
    sealed_camera(web.system, tmp, camera="cam1", count=2)
    sealed_camera(web.system, tmp, camera="cam2", count=1)
    leaf = access_leaf(
        web.system,
        actors=["cust"],
        action="view",
        target="segment:1",
        purpose="=HYPERLINK(evil)",
        details={"cameras": ["cam1"]},
    )
    with web.system.sessions.begin() as session:
        web.system.ledger.append(session, [leaf])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_register_lists_recordings_and_accesses_newest_first(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    reply = web.console("aud").get("/audit?fold=0&lang=en")  # every leaf, none folded
    assert reply.status_code == 200
    html = reply.text
    assert "4 entries." in html
    body = html[html.index('id="register"') :]
    assert body.index("<code>view</code>") < body.index("<code>record</code>")


def test_filters_by_camera_person_and_date(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("aud")
    assert "1 entries." in client.get("/audit?camera=cam2&fold=0&lang=en").text
    assert "3 entries." in client.get("/audit?camera=cam1&fold=0&lang=en").text
    by_cust = client.get("/audit?person=cust&lang=en").text
    assert "1 entries." in by_cust and "<code>view</code>" in by_cust
    tomorrow = web.system.packs.local_date(web.system.clock.now()) + timedelta(days=1)
    assert "No entries match." in client.get(f"/audit?from={tomorrow}&lang=en").text
    assert "No entries match." in client.get("/audit?to=2020-01-01&lang=en").text
    assert "4 entries." in client.get(f"/audit?from=2020-01-01&to={tomorrow}&fold=0&lang=en").text


def test_the_csv_has_the_same_selection_and_defuses_formulas(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("cust")
    reply = client.get("/audit.csv?camera=cam1")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    rows = _rows(reply.text)
    assert [r["action"] for r in rows] == ["record", "record", "view"]
    assert rows[2]["actors"] == "cust" and rows[2]["purpose"] == "'=HYPERLINK(evil)"
    assert rows[0]["at"].endswith("+08:00")  # local time of the deployment, with its offset
    assert len(_rows(client.get("/audit.csv").text)) == 4
    page = client.get("/audit?camera=cam1").text
    assert 'href="/audit.csv?camera=cam1"' in page


def test_bad_dates_are_400_and_backwards_ranges_refused(web: Web) -> None:
    client = web.console("aud")
    reply = client.get("/audit?from=someday")
    assert reply.status_code == 400 and "from" in reply.text
    assert client.get("/audit.csv?from=2026-02-02&to=2026-02-01").status_code == 400
    # The end of 9999-12-31 is past the calendar: it was a 500.
    reply = client.get("/audit?to=9999-12-31")
    assert reply.status_code == 400 and "9999-12-31 is out of range" in reply.text


def test_operators_and_requesters_may_not_read_the_register(web: Web) -> None:
    for user in ("op", "cop", "wit"):
        client = web.console(user)
        assert client.get("/audit").status_code == 403
        assert client.get("/audit.csv").status_code == 403


def _older_link(html: str) -> str:
    anchor = html[: html.index('id="audit-older"')]
    return anchor[anchor.rindex('href="') + 6 :].split('"')[0].replace("&amp;", "&")


def test_the_page_shows_the_newest_and_links_to_older_entries(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(web, tmp_path)
    monkeypatch.setattr(console_audit, "SHOWN", 2)
    client = web.console("aud")
    html = client.get("/audit?camera=cam1&fold=0&lang=en").text
    assert "2 entries on this page, newest first" in html
    assert html.count("<code>record</code>") == 1 and "<code>view</code>" in html
    link = _older_link(html)
    assert link.startswith("/audit?camera=cam1&fold=0&before=")  # the filters are kept
    older = client.get(link + "&lang=en").text
    assert "1 entries on this page" in older and older.count("<code>record</code>") == 1
    assert 'id="audit-older"' not in older and 'id="audit-newest"' in older
    monkeypatch.setattr(console_audit, "SHOWN", 4)
    whole = client.get("/audit?fold=0&lang=en").text
    assert "4 entries." in whole and 'id="audit-older"' not in whole  # all on one page
    assert client.get("/audit?before=-1").status_code in (400, 422)

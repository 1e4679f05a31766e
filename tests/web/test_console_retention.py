"""The retention page: keep-for, marks, holds released by a second person, and the
purge plan; refusals name their article or reason and write nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oversight.services import retention
from tests.actors import HOST
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web


def _local(web: Web, hours_ago: float) -> str:
    """A ``datetime-local`` form value in the deployment's time zone."""
    moment = web.system.clock.now() - timedelta(hours=hours_ago)
    return moment.astimezone(web.system.packs.timezone).strftime("%Y-%m-%dT%H:%M")


def _range(web: Web, reason: str) -> dict[str, str]:
    return {"camera": "cam1", "start": _local(web, 3), "end": _local(web, 1), "reason": reason}


def test_the_plan_summary_counts_the_footage(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=3)
    html = web.console("aud").get("/retention?lang=en").text
    assert 'id="plan-summary"' in html
    summary = html[html.index('id="plan-summary"') :]
    assert '<div class="big">3</div>' in summary.split("</section>")[0]
    assert "Not set: footage is kept for the legal minimum." in html


def test_a_hold_is_placed_by_one_custodian_and_released_by_another(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path, count=3)
    cust, appr = web.console("cust"), web.console("appr")
    # One range for the whole test: a second reading could fall in the next minute.
    form = _range(web, "case 42")
    placed = cust.submit("/retention/holds", form)
    assert placed.status_code == 303 and placed.headers["location"] == "/retention#holds"
    [held] = retention.state(web.system, HOST).holds
    assert held.placed_by == "cust" and held.camera_id == "cam1"
    # The datetime-local value was read in the deployment's time zone.
    start = held.start_at.astimezone(web.system.packs.timezone).strftime("%Y-%m-%dT%H:%M")
    assert start == form["start"]
    page = cust.get("/retention?lang=en").text
    assert f'id="hold-{held.id}"' in page and "a second person must release it" in page
    before = web.env.counts()
    alone = cust.submit(f"/retention/holds/{held.id}/release", {"reason": "done"})
    assert alone.status_code == 400 and "second person" in alone.text
    assert web.env.counts() == before
    released = appr.submit(f"/retention/holds/{held.id}/release", {"reason": "case closed"})
    assert released.status_code == 303
    [after] = retention.state(web.system, HOST).holds
    assert after.released_by == "appr" and after.release_reason == "case closed"


def test_a_custodian_marks_footage_important(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=3)
    client = web.console("cust")
    assert client.submit("/retention/marks", _range(web, "assault")).status_code == 303
    [mark] = retention.state(web.system, HOST).marks
    assert mark.reason == "assault" and mark.marked_by == "cust"
    assert f'id="mark-{mark.id}"' in client.get("/retention").text


def test_keep_for_below_the_legal_minimum_is_refused_with_the_article(
    web: Web, tmp_path: Path
) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    client = web.console("op")
    before = web.env.counts()
    reply = client.submit("/retention/keep", {"days": "1"})
    assert reply.status_code == 422 and 'class="article"' in reply.text
    assert web.env.counts() == before
    assert client.submit("/retention/keep", {"days": "400", "camera": "cam1"}).status_code == 303
    [policy] = retention.state(web.system, HOST).policies
    assert (policy.scope, policy.keep_days) == ("cam1", 400)


def test_a_backwards_range_and_a_bad_time_are_refused(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    client = web.console("cust")
    before = web.env.counts()
    backwards = {**_range(web, "x"), "start": _local(web, 1), "end": _local(web, 3)}
    assert client.submit("/retention/holds", backwards).status_code == 400
    garbled = {**_range(web, "x"), "start": "noon"}
    reply = client.submit("/retention/marks", garbled)
    assert reply.status_code == 400 and "from" in reply.text
    assert web.env.counts() == before


def test_roles_and_csrf(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    assert web.console("cop").get("/retention").status_code == 403
    aud, cust = web.console("aud"), web.console("cust")
    assert 'id="hold-form"' not in aud.get("/retention").text
    before = web.env.counts()
    assert aud.submit("/retention/holds", _range(web, "x")).status_code == 403
    # The auditor's refused attempt is a leaf of the register; nothing else is written.
    after = web.env.counts()
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1
    assert {k: v for k, v in after.items() if not k.startswith(("ledger_", "register_"))} == {
        k: v for k, v in before.items() if not k.startswith(("ledger_", "register_"))
    }
    assert cust.post("/retention/holds", data=_range(web, "x")).status_code == 403  # no CSRF
    assert web.env.counts() == after

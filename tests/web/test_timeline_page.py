"""The timeline in the console, through the real app on SQLite and PostgreSQL: the window
from the query (bad values a one-line 400, nothing written), an ongoing gap drawn up to
now, a sub-second gap still drawn, lengths in words, alarm bands, and the links a band
gives (the request form prefilled, the player for a person holding a grant)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from oversight.services import alarms, recording
from oversight.web.timeline_window import iso
from tests.web.conftest import Web
from tests.web.footage_helpers import T0, approved_grant, seal


def _ledger_size(web: Web) -> int:
    with web.system.reads() as s:
        return web.system.ledger.size(s)


def _svg(html: str, camera: str = "cam1") -> str:
    start = html.index(f'data-camera="{camera}"')
    return html[start : html.index("</svg>", start)]


def _gaps(svg: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', m))
        for m in re.findall(r'<rect class="gap[^"]*"[^>]*>', svg)
    ]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("span=5s", "outside the timeline&#39;s bounds"),
        ("span=99d", "outside the timeline&#39;s bounds"),
        ("span=often", "is not a window"),
        ("end=tuesday", "is not an ISO 8601 instant"),
        ("end=2026-12-07T10:00:00", "needs a time zone"),
        (
            "sel_camera=cam1&sel_start=2026-12-07T10:00:00Z&sel_end=2026-12-07T09:00:00Z",
            "must end after",
        ),
        (
            "sel_camera=nope&sel_start=2026-12-07T10:00:00Z&sel_end=2026-12-07T11:00:00Z",
            "not on this timeline",
        ),
    ],
)
def test_a_bad_window_is_a_one_line_400_and_writes_nothing(
    web: Web, tmp_path: Path, query: str, words: str
) -> None:
    seal(web, tmp_path)
    client = web.console("op")
    before = _ledger_size(web)
    for path in ("/timeline", "/recordings/cam1"):
        reply = client.get(f"{path}?{query}&lang=en")
        assert reply.status_code == 400, (path, reply.status_code)
        assert words in reply.text
    api = client.get(f"/timeline?{query}", headers={"Accept": "application/json"})
    assert api.status_code == 400
    assert _ledger_size(web) == before


def test_zoom_and_pan_links_change_the_window(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    seal(web, tmp_path, camera="cam2")
    html = web.console("op").get("/timeline?span=6h&lang=en").text
    assert 'id="timeline-cam1"' in html and 'id="timeline-cam2"' in html  # across cameras
    one = web.console("op").get("/timeline?span=6h&camera=cam2&lang=en").text
    assert 'id="timeline-cam1"' not in one and 'id="timeline-cam2"' in one
    links = dict(re.findall(r'href="([^"]+)" data-rel="([\w-]+)"', html))
    by_rel = {rel: href.replace("&amp;", "&") for href, rel in links.items()}
    assert by_rel["zoom-in"] == "/timeline?span=3h"
    assert by_rel["zoom-out"] == "/timeline?span=12h"
    assert by_rel["earlier"].startswith("/timeline?span=6h&end=")
    assert "later" not in by_rel and "now" not in by_rel  # the window ends now
    svg = _svg(html)
    start, end = re.search(r'data-start="([^"]+)" data-end="([^"]+)"', svg).groups()  # type: ignore[union-attr]
    assert parse_end(end) - parse_end(start) == timedelta(hours=6)
    ten = web.console("op").get("/timeline?span=10m&lang=en").text
    assert re.search(r">\d\d:\d\d</text>", _svg(ten))  # minute ticks at ten minutes


def parse_end(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_an_offline_camera_draws_its_gap_up_to_now(web: Web, tmp_path: Path) -> None:
    sealed = seal(web, tmp_path)
    last_end = sealed[-1].end
    recording.set_status(web.system, "cam1", state="offline", since=last_end + timedelta(seconds=3))
    html = web.console("op").get("/recordings/cam1?span=7d&lang=en").text
    [gap] = _gaps(_svg(html))
    assert gap["class"] == "gap ongoing"
    assert gap["data-start"] == iso(last_end)
    now = web.system.clock.now()
    assert abs(parse_end(gap["data-end"]) - now) < timedelta(seconds=5)
    assert "gap (ongoing)" in html and "until now" in html
    # Back to recording: no ongoing gap is drawn.
    recording.set_status(web.system, "cam1", state="recording", since=now)
    again = web.console("op").get("/recordings/cam1?span=7d&lang=en").text
    assert _gaps(_svg(again)) == []


def test_a_gap_under_a_second_is_drawn_and_reads_in_words(web: Web, tmp_path: Path) -> None:
    sealed = seal(web, tmp_path)
    a = sealed[-1].end
    recording.record_gap(
        web.system, camera="cam1", start=a, end=a + timedelta(seconds=0.4), reason="x"
    )
    b = a + timedelta(minutes=5)
    recording.record_gap(
        web.system, camera="cam1", start=b, end=b + timedelta(seconds=192), reason="x"
    )
    end = iso(a + timedelta(hours=12))
    for lang, short, long in (("en", "0.4 s", "3 min 12 s"), ("zh", "0.4 秒", "3 分 12 秒")):
        html = web.console("op").get(f"/recordings/cam1?span=24h&end={end}&lang={lang}").text
        svg = _svg(html)
        tiny, wide = _gaps(svg)
        assert tiny["data-len"] == short and wide["data-len"] == long
        assert float(tiny["width"]) >= 0.5
        assert svg.count('class="gap-mark"') == 1  # the hairline that does not scale
        assert 'vector-effect="non-scaling-stroke"' in svg
        assert f"<td>{long}</td>" in html  # the gaps table under it too


def test_alarm_periods_are_a_band(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    alarms.raise_alarm(web.system, camera="cam1", kind="offline", detail="no frames")
    html = web.console("op").get("/timeline?span=1h&lang=en").text
    assert re.search(r'<rect class="alarm" [^>]*data-kind="alarm"', _svg(html))


def _pick(html: str) -> tuple[str, str]:
    section = html[html.index('<section class="tl-pick"') :]
    request = re.search(r'id="pick-request" href="([^"]+)"', section).group(1)  # type: ignore[union-attr]
    play = re.search(r'id="pick-play" href="([^"]+)"', section).group(1)  # type: ignore[union-attr]
    return request.replace("&amp;", "&"), play.replace("&amp;", "&")


def test_a_band_links_to_its_range_picked_with_the_request_form_prefilled(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path)
    end = iso(T0 + timedelta(hours=1))
    html = web.console("op").get(f"/timeline?span=6h&end={end}&lang=en").text
    hrefs = [
        h.replace("&amp;", "&")
        for h in re.findall(r'<a href="([^"]+)"><rect class="recorded"', html)
    ]
    [band] = hrefs
    query = parse_qs(urlsplit(band).query)
    assert query["sel_camera"] == ["cam1"] and query["sel_start"] == [iso(T0)]
    assert band.endswith("#pick")
    picked = web.console("op").get(band.removesuffix("#pick") + "&lang=en")
    assert picked.status_code == 200
    request, _ = _pick(picked.text)
    assert unquote(request) == (
        f"/access/new?camera=cam1&start={iso(T0)}&end={iso(T0 + timedelta(seconds=4))}"
    )
    assert re.search(r'id="pick-play" href="#" hidden', picked.text)  # no grant: no play
    assert "Picked: cam1" in picked.text and "(4 s)" in picked.text


def test_a_person_holding_a_grant_is_offered_play_for_a_range_it_covers(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    lo, hi = iso(T0), iso(T0 + timedelta(seconds=4))
    end = iso(T0 + timedelta(hours=1))
    url = f"/timeline?span=6h&end={end}&sel_camera=cam1&sel_start={lo}&sel_end={hi}&lang=en"
    html = web.console("cust").get(url).text
    _, play = _pick(html)
    assert unquote(play) == f"/play/{grant}?camera=cam1&start={lo}&end={hi}"
    assert f'data-grants="[{{&#34;id&#34;: {grant}' in html  # for the drag in the browser
    # A range the grant does not cover (it ends 10 minutes after T0): no play.
    late = iso(T0 + timedelta(minutes=30))
    outside = url.replace(f"sel_end={hi}", f"sel_end={late}")
    assert re.search(r'id="pick-play" href="#" hidden', web.console("cust").get(outside).text)
    # Someone whose role never views footage is not offered play, grant or not.
    assert re.search(r'id="pick-play" href="#" hidden', web.console("op").get(url).text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_timeline_page_is_translated(web: Web, tmp_path: Path, lang: str) -> None:
    sealed = seal(web, tmp_path)
    recording.set_status(web.system, "cam1", state="offline", since=sealed[-1].end)
    alarms.raise_alarm(web.system, camera="cam1", kind="offline", detail="no frames")
    lo, hi = iso(T0), iso(T0 + timedelta(seconds=4))
    html = (
        web.console("op")
        .get(f"/timeline?sel_camera=cam1&sel_start={lo}&sel_end={hi}&lang={lang}")
        .text
    )
    visible = re.sub(r"<[^>]*>", " ", html)
    assert re.findall(r"\b(?:tl|timeline)\.[a-z_.]+", visible) == []  # no key shown as itself
    words = {
        "zh": ("时间轴", "持续中", "申请调阅这段录像", "4 秒"),
        "en": ("Timeline", "ongoing", "Request this range", "4 s"),
    }
    for word in words[lang]:
        assert word in html, word

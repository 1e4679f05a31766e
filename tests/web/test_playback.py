"""Playback through the enforcement point, end to end through the app: a request in the
console, approval by a second custodian, a witness on the same screen, the playlist,
and each init/media request leaving exactly one ``access`` leaf before its bytes. Every
refusal: no session, another session, no witness, a revoked grant, a segment outside
the grant, a wrong witness password, footage the browser cannot decode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oversight.web import hls
from tests.services.test_people import leaves_of
from tests.web.conftest import Web
from tests.web.footage_helpers import (
    access_leaves,
    approved_grant,
    open_execution,
    seal,
    seal_clip,
)

pytestmark = pytest.mark.ffmpeg


def _stored_parts(web: Web, key: str) -> tuple[bytes, bytes]:
    path = Path(web.system.store.path(key))  # the test reads the store to compare bytes
    data = path.read_bytes()
    with path.open("rb") as f:
        parts = hls.split(f, len(data))
    media = data[slice(*parts.media)]
    # The trailing mfra (an index of every keyframe time of the segment, no footage)
    # is not served: its own last field, in mfro, is its size.
    index = int.from_bytes(data[-4:], "big")
    if data[-index + 4 : -index + 8] == b"mfra":
        media = media[:-index]
    return data[slice(*parts.init)], media


def test_granted_footage_plays_and_every_segment_request_is_one_access_leaf(
    web: Web, tmp_path: Path
) -> None:
    segments = seal(web, tmp_path)
    request_id, grant = approved_grant(web)
    cust = web.console("cust")
    opened = open_execution(cust, grant)
    assert opened.status_code == 303 and opened.headers["location"].endswith("#execution")
    detail = cust.get(f"/access/{request_id}").text
    assert 'id="execution-open"' in detail and 'id="export-button"' in detail

    page = cust.get(f"/play/{grant}?camera=cam1")
    assert page.status_code == 200, page.text
    assert 'id="player"' in page.text and f'data-src="/play/{grant}/cam1/index.m3u8"' in page.text
    assert "/static/vendor/hls.light.min.js" in page.text and "<script>" not in page.text
    probe = access_leaves(web)[-1]  # the page read the codec through the enforcement point
    assert probe["action"] == "view.probe" and probe["actors"] == ["cust", "wit"]

    playlist = cust.get(f"/play/{grant}/cam1/index.m3u8")
    assert playlist.status_code == 200
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    text = playlist.text
    assert text.count("#EXT-X-MAP") == 2 and text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    maps = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)
    media = [line for line in text.splitlines() if line.endswith(".m4s")]
    assert maps == [f"/play/{grant}/seg/{s.id}/init.mp4" for s in segments]
    assert media == [f"/play/{grant}/seg/{s.id}/media.m4s" for s in segments]

    for seg, init_url, media_url in zip(segments, maps, media, strict=True):
        init, body = _stored_parts(web, seg.storage_key)
        for url, expected in ((init_url, init), (media_url, body)):
            before = len(access_leaves(web))
            reply = cust.get(url)
            assert reply.status_code == 200, reply.text
            assert reply.content == expected
            new = access_leaves(web)[before:]
            assert len(new) == 1, new
            leaf = new[0]
            assert leaf["action"] == "view" and leaf["actors"] == ["cust", "wit"]
            assert leaf["grant"] == str(grant) and leaf["target"] == "cam1"
            assert leaf["details"]["segments"] == [seg.storage_key]
            assert leaf["purpose"] == "theft investigation 2026-17"


def _urls(grant: int, segment: int = 1) -> list[str]:
    return [
        f"/play/{grant}?camera=cam1",
        f"/play/{grant}/cam1/index.m3u8",
        f"/play/{grant}/seg/{segment}/init.mp4",
        f"/play/{grant}/seg/{segment}/media.m4s",
    ]


def test_no_footage_url_works_without_a_session(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    before = len(access_leaves(web))
    for url in _urls(grant):
        reply = web.client().get(url)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=")
    assert len(access_leaves(web)) == before


def test_no_footage_url_works_without_the_witness(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    before = web.env.counts()
    for url in _urls(grant):
        reply = cust.get(url, headers={"accept-language": "en"})
        assert reply.status_code == 403 and "witness must sign in" in reply.text
    after = web.env.counts()
    assert after["ledger_leaves"] == before["ledger_leaves"]


def test_another_session_cannot_use_an_open_execution(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    assert open_execution(web.console("cust"), grant).status_code == 303
    before = len(access_leaves(web))
    for user in ("appr", "cop", "aud"):
        other = web.console(user)
        for url in _urls(grant):
            assert other.get(url).status_code == 403, (user, url)
    # The same person in a second browser session has no execution either.
    again = web.console("cust")
    assert all(again.get(url).status_code == 403 for url in _urls(grant))
    # Nothing was viewed: the only new leaves are the refusals of the people whose roles
    # never allow playback (Art. 14(3)), one per attempt.
    new = access_leaves(web)[before:]
    assert {leaf["action"] for leaf in new} == {"view.refused"}
    assert sorted({a for leaf in new for a in leaf["actors"]}) == ["aud", "cop"]
    assert len(new) == 2 * len(_urls(grant))


def test_a_revoked_grant_plays_no_more_and_the_refusal_is_logged(web: Web, tmp_path: Path) -> None:
    [first, _] = seal(web, tmp_path)
    request_id, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    revoked = web.console("appr").submit(f"/grants/{grant}/revoke", {"reason": "case closed"})
    assert revoked.status_code == 303
    reply = cust.get(f"/play/{grant}/cam1/index.m3u8")
    assert reply.status_code == 422 and "was revoked" in reply.text and "Art. 16" in reply.text
    before = len(access_leaves(web))
    reply = cust.get(f"/play/{grant}/seg/{first.id}/media.m4s")
    assert reply.status_code == 422 and "Art. 16" in reply.text
    assert reply.headers["content-type"].startswith("text/html")  # the error page, no bytes
    [leaf] = access_leaves(web)[before:]
    assert leaf["action"] == "view.refused" and leaf["details"]["article"] == "Art. 16"
    assert 'id="witness-form"' not in cust.get(f"/access/{request_id}").text


def test_a_segment_outside_the_grant_is_refused_and_logged(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    [other] = seal(web, tmp_path, camera="cam2", count=1)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    before = len(access_leaves(web))
    for part in ("init.mp4", "media.m4s"):
        reply = cust.get(f"/play/{grant}/seg/{other.id}/{part}")
        assert reply.status_code == 422 and "does not cover" in reply.text
    refused = access_leaves(web)[before:]
    assert [x["action"] for x in refused] == ["view.refused", "view.refused"]
    assert cust.get(f"/play/{grant}/seg/999999/init.mp4").status_code == 422


def test_a_wrong_witness_password_is_shown_and_only_auth_records_it(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path)
    _request_id, grant = approved_grant(web)
    cust = web.console("cust")
    before = web.env.counts()
    people_before = len(leaves_of(web.system, "person"))
    reply = open_execution(cust, grant, password="not the password")
    assert reply.status_code == 401
    assert 'id="witness-error"' in reply.text and "wrong user id or password" in reply.text
    after = web.env.counts()
    # The one failed-login leaf auth writes (and its checkpoint); no access leaf.
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1
    assert len(leaves_of(web.system, "person")) == people_before + 1
    assert leaves_of(web.system, "person")[-1]["action"] == "login.failed"
    assert after["access_grants"] == before["access_grants"]
    assert cust.get(f"/play/{grant}/cam1/index.m3u8").status_code == 403


def test_the_custodian_cannot_be_their_own_witness(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    before = web.env.counts()
    reply = cust.submit(
        f"/grants/{grant}/witness", {"witness": "cust", "witness_password": "user password 12"}
    )
    assert reply.status_code == 422 and "different people" in reply.text
    # The refused attempt is a leaf of the register naming the custodian (Art. 14(3)).
    assert web.env.counts()["ledger_leaves"] == before["ledger_leaves"] + 1
    assert access_leaves(web)[-1]["action"] == "execute.refused"
    assert access_leaves(web)[-1]["actors"] == ["cust", "cust"]
    assert cust.get(f"/play/{grant}/cam1/index.m3u8").status_code == 403


@pytest.mark.parametrize(
    ("name", "clip", "codec"),
    [
        ("h265.mp4", {"video": "libx265"}, ("hev1", "hvc1")),
        ("mjpeg.mkv", {"video": "mjpeg"}, ("mkv",)),
    ],
)
def test_footage_the_browser_cannot_decode_says_so_and_offers_the_export(
    web: Web, tmp_path: Path, name: str, clip: dict[str, str], codec: tuple[str, ...]
) -> None:
    seg = seal_clip(web, tmp_path, "cam3", name, **clip)
    request_id, grant = approved_grant(web, camera="cam3")
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    page = cust.get(f"/play/{grant}?camera=cam3", headers={"accept-language": "en"})
    assert page.status_code == 200, page.text
    assert 'id="not-playable"' in page.text and 'id="player"' not in page.text
    assert "decodes H.264 in MP4 only" in page.text
    assert re.search(r'id="codec">([^<]+)<', page.text).group(1) in codec  # type: ignore[union-attr]
    assert f'href="/access/{request_id}#export-form" id="export-instead"' in page.text
    if name.endswith(".mkv"):  # not MP4: refused before anything is released
        before = len(access_leaves(web))
        reply = cust.get(f"/play/{grant}/seg/{seg.id}/init.mp4", headers={"accept-language": "en"})
        assert reply.status_code == 400 and "export it instead" in reply.text
        assert len(access_leaves(web)) == before

"""The player's snapshot through the enforcement point, through the real app: the frame
shown at the instant asked (red in the first second of each segment, blue in the
second), a ``view.snapshot`` leaf (who, camera, grant, instant) before any byte, and
every refusal (no open execution, a role that may not view, another camera, an instant
outside the grant, an expired grant) a refused leaf with nothing served; nothing is
decoded when the leaf cannot be appended; bad input is refused before anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from oversight.db import models as m
from oversight.media import still
from tests.web.conftest import PW, Web
from tests.web.footage_helpers import T0, access_leaves, open_execution
from tests.web.player_helpers import grant_over, seal_at

pytestmark = pytest.mark.ffmpeg


def _url(grant: int, camera: str, seconds: float, fmt: str = "") -> str:
    at = (T0 + timedelta(seconds=seconds)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    extra = f"&format={fmt}" if fmt else ""
    return f"/play/{grant}/snapshot?camera={camera}&at={at}{extra}"


def _colour(image: bytes) -> str:
    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, "not an image"
    blue, _green, red = (float(c) for c in pixels.mean(axis=(0, 1)))
    return "red" if red > 150 > blue else "blue" if blue > 150 > red else "?"


def _setup(web: Web, tmp_path: Path) -> tuple[int, Any]:
    seal_at(web, tmp_path, "cam1", [0, 2])
    seal_at(web, tmp_path, "cam2", [0])
    grant = grant_over(web, ["cam1"], T0, T0 + timedelta(seconds=4))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    return grant, cust


def test_a_snapshot_is_the_frame_at_the_instant_and_a_leaf_before_it(
    web: Web, tmp_path: Path
) -> None:
    grant, cust = _setup(web, tmp_path)
    for seconds, colour in ((0.5, "red"), (1.5, "blue"), (2.5, "red"), (3.96, "blue")):
        before = len(access_leaves(web))
        reply = cust.get(_url(grant, "cam1", seconds))
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "image/jpeg"
        assert reply.content[:3] == b"\xff\xd8\xff"
        assert reply.headers["cache-control"] == "no-store"
        assert _colour(reply.content) == colour, seconds
        [leaf] = access_leaves(web)[before:]
        assert leaf["action"] == "view.snapshot" and leaf["actors"] == ["cust", "wit"]
        assert leaf["grant"] == str(grant) and leaf["target"] == "cam1"
        details = leaf["details"]
        assert details["camera"] == "cam1" and details["format"] == "jpeg"
        instant = T0 + timedelta(seconds=seconds)
        assert datetime.fromisoformat(details["instant"]) == instant
        assert len(details["segments"]) == 1  # only the segment showing that instant
        with web.system.reads() as s:
            assert reply.headers["x-ledger-leaf"] == str(web.system.ledger.size(s) - 1)
    png = cust.get(_url(grant, "cam1", 0.5, "png"))
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert _colour(png.content) == "red" and access_leaves(web)[-1]["details"]["format"] == "png"


def _refused(web: Web, client: Any, url: str, status: int, why: str) -> dict[str, Any]:
    before = len(access_leaves(web))
    reply = client.get(url, headers={"accept-language": "en"})
    assert reply.status_code == status, reply.text[:400]
    assert why in reply.text
    assert not reply.headers["content-type"].startswith("image/")  # the error page, no bytes
    new = access_leaves(web)[before:]
    assert [x["action"] for x in new] == [new[0]["action"]] and len(new) == 1, new
    assert new[0]["action"].endswith(".refused")
    return new[0]


def test_every_refusal_is_a_refused_leaf_and_serves_nothing(web: Web, tmp_path: Path) -> None:
    grant, cust = _setup(web, tmp_path)
    # No open execution in this session (the witness signed in elsewhere): no grant here.
    other = web.console("cust")
    leaf = _refused(web, other, _url(grant, "cam1", 0.5), 403, "witness must sign in")
    assert leaf["action"] == "view.snapshot.refused" and leaf["actors"] == ["cust"]
    assert leaf["details"]["camera"] == "cam1"
    # A role that may not view footage at all.
    leaf = _refused(web, web.console("aud"), _url(grant, "cam1", 0.5), 403, "")
    assert leaf["actors"] == ["aud"]
    # Another camera, an instant before and after the grant: the enforcement point's.
    for url, why in (
        (_url(grant, "cam2", 0.5), "does not cover camera cam2"),
        (_url(grant, "cam1", -1), "covers"),
        (_url(grant, "cam1", 4), "covers"),
    ):
        leaf = _refused(web, cust, url, 422, why)
        assert leaf["action"] == "view.snapshot.refused" and leaf["actors"] == ["cust", "wit"]
        assert leaf["details"]["article"] == "Art. 16"
    # Expired since the execution was opened.
    with web.system.sessions.begin() as s:
        s.get_one(m.AccessGrant, grant).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    leaf = _refused(web, cust, _url(grant, "cam1", 0.5), 422, "expired")
    assert leaf["action"] == "view.snapshot.refused"


def test_nothing_is_decoded_or_served_when_the_leaf_cannot_be_appended(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant, cust = _setup(web, tmp_path)
    decoded: list[object] = []
    real = still.grab
    monkeypatch.setattr(still, "grab", lambda *a, **k: decoded.append(a) or real(*a, **k))
    assert cust.get(_url(grant, "cam1", 0.5)).status_code == 200 and len(decoded) == 1

    def broken(*args: object, **kwargs: object) -> list[int]:
        raise OSError("disk full")

    before = web.env.counts()
    monkeypatch.setattr(web.system.ledger, "append", broken)
    reply = cust.get(_url(grant, "cam1", 0.5))
    assert reply.status_code == 500 and not reply.headers["content-type"].startswith("image/")
    assert len(decoded) == 1  # ffmpeg never saw the footage
    assert web.env.counts()["ledger_leaves"] == before["ledger_leaves"]


def test_bad_input_is_refused_before_anything_is_read(web: Web, tmp_path: Path) -> None:
    grant, cust = _setup(web, tmp_path)
    before = web.env.counts()
    base = f"/play/{grant}/snapshot"
    for query, status, why in (
        ("camera=cam1&at=soon", 400, "is not a date and time"),
        ("camera=cam1", 422, "at"),
        ("camera=cam1&at=2026-01-01T00:00:00Z&format=gif", 422, "format"),
        ("camera=../etc&at=2026-01-01T00:00:00Z", 422, "camera"),
    ):
        reply = cust.get(f"{base}?{query}", headers={"accept-language": "en"})
        assert reply.status_code == status and why in reply.text, (query, reply.text[:300])
    assert web.env.counts() == before


def test_an_instant_in_a_gap_has_no_frame_and_reads_nothing(web: Web, tmp_path: Path) -> None:
    seal_at(web, tmp_path, "cam1", [0, 6])
    grant = grant_over(web, ["cam1"], T0, T0 + timedelta(seconds=8))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    before = len(access_leaves(web))
    reply = cust.get(_url(grant, "cam1", 4), headers={"accept-language": "en"})
    assert reply.status_code == 404 and "no sealed footage" in reply.text
    assert len(access_leaves(web)) == before


def test_the_api_takes_a_snapshot_with_the_witness_in_the_body(web: Web, tmp_path: Path) -> None:
    seal_at(web, tmp_path, "cam1", [0])
    grant = grant_over(web, ["cam1"], T0, T0 + timedelta(seconds=2))
    at = (T0 + timedelta(seconds=1.5)).isoformat()
    body = {"camera": "cam1", "at": at, "witness": "wit", "witness_password": PW}
    client = web.api("cust")
    reply = client.post(f"/api/v1/grants/{grant}/snapshot", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/jpeg" and _colour(reply.content) == "blue"
    leaf = access_leaves(web)[-1]
    assert leaf["action"] == "view.snapshot" and leaf["actors"] == ["cust", "wit"]
    before = len(access_leaves(web))
    wrong = client.post(
        f"/api/v1/grants/{grant}/snapshot", json={**body, "witness_password": "wrong password!"}
    )
    assert wrong.status_code == 401 and len(access_leaves(web)) == before
    outside = client.post(
        f"/api/v1/grants/{grant}/snapshot",
        json={**body, "at": (T0 + timedelta(seconds=3)).isoformat()},
    )
    assert outside.status_code == 422 and outside.json()["article"] == "Art. 16"
    assert access_leaves(web)[-1]["action"] == "view.snapshot.refused"
    naive = client.post(f"/api/v1/grants/{grant}/snapshot", json={**body, "at": "2026-12-07T01:00"})
    assert naive.status_code == 422
    assert len(access_leaves(web)) == before + 1

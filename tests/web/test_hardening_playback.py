"""Security review, findings 2 and 3: playback serves only the granted range, and only
bytes that match their sealed SHA-256.

Real ffmpeg segments (10 s, H.264 with B-frames and a keyframe every 0.2 s, AAC audio,
fragmented MP4 as the recorder writes them) sealed into the store; playback through
the console's HLS routes of the real app; what is served is probed with ffprobe.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from oversight.media.ffmpeg import run_tool
from oversight.services import alarms, compliance
from oversight.services.sealing import SealedSegment, seal_file
from tests.recorder.helpers import add_camera
from tests.web.conftest import LiveServer, Web
from tests.web.footage_helpers import (
    T0,
    access_leaves,
    doc_files,
    grant_of,
    open_execution,
    request_form,
)

pytestmark = pytest.mark.ffmpeg

FPS = 25
GOP = 5  # frames: a keyframe, and a new fragment, every 0.2 s
SEGMENT_SECONDS = 10
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


def _record(directory: Path, count: int = 1, *, seed: int = 440) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-n"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}"]
    argv += ["-f", "lavfi", "-i", f"sine=frequency={seed}:sample_rate=8000"]
    argv += ["-t", str(count * SEGMENT_SECONDS), "-c:v", "libx264", "-preset", "ultrafast"]
    argv += ["-g", str(GOP), "-bf", "2", "-c:a", "aac", "-f", "segment"]
    argv += ["-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1"]
    argv += ["-segment_format", "mp4", "-segment_format_options", f"movflags={MOVFLAGS}"]
    out = run_tool([*argv, str(directory / "seg-%02d.mp4")], timeout=120)
    assert out.returncode == 0, out.stderr
    return [directory / f"seg-{i:02d}.mp4" for i in range(count)]


def _seal(web: Web, tmp: Path, count: int = 1) -> list[SealedSegment]:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    out = []
    for i, path in enumerate(_record(tmp / "spool", count)):
        at = T0 + timedelta(seconds=i * SEGMENT_SECONDS)
        end = at + timedelta(seconds=SEGMENT_SECONDS)
        out.append(seal_file(web.system, camera="cam1", path=path, start=at, end=end))
    return out


def _grant(web: Web, start: datetime, end: datetime) -> int:
    form = request_form("cam1", "view", start=start.isoformat(), end=end.isoformat())
    reply = web.console("cop").submit("/access/new", form, files=doc_files())
    assert reply.status_code == 303, reply.text
    request_id = int(reply.headers["location"].rsplit("/", 1)[1])
    approved = web.console("appr").submit(
        f"/access/{request_id}/approve", {"note": "ok", "valid_days": "3"}
    )
    assert approved.status_code == 303, approved.text
    return grant_of(web, request_id)


def _urls(playlist: str) -> list[tuple[str, str]]:
    maps = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', playlist)
    media = [line for line in playlist.splitlines() if line.endswith(".m4s")]
    return list(zip(maps, media, strict=True))


def _probe(path: Path) -> dict[str, Any]:
    """Every packet and every decoded video frame of ``path``, and its duration."""
    argv = ["ffprobe", "-v", "error", "-show_entries"]
    argv += ["packet=stream_index,pts_time,duration_time:stream=index,codec_type"]
    argv += ["-show_entries", "format=start_time,duration", "-of", "json", f"file:{path}"]
    out = run_tool(argv, timeout=60)
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    frames = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries"]
    frames += ["frame=pts_time,duration_time,pkt_duration_time", "-of", "json", f"file:{path}"]
    decoded = run_tool(frames, timeout=60)
    assert decoded.returncode == 0, decoded.stderr
    data["frames"] = json.loads(decoded.stdout)["frames"]
    return data


def _inside(at: float, duration: float, start: datetime, end: datetime) -> bool:
    first = T0 + timedelta(seconds=at)
    return start <= first and first + timedelta(seconds=duration) <= end


# ---- finding 2: nothing outside the grant ----------------------------------------------


def test_a_one_second_grant_inside_a_ten_second_segment_plays_only_that_second(
    web: Web, tmp_path: Path
) -> None:
    [segment] = _seal(web, tmp_path)
    start = T0 + timedelta(seconds=3.1)
    end = start + timedelta(seconds=1)
    grant = _grant(web, start, end)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303

    listed = cust.get(f"/play/{grant}/cam1/index.m3u8")
    assert listed.status_code == 200, listed.text
    stamp = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", listed.text)
    inf = re.search(r"#EXTINF:([0-9.]+),", listed.text)
    assert stamp is not None and inf is not None
    assert datetime.fromisoformat(stamp.group(1).replace("Z", "+00:00")) >= start
    assert 0 < float(inf.group(1)) <= 1.0
    [(init_url, media_url)] = _urls(listed.text)
    init, media = cust.get(init_url), cust.get(media_url)
    assert init.status_code == 200 and media.status_code == 200, media.text
    stored = Path(web.system.store.path(segment.storage_key)).read_bytes()
    assert len(media.content) < len(stored) // 5  # about 1 s of 10, not the whole segment
    assert media.content in stored  # the sealed bytes themselves, not re-encoded

    served = tmp_path / "served.mp4"
    served.write_bytes(init.content + media.content)
    probed = _probe(served)
    kinds = {s["index"]: s["codec_type"] for s in probed["streams"]}
    assert set(kinds.values()) == {"video", "audio"}
    packets = probed["packets"]
    assert {kinds[p["stream_index"]] for p in packets} == {"video", "audio"}
    for packet in packets:
        at, length = float(packet["pts_time"]), float(packet["duration_time"])
        assert _inside(at, length, start, end), (kinds[packet["stream_index"]], at, length)
    frames = probed["frames"]
    assert len(frames) >= GOP  # at least one whole group of pictures decodes
    first, last = frames[0], frames[-1]
    last_length = float(last.get("duration_time") or last["pkt_duration_time"])
    assert _inside(float(first["pts_time"]), 0, start, end)
    assert _inside(float(last["pts_time"]), last_length, start, end)
    decoded = float(last["pts_time"]) + last_length - float(first["pts_time"])
    assert 0 < decoded <= 1.0
    # ffprobe's own figures: the media starts inside the grant, and its duration (which
    # ffprobe reports for fragmented MP4 up to the end time) ends inside it.
    assert T0 + timedelta(seconds=float(probed["format"]["start_time"])) >= start
    assert T0 + timedelta(seconds=float(probed["format"]["duration"])) <= end
    # The access leaf of the media request names the granted range it served from.
    assert access_leaves(web)[-1]["details"]["uses"][0]["start"].startswith(
        start.strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_a_grant_spanning_two_segments_serves_each_only_inside_the_grant(
    web: Web, tmp_path: Path
) -> None:
    segments = _seal(web, tmp_path, 2)
    start = T0 + timedelta(seconds=8.5)
    end = T0 + timedelta(seconds=11.5)
    grant = _grant(web, start, end)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    listed = cust.get(f"/play/{grant}/cam1/index.m3u8")
    assert listed.status_code == 200, listed.text
    pairs = _urls(listed.text)
    assert len(pairs) == len(segments) == 2
    for i, (init_url, media_url) in enumerate(pairs):
        served = tmp_path / f"served-{i}.mp4"
        served.write_bytes(cust.get(init_url).content + cust.get(media_url).content)
        base = timedelta(seconds=i * SEGMENT_SECONDS)  # each segment's times start at 0
        probed = _probe(served)
        assert probed["packets"]
        for packet in probed["packets"]:
            at = (base + timedelta(seconds=float(packet["pts_time"]))).total_seconds()
            assert _inside(at, float(packet["duration_time"]), start, end), (i, packet)


def test_a_grant_shorter_than_a_group_of_pictures_serves_nothing(web: Web, tmp_path: Path) -> None:
    [segment] = _seal(web, tmp_path)
    start = T0 + timedelta(seconds=3.05)
    grant = _grant(web, start, start + timedelta(seconds=0.1))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    listed = cust.get(f"/play/{grant}/cam1/index.m3u8", headers={"accept-language": "en"})
    assert listed.status_code == 404 and "keyframe" in listed.text
    media = cust.get(f"/play/{grant}/seg/{segment.id}/media.m4s")
    assert media.status_code == 404 and b"mdat" not in media.content


# ---- finding 3: the sealed hash, checked before the first byte ---------------------------


def _same_size_forgery(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # a few frames blanked: same size, other bytes
    path.chmod(0o600)
    path.write_bytes(bytes(data))


def _other_recording(path: Path, tmp: Path) -> None:
    [other] = _record(tmp / "forger", seed=880)
    assert other.stat().st_size != path.stat().st_size
    path.unlink()  # a whole other (valid) recording put in its place
    path.write_bytes(other.read_bytes())


def _live_console(web: Web, live: LiveServer, user: str) -> httpx.Client:
    """A session opened in the console, used against the real uvicorn server."""
    console = web.console(user)
    return httpx.Client(base_url=live.url, cookies=dict(console.cookies.items()), timeout=30)


@pytest.mark.parametrize("forge", ["same size", "other size"])
def test_a_replaced_segment_file_is_not_served_and_raises_an_integrity_alarm(
    web: Web, live_server: LiveServer, tmp_path: Path, forge: str
) -> None:
    [segment] = _seal(web, tmp_path)
    grant = _grant(web, T0, T0 + timedelta(minutes=1))
    path = Path(web.system.store.path(segment.storage_key))
    if forge == "same size":
        _same_size_forgery(path)
    else:
        _other_recording(path, tmp_path)
    forged = path.read_bytes()

    with _live_console(web, live_server, "cust") as client:
        page = client.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        opened = client.post(
            f"/grants/{grant}/witness",
            data={"witness": "wit", "witness_password": "user password 12", "csrf": csrf.group(1)},
        )
        assert opened.status_code == 303, opened.text
        for part in ("init.mp4", "media.m4s"):
            reply = client.get(f"/play/{grant}/seg/{segment.id}/{part}")
            assert reply.status_code == 500, (part, reply.status_code)
            assert "sealed" in reply.text and "SHA-256" in reply.text
            assert forged[:16] not in reply.content and b"moof" not in reply.content
        # The page itself (which reads the codec) refuses too, and serves nothing of it.
        player = client.get(f"/play/{grant}?camera=cam1")
        assert player.status_code == 500 and b"ftyp" not in player.content

    mismatches = [leaf for leaf in access_leaves(web) if leaf["action"].endswith(".integrity")]
    assert mismatches, "no ledger leaf records the mismatch"
    leaf = mismatches[0]
    assert leaf["details"]["segment"] == segment.storage_key
    assert leaf["details"]["sealed_sha256"] == segment.sha256
    assert leaf["details"]["found_sha256"] != segment.sha256

    raised = [
        a for a in alarms.open_at(web.system, web.system.clock.now()) if a.kind == "integrity"
    ]
    assert len(raised) == 1 and raised[0].camera == "cam1"
    assert segment.storage_key in raised[0].detail

    findings = [f for f in compliance.report(web.system).findings if f.rule == "original_integrity"]
    assert findings, "the mismatch is no compliance finding"
    assert any(f.article == "Art. 15(2)" and segment.storage_key in f.message for f in findings)


def test_an_export_of_a_replaced_segment_is_refused_the_same_way(web: Web, tmp_path: Path) -> None:
    [segment] = _seal(web, tmp_path)
    form = request_form(
        "cam1", "copy", start=T0.isoformat(), end=(T0 + timedelta(minutes=1)).isoformat()
    )
    reply = web.console("cop").submit("/access/new", form, files=doc_files())
    request_id = int(reply.headers["location"].rsplit("/", 1)[1])
    web.console("appr").submit(f"/access/{request_id}/approve", {"note": "ok", "valid_days": "3"})
    grant = grant_of(web, request_id)
    _same_size_forgery(Path(web.system.store.path(segment.storage_key)))

    exported = web.api("cust").post(
        f"/api/v1/grants/{grant}/export",
        json={"witness": "wit", "witness_password": "user password 12"},
    )
    assert exported.status_code == 500 and "sealed SHA-256" in exported.json()["error"]
    assert exported.headers["content-type"].startswith("application/json")
    actions = [leaf["action"] for leaf in access_leaves(web)]
    assert actions[-2:] == ["export", "export.integrity"]
    assert [a.kind for a in alarms.open_at(web.system, web.system.clock.now())] == ["integrity"]


def test_a_segment_missing_from_the_store_is_a_mismatch_too(web: Web, tmp_path: Path) -> None:
    [segment] = _seal(web, tmp_path)
    grant = _grant(web, T0, T0 + timedelta(minutes=1))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    Path(web.system.store.path(segment.storage_key)).unlink()
    reply = cust.get(f"/play/{grant}/seg/{segment.id}/media.m4s")
    assert reply.status_code == 500 and "0 bytes stored" in reply.text
    leaf = access_leaves(web)[-1]
    assert leaf["action"] == "view.integrity" and leaf["details"]["found_bytes"] == 0
    assert [a.kind for a in alarms.open_at(web.system, web.system.clock.now())] == ["integrity"]

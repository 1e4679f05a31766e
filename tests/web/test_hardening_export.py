"""Issue 18 (finding 2, export side): an evidence export holds no frame, video or audio,
outside the granted range. Like playback, clips are cut at keyframes inward and not
re-encoded: a clip starts at the first keyframe at or after the range start and ends
before the range end; a range without a keyframe exports nothing.

Real ffmpeg segments (10 s, H.264 with B-frames and a keyframe every 0.2 s, AAC audio,
fragmented MP4, as ``test_hardening_playback.py`` makes them) sealed into the store,
exported through the API and the CLI. Every packet and every decoded frame of each
clip is probed with ffprobe and mapped to wall time through the manifest; and, not
trusting the manifest, every exported packet is found among the sealed segment's own
packets, whose times must lie inside the range too.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight.evidence import manifest as mf
from oversight.evidence.verify import verify_package
from oversight.ledger import keys
from oversight.media.ffmpeg import run_tool
from oversight.services.sealing import SealedSegment, seal_file
from tests.cli.test_users_cli import login
from tests.recorder.helpers import add_camera
from tests.web.conftest import PW, Web
from tests.web.footage_helpers import T0, access_leaves, doc_files, grant_of, request_form
from tests.web.test_hardening_playback import SEGMENT_SECONDS, _record

pytestmark = pytest.mark.ffmpeg

# Timescale rounding of the probed times (the clip's video timescale is 12800 Hz).
TICK = timedelta(microseconds=100)


def _seal(web: Web, tmp: Path, count: int = 1) -> list[SealedSegment]:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    out = []
    for i, path in enumerate(_record(tmp / "spool", count)):
        at = T0 + timedelta(seconds=i * SEGMENT_SECONDS)
        end = at + timedelta(seconds=SEGMENT_SECONDS)
        out.append(seal_file(web.system, camera="cam1", path=path, start=at, end=end))
    return out


def _copy_grant(web: Web, start: datetime, end: datetime) -> int:
    form = request_form("cam1", "copy", start=start.isoformat(), end=end.isoformat())
    reply = web.console("cop").submit("/access/new", form, files=doc_files())
    assert reply.status_code == 303, reply.text
    request_id = int(reply.headers["location"].rsplit("/", 1)[1])
    approved = web.console("appr").submit(
        f"/access/{request_id}/approve", {"note": "ok", "valid_days": "3"}
    )
    assert approved.status_code == 303, approved.text
    return grant_of(web, request_id)


def _export_api(web: Web, grant: int, tmp: Path, *, watermark: bool = False) -> Path:
    reply = web.api("cust").post(
        f"/api/v1/grants/{grant}/export",
        json={"witness": "wit", "witness_password": PW, "watermark": watermark},
    )
    assert reply.status_code == 200, reply.text
    with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
        zf.extractall(tmp / "unzipped")
    [package] = list((tmp / "unzipped").iterdir())
    return package


def _export_cli(web: Web, grant: int, tmp: Path) -> Path:
    login(web.env, "cust", PW)
    out = tmp / "package"
    result = web.env.run(
        *("export", "--grant", str(grant), "--out", str(out)),
        *("--witness", "wit", "--witness-password-stdin"),
        input=PW + "\n",
    )
    assert result.exit_code == 0, result.output
    key = keys.verifier_key(web.system.settings.keys_dir)
    verified = web.env.run("evidence", "verify", str(out), "--json", "--key", key)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True
    return out


def _verified(web: Web, package: Path) -> mf.Manifest:
    report = verify_package(package, trusted_key=keys.verifier_key(web.system.settings.keys_dir))
    assert report.ok, [p.line() for p in report.problems]
    return mf.load((package / mf.MANIFEST).read_bytes())


def _probe(path: Path) -> dict[str, Any]:
    """Streams, every packet (with its payload's SHA-256) and every decoded frame."""
    argv = ["ffprobe", "-v", "error", "-show_data_hash", "sha256", "-show_entries"]
    argv += ["packet=stream_index,pts_time,duration_time,data_hash:stream=index,codec_type"]
    argv += ["-show_entries", "format=start_time", "-of", "json", f"file:{path}"]
    out = run_tool(argv, timeout=60)
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    frames = ["ffprobe", "-v", "error", "-show_entries"]
    frames += ["frame=stream_index,pts_time,pkt_duration_time", "-of", "json", f"file:{path}"]
    decoded = run_tool(frames, timeout=60)
    assert decoded.returncode == 0, decoded.stderr
    data["frames"] = json.loads(decoded.stdout)["frames"]
    data["kinds"] = {s["index"]: s["codec_type"] for s in data["streams"]}
    return data


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _wall(clip: mf.Clip, t: float) -> datetime:
    """Wall time of clip time ``t`` (seconds from the clip's first sample), by the
    manifest: the piece whose offset it is past, from that piece's start."""
    at = timedelta(seconds=t)
    assert clip.pieces
    piece = [p for p in clip.pieces if timedelta(microseconds=p.offset_us) <= at + TICK][-1]
    return _instant(piece.start) + at - timedelta(microseconds=piece.offset_us)


def _inside(moment: datetime, length: float, start: datetime, end: datetime) -> bool:
    return start - TICK <= moment and moment + timedelta(seconds=length) <= end + TICK


def _assert_clip_inside(
    clip: mf.Clip, probed: dict[str, Any], start: datetime, end: datetime
) -> None:
    """Every packet and decoded frame of ``clip``, at its wall time by the manifest,
    lies inside [start, end); so do the times the manifest states."""
    assert clip.cut == "keyframes-inward"
    assert clip.requested is not None
    assert (_instant(clip.requested.start), _instant(clip.requested.end)) == (start, end)
    first, last = _instant(clip.start), _instant(clip.end)
    assert start <= first < last <= end, (clip.start, clip.end)
    assert set(probed["kinds"].values()) == {"video", "audio"}
    zero = float(probed["format"]["start_time"])
    for what in ("packets", "frames"):
        items = probed[what]
        assert {probed["kinds"][x["stream_index"]] for x in items} == {"video", "audio"}, what
        for x in items:
            length = float(x.get("duration_time") or x.get("pkt_duration_time") or 0)
            kind = probed["kinds"][x["stream_index"]]
            if kind == "audio" and x is items[-1]:
                length = 0.0  # the muxer's guess for the very last packet; its pts counts
            moment = _wall(clip, float(x["pts_time"]) - zero)
            assert _inside(moment, length, start, end), (what, kind, moment, length)
            assert _inside(moment, 0, first, last), (what, kind, moment, clip.start, clip.end)


def _assert_sealed_packets_inside(
    probed: dict[str, Any], sealed: list[tuple[Path, datetime]], start: datetime, end: datetime
) -> None:
    """Without the manifest: each stream's packets are a run of the sealed segments'
    own packets (same payloads, same order), and those lie inside [start, end)."""
    for kind in ("video", "audio"):
        source: list[tuple[str, datetime, float]] = []
        for path, at in sealed:
            got = _probe(path)
            for p in got["packets"]:
                if got["kinds"][p["stream_index"]] == kind:
                    moment = at + timedelta(seconds=float(p["pts_time"]))
                    source.append((p["data_hash"], moment, float(p["duration_time"])))
        hashes = [h for h, _, _ in source]
        clip = [
            p["data_hash"] for p in probed["packets"] if probed["kinds"][p["stream_index"]] == kind
        ]
        assert clip, kind
        runs = [i for i in range(len(hashes) - len(clip) + 1) if hashes[i : i + len(clip)] == clip]
        assert runs, f"the {kind} packets are not the sealed ones"
        for _, moment, length in source[runs[0] : runs[0] + len(clip)]:
            assert _inside(moment, length, start, end), (kind, moment, length)


# ---- a 1 s range inside a 10 s segment -------------------------------------------------


@pytest.mark.parametrize("database_url", [None])  # real footage: SQLite is enough here
@pytest.mark.parametrize("through", ["api", "cli"])
def test_a_one_second_export_inside_a_ten_second_segment_holds_only_that_second(
    web: Web, tmp_path: Path, through: str
) -> None:
    [segment] = _seal(web, tmp_path)
    start = T0 + timedelta(seconds=3.1)
    end = start + timedelta(seconds=1)
    grant = _copy_grant(web, start, end)
    export = _export_api if through == "api" else _export_cli
    package = export(web, grant, tmp_path)
    manifest = _verified(web, package)
    [clip] = manifest.clips
    probed = _probe(package / clip.file)
    stored = Path(web.system.store.path(segment.storage_key))  # type: ignore[attr-defined]
    _assert_sealed_packets_inside(probed, [(stored, T0)], start, end)
    _assert_clip_inside(clip, probed, start, end)
    # Cut inward at keyframes: at most one GOP (0.2 s) plus one AAC frame (0.128 s) off
    # each edge; the clip is the 0.64 s between the keyframes at 3.328 s and 3.968 s.
    edge = timedelta(seconds=0.2 + 0.128)
    first, last = _instant(clip.start), _instant(clip.end)
    assert first - start <= edge and end - last <= edge, (clip.start, clip.end)
    assert [p.source for p in clip.pieces or []] == [segment.storage_key]
    assert clip.source_segments == [segment.storage_key]
    assert [leaf["action"] for leaf in access_leaves(web)[-2:]] == ["export", "export.done"]


@pytest.mark.parametrize("database_url", [None])
def test_a_watermarked_export_is_cut_inward_before_it_is_re_encoded(
    web: Web, tmp_path: Path
) -> None:
    _seal(web, tmp_path)
    start = T0 + timedelta(seconds=3.1)
    end = start + timedelta(seconds=1)
    package = _export_api(web, _copy_grant(web, start, end), tmp_path, watermark=True)
    [clip] = _verified(web, package).clips
    assert clip.watermark
    _assert_clip_inside(clip, _probe(package / clip.file), start, end)


# ---- a range spanning two segments -----------------------------------------------------


def test_an_export_spanning_two_segments_holds_only_the_range(web: Web, tmp_path: Path) -> None:
    segments = _seal(web, tmp_path, 2)
    start = T0 + timedelta(seconds=8.5)
    end = T0 + timedelta(seconds=11.5)
    package = _export_api(web, _copy_grant(web, start, end), tmp_path)
    manifest = _verified(web, package)
    [clip] = manifest.clips
    probed = _probe(package / clip.file)
    stored = [
        (Path(web.system.store.path(s.storage_key)), s.start)  # type: ignore[attr-defined]
        for s in segments
    ]
    _assert_sealed_packets_inside(probed, stored, start, end)
    assert [p.source for p in clip.pieces or []] == [s.storage_key for s in segments]
    _assert_clip_inside(clip, probed, start, end)
    # Both pieces play: the clip holds about the 3 s asked for, less the inward cuts.
    assert _instant(clip.end) - _instant(clip.start) >= timedelta(seconds=2.4)


# ---- a range without a keyframe --------------------------------------------------------


@pytest.mark.parametrize("database_url", [None])
@pytest.mark.parametrize("through", ["api", "cli"])
def test_a_range_without_a_keyframe_exports_nothing_and_says_so(
    web: Web, tmp_path: Path, through: str
) -> None:
    _seal(web, tmp_path)
    start = T0 + timedelta(seconds=3.05)
    grant = _copy_grant(web, start, start + timedelta(seconds=0.1))
    if through == "cli":
        login(web.env, "cust", PW)
    before = len(access_leaves(web))
    if through == "api":
        reply = web.api("cust").post(
            f"/api/v1/grants/{grant}/export", json={"witness": "wit", "witness_password": PW}
        )
        assert 400 <= reply.status_code < 500, reply.status_code
        assert reply.headers["content-type"].startswith("application/json")
        message = reply.json()["error"]
    else:
        out = tmp_path / "out" / "package"
        out.parent.mkdir()
        result = web.env.run(
            *("export", "--grant", str(grant), "--out", str(out)),
            *("--witness", "wit", "--witness-password-stdin"),
            input=PW + "\n",
        )
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, result.output
        message = lines[0]
        assert list(out.parent.iterdir()) == []  # no package, no staging directory left
    assert "keyframe" in message and "cam1" in message, message
    assert "\n" not in message
    # The handover is on the record (export), and that no package came of it.
    new = access_leaves(web)[before:]
    assert [leaf["action"] for leaf in new] == ["export", "export.failed"]
    assert "keyframe" in new[-1]["details"]["reason"]

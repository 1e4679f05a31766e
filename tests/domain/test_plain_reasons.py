"""Issue 22, item 9: ffmpeg's own words map to a plain reason. The messages are ffmpeg's
(5.1, captured from real runs against a closed port, an unknown host, an HTTP 404 and a
file of garbage) and the recorder's own texts built around them (supervisor.py)."""

from __future__ import annotations

import pytest

from oversight.domain.plain_reasons import REASONS, plain_reason

CASES = [
    # ffmpeg against a closed port (rtsp, tcp transport), as the recorder stores it
    (
        "ffmpeg exited with code 1: [tcp @ 0x560727864580] Connection to "
        "tcp://127.0.0.1:9?timeout=0 failed: Connection refused; "
        "rtsp://127.0.0.1:9/cam1: Connection refused",
        "unreachable",
    ),
    # an unknown host
    (
        "ffmpeg exited with code 1: [tcp @ 0x564ce93a6480] Failed to resolve hostname "
        "no-such-host.invalid: Name or service not known; "
        "rtsp://no-such-host.invalid/cam1: Input/output error",
        "unreachable",
    ),
    # a camera that refuses the credentials (RTSP DESCRIBE answered 401)
    (
        "ffmpeg exited with code 1: [rtsp @ 0x55d] method DESCRIBE failed on "
        "'rtsp://***@10.0.0.5/s': 401 Unauthorized; rtsp://***@10.0.0.5/s: Server returned "
        "401 Unauthorized (authorization failed)",
        "auth_refused",
    ),
    # an HTTP (MJPEG) camera without that path
    (
        "ffmpeg exited with code 1: http://127.0.0.1:18099/nothing.mjpg: Server returned "
        "404 Not Found",
        "not_found",
    ),
    (
        "ffmpeg exited with code 1: /tmp/garb.ts: Invalid data found when processing input",
        "bad_stream",
    ),
    ("the stream ended (ffmpeg exited with code 0)", "stream_ended"),
    ("the stream ended (ffmpeg exited with code 0): rtsp://h/x: End of file", "stream_ended"),
    ("stalled: no segment for 31 s", "stalled"),
    (
        "recorder was not running (it ended while the camera was recording: crash or kill)",
        "recorder_down",
    ),
    ("ffmpeg exited with code 0: rtsp://admin:***@10.0.0.9/live: timed out", "unreachable"),
    ("segment seg-00001.mp4 quarantined: ffprobe found no video stream", "unsealable"),
    ("ffmpeg exited with code 255", "ffmpeg_failed"),
    ("rtsp timeout", "unreachable"),
    ("something nobody foresaw", "other"),
    # a gap's reason: the recorder's text with the restarts counted
    (
        "ffmpeg exited with code 1: rtsp://127.0.0.1:9/cam1: Connection refused "
        "(4 restart attempts)",
        "unreachable",
    ),
]


@pytest.mark.parametrize(("raw", "plain"), CASES)
def test_a_real_message_maps_to_its_plain_reason(raw: str, plain: str) -> None:
    assert plain_reason(raw) == plain


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_message_is_no_reason(empty: str | None) -> None:
    assert plain_reason(empty) is None


def test_every_key_is_a_known_reason() -> None:
    assert {plain for _, plain in CASES} <= set(REASONS)

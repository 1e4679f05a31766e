"""The DESCRIBE probe: a camera's codecs from its SDP, or None so that ffprobe decides.

SDP parsing and the Digest answer are pure (the answer checked against RFC 2617's own
worked example); the rest runs against the simulator's real RTSP relay on 127.0.0.1
with real ffmpeg publishers, and is compared with what ffprobe says of the same URL.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from oversight.errors import InvalidInput
from oversight.media.ffmpeg import SourceInfo
from oversight.recorder.describe import _challenge, describe, digest_response, parse_sdp
from oversight.recorder.probe import ffprobe_source, probe_source
from oversight.sim.cameras import Audio, Codec, SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread
from tests.recorder.helpers import needs_ffmpeg

H264 = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1"
AAC = "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-generic/16000/1\r\na=fmtp:97 mode=AAC-hbr"


@pytest.mark.parametrize(
    ("sdp", "video", "audio"),
    [
        (f"v=0\r\ns=cam\r\n{H264}\r\n", "h264", None),
        (f"{H264}\r\n{AAC}\r\n", "h264", "aac"),
        ("m=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\nm=audio 0 RTP/AVP 8\n", "hevc", "pcm_alaw"),
        ("m=video 0 RTP/AVP 26\nm=audio 0 RTP/AVP 0\n", "mjpeg", "pcm_mulaw"),
        # Only the first section of each kind counts; an ONVIF metadata track is ignored.
        (
            f"{H264}\nm=video 0 RTP/AVP 98\na=rtpmap:98 XYZ/90000\nm=application 0 RTP/AVP 107\n",
            "h264",
            None,
        ),
    ],
)
def test_an_sdp_names_its_codecs_as_ffmpeg_does(sdp: str, video: str, audio: str | None) -> None:
    assert parse_sdp(sdp) == SourceInfo(video_codec=video, audio_codec=audio)


@pytest.mark.parametrize(
    "sdp",
    [
        "",
        "m=audio 0 RTP/AVP 8\n",  # no video: ffprobe words that error
        "m=video 0 RTP/AVP 96\na=rtpmap:96 H266/90000\n",  # an encoding not known here
        "m=video 0 RTP/AVP 96\n",  # a dynamic type without its rtpmap
        f"{H264}\nm=audio 0 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/8000\na=fmtp:97 mode=CELP-cbr",
        "m=video 0 RTP/AVP\n",
    ],
)
def test_an_sdp_it_cannot_read_for_sure_leaves_the_answer_to_ffprobe(sdp: str) -> None:
    assert parse_sdp(sdp) is None


def test_the_digest_answer_matches_rfc_2617s_worked_example() -> None:
    # RFC 2617 3.5: the challenge, the client's choices, and the response it computes.
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    scheme, params = _challenge(challenge)
    assert scheme == "digest" and params["qop"] == "auth,auth-int"
    answer = digest_response(
        params,
        user="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
    )
    assert answer is not None
    assert 'response="6629fae49393a05397450978507c4ef1"' in answer
    assert 'qop=auth, nc=00000001, cnonce="0a4f113b"' in answer
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in answer
    assert "Circle Of Life" not in answer


def test_a_digest_challenge_it_cannot_answer_gives_no_answer() -> None:
    for challenge in ('Digest realm="r", nonce="n", algorithm=SHA-256', 'Digest realm="r"'):
        _, params = _challenge(challenge)
        assert (
            digest_response(
                params, user="u", password="p", method="DESCRIBE", uri="rtsp://h/c", cnonce="c"
            )
            is None
        )
    _, params = _challenge('Digest realm="r", nonce="n", qop="auth-int"')
    assert digest_response(params, user="u", password="p", method="M", uri="x", cnonce="c") is None


def test_no_server_another_scheme_or_an_unknown_path_gives_none() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert describe(f"rtsp://127.0.0.1:{port}/cam1", timeout=2) is None
    assert describe("http://127.0.0.1:1/video.mjpg") is None
    assert describe("/var/footage/clip.mp4") is None


def test_a_server_that_never_answers_gives_none() -> None:
    # Accepted by the kernel's backlog, never read or answered.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert describe(f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam1", timeout=0.5) is None


# ---- against the relay and real publishers ----------------------------------------------

PASSWORD = "s3cret:pass"  # a colon too: user info is percent-decoded before use


@pytest.fixture(scope="module")
def relay() -> Iterator[RelayThread]:
    with RelayThread(credentials=("viewer", PASSWORD)) as running:
        yield running


@pytest.mark.ffmpeg
@needs_ffmpeg
@pytest.mark.parametrize(
    ("codec", "audio"), [("h264", None), ("h264", "aac"), ("h265", "pcma"), ("h265", "pcmu")]
)
def test_describe_agrees_with_ffprobe_on_a_live_camera(
    relay: RelayThread, codec: Codec, audio: Audio | None
) -> None:
    url = relay.url(f"{codec}-{audio}", with_credentials=True)
    with SimulatedCamera(url, width=320, height=180, codec=codec, audio=audio):
        described = describe(url, timeout=5)
        assert described is not None
        assert described == ffprobe_source(url, timeout=5)
        assert probe_source(url, timeout=5) == described


@pytest.mark.ffmpeg
@needs_ffmpeg
def test_wrong_credentials_leave_the_answer_and_its_error_to_ffprobe(relay: RelayThread) -> None:
    url = relay.url("cam-auth", with_credentials=True)
    wrong = url.replace("s3cret", "guess")
    with SimulatedCamera(url, width=320, height=180):
        assert describe(url, timeout=5) == SourceInfo(video_codec="h264", audio_codec=None)
        assert describe(wrong, timeout=5) is None
        assert describe(relay.url("cam-auth"), timeout=5) is None  # no credentials at all
        with pytest.raises(InvalidInput, match="source unavailable") as refused:
            probe_source(wrong, timeout=5)
        assert "guess" not in refused.value.message

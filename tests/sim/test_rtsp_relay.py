"""The simulated-camera RTSP relay, against real ffmpeg/ffprobe and a raw protocol client.

Every subprocess has a timeout and every fixture kills what it started, so a failing test
leaves no ffmpeg behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import struct
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from oversight.sim.cameras import COVERED, Picture, camera_argv, describe_status, video_filters
from oversight.sim.rtsp_proto import (
    Refusal,
    frame,
    parse_request,
    parse_transport,
    starts_keyframe,
)
from oversight.sim.rtsp_relay import RelayThread, RtspRelay
from tests.sim.helpers import probe, read, reader_argv, stream, wait_for

# -- real ffmpeg publishers and readers ----------------------------------------------------


@pytest.mark.ffmpeg
def test_reader_gets_playable_h264(relay: RelayThread, camera: Any, tmp_path: Path) -> None:
    cam = camera(relay.url("cam1"))
    done = read(cam.url, tmp_path / "out.mp4")
    assert done.returncode == 0, done.stderr
    info = probe(tmp_path / "out.mp4")
    video = stream(info, "video")
    assert video["codec_name"] == "h264"
    assert int(video["nb_read_packets"]) > 30
    assert 2.5 <= float(info["format"]["duration"]) <= 3.5


@pytest.mark.ffmpeg
def test_two_readers_at_once(relay: RelayThread, camera: Any, spawn: Any, tmp_path: Path) -> None:
    cam = camera(relay.url("cam1"))
    outs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    readers = [spawn(reader_argv(cam.url, out)) for out in outs]
    assert [r.wait(timeout=15) for r in readers] == [0, 0]
    for out in outs:
        assert int(stream(probe(out), "video")["nb_read_packets"]) > 30


@pytest.mark.ffmpeg
def test_h265(relay: RelayThread, camera: Any, tmp_path: Path) -> None:
    encoders = subprocess.run(
        ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=20
    ).stdout
    if " libx265 " not in encoders:
        pytest.skip("this ffmpeg has no libx265 encoder")
    cam = camera(relay.url("cam265"), codec="h265")
    done = read(cam.url, tmp_path / "out.mp4")
    assert done.returncode == 0, done.stderr
    video = stream(probe(tmp_path / "out.mp4"), "video")
    assert video["codec_name"] == "hevc"
    assert int(video["nb_read_packets"]) > 30


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("audio", "codec", "suffix"), [("aac", "aac", "mp4"), ("pcma", "pcm_alaw", "mkv")]
)
def test_audio_track_arrives(
    relay: RelayThread, camera: Any, tmp_path: Path, audio: str, codec: str, suffix: str
) -> None:
    cam = camera(relay.url("cam1"), audio=audio)
    out = tmp_path / f"out.{suffix}"
    done = read(cam.url, out, seconds=2)
    assert done.returncode == 0, done.stderr
    info = probe(out)
    assert stream(info, "audio")["codec_name"] == codec
    assert int(stream(info, "audio")["nb_read_packets"]) > 10
    assert int(stream(info, "video")["nb_read_packets"]) > 20


@pytest.mark.ffmpeg
def test_dead_publisher_ends_readers(
    relay: RelayThread, camera: Any, spawn: Any, tmp_path: Path
) -> None:
    cam = camera(relay.url("cam1"))
    reader = spawn(reader_argv(cam.url, tmp_path / "out.mkv", seconds=None))
    wait_for(lambda: relay.readers("cam1") == 1, timeout=8)
    cam.kill()
    killed = time.monotonic()
    reader.wait(timeout=5)
    assert time.monotonic() - killed < 5
    assert describe_status(relay.url("cam1")) == 404


@pytest.mark.ffmpeg
def test_stalled_publisher_trips_reader_timeout(
    relay: RelayThread, camera: Any, spawn: Any, tmp_path: Path
) -> None:
    cam = camera(relay.url("cam1"))
    # -timeout: ffmpeg's RTSP socket I/O timeout (µs), what a recorder relies on.
    reader = spawn(reader_argv(cam.url, tmp_path / "out.mkv", None, "-timeout", "1000000"))
    wait_for(lambda: relay.readers("cam1") == 1, timeout=8)
    cam.pause()
    reader.wait(timeout=8)  # ffmpeg treats the timeout as the end of the stream
    cam.resume()
    assert cam.running


@pytest.mark.ffmpeg
def test_unknown_path_is_404(relay: RelayThread, tmp_path: Path) -> None:
    done = read(relay.url("nope"), tmp_path / "out.mp4", seconds=1)
    assert done.returncode != 0
    assert "404" in done.stderr


@pytest.mark.ffmpeg
def test_basic_auth(camera: Any, tmp_path: Path) -> None:
    with RelayThread(credentials=("viewer", "s3cret")) as relay:
        cam = camera(relay.url("cam1", with_credentials=True))
        denied = read(relay.url("cam1"), tmp_path / "denied.mp4", seconds=1)
        assert denied.returncode != 0
        assert "401" in denied.stderr
        allowed = read(cam.url, tmp_path / "allowed.mp4", seconds=2)
        assert allowed.returncode == 0, allowed.stderr
        assert int(stream(probe(tmp_path / "allowed.mp4"), "video")["nb_read_packets"]) > 20
        cam.stop()


def test_camera_argv() -> None:
    argv = camera_argv("rtsp://127.0.0.1:1/x", fps=10, codec="h264", audio="pcmu")
    assert argv[-5:] == ["-f", "rtsp", "-rtsp_transport", "tcp", "rtsp://127.0.0.1:1/x"]
    assert argv[argv.index("-g") + 1] == "20"
    assert "pcm_mulaw" in argv and "sine=frequency=1000:sample_rate=8000" in argv
    assert "-vf" not in argv
    assert argv[argv.index("-b:v") + 1] == argv[argv.index("-maxrate") + 1] == "2000k"


@pytest.mark.parametrize(
    ("picture", "overlay", "label", "expected"),
    [
        ("normal", False, "cam1", []),
        ("covered", False, None, [COVERED]),
        ("blurred", False, None, ["boxblur=luma_radius=15:luma_power=3"]),
        ("normal", True, "cam7", ["drawtext=text='cam7 %{gmtime"]),
        ("covered", True, "bad'label", [COVERED, "drawtext=text='%{gmtime"]),  # not drawn
    ],
)
def test_video_filters(
    picture: Picture, overlay: bool, label: str | None, expected: list[str]
) -> None:
    filters = video_filters(picture, 320, 180, overlay=overlay, label=label)
    assert len(filters) == len(expected)
    assert all(f.startswith(e) for f, e in zip(filters, expected, strict=True))


# -- protocol, with a raw client -----------------------------------------------------------


def test_parse_request_and_framing() -> None:
    req = parse_request(b"SETUP rtsp://h/p/trackID=0 RTSP/1.0\r\nCSeq: 3\r\ntransport: x\r\n\r\n")
    assert (req.method, req.url, req.headers["cseq"], req.headers["transport"]) == (
        "SETUP", "rtsp://h/p/trackID=0", "3", "x",
    )  # fmt: skip
    with pytest.raises(ValueError, match="request line"):
        parse_request(b"HELLO\r\n\r\n")
    assert parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3") == (2, 3)
    assert parse_transport("RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP") is None
    with pytest.raises(Refusal) as refused:
        parse_transport("RTP/AVP;unicast;client_port=5000-5001")
    assert refused.value.status == 461
    assert frame(5, b"abc") == b"$\x05\x00\x03abc"


def test_keyframe_detection() -> None:
    header = rtp(1, 0, b"")
    assert starts_keyframe("H264", header + b"\x65\x88\x84")  # IDR slice
    assert not starts_keyframe("H264", header + b"\x41\x9a\x00")  # P slice
    assert starts_keyframe("H264", header + b"\x7c\x85\x88")  # FU-A start of an IDR
    assert not starts_keyframe("H264", header + b"\x7c\x05\x88")  # FU-A continuation
    assert starts_keyframe("H264", header + b"\x78\x00\x02\x67\x00\x00\x02\x68\x00")  # STAP
    assert starts_keyframe("H265", header + b"\x26\x01\xaf")  # IDR_W_RADL
    assert starts_keyframe("H265", header + b"\x62\x01\x93")  # FU start of IDR_W_RADL
    assert not starts_keyframe("H265", header + b"\x02\x01\xd0")  # TRAIL_R


SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=raw\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\n"
    "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:streamid=1\r\n"
)


def rtp(seq: int, ts: int, payload: bytes, pt: int = 96) -> bytes:
    return bytes([0x80, pt]) + struct.pack(">HII", seq, ts, 0x1234) + payload


class Client:
    """A minimal RTSP client: requests, responses, and '$' packets on one connection."""

    opened: ClassVar[list[Client]] = []  # closed by run_with_relay, even when a test fails midway

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.cseq = reader, writer, 0
        self.session: str | None = None
        self.packets: list[tuple[int, bytes]] = []
        Client.opened.append(self)

    @classmethod
    async def connect(cls, port: int, rcvbuf: int | None = None) -> Client:
        sock = socket.socket()
        if rcvbuf:  # before connect, so the TCP window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        return cls(*await asyncio.open_connection(sock=sock))

    async def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status, reply, content = await self.response()
        assert reply["cseq"] == str(self.cseq)
        if "session" in reply:
            self.session = reply["session"].split(";")[0]
        return status, reply, content

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        while (first := await self.reader.readexactly(1)) == b"$":  # packets before it
            self.packets.append(await self._payload())
        head = (first + await self.reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        headers = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        return int(head[0].split(" ")[1]), headers, await self.reader.readexactly(length)

    async def packet(self) -> tuple[int, bytes]:
        if self.packets:
            return self.packets.pop(0)
        assert await self.reader.readexactly(1) == b"$"
        return await self._payload()

    async def _payload(self) -> tuple[int, bytes]:
        channel, length = struct.unpack(">BH", await self.reader.readexactly(3))
        return channel, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def run_with_relay(test: Callable[[RtspRelay], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        relay = RtspRelay(**options)
        await relay.start()
        try:
            await asyncio.wait_for(test(relay), timeout=10)
        finally:
            while Client.opened:
                await Client.opened.pop().close()
            await relay.stop()

    asyncio.run(main())


async def publish(relay: RtspRelay, path: str, sdp: str = SDP) -> Client:
    pub = await Client.connect(relay.port)
    url = relay.url(path)
    status, _, _ = await pub.request(
        "ANNOUNCE", url, {"Content-Type": "application/sdp"}, sdp.encode()
    )
    assert status == 200
    for track in range(sdp.count("m=")):
        transport = f"RTP/AVP/TCP;unicast;interleaved={2 * track}-{2 * track + 1};mode=record"
        status, reply, _ = await pub.request(
            "SETUP", f"{url}/streamid={track}", {"Transport": transport}
        )
        assert (status, reply["transport"]) == (200, transport)
    status, _, _ = await pub.request("RECORD", url, {"Range": "npt=0.000-"})
    assert status == 200
    return pub


def test_options_404_461_501() -> None:
    async def check(relay: RtspRelay) -> None:
        client = await Client.connect(relay.port)
        status, reply, _ = await client.request("OPTIONS", relay.url("x"))
        assert status == 200 and "GET_PARAMETER" in reply["public"]
        assert (await client.request("DESCRIBE", relay.url("nope")))[0] == 404
        udp = {"Transport": "RTP/AVP;unicast;client_port=5000-5001"}
        assert (await client.request("SETUP", relay.url("nope/trackID=0"), udp))[0] == 461
        assert (await client.request("FLY", relay.url("x")))[0] == 501
        client.writer.write(b"OPTIONS * RTSP/1.0\r\n\r\n")  # no CSeq: 400, then closed
        assert (await client.response())[0] == 400
        assert await client.reader.read() == b""
        await client.close()

    run_with_relay(check)


def test_publish_relay_and_teardown() -> None:
    async def check(relay: RtspRelay) -> None:
        pub = await publish(relay, "site/raw")
        idr, p_frame = rtp(10, 1000, b"\x65idr"), rtp(11, 4000, b"\x41p")
        for channel, packet in [(0, rtp(9, 500, b"\x41old")), (0, idr), (0, p_frame)]:
            pub.writer.write(frame(channel, packet))
        await pub.writer.drain()
        await asyncio.sleep(0.2)  # let the relay take them in (they go to its GOP cache)

        reader = await Client.connect(relay.port)
        status, reply, sdp = await reader.request("DESCRIBE", relay.url("site/raw"))
        assert status == 200 and reply["content-base"] == relay.url("site/raw") + "/"
        assert b"a=control:trackID=0" in sdp and b"a=control:trackID=1" in sdp
        base = reply["content-base"]
        for track, pair in [(0, "4-5"), (1, "6-7")]:
            transport = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={pair}"}
            status, reply, _ = await reader.request("SETUP", f"{base}trackID={track}", transport)
            assert status == 200 and reply["transport"].endswith(f"interleaved={pair}")
        status, reply, _ = await reader.request("PLAY", relay.url("site/raw"))
        assert status == 200 and reply["range"] == "npt=0.000-"
        assert f"url={base}trackID=0;seq=10;rtptime=1000" in reply["rtp-info"]
        assert relay.readers("site/raw") == 1
        # The cached GOP (from the IDR on, not before), then live packets, on our channels.
        assert [await reader.packet(), await reader.packet()] == [(4, idr), (4, p_frame)]
        pub.writer.write(frame(3, b"rtcp") + frame(2, rtp(1, 8, b"audio", pt=0)))
        assert await reader.packet() == (7, b"rtcp")
        assert await reader.packet() == (6, rtp(1, 8, b"audio", pt=0))
        assert (await reader.request("GET_PARAMETER", relay.url("site/raw")))[0] == 200
        assert (await pub.request("TEARDOWN", relay.url("site/raw")))[0] == 200
        assert await reader.reader.read() == b""  # the source is gone, so is the reader
        assert relay.readers("site/raw") == 0
        await reader.close()
        await pub.close()

    run_with_relay(check)


def test_new_publisher_replaces_old() -> None:
    async def check(relay: RtspRelay) -> None:
        old = await publish(relay, "cam")
        new = await publish(relay, "cam")
        assert await old.reader.read() == b""
        reader = await Client.connect(relay.port)
        assert (await reader.request("DESCRIBE", relay.url("cam")))[0] == 200
        for client in (old, new, reader):
            await client.close()

    run_with_relay(check)


def test_slow_reader_is_dropped_not_waited_for() -> None:
    audio = SDP[SDP.index("m=audio") :].replace("streamid=1", "streamid=0")
    audio_only = SDP[: SDP.index("m=video")] + audio

    async def check(relay: RtspRelay) -> None:
        pub = await publish(relay, "cam", audio_only)
        readers = [await Client.connect(relay.port, rcvbuf=rb) for rb in (None, 4096)]
        for client in readers:
            transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
            assert (await client.request("SETUP", relay.url("cam/trackID=0"), transport))[0] == 200
            assert (await client.request("PLAY", relay.url("cam")))[0] == 200
        fast = readers[0]  # readers[1] is the slow one
        received = 0
        payload = rtp(0, 0, bytes(60_000), pt=0)
        for sent in range(1, 2000):  # the slow one never reads; the fast one keeps up
            pub.writer.write(frame(0, payload))
            await pub.writer.drain()
            while received < sent:
                assert await fast.packet() == (0, payload)
                received += 1
            if relay.readers("cam") == 1:
                break
        assert relay.readers("cam") == 1, "the slow reader was never dropped"
        assert received == sent
        await pub.close()
        assert await fast.reader.read() == b""
        for client in readers:
            await client.close()

    run_with_relay(check, max_reader_buffer=256 * 1024)


def test_basic_auth_protocol() -> None:
    async def check(relay: RtspRelay) -> None:
        client = await Client.connect(relay.port)
        assert (await client.request("OPTIONS", relay.url("cam")))[0] == 200  # needs no auth
        status, reply, _ = await client.request("DESCRIBE", relay.url("cam"))
        assert status == 401 and reply["www-authenticate"] == 'Basic realm="oversight-sim"'
        wrong = {"Authorization": "Basic " + base64.b64encode(b"viewer:nope").decode()}
        assert (await client.request("DESCRIBE", relay.url("cam"), wrong))[0] == 401
        right = {"Authorization": "Basic " + base64.b64encode(b"viewer:s3cret").decode()}
        assert (await client.request("DESCRIBE", relay.url("cam"), right))[0] == 404  # unpublished
        await client.close()

    run_with_relay(check, credentials=("viewer", "s3cret"))


async def play(relay: RtspRelay, path: str) -> Client:
    """A reader of ``path``'s video track (channels 0-1), playing."""
    client = await Client.connect(relay.port)
    status, reply, sdp = await client.request("DESCRIBE", relay.url(path))
    assert status == 200 and reply["content-base"] == relay.url(path) + "/"
    assert b"a=rtpmap:96 H264/90000" in sdp  # the target's SDP
    transport = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    setup = await client.request("SETUP", f"{reply['content-base']}trackID=0", transport)
    assert setup[0] == 200
    assert (await client.request("PLAY", relay.url(path)))[0] == 200
    return client


def test_alias_serves_the_target_and_fails_alone() -> None:
    async def check(relay: RtspRelay) -> None:
        pub = await publish(relay, "enc1")
        relay.alias("cam1", "enc1")
        relay.alias("cam2", "enc1")
        idr, p1, p2, p3 = (
            rtp(10 + i, 1000 * i, b"\x65idr" if i == 0 else b"\x41p") for i in range(4)
        )
        pub.writer.write(frame(0, idr))
        await pub.writer.drain()
        await asyncio.sleep(0.1)
        cam1, cam2 = await play(relay, "cam1"), await play(relay, "cam2")
        assert [await cam1.packet(), await cam2.packet()] == [(0, idr), (0, idr)]  # GOP cache
        assert (relay.readers("cam1"), relay.readers("cam2"), relay.readers("enc1")) == (1, 1, 0)
        pub.writer.write(frame(0, p1))
        assert [await cam1.packet(), await cam2.packet()] == [(0, p1), (0, p1)]

        relay.drop("cam2")  # one camera dies; the shared stream goes on for the others
        assert await cam2.reader.read() == b""
        assert (relay.readers("cam1"), relay.readers("cam2")) == (1, 0)
        other = await Client.connect(relay.port)
        assert (await other.request("DESCRIBE", relay.url("cam2")))[0] == 404
        tcp = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        assert (await other.request("SETUP", relay.url("cam2/trackID=0"), tcp))[0] == 404
        relay.restore("cam2")
        assert (await other.request("DESCRIBE", relay.url("cam2")))[0] == 200

        relay.stall("cam1")  # connection kept, nothing sent
        pub.writer.write(frame(0, p2))
        await pub.writer.drain()
        await asyncio.sleep(0.1)
        relay.unstall("cam1")
        pub.writer.write(frame(0, p3))
        assert await cam1.packet() == (0, p3)

        announce = await other.request(
            "ANNOUNCE", relay.url("cam1"), {"Content-Type": "application/sdp"}, SDP.encode()
        )
        assert announce[0] == 403  # an alias is not a publishing point
        with pytest.raises(ValueError, match="published"):
            relay.alias("enc1", "cam9")
        with pytest.raises(ValueError, match="aliases of aliases"):
            relay.alias("cam3", "cam1")
        relay.alias("cam9", "enc9")  # target not published (yet): 404
        assert (await other.request("DESCRIBE", relay.url("cam9")))[0] == 404
        relay.alias("cam1", "enc9")  # re-pointed: its readers are cut
        assert await cam1.reader.read() == b""
        relay.unalias("cam2")
        assert (await other.request("DESCRIBE", relay.url("cam2")))[0] == 404
        for client in (pub, cam1, cam2, other):
            await client.close()

    run_with_relay(check)


def test_the_relay_starts_where_the_caller_runs_an_event_loop() -> None:
    # Playwright's sync API keeps a loop running on the main thread; the relay must not
    # try to run its own loop there.
    import asyncio

    from oversight.sim.cameras import describe_status

    async def inside_a_loop() -> int:
        with RelayThread() as relay:
            return describe_status(relay.url("nothing-here"))

    assert asyncio.run(inside_a_loop()) == 404

"""A small asyncio RTSP/1.0 relay (RFC 2326), so tests and the demo get real RTSP cameras.

Publishers (``ffmpeg -f rtsp -rtsp_transport tcp rtsp://host:port/PATH``) ANNOUNCE an SDP,
SETUP each track and RECORD; readers (``ffmpeg -rtsp_transport tcp -i ...``) DESCRIBE,
SETUP and PLAY, and then get every RTP/RTCP packet the publisher sends, as with mediamtx.
Deliberately small, and so with limits:

- TCP-interleaved transport only (``RTP/AVP/TCP``): a UDP or multicast SETUP gets
  ``461 Unsupported Transport``.
- Basic auth only, no Digest. With ``credentials`` set, every request except OPTIONS needs
  them, from publishers and readers alike.
- Live only: PLAY starts "now", Range/Scale/seeking are ignored, PAUSE stops delivery. A
  session lives as long as its TCP connection; the advertised timeout is not enforced.
- A reader whose unsent data passes ``max_reader_buffer`` bytes is dropped (closed), so a
  slow reader never holds up the publisher or the other readers.
- One publisher per path; a new one replaces the old (which is closed, with its readers).

Unlike mediamtx, a new reader of an H.264/H.265 stream first gets the packets since the
last keyframe (a GOP cache, as in SRS or nginx-rtmp), so its recording is decodable from
the first frame instead of losing up to a GOP of video.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import secrets
import signal
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

REALM = "oversight-sim"
SESSION_TIMEOUT = 60
MAX_BODY = 64 * 1024  # an SDP is a few hundred bytes; refuse anything absurd
MAX_READER_BUFFER = 4 * 1024 * 1024
PUBLIC = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER"
# HTTP's reason phrases, plus RTSP's own (RFC 2326 7.1.1).
REASONS = {status.value: status.phrase for status in HTTPStatus}
REASONS |= {454: "Session Not Found", 455: "Method Not Valid in This State"}
REASONS |= {461: "Unsupported Transport"}
Headers = dict[str, str]
Credentials = tuple[str, str]


class _Refusal(Exception):
    """Turned into an error response; the connection stays open (RTSP allows retries)."""

    def __init__(self, status: int, headers: Headers | None = None) -> None:
        self.status, self.headers = status, headers or {}


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Headers  # names lower-cased: RTSP header names are case-insensitive
    body: bytes = b""


def parse_request(head: bytes) -> Request:
    """Parse a request line and headers (everything up to the blank line)."""
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").strip("\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("RTSP/"):
        raise ValueError(f"bad request line: {lines[0][:80]!r}")
    headers: Headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0].upper(), parts[1], headers)


def parse_transport(value: str) -> tuple[int, int] | None:
    """The interleaved channel pair of the first TCP spec in a Transport header.

    None when the TCP spec names no channels (the relay picks them); a header with no
    TCP spec at all is refused with 461, since this relay does not send RTP over UDP.
    """
    for spec in value.split(","):
        params = [p.strip() for p in spec.split(";")]
        if params[0].upper() != "RTP/AVP/TCP":
            continue
        for param in params[1:]:
            if param.lower().startswith("interleaved="):
                first, _, second = param[len("interleaved=") :].partition("-")
                try:
                    pair = (int(first), int(second) if second else int(first) + 1)
                except ValueError:
                    raise _Refusal(400) from None
                if not all(0 <= c <= 255 for c in pair):
                    raise _Refusal(400)
                return pair
        return None
    raise _Refusal(461)


def frame(channel: int, payload: bytes) -> bytes:
    """One interleaved packet: '$', channel, 16-bit big-endian length, payload (RFC 2326 10.12)."""
    return struct.pack(">cBH", b"$", channel, len(payload)) + payload


def _split_url(url: str) -> tuple[str, str]:
    """(URL without credentials, query or trailing slash; path without outer slashes)."""
    parts = urlsplit(url)
    path = unquote(parts.path).strip("/")
    return f"{parts.scheme or 'rtsp'}://{parts.netloc.rpartition('@')[2]}/{quote(path)}", path


def _nal_types(codec: str, rtp: bytes) -> list[int]:
    """NAL unit types starting in one RTP packet (RFC 6184 / RFC 7798 payloads)."""
    start = 12 + 4 * (rtp[0] & 0x0F) if rtp else 0  # fixed header, then CSRCs
    if rtp and rtp[0] & 0x10 and len(rtp) >= start + 4:  # header extension
        start += 4 + 4 * int.from_bytes(rtp[start + 2 : start + 4], "big")
    nal = rtp[start:]
    if len(rtp) < 12 or len(nal) < 3:  # shorter ones carry no slice worth caching from
        return []
    h264 = codec == "H264"
    kind = nal[0] & 0x1F if h264 else (nal[0] >> 1) & 0x3F
    if kind == (28 if h264 else 49):  # fragment: counts only where the NAL starts
        fu = nal[1] if h264 else nal[2]
        return [fu & (0x1F if h264 else 0x3F)] if fu & 0x80 else []
    if kind == (24 if h264 else 48):  # aggregation: a 16-bit size before each NAL
        types, pos = [], 1 if h264 else 2
        while pos + 2 < len(nal):
            types.append(nal[pos + 2] & 0x1F if h264 else (nal[pos + 2] >> 1) & 0x3F)
            pos += 2 + int.from_bytes(nal[pos : pos + 2], "big")
        return types
    return [kind]


def _starts_keyframe(codec: str, rtp: bytes) -> bool:
    """IDR or SPS (H.264); IRAP, VPS or SPS (H.265)."""
    keys = {5, 7} if codec == "H264" else {16, 17, 18, 19, 20, 21, 32, 33}
    return any(t in keys for t in _nal_types(codec, rtp))


@dataclass(eq=False)
class _Stream:
    """One published path: the publisher's SDP, its channels, and who is watching."""

    path: str
    session_sdp: list[str]
    media: list[list[str]]  # one list of SDP lines per track
    publisher: _Conn
    pub_channels: dict[int, tuple[int, int]] = field(default_factory=dict)  # track -> pair
    last_rtp: dict[int, tuple[int, int]] = field(default_factory=dict)  # track -> (seq, ts)
    readers: set[_Conn] = field(default_factory=set)
    video: tuple[int, str] | None = None  # (publisher RTP channel, "H264" | "H265")
    gop: list[tuple[int, bytes]] = field(default_factory=list)  # (channel, packet) since key
    gop_bytes: int = 0
    gop_ts: int | None = None  # RTP timestamp of the keyframe the cache starts with

    @classmethod
    def announced(cls, path: str, sdp: bytes, publisher: _Conn) -> _Stream:
        lines = [ln for ln in sdp.decode("utf-8", "replace").splitlines() if ln.strip()]
        session: list[str] = []
        media: list[list[str]] = []
        for line in lines:
            if line.startswith("m="):
                media.append([line])
            else:
                (media[-1] if media else session).append(line)
        if not media:
            raise _Refusal(400)
        return cls(path, session, media, publisher)

    def codec(self, track: int) -> str | None:
        """The track's encoding if it is H.264/H.265 video (the ones the cache handles)."""
        for line in self.media[track] if self.media[track][0].startswith("m=video") else []:
            if line.startswith("a=rtpmap:"):
                name = line.split(" ", 1)[-1].split("/")[0].upper()
                return {"H264": "H264", "H265": "H265", "HEVC": "H265"}.get(name)
        return None

    def track_of(self, path: str) -> int:
        """The track a SETUP URL path names: the publisher's control or ``trackID=N``."""
        rest = path[len(self.path) + 1 :] if path.startswith(self.path + "/") else ""
        if path != self.path and not rest:
            raise _Refusal(404)
        for i, media in enumerate(self.media):
            if rest == f"trackID={i}" or f"a=control:{rest}" in media:
                return i
        if rest == "" and len(self.media) == 1:
            return 0
        raise _Refusal(404)

    def reader_sdp(self) -> bytes:
        """The publisher's SDP with controls rewritten to ``trackID=N`` under Content-Base."""
        lines = [ln for ln in self.session_sdp if not ln.startswith("a=control:")]
        lines.append("a=control:*")
        for i, media in enumerate(self.media):
            lines += [ln for ln in media if not ln.startswith("a=control:")]
            lines.append(f"a=control:trackID={i}")
        return ("\r\n".join(lines) + "\r\n").encode()


@dataclass(eq=False)
class _Conn:
    """One client connection; RTSP-over-TCP ties the session to it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    session: str = field(default_factory=lambda: secrets.token_hex(8))
    announced: _Stream | None = None  # publisher: the stream it ANNOUNCEd
    recording: bool = False
    source: _Stream | None = None  # reader: the stream it SETUP
    tracks: dict[int, tuple[int, int]] = field(default_factory=dict)  # track -> our pair
    out: dict[int, int] = field(default_factory=dict)  # publisher channel -> our channel

    def send(self, cseq: str, status: int, headers: Headers, body: bytes = b"") -> None:
        lines = [f"RTSP/1.0 {status} {REASONS[status]}", f"CSeq: {cseq}", "Server: oversight-sim"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        # One write per message, so a response never lands inside a '$' packet.
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def session_header(self) -> Headers:
        return {"Session": f"{self.session};timeout={SESSION_TIMEOUT}"}


class RtspRelay:
    """The relay server. Use from a running event loop; see :class:`RelayThread` otherwise."""

    def __init__(
        self, *, credentials: Credentials | None = None, max_reader_buffer: int = MAX_READER_BUFFER
    ) -> None:
        self._credentials = credentials
        self._max_reader_buffer = max_reader_buffer
        self._server: asyncio.Server | None = None
        self._streams: dict[str, _Stream] = {}
        self._conns: set[_Conn] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.host, self.port = "127.0.0.1", 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def url(self, path: str, *, with_credentials: bool = False) -> str:
        userinfo = ""
        if with_credentials and self._credentials:
            userinfo = ":".join(quote(part, safe="") for part in self._credentials) + "@"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        return f"rtsp://{userinfo}{host}:{self.port}/{quote(path.strip('/'))}"

    def readers(self, path: str) -> int:
        """How many readers are playing ``path`` now (0 when it is not published)."""
        stream = self._streams.get(path.strip("/"))
        return len(stream.readers) if stream else 0

    # -- connection loop -------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Conn(reader, writer)
        self._conns.add(conn)
        try:
            await self._serve(conn)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the peer went away or sent garbage; either way the connection is over
        finally:
            self._forget(conn)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _serve(self, conn: _Conn) -> None:
        while True:
            # 4 bytes tell a '$' packet header from a request line ("PLAY" is the shortest).
            head = await conn.reader.readexactly(4)
            if head[0] == 0x24:
                payload = await conn.reader.readexactly(int.from_bytes(head[2:4], "big"))
                if conn.recording and conn.announced is not None:
                    self._fan_out(conn.announced, head[1], payload)
                continue  # a reader's RTCP receiver reports are not needed
            head += await conn.reader.readuntil(b"\r\n\r\n")
            try:
                req = parse_request(head)
                length = int(req.headers.get("content-length", "0"))
            except ValueError:
                conn.send("0", 400, {})
                return
            if not 0 <= length <= MAX_BODY:
                conn.send(req.headers.get("cseq", "0"), 413, {})
                return
            if length:
                body = await conn.reader.readexactly(length)
                req = Request(req.method, req.url, req.headers, body)
            if not self._respond(conn, req):
                return

    def _respond(self, conn: _Conn, req: Request) -> bool:
        """Answer one request; False when the connection should close."""
        cseq = req.headers.get("cseq")
        if cseq is None:
            conn.send("0", 400, {})
            return False
        handler: Callable[[_Conn, Request], Headers | tuple[Headers, bytes]]
        handler = getattr(self, f"_on_{req.method.lower()}", self._on_unknown)
        try:
            if req.method != "OPTIONS" and not self._authorized(req):
                raise _Refusal(401, {"WWW-Authenticate": f'Basic realm="{REALM}"'})
            if req.headers.get("session", conn.session).split(";")[0].strip() != conn.session:
                raise _Refusal(454)
            result = handler(conn, req)
        except _Refusal as refusal:
            conn.send(cseq, refusal.status, refusal.headers)
            return True
        headers, body = result if isinstance(result, tuple) else (result, b"")
        conn.send(cseq, 200, headers, body)
        if req.method == "PLAY" and conn.source is not None:
            for channel, packet in conn.source.gop:  # the cached GOP, right after the 200
                if channel in conn.out:
                    conn.writer.write(frame(conn.out[channel], packet))
        return req.method != "TEARDOWN"

    def _authorized(self, req: Request) -> bool:
        if self._credentials is None:
            return True
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except binascii.Error:
            return False
        expected = ":".join(self._credentials).encode()
        return scheme.lower() == "basic" and hmac.compare_digest(given, expected)

    # -- fan-out and teardown ----------------------------------------------------------

    def _fan_out(self, stream: _Stream, channel: int, payload: bytes) -> None:
        track = next((t for t, pair in stream.pub_channels.items() if channel == pair[0]), None)
        if track is not None and len(payload) >= 8:
            stream.last_rtp[track] = struct.unpack(">HI", payload[2:8])  # for RTP-Info
        if stream.video is not None:
            self._cache(stream, stream.video, channel, payload)
        for reader in list(stream.readers):
            out = reader.out.get(channel)
            if out is None:
                continue
            transport = reader.writer.transport
            if transport.get_write_buffer_size() > self._max_reader_buffer:
                log.warning("dropping slow reader of %s", stream.path)
                stream.readers.discard(reader)
                transport.abort()
                continue
            transport.write(frame(out, payload))

    def _cache(self, stream: _Stream, video: tuple[int, str], channel: int, payload: bytes) -> None:
        """Keep every packet since the last keyframe, for readers that join later."""
        if channel == video[0] and _starts_keyframe(video[1], payload):
            ts = int.from_bytes(payload[4:8], "big")
            if ts != stream.gop_ts:  # SPS, PPS and IDR slices of one picture share a ts
                stream.gop.clear()
                stream.gop_bytes, stream.gop_ts = 0, ts
        if stream.gop_ts is None:
            return
        stream.gop.append((channel, payload))
        stream.gop_bytes += len(payload)
        if stream.gop_bytes > self._max_reader_buffer // 2:  # keyframes too rare to cache
            stream.gop.clear()
            stream.gop_bytes, stream.gop_ts = 0, None

    def _end(self, stream: _Stream) -> None:
        """Close a stream's readers (so their ffmpeg sees the source die) and publisher."""
        if self._streams.get(stream.path) is stream:
            del self._streams[stream.path]
        for reader in list(stream.readers):
            reader.writer.close()  # flushes what is queued, then FIN
        stream.readers.clear()
        stream.publisher.writer.close()

    def _forget(self, conn: _Conn) -> None:
        self._conns.discard(conn)
        if conn.source is not None:
            conn.source.readers.discard(conn)
        if conn.announced is not None and conn.recording:
            self._end(conn.announced)

    # -- methods -------------------------------------------------------------------------

    def _on_unknown(self, conn: _Conn, req: Request) -> Headers:
        raise _Refusal(501)

    def _on_options(self, conn: _Conn, req: Request) -> Headers:
        return {"Public": PUBLIC}

    def _on_describe(self, conn: _Conn, req: Request) -> tuple[Headers, bytes]:
        base, path = _split_url(req.url)
        stream = self._streams.get(path)
        if stream is None:
            raise _Refusal(404)
        headers = {"Content-Base": base + "/", "Content-Type": "application/sdp"}
        return headers, stream.reader_sdp()

    def _on_announce(self, conn: _Conn, req: Request) -> Headers:
        _, path = _split_url(req.url)
        if conn.recording or conn.source is not None or not path:
            raise _Refusal(455 if path else 400)
        conn.announced = _Stream.announced(path, req.body, conn)
        return {}

    def _on_setup(self, conn: _Conn, req: Request) -> Headers:
        pair = parse_transport(req.headers.get("transport", ""))
        _, path = _split_url(req.url)
        stream = conn.announced or self._find(path)
        if conn.recording or conn.out or conn.source not in (None, stream):
            raise _Refusal(455)  # no SETUP while streaming, nor of two streams at once
        track = stream.track_of(path)
        pair = pair or (2 * track, 2 * track + 1)
        mode = ""
        if conn.announced is not None:  # a publisher setting up one of its tracks
            stream.pub_channels[track], mode = pair, ";mode=record"
            codec = stream.codec(track)
            if codec is not None and stream.video is None:
                stream.video = (pair[0], codec)
        else:
            conn.source, conn.tracks[track] = stream, pair
        transport = f"RTP/AVP/TCP;unicast;interleaved={pair[0]}-{pair[1]}{mode}"
        return {"Transport": transport, **conn.session_header()}

    def _on_play(self, conn: _Conn, req: Request) -> Headers:
        stream = conn.source
        if stream is None or self._streams.get(stream.path) is not stream:
            raise _Refusal(455 if stream is None else 404)
        base, _ = _split_url(req.url)
        # RTP-Info names each track's first packet the reader gets (the cached keyframe's,
        # or the next live one), so that ffmpeg's timestamps start near zero.
        rtp_channels = {pair[0] for pair in stream.pub_channels.values()}
        first: dict[int, tuple[int, int]] = {}
        for channel, packet in stream.gop:
            if channel in rtp_channels and channel not in first and len(packet) >= 8:
                seq, ts = struct.unpack(">HI", packet[2:8])
                first[channel] = (seq - 1, ts)  # as if it were the last packet sent
        infos = []
        for track, (rtp, rtcp) in sorted(conn.tracks.items()):
            pub_rtp, pub_rtcp = stream.pub_channels.get(track, (-1, -1))
            conn.out[pub_rtp], conn.out[pub_rtcp] = rtp, rtcp
            info = f"url={base}/trackID={track}"
            head = first.get(pub_rtp, stream.last_rtp.get(track))
            if head is not None:
                info += f";seq={(head[0] + 1) & 0xFFFF};rtptime={head[1]}"
            infos.append(info)
        # Packets are fanned out by the publisher's task, which cannot run before this
        # reply and the cached GOP are written (no await in between), so order holds.
        stream.readers.add(conn)
        return {"Range": "npt=0.000-", "RTP-Info": ",".join(infos), **conn.session_header()}

    def _on_record(self, conn: _Conn, req: Request) -> Headers:
        stream = conn.announced
        if stream is None or not stream.pub_channels or conn.recording:
            raise _Refusal(455)
        old = self._streams.get(stream.path)
        if old is not None:
            log.info("new publisher replaces the old one on %s", stream.path)
            self._end(old)
        self._streams[stream.path], conn.recording = stream, True
        return conn.session_header()

    def _on_pause(self, conn: _Conn, req: Request) -> Headers:
        if conn.source is not None:
            conn.source.readers.discard(conn)
        return conn.session_header()

    _on_teardown = _on_pause  # and then the connection closes (see _respond)

    def _on_get_parameter(self, conn: _Conn, req: Request) -> Headers:
        return conn.session_header()  # ffmpeg's keep-alive

    def _find(self, path: str) -> _Stream:
        """The published stream whose path is ``path`` or its longest prefix (track URLs)."""
        found = [s for n, s in self._streams.items() if path == n or path.startswith(n + "/")]
        if not found:
            raise _Refusal(404)
        return max(found, key=lambda stream: len(stream.path))


class RelayThread:
    """An :class:`RtspRelay` on its own event loop in a daemon thread, for sync code.

    ``with RelayThread() as relay: relay.url("cam1")``; stopping joins the thread and
    closes the loop and every socket, so nothing is left for a ResourceWarning.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: Credentials | None = None,
        max_reader_buffer: int = MAX_READER_BUFFER,
    ) -> None:
        self.relay = RtspRelay(credentials=credentials, max_reader_buffer=max_reader_buffer)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.relay.port

    def url(self, path: str, *, with_credentials: bool = False) -> str:
        return self.relay.url(path, with_credentials=with_credentials)

    def readers(self, path: str) -> int:
        """:meth:`RtspRelay.readers`, asked on the relay's own loop."""
        if self._loop is None:
            raise RuntimeError("relay thread not running")

        async def count() -> int:
            return self.relay.readers(path)

        return asyncio.run_coroutine_threadsafe(count(), self._loop).result(timeout=5)

    def start(self) -> RelayThread:
        if self._thread is not None:
            raise RuntimeError("relay thread already started")
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.relay.start(self._host, self._port))
        except BaseException:
            loop.close()
            raise
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="rtsp-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        # The loop thread has returned: finish the shutdown here, on the stopped loop.
        loop.run_until_complete(self.relay.stop())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> RelayThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="RTSP relay for simulated cameras (TCP only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--user", help="require Basic auth with this user name")
    parser.add_argument("--password", help="the password for --user")
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    credentials = (args.user, args.password) if args.user is not None else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def serve() -> None:
        relay = RtspRelay(credentials=credentials)
        await relay.start(args.host, args.port)
        log.info("RTSP relay on %s (basic auth: %s)", relay.url(""), credentials is not None)
        stopping = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):  # clean exit under make or a supervisor
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        await stopping.wait()
        await relay.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()

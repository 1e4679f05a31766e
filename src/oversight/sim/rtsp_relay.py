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

Many simulated cameras share a few encoders: :meth:`RtspRelay.alias` makes a path serve
another path's stream (its SDP, DESCRIBE/SETUP/PLAY as for a published path), as a shared
media factory serves many clients. Each path, alias or not, can fail on its own:
:meth:`RtspRelay.drop` closes the path's readers and refuses it (404) until
:meth:`RtspRelay.restore` (a dead camera); :meth:`RtspRelay.stall` keeps its connections
open but sends them nothing until :meth:`RtspRelay.unstall` (a stalled camera), and
:meth:`RtspRelay.jump_clock` moves the RTP timestamps its readers get by some seconds from
then on, as a camera whose clock is set forward or back does (RTCP reports are left alone,
so the jump shows against them too).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import secrets
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote

from oversight.sim.rtsp_proto import (
    MAX_BODY,
    PUBLIC,
    REALM,
    REASONS,
    SESSION_TIMEOUT,
    Credentials,
    Headers,
    Refusal,
    Request,
    basic_auth_ok,
    frame,
    parse_request,
    parse_transport,
    path_rest,
    reader_sdp,
    sdp_clock_rate,
    sdp_codec,
    sdp_track,
    split_sdp,
    split_url,
    starts_keyframe,
)

log = logging.getLogger(__name__)

MAX_READER_BUFFER = 4 * 1024 * 1024
_T = TypeVar("_T")


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
        session, media = split_sdp(sdp)
        return cls(path, session, media, publisher)


@dataclass(eq=False)
class _Conn:
    """One client connection; RTSP-over-TCP ties the session to it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    session: str = field(default_factory=lambda: secrets.token_hex(8))
    announced: _Stream | None = None  # publisher: the stream it ANNOUNCEd
    recording: bool = False
    source: _Stream | None = None  # reader: the stream it SETUP
    via: str | None = None  # reader: the path name it SETUP (the stream's, or an alias)
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
        self._aliases: dict[str, str] = {}  # alias path -> published path
        self._dropped: set[str] = set()
        self._stalled: set[str] = set()
        self._jumps: dict[str, float] = {}  # path -> seconds added to its RTP timestamps
        self._pending: dict[_Conn, list[bytes]] = {}  # reader -> framed packets to send
        self._flush_due = False
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
        """How many readers are playing ``path`` now (a published path or an alias)."""
        name = path.strip("/")
        return sum(c.via == name for s in self._streams.values() for c in s.readers)

    # -- aliases, dead and stalled paths ---------------------------------------------------

    def alias(self, name: str, target: str) -> None:
        """Serve the stream published at ``target`` (now or later) at ``name`` too.

        Re-pointing an existing alias closes its readers, which then reconnect to the
        new target. An alias of an alias, or of a published path, is a ValueError.
        """
        name, target = name.strip("/"), target.strip("/")
        if not name or not target or name == target:
            raise ValueError(f"bad alias {name!r} -> {target!r}")
        if name in self._streams:
            raise ValueError(f"{name!r} is published, so it cannot be an alias")
        if target in self._aliases or name in self._aliases.values():
            raise ValueError(f"alias {name!r} -> {target!r}: aliases of aliases are not served")
        old, self._aliases[name] = self._aliases.get(name), target
        if old not in (None, target):
            self._cut(name)

    def unalias(self, name: str) -> None:
        """Stop serving alias ``name`` (its readers are closed)."""
        name = name.strip("/")
        if self._aliases.pop(name, None) is not None:
            self._cut(name)

    def drop(self, path: str) -> None:
        """The camera at ``path`` dies: its readers are closed and it is refused (404)
        until :meth:`restore`. Other paths of the same stream are not affected."""
        path = path.strip("/")
        self._dropped.add(path)
        self._cut(path)

    def restore(self, path: str) -> None:
        self._dropped.discard(path.strip("/"))

    def stall(self, path: str) -> None:
        """The camera at ``path`` stalls: connections stay open, no packets flow."""
        self._stalled.add(path.strip("/"))

    def unstall(self, path: str) -> None:
        self._stalled.discard(path.strip("/"))

    def jump_clock(self, path: str, seconds: float) -> None:
        """The camera at ``path`` jumps its clock by ``seconds`` (forward if positive): every
        RTP timestamp its readers get from now on is moved by that much (cumulative)."""
        name = path.strip("/")
        self._jumps[name] = self._jumps.get(name, 0.0) + seconds

    def _cut(self, name: str) -> None:
        self._flush()
        for conn in list(self._conns):
            if conn.via == name:
                if conn.source is not None:
                    conn.source.readers.discard(conn)
                conn.writer.close()  # flushes what is queued, then FIN

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
                raise Refusal(401, {"WWW-Authenticate": f'Basic realm="{REALM}"'})
            if req.headers.get("session", conn.session).split(";")[0].strip() != conn.session:
                raise Refusal(454)
            result = handler(conn, req)
        except Refusal as refusal:
            conn.send(cseq, refusal.status, refusal.headers)
            return True
        headers, body = result if isinstance(result, tuple) else (result, b"")
        conn.send(cseq, 200, headers, body)
        if req.method == "PLAY" and conn.source is not None and conn.via not in self._stalled:
            for channel, packet in conn.source.gop:  # the cached GOP, right after the 200
                if channel in conn.out:
                    packet = self._jumped(conn.source, conn.via, channel, packet)
                    conn.writer.write(frame(conn.out[channel], packet))
        return req.method != "TEARDOWN"

    def _authorized(self, req: Request) -> bool:
        given = req.headers.get("authorization", "")
        return self._credentials is None or basic_auth_ok(given, self._credentials)

    # -- fan-out and teardown ----------------------------------------------------------

    def _fan_out(self, stream: _Stream, channel: int, payload: bytes) -> None:
        track = next((t for t, pair in stream.pub_channels.items() if channel == pair[0]), None)
        if track is not None and len(payload) >= 8:
            stream.last_rtp[track] = struct.unpack(">HI", payload[2:8])  # for RTP-Info
        if stream.video is not None:
            self._cache(stream, stream.video, channel, payload)
        stalled = self._stalled
        framed: dict[tuple[int, str | None], bytes] = {}  # readers mostly share channels
        for reader in list(stream.readers):
            out = reader.out.get(channel)
            if out is None or (stalled and reader.via in stalled):
                continue
            transport = reader.writer.transport
            if transport.is_closing():  # gone; its task has yet to forget it
                stream.readers.discard(reader)
                continue
            if transport.get_write_buffer_size() > self._max_reader_buffer:
                log.warning("dropping slow reader of %s", reader.via)
                stream.readers.discard(reader)
                transport.abort()
                continue
            via = reader.via if self._jumps else None
            data = framed.get((out, via))
            if data is None:
                packet = self._jumped(stream, via, channel, payload)
                data = framed[(out, via)] = frame(out, packet)
            self._pending.setdefault(reader, []).append(data)
        if self._pending and not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _jumped(self, stream: _Stream, via: str | None, channel: int, payload: bytes) -> bytes:
        """``payload`` with its RTP timestamp moved by the jump of path ``via`` (RTP only:
        the even channel of a track's pair; RTCP passes unchanged)."""
        seconds = self._jumps.get(via or "", 0.0)
        if not seconds or len(payload) < 12:
            return payload
        track = next((t for t, pair in stream.pub_channels.items() if channel == pair[0]), None)
        if track is None:
            return payload
        ticks = round(seconds * sdp_clock_rate(stream.media[track]))
        ts = (int.from_bytes(payload[4:8], "big") + ticks) & 0xFFFFFFFF
        return payload[:4] + ts.to_bytes(4, "big") + payload[8:]

    def _flush(self) -> None:
        """Send what :meth:`_fan_out` queued once the publisher waits for input: a burst
        (a frame is a dozen packets, sent together as a camera does) is one send."""
        pending, self._pending, self._flush_due = self._pending, {}, False
        for reader, chunks in pending.items():
            if not reader.writer.transport.is_closing():
                reader.writer.transport.write(b"".join(chunks))

    def _cache(self, stream: _Stream, video: tuple[int, str], channel: int, payload: bytes) -> None:
        """Keep every packet since the last keyframe, for readers that join later."""
        if channel == video[0] and starts_keyframe(video[1], payload):
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
        self._flush()  # what came before the end still goes out
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
        raise Refusal(501)

    def _on_options(self, conn: _Conn, req: Request) -> Headers:
        return {"Public": PUBLIC}

    def _on_describe(self, conn: _Conn, req: Request) -> tuple[Headers, bytes]:
        base, path = split_url(req.url)
        stream, _, rest = self._resolve(path)
        if rest:
            raise Refusal(404)
        headers = {"Content-Base": base + "/", "Content-Type": "application/sdp"}
        return headers, reader_sdp(stream.session_sdp, stream.media)

    def _on_announce(self, conn: _Conn, req: Request) -> Headers:
        _, path = split_url(req.url)
        if conn.recording or conn.source is not None or not path:
            raise Refusal(455 if path else 400)
        if path in self._aliases:
            raise Refusal(403)  # an alias serves another path's stream
        conn.announced = _Stream.announced(path, req.body, conn)
        return {}

    def _on_setup(self, conn: _Conn, req: Request) -> Headers:
        pair = parse_transport(req.headers.get("transport", ""))
        _, path = split_url(req.url)
        if conn.announced is not None:
            stream, name = conn.announced, conn.announced.path
            rest = path_rest(name, path)
        else:
            stream, name, rest = self._resolve(path)
        if conn.recording or conn.out or conn.source not in (None, stream):
            raise Refusal(455)  # no SETUP while streaming, nor of two streams at once
        if conn.via not in (None, name) or rest is None:
            raise Refusal(455 if rest is not None else 404)
        track = sdp_track(stream.media, rest)
        pair = pair or (2 * track, 2 * track + 1)
        mode = ""
        if conn.announced is not None:  # a publisher setting up one of its tracks
            stream.pub_channels[track], mode = pair, ";mode=record"
            codec = sdp_codec(stream.media[track])
            if codec is not None and stream.video is None:
                stream.video = (pair[0], codec)
        else:
            conn.source, conn.via, conn.tracks[track] = stream, name, pair
        transport = f"RTP/AVP/TCP;unicast;interleaved={pair[0]}-{pair[1]}{mode}"
        return {"Transport": transport, **conn.session_header()}

    def _on_play(self, conn: _Conn, req: Request) -> Headers:
        stream, via = conn.source, conn.via
        if stream is None or via is None:
            raise Refusal(455)
        live = self._streams.get(self._aliases.get(via, via))
        if live is not stream or via in self._dropped:
            raise Refusal(404)  # gone, replaced, dropped or re-pointed since SETUP
        base, _ = split_url(req.url)
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
            raise Refusal(455)
        if stream.path in self._aliases:
            raise Refusal(403)
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

    def _resolve(self, path: str) -> tuple[_Stream, str, str]:
        """(stream, path name, rest) for a reader's request path: the published path or
        alias that is ``path`` or its longest prefix (track URLs); 404 if none, if it is
        dropped, or if an alias's target is not published."""
        best: tuple[str, str] | None = None
        for name in itertools.chain(self._streams, self._aliases):
            rest = path_rest(name, path)
            if rest is not None and (best is None or len(name) > len(best[0])):
                best = (name, rest)
        if best is None or best[0] in self._dropped:
            raise Refusal(404)
        stream = self._streams.get(self._aliases.get(best[0], best[0]))
        if stream is None:
            raise Refusal(404)
        return stream, best[0], best[1]


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
        return self._call(self.relay.readers, path)

    # :meth:`RtspRelay.alias` and the others, run on the relay's loop.
    def alias(self, name: str, target: str) -> None:
        self._call(self.relay.alias, name, target)

    def unalias(self, name: str) -> None:
        self._call(self.relay.unalias, name)

    def drop(self, path: str) -> None:
        self._call(self.relay.drop, path)

    def restore(self, path: str) -> None:
        self._call(self.relay.restore, path)

    def stall(self, path: str) -> None:
        self._call(self.relay.stall, path)

    def unstall(self, path: str) -> None:
        self._call(self.relay.unstall, path)

    def jump_clock(self, path: str, seconds: float) -> None:
        self._call(self.relay.jump_clock, path, seconds)

    def _call(self, method: Callable[..., _T], *args: object) -> _T:
        if self._loop is None:
            raise RuntimeError("relay thread not running")

        async def call() -> _T:
            return method(*args)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=5)

    def start(self) -> RelayThread:
        """Start the relay's event loop in its own thread and wait until it listens.

        Start-up and shutdown run on that thread too, never on the caller's: a caller
        may have an event loop of its own running (Playwright's sync API does)."""
        if self._thread is not None:
            raise RuntimeError("relay thread already started")
        loop = asyncio.new_event_loop()
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.relay.start(self._host, self._port))
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(None)
            loop.run_forever()
            # Stopped by stop(): finish the shutdown here, on the loop's own thread.
            loop.run_until_complete(self.relay.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=run, name="rtsp-relay", daemon=True)
        thread.start()
        try:
            started.result()
        except BaseException:
            thread.join()
            raise
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._loop = self._thread = None

    def __enter__(self) -> RelayThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

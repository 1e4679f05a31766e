"""RTSP/1.0 wire format for the relay (RFC 2326): requests, Transport headers, interleaved
framing, and where H.264/H.265 keyframes start in RTP payloads (RFC 6184 / RFC 7798).

Pure functions and values, no sockets; :mod:`oversight.sim.rtsp_relay` is the server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, unquote, urlsplit

REALM = "oversight-sim"
SESSION_TIMEOUT = 60
MAX_BODY = 64 * 1024  # an SDP is a few hundred bytes; refuse anything absurd
PUBLIC = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, RECORD, TEARDOWN, GET_PARAMETER"
# HTTP's reason phrases, plus RTSP's own (RFC 2326 7.1.1).
REASONS = {status.value: status.phrase for status in HTTPStatus}
REASONS |= {454: "Session Not Found", 455: "Method Not Valid in This State"}
REASONS |= {461: "Unsupported Transport"}
Headers = dict[str, str]
Credentials = tuple[str, str]


class Refusal(Exception):
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
                    raise Refusal(400) from None
                if not all(0 <= c <= 255 for c in pair):
                    raise Refusal(400)
                return pair
        return None
    raise Refusal(461)


def frame(channel: int, payload: bytes) -> bytes:
    """One interleaved packet: '$', channel, 16-bit big-endian length, payload (RFC 2326 10.12)."""
    return struct.pack(">cBH", b"$", channel, len(payload)) + payload


def split_url(url: str) -> tuple[str, str]:
    """(URL without credentials, query or trailing slash; path without outer slashes)."""
    parts = urlsplit(url)
    path = unquote(parts.path).strip("/")
    return f"{parts.scheme or 'rtsp'}://{parts.netloc.rpartition('@')[2]}/{quote(path)}", path


def path_rest(name: str, path: str) -> str | None:
    """What follows path name ``name`` in a request ``path``: "" for the name itself,
    ``trackID=0`` for ``name/trackID=0``; None when ``path`` is not under ``name``."""
    if path == name:
        return ""
    if path.startswith(name + "/"):
        return path[len(name) + 1 :]
    return None


def basic_auth_ok(authorization: str, credentials: Credentials) -> bool:
    """Whether an Authorization header carries exactly these Basic credentials."""
    scheme, _, token = authorization.partition(" ")
    try:
        given = base64.b64decode(token.strip(), validate=True)
    except binascii.Error:
        return False
    expected = ":".join(credentials).encode()
    return scheme.lower() == "basic" and hmac.compare_digest(given, expected)


def split_sdp(sdp: bytes) -> tuple[list[str], list[list[str]]]:
    """(session lines, one list of lines per media section) of an announced SDP."""
    lines = [ln for ln in sdp.decode("utf-8", "replace").splitlines() if ln.strip()]
    session: list[str] = []
    media: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            media.append([line])
        else:
            (media[-1] if media else session).append(line)
    if not media:
        raise Refusal(400)
    return session, media


def sdp_codec(media: list[str]) -> str | None:
    """A media section's encoding if it is H.264/H.265 video (the ones the cache handles)."""
    for line in media if media[0].startswith("m=video") else []:
        if line.startswith("a=rtpmap:"):
            name = line.split(" ", 1)[-1].split("/")[0].upper()
            return {"H264": "H264", "H265": "H265", "HEVC": "H265"}.get(name)
    return None


def sdp_clock_rate(media: list[str]) -> int:
    """The RTP clock rate of a media section's first payload format (90 kHz if unstated)."""
    for line in media[1:]:
        if line.startswith("a=rtpmap:"):
            parts = line.split(" ", 1)[-1].split("/")
            if len(parts) > 1 and parts[1].strip().isdigit():
                return int(parts[1])
    return 90_000


def sdp_track(media: list[list[str]], rest: str) -> int:
    """The track a SETUP URL names after the path: the publisher's control or
    ``trackID=N`` (or nothing, for a stream of one track)."""
    for i, lines in enumerate(media):
        if rest == f"trackID={i}" or f"a=control:{rest}" in lines:
            return i
    if rest == "" and len(media) == 1:
        return 0
    raise Refusal(404)


def reader_sdp(session: list[str], media: list[list[str]]) -> bytes:
    """The publisher's SDP with controls rewritten to ``trackID=N`` under Content-Base."""
    lines = [ln for ln in session if not ln.startswith("a=control:")]
    lines.append("a=control:*")
    for i, section in enumerate(media):
        lines += [ln for ln in section if not ln.startswith("a=control:")]
        lines.append(f"a=control:trackID={i}")
    return ("\r\n".join(lines) + "\r\n").encode()


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


def starts_keyframe(codec: str, rtp: bytes) -> bool:
    """IDR or SPS (H.264); IRAP, VPS or SPS (H.265)."""
    keys = {5, 7} if codec == "H264" else {16, 17, 18, 19, 20, 21, 32, 33}
    return any(t in keys for t in _nal_types(codec, rtp))

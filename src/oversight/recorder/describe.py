"""A camera's codecs from one RTSP DESCRIBE (RFC 2326 10.2), without starting ffprobe.

Why: the recorder must know a source's codecs before it starts ffmpeg (they decide the
container and what happens to the audio), and asking ffprobe costs a process whose
start-up alone is about 0.13 s of CPU here (Debian's ffmpeg links some two hundred
libraries). A site of 100 cameras then spends 13 CPU-seconds just probing when the
recorder starts. The SDP that a DESCRIBE returns names the same codecs for a few
milliseconds.

This is an optimisation only: :func:`describe` returns None for anything it is not sure
about (another scheme, a refused or failed request, an authentication it cannot do, an
SDP it cannot read, an encoding it does not know), and the caller then asks ffprobe as
before, so errors keep ffprobe's wording. Basic and Digest (MD5, RFC 2617/7616, with or
without ``qop=auth``) authentication are supported; credentials come from the URL's user
info and never appear in a log or an error.

Codec names are ffmpeg's (what ffprobe would print), from the RTP encoding names of the
SDP's ``a=rtpmap`` lines (RFC 3551 and the payload formats), or from the static payload
type when a section has none.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
from urllib.parse import unquote, urlsplit

from oversight.media.ffmpeg import SourceInfo
from oversight.redaction import strip_userinfo

MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024  # an SDP is a few hundred bytes
USER_AGENT = "Oversight recorder"
MAX_WAIT = 3.0  # seconds, for the connection and for each reply

# RTP encoding name (upper case) -> ffmpeg codec name. Only names whose ffmpeg codec is
# certain; MPEG4-GENERIC is AAC only in an AAC mode (checked on its fmtp line).
_ENCODINGS = {
    "H264": "h264",
    "H265": "hevc",
    "JPEG": "mjpeg",
    "MP4V-ES": "mpeg4",
    "PCMA": "pcm_alaw",
    "PCMU": "pcm_mulaw",
    "MPEG4-GENERIC": "aac",
    "OPUS": "opus",
}
# Static payload types (RFC 3551 6), for sections without an rtpmap line.
_STATIC = {0: "pcm_mulaw", 8: "pcm_alaw", 14: "mp3", 26: "mjpeg"}


def _sections(sdp: str) -> list[list[str]]:
    media: list[list[str]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            media.append([line])
        elif media and line:
            media[-1].append(line)
    return media


def _section_codec(lines: list[str]) -> str | None:
    """The ffmpeg codec of a media section's first payload format; None if unknown."""
    fields = lines[0][2:].split()
    if len(fields) < 4 or not fields[3].isdigit():
        return None
    payload = int(fields[3])
    encoding = None
    fmtp = ""
    for line in lines[1:]:
        if line.startswith(f"a=rtpmap:{payload} "):
            encoding = line.split(" ", 1)[1].split("/")[0].strip().upper()
        elif line.startswith(f"a=fmtp:{payload} "):
            fmtp = line.split(" ", 1)[1].lower()
    if encoding is None:
        return _STATIC.get(payload) if payload < 96 else None
    if encoding == "MPEG4-GENERIC" and "mode=aac" not in fmtp.replace(" ", ""):
        return None
    return _ENCODINGS.get(encoding)


def parse_sdp(sdp: str) -> SourceInfo | None:
    """Pure: the first video and first audio codec an SDP offers, as ffmpeg names them.
    None when there is no video section or a codec is not one this module knows."""
    video: str | None = None
    audio: str | None = None
    seen_video = seen_audio = False
    for section in _sections(sdp):
        kind = section[0][2:].split(" ", 1)[0]
        if kind == "video" and not seen_video:
            seen_video, video = True, _section_codec(section)
            if video is None:
                return None
        elif kind == "audio" and not seen_audio:
            seen_audio, audio = True, _section_codec(section)
            if audio is None:
                return None
    if video is None:
        return None
    return SourceInfo(video_codec=video, audio_codec=audio)


def _challenge(value: str) -> tuple[str, dict[str, str]]:
    """(scheme, parameters) of a WWW-Authenticate header value."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    while rest:
        name, eq, rest = rest.strip().partition("=")
        if not eq:
            break
        rest = rest.lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                break
            params[name.strip().lower()], rest = rest[1:end], rest[end + 1 :]
        else:
            token, _, rest = rest.partition(",")
            params[name.strip().lower()] = token.strip()
        rest = rest.lstrip().removeprefix(",")
    return scheme.lower(), params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()  # RFC 2617's hash


def digest_response(
    params: dict[str, str],
    *,
    user: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: str = "00000001",
) -> str | None:
    """Pure: the Authorization header value answering a Digest challenge (RFC 2617 3.2.2),
    or None for what it does not support (another algorithm, a qop other than auth)."""
    if params.get("algorithm", "MD5").upper() != "MD5" or "nonce" not in params:
        return None
    realm, nonce = params.get("realm", ""), params["nonce"]
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if qops and "auth" not in qops:
        return None
    answer = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if qops:
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        answer += f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    answer += f', response="{response}"'
    if "opaque" in params:
        answer += f', opaque="{params["opaque"]}"'
    return answer + (", algorithm=MD5" if "algorithm" in params else "")


def _authorization(challenges: list[str], user: str, password: str, uri: str) -> str | None:
    parsed = [_challenge(c) for c in challenges]
    for scheme, params in parsed:
        if scheme == "digest":
            answer = digest_response(
                params,
                user=user,
                password=password,
                method="DESCRIBE",
                uri=uri,
                cnonce=secrets.token_hex(8),
            )
            if answer is not None:
                return answer
    if any(scheme == "basic" for scheme, _ in parsed):
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return None


class _Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def _read_reply(sock: socket.socket) -> _Reply:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > MAX_HEAD:
            raise ValueError("no whole RTSP reply")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("RTSP/") or not status[1].isdigit():
        raise ValueError("not an RTSP reply")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))
    lengths = [v for k, v in headers if k == "content-length"]
    length = int(lengths[0]) if lengths and lengths[0].isdigit() else 0
    if length > MAX_BODY:
        raise ValueError("SDP too large")
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            raise ValueError("RTSP reply cut short")
        body += chunk
    return _Reply(int(status[1]), headers, body[:length])


def describe(url: str, *, timeout: float = 10.0) -> SourceInfo | None:
    """The codecs an ``rtsp://`` camera offers, from its SDP; None whenever that cannot
    be told for sure (the caller then runs ffprobe). Never raises for a camera's sake.

    Waits at most ``min(timeout, MAX_WAIT)`` per step: a camera that does not answer a
    DESCRIBE that quickly is left to ffprobe and its own timeout, so an unresponsive
    source is not waited for twice as long as before."""
    # The userinfo as the one redactor finds it: a password may hold '/' or '@', which
    # urlsplit would take for the end of the host (and send part of it to DNS).
    userinfo, target = strip_userinfo(url)  # the target never carries the credentials
    try:
        parts = urlsplit(target)
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            return None
        address = (parts.hostname, parts.port or 554)
    except ValueError:
        return None
    user: str | None = None
    password = ""
    if userinfo is not None:
        name, _, secret = userinfo.partition(":")
        user, password = unquote(name), unquote(secret)
    wait = min(timeout, MAX_WAIT)
    try:
        with socket.create_connection(address, timeout=wait) as sock:
            reply = _request(sock, target, 1, None)
        if reply.status == 401 and user is not None:
            auth = _authorization(reply.all("www-authenticate"), user, password, target)
            if auth is None:
                return None
            # A new connection: some cameras close it after a 401.
            with socket.create_connection(address, timeout=wait) as sock:
                reply = _request(sock, target, 2, auth)
    except (OSError, ValueError):
        return None
    if reply.status != 200:
        return None
    return parse_sdp(reply.body.decode("utf-8", "replace"))


def _request(sock: socket.socket, target: str, cseq: int, auth: str | None) -> _Reply:
    lines = [f"DESCRIBE {target} RTSP/1.0", f"CSeq: {cseq}", "Accept: application/sdp"]
    lines.append(f"User-Agent: {USER_AGENT}")
    if auth is not None:
        lines.append(f"Authorization: {auth}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return _read_reply(sock)

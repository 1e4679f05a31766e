"""The one redactor: what is secret in a stream URL, and keeping it out of every output.

Pure (no I/O), and in the lowest layer so that every package may use it: media (ffmpeg
stderr), ledger (leaf builders), db (the credentials migration), services, the
interfaces. Two uses:

* :func:`redact_url` makes a URL fit to display: the userinfo becomes ``***`` and so
  does the value of every secret parameter (``?user=...&password=...``,
  ``/user=admin&password=...`` path forms, ``;token=...``). Host, port and path stay.
* :func:`scrub` cleans free text (ffmpeg stderr, gap reasons, alarm details): every URL
  in it is redacted, every ``key=value`` with a secret key is masked, and every known
  secret (:func:`secrets_of` of the camera's URL) is masked wherever it appears, raw,
  percent-encoded or any mix of the two.

Where the userinfo ends is decided safely, not by RFC 3986 alone: cameras are
configured with passwords holding unescaped ``/``, ``@``, ``?`` or ``#``, so the
userinfo runs to the *last* ``@`` of the URL. A literal ``@`` in a path or query must
be written ``%40``, or it is taken for the end of credentials (the display then hides
more than needed; the stream still opens, see :func:`split_url`).

:func:`split_url` and :func:`join_url` keep credentials apart from the URL: the stored
URL is exactly ``redact_url(url)`` and the secrets are the text each ``***`` replaced,
so ``join_url(*split_url(url)) == url`` for every URL.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

MASK = "***"

# Query and path parameter names whose values are credentials, compared after
# percent-decoding, lower-casing and dropping '-' and '_' (so API_KEY, api-key, ApiKey).
SECRET_KEYS = frozenset(
    {
        "user",
        "username",
        "login",
        "password",
        "pwd",
        "passwd",
        "pass",
        "passphrase",
        "token",
        "auth",
        "key",
        "apikey",
        "secret",
        "signature",
        "sig",
        "credential",
        "credentials",
    }
)
# ... and any name ending so (access_token, client_secret, x-api-key, admin_password).
_SECRET_SUFFIXES = ("password", "passwd", "pwd", "token", "secret", "key", "auth")
# Keys whose values name an account rather than proving it: masked in URLs, but not
# searched for verbatim in free text (that would mask every "admin" in a message).
_ACCOUNT_KEYS = frozenset({"user", "username", "login"})

# Shorter known secrets are not searched for in free text: they would garble ordinary
# words. They are still masked wherever they appear in a URL or as key=value.
MIN_KNOWN_SECRET = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A parameter name: after '/', '?', '&' or ';', up to '='.
_PARAM = re.compile(r"(?<=[/?&;])([^=/?&;#\s]+)=")
# URLs inside free text: a scheme, '//', then up to whitespace (a quote or colon after
# the URL only lands in its path or last value, which is masked or kept whole).
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
# key=value in free text outside URLs (ffmpeg may print options it was given). The
# value is not empty and starts with no '=': base64 padding ("...Key=") is no secret.
_KV_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_%-])([A-Za-z0-9_%-]{1,64})=([^\s&=][^\s&]*)")


def is_secret_key(name: str) -> bool:
    """True for a parameter name whose value is a credential (see :data:`SECRET_KEYS`)."""
    key = unquote_plus(name).lower().replace("-", "").replace("_", "")
    return key in SECRET_KEYS or key.endswith(_SECRET_SUFFIXES)


def _is_account_key(name: str) -> bool:
    return unquote_plus(name).lower().replace("-", "").replace("_", "") in _ACCOUNT_KEYS


@dataclass(frozen=True)
class StreamSecrets:
    """What :func:`split_url` took out of a URL: the raw userinfo (None: there was
    none) and each secret parameter as (where its ``***`` stands in the stored URL,
    its name, its raw value). ``repr`` shows nothing."""

    userinfo: str | None = field(default=None, repr=False)
    params: tuple[tuple[int, str, str], ...] = field(default=(), repr=False)

    def __bool__(self) -> bool:
        return self.userinfo is not None or bool(self.params)

    def to_json(self) -> str:
        return json.dumps({"userinfo": self.userinfo, "params": [list(p) for p in self.params]})

    @classmethod
    def from_json(cls, text: str) -> StreamSecrets:
        data = json.loads(text)
        params = tuple((int(at), str(k), str(v)) for at, k, v in data["params"])
        return cls(data["userinfo"], params)

    def known(self) -> tuple[str, ...]:
        """The secrets to search for in free text: the password (and the whole
        userinfo), and every secret parameter value that is not an account name."""
        found: list[str] = []
        if self.userinfo is not None:
            found.append(self.userinfo)
            if ":" in self.userinfo:
                found.append(self.userinfo.split(":", 1)[1])
        found.extend(v for _, k, v in self.params if not _is_account_key(k))
        return tuple(s for s in dict.fromkeys(found) if s)


@dataclass(frozen=True)
class _Parts:
    head: str  # "scheme://" or "scheme:" (or "" for something that is no URL)
    userinfo: str | None
    rest: str  # host, port, path, query, fragment
    spans: tuple[tuple[int, int, str], ...]  # (start, end, key) of secret values in rest


def _parse(url: str) -> _Parts:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return _Parts("", None, url, _spans(url))
    head_end = scheme.end()
    # file: URLs carry no credentials (and a file name may hold an '@').
    if not url.startswith("//", head_end) or url[: head_end - 1].lower() == "file":
        return _Parts(url[:head_end], None, url[head_end:], _spans(url[head_end:]))
    head_end += 2
    body = url[head_end:]
    # The userinfo runs to the last '@' that is not inside a secret parameter's value
    # (``?password=p@ss``): passwords hold unescaped '/', '@', '?' and '#'.
    inside = _spans(body)
    at = next(
        (
            i
            for i in range(len(body) - 1, -1, -1)
            if body[i] == "@" and not any(a <= i < b for a, b, _ in inside)
        ),
        -1,
    )
    if at < 0:
        return _Parts(url[:head_end], None, body, inside)
    rest = body[at + 1 :]
    return _Parts(url[:head_end], body[:at], rest, _spans(rest))


def _spans(rest: str) -> tuple[tuple[int, int, str], ...]:
    """Where the secret parameter values lie in ``rest``. In the query a value runs to
    the next '&' (so an unescaped '/', '?', '@', ';' or '#' stays inside it); in the
    path, to the next '/', '?', '&' or ';'."""
    query = rest.find("?")
    query = len(rest) if query < 0 else query
    spans = []
    pos = 0
    for found in _PARAM.finditer(rest):
        if found.start() < pos or not is_secret_key(found.group(1)):
            continue
        start = found.end()
        stops = "&" if found.start() > query else "/?&;"
        end = next((i for i in range(start, len(rest)) if rest[i] in stops), len(rest))
        spans.append((start, end, found.group(1)))
        pos = end
    return tuple(spans)


def split_url(url: str) -> tuple[str, StreamSecrets]:
    """(the URL to store and show, the secrets to keep encrypted): the first is
    :func:`redact_url` of ``url``; :func:`join_url` puts the two back together."""
    parts = _parse(url)
    out = [parts.head]
    if parts.userinfo is not None:
        out.append(MASK + "@")
    base = len("".join(out))
    params, pos, shift = [], 0, 0
    for start, end, key in parts.spans:
        out.append(parts.rest[pos:start])
        params.append((base + start + shift, key, parts.rest[start:end]))
        out.append(MASK)
        shift += len(MASK) - (end - start)
        pos = end
    out.append(parts.rest[pos:])
    return "".join(out), StreamSecrets(parts.userinfo, tuple(params))


def redact_url(url: str) -> str:
    """``url`` fit to display: ``rtsp://***@host/live?user=***&password=***&channel=1``.
    A URL with nothing secret comes back unchanged; redacting twice changes nothing."""
    return split_url(url)[0]


def join_url(stored: str, secrets: StreamSecrets) -> str:
    """The full URL from its stored form and its secrets: the inverse of :func:`split_url`."""
    out = stored
    # From the end, so that earlier positions stay valid.
    for at, _, value in sorted(secrets.params, reverse=True):
        if out[at : at + len(MASK)] != MASK:
            raise ValueError("the stored stream URL does not match its credentials")
        out = out[:at] + value + out[at + len(MASK) :]
    if secrets.userinfo is not None:
        head = _SCHEME.match(out)
        at = head.end() + 2 if head is not None else -1
        if at < 0 or out[at : at + len(MASK) + 1] != MASK + "@":
            raise ValueError("the stored stream URL does not match its credentials")
        out = out[:at] + secrets.userinfo + out[at + len(MASK) :]
    return out


def strip_userinfo(url: str) -> tuple[str | None, str]:
    """(the raw userinfo or None, ``url`` without it), the userinfo found as
    :func:`redact_url` finds it (an unescaped '/' or '@' in a password included)."""
    parts = _parse(url)
    return parts.userinfo, parts.head + parts.rest


def secrets_of(url: str | None) -> tuple[str, ...]:
    """The known secrets of a full stream URL, for :func:`scrub`."""
    return () if not url else split_url(url)[1].known()


@functools.lru_cache(maxsize=1024)  # ffmpeg's stderr is scrubbed line by line
def _any_encoding(secret: str) -> re.Pattern[str]:
    """A pattern matching ``secret`` with any of its characters percent-encoded (either
    hex case, '+' for a space): the form ffmpeg echoes depends on how it was given."""
    pieces = []
    for char in secret:
        forms = [re.escape(char), "".join(_pct_byte(b) for b in char.encode("utf-8"))]
        if char == " ":
            forms.append(r"\+")
        pieces.append("(?:" + "|".join(forms) + ")")
    return re.compile("".join(pieces))


def _pct_byte(byte: int) -> str:
    high, low = f"{byte >> 4:X}", f"{byte & 15:X}"
    return f"%[{high}{high.lower()}][{low}{low.lower()}]"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL redacted, every secret ``key=value`` masked, and every
    known secret (at least :data:`MIN_KNOWN_SECRET` characters; raw, percent-decoded or
    encoded) replaced by ``***``."""
    known = set()
    for secret in secrets:
        for form in (secret, unquote_plus(secret)):
            if len(form) >= MIN_KNOWN_SECRET:
                known.add(form)
    # Longest first, so a secret containing another is masked whole.
    for secret in sorted(known, key=len, reverse=True):
        text = _any_encoding(secret).sub(MASK, text)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _KV_IN_TEXT.sub(
        lambda m: f"{m.group(1)}={MASK}" if is_secret_key(m.group(1)) else m.group(0), text
    )

"""Finding 4: the one redactor (oversight.redaction), property-tested over URL forms.

Every generated secret holds the marker "Zq"; hosts, paths, users and other parameters
are drawn from lower-case letters and digits, so the marker appears in an output only
if (part of) a secret does.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oversight.redaction import (
    MASK,
    MIN_KNOWN_SECRET,
    SECRET_KEYS,
    StreamSecrets,
    is_secret_key,
    join_url,
    redact_url,
    scrub,
    secrets_of,
    split_url,
)

MARKER = "Zq"
PLAIN = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
RESERVED = st.text(":/?#[]@!$&'()*+,;=%-._~ abcxyz019", max_size=6)
SCHEMES = st.sampled_from(["rtsp", "rtsps", "http", "https", "rtmp", "srt"])
HOSTS = st.one_of(
    st.builds(lambda a, b: f"{a}.{b}", PLAIN, PLAIN),
    st.builds(lambda *n: ".".join(map(str, n)), *[st.integers(0, 255)] * 4),
    st.just("[fe80::1]"),
)
PORTS = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
PATHS = st.lists(PLAIN, max_size=3).map(lambda parts: "".join(f"/{p}" for p in parts))


def _any_case(key: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(key), max_size=len(key)).map(
        lambda ups: "".join(c.upper() if u else c for c, u in zip(key, ups, strict=True))
    )


SECRET_KEY = st.sampled_from(sorted(SECRET_KEYS)).flatmap(_any_case)
# A secret: reserved characters around the marker, raw or percent-encoded as written.
SECRET = st.builds(lambda a, b: f"{a}{MARKER}{b}", RESERVED, RESERVED)


def _assert_hidden(output: str) -> None:
    for form in (output, unquote(output)):
        assert MARKER not in form, output


@st.composite
def userinfo_urls(draw: st.DrawFn) -> tuple[str, str]:
    """(url, host+path) with a password of reserved characters ('/', '@', '?', '#' ...),
    raw or percent-encoded, and sometimes several '@'."""
    password = draw(SECRET)
    if draw(st.booleans()):
        password = quote(password, safe=draw(st.sampled_from(["", "/", "@:/"])))
    user = draw(st.one_of(st.just(""), PLAIN.map(lambda u: u + ":")))
    host, port, path = draw(HOSTS), draw(PORTS), draw(PATHS)
    url = f"{draw(SCHEMES)}://{user}{password}@{host}{port}{path}"
    return url, f"{host}{port}{path}"


@st.composite
def query_urls(draw: st.DrawFn) -> tuple[str, str]:
    """(url, host+path) with secret query parameters among plain ones."""
    host, port, path = draw(HOSTS), draw(PORTS), draw(PATHS)
    first = draw(st.sampled_from(["?", "/"]))  # the query, or the path form of some cameras
    # A query value may hold '/', '?', '@' and ':' unescaped; a path segment, '@' and ':'.
    safe = st.sampled_from(["", "/?@:"]) if first == "?" else st.sampled_from(["", "@:"])
    params = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            key, value = draw(SECRET_KEY), quote(draw(SECRET), safe=draw(safe))
        else:
            key, value = "ch" + draw(PLAIN), draw(PLAIN)
        params.append(f"{key}={value}")
    if not any(MARKER in p for p in params):
        params.append(f"{draw(SECRET_KEY)}={MARKER}1")
    sep = draw(st.sampled_from(["&", ";"])) if draw(st.booleans()) else "&"
    url = f"{draw(SCHEMES)}://{host}{port}{path}{first}{sep.join(params)}"
    return url, f"{host}{port}{path}"


URLS = st.one_of(userinfo_urls(), query_urls())


@settings(max_examples=400)
@given(URLS)
def test_redact_url_hides_every_secret_and_keeps_host_and_path(case: tuple[str, str]) -> None:
    url, where = case
    shown = redact_url(url)
    _assert_hidden(shown)
    assert where in shown
    assert redact_url(shown) == shown  # idempotent


@settings(max_examples=400)
@given(URLS)
def test_split_and_join_give_back_the_url_exactly(case: tuple[str, str]) -> None:
    url, _ = case
    stored, secrets = split_url(url)
    assert stored == redact_url(url)
    _assert_hidden(stored)
    assert join_url(stored, StreamSecrets.from_json(secrets.to_json())) == url
    assert MARKER not in repr(secrets)


@settings(max_examples=300)
@given(URLS, st.sampled_from(["{u}", "'{u}': 401 Unauthorized", "from '{u}':\n", "a {u}, b"]))
def test_scrub_hides_urls_quoted_in_free_text(case: tuple[str, str], shape: str) -> None:
    url, where = case
    line = shape.format(u=url)
    # Known secrets (the camera's own URL) find any form; without them, a URL ends at
    # whitespace, so only a URL without a raw space can be recognised in the text.
    _assert_hidden(scrub(line, secrets_of(url)))
    assume(not any(c.isspace() for c in url))
    out = scrub(line)
    _assert_hidden(out)
    assert where.split("/")[0] in out  # the host stays


@settings(max_examples=300)
@given(
    SECRET.filter(lambda s: len(unquote(s)) >= MIN_KNOWN_SECRET),
    st.sampled_from(["raw", "encoded", "lower-encoded", "plus"]),
)
def test_scrub_masks_known_secrets_in_any_encoding(secret: str, form: str) -> None:
    url = f"rtsp://admin:{quote(secret, safe='')}@10.0.0.5/live"
    shown = {
        "raw": secret,
        "encoded": quote(secret, safe=""),
        "lower-encoded": quote(secret, safe="").lower().replace("zq", MARKER),
        "plus": secret.replace(" ", "+"),
    }[form]
    out = scrub(f"ffmpeg: auth failed with password {shown} for user admin", secrets_of(url))
    _assert_hidden(out)
    assert "ffmpeg: auth failed with password" in out and "for user admin" in out


@given(SECRET_KEY)
def test_every_listed_key_in_any_case_is_secret(key: str) -> None:
    assert is_secret_key(key)
    assert scrub(f"option {key}={MARKER}x given") == f"option {key}={MASK} given"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:p@ss/w@rd@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
        ("rtsp://10.0.0.5/live?user=admin&password=x&channel=1",
         "rtsp://10.0.0.5/live?user=***&password=***&channel=1"),
        ("rtsp://10.0.0.9:554/user=admin&password=&channel=1&stream=0.sdp",
         "rtsp://10.0.0.9:554/user=***&password=***&channel=1&stream=0.sdp"),
        ("http://cam/x?api_key=abc&X-Auth-Token=def", "http://cam/x?api_key=***&X-Auth-Token=***"),
        ("rtsp://10.0.0.5:8554/cam1", "rtsp://10.0.0.5:8554/cam1"),
        ("file:///var/clips/a@b.mp4", "file:///var/clips/a@b.mp4"),
        ("https://cam/p%61ssword=1", "https://cam/p%61ssword=***"),
    ],
)  # fmt: skip
def test_redact_url_examples(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_stored_url_that_lost_its_shape_is_refused() -> None:
    _, secrets = split_url("rtsp://a:b@h/x?token=t")
    with pytest.raises(ValueError, match="does not match"):
        join_url("rtsp://h/x", secrets)


def test_short_known_secrets_are_not_searched_for_in_free_text() -> None:
    # A 3-character password would mask every "abc" in every message; it is still
    # masked in URLs and as key=value.
    assert scrub("abc def", secrets_of("rtsp://u:abc@h/x")) == "abc def"
    assert scrub("rtsp://u:abc@h/x password=abc") == "rtsp://***@h/x password=***"

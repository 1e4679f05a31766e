"""Finding 4, at the last line: no leaf builder of oversight.ledger.leaves emits a stream
credential, whatever string a caller hands it. Every builder, every string argument
(nested ones in ``changes``/``details`` included) gets text quoting a URL with
credentials or a secret ``key=value``; the leaf's canonical bytes never hold the secret.

(A password quoted bare, with nothing marking it as one, can only be found with the
camera's known secrets: the services scrub with those before building a leaf; see
tests/web/test_hardening_credentials_leaks.py.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.ledger import leaves

MARKER = "Zq~"
BUILDERS = [
    getattr(leaves, name)
    for name in leaves.LEAF_TYPES
    if callable(getattr(leaves, name, None)) and name != "canonical"
]
AT = datetime(2026, 6, 1, tzinfo=UTC)
WORDS = st.text("abcdefghij klmnop:;,.()'\"", max_size=12)
RESERVED = st.text(":/?#@!$&'()*+,;=%-._~ abc019", max_size=5)
SECRET = st.builds(lambda a, b: f"{a}{MARKER}{b}", RESERVED, RESERVED)
KEYS = st.sampled_from(["password", "PWD", "passwd", "token", "Auth", "apikey", "Secret", "user"])


@st.composite
def secret_texts(draw: st.DrawFn) -> str:
    secret = draw(SECRET)
    host = draw(st.sampled_from(["10.0.0.5", "cam.local:554", "[fe80::1]"]))
    form = draw(st.sampled_from(["userinfo", "query", "path", "kv"]))
    if form == "userinfo":
        shown = f"rtsp://admin:{draw(st.sampled_from([secret.strip(), quote(secret, safe='')]))}"
        shown = f"{shown}@{host}/live".replace(" ", "%20")
    elif form == "query":
        shown = f"http://{host}/x.cgi?ch=1&{draw(KEYS)}={quote(secret, safe='/?@:')}"
    elif form == "path":
        shown = f"rtsp://{host}/{draw(KEYS)}={quote(secret, safe='@:')}&channel=1"
    else:
        shown = f"{draw(KEYS)}={quote(secret, safe='')}"
    return f"{draw(WORDS)} {shown} {draw(WORDS)}"


def _arguments(builder: Callable[..., Any], text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, param in inspect.signature(builder).parameters.items():
        hint = str(param.annotation)
        if hint == "datetime":
            args[name] = AT
        elif hint == "int":
            args[name] = 7
        elif "Mapping" in hint:
            args[name] = {"stream": text, "nested": {"why": text}, "list": [text, 3]}
        elif "Sequence" in hint:
            args[name] = [text, "op"]
        else:
            args[name] = text
    return args


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
@settings(max_examples=60, deadline=None)
@given(text=secret_texts())
def test_no_leaf_builder_emits_a_stream_secret(builder: Callable[..., Any], text: str) -> None:
    data = leaves.canonical(builder(**_arguments(builder, text))).decode()
    for form in (data, unquote(data)):
        assert MARKER not in form, data


def test_every_leaf_type_has_a_builder_under_test() -> None:
    assert {b.__name__ for b in BUILDERS} == set(leaves.LEAF_TYPES)


def test_strings_without_a_secret_pass_unchanged() -> None:
    leaf = leaves.gap(
        at=AT, camera="cam1", start=AT, end=AT, reason="ffmpeg exited: rtsp://10.0.0.5/live x=1"
    )
    assert leaf["reason"] == "ffmpeg exited: rtsp://10.0.0.5/live x=1"

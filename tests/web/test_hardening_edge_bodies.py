"""Finding 1: bodies are authenticated before a byte is read, and bounded per route.

Against a real ``oversight serve``: a huge body without a token (JSON, chunked, a
console upload) is answered 401/413/a redirect while the client is still sending, and
the server's memory does not grow. In process: an authenticated body one byte over a
route's limit (declared or chunked) is 413 and writes nothing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.web.conftest import Web
from tests.web.footage_helpers import request_form
from tests.web.hardening_edge_server import push, read_response, request_head, serve

MiB = 1 << 20
ORG = {"id": "acme", "name": "Acme", "kind": "owner"}


@pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
def test_a_huge_body_without_a_token_is_refused_unread_and_memory_stays_flat(web: Web) -> None:
    with serve() as server:
        before = server.rss()
        cases = [
            # (path, headers, statuses): 500 MB declared, and chunked (no length to check)
            ("/api/v1/orgs", {"Content-Length": str(500 * MiB)}, {401, 413}),
            ("/api/v1/orgs", {"Transfer-Encoding": "chunked"}, {401}),
            ("/api/v1/orgs", {"Content-Length": "1000"}, {401}),
            ("/api/v1/access/requests", {"Transfer-Encoding": "chunked"}, {401}),
        ]
        for path, extra, statuses in cases:
            with server.connect() as sock:
                head = {"Content-Type": "application/json", **extra}
                data = b"{" + b" " * 65535
                if "Transfer-Encoding" in extra:
                    data = b"%x\r\n%s\r\n" % (len(data), data)
                else:  # part of the declared body only: the rest never comes
                    data = data[: int(extra["Content-Length"]) // 2]
                sock.sendall(request_head("POST", path, head) + data)
                status, headers, reply = read_response(sock)
                assert status in statuses, (path, extra, status, reply)
                assert json.loads(reply)["error"] and headers["connection"] == "close"
                if "Transfer-Encoding" in extra or int(extra["Content-Length"]) > MiB:
                    # The client goes on sending: the server neither reads it nor keeps it.
                    pushed = push(sock, 300 * MiB, seconds=3, chunked="Transfer-Encoding" in extra)
                    assert pushed < 100 * MiB
        growth = server.rss() - before
        assert growth < 20 * MiB, f"server memory grew by {growth >> 20} MiB"


@pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
def test_a_huge_console_upload_without_a_session_is_sent_to_login_unread(web: Web) -> None:
    with serve() as server:
        before = server.rss()
        with server.connect() as sock:
            head = {
                "Content-Type": "multipart/form-data; boundary=XyZ",
                "Transfer-Encoding": "chunked",
            }
            part = (
                b'--XyZ\r\nContent-Disposition: form-data; name="doc_x"; filename="x.pdf"\r\n\r\n'
            )
            sock.sendall(
                request_head("POST", "/access/new", head) + b"%x\r\n%s\r\n" % (len(part), part)
            )
            status, headers, _ = read_response(sock)
            assert status == 303 and headers["location"].startswith("/login")
            assert push(sock, 300 * MiB, seconds=3, chunked=True) < 100 * MiB
        with server.connect() as sock:  # a declared 300 MB is over the route's limit
            head = {
                "Content-Type": "multipart/form-data; boundary=XyZ",
                "Content-Length": str(300 * MiB),
            }
            sock.sendall(request_head("POST", "/access/new", head))
            status, _, _ = read_response(sock)
            assert status == 413
        assert server.rss() - before < 20 * MiB
    assert not (web.system.settings.data_dir / "documents").exists()


def test_an_authenticated_json_body_over_the_limit_is_413_and_writes_nothing(web: Web) -> None:
    api = web.api("op")
    before = web.env.counts()
    big = {**ORG, "name": "x" * MiB}  # one MiB of name: past max_json_bytes with the rest
    reply = api.post("/api/v1/orgs", json=big)
    assert reply.status_code == 413 and "at most 1048576 bytes" in reply.json()["error"]
    assert reply.json().keys() == {"error", "rule", "article"}

    def chunks() -> Iterator[bytes]:
        yield json.dumps(big).encode()

    reply = api.post("/api/v1/orgs", content=chunks(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 413  # counted as it arrived: no length was declared
    assert web.env.counts() == before
    assert api.post("/api/v1/orgs", json=ORG).status_code == 201  # a normal body still works


def test_the_logins_take_only_a_small_body(web: Web) -> None:
    client = web.client()
    before = web.env.counts()
    reply = client.post("/api/v1/session", json={"user": "op", "password": "p" * 20_000})
    assert reply.status_code == 413
    reply = client.post("/login", data={"user": "op", "password": "p" * 20_000, "csrf": "x"})
    assert reply.status_code == 413
    assert web.env.counts() == before


@pytest.fixture
def small_documents(env: Env) -> None:
    """Two documents of at most 4 KiB, fields of at most 8 KiB: upload bodies <= 16 KiB."""
    env.monkeypatch.setenv("OVERSIGHT_DOCUMENT_MAX_BYTES", "4096")
    env.monkeypatch.setenv("OVERSIGHT_DOCUMENT_MAX_COUNT", "2")
    env.monkeypatch.setenv("OVERSIGHT_MAX_JSON_BYTES", "8192")


def test_document_uploads_are_bounded_by_the_document_settings(
    small_documents: None, web: Web, tmp_path: Path
) -> None:
    cop, api = web.console("cop"), web.api("cop")  # logins leave rows: before counting
    before = web.env.counts()
    files = {f"doc_{k}": (f"{k}.pdf", b"%" * 4000, "application/pdf") for k in "abcde"}
    reply = cop.submit("/access/new", request_form(), files=files)
    assert reply.status_code == 413 and "16384 bytes" in reply.text  # the console's error page
    body = {
        **request_form(),
        "documents": {k: base64.b64encode(b"%" * 4000).decode() for k in "abcde"},
    }
    reply = api.post("/api/v1/access/requests", json=body)
    assert (
        reply.status_code == 413
        and f"{(2 * 4096 * 4 + 2) // 3 + 8192} bytes" in reply.json()["error"]
    )
    assert web.env.counts() == before
    assert not (web.system.settings.data_dir / "documents").exists()
    # Under the limit the route itself decides (here: no camera cam1 is registered).
    body["documents"] = {"a": base64.b64encode(b"%" * 1000).decode()}
    assert api.post("/api/v1/access/requests", json=body).status_code not in (401, 413)


def test_the_routes_named_for_their_bodies_exist(web: Web) -> None:
    """A renamed login or upload route would silently fall back to the default rules."""
    from oversight.api.app import API_BODIES
    from oversight.web.app import CONSOLE_BODIES

    named = API_BODIES | CONSOLE_BODIES
    client = web.client()
    for method, path in named.anonymous | named.multipart | named.base64:
        assert client.request(method, path).status_code not in (404, 405), path
    assert client.post("/no/such/route").status_code == 404  # the probe tells them apart


@pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
def test_document_uploads_beyond_the_concurrency_bound_are_503_unread(web: Web, env: Env) -> None:
    """A logged-in account sending many large document bodies at once: each is parsed in
    memory a few times over, so at most OVERSIGHT_MAX_CONCURRENT_UPLOADS are taken; one
    more is 503 with Retry-After before its body is read, and writes nothing."""
    token = web.token("cop")
    head = {
        "Content-Type": "application/json",
        "Content-Length": str(5 * MiB),  # over the JSON limit, under the documents' one
        "Authorization": f"Bearer {token}",
    }
    before = env.counts()
    with serve(max_concurrent_uploads="1") as server:
        with server.connect() as holding:
            holding.sendall(request_head("POST", "/api/v1/access/requests", head) + b"{" * 1000)
            time.sleep(1.0)  # it reaches the route and holds the one slot
            with server.connect() as sock:
                sock.sendall(request_head("POST", "/api/v1/access/requests", head) + b"{")
                status, headers, reply = read_response(sock)
                assert status == 503, reply
                assert headers["retry-after"] == "5" and headers["connection"] == "close"
                assert "too many document uploads at once" in json.loads(reply)["error"]
                assert push(sock, 50 * MiB, seconds=2) < 40 * MiB  # not read
        # the holder went away: its slot is free again (this one fails on its JSON)
        with server.connect() as sock:
            small = {**head, "Content-Length": str(2 * MiB)}
            sock.sendall(request_head("POST", "/api/v1/access/requests", small) + b"x" * 2 * MiB)
            status, _, reply = read_response(sock)
            assert status not in (503, 401, 413), (status, reply)
    assert env.counts() == before


def test_a_json_body_with_too_many_values_is_413_before_it_is_parsed(web: Web) -> None:
    """100 MB of `[0,0,...]` fits a document route's byte limit but parses into gigabytes
    (bench/abuse.py: +751 MB from one such body): values are counted as bytes arrive."""
    api = web.api("cop")
    before = web.env.counts()
    many = "[" + ",".join("0" for _ in range(20_000)) + "]"  # 40 KiB, 20,000 values
    for path in ("/api/v1/orgs", "/api/v1/access/requests"):
        reply = api.post(path, content=many, headers={"Content-Type": "application/json"})
        assert reply.status_code == 413, (path, reply.text)
        assert "too many JSON values: at most 10000" in reply.json()["error"]
    nested = '{"documents": {' + ",".join(f'"d{i}": "x"' for i in range(12_000)) + "}}"
    reply = api.post(
        "/api/v1/access/requests", content=nested, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413
    assert web.env.counts() == before
    # a real request with base64 documents holds a handful of values: the route decides
    body = {**request_form(), "documents": {"a": base64.b64encode(b"%" * 100_000).decode()}}
    assert api.post("/api/v1/access/requests", json=body).status_code not in (401, 413)

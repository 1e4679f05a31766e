"""Finding 17 (trusted hosts) and finding 6 (forwarded headers only from trusted proxies).

A request naming a Host the deployment does not answer to is 400 before routing, in
process and on a real ``oversight serve`` with the default setting. A spoofed
X-Forwarded-For (or Forwarded) from a client that is not a configured proxy does not
change the client address the app (and so the login limiter) sees; from a configured
proxy it does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from oversight.api.connections import uvicorn_options
from oversight.api.hosts import hostname
from oversight.config import Settings
from tests.conftest import Env
from tests.web.conftest import Web, free_port
from tests.web.hardening_edge_server import read_response, request_head, serve

sqlite_only = pytest.mark.parametrize("database_url", [None], ids=["sqlite"])


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8080", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("", None),
        ("a b", None),
        ("user@localhost", None),
        ("localhost:http", None),
        ("localhost/x", None),
    ],
)
def test_host_header_parsing(given: str, parsed: str | None) -> None:
    assert hostname(given) == parsed


def test_the_default_trusts_only_local_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERSIGHT_TRUSTED_HOSTS", raising=False)
    assert Settings().trusted_host_list == ["localhost", "127.0.0.1", "[::1]"]
    assert Settings().trusted_proxy_list == []


def test_another_host_is_400_before_routing_on_the_api_and_the_console(web: Web) -> None:
    token = web.token("op")
    for base in ("http://rebind.attacker.example", "http://testserver.attacker.example"):
        with TestClient(web.app, base_url=base, follow_redirects=False) as client:
            reply = client.get("/api/v1/cameras", headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code == 400
            assert reply.json().keys() == {"error", "rule", "article"}
            assert "Host" in reply.json()["error"]
            assert client.get("/login").status_code == 400  # even the anonymous pages
    assert web.client().get("/login").status_code == 200  # testserver: configured by the fixture


@sqlite_only
def test_oversight_serve_answers_only_its_default_hosts(env: Env, web: Web) -> None:
    env.monkeypatch.delenv("OVERSIGHT_TRUSTED_HOSTS")
    with serve() as server:
        assert "Answering Host: localhost, 127.0.0.1, [::1]" in server.output()
        for host, status in [
            (f"127.0.0.1:{server.port}", 200),
            (f"localhost:{server.port}", 200),
            (f"[::1]:{server.port}", 200),
            (f"rebind.attacker.example:{server.port}", 400),
            ("127.0.0.1.nip.io", 400),
        ]:
            with server.connect() as sock:
                head = request_head("GET", "/login", {"Connection": "close"})
                sock.sendall(head.replace(b"Host: 127.0.0.1", f"Host: {host}".encode()))
                assert read_response(sock, timeout=5)[0] == status, host


class SeenClient:
    """ASGI wrapper recording the client address each request reaches the app with:
    what ``api.security.client_address`` (the login limiter's key) reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["client"][0])
        await self.app(scope, receive, send)


@contextmanager
def served_with_serve_options(app: ASGIApp, settings: Settings) -> Iterator[str]:
    """uvicorn in a thread with exactly the options ``oversight serve`` passes."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


SPOOFED = {"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=198.51.100.7"}


@sqlite_only
def test_a_spoofed_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(web: Web) -> None:
    seen = SeenClient(web.app)
    with served_with_serve_options(seen, web.system.settings) as url:
        reply = httpx.post(
            f"{url}/api/v1/session", json={"user": "op", "password": "x"}, headers=SPOOFED
        )
        assert reply.status_code == 401
    assert seen.seen == ["127.0.0.1"]


@sqlite_only
def test_a_configured_proxy_is_believed(env: Env, web: Web) -> None:
    env.monkeypatch.setenv("OVERSIGHT_TRUSTED_PROXIES", "127.0.0.0/8")
    seen = SeenClient(web.app)
    with served_with_serve_options(seen, Settings()) as url:
        httpx.post(f"{url}/api/v1/session", json={"user": "op", "password": "x"}, headers=SPOOFED)
        httpx.get(f"{url}/login")
    assert seen.seen == ["203.0.113.9", "127.0.0.1"]  # Forwarded (RFC 7239) is never read


def test_trusted_proxies_must_be_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_TRUSTED_PROXIES", "10.0.0.1,proxy.example")
    with pytest.raises(ValueError, match=r"proxy\.example"):
        Settings()

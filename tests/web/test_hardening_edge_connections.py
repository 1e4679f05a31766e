"""Finding 15: slow connections are closed, and the server keeps answering.

Against a real ``oversight serve`` with short bounds: many slowloris connections
(headers trickled a byte at a time) are all closed once the header timeout passes,
while a normal request is answered; connections beyond the limit are closed at once;
oversized headers are 431; an idle keep-alive connection is closed, and so is one that
trickles the next request's headers after a response."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time

import pytest

from tests.web.conftest import Web
from tests.web.hardening_edge_server import Served, read_response, request_head, serve

pytestmark = pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
PARTIAL = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (EOF or reset), without blocking."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def normal_request(server: Served) -> float:
    """GET /login on a fresh connection: its status must be 200; returns the seconds taken."""
    start = time.monotonic()
    with server.connect() as sock:
        sock.sendall(request_head("GET", "/login", {"Connection": "close"}))
        status, _, _ = read_response(sock, timeout=5)
    assert status == 200
    return time.monotonic() - start


def trickle(socks: list[socket.socket], seconds: float) -> None:
    """One header byte every 0.2 s on every open connection, for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for sock in socks:
            with contextlib.suppress(OSError):  # closed by the server
                sock.send(b"a")
        time.sleep(0.2)


def test_many_slowloris_connections_are_closed_and_a_normal_request_is_served(web: Web) -> None:
    limits = {"http_max_connections": "400", "http_max_connections_per_address": "400"}
    with serve(http_header_timeout_s="2", **limits) as server:  # all from 127.0.0.1
        socks = [server.connect() for _ in range(300)]
        for sock in socks:
            sock.sendall(PARTIAL)
        trickle(socks, 0.6)
        assert normal_request(server) < 2  # while 300 slow ones are held
        assert not any(closed(s) for s in socks)  # not before the timeout
        trickle(socks, 2.5)
        time.sleep(0.3)
        still_open = [s for s in socks if not closed(s)]
        assert still_open == [], f"{len(still_open)} of 300 slow connections still open"
        assert normal_request(server) < 2
        for sock in socks:
            sock.close()


def test_connections_beyond_the_limit_are_closed_at_once(web: Web) -> None:
    with serve(http_header_timeout_s="2", http_max_connections="20") as server:
        socks = [server.connect() for _ in range(30)]
        time.sleep(0.5)
        states = [closed(s) for s in socks]
        assert states.count(True) == 10 and not any(states[:20])
        time.sleep(2)  # the 20 held are closed by the header timeout: room again
        assert normal_request(server) < 2
        for sock in socks:
            sock.close()


def test_oversized_headers_are_431_and_closed(web: Web) -> None:
    with serve(http_max_header_bytes="4096") as server, server.connect() as sock:
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 8000)
        status, headers, _ = read_response(sock, timeout=5)
        assert status == 431 and headers["connection"] == "close"
        time.sleep(0.2)
        assert closed(sock)


def test_keep_alive_is_bounded_and_trickling_the_next_request_does_not_extend_it(
    web: Web,
) -> None:
    with (
        serve(http_header_timeout_s="1.5", http_keep_alive_timeout_s="1") as server,
        server.connect() as idle,
        server.connect() as slow,
    ):
        for sock in (idle, slow):
            sock.sendall(request_head("GET", "/login", {}))
            assert read_response(sock, timeout=5)[0] == 200
        slow.sendall(PARTIAL)  # the next request begins, then trickles
        trickle([slow], 1.2)
        assert closed(idle)  # keep-alive timeout
        assert not closed(slow)
        trickle([slow], 0.8)
        time.sleep(0.2)
        assert closed(slow)  # header timeout, counted from the end of the last response


def test_a_body_slower_than_the_minimum_rate_is_closed_and_a_steady_one_is_served(
    web: Web,
) -> None:
    token = web.token("op")
    org = json.dumps({"id": "acme", "name": "Acme", "kind": "owner"}).encode()
    body = org + b" " * (60_000 - len(org))  # valid JSON, 60 kB
    head = request_head(
        "POST",
        "/api/v1/orgs",
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        },
    )
    with (
        serve(http_body_timeout_s="1", http_min_body_bytes_per_s="500") as server,
        server.connect() as slow,
        server.connect() as steady,
    ):
        slow.sendall(head + body[:10])
        steady.sendall(head)
        start = time.monotonic()
        for offset in range(0, len(body), 1500):  # 15 kB/s for 4 s: well above 500 B/s
            steady.sendall(body[offset : offset + 1500])
            with contextlib.suppress(OSError):
                slow.send(b" ")  # 10 B/s: far below it
            time.sleep(0.1)
        assert time.monotonic() - start > 3
        assert read_response(steady, timeout=5)[0] == 201
        assert closed(slow)


def _from(server: Served, address: str) -> socket.socket:
    """A connection from another loopback address (Linux routes all of 127/8 locally)."""
    sock = socket.create_connection(
        ("127.0.0.1", server.port), timeout=10, source_address=(address, 0)
    )
    return sock


def test_one_address_may_hold_only_its_share_of_the_connections(web: Web) -> None:
    """bench/abuse.py: 1,000 slow connections from one client took all 256 connections,
    and normal requests from others waited out their 5 s. One address now holds at most
    OVERSIGHT_HTTP_MAX_CONNECTIONS_PER_ADDRESS; trusted proxies (many clients) are exempt."""
    limits = {"http_max_connections_per_address": "5", "trusted_proxies": "127.0.0.3"}
    with serve(http_header_timeout_s="30", **limits) as server:
        attacker = [_from(server, "127.0.0.2") for _ in range(8)]
        for sock in attacker:
            sock.sendall(PARTIAL)
        proxy = [_from(server, "127.0.0.3") for _ in range(8)]
        time.sleep(0.5)
        states = [closed(s) for s in attacker]
        assert states.count(True) == 3 and not any(states[:5])
        assert not any(closed(s) for s in proxy)  # a trusted proxy carries many clients
        assert normal_request(server) < 2  # another address is served at once
        for sock in attacker[:5]:
            sock.close()
        time.sleep(0.5)  # their slots are free again
        again = _from(server, "127.0.0.2")
        time.sleep(0.3)
        assert not closed(again)
        for sock in [again, *proxy, *attacker[5:]]:
            sock.close()

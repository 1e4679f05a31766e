"""Connections of ``oversight serve`` (finding 15): slow clients cannot hold the server.

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) and answers 503
beyond ``limit_concurrency``, but it has no header-read timeout: a connection that
sends its headers a byte at a time (slowloris) is held for ever, and each one held is a
file descriptor and a parser. This subclass of uvicorn's httptools protocol (the one
``pyproject.toml`` chooses for speed) adds three bounds:

- a deadline for a complete request line and headers, armed when a connection opens
  and again when it turns idle after a response; it is not pushed back by each byte
  received, so trickling cannot keep a connection open;
- at most ``max_header_bytes`` of request line and headers (431, then closed);
- at most ``max_connections`` open connections: the ones beyond are closed at once;
- at most ``max_per_address`` of them from one client address (trusted proxies, which
  carry many clients, exempt): 1,000 slow connections from one attacker took all 256
  before, and normal requests waited out their 5 s (bench/abuse.py);
- a request body that arrives too slowly (slow POST): it gets ``body_timeout`` seconds,
  extended by one second per ``min_body_rate`` bytes received (Apache's mod_reqtimeout
  ``body=20,MinRate=500``); time while the app itself is not reading does not count.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from oversight.config import Settings

log = logging.getLogger(__name__)

BODY_CHECK_S = 0.5
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 31\r\n"
    b"connection: close\r\n\r\nrequest headers are too large\r\n"
)


_WARN_EVERY_S = 10.0
_warned: dict[str, tuple[float, int]] = {}  # message -> (last logged, refused since)


def _warn_now_and_then(message: str, limit: int) -> None:
    """A flood must not become a log flood: one line per message every 10 s, with the
    count of the refusals it stands for."""
    now = time.monotonic()
    last, since = _warned.get(message, (-_WARN_EVERY_S, 0))
    if now - last < _WARN_EVERY_S:
        _warned[message] = (last, since + 1)
        return
    _warned[message] = (now, 0)
    log.warning(message + " (%d more since the last warning)", limit, since)


class BoundedHttpTools(HttpToolsProtocol):
    header_timeout: float = 10.0
    max_header_bytes: int = 16 << 10
    max_connections: int = 256
    body_timeout: float = 20.0
    min_body_rate: int = 500
    max_per_address: int = 64
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Open connections per client address, for the whole server (one event loop).
    per_address: ClassVar[Counter[str]] = Counter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address: str | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_deadline = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _warn_now_and_then(
                "connection limit (%d) reached: closing new ones", self.max_connections
            )
            transport.abort()
            return
        address = self._client_address(transport)
        if address is not None:
            if self.per_address[address] >= self.max_per_address:
                _warn_now_and_then(
                    "connection limit per address (%d) reached: closing new ones",
                    self.max_per_address,
                )
                transport.abort()
                return
            self.per_address[address] += 1
            self._address = address
        self._await_headers()

    def _client_address(self, transport: asyncio.Transport) -> str | None:
        """The peer's address, or None when it is exempt (a trusted proxy) or unknown."""
        peer = transport.get_extra_info("peername")
        if not peer:
            return None
        try:
            ip = ipaddress.ip_address(peer[0])
        except ValueError:
            return None
        if any(ip in network for network in self.exempt):
            return None
        return str(ip)

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        self._body_done()
        if self._address is not None:
            self.per_address[self._address] -= 1
            if self.per_address[self._address] <= 0:
                del self.per_address[self._address]
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        awaiting = self._header_timer is not None
        super().data_received(data)
        if awaiting and self._header_timer is not None:
            # Still no complete headers after this chunk: all of it was header bytes.
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
                self.transport.write(TOO_LARGE)
                self.transport.close()

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()
        # Until on_message_complete (at once for a request without a body).
        self._body_done()
        self._body_deadline = self.loop.time() + self.body_timeout
        self._body_timer = self.loop.call_later(BODY_CHECK_S, self._body_check)

    def on_body(self, body: bytes) -> None:
        self._body_deadline += len(body) / self.min_body_rate
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._body_done()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle now, waiting for the next request
            self._await_headers()

    def _await_headers(self) -> None:
        self._headers_done()
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _headers_done(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _body_done(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_check(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the app is not reading: not the client's delay
            self._body_deadline += BODY_CHECK_S
        elif self.loop.time() > self._body_deadline:
            log.warning("closing a connection whose request body arrives too slowly")
            self.transport.close()
            return
        self._body_timer = self.loop.call_later(BODY_CHECK_S, self._body_check)

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_for(settings: Settings) -> type[BoundedHttpTools]:
    """The protocol class with this deployment's bounds (uvicorn instantiates it)."""
    bounds = {
        "header_timeout": settings.http_header_timeout_s,
        "max_header_bytes": settings.http_max_header_bytes,
        "max_connections": settings.http_max_connections,
        "body_timeout": settings.http_body_timeout_s,
        "min_body_rate": settings.http_min_body_bytes_per_s,
        "max_per_address": settings.http_max_connections_per_address,
        "exempt": tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxy_list),
        "per_address": Counter(),
    }
    return type("OversightHttp", (BoundedHttpTools,), bounds)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``: the bounds above, keep-alive, and forwarded
    headers believed only from the configured proxies (uvicorn's own default believes
    any process on 127.0.0.1)."""
    proxies = settings.trusted_proxy_list
    return {
        "http": protocol_for(settings),
        "timeout_keep_alive": settings.http_keep_alive_timeout_s,
        # uvicorn counts this connection too: one more, so the last one allowed is served.
        "limit_concurrency": settings.http_max_connections + 1,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
        # Long-lived responses (the alarm banner's event streams) must not hold a stop.
        "timeout_graceful_shutdown": settings.http_shutdown_grace_s,
    }

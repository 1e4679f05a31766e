"""Trusted hosts (finding 17): a request whose ``Host`` is not one this server answers to
is refused with 400 before routing, so a page on another name that the victim's
browser resolves to 127.0.0.1 (DNS rebinding) reaches nothing, not even the anonymous
pages. The names come from ``OVERSIGHT_TRUSTED_HOSTS``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from oversight.api import errors


def hostname(value: str) -> str | None:
    """The host part of a ``Host`` header (or a setting), lower case, without port or
    IPv6 brackets; None if it is not a well-formed host[:port]."""
    value = value.strip()
    if not value or any(c in value for c in "/?#@ \t\\"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return parts.hostname or None


class TrustedHosts:
    """Pure ASGI middleware: 400 with the usual error body for any other Host."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        patterns = [a.strip().lower() for a in allowed]
        self.exact = {hostname(p) for p in patterns if not p.startswith("*.")} - {None}
        self.suffixes = tuple(f".{hostname(p[2:])}" for p in patterns if p.startswith("*."))

    def allows(self, host: str | None) -> bool:
        return host is not None and (host in self.exact or host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("host", "")
        if self.allows(hostname(given)):
            await self.app(scope, receive, send)
            return
        message = "this server does not answer to that Host header (see OVERSIGHT_TRUSTED_HOSTS)"
        response = errors.respond(Request(scope), 400, errors.body(message))
        response.headers["Connection"] = "close"  # the body, if any, is not read
        await response(scope, receive, send)

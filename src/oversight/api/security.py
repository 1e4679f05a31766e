"""Authentication, authorization and request hygiene for the API and the console.

One path for both: a machine sends ``Authorization: Bearer <token>`` (a token from
``POST /api/v1/session`` or ``oversight login``), the console sends the same kind of
token in the ``ov_session`` cookie (``HttpOnly``, ``SameSite=Strict``). Either is
resolved by ``services.auth.resolve`` and the person's roles are checked against the
route's role set; anything doubtful fails closed with 401 or 403.

Cookie-borne requests that change state must carry the CSRF token (form field
``csrf`` or header ``X-CSRF-Token``): a digest of the session token under its own
label, so it needs no server secret and a cross-site page cannot know it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oversight.bootstrap import System
from oversight.domain.people import Person, require_role
from oversight.errors import AuthenticationError, OversightError, PermissionDenied
from oversight.services import auth

COOKIE = "ov_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(b"oversight-csrf\0" + session_token.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Caller:
    """The person behind one request, and a System whose ledger leaves name them."""

    person: Person
    token: str
    via: Literal["bearer", "cookie"]
    system: System

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def base_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


def acting_system(request: Request, actor: str) -> System:
    """A shallow copy of the app's System for one request: services set ``actor`` on
    the System they get, so concurrent requests must not share one."""
    return dataclasses.replace(base_system(request), actor=actor)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette for the endpoint's Form()s
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if given is None or not hmac.compare_digest(given, expected):
        raise PermissionDenied("the form is stale or forged (CSRF check failed): reload the page")


async def authenticate(request: Request) -> Caller:
    """The caller, or AuthenticationError; cached on the request."""
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    token = _bearer(request)
    via: Literal["bearer", "cookie"] = "bearer"
    if token is None:
        token = request.cookies.get(COOKIE)
        via = "cookie"
    if not token:
        raise AuthenticationError("log in first")
    # On the loop, not in the pool: one indexed read through a read session (see inline.py).
    login = auth.resolve(base_system(request), token)
    caller = Caller(login.person, token, via, acting_system(request, login.person.id))
    if via == "cookie" and request.method not in SAFE_METHODS:
        await _check_csrf(request, caller.csrf)
    request.state.caller = caller
    return caller


def need(*roles: str) -> Callable[[Request], object]:
    """A dependency: the logged-in caller, who must hold one of ``roles`` (any if none)."""

    async def dependency(request: Request) -> Caller:
        caller = await authenticate(request)
        require_role(caller.person, roles)
        return caller

    dependency.__name__ = f"need_{'_'.join(roles) or 'login'}"
    return dependency


def may(person: Person, roles: Collection[str]) -> bool:
    return not roles or person.has_role(*roles)


class LoginLimiter:
    """At most ``limit`` login attempts per client address in ``window`` seconds, on top
    of the per-account back-off and lockout in ``services.auth``."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._seen.setdefault(client, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = int(self.window - (now - hits[0])) + 1
                raise TooManyAttempts(
                    f"too many login attempts from this address: try again in {wait} s"
                )
            hits.append(now)


class TooManyAttempts(OversightError):
    http_status = 429


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering, streaming responses stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

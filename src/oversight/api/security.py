"""Authentication, authorization and request hygiene for the API and the console.

One path for both: a machine sends ``Authorization: Bearer <token>`` (a token from
``POST /api/v1/session`` or ``oversight login``), the console sends the same kind of
token in the ``ov_session`` cookie (``HttpOnly``, ``SameSite=Strict``). Either is
resolved by ``services.auth.resolve``; a route names the policy action it serves
(``need("registry.write")``) and the person must hold a role the policy gives it, then
the service decides on the target. Anything doubtful fails closed with 401 or 403. The
person travels with each call (``Caller.person``): the shared System never holds them.

Cookie-borne requests that change state must carry the CSRF token (form field
``csrf`` or header ``X-CSRF-Token``): the session token's digest signed with the
server secret (``api/csrf.py``), so a cross-site page cannot know it.

Every password check of the web (logins, a witness's password) goes through
:func:`check_password`: the app's one :class:`LoginLimiter` (``services/login_guard.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oversight.api import csrf as csrf_tokens
from oversight.bootstrap import System
from oversight.domain import policy
from oversight.domain.people import Person, require_role
from oversight.errors import AuthenticationError, PermissionDenied
from oversight.services import access, auth
from oversight.services.login_guard import LoginGuard, LoginLimits
from oversight.services.login_guard import TooManyAttempts as TooManyAttempts  # re-exported

COOKIE = "ov_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """The person behind one request, and the app's (immutable, shared) System."""

    person: Person
    token: str
    via: Literal["bearer", "cookie"]
    system: System
    csrf: str  # the token this session's forms carry ("" for a bearer token)


def base_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


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
    # Only cookie sessions have forms; a bearer client never sends the token.
    csrf = csrf_tokens.tokens(request).for_session(token) if via == "cookie" else ""
    caller = Caller(login.person, token, via, base_system(request), csrf)
    if via == "cookie" and request.method not in SAFE_METHODS:
        await _check_csrf(request, caller.csrf)
    request.state.caller = caller
    return caller


def need(*actions: str) -> Callable[[Request], object]:
    """A dependency: the logged-in caller, whose roles the policy allows one of
    ``actions`` (any logged-in person if none). The target is the service's to decide."""

    async def dependency(request: Request) -> Caller:
        caller = await authenticate(request)
        if actions and not any(policy.may_take(caller.person, a) for a in actions):
            policy.require(caller.person, actions[0])
        require_role(caller.person, ())
        return caller

    dependency.__name__ = f"need_{'_'.join(a.replace('.', '_') for a in actions) or 'login'}"
    return dependency


def need_governed(action: str, verb: str, target: str) -> Callable[[Request], object]:
    """A dependency for a route about footage or its governance: like :func:`need`, but
    a person whose roles the policy never allows ``action`` is refused with a
    ``<verb>.refused`` leaf naming ``target`` (a pattern of the route's numeric path
    parameters, e.g. ``request:{request_id}``), before the body is read."""

    async def dependency(request: Request) -> Caller:
        caller = await authenticate(request)
        require_role(caller.person, ())
        if not policy.may_take(caller.person, action):
            ids = {k: v if v.isdigit() else "?" for k, v in request.path_params.items()}
            await run_in_threadpool(
                access.refuse_unless_allowed,
                caller.system,
                caller.person,
                action,
                verb=verb,
                target=target.format(**ids),
            )
        return caller

    dependency.__name__ = f"need_{action.replace('.', '_')}_or_refused"
    return dependency


def may(person: Person, *actions: str) -> bool:
    """Whether a page should offer ``actions`` (what it does is the service's to decide)."""
    return any(policy.may_take(person, a) for a in actions)


class LoginLimiter(LoginGuard):
    """The app's one limiter of password checks (``app.state.login_limiter``), from the
    settings; ``limit``/``window`` set the per-address limit directly (tests, tools)."""

    def __init__(
        self,
        limit: int | None = None,
        window: float | None = None,
        *,
        limits: LoginLimits | None = None,
    ) -> None:
        base = limits or LoginLimits()
        if limit is not None:
            base = dataclasses.replace(base, address_attempts=limit)
        if window is not None:
            base = dataclasses.replace(base, window_s=max(1, int(window)))
        super().__init__(base)


def login_limiter(request: Request) -> LoginGuard:
    """The app's limiter, made from the settings on first use."""
    state = request.app.state
    found = getattr(state, "login_limiter", None)
    if not isinstance(found, LoginGuard):
        found = LoginGuard.from_settings(base_system(request).settings)
        state.login_limiter = found
    return found


async def check_password(request: Request, user_id: str, password: str) -> Person:
    """A password check for a web request, through the one limiter: the address limit
    and the argon2 slots in this process, the throttle in the database, the slow-down
    awaited on the event loop (a waiting attempt holds no thread)."""
    guard = login_limiter(request)
    address = client_address(request)
    guard.check_address(address)
    system = base_system(request)
    attempt = await run_in_threadpool(auth.begin, system, guard, user_id, address)
    if attempt.delay > 0:
        await asyncio.sleep(attempt.delay)
    return await run_in_threadpool(auth.check, system, guard, attempt, password)


async def log_in(request: Request, user_id: str, password: str) -> tuple[str, auth.Login]:
    person = await check_password(request, user_id, password)
    return await run_in_threadpool(auth.open_session, base_system(request), person)


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

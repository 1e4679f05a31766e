"""Request bodies (finding 1): who may send one, and how big it may be.

A pure ASGI middleware in front of every route, so nothing reads a body it refuses:

1. A declared ``Content-Length`` above the route's limit is answered 413 at once.
2. A body from a caller without a valid session (bearer token or console cookie) is
   answered 401 (the console: a redirect to the login page) before a byte of it is read;
   only the login routes take a body from anyone, with a small limit of their own.
3. The bytes that do arrive are counted (chunked bodies have no length to check first):
   one past the limit raises 413, and the route stops reading.
4. A JSON body may hold at most ``max_json_values`` values (counted as its ``,``, ``[``
   and ``{`` bytes arrive, an upper bound): a parsed JSON value costs some 30-100 times
   its bytes in memory, so 100 MB of ``[0,0,...]`` under a document route's byte limit
   would take gigabytes; documents travel as base64 strings, which hold none of these.
5. A body larger than the JSON limit (document uploads) is parsed in memory by the
   route, a few times its size: at most ``max_concurrent_uploads`` are handled at once,
   and one more is answered 503 with ``Retry-After`` before its body is read, so a
   logged-in account cannot take the host's memory (and the recorder's) by sending many.

Every refusal closes the connection (``Connection: close``), so the server does not go
on reading and discarding what the client still sends. Limits per route: the document
uploads take ``document_max_count`` x ``document_max_bytes`` (x 4/3 where the API
carries them as base64) plus ``max_json_bytes`` for their other fields; the logins
``max_login_body_bytes``; every other route ``max_json_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oversight.api import errors
from oversight.api.security import COOKIE
from oversight.config import Settings
from oversight.errors import AuthenticationError
from oversight.services import auth

Route = tuple[str, str]  # (method, path)
CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class BodyRoutes:
    """The routes that differ from the default (a login and a JSON or form body)."""

    anonymous: frozenset[Route] = frozenset()  # take a body without a login: the logins
    multipart: frozenset[Route] = frozenset()  # documents as multipart/form-data
    base64: frozenset[Route] = frozenset()  # documents as base64 inside JSON

    def __or__(self, other: BodyRoutes) -> BodyRoutes:
        return BodyRoutes(
            self.anonymous | other.anonymous,
            self.multipart | other.multipart,
            self.base64 | other.base64,
        )


@dataclass(frozen=True)
class BodyLimits:
    json: int
    login: int
    documents: int  # all the documents of one request, raw bytes
    routes: BodyRoutes = field(default_factory=BodyRoutes)
    uploads: int = 2  # large bodies handled at once
    json_values: int = 10_000  # values in one JSON body

    @classmethod
    def from_settings(cls, settings: Settings, routes: BodyRoutes) -> BodyLimits:
        documents = settings.document_max_count * settings.document_max_bytes
        return cls(
            settings.max_json_bytes,
            settings.max_login_body_bytes,
            documents,
            routes,
            settings.max_concurrent_uploads,
            settings.max_json_values,
        )

    def limit(self, route: Route) -> int:
        if route in self.routes.anonymous:
            return self.login
        if route in self.routes.multipart:
            return self.documents + self.json
        if route in self.routes.base64:
            return -(-self.documents * 4 // 3) + self.json
        return self.json


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def has_body(headers: Headers) -> bool:
    length = _declared_length(headers)
    return bool(length) or "chunked" in headers.get("transfer-encoding", "").lower()


def session_token(request: Request) -> str | None:
    """The bearer token or, failing that, the console's session cookie (as in security.py)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def logged_in(request: Request) -> bool:
    token = session_token(request)
    if token is None:
        return False
    try:
        # One indexed read on the loop, as security.authenticate does: no body is read.
        auth.resolve(request.app.state.system, token)
    except AuthenticationError:
        return False
    return True


def too_large(limit: int) -> str:
    return f"request body too large: this route accepts at most {limit} bytes"


def too_many_values(most: int) -> str:
    return f"request body holds too many JSON values: at most {most} are accepted"


class BodyGuard:
    """Pure ASGI middleware: authenticate, then bound, before any body is read."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits
        self._uploads = limits.uploads  # free slots for large bodies (one event loop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not has_body(headers):
            await self.app(scope, receive, send)
            return
        route = (str(scope["method"]), str(scope["path"]))
        limit = self.limits.limit(route)
        request = Request(scope)
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await self._refuse(request, 413, too_large(limit), receive, send)
            return
        if route not in self.limits.routes.anonymous and not logged_in(request):
            await self._refuse(request, 401, "log in first", receive, send)
            return
        large = declared is None or declared > self.limits.json
        if large and limit > self.limits.json:  # a document route: bounded at once
            if self._uploads <= 0:
                await self._refuse(
                    request,
                    503,
                    "too many document uploads at once: retry in a few seconds",
                    receive,
                    send,
                    retry_after=5,
                )
                return
            self._uploads -= 1
            try:
                await self._guarded(scope, receive, send, limit)
            finally:
                self._uploads += 1
            return
        await self._guarded(scope, receive, send, limit)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = values = 0
        is_json = Headers(scope=scope).get("content-type", "").startswith("application/json")
        most = self.limits.json_values

        async def counted() -> Message:
            nonlocal seen, values
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    # Reaches errors.install's handler: the usual body, JSON or page.
                    raise HTTPException(413, too_large(limit), headers=CLOSE)
                if is_json:
                    values += chunk.count(b",") + chunk.count(b"[") + chunk.count(b"{")
                    if values > most:
                        raise HTTPException(413, too_many_values(most), headers=CLOSE)
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(
        request: Request,
        status: int,
        message: str,
        receive: Receive,
        send: Send,
        *,
        retry_after: int | None = None,
    ) -> None:
        response = errors.respond(request, status, errors.body(message))
        response.headers.update(CLOSE)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        await response(request.scope, receive, send)

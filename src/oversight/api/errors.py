"""Errors to responses, in one place: ``{"error", "rule", "article"}`` with a 4xx, or
with a 5xx when the server is at fault: the footage store or another backing service
failing (``StorageError``: 503, try again later) or a misconfigured deployment
(``ConfigError``: 500). Their detail (paths, endpoints) is logged, not sent.

API paths (``/api/...``) get JSON; console pages get the error page, and an anonymous
console request is sent to the login page. No input may produce a 500: anything
unexpected is logged with its traceback and answered with a bare 500 body that
carries no detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from oversight.errors import (
    AuthenticationError,
    ConfigError,
    OversightError,
    PermissionDenied,
    RuleViolation,
    StorageError,
)

log = logging.getLogger(__name__)

# The console's error page (``web.render.render_error``), registered by the app that
# serves the console (``web/app.py``): the API itself renders no pages.
ErrorPage = Callable[[Request, int, dict[str, Any]], Response]


def is_api_path(path: str) -> bool:
    """JSON for machines (the API and Prometheus's /metrics); the HTML reference at
    /api/docs is a console page."""
    return (path.startswith("/api/") and path != "/api/docs") or path == "/metrics"


def is_api(request: Request) -> bool:
    return is_api_path(request.url.path)


def body(message: str, *, rule: str | None = None, article: str | None = None) -> dict[str, Any]:
    return {"error": message, "rule": rule, "article": article}


# Faults of the server, not of the request: (status, what the client is told).
SERVER_FAULTS: dict[type[OversightError], tuple[int, str]] = {
    StorageError: (503, "the footage store is unavailable: try again later (logged on the server)"),
    ConfigError: (500, "the server is misconfigured (logged on the server)"),
}


def server_fault(exc: OversightError) -> tuple[int, str] | None:
    for kind, answer in SERVER_FAULTS.items():
        if isinstance(exc, kind):
            return answer
    return None


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    msg = str(first.get("msg", "invalid value"))
    return f"{where}: {msg}" if where else msg


def respond(request: Request, status: int, payload: dict[str, Any]) -> Response:
    error_page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if is_api(request) or error_page is None:
        return JSONResponse(payload, status_code=status)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return error_page(request, status, payload)


def install(app: FastAPI, error_page: ErrorPage | None = None) -> None:
    """Answer every error as JSON, or on console paths with ``error_page`` (if given)."""
    app.state.error_page = error_page

    @app.exception_handler(OversightError)
    async def _oversight(request: Request, exc: OversightError) -> Response:
        fault = server_fault(exc)
        if fault is not None:
            log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
            return respond(request, fault[0], body(fault[1]))
        if isinstance(exc, RuleViolation):
            payload = body(exc.message, rule=exc.rule, article=exc.article)
            missing = getattr(exc, "kinds", None)  # every missing document, by kind
            if isinstance(missing, list):
                payload["missing"] = missing
        elif isinstance(exc, PermissionDenied):
            payload = body(exc.message, rule=exc.rule and f"policy.{exc.rule}")
        else:
            payload = body(exc.message)
        if isinstance(exc, AuthenticationError):
            return respond(request, 401, payload)
        response = respond(request, exc.http_status, payload)
        retry_after = getattr(exc, "retry_after", None)  # a throttled login (429)
        if isinstance(retry_after, int):
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, 422, body(_validation_message(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        response = respond(request, exc.status_code, body(message))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not an input problem: keep the traceback in the log, not in the reply.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, 500, body("internal error (logged on the server)"))

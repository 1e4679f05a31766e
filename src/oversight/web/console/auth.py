"""Console login and logout: the session token in an ``HttpOnly`` cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from oversight.api import csrf as csrf_tokens
from oversight.api.security import COOKIE, Caller, TooManyAttempts, authenticate, log_in
from oversight.domain.people import MAX_PASSWORD_CHARS, SESSION_TTL
from oversight.errors import AuthenticationError, OversightError, PermissionDenied
from oversight.services import auth
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
# The pre-session the login form's CSRF token is bound to (finding 17, api/csrf.py).
PRESESSION = "ov_presession"


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    made = csrf_tokens.tokens(request)
    # One pre-session per browser: a second tab's form is bound to the same one.
    presession = request.cookies.get(PRESESSION) or ""
    if not 20 <= len(presession) <= 64:
        presession = made.new_presession()
    response = page(
        request,
        None,
        "console/login.html",
        status=status,
        login_csrf=made.for_login(presession),
        next=safe_next(request.query_params.get("next")),
        error=error,
    )
    response.set_cookie(
        PRESESSION,
        presession,
        max_age=made.login_max_age_s,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
async def login(
    request: Request,
    user: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)],
    csrf: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    presession = request.cookies.get(PRESESSION, "")
    if not presession or not csrf_tokens.tokens(request).login_ok(presession, csrf):
        raise PermissionDenied("the login form is stale or forged (CSRF check failed): reload it")
    try:
        token, _ = await log_in(request, user, password)
    except AuthenticationError as exc:
        return _login_form(request, 401, exc.message)
    except TooManyAttempts as exc:
        refused = _login_form(request, exc.http_status, exc.message)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except OversightError as exc:
        return _login_form(request, exc.http_status, exc.message)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(PRESESSION, path="/login")
    return response


@router.post("/logout")
async def logout(caller: Annotated[Caller, Depends(authenticate)]) -> Response:
    await run_in_threadpool(auth.logout, caller.system, caller.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response

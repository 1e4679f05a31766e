"""``/api/v1/session``: log in for a bearer token, see who you are, log out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from oversight.api.schemas import THROTTLED
from oversight.api.security import Caller, authenticate, log_in
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.services import auth

router = APIRouter(prefix="/session", tags=["session"])


class Credentials(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class Me(BaseModel):
    id: str
    name: str
    roles: list[str]
    sites: list[str]


class NewSession(BaseModel):
    token: str
    expires_at: datetime
    user: Me


def me(caller: Caller) -> Me:
    p = caller.person
    return Me(id=p.id, name=p.name, roles=list(p.roles), sites=list(p.sites))


@router.post(
    "",
    response_model=NewSession,
    summary="Log in; the token is shown once",
    responses=THROTTLED,
)
async def login(credentials: Credentials, request: Request) -> NewSession:
    # Through the one limiter: a refusal is a 429 with Retry-After (api/errors.py).
    token, login = await log_in(request, credentials.user, credentials.password)
    p = login.person
    return NewSession(
        token=token,
        expires_at=login.expires_at,
        user=Me(id=p.id, name=p.name, roles=list(p.roles), sites=list(p.sites)),
    )


@router.get("", response_model=Me, summary="Who the token belongs to")
async def whoami(caller: Annotated[Caller, Depends(authenticate)]) -> Me:
    return me(caller)


@router.delete("", status_code=204, summary="Log out: the token stops working")
async def logout(caller: Annotated[Caller, Depends(authenticate)]) -> None:
    await run_in_threadpool(auth.logout, caller.system, caller.token)

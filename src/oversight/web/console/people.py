"""People: accounts, roles and training records (admins change, auditors read)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from oversight.api.security import Caller, need
from oversight.domain.people import MAX_PASSWORD_CHARS, ROLES, known_topics
from oversight.errors import InvalidInput
from oversight.services import people
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Admin = Annotated[Caller, Depends(need("people.manage"))]


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def _back() -> Response:
    return RedirectResponse("/people", status_code=303)


@router.get("/people")
def people_page(
    request: Request, caller: Annotated[Caller, Depends(need("people.read"))]
) -> Response:
    return page(
        request,
        caller,
        "console/people.html",
        users=people.list_users(caller.system, caller.person),
        all_roles=ROLES,
        topics=sorted(known_topics(caller.system.packs)),
        today=caller.system.packs.local_date(caller.system.clock.now()),
    )


@router.post("/people")
async def add_user(
    caller: Admin,
    user_id: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    id_doc: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)],
    sites: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    await run_in_threadpool(
        lambda: people.add_user(
            caller.system,
            caller.person,
            user_id=user_id.strip(),
            name=name,
            roles=[],
            sites=sites.split(","),
            id_doc=id_doc,
            password=password,
        )
    )
    return _back()


@router.post("/people/{user_id}/training")
async def record_training(
    user_id: str,
    caller: Admin,
    trained_on: Annotated[str, Form(max_length=10)],
    valid_until: Annotated[str, Form(max_length=10)],
    topics: Annotated[list[str], Form()],
) -> Response:
    start, end = _date(trained_on, "trained on"), _date(valid_until, "valid until")
    await run_in_threadpool(
        lambda: people.record_training(
            caller.system,
            caller.person,
            user_id=user_id,
            trained_on=start,
            valid_until=end,
            topics=topics,
        )
    )
    return _back()


@router.post("/people/{user_id}/roles")
async def change_role(
    user_id: str,
    caller: Admin,
    role: Annotated[str, Form(max_length=32)],
    action: Annotated[str, Form(pattern="^(grant|revoke)$")] = "grant",
) -> Response:
    change = people.grant_role if action == "grant" else people.revoke_role
    await run_in_threadpool(change, caller.system, caller.person, user_id, role)
    return _back()


@router.post("/people/{user_id}/disable")
async def disable(user_id: str, caller: Admin) -> Response:
    await run_in_threadpool(people.disable_user, caller.system, caller.person, user_id)
    return _back()

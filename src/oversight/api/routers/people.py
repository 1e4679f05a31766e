"""``/api/v1`` people: accounts and training records (admins and auditors read).

Identity documents leave only masked (``PersonOut``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from oversight.api.schemas import ERRORS, ID_PATTERN, Day, PersonOut, TrainingOut
from oversight.api.security import Caller, need
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.services import people as svc

router = APIRouter(tags=["people"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("people.read"))]
Admin = Annotated[Caller, Depends(need("people.manage"))]


@router.get("/users", response_model=list[PersonOut], summary="Accounts with roles and training")
def users(caller: Reader) -> list[PersonOut]:
    return [PersonOut.of(p) for p in svc.list_users(caller.system, caller.person)]


@router.get("/users/{user_id}", response_model=PersonOut, summary="One account")
def user(user_id: str, caller: Reader) -> PersonOut:
    return PersonOut.of(svc.get_user(caller.system, caller.person, user_id))


@router.get("/training", response_model=list[TrainingOut], summary="Training records")
def training(
    caller: Reader, user: Annotated[str | None, Query(max_length=64)] = None
) -> list[TrainingOut]:
    return [
        TrainingOut(
            id=t.id,
            user_id=t.user_id,
            trained_on=t.trained_on,
            valid_until=t.valid_until,
            topics=list(t.topics),
            recorded_by=t.recorded_by,
        )
        for t in svc.list_training(caller.system, caller.person, user)
    ]


# ---- writes (admins) ----------------------------------------------------------------


class NewUser(BaseModel):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    id_doc: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="Identity-document number; stored, and only ever shown masked"
    )
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)]
    roles: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=10)] = []
    sites: Annotated[list[Annotated[str, Field(pattern=ID_PATTERN)]], Field(max_length=100)] = []


class RoleChange(BaseModel):
    role: Annotated[str, Field(min_length=1, max_length=32)]


class NewTraining(BaseModel):
    user_id: Annotated[str, Field(pattern=ID_PATTERN)]
    trained_on: Day
    valid_until: Day
    topics: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=20)
    ]


@router.post(
    "/users",
    response_model=PersonOut,
    status_code=201,
    summary="Add an account (roles need valid training: Art. 14(2))",
)
def add_user(body: NewUser, caller: Admin) -> PersonOut:
    return PersonOut.of(
        svc.add_user(
            caller.system,
            caller.person,
            user_id=body.id,
            name=body.name,
            roles=body.roles,
            sites=body.sites,
            id_doc=body.id_doc,
            password=body.password,
        )
    )


@router.post("/users/{user_id}/roles", response_model=PersonOut, summary="Grant a role")
def grant_role(user_id: str, body: RoleChange, caller: Admin) -> PersonOut:
    return PersonOut.of(svc.grant_role(caller.system, caller.person, user_id, body.role))


@router.delete("/users/{user_id}/roles/{role}", response_model=PersonOut, summary="Revoke a role")
def revoke_role(user_id: str, role: str, caller: Admin) -> PersonOut:
    return PersonOut.of(svc.revoke_role(caller.system, caller.person, user_id, role))


@router.post(
    "/users/{user_id}/disable",
    response_model=PersonOut,
    summary="Disable an account; its sessions end",
)
def disable(user_id: str, caller: Admin) -> PersonOut:
    return PersonOut.of(svc.disable_user(caller.system, caller.person, user_id))


@router.post("/training", response_model=TrainingOut, status_code=201, summary="Record a training")
def record_training(body: NewTraining, caller: Admin) -> TrainingOut:
    t = svc.record_training(
        caller.system,
        caller.person,
        user_id=body.user_id,
        trained_on=body.trained_on,
        valid_until=body.valid_until,
        topics=body.topics,
    )
    return TrainingOut(
        id=t.id,
        user_id=t.user_id,
        trained_on=t.trained_on,
        valid_until=t.valid_until,
        topics=list(t.topics),
        recorded_by=t.recorded_by,
    )

"""``/api/v1`` people: accounts and training records (admins and auditors read).

Identity documents leave only masked (``PersonOut``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from oversight.api import roles
from oversight.api.schemas import ERRORS, PersonOut, TrainingOut
from oversight.api.security import Caller, need
from oversight.services import people as svc

router = APIRouter(tags=["people"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need(*roles.PEOPLE_READERS))]


@router.get("/users", response_model=list[PersonOut], summary="Accounts with roles and training")
def users(caller: Reader) -> list[PersonOut]:
    return [PersonOut.of(p) for p in svc.list_users(caller.system)]


@router.get("/users/{user_id}", response_model=PersonOut, summary="One account")
def user(user_id: str, caller: Reader) -> PersonOut:
    return PersonOut.of(svc.get_user(caller.system, user_id))


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
        for t in svc.list_training(caller.system, user)
    ]

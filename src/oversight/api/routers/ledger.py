"""``/api/v1/ledger``: the verifier key, signed checkpoints, leaves, inclusion proofs
and the integrity check (``oversight verify``) with its latest recorded run."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from oversight.api.inline import inline
from oversight.api.schemas import ERRORS, non_json
from oversight.api.security import Caller, need
from oversight.errors import NotFound
from oversight.ledger import keys, leaves
from oversight.ledger.log import StoredCheckpoint
from oversight.services import ledger as ledger_svc
from oversight.services import verify as svc
from oversight.services.verify import RunRec

router = APIRouter(prefix="/ledger", tags=["ledger"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("ledger.read"))]
Verifier = Annotated[Caller, Depends(need("ledger.verify"))]
Index = Annotated[int, Path(ge=0, le=2**62)]


class CheckpointOut(BaseModel):
    size: int
    root: str  # base64
    created_at: datetime
    note: str

    @classmethod
    def of(cls, cp: StoredCheckpoint) -> CheckpointOut:
        return cls(
            size=cp.size,
            root=base64.b64encode(cp.root).decode(),
            created_at=cp.created_at,
            note=cp.note,
        )


class LeafOut(BaseModel):
    index: int
    kind: str
    leaf_hash: str  # hex
    # None when withheld: an access-register leaf for someone who may not read the register
    leaf: dict[str, Any] | None
    withheld: bool = False


class ProofOut(BaseModel):
    index: int
    size: int
    leaf_hash: str  # hex
    hashes: list[str]  # base64, the audit path from the leaf up
    checkpoint: str  # the signed note of that size
    tlog_proof: str  # C2SP tlog-proof text: checkable offline with the verifier key


class ProblemOut(BaseModel):
    kind: str
    object: str
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    ledger_size: int
    checkpoints_checked: int
    witness_checkpoints_checked: int
    segments_checked: int
    segments_total: int
    bytes_checked: int
    sampled: bool
    problems: list[ProblemOut]


@router.get(
    "/pubkey",
    response_class=PlainTextResponse,
    summary="The verifier key that checks this log's checkpoints (give it to inspectors)",
    responses=non_json("text/plain"),
)
@inline
def pubkey(caller: Reader) -> PlainTextResponse:
    return PlainTextResponse(keys.verifier_key(caller.system.settings.keys_dir) + "\n")


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP tlog-checkpoint)",
    responses=non_json("text/plain"),
)
@inline
def checkpoint(caller: Reader) -> PlainTextResponse:
    with caller.system.reads() as session:
        latest = caller.system.ledger.latest_checkpoint(session)
    if latest is None:
        raise NotFound("the ledger has no checkpoint yet")
    return PlainTextResponse(latest.note)


@router.get(
    "/checkpoints", response_model=list[CheckpointOut], summary="Every checkpoint, oldest first"
)
@inline
def checkpoints(
    caller: Reader, since: Annotated[int, Query(ge=0, le=2**62, description="Minimum size")] = 0
) -> list[CheckpointOut]:
    with caller.system.reads() as session:
        found = caller.system.ledger.checkpoints(session, since=since)
    return [CheckpointOut.of(cp) for cp in found]


@router.get("/leaves/{index}", response_model=LeafOut, summary="One leaf, decoded")
@inline
def leaf(index: Index, caller: Reader) -> LeafOut:
    view = ledger_svc.leaf(caller.system, caller.person, index)
    return LeafOut(
        index=view.index,
        kind=view.kind,
        leaf_hash=view.leaf_hash.hex(),
        leaf=None if view.data is None else leaves.decode(view.data),
        withheld=view.withheld,
    )


@router.get(
    "/proof/{index}",
    response_model=ProofOut,
    summary="Inclusion proof of a leaf against a signed checkpoint (default: the latest)",
)
@inline
def inclusion(
    index: Index,
    caller: Reader,
    size: Annotated[int | None, Query(ge=1, le=2**62, description="Checkpoint size")] = None,
) -> ProofOut:
    made = ledger_svc.inclusion(caller.system, caller.person, index=index, size=size)
    return ProofOut(
        index=made.index,
        size=made.size,
        leaf_hash=made.leaf_hash.hex(),
        hashes=[base64.b64encode(h).decode() for h in made.path],
        checkpoint=made.checkpoint,
        tlog_proof=made.text,
    )


@router.get(
    "/verify",
    response_model=RunRec | None,
    summary="The latest recorded integrity check (null if none has run)",
)
@inline
def latest(caller: Reader) -> RunRec | None:
    return svc.latest_run(caller.system)


@router.post(
    "/verify",
    response_model=VerifyOut,
    summary="Run the integrity check now (optionally on a sample of segments) and record it",
)
def run(
    caller: Verifier,
    sample: Annotated[int | None, Query(ge=1, le=1_000_000, description="Segments to hash")] = None,
) -> dict[str, Any]:
    started = caller.system.clock.now()
    report = svc.verify(caller.system, sample=sample)
    svc.record_run(caller.system, caller.person, report, started)
    return report.to_json()

"""Issue 18, finding 12: documents of refused requests follow retention, on SQLite and
PostgreSQL. The retention run removes them ``document_retention_days`` after the
decision, a ``document.deleted`` leaf each, and never a document a pending or approved
request (or a procedure) still needs."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.domain.people import Person
from oversight.services import access as svc
from oversight.services import purge
from tests.services import test_access as base
from tests.services.test_access import NOW, POLICE_DOCS, request
from tests.services.test_people import leaves_of

# The fixtures of tests/services/test_access.py: a FixedClock system and its cast.
clock, sys_, cast, fast_hashes = base.clock, base.sys_, base.cast, base.fast_hashes

SHARED = POLICE_DOCS["work_id"]


def docs(tag: str) -> dict[str, bytes]:
    """The police documents, each unique to ``tag`` but the work ID scan (shared)."""
    return {k: v if k == "work_id" else v + f" {tag}".encode() for k, v in POLICE_DOCS.items()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored(system: bootstrap.System, data: bytes) -> bool:
    return (system.settings.data_dir / "documents" / sha(data)).exists()


def removals(system: bootstrap.System) -> list[dict[str, object]]:
    return [leaf for leaf in leaves_of(system, "retention") if leaf["action"] == "document.deleted"]


def test_documents_of_a_denied_request_go_after_retention_and_no_others(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    days = sys_.settings.document_retention_days
    cop, cust, boss = cast["cop"], cast["cust"], cast["boss"]
    denied = request(sys_, cop, docs=docs("denied"))
    svc.deny(sys_, cust, denied.id, reason="no basis")
    pending = request(sys_, cop, docs=docs("pending"))
    approved = request(sys_, cop, docs=docs("approved"))
    grant = svc.approve(sys_, cust, approved.id, valid_for=timedelta(days=1))
    svc.revoke(sys_, cust, grant.id, reason="done")  # a grant that ended: still kept
    clock.set(NOW + timedelta(days=days - 10))
    late = request(sys_, cop, docs=docs("late"))
    svc.deny(sys_, cust, late.id, reason="no basis")

    clock.set(NOW + timedelta(days=days) - timedelta(minutes=1))
    assert purge.run(sys_, boss).documents == 0
    assert removals(sys_) == [] and stored(sys_, docs("denied")["unit_letter"])

    clock.set(NOW + timedelta(days=days, minutes=1))
    result = purge.run(sys_, boss)
    gone = {sha(v) for k, v in docs("denied").items() if k != "work_id"}
    assert result.documents == 3
    leaves = removals(sys_)
    assert {leaf["subject"] for leaf in leaves} == {f"document:{d}" for d in gone}
    for leaf in leaves:
        assert leaf["actor"] == "boss"
        assert leaf["details"]["requests"] == [denied.id]  # type: ignore[index]
        assert "document_retention_days" in leaf["details"]["reason"]  # type: ignore[index]
    assert not any(stored(sys_, v) for k, v in docs("denied").items() if k != "work_id")
    assert stored(sys_, SHARED)  # the pending request still needs it
    for kept in ("pending", "approved", "late"):
        assert all(stored(sys_, v) for v in docs(kept).values()), kept
    # The register keeps what was attached, by hash.
    shown = svc.get_request(sys_, cust, denied.id)
    assert set(shown.documents.values()) == {sha(v) for v in docs("denied").values()}
    assert {pending.status, approved.status} == {"pending"}

    again = purge.run(sys_, boss)
    assert again.documents == 0 and len(removals(sys_)) == 3


def test_a_document_left_renamed_by_an_interrupted_run_is_put_back(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    pending = request(sys_, cast["cop"], docs=docs("pending"))
    directory = sys_.settings.data_dir / "documents"
    digest = pending.documents["unit_letter"]
    (directory / digest).rename(directory / f".removed-{digest}")
    clock.set(NOW + timedelta(days=sys_.settings.document_retention_days + 1))
    assert purge.run(sys_, cast["boss"]).documents == 0
    assert (directory / digest).read_bytes() == docs("pending")["unit_letter"]
    assert removals(sys_) == []


def test_a_removal_committed_before_an_interruption_is_finished_not_recorded_twice(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    denied = request(sys_, cast["cop"], docs=docs("denied"))
    svc.deny(sys_, cast["cust"], denied.id, reason="no basis")
    clock.set(NOW + timedelta(days=sys_.settings.document_retention_days + 1))
    assert purge.run(sys_, cast["boss"]).documents == 4
    first = removals(sys_)
    # As if the run had stopped after its commit, before unlinking the renamed file.
    letter = docs("denied")["unit_letter"]
    with sys_.reads() as s:
        [index] = [
            leaf.index
            for leaf in sys_.ledger.leaves(s)
            if leaf.kind == "retention" and sha(letter).encode() in leaf.data
        ]
    directory = sys_.settings.data_dir / "documents"
    (directory / f".removed-{sha(letter)}-{index}").write_bytes(letter)
    assert purge.run(sys_, cast["boss"]).documents == 0
    assert removals(sys_) == first
    assert not stored(sys_, letter) and list(directory.iterdir()) == []


def test_a_document_removed_by_retention_is_stored_again_when_attached_anew(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    denied = request(sys_, cast["cop"], docs=docs("denied"))
    svc.deny(sys_, cast["cust"], denied.id, reason="no basis")
    clock.set(NOW + timedelta(days=sys_.settings.document_retention_days + 1))
    purge.run(sys_, cast["boss"])
    letter = docs("denied")["unit_letter"]
    assert not stored(sys_, letter)
    again = request(sys_, cast["cop"], docs=docs("denied"))
    path = sys_.settings.data_dir / "documents" / again.documents["unit_letter"]
    assert path.read_bytes() == letter

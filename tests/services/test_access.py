"""Access requests, approvals, grants and the enforcement point's refusals, on SQLite and
PostgreSQL. Every refusal is shown with its article and its ``access`` leaf."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.config import Settings
from oversight.db import models as m
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import RuleViolation, StorageError
from oversight.evidence.verify import verify_package
from oversight.services import access as svc
from oversight.services import export as export_module
from oversight.services import footage, people, registry, windows
from oversight.services.export import export_grant
from oversight.services.sealing import seal_file
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera
from tests.services.test_people import leaves_of

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
PW = "user password 12"
T0 = datetime(2026, 5, 30, 8, 0, tzinfo=UTC)
POLICE_DOCS = {
    "work_id": b"work id scan",
    "identity_document": b"id card scan",
    "unit_letter": b"letter of the unit",
    "own_agency_head": b"signed approval of the agency head",
}


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2id with the smallest parameters: the tests are about access, not hashing.
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sys_(initialised: Env, clock: FixedClock) -> Iterator[bootstrap.System]:
    built = bootstrap.build(Settings(), clock=clock)
    try:
        yield built
    finally:
        built.close()


def add_person(
    system: bootstrap.System,
    admin: Person | None,
    user_id: str,
    doc: str,
    role: str | None = None,
) -> Person:
    if admin is None:
        return people.add_user(
            system, None, user_id=user_id, name=user_id, roles=["admin"], id_doc=doc, password=PW
        )
    people.add_user(system, admin, user_id=user_id, name=user_id, roles=[], id_doc=doc, password=PW)
    people.record_training(
        system,
        admin,
        user_id=user_id,
        trained_on=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
        topics=["skills", "confidentiality"],
    )
    if role is not None:
        people.grant_role(system, admin, user_id, role)
    return people.person_by_id(system, user_id)


@pytest.fixture
def cast(sys_: bootstrap.System) -> dict[str, Person]:
    boss = add_person(sys_, None, "boss", "BOSS0001")
    out = {"boss": boss}
    out["cust"] = add_person(sys_, boss, "cust", "CUST0001", "custodian")
    out["appr"] = add_person(sys_, boss, "appr", "APPR0001", "custodian")
    out["wit"] = add_person(sys_, boss, "wit", "WIT00001", "witness")
    out["twin"] = add_person(sys_, boss, "twin", "CUST0001", "witness")  # cust's second account
    out["cop"] = add_person(sys_, boss, "cop", "COP00001", "requester")
    add_camera(sys_, "cam1", "rtsp://127.0.0.1:8554/cam1")
    add_camera(sys_, "cam2", "rtsp://127.0.0.1:8554/cam2")
    return out


def request(
    system: bootstrap.System,
    actor: Person,
    *,
    kind: str = "copy",
    docs: dict[str, bytes] | None = None,
    id_doc: str = "COP00001",
) -> svc.RequestRec:
    return svc.submit_request(
        system,
        actor,
        kind=kind,
        cameras=["cam1"],
        start=T0,
        end=T0 + timedelta(minutes=10),
        requester_name="Officer Li",
        work_id="PS-1234",
        id_doc=id_doc,
        organisation="County Police",
        org_class="police",
        purpose="theft investigation 2026-17",
        destination="County Police evidence room",
        documents=POLICE_DOCS if docs is None else docs,
    )


def access_leaves(system: bootstrap.System) -> list[dict[str, object]]:
    return leaves_of(system, "access")


def test_a_request_stores_its_documents_write_once_and_is_a_leaf(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    rec = request(sys_, cast["cop"])
    assert rec.status == "pending" and rec.id_doc_masked == "****0001"
    for kind, data in POLICE_DOCS.items():
        stored = sys_.settings.data_dir / "documents" / rec.documents[kind]
        assert stored.read_bytes() == data
    [leaf] = access_leaves(sys_)
    assert leaf["action"] == "request" and leaf["purpose"] == "theft investigation 2026-17"
    assert leaf["destination"] == "County Police evidence room"
    assert "COP00001" not in str(leaf)


def test_a_missing_document_is_refused_with_the_article_and_only_logged(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    docs = {k: v for k, v in POLICE_DOCS.items() if k != "unit_letter"}
    with pytest.raises(RuleViolation, match=r"needs: letter of the requesting unit.*Art\. 16"):
        request(sys_, cast["cop"], docs=docs)
    with sys_.sessions() as s:
        assert s.scalars(select(m.AccessRequest)).all() == []
    assert not (sys_.settings.data_dir / "documents").exists()
    [leaf] = access_leaves(sys_)
    assert leaf["action"] == "request.refused"
    assert leaf["details"]["article"].startswith("Art. 16")  # type: ignore[index]


def test_self_approval_is_refused_under_any_account(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    own = request(sys_, cast["cust"], id_doc="CUST0001")
    with pytest.raises(RuleViolation, match="own request"):
        svc.approve(sys_, cast["cust"], own.id)
    # The requester's identity document is the approver's: refused although the
    # request was entered by another account.
    entered = request(sys_, cast["cop"], id_doc="APPR0001")
    with pytest.raises(RuleViolation, match=r"own request \(Art\. 16\)"):
        svc.approve(sys_, cast["appr"], entered.id)
    refused = [x for x in access_leaves(sys_) if x["action"] == "approve.refused"]
    assert [x["actors"] for x in refused] == [["cust"], ["appr"]]
    with sys_.sessions() as s:
        assert s.scalars(select(m.AccessGrant)).all() == []


def test_a_replayed_approval_is_refused_and_logged(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    rec = request(sys_, cast["cop"])
    grant = svc.approve(sys_, cast["appr"], rec.id, note="urgent")
    assert grant.expires_at == NOW + timedelta(days=7)
    with pytest.raises(RuleViolation, match="approved already"):
        svc.approve(sys_, cast["cust"], rec.id)
    with pytest.raises(RuleViolation, match="approved already"):
        svc.deny(sys_, cast["cust"], rec.id, reason="too late")
    actions = [x["action"] for x in access_leaves(sys_)]
    assert actions == ["request", "approve", "approve.refused", "deny.refused"]


def _grant(system: bootstrap.System, cast: dict[str, Person], kind: str = "copy") -> int:
    rec = request(system, cast["cop"], kind=kind)
    return svc.approve(system, cast["appr"], rec.id).id


def _release(
    system: bootstrap.System,
    grant: int,
    present: list[Person],
    uses: list[footage.Use] | None = None,
) -> None:
    with footage.release(
        system, grant_id=grant, kind="copy", action="export", present=present, uses=uses
    ):
        raise AssertionError("footage was handed over")


@pytest.mark.parametrize(
    "case",
    ["expired", "revoked", "camera", "time", "one_person", "same_doc", "view_only"],
)
def test_the_enforcement_point_refuses_misuse_and_logs_the_attempt(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock, case: str
) -> None:
    grant = _grant(sys_, cast, kind="view" if case == "view_only" else "copy")
    present = [cast["cust"], cast["wit"]]
    uses = None
    expected = {
        "expired": "expired",
        "revoked": "was revoked",
        "camera": "does not cover camera cam2",
        "time": "covers .* only",
        "one_person": "different people",
        "same_doc": "different people",
        "view_only": "allows view, not copy",
    }[case]
    if case == "expired":
        clock.set(NOW + timedelta(days=7))
    elif case == "revoked":
        svc.revoke(sys_, cast["appr"], grant, reason="case closed")
    elif case == "camera":
        uses = [footage.Use("cam2", T0, T0 + timedelta(minutes=1))]
    elif case == "time":
        uses = [footage.Use("cam1", T0 - timedelta(minutes=1), T0 + timedelta(minutes=1))]
    elif case == "one_person":
        present = [cast["cust"], cast["cust"]]
    elif case == "same_doc":
        present = [cast["cust"], cast["twin"]]
    with pytest.raises(RuleViolation, match=expected) as info:
        _release(sys_, grant, present, uses)
    assert "Art. 1" in info.value.article
    last = access_leaves(sys_)[-1]
    assert last["action"] == "export.refused" and last["grant"] == str(grant)
    assert last["actors"] == [p.id for p in present]
    assert last["purpose"] == "theft investigation 2026-17"
    assert last["details"]["article"] == info.value.article  # type: ignore[index]


def test_nothing_is_served_when_the_audit_append_fails(
    sys_: bootstrap.System, cast: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    grant = _grant(sys_, cast)
    with sys_.sessions.begin() as s:  # a sealed segment in scope (its bytes are not needed)
        s.add(
            m.Segment(
                camera_id="cam1",
                seq=0,
                start_at=T0,
                end_at=T0 + timedelta(seconds=6),
                size_bytes=1,
                sha256="0" * 64,
                prev_sha256="",
                storage_key="cam1/x.mp4",
                leaf_index=0,
            )
        )
        windows.record_length(s, "cam1", T0, T0 + timedelta(seconds=6))  # as a seal does
    before = len(access_leaves(sys_))

    def broken(*args: object, **kwargs: object) -> list[int]:
        raise OSError("disk full")

    monkeypatch.setattr(sys_.ledger, "append", broken)
    with pytest.raises(OSError, match="disk full"):
        _release(sys_, grant, [cast["cust"], cast["wit"]])
    monkeypatch.undo()
    assert len(access_leaves(sys_)) == before


def test_an_untrained_witness_cannot_take_part(
    sys_: bootstrap.System, cast: dict[str, Person], tmp_path: Path
) -> None:
    grant = _grant(sys_, cast)
    plain = people.add_user(
        sys_,
        cast["boss"],
        user_id="raw",
        name="Raw",
        roles=["witness"],
        id_doc="RAW00001",
        password=PW,
    )
    with pytest.raises(RuleViolation, match="no valid training"):
        export_grant(sys_, cast["cust"], plain, grant_id=grant, out_dir=tmp_path / "pkg")
    assert access_leaves(sys_)[-1]["action"] == "export.refused"
    assert not (tmp_path / "pkg").exists()


def _sealed_footage(system: bootstrap.System, tmp: Path) -> datetime:
    """Two real H.264 segments of cam1 sealed into store and ledger; their start."""
    from tests.evidence.helpers import SEGMENT_SECONDS, make_segments

    start = T0
    for i, spool in enumerate(make_segments(tmp / "spool", 2)):
        at = start + timedelta(seconds=i * SEGMENT_SECONDS)
        seal_file(
            system, camera="cam1", path=spool, start=at, end=at + timedelta(seconds=SEGMENT_SECONDS)
        )
    return start


@pytest.mark.ffmpeg
def test_an_export_writes_a_verifying_package_naming_both_people(
    sys_: bootstrap.System, cast: dict[str, Person], tmp_path: Path
) -> None:
    _sealed_footage(sys_, tmp_path)
    grant = _grant(sys_, cast)
    out = export_grant(sys_, cast["cust"], cast["wit"], grant_id=grant, out_dir=tmp_path / "pkg")
    report = verify_package(out)
    assert report.ok, report.problems
    export_leaf = access_leaves(sys_)[-2]
    assert export_leaf["action"] == "export" and export_leaf["actors"] == ["cust", "wit"]
    assert export_leaf["destination"] == "County Police evidence room"
    assert len(export_leaf["details"]["segments"]) == 2  # type: ignore[index]


@pytest.mark.ffmpeg
@pytest.mark.parametrize("database_url", [None])
def test_a_failed_package_is_recorded_after_the_export_leaf(
    sys_: bootstrap.System,
    cast: dict[str, Person],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sealed_footage(sys_, tmp_path)
    grant = _grant(sys_, cast)

    def broken(*args: object, **kwargs: object) -> Path:
        raise StorageError("disk full")

    monkeypatch.setattr(export_module, "package_from_ledger", broken)
    with pytest.raises(StorageError):
        export_grant(sys_, cast["cust"], cast["wit"], grant_id=grant, out_dir=tmp_path / "pkg")
    actions = [x["action"] for x in access_leaves(sys_)][-2:]
    assert actions == ["export", "export.failed"]


def test_a_custodian_limited_to_other_sites_cannot_handle_this_footage(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    registry.add_site(sys_, HOST, site_id="s2", name="Site 2", category="school", owner_id="acme")
    people.add_user(
        sys_, cast["boss"], user_id="far", name="far", roles=[], sites=["s2"],
        id_doc="FAR00001", password=PW,
    )  # fmt: skip
    people.record_training(
        sys_, cast["boss"], user_id="far", trained_on=date(2026, 1, 1),
        valid_until=date(2027, 1, 1), topics=["skills", "confidentiality"],
    )  # fmt: skip
    people.grant_role(sys_, cast["boss"], "far", "custodian")
    grant = _grant(sys_, cast)
    with pytest.raises(PermissionDenied, match="limited to sites s2"):
        _release(sys_, grant, [people.person_by_id(sys_, "far"), cast["wit"]])
    last = access_leaves(sys_)[-1]
    assert last["action"] == "export.refused" and last["actors"] == ["far", "wit"]


def test_a_redundant_camera_hands_over_one_recording_filling_holes_from_the_other(
    sys_: bootstrap.System, cast: dict[str, Person], tmp_path: Path
) -> None:
    """Issue 21, item 6: copy 0 has a hole (its node died at 20 s, back at 40 s); the
    release hands over copy 0 and the copy-1 segments that fill the hole, never both
    recordings interleaved, and names exactly those in the export leaf."""
    import os

    from oversight.services import pool

    with sys_.sessions.begin() as s:  # the two leases a pool would hold (no pool here)
        s.merge(m.CameraLease(camera_id="cam1", copy=0, node="a", epoch=1))
        s.merge(m.CameraLease(camera_id="cam1", copy=1, node="b", epoch=1))
    spans = {0: [(0, 10), (10, 20), (40, 50)], 1: [(3, 13), (13, 23), (23, 33), (33, 43), (43, 53)]}
    keys: dict[tuple[int, int], str] = {}
    for copy, pairs in spans.items():
        for a, b in pairs:
            spool = tmp_path / f"c{copy}-{a}.mp4"
            spool.write_bytes(os.urandom(1000))
            sealed = seal_file(
                sys_, camera="cam1", path=spool, start=T0 + timedelta(seconds=a),
                end=T0 + timedelta(seconds=b), fence=pool.Fence("ab"[copy], 1, copy),
            )  # fmt: skip
            keys[copy, a] = sealed.storage_key
    grant = _grant(sys_, cast)
    with footage.release(
        sys_, grant_id=grant, kind="copy", action="export", present=[cast["cust"], cast["wit"]]
    ) as handed:
        got = [seg.storage_key for seg in handed.segments]
    wanted = [
        *(keys[0, 0], keys[0, 10]),
        *(keys[1, 13], keys[1, 23], keys[1, 33]),  # the hole, 20-40 s
        *(keys[0, 40], keys[1, 43]),  # 50-53 s only copy 1 has
    ]
    assert got == wanted  # in time order; copy 1's 3 s segment is not needed
    assert access_leaves(sys_)[-1]["details"]["segments"] == wanted  # type: ignore[index]

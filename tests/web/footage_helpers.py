"""Shared steps of the footage tests in the console and API: real H.264 (or other)
segments made by ffmpeg and sealed, a request entered in the console with its
documents, approved by a second custodian, and executed with a witness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oversight.services.sealing import SealedSegment, seal_file
from tests.actors import admin
from tests.evidence.helpers import make_segments
from tests.recorder.helpers import add_camera, make_clip
from tests.services.test_people import leaves_of
from tests.web.conftest import PW, ConsoleClient, Web

SECONDS = 2
# A recent past hour: grants are checked against the real clock of the `web` fixture.
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
POLICE_DOCS = {
    "work_id": b"work id scan",
    "identity_document": b"id card scan",
    "unit_letter": b"letter of the unit",
    "own_agency_head": b"signed approval of the agency head",
}


def seal(web: Web, tmp: Path, camera: str = "cam1", count: int = 2) -> list[SealedSegment]:
    """``count`` consecutive H.264 fMP4 segments of ``camera`` sealed from T0 on."""
    add_camera(web.system, camera, f"rtsp://127.0.0.1:8554/{camera}")
    out = []
    for i, path in enumerate(make_segments(tmp / f"spool-{camera}", count, seconds=SECONDS)):
        at = T0 + timedelta(seconds=i * SECONDS)
        end = at + timedelta(seconds=SECONDS)
        out.append(seal_file(web.system, camera=camera, path=path, start=at, end=end))
    return out


def seal_clip(web: Web, tmp: Path, camera: str, name: str, **clip: Any) -> SealedSegment:
    """One segment of another kind (H.265 MP4, MJPEG Matroska) sealed at T0."""
    add_camera(web.system, camera, f"rtsp://127.0.0.1:8554/{camera}")
    path = make_clip(tmp / name, seconds=SECONDS, audio=None, **clip)
    return seal_file(
        web.system, camera=camera, path=path, start=T0, end=T0 + timedelta(seconds=SECONDS)
    )


def request_form(camera: str = "cam1", kind: str = "copy", **over: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "kind": kind,
        "cameras": [camera],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=10)).isoformat(),
        "requester_name": "Officer Li",
        "work_id": "PS-1234",
        "id_doc": "COP00001",
        "organisation": "County Police",
        "org_class": "police",
        "purpose": "theft investigation 2026-17",
        "destination": "County Police evidence room",
    }
    form.update(over)
    return form


def doc_files(docs: dict[str, bytes] | None = None) -> dict[str, tuple[str, bytes, str]]:
    chosen = POLICE_DOCS if docs is None else docs
    return {f"doc_{k}": (f"{k}.pdf", v, "application/pdf") for k, v in chosen.items()}


def submit_request(client: ConsoleClient, camera: str = "cam1", kind: str = "copy") -> int:
    reply = client.submit("/access/new", request_form(camera, kind), files=doc_files())
    assert reply.status_code == 303, reply.text
    return int(reply.headers["location"].rsplit("/", 1)[1])


def grant_of(web: Web, request_id: int) -> int:
    from oversight.services import access

    rec = access.get_request(web.system, admin(web.system), request_id)
    assert rec.grant is not None
    return rec.grant.id


def approved_grant(web: Web, camera: str = "cam1", kind: str = "copy") -> tuple[int, int]:
    """(request id, grant id): entered by cop, approved by appr in the console."""
    request_id = submit_request(web.console("cop"), camera, kind)
    reply = web.console("appr").submit(
        f"/access/{request_id}/approve", {"note": "ok", "valid_days": "3"}
    )
    assert reply.status_code == 303, reply.text
    return request_id, grant_of(web, request_id)


def open_execution(client: ConsoleClient, grant_id: int, password: str = PW) -> Any:
    return client.submit(
        f"/grants/{grant_id}/witness", {"witness": "wit", "witness_password": password}
    )


def access_leaves(web: Web) -> list[dict[str, Any]]:
    return leaves_of(web.system, "access")  # type: ignore[return-value]

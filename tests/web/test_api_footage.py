"""POST /api/v1/grants/{id}/export: the custodian's bearer token plus the witness's own
credentials; the answer is the evidence package as a .zip that verifies unzipped."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from oversight.evidence.verify import verify_package
from tests.web.conftest import PW, Web
from tests.web.footage_helpers import access_leaves, approved_grant, seal


def _body(**over: object) -> dict[str, object]:
    return {"witness": "wit", "witness_password": PW, "watermark": False, **over}


@pytest.mark.ffmpeg
def test_a_custodian_and_a_witness_export_a_verifying_package(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    reply = web.api("cust").post(f"/api/v1/grants/{grant}/export", json=_body())
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
        zf.extractall(tmp_path / "out")
    [package] = list((tmp_path / "out").iterdir())
    assert package.name.startswith(f"oversight-grant{grant}-cam1-")
    report = verify_package(package)
    assert report.ok, report.problems
    leaf = access_leaves(web)[-2]
    assert leaf["action"] == "export" and leaf["actors"] == ["cust", "wit"]


def test_a_wrong_witness_password_is_401_and_exports_nothing(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    _, grant = approved_grant(web)
    client = web.api("cust")
    before = len(access_leaves(web))
    reply = client.post(
        f"/api/v1/grants/{grant}/export", json=_body(witness_password="wrong password!")
    )
    assert reply.status_code == 401
    assert reply.json() == {"error": "wrong user id or password", "rule": None, "article": None}
    assert len(access_leaves(web)) == before


def test_only_custodians_export_and_the_rules_refuse_with_the_article(
    web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    _, grant = approved_grant(web)
    for user in ("cop", "aud", "op"):
        reply = web.api(user).post(f"/api/v1/grants/{grant}/export", json=_body())
        assert reply.status_code == 403, user
    # One person cannot be both custodian and witness.
    reply = web.api("cust").post(f"/api/v1/grants/{grant}/export", json=_body(witness="cust"))
    assert reply.status_code == 422 and reply.json()["rule"] is not None
    assert access_leaves(web)[-1]["action"] == "export.refused"
    # A view grant is never exported.
    _, view = approved_grant(web, kind="view")
    reply = web.api("cust").post(f"/api/v1/grants/{view}/export", json=_body())
    assert reply.status_code == 422
    assert reply.json()["article"] == "Art. 16" and "allows view" in reply.json()["error"]


def test_bad_input_is_a_4xx_not_a_500(web: Web) -> None:
    client = web.api("cust")
    assert client.post("/api/v1/grants/999/export", json=_body()).status_code == 404
    assert client.post("/api/v1/grants/0/export", json=_body()).status_code == 422
    assert client.post(f"/api/v1/grants/{2**40}/export", json=_body()).status_code == 422
    assert client.post("/api/v1/grants/1/export", json={"witness": "wit"}).status_code == 422
    assert web.client().post("/api/v1/grants/1/export", json=_body()).status_code == 401

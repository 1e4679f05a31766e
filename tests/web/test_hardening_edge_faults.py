"""Finding 19: a fault of the server is a 5xx with the usual body, never a 400.

Real failures: an S3 store whose endpoint stops answering (SeaweedFS stopped under a
running app) is 503; a malformed ledger signing key (a misconfigured deployment) is
500. The body keeps the shape ``{"error", "rule", "article"}`` and carries no server
paths or endpoints; the console answers with its error page and the same status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from oversight import bootstrap
from oversight.config import Settings
from oversight.web.app import create_app
from tests.conftest import Env
from tests.storage.seaweed import SeaweedS3, running_seaweed
from tests.web.conftest import Web
from tests.web.footage_helpers import SECONDS, T0, seal

pytestmark = pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
ORG = {"id": "acme", "name": "Acme", "kind": "owner"}


@pytest.fixture
def outage(env: Env, tmp_path: Path) -> Iterator[ExitStack]:
    """A SeaweedFS bucket as the store; closing the returned stack stops SeaweedFS."""
    from oversight.storage.s3 import ensure_bucket

    with ExitStack() as stack:
        server: SeaweedS3 = stack.enter_context(running_seaweed(tmp_path / "weed"))
        client = server.client()
        assert ensure_bucket(client, "faults")
        client.close()
        for name, value in {
            "STORE": "s3://faults/footage",
            "S3_ENDPOINT_URL": server.endpoint_url,
            "S3_ACCESS_KEY_ID": server.access_key_id,
            "S3_SECRET_ACCESS_KEY": server.secret_access_key,
        }.items():
            env.monkeypatch.setenv(f"OVERSIGHT_{name}", value)
        yield stack


@pytest.mark.s3
@pytest.mark.ffmpeg
def test_an_s3_outage_is_503_not_a_client_error(
    outage: ExitStack, web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    api, console = web.api("cust"), web.console("cust")
    outage.close()  # SeaweedFS stops: connections to the endpoint are refused
    hold = {
        "camera": "cam1",
        "start": T0.isoformat(),
        "end": (T0 + timedelta(seconds=SECONDS)).isoformat(),
        "reason": "court order 2026-5",
    }
    reply = api.post("/api/v1/retention/holds", json=hold)
    assert reply.status_code == 503, reply.text
    body = reply.json()
    assert body.keys() == {"error", "rule", "article"} and "try again later" in body["error"]
    assert "127.0.0.1" not in body["error"] and "faults" not in body["error"]
    page = console.submit("/retention/holds", {**hold, "reason": "court order 2026-6"})
    assert page.status_code == 503 and "try again later" in page.text


def test_a_malformed_signing_key_is_500_and_writes_nothing(web: Web) -> None:
    token = web.token("op")
    key = next((web.system.settings.data_dir / "keys").iterdir())
    key.write_text("not a key\n", encoding="utf-8")
    # A process started on the bad key (this one has read the good one already).
    system = bootstrap.build(Settings())
    try:
        api = TestClient(create_app(system), raise_server_exceptions=False)
        api.headers["Authorization"] = f"Bearer {token}"
        before = web.env.counts()
        reply = api.post("/api/v1/orgs", json=ORG)
        assert reply.status_code == 500, reply.text
        body = reply.json()
        assert body.keys() == {"error", "rule", "article"} and "misconfigured" in body["error"]
        assert str(key.parent) not in reply.text
        assert web.env.counts() == before
    finally:
        system.close()

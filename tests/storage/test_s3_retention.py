"""Retention on a WORM store (real SeaweedFS): sealing locks each segment until its
earliest lawful deletion, a mark raises the lock to two years, the bucket owner cannot
delete in-retention footage behind Oversight's back, and the purge deletes what expired."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from oversight import bootstrap
from oversight.config import Settings
from oversight.services.sealing import seal_file
from tests.conftest import Env
from tests.storage.seaweed import SeaweedS3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [pytest.mark.s3, pytest.mark.parametrize("database_url", [None])]


def test_s3_footage_is_locked_until_its_earliest_deletion(
    env: Env, seaweed: SeaweedS3, bucket: str, s3_client: S3Client, tmp_path: Path
) -> None:
    env.monkeypatch.setenv("OVERSIGHT_STORE", f"s3://{bucket}/footage")
    env.monkeypatch.setenv("OVERSIGHT_S3_ENDPOINT_URL", seaweed.endpoint_url)
    env.monkeypatch.setenv("OVERSIGHT_S3_ACCESS_KEY_ID", seaweed.access_key_id)
    env.monkeypatch.setenv("OVERSIGHT_S3_SECRET_ACCESS_KEY", seaweed.secret_access_key)
    env.ok("init")
    env.ok("orgs", "add", "--id", "o", "--name", "O", "--kind", "owner")
    env.ok("sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o")
    env.ok(
        "cameras", "add", "--id", "cam1", "--site", "s", "--placement", "general",
        "--coverage", "entrance", "--stream", "rtsp://127.0.0.1/cam1",
        "--commissioned", "2026-01-01",
    )  # fmt: skip
    now = datetime.now(UTC)
    system = bootstrap.build(Settings())
    try:
        sealed = {}
        for name, age in [("old", timedelta(days=40)), ("recent", timedelta(days=2))]:
            path = tmp_path / f"{name}.mp4"
            path.write_bytes(os.urandom(1024))
            start = now - age
            sealed[name] = seal_file(
                system, camera="cam1", path=path, start=start, end=start + timedelta(minutes=1)
            )
        recent = sealed["recent"]
        until = system.store.retention(recent.storage_key)
        assert until is not None
        assert abs((until - (recent.end + timedelta(days=30))).total_seconds()) < 2
        assert system.store.retention(sealed["old"].storage_key) is None  # already past
    finally:
        system.close()

    # The bucket owner's own credentials cannot remove in-retention footage.
    key = f"footage/{recent.storage_key}"
    version = s3_client.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(ClientError) as refused:
        s3_client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    env.ok(
        "retention", "mark", "--camera", "cam1",
        "--from", recent.start.isoformat(), "--to", recent.end.isoformat(), "--reason", "case",
    )  # fmt: skip
    system = bootstrap.build(Settings())
    try:
        raised = system.store.retention(recent.storage_key)
        assert raised is not None and raised >= recent.end + timedelta(days=730)
    finally:
        system.close()

    # A hold becomes an S3 legal hold on the covered footage; only a second person's
    # release lifts it.
    rng = ["--camera", "cam1", "--from", recent.start.isoformat(), "--to", recent.end.isoformat()]
    env.monkeypatch.setenv("OVERSIGHT_ACTOR", "custodian-a")
    env.ok("retention", "hold", *rng, "--reason", "court order 17")
    held = bootstrap.build(Settings())
    try:
        assert held.store.legal_hold(recent.storage_key)
        assert not held.store.legal_hold(sealed["old"].storage_key)
        # Footage sealed later inside an active hold is held from the start.
        path = tmp_path / "late.mp4"
        path.write_bytes(os.urandom(1024))
        late = seal_file(
            held, camera="cam1", path=path, start=recent.start + timedelta(seconds=10),
            end=recent.end - timedelta(seconds=10),
        )  # fmt: skip
        assert held.store.legal_hold(late.storage_key)
    finally:
        held.close()
    [hold] = json.loads(env.ok("retention", "list", "--json").output)["holds"]
    env.monkeypatch.setenv("OVERSIGHT_ACTOR", "custodian-b")
    env.ok("retention", "release", str(hold["id"]), "--reason", "case closed")
    released = bootstrap.build(Settings())
    try:
        assert not released.store.legal_hold(recent.storage_key)
        assert not released.store.legal_hold(late.storage_key)
    finally:
        released.close()

    ran = json.loads(env.ok("retention", "run", "--json").output)
    assert ran["segments"] == 1
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] and report["segments_checked"] == 2  # recent and late

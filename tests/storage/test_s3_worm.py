"""S3 Object Lock (COMPLIANCE) against a real SeaweedFS: what WORM means for footage.

Within retention nobody, the bucket owner included, can delete a version, shorten or
downgrade its lock, and the store says so naming the key; once retention has passed,
the store removes every version so the bytes are really gone.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from oversight.errors import ConfigError, NotFound, StorageError
from oversight.storage.s3 import S3Store, make_client
from tests.storage.seaweed import SeaweedS3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectLockRetentionTypeDef

pytestmark = pytest.mark.s3

KEY = "cam1/2026/05/01/08/cam1-00000001-20260501T080000Z.mp4"
NAME = f"footage/{KEY}"


def _file(tmp_path: Path, data: bytes = b"sealed footage") -> Path:
    path = tmp_path / "segment.mp4"
    path.write_bytes(data)
    return path


def _whole(instant: datetime) -> datetime:
    return instant.replace(microsecond=0) + timedelta(seconds=1)


def _versions(client: S3Client, bucket: str) -> list[str]:
    listing = client.list_object_versions(Bucket=bucket, Prefix=NAME)
    return [v["VersionId"] for v in listing.get("Versions", [])] + [
        m["VersionId"] for m in listing.get("DeleteMarkers", [])
    ]


def _status(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_put_locks_in_compliance_mode_with_the_sha256_kept(
    s3_store: S3Store, s3_client: S3Client, bucket: str, tmp_path: Path
) -> None:
    until = datetime.now(UTC) + timedelta(days=30)
    s3_store.put(KEY, _file(tmp_path), retain_until=until)
    head = s3_client.head_object(Bucket=bucket, Key=NAME)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"sealed footage").hexdigest()
    assert s3_store.retention(KEY) == _whole(until)


def test_in_retention_footage_cannot_be_deleted_even_by_the_bucket_owner(
    s3_store: S3Store, s3_client: S3Client, bucket: str, tmp_path: Path
) -> None:
    s3_store.put(KEY, _file(tmp_path), retain_until=datetime.now(UTC) + timedelta(days=1))
    [version] = _versions(s3_client, bucket)

    with pytest.raises(StorageError, match=rf"{KEY}.*Object Lock.*retention"):
        s3_store.delete(KEY)
    # The owner's own credentials, going around Oversight: the versioned delete is refused.
    with pytest.raises(ClientError) as refused:
        s3_client.delete_object(Bucket=bucket, Key=NAME, VersionId=version)
    assert _status(refused) == (403, "AccessDenied")
    # A plain delete only hides the object behind a marker; the store removes the marker
    # (and still refuses the version), so the footage is visible again, never hidden.
    s3_client.delete_object(Bucket=bucket, Key=NAME)
    assert s3_store.size(KEY) is None
    with pytest.raises(StorageError, match="Object Lock"):
        s3_store.delete(KEY)
    assert _versions(s3_client, bucket) == [version]
    with s3_store.open(KEY) as f:
        assert f.read() == b"sealed footage"


def test_retention_cannot_be_shortened_or_downgraded_only_extended(
    s3_store: S3Store, s3_client: S3Client, bucket: str, tmp_path: Path
) -> None:
    until = _whole(datetime.now(UTC) + timedelta(days=1))
    s3_store.put(KEY, _file(tmp_path), retain_until=until)
    shorter: ObjectLockRetentionTypeDef = {
        "Mode": "COMPLIANCE",
        "RetainUntilDate": until - timedelta(hours=1),
    }
    downgraded: ObjectLockRetentionTypeDef = {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    for retention in (shorter, downgraded):
        with pytest.raises(ClientError) as refused:
            s3_client.put_object_retention(Bucket=bucket, Key=NAME, Retention=retention)
        assert _status(refused)[0] == 403
    s3_store.extend_retention(KEY, until - timedelta(hours=1))  # never shortens: a no-op
    assert s3_store.retention(KEY) == until
    s3_store.extend_retention(KEY, until + timedelta(days=700))
    assert s3_store.retention(KEY) == until + timedelta(days=700)
    # Putting the same bytes again with a later date extends the lock too.
    s3_store.put(KEY, _file(tmp_path), retain_until=until + timedelta(days=800))
    assert s3_store.retention(KEY) == until + timedelta(days=800)


def test_footage_past_its_retention_is_deleted_with_every_version(
    s3_store: S3Store, s3_client: S3Client, bucket: str, tmp_path: Path
) -> None:
    until = datetime.now(UTC) + timedelta(seconds=2)
    s3_store.put(KEY, _file(tmp_path), retain_until=until)
    with pytest.raises(StorageError, match=KEY):
        s3_store.delete(KEY)
    time.sleep(max(0.0, (_whole(until) - datetime.now(UTC)).total_seconds()) + 1.0)
    s3_store.delete(KEY)
    assert s3_store.size(KEY) is None
    assert _versions(s3_client, bucket) == []
    assert list(s3_store.objects()) == []


def test_a_default_retention_locks_puts_without_a_date(
    seaweed: SeaweedS3, bucket: str, tmp_path: Path
) -> None:
    store = S3Store(bucket, "", seaweed.client(), default_retention=timedelta(days=30))
    try:
        before = datetime.now(UTC)
        store.put(KEY, _file(tmp_path))
        until = store.retention(KEY)
        assert until is not None
        after = datetime.now(UTC)
        assert before + timedelta(days=30) <= until <= after + timedelta(days=30, seconds=1)
        assert [o.key for o in store.objects()] == [KEY]
    finally:
        store.close()


def test_a_past_retention_date_locks_nothing(s3_store: S3Store, tmp_path: Path) -> None:
    s3_store.put(KEY, _file(tmp_path), retain_until=datetime.now(UTC) - timedelta(days=1))
    assert s3_store.retention(KEY) is None
    s3_store.delete(KEY)
    assert s3_store.size(KEY) is None


def test_a_bucket_without_object_lock_or_versioning_is_refused(
    seaweed: SeaweedS3, s3_client: S3Client, tmp_path: Path
) -> None:
    s3_client.create_bucket(Bucket="plain-bucket")
    with pytest.raises(ConfigError, match="Object Lock"):
        S3Store("plain-bucket", "footage", seaweed.client())
    with pytest.raises(ConfigError, match="does not exist"):
        S3Store("no-such-bucket", "footage", seaweed.client())


def test_rejected_credentials_are_a_config_error_that_never_shows_the_secret(
    seaweed: SeaweedS3, bucket: str
) -> None:
    secret = "wrong-secret-do-not-print-0123456789"
    client = make_client(
        endpoint_url=seaweed.endpoint_url,
        region=seaweed.region,
        access_key_id=seaweed.access_key_id,
        secret_access_key=secret,
    )
    with pytest.raises(ConfigError, match="credentials") as rejected:
        S3Store(bucket, "footage", client)
    assert secret not in str(rejected.value)
    assert seaweed.secret_access_key not in str(rejected.value)


def test_a_legal_hold_blocks_deletion_past_retention_until_released(
    s3_store: S3Store, s3_client: S3Client, bucket: str, tmp_path: Path
) -> None:
    s3_store.put(KEY, _file(tmp_path))  # no retention date: only the hold protects it
    assert not s3_store.legal_hold(KEY)
    s3_store.set_legal_hold(KEY, True)
    s3_store.set_legal_hold(KEY, True)  # idempotent
    assert s3_store.legal_hold(KEY)
    [version] = _versions(s3_client, bucket)
    with pytest.raises(StorageError, match=rf"{KEY}.*legal hold"):
        s3_store.delete(KEY)
    with pytest.raises(ClientError) as refused:  # the bucket owner, around Oversight
        s3_client.delete_object(Bucket=bucket, Key=NAME, VersionId=version)
    assert _status(refused) == (403, "AccessDenied")
    s3_store.set_legal_hold(KEY, False)
    assert not s3_store.legal_hold(KEY)
    s3_store.delete(KEY)
    assert _versions(s3_client, bucket) == []


def test_a_legal_hold_on_an_absent_object_is_not_found(s3_store: S3Store) -> None:
    with pytest.raises(NotFound, match=KEY):
        s3_store.set_legal_hold(KEY, True)
    assert not s3_store.legal_hold(KEY)

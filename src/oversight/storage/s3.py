"""S3 store: sealed footage in an S3-compatible bucket with versioning and Object Lock.

Works with any service that implements the S3 Object Lock API (SeaweedFS, MinIO,
Ceph RGW, AWS S3; see docs/storage.md). Each object is uploaded in one PUT with its
SHA-256 and MD5 computed beforehand, so the server rejects bytes that changed on the
way, and with ``ObjectLockMode=COMPLIANCE`` when it has a retention date: until then
nobody, the bucket owner included, can delete or overwrite that version or shorten
its retention. The SHA-256 is also kept as ``x-amz-meta-sha256`` so a repeated put
can tell the same bytes from different ones without downloading.

boto3 and botocore errors are translated here into StorageError (ConfigError for a
missing bucket, unusable bucket or rejected credentials). Messages name the bucket
and key, never the credentials. The store owns its client and closes it.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from oversight.errors import AlreadyExists, ConfigError, NotFound, StorageError
from oversight.storage.base import StoredObject, aware, check_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef, ObjectLockRetentionTypeDef

_CHUNK = 1 << 20
_MAX_PUT = 5 * 1024**3  # the S3 limit of a single PUT; segments are far smaller
_SHA256_META = "sha256"  # sent as the x-amz-meta-sha256 header
_MODE: Final = "COMPLIANCE"
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"}
# AWS says the former; some S3-compatible servers the latter.
_NO_LOCK_CODES = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}


def make_client(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    session: boto3.session.Session | None = None,
) -> S3Client:
    """An S3 client for one store. Without keys, boto3's own chain applies (env, IAM role).

    A custom endpoint (SeaweedFS, MinIO, Ceph) is addressed path-style; checksums are
    sent only where we compute them, which older S3-compatible servers also accept.
    Clients made from one ``session`` share its loaded service model (tests make many).
    """
    config = Config(
        region_name=region,
        s3={"addressing_style": "path"} if endpoint_url else {},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=60,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    try:
        # A private session: nothing is shared with, or read from, boto3's global default.
        return (session or boto3.session.Session()).client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
    except (BotoCoreError, ValueError) as exc:
        raise ConfigError(f"cannot configure the S3 client: {type(exc).__name__}") from exc


def ensure_bucket(client: S3Client, bucket: str) -> bool:
    """Create ``bucket`` with Object Lock (and so versioning) unless it exists; True if made.

    For ``oversight init`` and tests. An existing bucket is left as it is; the store
    checks it when it is built.
    """
    region = client.meta.region_name
    with _translated("create bucket", bucket):
        try:
            if region and region != "us-east-1":
                client.create_bucket(
                    Bucket=bucket,
                    ObjectLockEnabledForBucket=True,
                    CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                )
            else:
                client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        except ClientError as exc:
            if _code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return False
            raise
    return True


class S3Store:
    """Write-once objects ``prefix/key`` in a versioned, Object Lock enabled bucket."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: S3Client,
        *,
        default_retention: timedelta | None = None,
        now: Callable[[], datetime] | None = None,
        check: bool = True,
    ) -> None:
        """``default_retention`` locks puts that bring no date for that long from ``now``.

        ``check`` verifies at once that the bucket exists with versioning and Object
        Lock enabled (ConfigError if not), so a misconfigured deployment fails when it
        starts rather than on its first segment.
        """
        self.bucket = bucket
        stripped = prefix.strip("/")
        self.prefix = check_key(stripped) + "/" if stripped else ""
        self._client = client
        self._default_retention = default_retention
        self._now = now or (lambda: datetime.now(UTC))
        if check:
            try:
                self.check_bucket()
            except BaseException:
                client.close()
                raise

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r}, prefix={self.prefix!r})"

    @property
    def identity(self) -> str:
        endpoint = self._client.meta.endpoint_url
        return f"s3:{endpoint}/{self.bucket}/{self.prefix}"

    def check_bucket(self) -> None:
        """ConfigError unless the bucket exists with versioning and Object Lock enabled."""
        where = f"S3 bucket {self.bucket!r}"
        with _translated("check", self.bucket, config=True):
            try:
                status = self._client.get_bucket_versioning(Bucket=self.bucket).get("Status")
                lock = self._client.get_object_lock_configuration(Bucket=self.bucket)
            except ClientError as exc:
                code = _code(exc)
                if code == "NoSuchBucket":
                    raise ConfigError(
                        f"{where} does not exist: create it with Object Lock enabled "
                        "(see docs/storage.md)"
                    ) from None
                if code in _NO_LOCK_CODES:
                    raise ConfigError(
                        f"{where} does not have Object Lock enabled: footage there could be "
                        "deleted within retention (see docs/storage.md)"
                    ) from None
                raise
        if status != "Enabled":
            raise ConfigError(
                f"{where} has versioning {status or 'off'}: Object Lock needs it enabled "
                "(see docs/storage.md)"
            )
        if lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise ConfigError(f"{where} does not have Object Lock enabled (see docs/storage.md)")

    # -- writing -----------------------------------------------------------------

    def put(self, key: str, source: Path, *, retain_until: datetime | None = None) -> None:
        name = self._name(key)
        until = self._lock_date(retain_until)
        if until is None and self._default_retention is not None:
            until = _whole_second(self._now() + self._default_retention)
        sha256, md5, size = _digests(source, key)
        existing = self._head(key, name)
        if existing is not None:
            same = existing.get("ContentLength") == size and (
                existing.get("Metadata", {}).get(_SHA256_META) == sha256.hex()
            )
            if not same:
                raise AlreadyExists(f"storage key {key} already holds different bytes")
            if until is not None:
                self._extend(key, name, existing, until)
            return
        if size > _MAX_PUT:
            raise StorageError(f"cannot store {key}: {size} bytes exceed a single S3 PUT")
        lock: dict[str, Any] = {}
        if until is not None:
            lock = {"ObjectLockMode": _MODE, "ObjectLockRetainUntilDate": until}
        with _translated("store", key), source.open("rb") as body:
            response = self._client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=body,
                ContentLength=size,
                ContentType="application/octet-stream",
                ContentMD5=_b64(md5),
                ChecksumSHA256=_b64(sha256),
                Metadata={_SHA256_META: sha256.hex()},
                **lock,
            )
        echoed = response.get("ChecksumSHA256")
        if echoed and echoed != _b64(sha256):
            raise StorageError(f"S3 stored {key} with a different SHA-256 than was sent")

    def extend_retention(self, key: str, until: datetime) -> None:
        name = self._name(key)
        wanted = self._lock_date(until)
        head = self._head(key, name)
        if head is None:
            raise NotFound(f"storage has no object {key}")
        if wanted is not None:
            self._extend(key, name, head, wanted)

    def _extend(self, key: str, name: str, head: HeadObjectOutputTypeDef, until: datetime) -> None:
        current = _retain_date(head)
        if current is not None and current >= until:
            return  # never shorten (COMPLIANCE would refuse it anyway)
        retention: ObjectLockRetentionTypeDef = {"Mode": _MODE, "RetainUntilDate": until}
        with _translated("extend the retention of", key):
            self._client.put_object_retention(
                Bucket=self.bucket, Key=name, VersionId=head["VersionId"], Retention=retention
            )

    def set_legal_hold(self, key: str, on: bool) -> None:
        name = self._name(key)
        head = self._head(key, name)
        if head is None:
            raise NotFound(f"storage has no object {key}")
        status: Literal["ON", "OFF"] = "ON" if on else "OFF"
        with _translated("set the legal hold of", key):
            self._client.put_object_legal_hold(
                Bucket=self.bucket,
                Key=name,
                VersionId=head["VersionId"],
                LegalHold={"Status": status},
            )

    def legal_hold(self, key: str) -> bool:
        name = self._name(key)
        head = self._head(key, name)
        if head is None:
            return False
        with _translated("read the legal hold of", key):
            try:
                reply = self._client.get_object_legal_hold(
                    Bucket=self.bucket, Key=name, VersionId=head["VersionId"]
                )
            except ClientError as exc:
                # Never set on this object: S3 answers with an error, not "OFF".
                if _code(exc) in {"NoSuchObjectLegalHold", "NoSuchObjectLockConfiguration"}:
                    return False
                raise
        return reply.get("LegalHold", {}).get("Status") == "ON"

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.delete(key)

    def delete(self, key: str) -> None:
        """Remove every version of ``key`` (delete markers first), so the bytes really go.

        Versions are deleted by id, which never adds a delete marker: a refused
        delete leaves the object visible rather than hidden.
        """
        name = self._name(key)
        markers, versions = self._versions(key, name)
        for version_id in [*markers, *versions]:
            with _translated("delete", key):
                try:
                    self._client.delete_object(Bucket=self.bucket, Key=name, VersionId=version_id)
                except ClientError as exc:
                    if _code(exc) != "AccessDenied":
                        raise
                    raise StorageError(self._refusal(key, name, version_id)) from None

    def _refusal(self, key: str, name: str, version_id: str) -> str:
        until: datetime | None = None
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=name, VersionId=version_id)
            until = _retain_date(head)
        except (ClientError, BotoCoreError):
            pass  # the refusal is what counts; its date is a courtesy
        if self._held(name, version_id):
            return f"cannot delete {key}: it is under an S3 legal hold (a retention hold)"
        if until is not None and until > self._now():
            return (
                f"cannot delete {key}: S3 Object Lock ({_MODE}) retention keeps it "
                f"until {until.isoformat()}"
            )
        return (
            f"cannot delete {key}: S3 refused (AccessDenied): the object is under Object Lock "
            "retention or legal hold, or the credentials may not delete object versions"
        )

    def _held(self, name: str, version_id: str) -> bool:
        try:
            reply = self._client.get_object_legal_hold(
                Bucket=self.bucket, Key=name, VersionId=version_id
            )
        except (ClientError, BotoCoreError):
            return False
        return reply.get("LegalHold", {}).get("Status") == "ON"

    def _versions(self, key: str, name: str) -> tuple[list[str], list[str]]:
        markers: list[str] = []
        versions: list[str] = []
        with _translated("list versions of", key):
            pages = self._client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=name
            )
            for page in pages:  # the prefix matches longer keys too: keep this key's only
                markers += [
                    d["VersionId"] for d in page.get("DeleteMarkers", []) if d["Key"] == name
                ]
                versions += [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == name]
        return markers, versions

    # -- reading -----------------------------------------------------------------

    def retention(self, key: str) -> datetime | None:
        head = self._head(key, self._name(key))
        return None if head is None else _retain_date(head)

    def open(self, key: str) -> BinaryIO:
        name = self._name(key)
        with _translated("read", key):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if _code(exc) in {"NoSuchKey", "404"}:
                    raise NotFound(f"storage has no object {key}") from None
                raise
        return io.BufferedReader(_ObjectReader(response["Body"], key), buffer_size=_CHUNK)

    def size(self, key: str) -> int | None:
        head = self._head(key, self._name(key))
        return None if head is None else head["ContentLength"]

    def objects(self) -> Iterator[StoredObject]:
        with _translated("list", self.prefix or self.bucket):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"][len(self.prefix) :], item["Size"])

    def close(self) -> None:
        self._client.close()

    # -- helpers -------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _lock_date(self, until: datetime | None) -> datetime | None:
        """A retention date as S3 keeps it (whole seconds, rounded up); None if past."""
        if until is None:
            return None
        rounded = _whole_second(aware(until, "retention date"))
        return rounded if rounded > self._now() else None

    def _head(self, key: str, name: str) -> HeadObjectOutputTypeDef | None:
        with _translated("look up", key):
            try:
                return self._client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise


class _ObjectReader(io.RawIOBase):
    """A GET response body as a raw binary stream, translating errors while reading."""

    def __init__(self, body: StreamingBody, key: str) -> None:
        super().__init__()
        self._body = body
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        with _translated("read", self._key):
            data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


@contextmanager
def _translated(action: str, key: str, *, config: bool = False) -> Iterator[None]:
    """boto3 errors -> Oversight errors, worded without credentials or request details."""
    kind = ConfigError if config else StorageError
    try:
        yield
    except NoCredentialsError:
        raise ConfigError(
            "no S3 credentials: set OVERSIGHT_S3_ACCESS_KEY_ID and OVERSIGHT_S3_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as exc:
        code = _code(exc)
        if code in _CREDENTIAL_CODES:
            raise ConfigError(
                f"S3 rejected the credentials ({code}): check OVERSIGHT_S3_ACCESS_KEY_ID "
                "and OVERSIGHT_S3_SECRET_ACCESS_KEY"
            ) from None
        message = exc.response.get("Error", {}).get("Message") or "no message"
        raise kind(f"S3 could not {action} {key}: {code} ({message})") from None
    except BotoCoreError as exc:
        raise kind(f"S3 could not {action} {key}: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _retain_date(head: HeadObjectOutputTypeDef) -> datetime | None:
    if head.get("ObjectLockMode") is None:
        return None
    until = head.get("ObjectLockRetainUntilDate")
    return None if until is None else until.astimezone(UTC)


def _whole_second(instant: datetime) -> datetime:
    if instant.microsecond == 0:
        return instant
    return instant.replace(microsecond=0) + timedelta(seconds=1)


def _digests(source: Path, key: str) -> tuple[bytes, bytes, int]:
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)  # Content-MD5 for servers without SHA-256
    size = 0
    try:
        with source.open("rb") as f:
            while chunk := f.read(_CHUNK):
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise StorageError(f"cannot read {source} to store {key}: {exc.strerror or exc}") from exc
    return sha256.digest(), md5.digest(), size


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")

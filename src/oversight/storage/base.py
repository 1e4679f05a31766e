"""The Store protocol: where sealed footage lives. Backends: local.py and s3.py.

Keys are relative POSIX paths (``camera/YYYY/MM/DD/HH/file``). A store never
overwrites an object: sealed footage is write-once, and deletion is the retention
engine's business alone.

Retention (WORM): ``put(..., retain_until=)`` and ``extend_retention`` ask the store
to refuse deletion or change of an object before a given instant. S3 with Object Lock
in COMPLIANCE mode enforces it against everyone, the bucket owner included; the local
file system cannot (root can always delete a file), so ``LocalStore`` accepts and
ignores retention and keeps its objects read-only instead. The retention engine must
therefore never rely on the store alone to keep footage within retention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from oversight.errors import InvalidInput

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class Store(Protocol):
    """Write-once object storage for sealed segments."""

    name: str

    def put(self, key: str, source: Path, *, retain_until: datetime | None = None) -> None:
        """Store ``source`` under ``key`` durably and atomically; ``source`` stays.

        Idempotent: putting the same bytes again is a no-op (apart from extending the
        retention to ``retain_until`` if that is later); different bytes under an
        existing key raise AlreadyExists. ``retain_until`` (timezone-aware) locks the
        object against deletion and change until then, where the backend can enforce
        it (see ``retention``).
        """
        ...

    def extend_retention(self, key: str, until: datetime) -> None:
        """Keep ``key`` locked until at least ``until``; never shortens. NotFound if absent."""
        ...

    def retention(self, key: str) -> datetime | None:
        """The instant until which the backend enforces retention, or None (none, or absent)."""
        ...

    def set_legal_hold(self, key: str, on: bool) -> None:
        """Mirror a legal hold (Art. 15(2) footage under a hold) onto the object, where the
        backend can enforce one: while on, the object cannot be deleted whatever its
        retention date. NotFound if absent; idempotent."""
        ...

    def legal_hold(self, key: str) -> bool:
        """True if the backend holds ``key`` under an enforced legal hold."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read an object; NotFound if absent."""
        ...

    def size(self, key: str) -> int | None:
        """Size in bytes, or None if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object for good (only the retention engine calls this); absent is fine.

        An object still under enforced retention is not removed: StorageError naming the
        key and its retention.
        """
        ...

    def delete_many(self, keys: Sequence[str]) -> None:
        """``delete`` for several keys, made durable together (the purge's batches)."""
        ...

    def objects(self) -> Iterator[StoredObject]:
        """Every stored object, in key order (byte-wise, like S3 listings)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...

    @property
    def identity(self) -> str:
        """Which store this is, the same for every process writing to it (a recorder
        pool's nodes must all name one); no credentials in it."""
        ...


def aware(instant: datetime, what: str) -> datetime:
    """``instant`` in UTC; InvalidInput if it has no time zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(f"{what} must be timezone-aware, got {instant.isoformat()}")
    return instant.astimezone(UTC)


def check_key(key: str) -> str:
    if len(key) > 300 or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise InvalidInput(f"invalid storage key {key!r}")
    return key


def segment_key(camera: str, start: datetime, sha256: str, ext: str) -> str:
    """``camera/YYYY/MM/DD/HH/camera-YYYYmmddTHHMMSSZ-SHA16.ext`` in UTC.

    Named by the bytes, not the sequence number, so a seal stores them before it takes
    the ledger lock (issue 21, item 9: nodes of a pool do not queue behind one another's
    uploads); two copies of one camera's minute (a redundant camera) differ in bytes.
    Segments sealed before this carry ``camera-SEQ-TIME`` keys; the index keeps each
    segment's key, so both forms stay valid."""
    t = start.astimezone(UTC)
    return check_key(
        f"{camera}/{t:%Y/%m/%d/%H}/{camera}-{t:%Y%m%dT%H%M%SZ}-{sha256[:16]}.{ext.lstrip('.')}"
    )

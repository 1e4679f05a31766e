"""The Store conformance suite, run against every backend (``local`` and ``s3``).

Write-once objects, idempotent puts, key order, key checks and retention dates are
the contract. Enforced retention (WORM) is S3's alone; the local store accepts the
dates and documents that it cannot enforce them, which the last test pins down.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight.errors import AlreadyExists, InvalidInput, NotFound
from oversight.storage.base import Store
from oversight.storage.local import LocalStore


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_stores_the_bytes_and_keeps_the_source(store: Store, tmp_path: Path) -> None:
    source = _file(tmp_path, "a.mp4", b"footage")
    store.put("cam1/2026/05/01/08/a.mp4", source)
    assert source.read_bytes() == b"footage"
    with store.open("cam1/2026/05/01/08/a.mp4") as f:
        assert f.read() == b"footage"
    assert store.size("cam1/2026/05/01/08/a.mp4") == 7
    assert [(o.key, o.size) for o in store.objects()] == [("cam1/2026/05/01/08/a.mp4", 7)]


def test_open_streams_in_chunks(store: Store, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    store.put("cam1/big.mp4", _file(tmp_path, "big", data))
    h = hashlib.sha256()
    with store.open("cam1/big.mp4") as f:
        assert len(f.read(10)) == 10
        h.update(data[:10])
        while chunk := f.read(1 << 20):
            h.update(chunk)
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_put_is_idempotent_for_the_same_bytes_and_refuses_different_ones(
    store: Store, tmp_path: Path
) -> None:
    store.put("k/a.mp4", _file(tmp_path, "a", b"one"))
    store.put("k/a.mp4", _file(tmp_path, "b", b"one"))
    with pytest.raises(AlreadyExists, match=r"k/a\.mp4"):
        store.put("k/a.mp4", _file(tmp_path, "c", b"two"))
    with pytest.raises(AlreadyExists):
        store.put("k/a.mp4", _file(tmp_path, "d", b"onf"))  # same size, other bytes
    with store.open("k/a.mp4") as f:
        assert f.read() == b"one"
    assert [o.key for o in store.objects()] == ["k/a.mp4"]


def test_objects_come_in_byte_wise_key_order(store: Store, tmp_path: Path) -> None:
    assert list(store.objects()) == []
    keys = ["b/2.mp4", "a/x/1.mp4", "a0", "b/1.mp4", "a.mp4", "a/b.mp4", "A.mp4"]
    for key in keys:
        store.put(key, _file(tmp_path, key.replace("/", "_"), key.encode()))
    listed = list(store.objects())
    assert [o.key for o in listed] == sorted(keys)
    assert [o.size for o in listed] == [len(k) for k in sorted(keys)]


def test_delete_removes_and_absent_is_fine(store: Store, tmp_path: Path) -> None:
    for key in ("a/1.mp4", "a/1.mp4x", "b/2.mp4"):
        store.put(key, _file(tmp_path, key.replace("/", "_"), key.encode()))
    store.delete("a/1.mp4")
    store.delete("a/1.mp4")
    store.delete("never/was.mp4")
    assert [o.key for o in store.objects()] == ["a/1.mp4x", "b/2.mp4"]
    assert store.size("a/1.mp4") is None
    with pytest.raises(NotFound, match=r"a/1\.mp4"):
        store.open("a/1.mp4")
    # A deleted key can be written again (the retention engine never does; a re-seal may).
    store.put("a/1.mp4", _file(tmp_path, "again", b"new"))
    assert store.size("a/1.mp4") == 3


def test_delete_many_removes_every_key_and_skips_absent_ones(store: Store, tmp_path: Path) -> None:
    for key in ("a/1.mp4", "a/2.mp4", "b/3.mp4", "c/4.mp4"):
        store.put(key, _file(tmp_path, key.replace("/", "_"), key.encode()))
    store.delete_many(["a/1.mp4", "b/3.mp4", "never/was.mp4", "a/2.mp4"])
    assert [o.key for o in store.objects()] == ["c/4.mp4"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/../b", "", "a b", "a/"])
def test_keys_that_could_escape_are_refused_everywhere(
    store: Store, tmp_path: Path, key: str
) -> None:
    source = _file(tmp_path, "x", b"x")
    later = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(InvalidInput):
        store.put(key, source)
    with pytest.raises(InvalidInput):
        store.open(key)
    with pytest.raises(InvalidInput):
        store.size(key)
    with pytest.raises(InvalidInput):
        store.delete(key)
    with pytest.raises(InvalidInput):
        store.retention(key)
    with pytest.raises(InvalidInput):
        store.extend_retention(key, later)
    assert list(store.objects()) == []


def test_retention_dates_must_be_timezone_aware(store: Store, tmp_path: Path) -> None:
    naive = datetime(2030, 1, 1)  # naive on purpose
    with pytest.raises(InvalidInput, match="timezone"):
        store.put("k/a.mp4", _file(tmp_path, "a", b"a"), retain_until=naive)
    assert store.size("k/a.mp4") is None
    store.put("k/a.mp4", _file(tmp_path, "a", b"a"))
    with pytest.raises(InvalidInput, match="timezone"):
        store.extend_retention("k/a.mp4", naive)


def test_extending_the_retention_of_an_absent_object_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.extend_retention("k/none.mp4", datetime.now(UTC) + timedelta(days=1))
    assert store.retention("k/none.mp4") is None


def test_local_store_accepts_retention_but_cannot_enforce_it(tmp_path: Path) -> None:
    """The documented limitation: a local file system has no WORM its root cannot undo."""
    store = LocalStore(tmp_path / "store")
    until = datetime.now(UTC) + timedelta(days=30)
    store.put("k/a.mp4", _file(tmp_path, "a", b"a"), retain_until=until)
    store.extend_retention("k/a.mp4", until + timedelta(days=1))
    assert store.retention("k/a.mp4") is None
    store.delete("k/a.mp4")
    assert store.size("k/a.mp4") is None


def test_legal_holds_are_refused_for_absent_objects(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        store.set_legal_hold("cam/none.mp4", True)
    assert store.legal_hold("cam/none.mp4") is False


def test_local_store_accepts_legal_holds_but_cannot_enforce_them(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = tmp_path / "seg.mp4"
    source.write_bytes(b"footage")
    store.put("cam/seg.mp4", source)
    store.set_legal_hold("cam/seg.mp4", True)
    assert store.legal_hold("cam/seg.mp4") is False  # the planner keeps held footage

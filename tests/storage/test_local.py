"""The local-disk store: write-once, atomic, read-only objects; keys are checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from oversight.errors import AlreadyExists, InvalidInput, NotFound
from oversight.storage.base import segment_key
from oversight.storage.local import LocalStore


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_is_atomic_read_only_and_keeps_the_source(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = _file(tmp_path, "a.mp4", b"footage")
    store.put("cam1/2026/05/01/08/a.mp4", source)
    stored = store.path("cam1/2026/05/01/08/a.mp4")
    assert stored.read_bytes() == b"footage"
    assert stored.stat().st_mode & 0o777 == 0o444
    assert source.exists()
    assert not list(stored.parent.glob("*.partial"))
    with store.open("cam1/2026/05/01/08/a.mp4") as f:
        assert f.read() == b"footage"
    assert store.size("cam1/2026/05/01/08/a.mp4") == 7


def test_put_is_idempotent_for_the_same_bytes_and_refuses_different_ones(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put("k/a.mp4", _file(tmp_path, "a", b"one"))
    store.put("k/a.mp4", _file(tmp_path, "b", b"one"))
    with pytest.raises(AlreadyExists):
        store.put("k/a.mp4", _file(tmp_path, "c", b"two"))
    assert store.path("k/a.mp4").read_bytes() == b"one"


def test_objects_lists_everything_in_key_order_and_delete_removes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    assert list(store.objects()) == []
    for key in ("b/2.mp4", "a/1.mp4", "b/1.mp4"):
        store.put(key, _file(tmp_path, key.replace("/", "_"), key.encode()))
    assert [o.key for o in store.objects()] == ["a/1.mp4", "b/1.mp4", "b/2.mp4"]
    store.delete("b/1.mp4")
    store.delete("b/1.mp4")  # absent is fine
    assert [o.key for o in store.objects()] == ["a/1.mp4", "b/2.mp4"]
    assert store.size("b/1.mp4") is None
    with pytest.raises(NotFound):
        store.open("b/1.mp4")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/../b", "", "a b"])
def test_keys_that_could_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInput):
        LocalStore(tmp_path).path(key)


def test_segment_keys_follow_the_camera_and_utc_hour_layout() -> None:
    start = datetime(2026, 5, 1, 8, 59, 30, tzinfo=UTC)
    key = segment_key("cam1", 42, start, "mp4")
    assert key == "cam1/2026/05/01/08/cam1-00000042-20260501T085930Z.mp4"

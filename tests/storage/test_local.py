"""The local-disk store's own guarantees: atomic, read-only objects under one root.

The behaviour every store shares (idempotent puts, key order, key checks, retention
dates) is in test_store_suite.py, run against this store too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from oversight.errors import InvalidInput
from oversight.storage.base import segment_key
from oversight.storage.local import LocalStore


def test_put_is_atomic_read_only_and_keeps_the_source(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = tmp_path / "a.mp4"
    source.write_bytes(b"footage")
    store.put("cam1/2026/05/01/08/a.mp4", source)
    stored = store.path("cam1/2026/05/01/08/a.mp4")
    assert stored.read_bytes() == b"footage"
    assert stored.stat().st_mode & 0o777 == 0o400
    assert source.exists()
    assert not list(stored.parent.glob("*.partial"))


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/../b", "", "a b"])
def test_keys_that_could_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInput):
        LocalStore(tmp_path).path(key)


def test_segment_keys_follow_the_camera_and_utc_hour_layout() -> None:
    start = datetime(2026, 5, 1, 8, 59, 30, tzinfo=UTC)
    key = segment_key("cam1", start, "ab" * 32, "mp4")
    assert key == "cam1/2026/05/01/08/cam1-20260501T085930Z-abababababababab.mp4"

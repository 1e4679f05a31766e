"""Sealing a finished segment: one transaction of leaf, index row and stored bytes;
idempotent after a crash at either side of the commit; refusals write nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.errors import InvalidInput, NotFound, StorageError
from oversight.ledger import leaves
from oversight.services.sealing import seal_file
from oversight.storage.base import segment_key
from tests.conftest import Env

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def camera(system: bootstrap.System, initialised: Env) -> bootstrap.System:
    initialised.ok("orgs", "add", "--id", "o", "--name", "O", "--kind", "owner")
    initialised.ok(
        "sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o"
    )
    initialised.ok(
        "cameras", "add", "--id", "cam1", "--site", "s", "--placement", "general",
        "--coverage", "entrance", "--stream", "rtsp://u:secret@127.0.0.1/cam1",
        "--commissioned", "2026-04-01",
    )  # fmt: skip
    return system


def _spool(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _seal(system: bootstrap.System, path: Path, minute: int) -> object:
    start = T0 + timedelta(minutes=minute)
    return seal_file(
        system, camera="cam1", path=path, start=start, end=start + timedelta(minutes=1)
    )


def test_segments_chain_per_camera_and_become_leaves(
    camera: bootstrap.System, tmp_path: Path
) -> None:
    first = seal_file(
        camera, camera="cam1", path=_spool(tmp_path, "a.mp4", b"A" * 100),
        start=T0, end=T0 + timedelta(minutes=1),
    )  # fmt: skip
    second = seal_file(
        camera, camera="cam1", path=_spool(tmp_path, "b.mp4", b"B" * 50),
        start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=2),
    )  # fmt: skip
    assert (first.seq, second.seq) == (1, 2)
    with camera.sessions() as session:
        leaf1 = leaves.decode(camera.ledger.leaf(session, first.leaf_index).data)
        leaf2 = leaves.decode(camera.ledger.leaf(session, second.leaf_index).data)
    assert leaf1["type"] == "segment_sealed" and leaf1["prev_sha256"] == ""
    assert leaf2["prev_sha256"] == first.sha256 == leaf1["sha256"]
    assert leaf2["bytes"] == 50 and leaf2["storage_key"] == second.storage_key
    assert camera.store.size(second.storage_key) == 50


def test_sealing_the_same_file_again_returns_the_sealed_segment(
    camera: bootstrap.System, tmp_path: Path
) -> None:
    path = _spool(tmp_path, "a.mp4", b"A" * 100)
    first = seal_file(camera, camera="cam1", path=path, start=T0, end=T0 + timedelta(minutes=1))
    # A crash after the commit, before the spool file was removed: sealed once only.
    again = seal_file(camera, camera="cam1", path=path, start=T0, end=T0 + timedelta(minutes=1))
    assert again.already_sealed and again.id == first.id
    with camera.sessions() as session:
        assert camera.ledger.size(session) == 4  # org, site, camera, one segment


def test_a_crash_before_the_commit_leaves_a_stored_copy_that_a_reseal_reuses(
    camera: bootstrap.System, tmp_path: Path
) -> None:
    path = _spool(tmp_path, "a.mp4", b"A" * 100)
    # The store write comes before the seal transaction: a process killed between
    # them leaves the bytes stored and nothing indexed or logged.
    key = segment_key("cam1", T0, hashlib.sha256(b"A" * 100).hexdigest(), "mp4")
    camera.store.put(key, path)
    sealed = seal_file(camera, camera="cam1", path=path, start=T0, end=T0 + timedelta(minutes=1))
    assert not sealed.already_sealed and sealed.storage_key == key
    report = json.dumps([o.key for o in camera.store.objects()])
    assert report == json.dumps([key])


def test_refusals_write_nothing(camera: bootstrap.System, initialised: Env, tmp_path: Path) -> None:
    before = initialised.counts()
    good = _spool(tmp_path, "a.mp4", b"A")
    end = T0 + timedelta(minutes=1)
    empty = _spool(tmp_path, "e", b"")
    naive = T0.replace(tzinfo=None)
    cases: list[tuple[type[Exception], dict[str, object]]] = [
        (NotFound, {"camera": "nope", "path": good, "start": T0, "end": end}),
        (NotFound, {"camera": "cam1", "path": tmp_path / "none", "start": T0, "end": end}),
        (InvalidInput, {"camera": "cam1", "path": empty, "start": T0, "end": end}),
        (InvalidInput, {"camera": "cam1", "path": good, "start": T0, "end": T0}),
        (InvalidInput, {"camera": "cam1", "path": good, "start": naive, "end": end}),
    ]
    for error, kwargs in cases:
        with pytest.raises(error):
            seal_file(camera, **kwargs)  # type: ignore[arg-type]
    assert initialised.counts() == before
    assert list(camera.store.objects()) == []


def test_a_store_failure_rolls_back_the_leaf_and_the_index_row(
    camera: bootstrap.System, initialised: Env, tmp_path: Path
) -> None:
    before = initialised.counts()
    store_dir = camera.settings.store_dir
    store_dir.mkdir(parents=True, exist_ok=True)
    (store_dir / "cam1").write_text("a file where the camera's directory must go")
    with pytest.raises(StorageError):
        _seal(camera, _spool(tmp_path, "a.mp4", b"A"), 0)
    assert initialised.counts() == before


def test_a_slow_upload_does_not_hold_the_ledger_lock(
    camera: bootstrap.System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21, item 9: every node of a pool appends under one ledger lock, so a seal
    stores its bytes before it takes the lock. While one upload hangs (an object store
    answering slowly), another seal, from another process's connection, goes through."""
    import threading
    from contextlib import closing

    from oversight.config import Settings

    uploading, finish = threading.Event(), threading.Event()
    put = camera.store.put

    def slow_put(key: str, path: Path, **kwargs: object) -> None:
        if path.name == "slow.mp4":
            uploading.set()
            assert finish.wait(30)
        put(key, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(camera.store, "put", slow_put)
    slow = threading.Thread(target=_seal, args=(camera, _spool(tmp_path, "slow.mp4", b"S"), 0))
    slow.start()
    sealed: list[object] = []

    def quick_seal() -> None:
        with closing(bootstrap.build(Settings())) as other:  # its own engine
            sealed.append(_seal(other, _spool(tmp_path, "quick.mp4", b"Q"), 1))

    try:
        assert uploading.wait(30)
        quick = threading.Thread(target=quick_seal)
        quick.start()
        quick.join(20)
        assert sealed, "the second seal waited for the first one's upload"
        assert getattr(sealed[0], "seq", None) == 1  # sealed first, while the upload hung
    finally:
        finish.set()
        slow.join(30)
    with camera.sessions() as session:
        assert camera.ledger.size(session) == 5  # org, site, camera, two segments

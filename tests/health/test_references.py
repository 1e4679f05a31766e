"""References on disk: learn, load, re-learn, refusals; on SQLite and PostgreSQL (the
camera must be registered)."""

from __future__ import annotations

import numpy as np
import pytest

from oversight import bootstrap
from oversight.errors import InvalidInput, NotFound
from oversight.health import references
from oversight.health.tamper import classify, frame_stats
from tests.actors import HOST

from ..recorder.helpers import add_camera
from ..services.test_people import leaves_of
from .conftest import Frame, synthetic_scene, view


def test_learn_then_load_round_trips(
    system: bootstrap.System, learning_frames: list[Frame]
) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    learned = references.learn_reference(system, HOST, "cam1", learning_frames)
    path = system.settings.data_dir / "health" / "cam1.npz"
    assert references.reference_path(system, "cam1") == path and path.is_file()
    loaded = references.load_reference(system, "cam1")
    for name in ("frames", "mean", "std", "uniform", "sharpness", "self_match", "detail_floor"):
        assert getattr(loaded, name) == pytest.approx(getattr(learned, name)), name
    for name in ("hist", "thumb", "detail", "energy"):
        assert np.array_equal(getattr(loaded, name), getattr(learned, name)), name
    frame = view(synthetic_scene(), seed=30)
    assert classify(frame_stats(frame), loaded) == classify(frame_stats(frame), learned) == []
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_relearning_replaces_the_reference(
    system: bootstrap.System, learning_frames: list[Frame]
) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    references.learn_reference(system, HOST, "cam1", learning_frames)
    turned = [view(synthetic_scene(), x=0, y=0, seed=i) for i in range(5)]
    [[finding]] = references.analyse(turned[:1], references.load_reference(system, "cam1"))
    assert finding.kind == "moved"
    references.learn_reference(system, HOST, "cam1", turned)  # the operator accepts the new view
    reloaded = references.load_reference(system, "cam1")
    assert reloaded.frames == 5
    assert references.analyse(turned[:1], reloaded) == [[]]
    # Each (re-)learning is on the ledger: it could hide a turned camera.
    learned = [leaf for leaf in leaves_of(system, "health") if leaf["action"] == "reference.learn"]
    assert [(leaf["subject"], leaf["details"]) for leaf in learned] == [
        ("camera:cam1", {"camera": "cam1", "frames": len(learning_frames)}),
        ("camera:cam1", {"camera": "cam1", "frames": 5}),
    ]


def test_refused_frames_leave_the_stored_reference_alone(
    system: bootstrap.System, learning_frames: list[Frame]
) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    references.learn_reference(system, HOST, "cam1", learning_frames)
    before = references.reference_path(system, "cam1").read_bytes()
    size = len(leaves_of(system, "health"))
    with pytest.raises(InvalidInput, match="looks covered"):
        references.learn_reference(system, HOST, "cam1", [np.zeros((180, 320), np.uint8)] * 4)
    assert references.reference_path(system, "cam1").read_bytes() == before
    assert len(leaves_of(system, "health")) == size  # a refused learning is not recorded


def test_unknown_camera_and_missing_reference(
    system: bootstrap.System, learning_frames: list[Frame]
) -> None:
    with pytest.raises(NotFound, match="camera"):
        references.learn_reference(system, HOST, "ghost", learning_frames)
    assert not (system.settings.data_dir / "health").exists()
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    with pytest.raises(NotFound, match="no tamper reference"):
        references.load_reference(system, "cam1")


@pytest.mark.parametrize("camera", ["../etc/passwd", ".hidden", "a/b", ""])
def test_camera_ids_that_are_not_file_names_are_refused(
    system: bootstrap.System, camera: str
) -> None:
    with pytest.raises(InvalidInput, match="invalid camera id"):
        references.reference_path(system, camera)


def test_damaged_or_foreign_files_are_refused(
    system: bootstrap.System, learning_frames: list[Frame]
) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    references.learn_reference(system, HOST, "cam1", learning_frames)
    path = references.reference_path(system, "cam1")
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InvalidInput, match="unreadable"):
        references.load_reference(system, "cam1")
    path.write_bytes(good)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **{**arrays, "version": np.array(99)})
    with pytest.raises(InvalidInput, match="format version"):
        references.load_reference(system, "cam1")
    np.savez(path, **{**arrays, "thumb": np.zeros((3, 3), np.float32)})
    with pytest.raises(InvalidInput, match="wrong shape"):
        references.load_reference(system, "cam1")
    del arrays["energy"]
    np.savez(path, **arrays)
    with pytest.raises(InvalidInput, match="lacks energy"):
        references.load_reference(system, "cam1")

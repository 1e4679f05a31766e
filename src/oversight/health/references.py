"""Tamper references on disk: one ``.npz`` file per camera, no database table.

A camera's :class:`~oversight.health.tamper.Reference` lives in
``<data_dir>/health/<camera>.npz`` (numpy's zip of arrays, read with pickling off). It is
learned from a few untampered keyframes, replaced atomically (temporary file, fsync,
rename) when an operator re-learns it, and read back by the monitor. A file that is
missing raises NotFound; one that is damaged or of another format version raises
InvalidInput, so a bad file never passes for a reference.

API: :func:`learn_reference`, :func:`load_reference`, :func:`reference_path`, and
:func:`analyse` (re-exported from :mod:`oversight.health.tamper`).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound
from oversight.health.tamper import (
    DETAIL_SIZE,
    GRID,
    HIST_BINS,
    THUMB_SIZE,
    Reference,
    analyse,
    learn,
)
from oversight.ledger import leaves
from oversight.services import authz

__all__ = ["analyse", "learn_reference", "load_reference", "reference_path", "save_reference"]

FORMAT_VERSION = 1
_CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as the registry allows
_SCALARS = ("frames", "mean", "std", "uniform", "sharpness", "self_match", "detail_floor")
_SHAPES = {
    "hist": (HIST_BINS,),
    "thumb": THUMB_SIZE[::-1],
    "detail": DETAIL_SIZE[::-1],
    "energy": GRID,
}


def reference_path(system: System, camera: str) -> Path:
    if not _CAMERA_ID.fullmatch(camera):
        raise InvalidInput(f"invalid camera id {camera!r}")
    return system.settings.data_dir / "health" / f"{camera}.npz"


def save_reference(path: Path, reference: Reference) -> None:
    """Write ``reference`` to ``path`` atomically (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "version": np.array(FORMAT_VERSION, dtype=np.int64)
    }
    for name in _SCALARS:
        arrays[name] = np.array(getattr(reference, name), dtype=np.float64)
    for name in _SHAPES:
        arrays[name] = np.asarray(getattr(reference, name), dtype=np.float32)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_reference(path: Path) -> Reference:
    """The reference stored in ``path``; NotFound or InvalidInput when it cannot be used."""
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise NotFound(f"no tamper reference at {path}: learn one first") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidInput(f"tamper reference {path} is unreadable: {exc}") from None
    if "version" not in arrays or int(arrays["version"]) != FORMAT_VERSION:
        raise InvalidInput(f"tamper reference {path} has another format version: re-learn it")
    missing = [n for n in (*_SCALARS, *_SHAPES) if n not in arrays]
    if missing:
        raise InvalidInput(f"tamper reference {path} lacks {', '.join(missing)}: re-learn it")
    for name, shape in _SHAPES.items():
        if arrays[name].shape != shape:
            raise InvalidInput(f"tamper reference {path}: {name} has the wrong shape")
    scalars = {name: float(arrays[name]) for name in _SCALARS}
    return Reference(
        frames=int(scalars["frames"]),
        mean=scalars["mean"],
        std=scalars["std"],
        uniform=scalars["uniform"],
        sharpness=scalars["sharpness"],
        hist=arrays["hist"].astype(np.float32),
        thumb=arrays["thumb"].astype(np.float32),
        detail=arrays["detail"].astype(np.float32),
        energy=arrays["energy"].astype(np.float32),
        self_match=scalars["self_match"],
        detail_floor=scalars["detail_floor"],
    )


def learn_reference(
    system: System, actor: Person, camera: str, frames: Sequence[npt.NDArray[np.generic]]
) -> Reference:
    """Learn ``camera``'s reference from ``frames`` (untampered keyframes, at least 3, a
    few seconds apart) and store it, replacing any earlier one. The camera must be
    registered; frames that look covered or washed out are refused (InvalidInput) and
    the stored reference, if any, is left as it was."""
    path = reference_path(system, camera)
    # NotFound for an unknown camera, then the policy on re-learning its reference.
    authz.check_cameras(system, actor, "alarms.raise", [camera])
    reference = learn(frames)
    # On record before it takes effect: a re-learned reference could hide a turned
    # camera, so who re-learned it, and when, is a ledger leaf.
    with system.sessions.begin() as session:
        system.ledger.append(
            session,
            [
                leaves.health(
                    at=system.clock.now(),
                    actor=actor.id,
                    action="reference.learn",
                    subject=f"camera:{camera}",
                    details={"camera": camera, "frames": len(frames)},
                )
            ],
        )
    save_reference(path, reference)
    return reference


def load_reference(system: System, camera: str) -> Reference:
    """``camera``'s stored reference (NotFound when none was learned)."""
    return read_reference(reference_path(system, camera))

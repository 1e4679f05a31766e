"""Local-disk store: write-once files under one root directory.

A put hard-links (or, across file systems, copies) the source to a temporary name
in the target directory, fsyncs file and directory, makes it read-only and renames
it into place, so a crash leaves either no object or a whole one, and the spool
file stays until the caller has committed the seal.

Footage is private to the account that runs Oversight (finding 5 of issue 18):
objects are 0400 and the directories the store creates 0700, whatever the process
umask, so no other local account can read footage past the enforcement point. A
directory that already exists (an operator's mount point) is left as it is; the
check in ``services/filemodes.py`` reports it if others can enter it.

Retention is accepted and not enforced: a local file system has no WORM mode that
its own administrator cannot undo, so ``retain_until`` and ``extend_retention`` are
checked and otherwise ignored, ``retention`` is always None, and ``delete`` removes
any object. Read-only mode (0400) guards against accidents, not against intent; use
the S3 backend with Object Lock where deletion within retention must be impossible.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from oversight.durable import fsync_dir
from oversight.errors import AlreadyExists, NotFound, StorageError
from oversight.storage.base import StoredObject, aware, check_key

_TMP_SUFFIX = ".partial"
FOOTAGE_MODE = 0o400
DIR_MODE = 0o700


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each exactly 0700; existing ones are
    left alone (never chmod a directory someone else made)."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # a concurrent writer made it: theirs is ours too
        directory.chmod(DIR_MODE)  # mkdir's mode passes through the umask


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return _digest(a) == _digest(b)


def _digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.digest()


class LocalStore:
    name = "local"

    def __init__(self, root: Path):
        self.root = root

    @property
    def identity(self) -> str:
        return f"local:{self.root.resolve()}"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path, *, retain_until: datetime | None = None) -> None:
        if retain_until is not None:
            aware(retain_until, "retain_until")  # checked like S3 does, then not enforced
        target = self.path(key)
        if target.exists():
            if _same_bytes(target, source):
                return
            raise AlreadyExists(f"storage key {key} already holds different bytes")
        try:
            make_private_dirs(target.parent)
            tmp = target.with_name(target.name + _TMP_SUFFIX)
            tmp.unlink(missing_ok=True)
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.chmod(FOOTAGE_MODE)
            tmp.rename(target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot store {key}: {exc.strerror or exc}") from exc

    def extend_retention(self, key: str, until: datetime) -> None:
        aware(until, "retention date")
        if not self.path(key).is_file():
            raise NotFound(f"storage has no object {key}")

    def retention(self, key: str) -> datetime | None:
        check_key(key)
        return None

    def set_legal_hold(self, key: str, on: bool) -> None:
        # Like retention dates: checked, not enforced here. The planner keeps held
        # footage; a file system has no lock the operator's root could not lift.
        if not self.path(key).is_file():
            raise NotFound(f"storage has no object {key}")

    def legal_hold(self, key: str) -> bool:
        check_key(key)
        return False

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"storage has no object {key}") from None

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)

    def delete_many(self, keys: Sequence[str]) -> None:
        """Delete several objects, syncing each directory once rather than per file."""
        # Plain strings, not Path objects: a purge removes thousands of files per batch.
        root = str(self.root)
        parents: set[str] = set()
        for key in keys:
            path = os.path.join(root, check_key(key))  # noqa: PTH118
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # noqa: PTH108
                parents.add(os.path.dirname(path))  # noqa: PTH120
        for parent in sorted(parents):
            fsync_dir(Path(parent))

    def objects(self) -> Iterator[StoredObject]:
        if not self.root.exists():
            return
        yield from self._walk(self.root, "")

    def _walk(self, directory: Path, prefix: str) -> Iterator[StoredObject]:
        # Sort a directory as "name/" so the whole walk comes out in byte-wise key
        # order ("a.mp4" < "a/x.mp4" < "a0"), the order S3 lists in.
        with os.scandir(directory) as it:
            entries = sorted(
                ((e.name + "/" if e.is_dir(follow_symlinks=False) else e.name), e) for e in it
            )  # names are unique, so the DirEntry is never compared
        for name, entry in entries:
            if name.endswith("/"):
                yield from self._walk(Path(entry.path), prefix + name)
            elif entry.is_file(follow_symlinks=False):
                try:
                    size = entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue  # a put's temporary file, renamed meanwhile: listed under its key
                yield StoredObject(prefix + name, size)

    def irregular(self) -> Iterator[tuple[str, str]]:
        """(key, what it is) of every entry under the root that is neither a regular file
        nor a directory: a symlink (which could point footage anywhere), a FIFO, a device.
        The store never makes one, so each is something added behind its back."""
        if not self.root.exists():
            return
        pending = [(self.root, "")]
        while pending:
            directory, prefix = pending.pop()
            with os.scandir(directory) as it:
                for entry in sorted(it, key=lambda e: e.name):
                    if entry.is_symlink():
                        yield prefix + entry.name, f"a symlink to {Path(entry.path).readlink()}"
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append((Path(entry.path), prefix + entry.name + "/"))
                    elif not entry.is_file(follow_symlinks=False):
                        yield prefix + entry.name, "not a regular file"

    def close(self) -> None:
        """Nothing to release."""

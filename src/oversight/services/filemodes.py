"""File modes: what Oversight keeps on disk is private to the account that runs it.

Finding 5 of issue 18: footage, the database (password hashes, identity-document
numbers, camera credentials) and the signing key must not be readable by other local
accounts, who would bypass the enforcement point. Oversight creates its directories
0700, footage 0400, the database and the key 0600, under umask 077 (``bootstrap``).
It never chmods a directory it did not create: an operator's directory that others can
reach is refused by the daemons (:func:`require_private`) and reported as a compliance
finding and a ``verify`` discrepancy (:func:`exposures`); the fix is one
``chmod -R go-rwx DATA_DIR``.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from oversight.bootstrap import System
from oversight.config import Settings
from oversight.db import models as m
from oversight.errors import ConfigError
from oversight.ledger.keys import key_path
from oversight.storage.local import LocalStore

OTHERS = 0o077  # any group or other bit: read, write or enter
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Exposure:
    """A path that group or others may read, write or enter."""

    what: str
    path: Path
    mode: int
    data_dir: Path

    def line(self) -> str:
        fix = shlex.join(["chmod", "-R", "go-rwx", str(self.data_dir.absolute())])
        return (
            f"the {self.what} {self.path.absolute()} is open to other users "
            f"(mode {self.mode:o}): run `{fix}`"
        )


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def _exposed(what: str, path: Path, settings: Settings) -> Exposure | None:
    mode = _mode(path)
    if mode is None or not mode & OTHERS:
        return None
    return Exposure(what, path, mode, settings.data_dir)


def private_dirs(settings: Settings) -> list[tuple[str, Path]]:
    """The directories that must be 0700: data dir, local store (unless S3), keys."""
    dirs = [("data directory", settings.data_dir)]
    if settings.s3_location is None:
        dirs.append(("footage store", settings.store_dir))
    dirs.append(("keys directory", settings.keys_dir))
    return dirs


def exposed_dirs(settings: Settings) -> list[Exposure]:
    found = (_exposed(what, path, settings) for what, path in private_dirs(settings))
    return [e for e in found if e is not None]


def require_private(settings: Settings) -> None:
    """``serve``, ``record`` and ``monitor``: refuse to run over a data dir, store or
    keys dir that others can reach, before anything is opened or written."""
    exposed = exposed_dirs(settings)
    if exposed:
        raise ConfigError(exposed[0].line())


def exposures(system: System, *, every_file: bool = True) -> list[Exposure]:
    """Every path of the deployment that others can reach: the directories, the signing
    key, the SQLite database and its side files, and the local store's directories and
    footage files: all of them (one ``stat`` each, for ``verify``), or with
    ``every_file=False`` each camera's oldest and newest live segment and the
    directories above them (a few ``stat`` calls, for the compliance report that the
    dashboard runs on every view)."""
    settings = system.settings
    found = exposed_dirs(settings)
    # Every key: the ledger's signing key, the camera credentials key, the CSRF secret.
    signing = key_path(settings.keys_dir)
    files = [("signing key", signing)]
    if settings.keys_dir.is_dir():
        files += [
            ("key", path)
            for path in sorted(settings.keys_dir.iterdir())
            if path != signing and path.is_file()
        ]
    database = _sqlite_file(settings.effective_database_url)
    if database is not None:
        files += [("database", database)]
        files += [("database", Path(f"{database}{s}")) for s in SQLITE_SIDE_FILES]
    found += [e for what, path in files if (e := _exposed(what, path, settings)) is not None]
    store = system.store
    if isinstance(store, LocalStore):
        below = _walk(store.root) if every_file else _sampled(store, _edge_segments(system))
        found += [Exposure(what, path, mode, settings.data_dir) for what, path, mode in below]
    return found


def _edge_segments(system: System) -> list[str]:
    """Storage keys of each camera's oldest and newest live segment (index lookups)."""
    keys: list[str] = []
    with system.reads() as session:
        cameras = session.scalars(select(m.Camera.id)).all()  # removed ones keep footage
        for camera in cameras:
            for order in (m.Segment.start_at.asc(), m.Segment.start_at.desc()):
                key = session.scalar(
                    select(m.Segment.storage_key)
                    .where(m.Segment.deleted_at.is_(None), m.Segment.camera_id == camera)
                    .order_by(order)
                    .limit(1)
                )
                if key is not None and key not in keys:
                    keys.append(key)
    return keys


def _sampled(store: LocalStore, keys: Sequence[str]) -> Iterator[tuple[str, Path, int]]:
    seen: set[Path] = set()
    for key in keys:
        path = store.path(key)
        chain = [("footage file", path)]
        chain += [("footage directory", d) for d in path.parents if d.is_relative_to(store.root)]
        for what, item in chain:
            if item == store.root or item in seen:
                continue  # the store itself is one of the private directories
            seen.add(item)
            mode = _mode(item)
            if mode is not None and mode & OTHERS:
                yield what, item, mode


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _walk(root: Path) -> Iterator[tuple[str, Path, int]]:
    """(what, path, mode) of each directory below ``root`` and each file open to others."""
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in sorted(entries, key=lambda e: e.name):
        is_dir = entry.is_dir(follow_symlinks=False)
        if not is_dir and not entry.is_file(follow_symlinks=False):
            continue
        try:
            mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
        except FileNotFoundError:  # a seal renamed its .partial file since the listing
            continue
        if mode & OTHERS:
            yield ("footage directory" if is_dir else "footage file"), Path(entry.path), mode
        if is_dir:
            yield from _walk(Path(entry.path))

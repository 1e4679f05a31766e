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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from oversight.bootstrap import System
from oversight.config import Settings
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


def exposures(system: System) -> list[Exposure]:
    """Every path of the deployment that others can reach: the directories, the signing
    key, the SQLite database and its side files, and each directory and footage file of
    the local store. One ``stat`` per stored file."""
    settings = system.settings
    found = exposed_dirs(settings)
    files = [("signing key", key_path(settings.keys_dir))]
    database = _sqlite_file(settings.effective_database_url)
    if database is not None:
        files += [("database", database)]
        files += [("database", Path(f"{database}{s}")) for s in SQLITE_SIDE_FILES]
    found += [e for what, path in files if (e := _exposed(what, path, settings)) is not None]
    if isinstance(system.store, LocalStore):
        found += [
            Exposure(what, path, mode, settings.data_dir)
            for what, path, mode in _walk(system.store.root)
        ]
    return found


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
        mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
        if mode & OTHERS:
            yield ("footage directory" if is_dir else "footage file"), Path(entry.path), mode
        if is_dir:
            yield from _walk(Path(entry.path))

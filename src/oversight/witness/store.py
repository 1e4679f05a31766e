"""The witness's own state: its key file and its own SQLite (never Oversight's database).

Layout of a data dir (0700)::

    witness.key      the cosignature signer key, PRIVATE+KEY+name+id+base64 (0600)
    witness.retiring.key  after ``rotate-key``, until ``retire-key``: the previous key,
                     which still cosigns beside the new one (0600)
    retired-keys.txt the verifier keys retired so far, one a line (public)
    witness.sqlite3  logs (origin, cosigned size, root, cosigned note), log_keys and
                     conflicts (signed checkpoints refused as not extending the cosigned
                     tree: the evidence of a fork or a cut) (0600)

The latest cosigned state of a log changes only through :meth:`Store.advance`, a
compare-and-swap on the stored size, so of two concurrent submissions from the same
old size one wins and the other sees 409.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from oversight.durable import fsync_dir
from oversight.errors import AlreadyExists, InvalidInput, NotFound, ProofError
from oversight.ledger import cosignature, note
from oversight.witness import protocol

log = logging.getLogger("oversight.witness")

KEY_FILE = "witness.key"
RETIRING_KEY_FILE = "witness.retiring.key"
RETIRED_FILE = "retired-keys.txt"
DB_FILE = "witness.sqlite3"
_SCHEMA = """
CREATE TABLE logs (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL DEFAULT 0,  -- latest cosigned tree size (0: never cosigned)
    root_hash BLOB,                   -- its root hash, NULL if never cosigned
    note TEXT,                        -- the checkpoint with the log's and our signatures
    cosigned_at INTEGER,              -- POSIX seconds of our cosignature
    added_at INTEGER NOT NULL
);
CREATE TABLE log_keys (
    origin TEXT NOT NULL REFERENCES logs(origin),
    vkey TEXT NOT NULL,
    PRIMARY KEY (origin, vkey)
);
"""
# Added after the first data dirs were made: created on open when missing.
_CONFLICTS = """
CREATE TABLE IF NOT EXISTS conflicts (
    origin TEXT NOT NULL REFERENCES logs(origin),
    size INTEGER NOT NULL,            -- the refused checkpoint's size and root
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,               -- as the log signed it
    cosigned_size INTEGER NOT NULL,   -- what we had cosigned when it came
    cosigned_root BLOB,
    status INTEGER NOT NULL,          -- 409 (same size, other root) or 422 (no proof)
    reason TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (origin, size, root_hash)
);
"""
# Only checkpoints the log's key signed are kept, so only the log can fill this; the
# first few prove the point and the cap keeps a misbehaving log from filling our disk.
MAX_CONFLICTS_PER_LOG = 100


@dataclass(frozen=True)
class LogState:
    origin: str
    vkeys: tuple[str, ...]
    size: int
    root_hash: bytes | None
    note: str | None
    cosigned_at: int | None


@dataclass(frozen=True)
class Conflict:
    """A checkpoint the log signed that does not extend the one we cosigned."""

    origin: str
    size: int
    root_hash: bytes
    note: str
    cosigned_size: int
    cosigned_root: bytes | None
    status: int
    reason: str
    seen_at: int


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a cosigned size must survive power loss
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _file_stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a key file is replaced, rewritten or chmod-ed (ctime)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def _read_signer(path: Path) -> cosignature.CosignatureSigner:
    if path.stat().st_mode & 0o077:
        raise InvalidInput(f"{path} is open to others: chmod 600 it")
    signer = note.parse_signer(path.read_text(encoding="utf-8").strip())
    if not isinstance(signer, cosignature.CosignatureSigner):
        raise InvalidInput(f"{path} is not a cosignature/v1 key")
    return signer


def _replace_private(path: Path, text: str) -> None:
    """Write ``path`` (0600) all at once: a new file, fsync, rename over the old one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _retired(data_dir: Path) -> list[str]:
    path = data_dir / RETIRED_FILE
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _opened_keys(data_dir: Path) -> tuple[cosignature.CosignatureSigner, str | None]:
    """The current signer and the retiring key's verifier key (None: no rotation)."""
    with Store(data_dir) as store:
        return store.signer, store.retiring_vkey


def rotate(data_dir: Path, name: str | None = None) -> str:
    """Make a new key current, keeping the previous one as the retiring key (both
    cosign until :func:`retire`); return the new verifier key.

    Never a moment without a key: the old key is first linked as the retiring key,
    then the new one is renamed over ``witness.key``.
    """
    current, retiring = _opened_keys(data_dir)
    if retiring is not None:
        raise AlreadyExists(
            f"a rotation is under way (retiring key {retiring}): retire the previous key"
            " first (oversight witness retire-key)"
        )
    name = current.name if name is None else name
    if not note.is_valid_key_name(name):
        raise InvalidInput(f"invalid witness name {name!r}: must be non-empty, no spaces or '+'")
    skey, vkey = cosignature.generate(name)
    key_path, retiring_path = data_dir / KEY_FILE, data_dir / RETIRING_KEY_FILE
    if retiring_path.exists() and retiring_path.samefile(key_path):
        retiring_path.unlink()  # a rotation stopped between its two steps left this link
    try:
        retiring_path.hardlink_to(key_path)  # fails if another rotation got there first
    except FileExistsError:
        raise AlreadyExists(
            "another rotation is under way: retire the previous key first"
        ) from None
    fsync_dir(data_dir)
    _replace_private(key_path, skey + "\n")
    return vkey


def retire(data_dir: Path) -> str:
    """Delete the retiring private key, recording its verifier key as retired; return it."""
    _, retiring = _opened_keys(data_dir)
    retiring_path = data_dir / RETIRING_KEY_FILE
    if retiring is None:
        raise NotFound("no retiring key: nothing to retire (run `oversight witness rotate-key`)")
    if retiring not in _retired(data_dir):
        # recorded before the private key goes, so a crash between loses nothing
        with (data_dir / RETIRED_FILE).open("a", encoding="utf-8") as f:
            f.write(retiring + "\n")
            f.flush()
            os.fsync(f.fileno())
    retiring_path.unlink()
    fsync_dir(data_dir)
    return retiring


def init(data_dir: Path, name: str) -> str:
    """Create the data dir, key and database; return the witness's verifier key."""
    if not note.is_valid_key_name(name):
        raise InvalidInput(f"invalid witness name {name!r}: must be non-empty, no spaces or '+'")
    if data_dir.exists() and not data_dir.is_dir():
        raise InvalidInput(f"{data_dir} exists and is not a directory")
    if (data_dir / KEY_FILE).exists() or (data_dir / DB_FILE).exists():
        raise AlreadyExists(f"{data_dir} already holds a witness")
    skey, vkey = cosignature.generate(name)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    db = data_dir / DB_FILE
    _write_private(db, "")
    with contextlib.closing(_connect(db)) as conn:
        conn.executescript(_SCHEMA + _CONFLICTS)
    _write_private(data_dir / KEY_FILE, skey + "\n")
    return vkey


class Store:
    """An opened witness data dir: its signer key(s) and its database.

    The key files are read again whenever they change (another process ran
    ``rotate-key`` or ``retire-key``), so a serving witness follows a rotation.
    """

    def __init__(self, data_dir: Path) -> None:
        key_path, db_path = data_dir / KEY_FILE, data_dir / DB_FILE
        if not key_path.is_file() or not db_path.is_file():
            raise NotFound(f"no witness in {data_dir}: run `oversight witness init` first")
        self.data_dir = data_dir
        self._stamp: tuple[tuple[int, int, int, int] | None, ...] = ()
        self._signers: tuple[cosignature.CosignatureSigner, ...] = ()
        self.signers()
        self._conn = _connect(db_path)
        self._conn.executescript(_CONFLICTS)

    def signers(self) -> tuple[cosignature.CosignatureSigner, ...]:
        """The current key, then the retiring one if a rotation is under way."""
        paths = (self.data_dir / KEY_FILE, self.data_dir / RETIRING_KEY_FILE)
        stamp = tuple(_file_stamp(p) for p in paths)
        if stamp != self._stamp:
            try:
                current = _read_signer(paths[0])
                out = [current]
                if paths[1].exists():
                    retiring = _read_signer(paths[1])
                    # the same key: a rotation stopped between its two steps
                    if retiring.key_id != current.key_id or retiring.name != current.name:
                        out.append(retiring)
            except (InvalidInput, ProofError, OSError) as exc:
                if not self._signers:
                    raise  # opening: refuse to start
                # serving: keep cosigning with the keys read before, say so once per change
                log.error(
                    "witness key files changed but cannot be read, keeping the keys in use: %s", exc
                )
                self._stamp = stamp
                return self._signers
            # the stamp taken before reading: a change meanwhile is read next time
            self._signers, self._stamp = tuple(out), stamp
        return self._signers

    @property
    def signer(self) -> cosignature.CosignatureSigner:
        return self.signers()[0]

    @property
    def vkey(self) -> str:
        return self.signer.verifier().encode()

    @property
    def retiring_vkey(self) -> str | None:
        signers = self.signers()
        return signers[1].verifier().encode() if len(signers) > 1 else None

    def retired(self) -> list[str]:
        """The verifier keys retired so far, oldest first."""
        return _retired(self.data_dir)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def add_log(self, origin: str, vkey: str) -> None:
        """Trust ``vkey`` for ``origin`` (a second key for an origin is a key rotation)."""
        try:
            protocol.check_origin(origin)
        except InvalidInput as exc:
            raise InvalidInput(f"invalid origin: {exc}") from None
        verifier = note.parse_verifier(vkey)
        if isinstance(verifier, cosignature.CosignatureVerifier):
            raise InvalidInput("that is a witness cosignature key, not a log's signing key")
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO logs (origin, added_at) VALUES (?, ?)",
                (origin, int(time.time())),
            )
            try:
                conn.execute("INSERT INTO log_keys (origin, vkey) VALUES (?, ?)", (origin, vkey))
            except sqlite3.IntegrityError:
                raise AlreadyExists(
                    f"key {verifier.name} is already trusted for {origin}"
                ) from None

    def log_keys(self, origin: str) -> list[note.Verifier] | None:
        """The verifiers trusted for ``origin``, or None if the origin is unknown."""
        rows = self._conn.execute(
            "SELECT vkey FROM log_keys WHERE origin = ?", (origin,)
        ).fetchall()
        return [note.parse_verifier(v) for (v,) in rows] or None

    def stored(self, origin: str) -> protocol.Stored:
        row = self._conn.execute(
            "SELECT size, root_hash FROM logs WHERE origin = ?", (origin,)
        ).fetchone()
        return protocol.Stored(0, None) if row is None else protocol.Stored(row[0], row[1])

    def advance(
        self, origin: str, old: int, checkpoint: note.Checkpoint, cosigned: str, at: int
    ) -> bool:
        """Store ``cosigned`` if the stored size is still ``old``; False if another won."""
        cur = self._conn.execute(
            "UPDATE logs SET size = ?, root_hash = ?, note = ?, cosigned_at = ?"
            " WHERE origin = ? AND size = ?",
            (checkpoint.size, checkpoint.root_hash, cosigned, at, origin, old),
        )
        return cur.rowcount == 1

    def record_conflict(
        self, origin: str, checkpoint: note.Checkpoint, message: str, refusal: protocol.Refusal
    ) -> bool:
        """Keep a log-signed checkpoint we refused; False if known or over the cap."""
        stored = self.stored(origin)
        with self._tx() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM conflicts WHERE origin = ?", (origin,)
            ).fetchone()
            if count >= MAX_CONFLICTS_PER_LOG:
                return False
            cur = conn.execute(
                "INSERT OR IGNORE INTO conflicts (origin, size, root_hash, note, cosigned_size,"
                " cosigned_root, status, reason, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    origin,
                    checkpoint.size,
                    checkpoint.root_hash,
                    message,
                    stored.size,
                    stored.root_hash,
                    refusal.status,
                    refusal.reason,
                    int(time.time()),
                ),
            )
            return cur.rowcount == 1

    def conflicts(self, origin: str) -> list[Conflict]:
        """The refused log-signed checkpoints of ``origin``, oldest first; NotFound if unknown."""
        if self.log_keys(origin) is None:
            raise NotFound(f"unknown log origin {origin!r}")
        rows = self._conn.execute(
            "SELECT size, root_hash, note, cosigned_size, cosigned_root, status, reason, seen_at"
            " FROM conflicts WHERE origin = ? ORDER BY seen_at, size",
            (origin,),
        ).fetchall()
        return [Conflict(origin, *row) for row in rows]

    def conflict_counts(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT origin, count(*) FROM conflicts GROUP BY origin")
        return {origin: n for origin, n in rows}

    def logs(self) -> list[LogState]:
        rows = self._conn.execute(
            "SELECT origin, size, root_hash, note, cosigned_at FROM logs ORDER BY origin"
        ).fetchall()
        keys: dict[str, list[str]] = {}
        for origin, vkey in self._conn.execute("SELECT origin, vkey FROM log_keys ORDER BY vkey"):
            keys.setdefault(origin, []).append(vkey)
        return [LogState(o, tuple(keys.get(o, ())), s, r, n, c) for o, s, r, n, c in rows]

    def latest(self, origin: str) -> str | None:
        """The newest cosigned checkpoint note of ``origin``; NotFound if unknown."""
        row = self._conn.execute("SELECT note FROM logs WHERE origin = ?", (origin,)).fetchone()
        if row is None:
            raise NotFound(f"unknown log origin {origin!r}")
        cosigned: str | None = row[0]
        return cosigned

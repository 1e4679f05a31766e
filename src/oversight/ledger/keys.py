"""The ledger's signing key on disk: made by ``oversight init``, replaced only by a
rotation.

The key is a C2SP signer key string (``PRIVATE+KEY+<name>+<id>+<key>``) in
``<data dir>/keys/ledger.key``, mode 0600 in a 0700 directory. The key name is the
log's origin, so a checkpoint's signature line names the log it belongs to.

Rotation (``rotate``, then ``retire``) keeps old checkpoints verifiable:

    ledger.key           the current key (signs every checkpoint)
    ledger.retiring.key  the previous key, between rotate and retire: it co-signs every
                         checkpoint, so witnesses and inspectors that know only the old
                         key keep accepting while they add the new one
    retired.pub          every previous verifier key, one a line (public, append-only):
                         checkpoints made before a rotation verify with these
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from oversight.durable import fsync_dir, write_new
from oversight.errors import ConfigError, InvalidInput
from oversight.ledger import note

KEY_FILE = "ledger.key"
RETIRING_FILE = "ledger.retiring.key"
RETIRED_FILE = "retired.pub"


def key_path(keys_dir: Path) -> Path:
    return keys_dir / KEY_FILE


def ensure_key(keys_dir: Path, origin: str) -> bool:
    """Create the signing key unless it exists; True when one was created."""
    path = key_path(keys_dir)
    if path.exists():
        return False
    if not keys_dir.exists():  # an existing directory is the operator's: checked, never chmodded
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys_dir.chmod(0o700)  # mkdir's mode passes through the umask
    skey, _ = note.generate_signer(origin)
    # O_EXCL: two concurrent inits cannot both write, and an existing key is never replaced.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, (skey + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    dir_fd = os.open(keys_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def _read(keys_dir: Path, name: str = KEY_FILE) -> str:
    path = keys_dir / name
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigError(
            f"the ledger signing key {path} does not exist: run `oversight init`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the ledger signing key {path}: {exc.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise ConfigError(f"the ledger signing key {path} is readable by others: chmod 600 it")
    return text


def load_signer(keys_dir: Path) -> note.Signer:
    try:
        return note.parse_signer(_read(keys_dir))
    except InvalidInput:  # the message could echo key material; name only the file
        raise ConfigError(f"the ledger signing key {key_path(keys_dir)} is malformed") from None


def verifier_key(keys_dir: Path) -> str:
    """The public verifier key string that checks this deployment's checkpoints."""
    try:
        return note.derive_verifier_key(_read(keys_dir))
    except InvalidInput:
        raise ConfigError(f"the ledger signing key {key_path(keys_dir)} is malformed") from None


def _parse(keys_dir: Path, name: str) -> note.Signer:
    try:
        return note.parse_signer(_read(keys_dir, name))
    except InvalidInput:
        raise ConfigError(f"the ledger signing key {keys_dir / name} is malformed") from None


def _vkey(keys_dir: Path, name: str) -> str:
    try:
        return note.derive_verifier_key(_read(keys_dir, name))
    except InvalidInput:
        raise ConfigError(f"the ledger signing key {keys_dir / name} is malformed") from None


def load_signers(keys_dir: Path) -> list[note.Signer]:
    """The keys that sign a checkpoint now: the current one, and the retiring one
    between a rotation and its retirement."""
    signers = [_parse(keys_dir, KEY_FILE)]
    if (keys_dir / RETIRING_FILE).exists():
        retiring = _parse(keys_dir, RETIRING_FILE)
        if retiring.key_id != signers[0].key_id:  # a rotation cut short re-signs nothing twice
            signers.append(retiring)
    return signers


class SignerCache:
    """``load_signers`` re-read only when a key file changes: a running recorder signs
    with the new key from the first append after a rotation, at the cost of two stats."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None
        self._signers: list[note.Signer] = []

    def _stat(self, name: str) -> tuple[int, int] | None:
        try:
            st = (self.keys_dir / name).stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def __call__(self) -> list[note.Signer]:
        stamp = (self._stat(KEY_FILE), self._stat(RETIRING_FILE))
        if stamp != self._stamp or not self._signers:
            self._signers = load_signers(self.keys_dir)
            self._stamp = stamp
        return self._signers


def retired_keys(keys_dir: Path) -> list[str]:
    """Every previous verifier key, oldest first."""
    try:
        text = (keys_dir / RETIRED_FILE).read_text()
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def trusted_verifier_keys(keys_dir: Path) -> list[str]:
    """The keys this deployment's checkpoints verify with: current, then previous ones."""
    out = [verifier_key(keys_dir)]
    retiring = retiring_key(keys_dir)
    for vkey in [*([retiring] if retiring else []), *retired_keys(keys_dir)]:
        if vkey not in out:
            out.append(vkey)
    return out


def retiring_key(keys_dir: Path) -> str | None:
    """The retiring key's verifier key, between rotate and retire."""
    if len(load_signers(keys_dir)) < 2:
        return None
    return _vkey(keys_dir, RETIRING_FILE)


def rotate(keys_dir: Path) -> tuple[str, str]:
    """Make a new current key; the old one co-signs until ``retire``. (old, new) vkeys.

    Order, so a crash at any point leaves a usable, verifiable state: the old key is
    copied to the retiring file and named in retired.pub before the new key replaces
    the current one by an atomic rename."""
    current = _read(keys_dir)
    old = _parse(keys_dir, KEY_FILE)
    retiring = keys_dir / RETIRING_FILE
    if retiring.exists():
        if _parse(keys_dir, RETIRING_FILE).key_id != old.key_id:
            raise InvalidInput(
                "a previous key is still retiring: run `oversight ledger retire-key` first"
            )
    else:
        write_new(retiring, current + "\n")
    old_vkey = _vkey(keys_dir, KEY_FILE)
    if old_vkey not in retired_keys(keys_dir):
        with (keys_dir / RETIRED_FILE).open("a", encoding="utf-8") as f:
            f.write(old_vkey + "\n")
            f.flush()
            os.fsync(f.fileno())
        (keys_dir / RETIRED_FILE).chmod(0o600)  # public, but the keys dir stays private
    skey, new_vkey = note.generate_signer(old.name)
    fresh = keys_dir / (KEY_FILE + ".new")
    fresh.unlink(missing_ok=True)  # a crashed rotation's leftover, never in use
    write_new(fresh, skey + "\n")
    fresh.replace(key_path(keys_dir))
    fsync_dir(keys_dir)
    return old_vkey, new_vkey


def retire(keys_dir: Path) -> str:
    """Delete the retiring private key (its public key stays in retired.pub)."""
    path = keys_dir / RETIRING_FILE
    if not path.exists():
        raise InvalidInput("no key is retiring: `oversight ledger rotate-key` first")
    vkey = _vkey(keys_dir, RETIRING_FILE)
    path.unlink()
    fsync_dir(keys_dir)
    return vkey

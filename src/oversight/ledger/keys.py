"""The ledger's signing key on disk: made once by ``oversight init``, never overwritten.

The key is a C2SP signer key string (``PRIVATE+KEY+<name>+<id>+<key>``) in
``<data dir>/keys/ledger.key``, mode 0600 in a 0700 directory. The key name is the
log's origin, so a checkpoint's signature line names the log it belongs to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from oversight.errors import ConfigError, InvalidInput
from oversight.ledger import note

KEY_FILE = "ledger.key"


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


def _read(keys_dir: Path) -> str:
    path = key_path(keys_dir)
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

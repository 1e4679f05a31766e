"""C2SP tlog-cosignature v1 with Ed25519 (signature type 0x04), as a note key type.

A cosignature is a note signature line on a checkpoint (c2sp.org/tlog-cosignature):

    key id    = SHA-256(name || "\\n" || 0x04 || 32-byte public key)[:4]
    signature = u64 timestamp (big-endian) || Ed25519 signature[64]
    message   = "cosignature/v1\\n" "time " decimal(timestamp) "\\n" || checkpoint note body

So a witness's key is an ordinary note key of type 0x04: :func:`note.parse_verifier`
and :func:`note.parse_signer` read it once this module is imported (it registers the
type), :func:`note.open_note` verifies cosignatures among the log's own signatures, and
:func:`note.sign_note` adds one. The signer stamps the time itself (``clock``, POSIX
seconds); :func:`cosigned_at` reads it back from a signature. Pure but for the clock and
key generation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import note

ALG_COSIGNATURE_V1 = 0x04
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
SIGNATURE_BYTES = 8 + 64


def signed_message(body: bytes, timestamp: int) -> bytes:
    """What a v1 cosignature signs: the header, the time line, the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidInput(f"cosignature timestamp {timestamp} out of range")
    return HEADER + b"time " + str(timestamp).encode() + b"\n" + body


def cosigned_at(signature: bytes) -> int:
    """The POSIX time a cosignature (the bytes after its key id) says it was made."""
    if len(signature) != SIGNATURE_BYTES:
        raise ProofError(f"cosignature is {len(signature)} bytes, want {SIGNATURE_BYTES}")
    return int.from_bytes(signature[:8], "big")


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's Ed25519 public key under its name (signature type 0x04)."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not note.is_valid_key_name(self.name):
            raise InvalidInput(f"invalid key name {self.name!r}")
        if len(self.public_key) != 32:
            raise InvalidInput(f"Ed25519 public key is {len(self.public_key)} bytes, want 32")
        try:
            key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise InvalidInput(f"invalid Ed25519 public key: {exc}") from exc
        object.__setattr__(self, "_key", key)
        key_id = note.compute_key_id(self.name, ALG_COSIGNATURE_V1, self.public_key)
        object.__setattr__(self, "key_id", key_id)

    def verify(self, text: bytes, signature: bytes) -> None:
        failure = ProofError(f"invalid cosignature for key {self.name}+{self.key_id:08x}")
        if len(signature) != SIGNATURE_BYTES:
            raise failure
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise failure
        try:
            self._key.verify(signature[8:], signed_message(text, timestamp))
        except InvalidSignature:
            raise failure from None

    def encode(self) -> str:
        return note.format_verifier_key(self.name, ALG_COSIGNATURE_V1, self.public_key)


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's Ed25519 private key (32-byte seed); ``clock`` gives POSIX seconds."""

    name: str
    seed: bytes = field(repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    key_id: int = field(init=False)
    public_key: bytes = field(init=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not note.is_valid_key_name(self.name):
            raise InvalidInput(f"invalid key name {self.name!r}")
        if len(self.seed) != 32:
            raise InvalidInput(f"Ed25519 seed is {len(self.seed)} bytes, want 32")
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        public = key.public_key().public_bytes_raw()
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "public_key", public)
        key_id = note.compute_key_id(self.name, ALG_COSIGNATURE_V1, public)
        object.__setattr__(self, "key_id", key_id)

    def sign(self, text: bytes) -> bytes:
        return self.sign_at(text, int(self.clock()))

    def sign_at(self, text: bytes, timestamp: int) -> bytes:
        message = signed_message(text, timestamp)
        return timestamp.to_bytes(8, "big") + self._key.sign(message)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)


def _public(seed: bytes) -> bytes:
    if len(seed) != 32:
        raise InvalidInput(f"Ed25519 seed is {len(seed)} bytes, want 32")
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _generate() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()


def generate(name: str) -> tuple[str, str]:
    """A fresh witness key pair as (signer key string, verifier key string)."""
    return note.generate_signer(name, ALG_COSIGNATURE_V1)


note.register_key_type(
    note.KeyType(
        ALG_COSIGNATURE_V1,
        "Ed25519 cosignature/v1",
        CosignatureVerifier,
        lambda name, seed: CosignatureSigner(name, seed),
        _public,
        _generate,
    )
)

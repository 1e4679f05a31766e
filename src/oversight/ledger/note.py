"""C2SP signed-note and tlog-checkpoint, with Ed25519 keys.

Formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint, Go's sumdb/note keys)::

    note      = text "\\n" 1*("— " name " " base64(key_id[4] || signature) "\\n")
    key id    = SHA-256(name || "\\n" || alg || public key)[:4], big-endian uint32
    vkey      = name "+" hex8(key id) "+" base64(alg || public key)
    skey      = "PRIVATE+KEY+" name "+" hex8(key id) "+" base64(alg || private key)
    checkpoint text = origin "\\n" size "\\n" base64(root) "\\n" *(extension "\\n")

Key types are pluggable through :func:`register_key_type`, keyed by the
signature type byte; only Ed25519 (0x01) is implemented. Everything is pure
except key generation, which draws randomness.

Malformed or unverifiable notes and checkpoints raise ProofError; malformed keys
and bad arguments to the signing side raise InvalidInput.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from oversight.errors import InvalidInput, ProofError

ALG_ED25519 = 0x01
# c2sp.org/tlog-cosignature assigns 0x06 to ML-DSA-44 cosignatures (which sign a
# binary cosigned_message, not the note text). Not implemented; reserved here.
ALG_ML_DSA_44_COSIGNATURE = 0x06

MAX_SIGNATURES = 100  # the spec requires at least 16; Go's note package stops at 100
MAX_TREE_SIZE = 2**63 - 1  # int64, as Go's tlog and most checkpoint readers parse it
SIG_PREFIX = "— "  # U+2014 em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than "\n"


# --- keys ----------------------------------------------------------------------------------


class Verifier(Protocol):
    """A known public key. ``verify`` receives the full note text and raises ProofError."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None: ...


class Signer(Protocol):
    """A private key that signs note texts."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeyType:
    """One signature type: how to build verifiers and signers from raw key material."""

    alg: int
    label: str
    verifier: Callable[[str, bytes], Verifier]  # (name, public key) -> Verifier
    signer: Callable[[str, bytes], Signer]  # (name, private key) -> Signer
    public_key: Callable[[bytes], bytes]  # private key -> public key
    generate: Callable[[], bytes]  # -> fresh private key


def is_valid_key_name(name: str) -> bool:
    """Non-empty, and no Unicode space, '+' or control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in name)
    )


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise InvalidInput(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")


def compute_key_id(name: str, alg: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || alg || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Ed25519Verifier:
    """An Ed25519 public key under a name (signature type 0x01)."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise InvalidInput(f"Ed25519 public key is {len(self.public_key)} bytes, want 32")
        try:
            key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise InvalidInput(f"invalid Ed25519 public key: {exc}") from exc
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "key_id", compute_key_id(self.name, ALG_ED25519, self.public_key))

    def verify(self, text: bytes, signature: bytes) -> None:
        failure = ProofError(f"invalid signature for key {self.name}+{self.key_id:08x}")
        if len(signature) != 64:
            raise failure
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            raise failure from None

    def encode(self) -> str:
        """The verifier key string ``name+keyid+base64(0x01||pubkey)``."""
        return format_verifier_key(self.name, ALG_ED25519, self.public_key)


@dataclass(frozen=True)
class Ed25519Signer:
    """An Ed25519 private key (32-byte RFC 8032 seed) under a name."""

    name: str
    seed: bytes = field(repr=False)
    key_id: int = field(init=False)
    public_key: bytes = field(init=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise InvalidInput(f"Ed25519 seed is {len(self.seed)} bytes, want 32")
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        public = key.public_key().public_bytes_raw()
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", compute_key_id(self.name, ALG_ED25519, public))

    def sign(self, text: bytes) -> bytes:
        return self._key.sign(text)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)


def _ed25519_public(seed: bytes) -> bytes:
    if len(seed) != 32:
        raise InvalidInput(f"Ed25519 seed is {len(seed)} bytes, want 32")
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _ed25519_generate() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes_raw()


_KEY_TYPES: dict[int, KeyType] = {
    ALG_ED25519: KeyType(
        ALG_ED25519, "Ed25519", Ed25519Verifier, Ed25519Signer, _ed25519_public, _ed25519_generate
    ),
}


def register_key_type(key_type: KeyType) -> None:
    """Make another signature type (e.g. ML-DSA-44) known to the key parsers."""
    if key_type.alg in _KEY_TYPES:
        raise InvalidInput(f"signature type 0x{key_type.alg:02x} is already registered")
    _KEY_TYPES[key_type.alg] = key_type


def _key_type(alg: int) -> KeyType:
    try:
        return _KEY_TYPES[alg]
    except KeyError:
        raise InvalidInput(f"unknown signature type 0x{alg:02x}") from None


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64: alphabet, padding and canonical trailing bits."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def format_verifier_key(name: str, alg: int, public_key: bytes) -> str:
    _check_name(name)
    key_id = compute_key_id(name, alg, public_key)
    return f"{name}+{key_id:08x}+{_b64encode(bytes([alg]) + public_key)}"


def format_signer_key(name: str, alg: int, private_key: bytes) -> str:
    _check_name(name)
    key_id = compute_key_id(name, alg, _key_type(alg).public_key(private_key))
    return f"{_PRIVATE_PREFIX}{name}+{key_id:08x}+{_b64encode(bytes([alg]) + private_key)}"


def _split_key(text: str, what: str) -> tuple[str, int, int, bytes]:
    """Split ``name+hex8+base64(alg||key)`` into (name, key id, alg, key)."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidInput(f"malformed {what}: want name+keyid+key")
    name, hex_id, b64 = parts
    raw = _b64decode(b64)
    if not is_valid_key_name(name) or not _KEY_ID_RE.fullmatch(hex_id) or not raw:
        raise InvalidInput(f"malformed {what}")
    return name, int(hex_id, 16), raw[0], raw[1:]


def parse_verifier(vkey: str) -> Verifier:
    """Parse a verifier key ``name+keyid+base64(alg||pubkey)``; the key id must match."""
    name, key_id, alg, public = _split_key(vkey, "verifier key")
    verifier = _key_type(alg).verifier(name, public)
    if verifier.key_id != key_id:
        raise InvalidInput(f"verifier key id {key_id:08x} does not match its key")
    return verifier


def parse_signer(skey: str) -> Signer:
    """Parse a signer key ``PRIVATE+KEY+name+keyid+base64(alg||private)``."""
    if not skey.startswith(_PRIVATE_PREFIX):
        raise InvalidInput("malformed signer key: want PRIVATE+KEY+name+keyid+key")
    name, key_id, alg, private = _split_key(skey[len(_PRIVATE_PREFIX) :], "signer key")
    signer = _key_type(alg).signer(name, private)
    if signer.key_id != key_id:
        raise InvalidInput(f"signer key id {key_id:08x} does not match its key")
    return signer


def derive_verifier_key(skey: str) -> str:
    """The verifier key string that matches a signer key string."""
    parse_signer(skey)  # validates prefix, name, key id and key material
    name, _, alg, private = _split_key(skey[len(_PRIVATE_PREFIX) :], "signer key")
    return format_verifier_key(name, alg, _key_type(alg).public_key(private))


def generate_signer(name: str, alg: int = ALG_ED25519) -> tuple[str, str]:
    """A fresh key pair as (signer key string, verifier key string)."""
    _check_name(name)
    key_type = _key_type(alg)
    private = key_type.generate()
    return (
        format_signer_key(name, alg, private),
        format_verifier_key(name, alg, key_type.public_key(private)),
    )


# --- notes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key id, and the signature bytes after the key id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {_b64encode(raw)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures known keys verified, and the others."""

    text: str
    sigs: tuple[Signature, ...]
    unverified_sigs: tuple[Signature, ...] = ()


def _check_text(text: str) -> str | None:
    """Why ``text`` is not a well-formed note text, or None."""
    if not text.endswith("\n"):
        return "note text must end with a newline"
    if _CONTROL_RE.search(text):
        return "note contains an ASCII control character other than newline"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "note is not valid UTF-8"
    return None


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise ProofError("malformed note: signature line does not start with '— '")
    name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
    raw = _b64decode(b64) if sep else None
    if not is_valid_key_name(name) or raw is None or len(raw) < 5:
        raise ProofError("malformed note: bad signature line")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and verify it against the known ``verifiers``.

    Signatures from unknown keys (name and key id not both known) are kept
    unverified. A signature from a known key that fails, or a note no known key
    signed, raises ProofError.
    """
    # 1. UTF-8, no control characters but newline.
    if isinstance(message, bytes):
        try:
            message = message.decode()
        except UnicodeDecodeError:
            raise ProofError("malformed note: not valid UTF-8") from None
    problem = _check_text(message)
    if problem:
        raise ProofError(f"malformed note: {problem}")
    # 2. The text ends at the last blank line; signature lines follow it.
    split = message.rfind("\n\n")
    if split < 0:
        raise ProofError("malformed note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block:
        raise ProofError("malformed note: no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ProofError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signatures = [_parse_signature_line(line) for line in lines]
    # 3. Index known keys by (name, key id); two different keys there is a config error.
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if other is not v and other != v:
            raise ProofError(f"ambiguous verifier key {v.name}+{v.key_id:08x}")
    # 4. Verify every signature by a known key; keep the rest, once each.
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    body = text.encode()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.setdefault(sig)
            continue
        verifier.verify(body, sig.signature)
        verified.setdefault((sig.name, sig.key_id), sig)
    # 5. At least one known key must have signed.
    if not verified:
        raise ProofError("note has no signature from a known key")
    return Note(text, tuple(verified.values()), tuple(unverified))


def sign_note(body: str, signers: Sequence[Signer], existing: Sequence[Signature] = ()) -> str:
    """Sign ``body`` and return the note text.

    ``existing`` signatures (e.g. from :func:`open_note`) come first, except those
    replaced by a signer with the same name and key id.
    """
    problem = _check_text(body)
    if problem:
        raise InvalidInput(problem)
    keys = {(s.name, s.key_id) for s in signers}
    if len(keys) != len(signers):
        raise InvalidInput("two signers share a key name and id")
    kept = [s for s in existing if (s.name, s.key_id) not in keys]
    if not 1 <= len(kept) + len(signers) <= MAX_SIGNATURES:
        raise InvalidInput(f"a note needs 1 to {MAX_SIGNATURES} signatures")
    for name in [s.name for s in kept] + [s.name for s in signers]:
        _check_name(name)
    message = body.encode()
    new = [Signature(s.name, s.key_id, s.sign(message)) for s in signers]
    return body + "\n" + "".join(sig.line() for sig in [*kept, *new])


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note text: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _checkpoint_problem(self)
        if problem:
            raise InvalidInput(problem)

    def format(self) -> str:
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (without signatures); raises ProofError."""
        problem = _check_text(text)
        if problem:
            raise ProofError(f"malformed checkpoint: {problem}")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ProofError("malformed checkpoint: want origin, size and root hash lines")
        origin, size, root, *extensions = lines
        if not _TREE_SIZE_RE.fullmatch(size):
            raise ProofError(f"malformed checkpoint: bad tree size {size!r}")
        root_hash = _b64decode(root)
        if root_hash is None:
            raise ProofError("malformed checkpoint: root hash is not canonical base64")
        try:
            return cls(origin, int(size), root_hash, tuple(extensions))
        except InvalidInput as exc:
            raise ProofError(f"malformed checkpoint: {exc}") from None


def _checkpoint_problem(cp: Checkpoint) -> str | None:
    for label, line in [("origin", cp.origin), *(("extension line", e) for e in cp.extensions)]:
        if not line:
            return f"{label} must not be empty"
        if "\n" in line or _CONTROL_RE.search(line):
            return f"{label} contains a control character"
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            return f"{label} is not valid Unicode text (lone surrogate)"
    if not 0 <= cp.size <= MAX_TREE_SIZE:
        return f"tree size {cp.size} out of range"
    if len(cp.root_hash) != 32:
        return f"root hash is {len(cp.root_hash)} bytes, want 32"
    return None


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> str:
    """The signed checkpoint note."""
    return sign_note(checkpoint.format(), signers)


def open_checkpoint(
    message: str | bytes, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """Open a signed checkpoint; with ``origin``, the checkpoint must be from that log."""
    note = open_note(message, verifiers)
    checkpoint = Checkpoint.parse(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise ProofError(f"checkpoint is from {checkpoint.origin!r}, want {origin!r}")
    return checkpoint, note

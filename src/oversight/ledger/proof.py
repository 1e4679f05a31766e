"""C2SP tlog-proof@v1: an offline-verifiable proof that an entry is in the log.

Layout (https://c2sp.org/tlog-proof)::

    c2sp.org/tlog-proof@v1
    extra <base64 of the leaf's canonical bytes>      (optional)
    index <N>
    <base64 proof hash>                               (zero or more, leaf to root)

    <signed checkpoint, verbatim>

Oversight puts the leaf bytes in ``extra`` so one file carries everything; the
verifier recomputes the leaf hash from them, so they need no trust of their own.
Verification trusts only the signed checkpoint, never a size or root carried elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oversight.errors import ProofError
from oversight.ledger import merkle, note

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX_RE = re.compile(r"index (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class TlogProof:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None

    def format(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ProofError(f"malformed proof: {what} is not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ProofError(f"malformed proof: {what} is not canonical base64")
    return raw


def parse(text: str) -> TlogProof:
    """Parse a tlog-proof; raises ProofError naming the first problem."""
    head, sep, checkpoint = text.partition("\n\n")
    if not sep or not checkpoint:
        raise ProofError("malformed proof: no blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofError(f"malformed proof: the first line must be {HEADER!r}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest[0][len("extra ") :], "the extra line")
        rest = rest[1:]
    if not rest or not _INDEX_RE.fullmatch(rest[0]):
        raise ProofError("malformed proof: want an 'index N' line")
    index = int(rest[0].split(" ")[1])
    hashes = tuple(_b64(line, f"proof line {i + 1}") for i, line in enumerate(rest[1:]))
    return TlogProof(index, hashes, checkpoint, extra)


def verify(
    text: str,
    verifiers: Iterable[note.Verifier],
    *,
    origin: str | None = None,
    leaf_data: bytes | None = None,
) -> tuple[note.Checkpoint, bytes]:
    """Check a tlog-proof; returns the checkpoint and the leaf bytes it proves.

    1. Parse the proof. 2. Open the checkpoint with the trusted keys (and origin).
    3. Take the leaf bytes from ``leaf_data`` or the extra line. 4. Verify the
    inclusion of their leaf hash at the index against the *signed* size and root.
    """
    proof = parse(text)
    checkpoint, _ = note.open_checkpoint(proof.checkpoint, verifiers, origin=origin)
    data = leaf_data if leaf_data is not None else proof.extra
    if data is None:
        raise ProofError("the proof carries no leaf bytes: pass the leaf file")
    if leaf_data is not None and proof.extra is not None and proof.extra != leaf_data:
        raise ProofError("the leaf file differs from the leaf bytes inside the proof")
    merkle.verify_inclusion(
        proof.index,
        checkpoint.size,
        merkle.leaf_hash(data),
        list(proof.proof),
        checkpoint.root_hash,
    )
    return checkpoint, data


def make(index: int, proof: Sequence[bytes], checkpoint: str, leaf_data: bytes | None) -> str:
    """The proof's text; without ``leaf_data`` no extra line (the leaf is given apart)."""
    return TlogProof(index, tuple(proof), checkpoint, leaf_data).format()

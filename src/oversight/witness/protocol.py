"""The add-checkpoint request of c2sp.org/tlog-witness: parse it and decide, purely.

Request body::

    "old " size "\\n"
    *(base64(hash) "\\n")        ; the consistency proof, at most 63 lines
    "\\n"
    signed checkpoint note

Every refusal is a :class:`Refusal` carrying the HTTP status the spec gives:
400 malformed, 403 no trusted signature, 404 unknown origin, 409 stale old size
(body: the cosigned size) or same size with another root, 422 failing proof.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import merkle, note

MAX_PROOF_LINES = 63  # the spec: a client MUST NOT send more
DEFAULT_MAX_BODY_BYTES = 1 << 20  # a checkpoint, 63 hashes and 100 signatures fit in ~20 KiB
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_RE = re.compile(rb"old (0|[1-9][0-9]{0,18})")


@dataclass
class Refusal(Exception):  # not frozen: raising sets attributes on exceptions
    """The witness does not cosign: an HTTP status, a one-line reason, maybe a size."""

    status: int
    reason: str
    size: int | None = None  # for 409 on a stale old size: the latest cosigned size
    # A checkpoint the log's key signed that cannot extend what was cosigned: worth
    # keeping, since two signed heads that do not fit are the log's own word on a fork.
    conflict: bool = False

    def __str__(self) -> str:
        return self.reason

    @property
    def content_type(self) -> str:
        return SIZE_CONTENT_TYPE if self.size is not None else "text/plain; charset=utf-8"

    @property
    def body(self) -> bytes:
        if self.size is not None:
            return f"{self.size}\n".encode()
        return (self.reason + "\n").encode()


@dataclass(frozen=True)
class Request:
    """A well-formed add-checkpoint request (signatures not yet checked)."""

    old: int
    proof: tuple[bytes, ...]
    message: str  # the signed checkpoint note
    checkpoint: note.Checkpoint  # parsed from its text, unverified


@dataclass(frozen=True)
class Stored:
    """What the witness last cosigned for one origin (size 0, no root, if never)."""

    size: int
    root_hash: bytes | None


def _bad(reason: str) -> Refusal:
    return Refusal(400, reason)


def _hash_line(line: bytes) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("malformed consistency proof line: not base64") from None
    if base64.b64encode(raw) != line:
        raise _bad("malformed consistency proof line: not canonical base64")
    if len(raw) != 32:
        raise _bad(f"consistency proof hash is {len(raw)} bytes, want 32")
    return raw


def parse_request(body: bytes) -> Request:
    """Parse an add-checkpoint body; raises Refusal(400) naming the first problem."""
    head, sep, rest = body.partition(b"\n")
    if not sep:
        raise _bad("malformed body: no old size line")
    match = _OLD_RE.fullmatch(head)
    if match is None:
        raise _bad("malformed old size line: want 'old <size>', decimal, no leading zeroes")
    old = int(match.group(1))
    if old > note.MAX_TREE_SIZE:
        raise _bad(f"old size {old} out of range")
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition(b"\n")
        if not sep:
            raise _bad("malformed body: no blank line before the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise _bad(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_hash_line(line))
    message = _note_text(rest)
    return Request(old, tuple(proof), message, _checkpoint_of(message))


def _note_text(raw: bytes) -> str:
    try:
        message = raw.decode()
    except UnicodeDecodeError:
        raise _bad("malformed checkpoint: not valid UTF-8") from None
    # With no keys, a well-formed note fails only for want of a known signature.
    try:
        note.open_note(message, ())
    except ProofError as exc:
        if str(exc).startswith("malformed"):
            raise _bad(str(exc)) from None
    return message


def _checkpoint_of(message: str) -> note.Checkpoint:
    text = message[: message.rfind("\n\n") + 1]
    try:
        return note.Checkpoint.parse(text)
    except ProofError as exc:
        raise _bad(str(exc)) from None


def check_origin(origin: str) -> None:
    """An origin line a checkpoint can carry; raises InvalidInput."""
    note.Checkpoint(origin, 0, bytes(32))


def decide(request: Request, log_keys: Sequence[note.Verifier] | None, stored: Stored) -> note.Note:
    """Check a request against the log's keys and the stored state, in the spec's order.

    ``log_keys`` is None for an unknown origin. Returns the opened note (its
    verified and other signatures) to cosign; raises Refusal otherwise.
    """
    cp = request.checkpoint
    if log_keys is None:
        raise Refusal(404, f"unknown log origin {cp.origin!r}")
    try:
        _, opened = note.open_checkpoint(request.message, log_keys, origin=cp.origin)
    except ProofError as exc:
        raise Refusal(403, f"checkpoint not signed by a key trusted for this log: {exc}") from None
    if request.old > cp.size:
        raise _bad(f"old size {request.old} is larger than the checkpoint size {cp.size}")
    if request.old != stored.size:
        raise Refusal(
            409,
            f"old size {request.old} is not the latest cosigned size {stored.size}",
            size=stored.size,
        )
    old_root = merkle.EMPTY_ROOT if stored.root_hash is None else stored.root_hash
    if request.old == 0 and request.proof:
        raise _bad("the consistency proof must be empty when the old size is 0")
    if request.old == cp.size:
        if request.proof:
            raise Refusal(422, "consistency proof between equal tree sizes must be empty")
        if cp.root_hash != old_root:
            raise Refusal(
                409,
                f"tree size {cp.size} already cosigned with another root hash",
                stored.size,
                conflict=True,
            )
        return opened
    try:
        merkle.verify_consistency(request.old, cp.size, old_root, cp.root_hash, request.proof)
    except (ProofError, InvalidInput) as exc:
        raise Refusal(422, f"consistency proof does not verify: {exc}", conflict=True) from None
    return opened

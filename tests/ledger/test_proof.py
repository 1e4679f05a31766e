"""C2SP tlog-proof@v1: format, parsing and offline verification (pure, no database)."""

from __future__ import annotations

import pytest

from oversight.errors import ProofError
from oversight.ledger import merkle, note, proof

ORIGIN = "example.org/log"


def _log(n: int) -> tuple[list[bytes], str, note.Verifier]:
    skey, vkey = note.generate_signer(ORIGIN)
    entries = [f"entry {i}".encode() for i in range(n)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    signed = note.sign_checkpoint(
        note.Checkpoint(ORIGIN, n, merkle.root_hash(hashes)), [note.parse_signer(skey)]
    )
    return entries, signed, note.parse_verifier(vkey)


def _proof(entries: list[bytes], signed: str, index: int) -> str:
    hashes = [merkle.leaf_hash(e) for e in entries]
    path = merkle.inclusion_proof(index, len(entries), hashes)
    return proof.make(index, path, signed, entries[index])


@pytest.mark.parametrize("index", [0, 3, 6])
def test_round_trip_for_every_position(index: int) -> None:
    entries, signed, verifier = _log(7)
    text = _proof(entries, signed, index)
    checkpoint, data = proof.verify(text, [verifier], origin=ORIGIN)
    assert data == entries[index] and checkpoint.size == 7
    parsed = proof.parse(text)
    assert parsed.index == index and parsed.checkpoint == signed and parsed.format() == text


def test_leaf_bytes_may_come_from_a_file_but_must_match_the_proof() -> None:
    entries, signed, verifier = _log(4)
    text = _proof(entries, signed, 2)
    proof.verify(text, [verifier], leaf_data=entries[2])
    with pytest.raises(ProofError, match="differs"):
        proof.verify(text, [verifier], leaf_data=entries[1])
    bare = proof.TlogProof(2, proof.parse(text).proof, signed).format()
    with pytest.raises(ProofError, match="no leaf bytes"):
        proof.verify(bare, [verifier])
    proof.verify(bare, [verifier], leaf_data=entries[2])


def test_the_signed_checkpoint_is_the_only_source_of_size_and_root() -> None:
    entries, signed, verifier = _log(4)
    text = _proof(entries, signed, 1)
    forged = text.replace("\n4\n", "\n5\n")  # a size not covered by the signature
    with pytest.raises(ProofError):
        proof.verify(forged, [verifier])
    with pytest.raises(ProofError, match="checkpoint is from"):
        proof.verify(text, [verifier], origin="other.org/log")
    _, _, stranger = _log(1)
    with pytest.raises(ProofError):
        proof.verify(text, [stranger])


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "first line"),
        (lambda t: t.replace("\nindex 1\n", "\nindex 01\n"), "index"),
        (lambda t: t.replace("\nindex 1\n", "\n"), "index"),
        (lambda t: t.replace("\n\n", "\n", 1), "malformed proof"),
        (lambda t: t.split("\n\n")[0], "blank line"),
        (lambda t: t.replace("extra ", "extra !"), "base64"),
    ],
)
def test_malformed_proofs_are_named(mangle: object, message: str) -> None:
    entries, signed, verifier = _log(4)
    text = _proof(entries, signed, 1)
    assert callable(mangle)
    with pytest.raises(ProofError, match=message):
        proof.verify(mangle(text), [verifier])

"""C2SP tlog-cosignature v1 (Ed25519): the key type, checked against the spec with an
independent implementation written here from c2sp.org/tlog-cosignature (hashlib and
``cryptography`` only)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oversight.errors import ProofError
from oversight.ledger import cosignature, note

BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def _spec_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]


def test_a_cosignature_matches_the_spec_byte_for_byte() -> None:
    seed = bytes(range(32))
    signer = cosignature.CosignatureSigner("witness.example/w1", seed, clock=lambda: 1679315147)
    signed = note.sign_note(BODY, [signer])
    line = signed.split("\n\n", 1)[1].strip()
    assert line.startswith("— witness.example/w1 ")
    raw = base64.b64decode(line.split(" ", 2)[2])
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    assert raw[:4] == _spec_key_id("witness.example/w1", public.public_bytes_raw())
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + BODY.encode()
    public.verify(raw[12:], message)  # raises if not the spec's message


def test_an_independently_made_cosignature_verifies_through_the_note_parser() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    name = "court.example/witness"
    stamp = 1_800_000_000
    sig = private.sign(b"cosignature/v1\ntime " + str(stamp).encode() + b"\n" + BODY.encode())
    raw = _spec_key_id(name, public) + stamp.to_bytes(8, "big") + sig
    text = BODY + "\n" + f"— {name} {base64.b64encode(raw).decode()}\n"
    vkey = (
        f"{name}+{_spec_key_id(name, public).hex()}+" + base64.b64encode(b"\x04" + public).decode()
    )
    verifier = note.parse_verifier(vkey)
    opened = note.open_note(text, [verifier])
    assert [s.name for s in opened.sigs] == [name]
    assert cosignature.cosigned_at(opened.sigs[0].signature) == stamp


def test_a_changed_time_or_body_fails() -> None:
    skey, vkey = cosignature.generate("w.example/1")
    signer = note.parse_signer(skey)
    verifier = note.parse_verifier(vkey)
    signed = note.sign_note(BODY, [signer])
    note.open_note(signed, [verifier])
    with pytest.raises(ProofError):
        note.open_note(signed.replace("20852163", "20852164"), [verifier])
    body, sigline = signed.split("\n\n")
    name, b64 = sigline.strip().removeprefix("— ").split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[11] ^= 1  # the timestamp's last byte
    forged = f"{body}\n\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(ProofError):
        note.open_note(forged, [verifier])

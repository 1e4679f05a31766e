"""C2SP signed notes and checkpoints: known answers from Go and sum.golang.org, and rules."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import note
from oversight.ledger.note import (
    ALG_ED25519,
    Checkpoint,
    Ed25519Signer,
    KeyType,
    Signature,
    compute_key_id,
    derive_verifier_key,
    generate_signer,
    open_checkpoint,
    open_note,
    parse_signer,
    parse_verifier,
    register_key_type,
    sign_checkpoint,
    sign_note,
)

# --- known answers: golang.org/x/mod/sumdb/note note_test.go --------------------------------

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01o"
    "OTGwnWLox33WWd1RvMc+QQ=\n"
)

# --- known answers: sum.golang.org, the Go checksum database (its published key) ---------

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINTS = [
    "go.sum database tree\n63512409\nF7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=\n\n"
    "— sum.golang.org Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGApUsWqwVG9vE6hgqYb"
    "/ph/w2vdkLIVRH7bMB/FPQ4=\n",
    "go.sum database tree\n15368405\n/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=\n\n"
    "— sum.golang.org Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/p96Ybf295Ejw"
    "dSwlzgijq5WA9d1Ded7owM=\n",
]

# The example note of c2sp.org/signed-note (its key is not published): a text with a
# blank line inside it.
QUASIMODO_TEXT = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
)
QUASIMODO_SIG = (
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJ"
    "KONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)


def test_go_sign_known_answer() -> None:
    assert sign_note(GO_TEXT, [parse_signer(PETER_SKEY)]) == GO_TEXT + "\n" + PETER_SIG


def test_go_keys_agree() -> None:
    signer, verifier = parse_signer(PETER_SKEY), parse_verifier(PETER_VKEY)
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_id == verifier.key_id == 0xC74F20A3
    assert derive_verifier_key(PETER_SKEY) == PETER_VKEY


def test_key_id_is_the_spec_formula() -> None:
    public = base64.b64decode(PETER_VKEY.split("+", 2)[2])[1:]
    digest = hashlib.sha256(b"PeterNeumann" + b"\n" + b"\x01" + public).digest()
    assert compute_key_id("PeterNeumann", ALG_ED25519, public) == int.from_bytes(digest[:4], "big")
    assert digest[:4].hex() == "c74f20a3"


def test_go_open_one_known_one_unknown() -> None:
    opened = open_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, [parse_verifier(PETER_VKEY)])
    assert opened.text == GO_TEXT
    assert [(s.name, s.key_id) for s in opened.sigs] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in opened.unverified_sigs] == [("EnochRoot", 0xAF0CFE78)]
    assert opened.unverified_sigs[0].line() == ENOCH_SIG


def test_go_open_both_known_key_rotation() -> None:
    # Two signatures, as during a key rotation: either key alone verifies the note.
    message = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    peter, enoch = parse_verifier(PETER_VKEY), parse_verifier(ENOCH_VKEY)
    assert len(open_note(message, [peter, enoch]).sigs) == 2
    assert open_note(message, [enoch]).sigs[0].name == "EnochRoot"
    assert open_note(message, [peter]).sigs[0].name == "PeterNeumann"


def test_go_open_without_known_keys_fails() -> None:
    with pytest.raises(ProofError, match="no signature from a known key"):
        open_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_go_corrupted_signature_fails() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(ProofError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(GO_TEXT + "\n" + bad, [parse_verifier(PETER_VKEY)])


def test_go_duplicates_are_kept_once() -> None:
    message = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG
    opened = open_note(message, [parse_verifier(PETER_VKEY)])
    assert len(opened.sigs) == 1
    assert len(opened.unverified_sigs) == 1


def test_every_known_signature_is_checked() -> None:
    # Go skips a second line from the same key; the spec says known keys MUST be verified.
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(ProofError, match="invalid signature"):
        open_note(GO_TEXT + "\n" + PETER_SIG + bad, [parse_verifier(PETER_VKEY)])


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[2],
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "-- "),
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        GO_TEXT + "\n" + PETER_SIG.replace("Neumann ", "Neumann  "),
        GO_TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),
        GO_TEXT + "\n" + "— PeterNeumann x08g\n",  # a key id and no signature
        GO_TEXT + "\n" + PETER_SIG + "\n",
        GO_TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
        GO_TEXT + "\n" + PETER_SIG.replace(" x08", "+x x08"),
    ],
)
def test_go_malformed_notes(message: str) -> None:
    with pytest.raises(ProofError, match="malformed note"):
        open_note(message, [parse_verifier(PETER_VKEY)])


def test_invalid_utf8_bytes() -> None:
    with pytest.raises(ProofError, match="UTF-8"):
        open_note(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), [parse_verifier(PETER_VKEY)])
    assert open_note((GO_TEXT + "\n" + PETER_SIG).encode(), [parse_verifier(PETER_VKEY)])


def test_signature_limit() -> None:
    peter = parse_verifier(PETER_VKEY)
    assert open_note(GO_TEXT + "\n" + PETER_SIG * 100, [peter]).sigs
    with pytest.raises(ProofError, match="more than 100"):
        open_note(GO_TEXT + "\n" + PETER_SIG * 101, [peter])


@pytest.mark.parametrize("checkpoint", SUMDB_CHECKPOINTS)
def test_sumdb_checkpoint_known_answer(checkpoint: str) -> None:
    cp, opened = open_checkpoint(
        checkpoint, [parse_verifier(SUMDB_VKEY)], origin="go.sum database tree"
    )
    assert cp.format() == opened.text == checkpoint.split("\n\n")[0] + "\n"
    assert len(cp.root_hash) == 32 and cp.extensions == ()
    size_line = checkpoint.split("\n")[1]
    tampered = checkpoint.replace(f"\n{size_line}\n", f"\n{int(size_line) + 1}\n")
    with pytest.raises(ProofError, match="invalid signature"):
        open_checkpoint(tampered, [parse_verifier(SUMDB_VKEY)])
    with pytest.raises(ProofError, match="is from"):
        open_checkpoint(checkpoint, [parse_verifier(SUMDB_VKEY)], origin="example.com/log")


def test_spec_example_text_with_blank_line() -> None:
    # The text ends at the *last* blank line; the spec's foreign signature stays unverified.
    skey, vkey = generate_signer("example.com/oversight")
    ours = sign_note(QUASIMODO_TEXT, [parse_signer(skey)]).split("\n\n")[-1]
    opened = open_note(QUASIMODO_TEXT + "\n" + QUASIMODO_SIG + ours, [parse_verifier(vkey)])
    assert opened.text == QUASIMODO_TEXT
    assert [s.name for s in opened.unverified_sigs] == ["quasimodo.example/salvatore"]


# --- key strings ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", [PETER_VKEY, PETER_SKEY])
def test_key_manglings_rejected(key: str) -> None:
    # As Go's TestNewVerifier/TestNewSigner: every proper substring and every
    # single-character change must be refused.
    parse = parse_signer if key.startswith("PRIVATE") else parse_verifier
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(InvalidInput):
                    parse(key[i:j])
    for i in range(len(key)):
        with pytest.raises(InvalidInput):
            parse(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])


def test_go_bad_keys_with_adjusted_hash() -> None:
    with pytest.raises(InvalidInput):  # wrong key length
        parse_verifier("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(InvalidInput, match="unknown signature type"):
        parse_verifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_generated_keys_round_trip() -> None:
    skey, vkey = generate_signer("oversight.example/log")
    assert skey.startswith("PRIVATE+KEY+oversight.example/log+")
    assert derive_verifier_key(skey) == vkey
    signer, verifier = parse_signer(skey), parse_verifier(vkey)
    assert signer.key_id == verifier.key_id
    assert vkey.split("+")[1] == f"{verifier.key_id:08x}"


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0", "x\u2003y", "c\x01"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid key name"):
        generate_signer(name)
    with pytest.raises(InvalidInput):
        Ed25519Signer(name, b"\x00" * 32)


def test_signer_repr_hides_the_seed() -> None:
    seed = bytes(range(32))
    assert seed.hex() not in repr(Ed25519Signer("k", seed))
    assert repr(seed) not in repr(Ed25519Signer("k", seed))


# --- signing and opening -------------------------------------------------------------------


@pytest.fixture
def log_key() -> tuple[str, str]:
    return generate_signer("oversight.example/log")


def test_round_trip(log_key: tuple[str, str]) -> None:
    skey, vkey = log_key
    body = "hello\n\nworld — with an em dash\n"
    opened = open_note(sign_note(body, [parse_signer(skey)]), [parse_verifier(vkey)])
    assert opened.text == body and len(opened.sigs) == 1 and opened.unverified_sigs == ()


def test_tampered_body_fails(log_key: tuple[str, str]) -> None:
    skey, vkey = log_key
    signed = sign_note("a\nb\n", [parse_signer(skey)])
    with pytest.raises(ProofError, match="invalid signature"):
        open_note(signed.replace("a\nb\n", "a\nc\n", 1), [parse_verifier(vkey)])


def test_wrong_key_fails(log_key: tuple[str, str]) -> None:
    skey, _ = log_key
    _, other_vkey = generate_signer("oversight.example/log")  # same name, other key
    signed = sign_note("body\n", [parse_signer(skey)])
    with pytest.raises(ProofError, match="no signature from a known key"):
        open_note(signed, [parse_verifier(other_vkey)])


def test_same_name_and_id_but_other_key_fails() -> None:
    # A colliding key id under the same name is "known", so its failure is fatal.
    @dataclass(frozen=True)
    class Impostor:
        name: str
        key_id: int

        def verify(self, text: bytes, signature: bytes) -> None:
            raise ProofError("impostor rejects everything")

    peter = parse_verifier(PETER_VKEY)
    with pytest.raises(ProofError, match="impostor"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [Impostor(peter.name, peter.key_id)])
    with pytest.raises(ProofError, match="ambiguous"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [peter, Impostor(peter.name, peter.key_id)])


def test_equal_verifiers_listed_twice_are_fine() -> None:
    peter = parse_verifier(PETER_VKEY)
    assert open_note(GO_TEXT + "\n" + PETER_SIG, [peter, parse_verifier(PETER_VKEY)]).sigs


def test_cosigning_keeps_existing_signatures(log_key: tuple[str, str]) -> None:
    skey, vkey = log_key
    witness_skey, witness_vkey = generate_signer("witness.example/w1")
    signed = sign_note("checkpoint\n", [parse_signer(skey)])
    opened = open_note(signed, [parse_verifier(vkey)])
    cosigned = sign_note(opened.text, [parse_signer(witness_skey)], existing=opened.sigs)
    assert cosigned.startswith(signed)
    both = open_note(cosigned, [parse_verifier(vkey), parse_verifier(witness_vkey)])
    assert [s.name for s in both.sigs] == ["oversight.example/log", "witness.example/w1"]
    # Re-signing with the same key replaces its old signature instead of duplicating it.
    resigned = sign_note(opened.text, [parse_signer(skey)], existing=opened.sigs)
    assert resigned.count("— ") == 1


@pytest.mark.parametrize("body", ["", "no newline", "tab\there\n", "cr\r\n", "nul\x00\n"])
def test_sign_rejects_malformed_bodies(body: str, log_key: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput):
        sign_note(body, [parse_signer(log_key[0])])


def test_sign_needs_one_to_a_hundred_signatures(log_key: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput, match="1 to 100"):
        sign_note("body\n", [])
    signer = parse_signer(log_key[0])
    with pytest.raises(InvalidInput, match="share a key"):
        sign_note("body\n", [signer, signer])


# --- pluggable key types -------------------------------------------------------------------


def test_register_another_key_type(monkeypatch: pytest.MonkeyPatch) -> None:
    # A toy type (NOT cryptography): "signature" = SHA-256(public key || text).
    monkeypatch.setattr(note, "_KEY_TYPES", dict(note._KEY_TYPES))
    alg = 0xFE

    @dataclass(frozen=True)
    class ToyVerifier:
        name: str
        public: bytes

        @property
        def key_id(self) -> int:
            return compute_key_id(self.name, alg, self.public)

        def verify(self, text: bytes, signature: bytes) -> None:
            if signature != hashlib.sha256(self.public + text).digest():
                raise ProofError("toy signature mismatch")

    @dataclass(frozen=True)
    class ToySigner:
        name: str
        private: bytes

        @property
        def key_id(self) -> int:
            return compute_key_id(self.name, alg, self.private[::-1])

        def sign(self, text: bytes) -> bytes:
            return hashlib.sha256(self.private[::-1] + text).digest()

    register_key_type(
        KeyType(alg, "toy", ToyVerifier, ToySigner, lambda p: p[::-1], lambda: b"toy-key")
    )
    with pytest.raises(InvalidInput, match="already registered"):
        register_key_type(KeyType(alg, "toy", ToyVerifier, ToySigner, bytes, bytes))
    toy_skey, toy_vkey = generate_signer("toy.example", alg=alg)
    ed_skey, ed_vkey = generate_signer("ed.example")
    signed = sign_note("mixed\n", [parse_signer(toy_skey), parse_signer(ed_skey)])
    opened = open_note(signed, [parse_verifier(toy_vkey), parse_verifier(ed_vkey)])
    assert [s.name for s in opened.sigs] == ["toy.example", "ed.example"]


# --- checkpoints ---------------------------------------------------------------------------

ROOT = hashlib.sha256(b"root").digest()


def test_checkpoint_format() -> None:
    cp = Checkpoint("example.com/log", 20852163, ROOT, ("ext one",))
    b64 = base64.b64encode(ROOT).decode()
    assert cp.format() == f"example.com/log\n20852163\n{b64}\next one\n"
    assert Checkpoint.parse(cp.format()) == cp


def test_checkpoint_spec_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.parse(text)
    assert (cp.origin, cp.size, cp.format()) == ("example.com/behind-the-sofa", 20852163, text)


_B64 = base64.b64encode(ROOT).decode()
_URLSAFE = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n1\n{_B64}",  # no final newline
        "o\n1\n",  # no root line
        f"\n1\n{_B64}\n",  # empty origin
        f"o\n01\n{_B64}\n",  # leading zero
        f"o\n-1\n{_B64}\n",
        f"o\n+1\n{_B64}\n",
        f"o\n 1\n{_B64}\n",
        f"o\n١\n{_B64}\n",  # a non-ASCII digit
        f"o\n{2**63}\n{_B64}\n",  # beyond int64
        f"o\n1\n{_B64[:-1]}\n",  # unpadded
        f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33-byte root
        f"o\n1\n{_URLSAFE}\n",  # URL-safe alphabet
        f"o\n1\n{_B64}\n\n",  # empty extension line
        f"o\n1\n{_B64}\next\x01\n",  # control character
    ],
)
def test_checkpoint_parse_rejects(text: str) -> None:
    with pytest.raises(ProofError, match="malformed checkpoint"):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("o\nx", 1, ROOT, ()),
        ("o", -1, ROOT, ()),
        ("o", 2**63, ROOT, ()),
        ("o", 1, ROOT[:31], ()),
        ("o", 1, ROOT, ("",)),
        ("o", 1, ROOT, ("a\nb",)),
    ],
)
def test_checkpoint_construction_rejects(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidInput):
        Checkpoint(origin, size, root, extensions)


def test_signed_checkpoint_tampering(log_key: tuple[str, str]) -> None:
    skey, vkey = log_key
    cp = Checkpoint("oversight.example/log", 42, ROOT)
    signed = sign_checkpoint(cp, [parse_signer(skey)])
    verifier = parse_verifier(vkey)
    assert open_checkpoint(signed, [verifier], origin=cp.origin)[0] == cp
    other_root = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    for tampered in (
        signed.replace("\n42\n", "\n43\n"),
        signed.replace(_B64, other_root),
        signed.replace("oversight.example/log\n42", "oversight.example/lag\n42"),
    ):
        with pytest.raises(ProofError, match="invalid signature"):
            open_checkpoint(tampered, [verifier])


@settings(max_examples=40, deadline=None)
@given(
    origin=st.text(
        st.characters(min_codepoint=0x20, exclude_characters="\x7f", exclude_categories=["Cs"]),
        min_size=1,
    ),
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1),
        max_size=3,
    ),
)
def test_checkpoint_round_trip_property(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(cp.format()) == cp


def test_checkpoint_lines_must_be_encodable_text() -> None:
    with pytest.raises(InvalidInput, match="surrogate"):
        Checkpoint("\ud800", 0, b"\x00" * 32)


def test_signature_line_round_trip() -> None:
    sig = Signature("PeterNeumann", 0xC74F20A3, b"\x01" * 64)
    assert sig.line().startswith("— PeterNeumann x08go")
    assert sig.line().endswith("=\n")

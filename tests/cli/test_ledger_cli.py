"""`oversight ledger ...`: keys, checkpoints checked by an independent signed-note
verifier, and offline tlog-proofs."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.conftest import Env


def _independent_open(note_text: str, vkey: str) -> list[str]:
    """A from-scratch C2SP signed-note check (no Oversight code): returns the text lines."""
    name, key_hex, key_b64 = vkey.split("+", 2)  # base64 may itself contain "+"
    raw = base64.b64decode(key_b64)
    assert raw[0] == 0x01, "Ed25519 verifier keys start with the type byte 0x01"
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert key_id.hex() == key_hex
    text, sep, sigs = note_text.partition("\n\n")
    assert sep, "a signed note has a blank line before its signatures"
    body = (text + "\n").encode()
    verified = 0
    for line in sigs.splitlines():
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        decoded = base64.b64decode(blob)
        if signer == name and decoded[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(decoded[4:], body)
            verified += 1
    assert verified == 1
    return text.split("\n")


@pytest.fixture
def logged(initialised: Env) -> Env:
    initialised.ok("orgs", "add", "--id", "owner", "--name", "Owner", "--kind", "owner")
    initialised.ok("orgs", "add", "--id", "inst", "--name", "Installer", "--kind", "installer")
    initialised.ok("orgs", "add", "--id", "pol", "--name", "Police", "--kind", "police")
    return initialised


def test_init_prints_the_same_verifier_key_as_pubkey(env: Env) -> None:
    printed = env.ok("init").output
    key = env.ok("ledger", "pubkey").output.strip()
    assert f"Ledger verifier key: {key}" in printed.replace("\n", "")
    assert key.startswith("oversight.local/ledger+")
    assert env.ok("init").output.count("Kept the ledger signing key") == 1
    assert env.ok("ledger", "pubkey").output.strip() == key


def test_the_latest_checkpoint_verifies_with_an_independent_implementation(logged: Env) -> None:
    key = logged.ok("ledger", "pubkey").output.strip()
    checkpoint = logged.ok("ledger", "checkpoint").output
    origin, size, root = _independent_open(checkpoint, key)
    assert origin == "oversight.local/ledger" and size == "3"
    assert len(base64.b64decode(root)) == 32
    data = json.loads(logged.ok("ledger", "checkpoint", "--json").output)
    assert data["size"] == 3 and data["root"] == root


def test_checkpoints_export_every_batch_for_witnesses(logged: Env) -> None:
    exported = json.loads(logged.ok("ledger", "checkpoints", "--json").output)
    assert [c["size"] for c in exported] == [1, 2, 3]
    since = json.loads(logged.ok("ledger", "checkpoints", "--since", "2", "--json").output)
    assert [c["size"] for c in since] == [2, 3]
    text = logged.ok("ledger", "checkpoints").output
    assert text == "".join(c["note"] for c in exported)


def test_publish_on_an_empty_log_signs_the_empty_tree(initialised: Env) -> None:
    initialised.fails("ledger", "checkpoint")
    published = json.loads(initialised.ok("ledger", "publish", "--json").output)
    assert published["size"] == 0
    assert base64.b64decode(published["root"]) == hashlib.sha256(b"").digest()


def test_a_proof_verifies_offline_and_any_tampering_fails(logged: Env, tmp_path: Path) -> None:
    key = logged.ok("ledger", "pubkey").output.strip()
    proof = tmp_path / "leaf1.tlog-proof"
    logged.ok("ledger", "prove", "--index", "1", "--out", str(proof))
    text = proof.read_text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 1\n" in text
    out = json.loads(logged.ok("ledger", "verify-proof", str(proof), "--key", key, "--json").output)
    assert out["ok"] is True and out["size"] == 3 and out["leaf"]["subject"] == "org:inst"

    lines = text.split("\n")
    hash_line = lines.index("index 1") + 1
    flipped = base64.b64decode(lines[hash_line])
    lines[hash_line] = base64.b64encode(bytes([flipped[0] ^ 1]) + flipped[1:]).decode()
    bad = tmp_path / "bad.tlog-proof"
    bad.write_text("\n".join(lines))
    result = logged.fails("ledger", "verify-proof", str(bad), "--key", key, code=1)
    assert result.output.startswith("error: ") and "root" in result.output

    moved = tmp_path / "moved.tlog-proof"
    moved.write_text(text.replace("\nindex 1\n", "\nindex 2\n"))
    logged.fails("ledger", "verify-proof", str(moved), "--key", key, code=1)

    other_key = tmp_path / "other"
    other = Env(other_key, None, logged.monkeypatch)
    logged.monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(other_key))
    other.ok("init")
    stranger = other.ok("ledger", "pubkey").output.strip()
    logged.fails("ledger", "verify-proof", str(proof), "--key", stranger, code=1)


def test_proving_a_leaf_no_checkpoint_covers_is_refused(logged: Env) -> None:
    result = logged.fails("ledger", "prove", "--index", "3")
    assert "no checkpoint covers leaf 3" in result.output
    logged.fails("ledger", "prove")
    logged.fails("ledger", "verify-proof", "/nonexistent", "--key", "x+00000000+AA==")


def test_a_malformed_verifier_key_is_a_one_line_error(logged: Env, tmp_path: Path) -> None:
    proof = tmp_path / "p"
    logged.ok("ledger", "prove", "--index", "0", "--out", str(proof))
    result = logged.fails("ledger", "verify-proof", str(proof), "--key", "not-a-key")
    assert result.output.startswith("error: --key") and result.output.count("\n") == 1


def test_show_and_list_decode_leaves(logged: Env) -> None:
    shown = json.loads(logged.ok("ledger", "show", "0", "--json").output)
    assert shown["kind"] == "registry" and shown["leaf"]["action"] == "org.add"
    listed = json.loads(logged.ok("ledger", "list", "--since", "1", "--json").output)
    assert [item["index"] for item in listed] == [1, 2]
    logged.fails("ledger", "list", "--kind", "nonsense")
    for limit in ("0", str(2**63)):  # the second used to overflow the driver: a traceback
        refused = logged.fails("ledger", "list", "--limit", limit)
        assert refused.output == f"error: --limit must be between 1 and {2**63 - 1}\n"
    logged.fails("ledger", "show", "9")

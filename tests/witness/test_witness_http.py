"""`oversight witness serve` as a real process: C2SP tlog-witness add-checkpoint and latest."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from oversight.ledger import merkle, note
from tests.witness.conftest import Log, Witness, cli, init_witness, start_witness


def independent_cosignature_check(vkey: str, checkpoint_text: bytes, line: str) -> int:
    """c2sp.org/tlog-cosignature v1, from the spec alone; returns the timestamp."""
    name, key_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 0x04 and len(key) == 33
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    assert key_id.hex() == key_hex
    assert line.startswith("\u2014 " + name + " ") and line.endswith("\n")
    raw = base64.b64decode(line[len("\u2014 " + name + " ") : -1], validate=True)
    assert raw[:4] == key_id and len(raw) == 4 + 8 + 64
    timestamp = int.from_bytes(raw[4:12], "big")
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + checkpoint_text
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[12:], message)  # raises if bad
    return timestamp


def text_of(signed: str) -> bytes:
    return signed[: signed.rfind("\n\n") + 1].encode()


def post(w: Witness, body: bytes) -> httpx.Response:
    return httpx.post(f"{w.url}/add-checkpoint", content=body, timeout=10)


@pytest.fixture
def log(witness: Witness, request: pytest.FixtureRequest) -> Log:
    lg = Log(f"oversight.test/{request.node.name.replace('_', '-')[:60]}")
    witness.add_log(lg.origin, lg.vkey)
    return lg


@pytest.fixture
def cosigned(witness: Witness, log: Log) -> Iterator[Log]:
    """The log at size 8, cosigned."""
    log.grow(8)
    assert post(witness, log.body(0)).status_code == 200
    yield log


def assert_refused(w: Witness, body: bytes, status: int) -> httpx.Response:
    """The witness answers ``status`` and stores nothing."""
    before = w.rows()
    response = post(w, body)
    assert response.status_code == status, response.text
    assert w.rows() == before
    return response


def test_a_checkpoint_is_cosigned_and_the_cosignature_verifies_from_the_spec(
    witness: Witness, log: Log
) -> None:
    log.grow(5)
    before = int(time.time())
    response = post(witness, log.body(0))
    assert response.status_code == 200, response.text
    lines = response.text.splitlines(keepends=True)
    assert len(lines) == 1
    stamp = independent_cosignature_check(witness.vkey, text_of(log.checkpoint()), lines[0])
    assert before <= stamp <= int(time.time())
    # latest serves the log's signature and the cosignature; both verify.
    latest = httpx.get(f"{witness.url}/latest/{log.origin}", timeout=10)
    assert latest.status_code == 200
    assert latest.text == log.checkpoint() + lines[0]
    cp, opened = note.open_checkpoint(
        latest.text, [note.parse_verifier(log.vkey), note.parse_verifier(witness.vkey)]
    )
    assert cp.size == 5 and len(opened.sigs) == 2


def test_later_checkpoints_are_cosigned_with_real_consistency_proofs(
    witness: Witness, log: Log
) -> None:
    old = 0
    for size in [1, 2, 3, 4, 7, 8, 13, 16, 17]:
        log.grow(size - len(log.leaves))
        response = post(witness, log.body(old))
        assert response.status_code == 200, (old, size, response.text)
        independent_cosignature_check(witness.vkey, text_of(log.checkpoint()), response.text)
        old = size
    assert [r[1] for r in witness.rows() if r[0] == log.origin] == [17]


def test_same_size_same_root_is_cosigned_again_another_root_is_409(
    witness: Witness, cosigned: Log
) -> None:
    assert post(witness, cosigned.body(8)).status_code == 200
    fork = Log(cosigned.origin)
    fork.skey, fork.vkey = cosigned.skey, cosigned.vkey
    fork.leaves = [hashlib.sha256(b"other %d" % i).digest() for i in range(8)]
    response = assert_refused(witness, fork.body(8), 409)
    assert response.text == "8\n"


def test_a_stale_old_size_is_409_with_the_cosigned_size(witness: Witness, cosigned: Log) -> None:
    cosigned.grow(3)
    for old in [0, 5, 9]:
        # 0: a client that knows nothing; 5: behind; 9: ahead (proof from 9 to 11, real).
        response = assert_refused(witness, cosigned.body(old), 409)
        assert response.headers["content-type"] == "text/x.tlog.size"
        assert response.text == "8\n"


def test_a_failing_proof_is_422(witness: Witness, cosigned: Log) -> None:
    cosigned.grow(5)
    good = [bytes(h) for h in merkle.consistency_proof(8, 13, cosigned.leaves)]
    bad = [good[0][:-1] + bytes([good[0][-1] ^ 1]), *good[1:]]
    assert_refused(witness, cosigned.body(8, proof=bad), 422)
    assert_refused(witness, cosigned.body(8, proof=good[:-1]), 422)
    assert_refused(witness, cosigned.body(8, proof=[*good, good[0]]), 422)
    assert_refused(witness, cosigned.body(8, proof=[]), 422)
    # A rewritten history signed with the log's own key: no proof can bridge it.
    fork = Log(cosigned.origin)
    fork.skey, fork.vkey = cosigned.skey, cosigned.vkey
    fork.leaves = [hashlib.sha256(b"rewritten %d" % i).digest() for i in range(13)]
    assert_refused(witness, fork.body(8), 422)
    # The honest one still goes through afterwards.
    assert post(witness, cosigned.body(8)).status_code == 200


def test_a_checkpoint_not_signed_by_the_configured_key_is_403(
    witness: Witness, cosigned: Log
) -> None:
    cosigned.grow(1)
    impostor, _ = note.generate_signer(cosigned.origin)  # same name, another key
    assert_refused(witness, cosigned.body(8, skey=impostor), 403)
    signed = cosigned.body(8).decode()
    sig_line = signed.rsplit("\n", 2)[-2]
    name, b64 = sig_line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1  # the configured key's id, a broken signature
    broken = signed.replace(sig_line, f"{name} {base64.b64encode(bytes(raw)).decode()}")
    assert_refused(witness, broken.encode(), 403)


def test_an_unknown_origin_is_404(witness: Witness) -> None:
    stranger = Log("oversight.test/nobody-added-me")
    stranger.grow(2)
    assert_refused(witness, stranger.body(0), 404)
    assert httpx.get(f"{witness.url}/latest/{stranger.origin}", timeout=10).status_code == 404


def test_latest_is_404_until_something_is_cosigned(witness: Witness, log: Log) -> None:
    assert httpx.get(f"{witness.url}/latest/{log.origin}", timeout=10).status_code == 404


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.replace(b"old 8\n", b""),  # no old line
        lambda b: b.replace(b"old 8\n", b"old 08\n"),
        lambda b: b.replace(b"old 8\n", b"old -8\n"),
        lambda b: b.replace(b"old 8\n", b"old  8\n"),
        lambda b: b.replace(b"old 8\n", b"old 8\r\n"),
        lambda b: b.replace(b"old 8\n", b"OLD 8\n"),
        lambda b: b"old 8\n",  # nothing after
        lambda b: b"old 8\n\n",  # no checkpoint
        lambda b: b"",
        lambda b: b.replace(b"\n\n", b"\n", 1),  # no blank line after the proof
        lambda b: b.replace(b"old 8\n", b"old 8\nnot base64!\n"),
        lambda b: b.replace(b"old 8\n", b"old 8\n" + base64.b64encode(bytes(31)) + b"\n"),
        lambda b: b.rsplit(b"\n\n", 1)[0] + b"\n",  # checkpoint without signatures
        lambda b: b.replace(b"\n\xe2\x80\x94 ", b"\n-- ", 1),  # bad signature line
        lambda b: b + b"\xff",  # not UTF-8
        lambda b: b.replace(b"\n13\n", b"\n013\n"),  # checkpoint size with a leading zero
    ],
)
def test_malformed_bodies_are_400(witness: Witness, cosigned: Log, mangle: object) -> None:
    cosigned.grow(5)
    body = cosigned.body(8)
    assert b"\n13\n" in body
    assert_refused(witness, mangle(body), 400)  # type: ignore[operator]


def test_old_larger_than_the_checkpoint_and_a_proof_from_zero_are_400(
    witness: Witness, cosigned: Log
) -> None:
    body = cosigned.body(8, 8).replace(b"old 8\n", b"old 9\n")
    assert_refused(witness, body, 400)
    cosigned.grow(1)
    proof = merkle.consistency_proof(8, 9, cosigned.leaves)
    assert_refused(witness, cosigned.body(0, proof=proof), 409)  # stale first ...
    fresh = Log(cosigned.origin + "-fresh")
    witness.add_log(fresh.origin, fresh.vkey)
    fresh.grow(9)
    assert_refused(witness, fresh.body(0, proof=proof), 400)  # ... the proof from 0 is 400


def test_63_proof_lines_are_read_64_are_400(witness: Witness, cosigned: Log) -> None:
    cosigned.grow(1)
    hashes = [hashlib.sha256(b"%d" % i).digest() for i in range(64)]
    assert_refused(witness, cosigned.body(8, proof=hashes[:63]), 422)
    response = assert_refused(witness, cosigned.body(8, proof=hashes), 400)
    assert "63" in response.text


def test_huge_bodies_are_413_unread(witness: Witness, cosigned: Log) -> None:
    cosigned.grow(1)
    huge = cosigned.body(8) + b"x" * (1 << 20)
    assert_refused(witness, huge, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the witness counts as it reads
        yield cosigned.body(8)
        for _ in range(64):
            yield b"y" * (1 << 15)

    before = witness.rows()
    response = httpx.post(f"{witness.url}/add-checkpoint", content=chunks(), timeout=10)
    assert response.status_code == 413
    assert witness.rows() == before


def test_two_concurrent_submissions_from_one_size_cannot_both_win(
    witness: Witness, cosigned: Log
) -> None:
    cosigned.grow(4)
    bodies = [cosigned.body(8, 10), cosigned.body(8, 12)]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def submit(body: bytes) -> None:
        with httpx.Client(timeout=10) as client:
            barrier.wait()
            results.append(client.post(f"{witness.url}/add-checkpoint", content=body).status_code)

    threads = [threading.Thread(target=submit, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]


def test_a_prefix_moves_both_endpoints(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    vkey = init_witness(data_dir, "witness.test/prefixed")
    w = start_witness(data_dir, vkey, "--prefix", "/tlog/w1")
    try:
        lg = Log("oversight.test/prefixed")
        w.add_log(lg.origin, lg.vkey)
        lg.grow(3)
        assert post(w, lg.body(0)).status_code == 200
        assert httpx.get(f"{w.url}/latest/{lg.origin}", timeout=10).status_code == 200
        bare = w.url.removesuffix("/tlog/w1")
        assert httpx.post(f"{bare}/add-checkpoint", content=lg.body(3)).status_code == 404
    finally:
        w.stop()


def test_signatures_by_unknown_keys_are_ignored_and_not_served(
    witness: Witness, cosigned: Log
) -> None:
    cosigned.grow(2)
    other_skey, _ = note.generate_signer("another.test/witness")
    signed = cosigned.checkpoint()
    cp, opened = note.open_checkpoint(signed, [note.parse_verifier(cosigned.vkey)])
    both = note.sign_note(cp.format(), [note.parse_signer(other_skey)], existing=opened.sigs)
    body = cosigned.body(8).decode().replace(signed, both).encode()
    response = post(witness, body)
    assert response.status_code == 200, response.text
    latest = httpx.get(f"{witness.url}/latest/{cosigned.origin}", timeout=10).text
    assert latest == signed + response.text  # the log's signature and ours, nothing else


def test_the_cosigned_state_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    vkey = init_witness(data_dir, "witness.test/restart")
    w = start_witness(data_dir, vkey)
    lg = Log("oversight.test/restart")
    try:
        w.add_log(lg.origin, lg.vkey)
        lg.grow(6)
        assert post(w, lg.body(0)).status_code == 200
    finally:
        w.stop()
    w = start_witness(data_dir, vkey)
    try:
        response = post(w, lg.body(0))
        assert response.status_code == 409 and response.text == "6\n"
        lg.grow(1)
        assert post(w, lg.body(6)).status_code == 200
    finally:
        w.stop()


def test_a_signed_fork_is_kept_as_evidence_and_reported_by_the_witness(
    witness: Witness, cosigned: Log
) -> None:
    """Done when: a rewritten ledger is reported by the witnesses themselves. The log's
    own signed checkpoints that do not extend what was cosigned are kept, shown by
    `oversight witness conflicts` (exit 1) and logged CRITICAL; nothing else is kept."""
    fork = Log(cosigned.origin)
    fork.skey, fork.vkey = cosigned.skey, cosigned.vkey
    fork.leaves = [hashlib.sha256(b"rewritten %d" % i).digest() for i in range(8)]
    assert_refused(witness, fork.body(8), 409)  # same size, another root: a proven fork
    fork.grow(3)
    assert_refused(witness, fork.body(8), 422)  # longer, no proof can bridge it
    assert_refused(witness, fork.body(8), 422)  # the same again is kept once
    stranger = Log("oversight.test/conflict-stranger")
    stranger.grow(2)
    assert_refused(witness, stranger.body(0), 404)
    impostor, _ = note.generate_signer(cosigned.origin)
    assert_refused(witness, fork.body(8, skey=impostor), 403)  # not the log's word
    kept = [c for c in witness.conflicts() if c[0] == cosigned.origin]
    assert sorted(kept, key=lambda c: (c[1], c[2])) == [
        (cosigned.origin, 8, 409),
        (cosigned.origin, 11, 422),
    ]
    code, out, _ = cli(
        "witness", "conflicts", cosigned.origin, "--json", "--data-dir", str(witness.data_dir)
    )
    assert code == 1
    shown = json.loads(out)["conflicts"]
    assert [(c["size"], c["cosigned_size"], c["status"]) for c in shown] == [
        (8, 8, 409),
        (11, 8, 422),
    ]
    assert shown[0]["note"] == fork.checkpoint(8)  # the log's signed word, verbatim
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        critical = [ln for ln in witness.stderr if "CRITICAL" in ln and cosigned.origin in ln]
        if len(critical) >= 2:
            break
        time.sleep(0.05)
    assert len(critical) == 2
    assert (0, 404) in witness.requests() and (8, 403) in witness.requests()


def test_conflicts_of_a_log_with_none_is_exit_0_and_an_unknown_origin_is_refused(
    witness: Witness, cosigned: Log
) -> None:
    args = ("--data-dir", str(witness.data_dir))
    code, out, _ = cli("witness", "conflicts", cosigned.origin, *args)
    assert code == 0 and "no conflicting checkpoint" in out
    code, _, err = cli("witness", "conflicts", "oversight.test/never-added", *args)
    assert code != 0 and "unknown log origin" in err

"""The log side of witnessing (issue 20, items 2 and 3), against real HTTP witnesses on
127.0.0.1 and real SQLite/PostgreSQL.

The witnesses are ``tests/ledger/witness_double.py``, a spec-following stand-in for
``oversight witness serve``; the lead swaps in the real program after merging.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import create_engine, text

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import models as m
from oversight.ledger import leaves
from oversight.services import compliance, witnessing
from oversight.services.sealing import seal_file
from tests.conftest import Env
from tests.ledger.witness_double import WitnessDouble
from tests.services.test_verify import T0, _register_camera


@pytest.fixture
def witnessed(initialised: Env) -> Iterator[tuple[Env, list[WitnessDouble]]]:
    _register_camera(initialised)
    system = bootstrap.build(Settings())
    try:
        vkey = system.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
        origin = system.ledger.origin
    finally:
        system.close()
    doubles = [WitnessDouble(f"witness{i}.example/w", vkey, origin).start() for i in (1, 2)]
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESSES", ",".join(d.config for d in doubles))
    try:
        yield initialised, doubles
    finally:
        for d in doubles:
            d.stop()


def _seal(system: bootstrap.System, tmp: Path, first: int, n: int) -> None:
    for i in range(first, first + n):
        spool = tmp / f"seg{i}.mp4"
        spool.write_bytes(os.urandom(1000 + i))
        start = T0 + timedelta(minutes=i)
        seal_file(system, camera="cam1", path=spool, start=start, end=start + timedelta(minutes=1))


def _independent_check(vkey: str, checkpoint_body: bytes, line: str) -> int:
    """The cosignature v1 check from c2sp.org/tlog-cosignature, hashlib and cryptography
    only: key id = SHA-256(name, 0x0A, 0x04, key)[:4]; signed = header, time, body."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    raw_key = base64.b64decode(key_b64)
    assert raw_key[0] == 0x04
    sig_name, sig_b64 = line.rstrip("\n").removeprefix("— ").split(" ")
    assert sig_name == name
    raw = base64.b64decode(sig_b64)
    expected = hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4]
    assert raw[:4] == expected == bytes.fromhex(key_id_hex)
    timestamp = int.from_bytes(raw[4:12], "big")
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + checkpoint_body
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(raw[12:], message)
    return timestamp


def test_both_witnesses_cosign_and_the_cosignatures_verify_independently(
    witnessed: tuple[Env, list[WitnessDouble]], tmp_path: Path
) -> None:
    env, doubles = witnessed
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 3)
        outcomes = witnessing.submit_all(system)
        assert [o.result for o in outcomes] == ["cosigned", "cosigned"]
        size = outcomes[0].size
        _seal(system, tmp_path, 3, 2)
        assert [o.result for o in witnessing.submit_all(system)] == ["cosigned", "cosigned"]
        with system.reads() as s:
            latest = system.ledger.latest_checkpoint(s)
            assert latest is not None
            rows = s.query(m.WitnessCosignature).filter_by(size=latest.size).all()
        assert len(rows) == 2
        body = latest.note[: latest.note.index("\n\n") + 1].encode()
        for d, row in zip(doubles, sorted(rows, key=lambda r: r.witness), strict=True):
            when = _independent_check(d.vkey, body, row.line)
            assert abs(when - system.clock.now().timestamp()) < 60
        # the second round sent one consistency proof from the size it cosigned
        assert [old for old, _ in doubles[0].requests] == [0, size]
        assert [o.result for o in witnessing.submit_all(system)] == ["current", "current"]
    result = env.ok("verify", "--json")
    report = json.loads(result.output)
    assert report["ok"] and report["warnings"] == []
    assert {(w["witness"].split("+")[0], w["size"]) for w in report["witnesses"]} == {
        ("witness1.example/w", latest.size),
        ("witness2.example/w", latest.size),
    }

"""The log side of witnessing (issue 20, items 2 and 3), against real HTTP witnesses on
127.0.0.1 and real SQLite/PostgreSQL.

The witnesses are the real program, ``oversight witness serve``, two processes with
their own data dirs, keys and SQLite (tests/witness_process.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
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
from oversight.services.verify_witnesses import NO_WITNESS
from tests.conftest import Env
from tests.services.test_verify import T0, _register_camera
from tests.witness_process import Witness, witness_for


@pytest.fixture
def witnessed(initialised: Env, tmp_path: Path) -> Iterator[tuple[Env, list[Witness]]]:
    _register_camera(initialised)
    system = bootstrap.build(Settings())
    try:
        vkey = system.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
        origin = system.ledger.origin
    finally:
        system.close()
    witnesses = [
        witness_for(tmp_path / f"witness{i}", f"witness{i}.example/w", origin, vkey) for i in (1, 2)
    ]
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESSES", ",".join(w.config for w in witnesses))
    try:
        yield initialised, witnesses
    finally:
        for w in witnesses:
            w.stop()


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
    witnessed: tuple[Env, list[Witness]], tmp_path: Path
) -> None:
    env, witnesses = witnessed
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
        for d, row in zip(witnesses, sorted(rows, key=lambda r: r.witness), strict=True):
            when = _independent_check(d.vkey, body, row.line)
            assert abs(when - system.clock.now().timestamp()) < 60
        # the second round sent one consistency proof from the size it cosigned
        assert witnesses[0].wait_requests(2) == [(0, 200), (size, 200)]
        assert [o.result for o in witnessing.submit_all(system)] == ["current", "current"]
    shown = json.loads(env.ok("ledger", "witness", "--json").output)
    assert [(w["result"], w["state"]["size"]) for w in shown] == [("current", latest.size)] * 2
    result = env.ok("verify", "--json")
    report = json.loads(result.output)
    assert report["ok"] and report["warnings"] == []
    assert {(w["witness"].split("+")[0], w["size"]) for w in report["witnesses"]} == {
        ("witness1.example/w", latest.size),
        ("witness2.example/w", latest.size),
    }


def _cut(env: Env, keep: int) -> None:
    """What an insider with database access does: no key needed."""
    engine = create_engine(env.url)
    with engine.begin() as conn:
        for table in ("ledger_leaves", "register_times"):
            conn.execute(text(f"DELETE FROM {table} WHERE idx >= :k"), {"k": keep})
        conn.execute(text("DELETE FROM ledger_checkpoints WHERE size > :k"), {"k": keep})
        conn.execute(text("DELETE FROM witness_cosignatures WHERE size > :k"), {"k": keep})
        conn.execute(text("DELETE FROM witness_states"))
        conn.execute(text("DELETE FROM segments WHERE leaf_index >= :k"), {"k": keep})
    engine.dispose()


def test_a_cut_tail_is_truncated_naming_the_witness_and_both_sizes(
    witnessed: tuple[Env, list[Witness]], tmp_path: Path
) -> None:
    env, _ = witnessed
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 4)
        outcomes = witnessing.submit_all(system)
        cosigned = outcomes[0].size
        assert cosigned is not None
    keep = cosigned - 2
    _cut(env, keep)
    result = env.fails("verify", code=1)
    lines = [line for line in result.output.splitlines() if line.startswith("truncated:")]
    assert lines == [
        f"truncated: witness {o.witness}: it cosigned {cosigned} leaves (served), the log "
        f"holds {keep}: 2 leaves were removed"
        for o in outcomes
    ]


def test_rewritten_history_is_refused_alarmed_and_reported_as_a_fork(
    witnessed: tuple[Env, list[Witness]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env, witnesses = witnessed
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 3)
        cosigned = witnessing.submit_all(system)[0].size
        assert cosigned is not None
    _cut(env, cosigned - 1)
    with closing(bootstrap.build(Settings())) as system:
        # the insider re-signs another history with the same key, longer than before
        with system.sessions.begin() as s:
            system.ledger.append(
                s,
                [
                    leaves.health(
                        at=T0,
                        actor="system",
                        action="reference.learn",
                        subject=f"camera:{i}",
                        details={"keyframes": i},
                    )
                    for i in range(3)
                ],
            )
        with caplog.at_level(logging.CRITICAL, logger="oversight.witnessing"):
            outcomes = witnessing.submit_all(system)
        assert [o.result for o in outcomes] == ["refused", "refused"]
        assert all(d.wait_status(422) for d in witnesses)
        # the witnesses themselves keep the rewritten history's signed checkpoint
        assert [[c[2] for c in d.conflicts()] for d in witnesses] == [[422], [422]]
        assert [r.levelname for r in caplog.records].count("CRITICAL") == 2
        states = witnessing.status(system)
        assert [s.alarm for s in states] == ["witness-fork", "witness-fork"]
        with system.reads() as s:
            raised = [
                leaves.decode(leaf.data)
                for leaf in system.ledger.leaves(s)
                if leaf.kind == "health" and b"witness:" in leaf.data
            ]
        assert [r["details"]["kind"] for r in raised] == ["witness-fork", "witness-fork"]
        report = compliance.report(system)
        found = [f for f in report.findings if f.subject.startswith("witness:")]
        assert len(found) == 2 and all(f.severity == "critical" for f in found)
        # a second refusal keeps the one open alarm
        witnessing.submit_all(system)
        assert len([x for x in witnessing.status(system) if x.alarm]) == 2
    shown = env.fails("ledger", "witness", code=1).output
    assert shown.count("refused; cosigned") == 2 and shown.count("ALARM witness-fork") == 2
    result = env.fails("verify", code=1)
    forks = [line for line in result.output.splitlines() if line.startswith("fork:")]
    assert len(forks) == 2 and all(f"another tree of {cosigned} leaves" in f for f in forks)


def test_a_witness_down_for_a_while_is_caught_up_by_one_submission(
    witnessed: tuple[Env, list[Witness]], tmp_path: Path
) -> None:
    env, (down, _) = witnessed
    env.monkeypatch.setenv("OVERSIGHT_WITNESS_UNREACHABLE_ALARM_S", "0.05")
    env.monkeypatch.setenv("OVERSIGHT_WITNESS_TIMEOUT_S", "1")
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 2)
        first = witnessing.submit_all(system)[0].size
        down.stop()
        _seal(system, tmp_path, 2, 3)  # recording and sealing go on
        assert witnessing.submit_all(system)[0].result == "failed"
        _seal(system, tmp_path, 5, 2)
        time.sleep(0.1)
        assert witnessing.submit_all(system)[0].result == "failed"
        state = witnessing.status(system)[0]
        assert state.alarm == "witness-unreachable" and state.size == first
        found = [f for f in compliance.report(system).findings if f.subject.startswith("witness:")]
        assert len(found) == 1 and "has not cosigned since" in found[0].message
        before = len(down.wait_requests(1))
        down.start()
        outcome = witnessing.submit_all(system)[0]
        assert outcome.result == "cosigned"
        assert down.wait_requests(before + 1)[before:] == [(first, 200)]  # one proof
        assert witnessing.status(system)[0].alarm is None
        with system.reads() as s:
            latest = system.ledger.latest_checkpoint(s)
        assert latest is not None
        # the alarm's clear leaf came after the cosigned checkpoint
        cosigned = down.cosigned_size(system.ledger.origin)
        assert cosigned == outcome.size and outcome.size < latest.size


def test_without_witnesses_verify_says_so_plainly(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    _register_camera(env)
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 2)
    result = env.ok("verify")
    assert "warning: no witness is configured (OVERSIGHT_WITNESSES)" in result.output
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] and report["warnings"] == [NO_WITNESS]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://127.0.0.1:1", "want URL=VKEY with an http(s) URL"),
        ("ftp://127.0.0.1:1=k", "want URL=VKEY with an http(s) URL"),
        ("http://127.0.0.1:1=not-a-key", "OVERSIGHT_WITNESSES: the key for http://127.0.0.1:1"),
        ("http://127.0.0.1:1=LOGKEY", "is not a cosignature/v1 key (type 0x04)"),
    ],
)
def test_a_bad_witness_setting_is_one_line_exit_2_and_nothing_written(
    initialised: Env, value: str, message: str
) -> None:
    env = initialised
    with closing(bootstrap.build(Settings())) as system:
        log_key = system.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
    env.monkeypatch.setenv("OVERSIGHT_WITNESSES", value.replace("LOGKEY", log_key))
    before = env.counts()
    for command in (("ledger", "witness"), ("verify",)):
        result = env.fails(*command, code=2)
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert env.counts() == before


def test_the_background_submitter_keeps_the_witnesses_current_while_sealing(
    witnessed: tuple[Env, list[Witness]], tmp_path: Path
) -> None:
    env, witnesses = witnessed
    env.monkeypatch.setenv("OVERSIGHT_WITNESS_INTERVAL_S", "0.05")
    with closing(bootstrap.build(Settings())) as system, witnessing.Submitter(system):
        for i in range(5):
            _seal(system, tmp_path, i, 1)  # sealing never waits for a witness
        with system.reads() as s:
            latest = system.ledger.latest_checkpoint(s)
        assert latest is not None
        deadline = time.monotonic() + 10
        origin = system.ledger.origin
        while time.monotonic() < deadline:
            if all(d.cosigned_size(origin) == latest.size for d in witnesses):
                break
            time.sleep(0.05)
        assert [d.cosigned_size(origin) for d in witnesses] == [latest.size] * 2


def test_verify_warns_when_fewer_witnesses_than_the_quorum_vouch(
    witnessed: tuple[Env, list[Witness]], tmp_path: Path
) -> None:
    env, (_, never) = witnessed
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 2)
        never.stop()
        witnessing.submit_all(system)
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"]
    assert "only 1 of the 2 witnesses vouch for this log" in report["warnings"][-1]
    env.monkeypatch.setenv("OVERSIGHT_WITNESS_QUORUM", "1")
    report = json.loads(env.ok("verify", "--json").output)
    assert not any("vouch" in w for w in report["warnings"])

"""The log side across a witness's key rotation (issue 20, item 5), against a real
`oversight witness serve` process and real SQLite/PostgreSQL.

While the witness rotates, its answers carry two cosignature lines; the log keeps the
line of the key it is configured with. When the operator switches OVERSIGHT_WITNESSES to
the new key, that key's state starts unknown: the submitter learns the size from the
witness's 409 and goes on with one proof. What the old key cosigned stays and verifies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx2 as httpx
import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import models as m
from oversight.evidence.verify import verify_package
from oversight.services import witnessing
from tests.conftest import Env
from tests.evidence.test_package import vkey
from tests.evidence.test_witnessed_package import cosigned_package
from tests.recorder.helpers import needs_ffmpeg
from tests.services.test_verify import _register_camera
from tests.services.test_witnessing import _independent_check, _seal
from tests.witness_process import Witness, witness_for


def _label(vkey: str) -> str:
    name, key_id, _ = vkey.split("+", 2)
    return f"{name}+{key_id}"


def _body(checkpoint_note: str) -> bytes:
    return checkpoint_note[: checkpoint_note.index("\n\n") + 1].encode()


@pytest.fixture
def witnessed(initialised: Env, tmp_path: Path) -> Iterator[tuple[Env, Witness]]:
    """One real witness of our log, configured with its first key."""
    with closing(bootstrap.build(Settings())) as system:
        log_key, origin = vkey(system), system.ledger.origin
    w = witness_for(tmp_path / "witness", "county.example/w", origin, log_key)
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESSES", w.config)
    try:
        yield initialised, w
    finally:
        w.stop()


def _cosignatures(system: bootstrap.System) -> dict[tuple[int, str], tuple[str, str]]:
    """(size, witness label) -> (stored line, the checkpoint note of that size)."""
    with system.reads() as s:
        rows = s.query(m.WitnessCosignature).all()
        notes = {c.size: c.note for c in s.query(m.LedgerCheckpoint).all()}
    return {(r.size, r.witness): (r.line, notes[r.size]) for r in rows}


def test_the_log_carries_on_across_a_witness_key_rotation(
    witnessed: tuple[Env, Witness], tmp_path: Path
) -> None:
    env, w = witnessed
    _register_camera(env)
    old = w.vkey
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 3)
        [first] = witnessing.submit_all(system)
        assert first.result == "cosigned"
        new = w.rotate_key()
        _seal(system, tmp_path, 3, 2)
        [during] = witnessing.submit_all(system)
        assert during.result == "cosigned" and during.witness == _label(old)
        origin = system.ledger.origin
        latest = httpx.get(witnessing.latest_url(witnessing.configured(system.settings)[0], origin))
        assert latest.text.count("\n— county.example/w ") == 2  # the witness signed twice
        stored = _cosignatures(system)
        # the configured (old) key's line only, one line, verifying from the spec
        line, cp = stored[(during.size, _label(old))]
        assert line.count("\n") == 1
        _independent_check(old, _body(cp), line)
        assert (during.size, _label(new)) not in stored

    # the operator switches to the new key; its state starts unknown
    env.monkeypatch.setenv("OVERSIGHT_WITNESSES", f"{w.url}={new}")
    with closing(bootstrap.build(Settings())) as system:
        assert witnessing.status(system)[0].size is None
        _seal(system, tmp_path, 5, 2)
        seen = len(w.wait_requests(2))
        [after] = witnessing.submit_all(system)
        assert after.result == "cosigned" and after.witness == _label(new)
        # old 0 -> 409 with the size it cosigned -> one proof from there
        assert w.wait_requests(seen + 2)[seen:] == [(0, 409), (during.size, 200)]
        w.retire_key()
        _seal(system, tmp_path, 7, 1)
        [retired] = witnessing.submit_all(system)
        assert retired.result == "cosigned"
        assert w.wait_requests(seen + 3)[seen + 2 :] == [(after.size, 200)]
        stored = _cosignatures(system)
        for size, key in [
            (first.size, old),
            (during.size, old),
            (after.size, new),
            (retired.size, new),
        ]:
            assert size is not None
            line, cp = stored[(size, _label(key))]
            _independent_check(key, _body(cp), line)
        assert not any(s.alarm for s in witnessing.status(system))
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] and report["warnings"] == []
    assert sorted((x["source"], x["witness"], x["size"]) for x in report["witnesses"]) == [
        ("served", _label(new), retired.size),
        ("stored", _label(new), retired.size),
    ]


def test_a_log_still_on_the_retired_key_fails_and_is_alarmed(
    witnessed: tuple[Env, Witness], tmp_path: Path
) -> None:
    env, w = witnessed
    _register_camera(env)
    env.monkeypatch.setenv("OVERSIGHT_WITNESS_UNREACHABLE_ALARM_S", "0.05")
    with closing(bootstrap.build(Settings())) as system:
        _seal(system, tmp_path, 0, 2)
        assert witnessing.submit_all(system)[0].result == "cosigned"
        w.rotate_key()
        _seal(system, tmp_path, 2, 1)
        assert witnessing.submit_all(system)[0].result == "cosigned"  # the old key's line
        w.retire_key()
        _seal(system, tmp_path, 3, 1)
        [outcome] = witnessing.submit_all(system)
        assert outcome.result == "failed"
        assert "a 200 without a valid cosignature" in outcome.detail
        time.sleep(0.1)
        assert witnessing.submit_all(system)[0].result == "failed"
        [state] = witnessing.status(system)
        assert state.alarm == "witness-unreachable"


@pytest.mark.ffmpeg
@needs_ffmpeg
def test_a_package_cosigned_by_the_old_key_still_verifies_after_it_is_retired(
    witnessed: tuple[Env, Witness], tmp_path: Path
) -> None:
    env, w = witnessed
    with closing(bootstrap.build(Settings())) as system:
        log_key = vkey(system)
        out = cosigned_package(system, tmp_path, witnesses=1)
    old = w.vkey
    new = w.rotate_key()
    env.monkeypatch.setenv("OVERSIGHT_WITNESSES", f"{w.url}={new}")
    with closing(bootstrap.build(Settings())) as system:
        assert [o.result for o in witnessing.submit_all(system)] == ["cosigned"]  # new key
    w.retire_key()
    assert (w.data_dir / "retired-keys.txt").read_text() == old + "\n"
    result = env.ok("evidence", "verify", str(out), "--key", log_key, "--witness-key", old)
    assert result.output.count("cosigned by witness county.example/w") == 1
    report = verify_package(out, trusted_key=log_key, witness_keys=[old])
    assert report.ok and [c["witness"] for c in report.cosigned_by] == [_label(old)]
    # the new key did not cosign that package: a quorum problem, not a pass
    assert not verify_package(out, trusted_key=log_key, witness_keys=[new]).ok

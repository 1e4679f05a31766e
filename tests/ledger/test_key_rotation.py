"""Rotating the ledger's signing key (issue 20, item 5): old checkpoints keep verifying,
checkpoints between rotate and retire carry both signatures (so witnesses that know only
the old key go on cosigning), each step is a ledger leaf, and misuse writes nothing."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import keys, leaves, note
from oversight.services import witnessing
from tests.cli.test_users_cli import ADMIN_PW, PW, add_user, admin_env, login
from tests.conftest import Env
from tests.witness_process import witness_for

__all__ = ["admin_env"]  # the fixture, used by name


def _append(system: bootstrap.System, n: int) -> None:
    with system.sessions.begin() as session:
        system.ledger.append(
            session,
            [
                leaves.registry(
                    at=system.clock.now(),
                    actor="test",
                    action="camera.update",
                    subject=f"camera:c{i}",
                    changes={"n": i},
                )
                for i in range(n)
            ],
        )


def _signers_of(system: bootstrap.System) -> list[str]:
    """Key names+ids of the signatures on the latest checkpoint."""
    with system.reads() as s:
        latest = system.ledger.latest_checkpoint(s)
    assert latest is not None
    lines = latest.note.split("\n\n", 1)[1].splitlines()
    return [line.split(" ")[1] for line in lines]


def _key_files(keys_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(keys_dir.iterdir())}


def test_rotate_then_retire_keeps_every_checkpoint_verifiable(initialised: Env) -> None:
    env = initialised
    old = env.ok("ledger", "pubkey").output.strip()
    with closing(bootstrap.build(Settings())) as system:  # a running recorder, say
        _append(system, 3)
        rotated = env.ok("ledger", "rotate-key", "--json")
        change = json.loads(rotated.output)
        assert change["old"] == old and change["new"] != old
        new = change["new"]
        assert env.ok("ledger", "pubkey").output.strip() == new
        assert env.ok("ledger", "pubkey", "--all").output.split() == [new, old]
        # the running system signs with both from its next append, no restart
        _append(system, 2)
        signed = note.open_note(
            _latest_note(system), [note.parse_verifier(new), note.parse_verifier(old)]
        )
        assert len(signed.sigs) == 2
        with system.reads() as s:
            leaf = leaves.decode(system.ledger.leaf(s, change["leaf"]).data)
        assert leaf["action"] == "ledger.key.rotate"
        assert leaf["details"] == {"old": old, "new": new}
        assert json.loads(env.ok("verify", "--json").output)["ok"]
        retired = json.loads(env.ok("ledger", "retire-key", "--json").output)
        assert retired["old"] == old and retired["new"] == new
        _append(system, 1)
        assert len(_signers_of(system)) == 1
        assert note.open_note(_latest_note(system), [note.parse_verifier(new)])
    keys_dir = env.data_dir / "keys"
    assert not (keys_dir / keys.RETIRING_FILE).exists()
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in keys_dir.iterdir())
    # every checkpoint verifies: before the rotation with the old key, after with the new
    assert json.loads(env.ok("verify", "--json").output)["ok"]
    assert json.loads(env.ok("verify", "--json", "--key", new, "--key", old).output)["ok"]
    # trusting only one of them, the other's checkpoints are not vouched for
    for only in (new, old):
        report = json.loads(env.fails("verify", "--json", "--key", only, code=1).output)
        assert not report["ok"]


def _latest_note(system: bootstrap.System) -> str:
    with system.reads() as s:
        latest = system.ledger.latest_checkpoint(s)
    assert latest is not None
    return latest.note


def test_rotating_twice_or_retiring_nothing_is_refused_and_writes_nothing(
    initialised: Env,
) -> None:
    env = initialised
    keys_dir = env.data_dir / "keys"
    before, files = env.counts(), _key_files(keys_dir)
    result = env.fails("ledger", "retire-key")
    assert "no key is retiring" in result.output and len(result.output.strip().splitlines()) == 1
    assert env.counts() == before and _key_files(keys_dir) == files
    env.ok("ledger", "rotate-key")
    before, files = env.counts(), _key_files(keys_dir)
    result = env.fails("ledger", "rotate-key")
    assert "retire-key" in result.output and len(result.output.strip().splitlines()) == 1
    assert env.counts() == before and _key_files(keys_dir) == files


def test_only_an_administrator_or_the_host_account_may_rotate(admin_env: Env) -> None:
    env = admin_env
    login(env, "boss", ADMIN_PW)
    add_user(env, "op1", "--role", "auditor")  # may verify the ledger, not rotate its key
    login(env, "op1", PW)
    keys_dir = env.data_dir / "keys"
    before, files = env.counts(), _key_files(keys_dir)
    for command in ("rotate-key", "retire-key"):
        result = env.fails("ledger", command)
        assert "may not rotate or retire the ledger's signing key" in result.output
        assert "needs the role admin" in result.output
    assert env.counts() == before and _key_files(keys_dir) == files


@pytest.mark.ffmpeg  # the witness is a real process; grouped with the slower tests
def test_a_witness_that_knows_only_the_old_key_cosigns_until_it_is_retired(
    initialised: Env, tmp_path: Path
) -> None:
    env = initialised
    old = env.ok("ledger", "pubkey").output.strip()
    with closing(bootstrap.build(Settings())) as system:
        origin = system.ledger.origin
    informed = witness_for(tmp_path / "w1", "court.example/w", origin, old)
    stale = witness_for(tmp_path / "w2", "auditor.example/w", origin, old)
    try:
        env.monkeypatch.setenv("OVERSIGHT_WITNESSES", f"{informed.config},{stale.config}")
        with closing(bootstrap.build(Settings())) as system:
            _append(system, 2)
            assert [o.result for o in witnessing.submit_all(system)] == ["cosigned"] * 2
            new = json.loads(env.ok("ledger", "rotate-key", "--json").output)["new"]
            _append(system, 2)
            # both signatures on the checkpoint: the one that knows only the old key cosigns
            assert [o.result for o in witnessing.submit_all(system)] == ["cosigned"] * 2
            informed.add_log(origin, new)  # the inspector adds the new key (a running witness)
            env.ok("ledger", "retire-key")
            _append(system, 1)
            outcomes = witnessing.submit_all(system)
            assert [o.result for o in outcomes] == ["cosigned", "failed"]
            assert stale.wait_status(403)  # it was never given the new key
            state = witnessing.status(system)[1]
            assert state.last_error == "HTTP 403: it does not trust our log key"
        report = json.loads(env.fails("ledger", "witness", "--json", code=1).output)
        assert [w["result"] for w in report] == ["current", "failed"]
    finally:
        informed.stop()
        stale.stop()

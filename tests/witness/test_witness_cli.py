"""`oversight witness init | add-log | list | latest`: real files, bad input writes nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from oversight.ledger import cosignature, note
from tests.witness.conftest import Log, cli, init_witness


def tree(path: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_init_creates_a_private_data_dir_and_prints_the_verifier_key_last(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    code, out, err = cli("witness", "init", "--data-dir", str(data_dir), "--name", "police.test/w")
    assert code == 0, err
    vkey = out.strip().splitlines()[-1]
    verifier = note.parse_verifier(vkey)
    assert isinstance(verifier, cosignature.CosignatureVerifier)
    assert verifier.name == "police.test/w"
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ["witness.key", "witness.sqlite3"]:
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
    skey = (data_dir / "witness.key").read_text().strip()
    assert note.derive_verifier_key(skey) == vkey


def test_init_takes_the_data_dir_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERSIGHT_WITNESS_DATA_DIR", str(tmp_path / "env"))
    code, _, err = cli("witness", "init")
    assert code == 0, err
    assert (tmp_path / "env" / "witness.key").is_file()
    name = note.parse_verifier(json.loads(cli("witness", "list", "--json")[1])["witness"]).name
    assert name.startswith("witness.local/")


def test_init_refuses_twice_and_bad_names_writing_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    init_witness(data_dir)
    before = tree(data_dir)
    code, _, err = cli("witness", "init", "--data-dir", str(data_dir))
    assert code == 2 and "already holds a witness" in err and len(err.splitlines()) == 1
    assert tree(data_dir) == before
    for bad in ["", "has space", "a+b"]:
        other = tmp_path / f"bad{len(bad)}"
        code, _, err = cli("witness", "init", "--data-dir", str(other), "--name", bad)
        assert code == 2 and "invalid witness name" in err
        assert not other.exists()
    file = tmp_path / "file"
    file.write_text("x")
    code, _, err = cli("witness", "init", "--data-dir", str(file))
    assert code == 2 and "not a directory" in err


def test_add_log_list_and_latest(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    vkey = init_witness(data_dir)
    log = Log("oversight.test/county")
    code, out, err = cli("witness", "add-log", log.origin, log.vkey, "--data-dir", str(data_dir))
    assert code == 0, err
    code, out, _ = cli("witness", "list", "--json", "--data-dir", str(data_dir))
    data = json.loads(out)
    assert data["witness"] == vkey
    assert data["logs"] == [
        {
            "origin": log.origin,
            "size": 0,
            "root_hash": None,
            "cosigned_at": None,
            "keys": [log.vkey],
            "conflicts": 0,
        }
    ]
    code, out, _ = cli("witness", "list", "--data-dir", str(data_dir))
    assert code == 0 and log.origin in out and "never" in out
    # Nothing cosigned yet: latest says so, exit 2.
    code, _, err = cli("witness", "latest", log.origin, "--data-dir", str(data_dir))
    assert code == 2 and "no checkpoint" in err
    # A second key for the same origin is a rotation: both are trusted.
    rotated = Log(log.origin)
    code, _, err = cli("witness", "add-log", log.origin, rotated.vkey, "--data-dir", str(data_dir))
    assert code == 0, err
    keys = json.loads(cli("witness", "list", "--json", "--data-dir", str(data_dir))[1])["logs"][0]
    assert sorted(keys["keys"]) == sorted([log.vkey, rotated.vkey])


def test_latest_prints_the_cosigned_note(tmp_path: Path) -> None:
    from oversight.witness import server
    from oversight.witness.store import Store

    data_dir = tmp_path / "w"
    vkey = init_witness(data_dir)
    log = Log("oversight.test/latest")
    assert cli("witness", "add-log", log.origin, log.vkey, "--data-dir", str(data_dir))[0] == 0
    log.grow(4)
    with Store(data_dir) as store:
        line = server.add_checkpoint(store, log.body(0)).decode()
    code, out, err = cli("witness", "latest", log.origin, "--data-dir", str(data_dir))
    assert code == 0, err
    assert out == log.checkpoint() + line
    note.open_checkpoint(out, [note.parse_verifier(vkey)])


def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    witness_vkey = init_witness(data_dir)
    log = Log("oversight.test/bad")
    assert cli("witness", "add-log", log.origin, log.vkey, "--data-dir", str(data_dir))[0] == 0
    before = tree(data_dir)
    cases = [
        (["add-log", log.origin, log.vkey], "already trusted"),
        (["add-log", "bad\torigin", log.vkey], "invalid origin"),
        (["add-log", "", log.vkey], "invalid origin"),
        (["add-log", "oversight.test/x", "not-a-key"], "malformed verifier key"),
        (["add-log", "oversight.test/x", log.vkey[:-2] + "AA"], "verifier key"),
        (["add-log", "oversight.test/x", witness_vkey], "cosignature key"),
        (["latest", "oversight.test/unknown"], "unknown log origin"),
    ]
    for args, message in cases:
        code, _, err = cli("witness", *args, "--data-dir", str(data_dir))
        assert code == 2, (args, err)
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert tree(data_dir) == before


def test_commands_on_a_missing_witness_say_run_init(tmp_path: Path) -> None:
    for args in [["list"], ["latest", "o"], ["add-log", "o", Log("o").vkey], ["serve"]]:
        code, _, err = cli("witness", *args, "--data-dir", str(tmp_path / "none"))
        assert code == 2 and "oversight witness init" in err, (args, err)
    assert not (tmp_path / "none").exists()


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    init_witness(data_dir)
    (data_dir / "witness.key").chmod(0o644)
    code, _, err = cli("witness", "list", "--data-dir", str(data_dir))
    assert code == 2 and "open to others" in err


def test_serve_refuses_a_bad_prefix_or_port_before_listening(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    init_witness(data_dir)
    before = tree(data_dir)
    code, _, err = cli("witness", "serve", "--prefix", "/a b", "--data-dir", str(data_dir))
    assert code == 2 and "invalid --prefix" in err
    code, _, err = cli("witness", "serve", "--port", "70000", "--data-dir", str(data_dir))
    assert code == 2 and "--port" in err
    assert tree(data_dir) == before

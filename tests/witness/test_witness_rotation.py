"""`oversight witness rotate-key | retire-key` (issue 20, item 5): a running witness
cosigns with the new and the retiring key until the old one is retired, and what the old
key cosigned still verifies with it. Real `oversight witness serve` processes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from oversight.ledger import cosignature, note
from tests.witness.conftest import Log, Witness, cli, init_witness, start_witness
from tests.witness.test_witness_cli import tree
from tests.witness.test_witness_http import independent_cosignature_check, post, text_of


def listed(data_dir: Path) -> dict[str, object]:
    code, out, err = cli("witness", "list", "--json", "--data-dir", str(data_dir))
    assert code == 0, err
    shown: dict[str, object] = json.loads(out)
    return shown


def sig_lines(signed: str) -> list[str]:
    return signed[signed.rfind("\n\n") + 2 :].splitlines(keepends=True)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Witness, Log]]:
    """A serving witness that trusts one log, which it cosigned at size 3."""
    data_dir = tmp_path / "w"
    w = start_witness(data_dir, init_witness(data_dir, "police.test/w"))
    lg = Log("oversight.test/rotation")
    w.add_log(lg.origin, lg.vkey)
    lg.grow(3)
    assert post(w, lg.body(0)).status_code == 200
    try:
        yield w, lg
    finally:
        w.stop()


def test_rotate_makes_a_new_private_key_current_and_keeps_the_old_one_retiring(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "w"
    old = init_witness(data_dir, "police.test/w")
    old_key = (data_dir / "witness.key").read_text()
    code, out, err = cli("witness", "rotate-key", "--data-dir", str(data_dir))
    assert code == 0, err
    new = out.strip().splitlines()[-1]
    assert "retire-key" in out  # says what to do next
    verifier = note.parse_verifier(new)
    assert isinstance(verifier, cosignature.CosignatureVerifier)
    assert verifier.name == "police.test/w" and new != old  # same name, a new key id
    assert note.derive_verifier_key((data_dir / "witness.key").read_text().strip()) == new
    assert (data_dir / "witness.retiring.key").read_text() == old_key
    for name in ["witness.key", "witness.retiring.key"]:
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".")] == []  # no temp file
    shown = listed(data_dir)
    assert (shown["witness"], shown["retiring"], shown["retired"]) == (new, old, [])
    # --name gives the new key another name
    code, out, err = cli("witness", "retire-key", "--data-dir", str(data_dir))
    assert code == 0, err
    code, out, err = cli(
        "witness", "rotate-key", "--data-dir", str(data_dir), "--name", "county.test/w"
    )
    assert code == 0, err
    assert note.parse_verifier(out.strip().splitlines()[-1]).name == "county.test/w"


def test_a_serving_witness_cosigns_with_both_keys_until_the_old_one_is_retired(
    serving: tuple[Witness, Log],
) -> None:
    w, lg = serving
    first = httpx.get(f"{w.url}/latest/{lg.origin}", timeout=10).text
    old = w.vkey
    new = w.rotate_key()  # no restart
    lg.grow(3)
    response = post(w, lg.body(3))
    assert response.status_code == 200, response.text
    lines = response.text.splitlines(keepends=True)
    assert len(lines) == 2  # the new key's line, then the retiring key's
    body = text_of(lg.checkpoint())
    independent_cosignature_check(new, body, lines[0])
    independent_cosignature_check(old, body, lines[1])
    latest = httpx.get(f"{w.url}/latest/{lg.origin}", timeout=10).text
    assert sig_lines(latest)[1:] == lines  # the log's signature, then both cosignatures
    note.open_note(latest, [note.parse_verifier(k) for k in (lg.vkey, old, new)])

    w.retire_key()
    shown = listed(w.data_dir)
    assert (shown["witness"], shown["retiring"], shown["retired"]) == (new, None, [old])
    assert (w.data_dir / "retired-keys.txt").read_text() == old + "\n"
    assert not (w.data_dir / "witness.retiring.key").exists()
    lg.grow(3)
    response = post(w, lg.body(6))
    assert response.status_code == 200, response.text
    (line,) = response.text.splitlines(keepends=True)
    independent_cosignature_check(new, text_of(lg.checkpoint()), line)
    # what the old key cosigned before still verifies with it, retired or not
    independent_cosignature_check(old, text_of(first), sig_lines(first)[1])
    independent_cosignature_check(old, body, lines[1])


def test_rotating_twice_without_retiring_is_refused_and_changes_nothing(
    serving: tuple[Witness, Log],
) -> None:
    w, lg = serving
    old = w.vkey
    new = w.rotate_key()
    before = tree(w.data_dir)
    code, out, err = cli("witness", "rotate-key", "--data-dir", str(w.data_dir))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "retire the previous key first" in err and out == ""
    assert tree(w.data_dir) == before
    # the witness still cosigns with exactly the two keys
    lg.grow(1)
    lines = post(w, lg.body(3)).text.splitlines(keepends=True)
    for vkey, line in zip([new, old], lines, strict=True):
        independent_cosignature_check(vkey, text_of(lg.checkpoint()), line)


def test_retire_without_a_rotation_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    init_witness(data_dir)
    before = tree(data_dir)
    code, out, err = cli("witness", "retire-key", "--data-dir", str(data_dir))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "no retiring key" in err and out == ""
    assert tree(data_dir) == before


def test_rotate_refuses_a_bad_name_or_no_witness_and_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "w"
    init_witness(data_dir)
    before = tree(data_dir)
    code, _, err = cli("witness", "rotate-key", "--data-dir", str(data_dir), "--name", "a b")
    assert code == 2 and "invalid witness name" in err
    assert tree(data_dir) == before
    code, _, err = cli("witness", "rotate-key", "--data-dir", str(tmp_path / "none"))
    assert code == 2 and "no witness in" in err
    assert not (tmp_path / "none").exists()


def test_a_rotation_stopped_between_its_two_steps_is_only_one_key(tmp_path: Path) -> None:
    """A crash after linking the old key as retiring, before the new key is in place:
    the data dir still has its one key (no retiring one), and rotating again works."""
    data_dir = tmp_path / "w"
    old = init_witness(data_dir)
    os.link(data_dir / "witness.key", data_dir / "witness.retiring.key")
    shown = listed(data_dir)
    assert (shown["witness"], shown["retiring"]) == (old, None)
    code, _, err = cli("witness", "rotate-key", "--data-dir", str(data_dir))
    assert code == 0, err
    assert listed(data_dir)["retiring"] == old


def test_a_key_file_opened_to_others_is_refused_at_start_and_kept_out_while_serving(
    serving: tuple[Witness, Log],
) -> None:
    w, lg = serving
    old, new = w.vkey, w.rotate_key()
    lg.grow(1)
    assert len(post(w, lg.body(3)).text.splitlines()) == 2  # both keys read
    retiring = w.data_dir / "witness.retiring.key"
    retiring.chmod(0o644)
    # serving: the keys read before go on cosigning; the operator is told once
    lg.grow(1)
    lines = post(w, lg.body(4)).text.splitlines(keepends=True)
    for vkey, line in zip([new, old], lines, strict=True):
        independent_cosignature_check(vkey, text_of(lg.checkpoint()), line)
    lg.grow(1)
    assert len(post(w, lg.body(5)).text.splitlines()) == 2
    assert len(w.wait_requests(4)) == 4
    assert sum("cannot be read, keeping the keys in use" in x for x in w.stderr) == 1
    # starting, listing: refused, naming the file
    code, _, err = cli("witness", "list", "--data-dir", str(w.data_dir))
    assert code == 2 and "witness.retiring.key is open to others" in err
    retiring.chmod(0o600)
    assert listed(w.data_dir)["retiring"] == old

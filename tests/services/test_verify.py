"""`oversight verify` on SQLite and PostgreSQL: a clean deployment passes, and each kind
of tampering is reported by kind and object with exit code 1."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import models as m
from oversight.ledger import leaves
from oversight.services import recording
from oversight.services.sealing import seal_file
from tests.conftest import Env

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _register_camera(env: Env) -> None:
    env.ok("orgs", "add", "--id", "owner", "--name", "Owner", "--kind", "owner")
    env.ok(
        "sites", "add", "--id", "school", "--name", "School", "--category", "school",
        "--owner", "owner",
    )  # fmt: skip
    env.ok(
        "cameras", "add", "--id", "cam1", "--site", "school", "--placement", "general",
        "--coverage", "entrance", "--stream", "rtsp://127.0.0.1:8554/cam1",
        "--commissioned", "2026-04-01",
    )  # fmt: skip


def _seal(system: bootstrap.System, tmp: Path, n: int) -> list[str]:
    keys = []
    for i in range(n):
        spool = tmp / f"seg{i}.mp4"
        spool.write_bytes(os.urandom(1000 + i))
        start = T0 + timedelta(minutes=i)
        sealed = seal_file(
            system, camera="cam1", path=spool, start=start, end=start + timedelta(minutes=1)
        )
        keys.append(sealed.storage_key)
    return keys


@pytest.fixture
def sealed(initialised: Env, tmp_path: Path) -> tuple[Env, list[str]]:
    _register_camera(initialised)
    system = bootstrap.build(Settings())
    try:
        keys = _seal(system, tmp_path, 3)
    finally:
        system.close()
    return initialised, keys


def _problems(env: Env) -> list[dict[str, str]]:
    result = env.fails("verify", "--json", code=1)
    report = json.loads(result.output)
    assert report["ok"] is False
    problems: list[dict[str, str]] = report["problems"]
    return problems


def _engine_exec(env: Env, statement: object) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(env.url)
    try:
        with engine.begin() as conn:
            conn.execute(statement)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_a_clean_deployment_verifies(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] is True and report["problems"] == []
    assert report["segments_checked"] == 3
    assert report["ledger_size"] == 6  # org, site, camera, three segments
    assert "OK" in env.ok("verify").output


def test_a_changed_byte_in_a_segment_is_modified(sealed: tuple[Env, list[str]]) -> None:
    env, keys = sealed
    path = env.data_dir / "store" / keys[1]
    path.chmod(0o600)  # writable by us only: not also "exposed"
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    [problem] = _problems(env)
    assert problem["kind"] == "modified" and "cam1#2" in problem["object"]


def test_a_deleted_segment_is_missing(sealed: tuple[Env, list[str]]) -> None:
    env, keys = sealed
    (env.data_dir / "store" / keys[0]).unlink()
    [problem] = _problems(env)
    assert problem["kind"] == "missing" and keys[0] in problem["object"]


def test_a_file_unknown_to_the_log_is_unexpected(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    planted = env.data_dir / "store" / "cam1" / "planted.mp4"
    planted.write_bytes(b"not recorded by us")
    [problem] = _problems(env)
    assert problem["kind"] == "unexpected" and "cam1/planted.mp4" in problem["object"]


def test_a_changed_byte_in_a_stored_leaf_is_modified(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    _engine_exec(
        env,
        update(m.LedgerLeaf).where(m.LedgerLeaf.idx == 4).values(data=b'{"v":1,"type":"gap"}'),
    )
    problems = _problems(env)
    assert {"kind": "modified", "object": "ledger leaf 4"} in [
        {"kind": p["kind"], "object": p["object"]} for p in problems
    ]


def test_a_changed_stored_subtree_hash_is_modified(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    # Leaf 3 completes nodes (1, 1) and (2, 0); change the level-2 hash only.
    level1 = _parents(env, 3)[:32]
    _engine_exec(
        env,
        update(m.LedgerLeaf).where(m.LedgerLeaf.idx == 3).values(parents=level1 + b"\x07" * 32),
    )
    [problem] = _problems(env)
    assert problem["kind"] == "modified" and problem["object"] == "ledger node (2, 0)"


def test_a_dropped_stored_subtree_hash_is_reported(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    _engine_exec(env, update(m.LedgerLeaf).where(m.LedgerLeaf.idx == 1).values(parents=b""))
    [problem] = _problems(env)
    assert problem["kind"] == "modified" and problem["object"] == "ledger leaf 1"
    assert "0 bytes of subtree hashes, want 32" in problem["detail"]


def _parents(env: Env, idx: int) -> bytes:
    from sqlalchemy import create_engine, select

    engine = create_engine(env.url)
    try:
        with engine.connect() as conn:
            return bytes(
                conn.execute(
                    select(m.LedgerLeaf.parents).where(m.LedgerLeaf.idx == idx)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_an_index_row_that_disagrees_with_the_log_is_an_index_mismatch(
    sealed: tuple[Env, list[str]],
) -> None:
    env, _ = sealed
    _engine_exec(env, update(m.Segment).where(m.Segment.seq == 3).values(size_bytes=1))
    [problem] = _problems(env)
    assert problem["kind"] == "index-mismatch" and problem["object"] == "segment cam1#3"


def test_a_register_time_row_hidden_or_moved_is_an_index_mismatch(
    sealed: tuple[Env, list[str]],
) -> None:
    env, _ = sealed
    system = bootstrap.build(Settings())
    try:
        with system.reads() as s:
            first, second = [
                leaf.index for leaf in system.ledger.leaves(s) if leaf.kind == "segment_sealed"
            ][:2]
    finally:
        system.close()
    # Deleting a row would hide a recording from every period query of the register.
    _engine_exec(env, delete(m.RegisterTime).where(m.RegisterTime.idx == first))
    _engine_exec(
        env,
        update(m.RegisterTime)
        .where(m.RegisterTime.idx == second)
        .values(at=datetime(2020, 1, 1, tzinfo=UTC)),
    )
    problems = _problems(env)
    assert [(p["kind"], p["object"]) for p in problems] == [
        ("index-mismatch", f"register entry {first}"),
        ("index-mismatch", f"register entry {second}"),
    ]
    assert "not in the register's time index" in problems[0]["detail"]
    assert "differs from its ledger leaf" in problems[1]["detail"]


def test_a_rewritten_history_is_a_fork_against_a_witness(
    sealed: tuple[Env, list[str]], tmp_path: Path
) -> None:
    env, _ = sealed
    witness = tmp_path / "witness.txt"
    witness.write_text(env.ok("ledger", "checkpoints").output)
    # Rewrite history: drop the whole log and append a different one of the same size.
    for table in (m.LedgerCheckpoint, m.LedgerLeaf):
        _engine_exec(env, delete(table))
    system = bootstrap.build(Settings())
    try:
        with system.sessions.begin() as session:
            system.ledger.append(
                session,
                [
                    leaves.registry(at=T0, actor="x", action="a", subject=f"s{i}", changes={})
                    for i in range(6)
                ],
            )
    finally:
        system.close()
    result = env.fails("verify", "--json", "--against", str(witness), code=1)
    kinds = {(p["kind"], p["object"]) for p in json.loads(result.output)["problems"]}
    assert ("fork", "witness checkpoint 6") in kinds
    assert ("fork", "witness checkpoint 3") in kinds


def test_witness_checkpoints_of_our_own_history_agree(
    sealed: tuple[Env, list[str]], tmp_path: Path
) -> None:
    env, _ = sealed
    witness = tmp_path / "witness.txt"
    witness.write_text(env.ok("ledger", "checkpoints", "--since", "2").output)
    report = json.loads(env.ok("verify", "--json", "--against", str(witness)).output)
    assert report["witness_checkpoints_checked"] == 5


def test_a_sample_checks_only_that_many_segments(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    report = json.loads(env.ok("verify", "--json", "--sample", "2").output)
    assert report["sampled"] is True and report["segments_checked"] == 2
    env.fails("verify", "--sample", "0")


def test_an_unreadable_witness_file_is_a_clear_error(sealed: tuple[Env, list[str]]) -> None:
    env, _ = sealed
    result = env.fails("verify", "--against", "/nonexistent/witness.txt")
    assert "--against" in result.output


def test_each_cli_verify_run_is_recorded_for_the_dashboard(initialised: Env) -> None:
    from oversight.services.verify import latest_run

    initialised.ok("verify")
    built = bootstrap.build(Settings())
    try:
        run = latest_run(built)
    finally:
        built.close()
    assert run is not None and run.ok and run.problems == []
    assert run.ledger_size == 0 and run.finished_at >= run.started_at  # init appends no leaf


# ---- issue 19: times, gaps, symlinks and same-size swaps ---------------------------


@pytest.mark.parametrize(
    ("column", "shift"),
    [("start_at", timedelta(minutes=-10)), ("end_at", timedelta(hours=2))],
    ids=["start-10-min-earlier", "end-2-h-later"],
)
def test_an_index_row_moved_in_time_is_an_index_mismatch(
    sealed: tuple[Env, list[str]], column: str, shift: timedelta
) -> None:
    """Found item 3: moving a segment's times in the database passed verify at exit 0."""
    env, _ = sealed
    sealed_at = {"start_at": T0 + timedelta(minutes=1), "end_at": T0 + timedelta(minutes=2)}
    moved = {column: sealed_at[column] + shift}  # segment 2
    _engine_exec(env, update(m.Segment).where(m.Segment.seq == 2).values(**moved))
    [problem] = _problems(env)
    assert (problem["kind"], problem["object"]) == ("index-mismatch", "segment cam1#2")
    assert ("start" if column == "start_at" else "end") in problem["detail"]


def _gap(env: Env) -> None:
    system = bootstrap.build(Settings())
    try:
        recording.record_gap(
            system, camera="cam1", start=T0 + timedelta(minutes=3),
            end=T0 + timedelta(minutes=5), reason="stalled",
        )  # fmt: skip
    finally:
        system.close()


def test_a_deleted_gap_row_is_an_index_mismatch(sealed: tuple[Env, list[str]]) -> None:
    """Found item 3: deleting a row of gaps passed verify, and `gaps list` showed nothing."""
    env, _ = sealed
    _gap(env)
    assert env.ok("verify")
    _engine_exec(env, delete(m.Gap))
    [problem] = _problems(env)
    assert problem["kind"] == "index-mismatch" and problem["object"].startswith("gap cam1 ")
    assert "an outage was removed" in problem["detail"]


@pytest.mark.parametrize(
    "values",
    [
        {"end_at": T0 + timedelta(minutes=4)},
        {"start_at": T0 + timedelta(minutes=4)},
        {"reason": "planned maintenance"},
    ],
    ids=["shortened", "started-later", "re-worded"],
)
def test_an_edited_gap_row_is_an_index_mismatch(
    sealed: tuple[Env, list[str]], values: dict[str, object]
) -> None:
    env, _ = sealed
    _gap(env)
    _engine_exec(env, update(m.Gap).values(**values))
    [problem] = _problems(env)
    assert problem["kind"] == "index-mismatch" and problem["object"].startswith("gap row ")
    [field] = values
    assert field.removesuffix("_at") in problem["detail"]


def test_a_symlink_added_to_the_store_is_unexpected(
    sealed: tuple[Env, list[str]], tmp_path: Path
) -> None:
    """Found item 4."""
    env, _ = sealed
    elsewhere = tmp_path / "elsewhere.mp4"
    elsewhere.write_bytes(b"footage from anywhere")
    (env.data_dir / "store" / "cam1" / "linked.mp4").symlink_to(elsewhere)
    [problem] = _problems(env)
    assert problem["kind"] == "unexpected" and "cam1/linked.mp4" in problem["object"]
    assert "symlink" in problem["detail"]


def test_a_same_size_swap_says_the_hash_differs(sealed: tuple[Env, list[str]]) -> None:
    """Found item 8: a same-size swap read "size X, want X"."""
    env, keys = sealed
    first = env.data_dir / "store" / keys[0]
    spare = os.urandom(len(first.read_bytes()))
    first.chmod(0o600)
    first.write_bytes(spare)  # same size as sealed, other bytes
    [problem] = _problems(env)
    assert problem["kind"] == "modified" and "SHA-256 differs" in problem["detail"]
    assert "want" not in problem["detail"]

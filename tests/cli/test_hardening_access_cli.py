"""Issue 18, findings 10 and 12 through the CLI, on SQLite and PostgreSQL: a request
reaching into the future, a grant beyond the packs' maximum lifetime, a document over
the size setting and a request by an account without a role are each one line on
stderr and exit 2; governance refusals leave only their ``*.refused`` leaf, input
errors nothing at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import people
from tests.cli import test_access_cli as base
from tests.cli.test_access_cli import PW, _documents, _iso, _request
from tests.cli.test_users_cli import login, run
from tests.conftest import Env

# The deployment of tests/cli/test_access_cli.py (cast, sealed footage of cam1).
deployment = base.deployment
fast_hashes = base.fast_hashes

LEDGER = {"ledger_leaves", "ledger_checkpoints", "register_times"}  # the register


def outside_ledger(env: Env) -> dict[str, int]:
    return {k: v for k, v in env.counts().items() if k not in LEDGER}


def register(env: Env) -> list[dict[str, object]]:
    login(env, "cust", PW)
    entries: list[dict[str, object]] = json.loads(run(env, "audit", "log", "--json").stdout)
    return [e for e in entries if e["action"] != "record"]


def one_line(text: str) -> str:
    assert text.count("\n") == 1, text
    return text


def test_a_grant_beyond_the_pack_maximum_is_exit_2_and_only_its_refusal_logged(
    deployment: Env, tmp_path: Path
) -> None:
    env = deployment
    login(env, "cop", PW)
    req = _request(env, tmp_path, *_documents(tmp_path))
    login(env, "appr", PW)
    before = outside_ledger(env)
    refused = run(env, "access", "approve", req, "--valid-days", "365", code=2)
    error = one_line(refused.stderr)
    assert "at most 30 days, not 365 days" in error and "Art. 16" in error
    assert outside_ledger(env) == before
    assert register(env)[-1]["action"] == "approve.refused"
    login(env, "appr", PW)
    grant = run(env, "access", "approve", req, "--valid-days", "30").stdout.strip()
    assert grant.isdigit()


def test_a_request_into_the_future_is_exit_2_and_stores_no_document(
    deployment: Env, tmp_path: Path
) -> None:
    env = deployment
    login(env, "cop", PW)
    before = outside_ledger(env)
    future = _iso(datetime.now(UTC) + timedelta(days=3650))
    args = ["--kind", "view", "--cameras", "cam1", "--to", future, "--org-class", "police"]
    refused = run(
        env,
        "access",
        "request",
        "--from",
        "2024-05-01T08:00:00Z",
        *args,
        "--requester-name",
        "Officer Li",
        "--work-id",
        "PS-1234",
        "--id-doc",
        "COP00001",
        "--org",
        "County Police",
        "--purpose",
        "watch for ten years",
        *_documents(tmp_path),
        code=2,
    )
    error = one_line(refused.stderr)
    assert "recorded footage only" in error and "operator policy" in error
    assert outside_ledger(env) == before
    assert not (env.data_dir / "documents").exists()
    [entry] = register(env)
    assert entry["action"] == "request.refused"
    assert entry["details"]["rule"] == "access_bounds"  # type: ignore[index]


def test_a_document_over_the_size_setting_is_exit_2_and_writes_nothing(
    deployment: Env, tmp_path: Path
) -> None:
    env = deployment
    env.monkeypatch.setenv("OVERSIGHT_DOCUMENT_MAX_BYTES", "2048")
    login(env, "cop", PW)
    docs = _documents(tmp_path)
    (tmp_path / "unit_letter.txt").write_bytes(b"x" * 2049)
    before = env.counts()
    refused = run(env, "access", "request", *_request_args(tmp_path, "COP00001", docs), code=2)
    assert one_line(refused.stderr) == (
        "error: document 'unit_letter' is larger than 2048 bytes (document_max_bytes)\n"
    )
    assert env.counts() == before
    assert not (env.data_dir / "documents").exists()


def test_an_account_without_a_role_may_not_request(deployment: Env, tmp_path: Path) -> None:
    env = deployment
    system = bootstrap.build(Settings())
    try:
        boss = people.person_by_id(system, "boss")
        people.add_user(
            system, boss, user_id="nobody", name="Nobody", roles=[], id_doc="NOBO0001", password=PW
        )
    finally:
        system.close()
    login(env, "nobody", PW)
    before = outside_ledger(env)
    result = env.run("access", "request", *_request_args(tmp_path, "NOBO0001"))
    assert result.exit_code == 2, result.output
    error = one_line(result.stderr)
    assert "may not request access to footage" in error and "requester" in error
    assert outside_ledger(env) == before
    assert not (env.data_dir / "documents").exists()
    [entry] = register(env)
    assert entry["action"] == "request.refused" and entry["actors"] == ["nobody"]


def _request_args(tmp_path: Path, id_doc: str, docs: list[str] | None = None) -> list[str]:
    return [
        "--kind",
        "copy",
        "--cameras",
        "cam1",
        "--from",
        "2024-05-01T08:00:00Z",
        "--to",
        "2024-05-01T08:00:12Z",
        "--requester-name",
        "Officer Li",
        "--work-id",
        "PS-1234",
        "--id-doc",
        id_doc,
        "--org",
        "County Police",
        "--org-class",
        "police",
        "--purpose",
        "curiosity",
        *(_documents(tmp_path) if docs is None else docs),
    ]

"""Access governance through the CLI: a police request runs end to end on real sealed
footage (request with documents, approval by a second person, export with a witness,
`evidence verify`, the register), and refusals are one line, exit 2, and logged."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import people
from tests.cli.test_users_cli import login, run
from tests.conftest import Env
from tests.evidence.helpers import SEGMENT_SECONDS, T0, record_and_seal

PW = "user password 12"
ADMIN_PW = "admin password 1"
PURPOSE = "theft investigation 2024-17"
DESTINATION = "County Police evidence room"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def deployment(env: Env, tmp_path: Path) -> Env:
    """Admin boss; custodians cust and appr, witness wit (trained); requester cop;
    cust2 is cust's second account; two sealed segments of cam1 from T0."""
    run(
        env,
        "init",
        "--admin-id",
        "boss",
        "--admin-password-stdin",
        "--admin-id-doc",
        "BOSS0001",
        input=ADMIN_PW + "\n",
    )
    system = bootstrap.build(Settings())
    try:
        boss = people.person_by_id(system, "boss")
        today = system.packs.local_date(system.clock.now())
        for uid, doc, role in [
            ("cust", "CUST0001", "custodian"),
            ("appr", "APPR0001", "custodian"),
            ("wit", "WIT00001", "witness"),
            ("cust2", "CUST0001", "witness"),
            ("cop", "COP00001", "requester"),
        ]:
            people.add_user(
                system, boss, user_id=uid, name=uid.title(), roles=[], id_doc=doc, password=PW
            )
            people.record_training(
                system,
                boss,
                user_id=uid,
                trained_on=today - timedelta(days=10),
                valid_until=date(today.year + 1, 1, 1),
                topics=["skills", "confidentiality"],
            )
            if role:
                people.grant_role(system, boss, uid, role)
        record_and_seal(system, tmp_path / "rec", count=2)
    finally:
        system.close()
    return env


def _documents(tmp_path: Path) -> list[str]:
    out = []
    for kind in ("work_id", "identity_document", "unit_letter", "own_agency_head"):
        path = tmp_path / f"{kind}.txt"
        path.write_text(f"scan of {kind}\n")
        out += ["--document", f"{kind}={path}"]
    return out


def _request_args() -> list[str]:
    end = T0 + timedelta(seconds=2 * SEGMENT_SECONDS)
    return [
        "access",
        "request",
        "--kind",
        "copy",
        "--cameras",
        "cam1",
        "--from",
        _iso(T0),
        "--to",
        _iso(end),
        "--requester-name",
        "Officer Li",
        "--work-id",
        "PS-1234",
        "--id-doc",
        "COP00001",
        "--org",
        "County Police",
        "--org-class",
        "police",
        "--purpose",
        PURPOSE,
        "--destination",
        DESTINATION,
    ]


def _request(env: Env, tmp_path: Path, *docs: str, code: int = 0) -> str:
    result = run(env, *_request_args(), *docs, code=code)
    return result.stdout.strip()


@pytest.mark.ffmpeg
@pytest.mark.parametrize("database_url", [None])
def test_a_police_request_runs_end_to_end(deployment: Env, tmp_path: Path) -> None:
    env = deployment
    login(env, "cop", PW)
    req = _request(env, tmp_path, *_documents(tmp_path))
    assert req.isdigit()
    # The requester cannot approve (no custodian role); a custodian can.
    login(env, "appr", PW)
    grant = run(env, "access", "approve", req, "--note", "head's approval on file").stdout.strip()
    assert grant.isdigit()
    replay = run(env, "access", "approve", req, code=2)
    assert "approved already" in replay.stderr and "Art. 16" in replay.stderr

    login(env, "cust", PW)
    # One person behind two accounts is not two people present (Art. 17(3)).
    same = run(
        env,
        "export",
        "--grant",
        grant,
        "--out",
        str(tmp_path / "refused"),
        "--witness",
        "cust2",
        "--witness-password-stdin",
        input=PW + "\n",
        code=2,
    )
    assert "different people" in same.stderr and "Art. 17(3)" in same.stderr
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "package"
    run(
        env,
        "export",
        "--grant",
        grant,
        "--out",
        str(out),
        "--witness",
        "wit",
        "--witness-password-stdin",
        input=PW + "\n",
    )
    key = run(env, "ledger", "pubkey").stdout.strip()  # the operator's, out of band
    verified = run(env, "evidence", "verify", str(out), "--json", "--key", key)
    assert json.loads(verified.stdout)["ok"] is True
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["purpose"] == PURPOSE and manifest["destination"] == DESTINATION
    assert manifest["executed_by"] == ["cust", "wit"]

    register = json.loads(run(env, "audit", "log", "--json").stdout)
    by_action = {e["action"]: e for e in register}
    assert [e["action"] for e in register if e["action"] == "record"] == ["record", "record"]
    for action in ("request", "approve", "approve.refused", "export.refused", "export"):
        assert by_action[action]["purpose"] == PURPOSE
        assert by_action[action]["destination"] == DESTINATION
    assert by_action["export"]["actors"] == ["cust", "wit"]
    assert by_action["export.refused"]["actors"] == ["cust", "cust2"]
    assert by_action["approve"]["grant"] == grant
    newest = json.loads(run(env, "audit", "log", "--limit", "2", "--json").stdout)
    assert newest == register[-2:]
    older = run(env, "audit", "log", "--limit", "2", "--before", str(newest[0]["leaf_index"]))
    assert f"--before {register[-4]['leaf_index']}" in older.output  # the page after that
    page = ["audit", "log", "--limit", "2", "--before", str(newest[0]["leaf_index"]), "--json"]
    assert json.loads(run(env, *page).stdout) == register[-4:-2]
    refused = run(env, "audit", "log", "--limit", "0", code=2)
    assert "error: the page size must be between 1 and" in refused.output
    mine = json.loads(run(env, "audit", "log", "--person", "wit", "--json").stdout)
    assert [e["action"] for e in mine] == ["export", "export.done"]  # the package recorded
    csv_out = run(env, "audit", "log", "--camera", "cam1", "--csv").stdout
    assert csv_out.splitlines()[0].startswith("leaf_index,at,action")
    assert "export" in csv_out
    # Issue 22, item 7: the action and request filters, and every entry's request.
    exports = json.loads(run(env, "audit", "log", "--action", "export", "--json").stdout)
    assert {e["action"] for e in exports} == {"export", "export.done", "export.refused"}
    of_request = json.loads(run(env, "audit", "log", "--request", req, "--json").stdout)
    assert {"request", "approve", "export"} <= {e["action"] for e in of_request}
    assert {e["request"] for e in of_request} == {req}
    unknown = run(env, "audit", "log", "--action", "peek", code=2)
    assert "unknown action 'peek'" in unknown.output

    shown = json.loads(run(env, "access", "show", req).stdout)
    assert shown["status"] == "approved" and shown["id_doc_masked"] == "****0001"
    assert "COP00001" not in json.dumps(shown)


def test_a_request_without_its_documents_is_refused_and_logged(
    deployment: Env, tmp_path: Path
) -> None:
    env = deployment
    login(env, "cop", PW)
    docs = _documents(tmp_path)[:-2]  # no agency-head approval
    refused = _request(env, tmp_path, *docs, code=2)
    assert refused == ""
    login(env, "cust", PW)
    listed = json.loads(run(env, "access", "list", "--json").stdout)
    assert listed == []
    [entry] = [
        e for e in json.loads(run(env, "audit", "log", "--json").stdout) if e["action"] != "record"
    ]
    assert entry["action"] == "request.refused" and entry["actors"] == ["cop"]
    assert entry["details"]["article"].startswith("Art. 16")


@pytest.mark.ffmpeg
@pytest.mark.parametrize("database_url", [None])
def test_every_missing_document_is_named_at_once_with_the_cli_flags(
    deployment: Env, tmp_path: Path
) -> None:
    env = deployment
    login(env, "cop", PW)
    docs = _documents(tmp_path)[:2] + _documents(tmp_path)[4:6]  # work_id, unit_letter
    result = env.run(*_request_args(), *docs)
    assert result.exit_code == 2 and result.stdout.strip() == ""
    [line] = result.stderr.strip().splitlines()
    assert "needs: identity document (Art. 17(1))" in line
    assert "signed approval of the requesting agency's head" in line
    assert "--document identity_document=FILE --document own_agency_head=FILE" in line
    assert line.endswith("(Art. 16 para 1)")

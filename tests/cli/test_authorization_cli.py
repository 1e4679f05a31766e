"""Issue 17, found items 1, 2, 3 and 5 through the CLI: a person scoped to site s3
acts on nothing of site s1, the requester never counts as the second person, an
operator reads no access details through the ledger, and a requester sees their own
requests (only theirs), as on the API and the console.

Each refusal is exit 2 with one line ``error: ...``; it writes nothing but, where it
concerns footage or its governance, its own ``*.refused`` leaf naming who acted.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import Result

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import people
from oversight.services.sealing import seal_file
from tests.cli.test_users_cli import TODAY, add_user, login, run, train
from tests.conftest import Env
from tests.evidence.helpers import SEGMENT_SECONDS, T0, record_and_seal
from tests.web.api_data import SEGMENT, recent_start, sealed_camera
from tests.web.authz_helpers import (
    SCOPED,
    Cases,
    ledger,
    names,
    outside_ledger,
    refusals_since,
    size,
    yesterday,
)
from tests.web.conftest import PW, add_cast

PURPOSE = "theft investigation 2026-17"
DESTINATION = "County Police evidence room"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@dataclass(frozen=True)
class Deployment:
    """The web tests' cast (boss, op, cust, appr, wit, aud, cop), cam1 at s1 with sealed
    footage from ``start`` to ``end``, a site s3 (the people of SCOPED and a camera
    cam3 added on demand), and documents for a police request in ``docs``."""

    env: Env
    start: datetime
    end: datetime
    docs: list[str]

    def request(self, camera: str = "cam1", user: str = "cop", id_doc: str = "COP00001") -> str:
        """A copy request for ``camera`` entered by ``user``; its id."""
        login(self.env, user, PW)
        made = run(
            self.env,
            *("access", "request", "--kind", "copy", "--cameras", camera),
            *("--from", _iso(self.start), "--to", _iso(self.end)),
            *("--requester-name", "Officer Li", "--work-id", "PS-1234", "--id-doc", id_doc),
            *("--org", "County Police", "--org-class", "police"),
            *("--purpose", PURPOSE, "--destination", DESTINATION),
            *self.docs,
        )
        return made.stdout.strip()

    def grant(self, request_id: str, by: str = "cust") -> str:
        login(self.env, by, PW)
        return run(self.env, "access", "approve", request_id, "--note", "ok").stdout.strip()

    def scoped(self, user: str) -> None:
        """Add ``user`` of SCOPED (trained, with its role, limited to s3) as the admin."""
        doc, role = SCOPED[user]
        login(self.env, "boss", PW)
        add_user(self.env, user, "--site", "s3", doc=doc)
        train(self.env, user, TODAY + timedelta(days=365))
        if role is not None:
            self.env.ok("users", "grant", user, "--role", role)

    def add_cam3(self, tmp_path: Path) -> None:
        """cam3 at s3 (registered by the admin) with one sealed segment."""
        login(self.env, "boss", PW)
        self.env.ok(
            *("cameras", "add", "--id", "cam3", "--site", "s3", "--placement", "general"),
            *("--coverage", "entrance", "--stream", "rtsp://127.0.0.1:8554/cam3"),
            *("--commissioned", yesterday()),
        )
        system = bootstrap.build(Settings())
        try:
            path = tmp_path / "cam3-0.mp4"
            path.write_bytes(b"segment cam3 0" * 10)
            seal_file(system, camera="cam3", path=path, start=self.start, end=self.start + SEGMENT)
        finally:
            system.close()

    def hold(self, by: str = "cust") -> str:
        login(self.env, by, PW)
        placed = run(
            self.env,
            *("retention", "hold", "--camera", "cam1", "--from", _iso(self.start)),
            *("--to", _iso(self.end), "--reason", "court order 17"),
        )
        found = re.search(r"Hold (\d+)", placed.stdout)
        assert found, placed.stdout
        return found.group(1)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _documents(tmp_path: Path) -> list[str]:
    out = []
    for kind in ("work_id", "identity_document", "unit_letter", "own_agency_head"):
        path = tmp_path / f"{kind}.txt"
        path.write_text(f"scan of {kind}\n")
        out += ["--document", f"{kind}={path}"]
    return out


def _deploy(env: Env, tmp_path: Path, *, real_footage: bool) -> Deployment:
    env.ok("init")
    system = bootstrap.build(Settings())
    try:
        add_cast(system)
        if real_footage:  # H.264 made by ffmpeg, for an export
            record_and_seal(system, tmp_path / "rec", count=1)
            start, end = T0, T0 + timedelta(seconds=SEGMENT_SECONDS)
        else:
            start = recent_start()
            sealed_camera(system, tmp_path, count=2, start=start)
            end = start + 2 * SEGMENT
    finally:
        system.close()
    login(env, "boss", PW)
    env.ok(
        "sites", "add", "--id", "s3", "--name", "Site 3", "--category", "school", "--owner", "acme"
    )
    return Deployment(env, start, end, _documents(tmp_path))


@pytest.fixture
def deployment(env: Env, tmp_path: Path) -> Deployment:
    return _deploy(env, tmp_path, real_footage=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, (
        f"expected exit 2, got {result.exit_code} (the command was allowed): {result.output}"
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---- Finding 1: site scope -------------------------------------------------------------


def _approve(d: Deployment) -> list[str]:
    return ["access", "approve", d.request()]


def _deny(d: Deployment) -> list[str]:
    return ["access", "deny", d.request(), "--reason", "no"]


def _revoke(d: Deployment) -> list[str]:
    return ["access", "revoke", d.grant(d.request()), "--reason", "not mine"]


def _release(d: Deployment) -> list[str]:
    return ["retention", "release", d.hold(), "--reason", "lift"]


GOVERNANCE = {"approve": _approve, "deny": _deny, "revoke": _revoke, "release-hold": _release}


def test_f1_an_s3_custodian_cannot_govern_s1_footage_from_the_cli(
    deployment: Deployment,
) -> None:
    """Finding 1: a custodian scoped to s3 approved or denied a request for an s1 camera,
    revoked an s1 grant and released a legal hold on s1 footage. Expected, for each:
    exit 2 with one line, nothing written, a refused leaf naming them, the state of
    requests, grants and holds unchanged."""
    env = deployment.env
    deployment.scoped("cust3")
    cases = Cases()
    for act, make in GOVERNANCE.items():
        with cases.case(act):
            args = make(deployment)
            login(env, "boss", PW)
            state_before = _governed_state(env)
            login(env, "cust3", PW)
            before, since = outside_ledger(env), size(env.url)
            one_line_error(env.run(*args))
            assert outside_ledger(env) == before, "the refused command wrote rows"
            assert refusals_since(env.url, since, "cust3"), "no *.refused leaf names cust3"
            login(env, "boss", PW)
            assert _governed_state(env) == state_before
    cases.check()


def _governed_state(env: Env) -> object:
    """What a decision, revocation or release changes: requests, grants and holds."""
    requests = as_json(env.run("access", "list", "--json"))
    holds = as_json(env.run("retention", "list", "--json"))
    return requests, holds["holds"]  # type: ignore[index]


REGISTRY = {
    "add-camera": [
        *("cameras", "add", "--id", "cam9", "--site", "s1", "--placement", "general"),
        *("--coverage", "entrance", "--stream", "rtsp://127.0.0.1:8554/cam9"),
        "--commissioned",
    ],
    "report-obstruction": [
        *("obstructions", "report", "--camera", "cam1", "--cause", "advert"),
        "--date",
    ],
}


def test_f1_an_s3_operator_cannot_change_the_registry_of_s1_from_the_cli(
    deployment: Deployment,
) -> None:
    """Finding 1: an operator scoped to s3 registered a camera at s1 and reported an
    obstruction on an s1 camera. Expected, for each: exit 2 with one line, nothing
    written."""
    env = deployment.env
    deployment.scoped("op3")
    login(env, "op3", PW)
    cases = Cases()
    for act, args in REGISTRY.items():
        with cases.case(act):
            before = outside_ledger(env)
            one_line_error(env.run(*args, yesterday()))
            assert outside_ledger(env) == before, "the refused command wrote rows"
    cases.check()


def test_f1_an_s3_auditor_reads_nothing_of_s1_from_the_cli(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Finding 1: an auditor scoped to s3 read s1's segments, audit entries and access
    requests. Expected: the lists show s3 only (cam3 still there); an s1 request is
    refused (exit 2)."""
    env = deployment.env
    deployment.scoped("aud3")
    deployment.add_cam3(tmp_path)
    s1_request = deployment.request()
    s3_request = deployment.request("cam3")
    login(env, "aud3", PW)
    segments = as_json(env.run("segments", "list", "--json"))
    cams = {s["camera"] for s in segments}  # type: ignore[attr-defined]
    assert "cam1" not in cams, f"an s3 auditor listed s1 segments: {sorted(cams)}"
    assert "cam3" in cams
    register = as_json(env.run("audit", "log", "--json"))
    s1_entries = [
        e
        for e in register  # type: ignore[attr-defined]
        if "cam1" in e["cameras"] or e["target"] == f"request:{s1_request}"
    ]
    assert s1_entries == [], f"an s3 auditor read {len(s1_entries)} s1 audit entries"
    requests = as_json(env.run("access", "list", "--json"))
    assert [str(r["id"]) for r in requests] == [s3_request]  # type: ignore[attr-defined]
    one_line_error(env.run("access", "show", s1_request))


# ---- Finding 2: the requester is never the second person -------------------------------


@pytest.mark.ffmpeg
@pytest.mark.parametrize("database_url", [None])  # real ffmpeg footage: SQLite is enough
def test_f2_the_requester_is_not_the_second_person_of_a_cli_export(
    env: Env, tmp_path: Path
) -> None:
    """Finding 2: a custodian exported a grant with the requester as witness, matched by
    account (cop, or the custodian cust2, entered the request) or by the request's
    identity document (li's). Expected, for each: exit 2 with one line, no package, an
    export.refused leaf and no export leaf."""
    d = _deploy(env, tmp_path, real_footage=True)
    for user, doc in (("cust2", "CUST0002"), ("li", "LIDOC001")):  # custodians: may witness
        add_user(env, user, doc=doc)
        train(env, user, TODAY + timedelta(days=365))
        env.ok("users", "grant", user, "--role", "custodian")
    grants = {
        "by user id (the police requester)": ("cop", d.grant(d.request(), by="appr")),
        "by user id (a custodian who entered the request)": (
            "cust2",
            d.grant(d.request(user="cust2"), by="appr"),
        ),
        "by the request's identity document": (
            "li",
            d.grant(d.request(id_doc="LIDOC001"), by="appr"),
        ),
    }
    login(env, "cust", PW)
    cases = Cases()
    for matched_by, (witness, grant_id) in grants.items():
        with cases.case(f"requester matched {matched_by}"):
            before, since = outside_ledger(env), size(env.url)
            out = tmp_path / f"package-{witness}"
            result = env.run(
                *("export", "--grant", grant_id, "--out", str(out)),
                *("--witness", witness, "--witness-password-stdin"),
                input=PW + "\n",
            )
            one_line_error(result)
            assert not out.exists(), "a package was written with the requester as witness"
            assert outside_ledger(env) == before
            new = [x for idx, x in ledger(env.url) if idx >= since and x["type"] == "access"]
            assert [x["action"] for x in new] == ["export.refused"]
            assert names(new[0], "cust")
    cases.check()


# ---- Finding 3: the access register through the ledger ---------------------------------


def test_f3_an_operator_reads_no_access_details_through_the_ledger_cli(
    deployment: Deployment,
) -> None:
    """Finding 3 on the CLI: an operator, who may not read `audit log`, read every access
    leaf with `ledger show N` and `ledger list --kind access`. Expected: refused (exit
    2) or the leaves' index, type and hash only."""
    env = deployment.env
    deployment.request()
    [index] = [
        idx
        for idx, leaf in ledger(env.url)
        if leaf["type"] == "access" and leaf["action"] == "request"
    ]
    login(env, "op", PW)
    one_line_error(env.run("audit", "log"))
    for args in (["ledger", "show", str(index), "--json"], ["ledger", "list", "--kind", "access"]):
        result = env.run(*args)
        assert result.exit_code in (0, 2), result.output
        for secret in (PURPOSE, DESTINATION, '"cop"', "cam1"):
            assert secret not in result.output, f"an operator read {secret} via {' '.join(args)}"
    proof = env.run("ledger", "prove", "--index", str(index))
    assert proof.exit_code in (0, 2), proof.output
    for line in proof.stdout.splitlines():
        if line.startswith("extra "):
            carried = base64.b64decode(line.removeprefix("extra ")).decode()
            assert PURPOSE not in carried, "an operator read an access leaf via `ledger prove`"


# ---- Finding 5: who may see an access request ------------------------------------------


def test_f5_a_requester_sees_their_own_requests_on_the_cli(deployment: Deployment) -> None:
    """Finding 5: the CLI refused requesters their own requests (the console showed them).
    Expected: a requester lists and shows their own requests and only theirs; a
    custodian and an auditor see all; an operator sees none."""
    env = deployment.env
    login(env, "boss", PW)
    add_user(env, "cop2", doc="COP00002")
    train(env, "cop2", TODAY + timedelta(days=365))
    env.ok("users", "grant", "cop2", "--role", "requester")
    mine = deployment.request(user="cop")
    theirs = deployment.request(user="cop2", id_doc="COP00002")
    expected = {
        "cop": {mine},
        "cop2": {theirs},
        "cust": {mine, theirs},
        "aud": {mine, theirs},
        "op": set(),
    }
    seen = {}
    for user in expected:
        login(env, user, PW)
        listed = env.run("access", "list", "--json")
        assert listed.exit_code in (0, 2), listed.output
        shown = {r for r in (mine, theirs) if env.run("access", "show", r).exit_code == 0}
        seen[user] = {
            "list": {str(r["id"]) for r in json.loads(listed.stdout)}
            if listed.exit_code == 0
            else set(),
            "show": shown,
        }
    assert seen == {user: {"list": ids, "show": ids} for user, ids in expected.items()}

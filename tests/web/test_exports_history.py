"""Issue 22, item 6.2-6.3: every evidence package and its zip have a distinct name
(grant, cameras, range, export time), and every export is in a history (who: both
people present, when, grant, request, cameras and range, the SHA-256 of the zip and of
the manifest, the destination) shown by `oversight exports list` and the console to
custodians and auditors in scope; `oversight verify` checks the history against the
ledger's ``export.done`` leaves."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from oversight.services import verify as verify_svc
from tests.cli.test_users_cli import login
from tests.web.authz_helpers import add_scoped_people, add_site
from tests.web.conftest import PW, ConsoleClient, Web
from tests.web.footage_helpers import access_leaves, approved_grant, open_execution, seal

pytestmark = pytest.mark.ffmpeg

EN = {"accept-language": "en"}
NAME = re.compile(
    r"oversight-grant(?P<grant>\d+)-cam1-20\d{6}T\d{4}Z-20\d{6}T\d{4}Z-exported-"
    r"20\d{6}T\d{6}Z(-\d+)?"
)


def _download(cust: ConsoleClient, grant: int) -> tuple[str, bytes]:
    reply = cust.submit(f"/grants/{grant}/export", {})
    assert reply.status_code == 200, reply.text
    [name] = re.findall(r'filename="([^"]+)"', reply.headers["content-disposition"])
    return name, bytes(reply.content)


@pytest.fixture
def two_exports(web: Web, tmp_path: Path) -> tuple[int, int, list[tuple[str, bytes]]]:
    seal(web, tmp_path)
    request_id, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    return request_id, grant, [_download(cust, grant), _download(cust, grant)]


def test_two_exports_of_one_grant_have_distinct_names(
    two_exports: tuple[int, int, list[tuple[str, bytes]]],
) -> None:
    _, grant, downloads = two_exports
    names = [name for name, _ in downloads]
    assert len(set(names)) == 2, names
    for name, data in downloads:
        assert name.endswith(".zip")
        found = NAME.fullmatch(name.removesuffix(".zip"))
        assert found is not None and found["grant"] == str(grant), name
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            tops = {n.split("/", 1)[0] for n in zf.namelist()}
        assert tops == {name.removesuffix(".zip")}  # the folder inside is named alike


def test_the_cli_names_each_package_distinctly(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    login(web.env, "cust", PW)
    into = tmp_path / "exports"
    into.mkdir()
    for _ in range(2):
        result = web.env.run(
            *("export", "--grant", str(grant), "--into", str(into)),
            *("--witness", "wit", "--witness-password-stdin"),
            input=PW + "\n",
        )
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in into.iterdir())
    assert len(names) == 2 and all(NAME.fullmatch(n) for n in names), names


def test_the_history_lists_both_people_grant_range_and_hashes(
    web: Web, two_exports: tuple[int, int, list[tuple[str, bytes]]]
) -> None:
    request_id, grant, downloads = two_exports
    login(web.env, "aud", PW)
    listed = json.loads(web.env.ok("exports", "list", "--json").stdout)
    assert [e["name"] + ".zip" for e in listed] == [n for n, _ in reversed(downloads)]
    for entry, (_, data) in zip(listed, reversed(downloads), strict=True):
        assert (entry["custodian"], entry["witness"]) == ("cust", "wit")
        assert (entry["grant_id"], entry["request_id"]) == (grant, request_id)
        assert entry["cameras"] == ["cam1"] and entry["form"] == "zip"
        assert entry["start"].endswith("Z") and entry["end"] > entry["start"]
        assert entry["destination"] == "County Police evidence room"
        assert entry["zip_sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["zip_bytes"] == len(data)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = next(n for n in zf.namelist() if n.endswith("/manifest.json"))
            assert entry["manifest_sha256"] == hashlib.sha256(zf.read(manifest)).hexdigest()
    done = [leaf for leaf in access_leaves(web) if leaf["action"] == "export.done"]
    assert [leaf["details"]["name"] for leaf in done] == [e["name"] for e in reversed(listed)]
    table = web.env.ok("exports", "list").stdout
    assert "cust" in table and "wit" in table
    login(web.env, "op", PW)
    refused = web.env.fails("exports", "list", code=2)
    assert "audit.read" in refused.stderr or "may not" in refused.stderr


def test_the_console_shows_the_history_to_custodians_and_auditors_in_scope(
    web: Web, two_exports: tuple[int, int, list[tuple[str, bytes]]]
) -> None:
    request_id, _, downloads = two_exports
    for user in ("aud", "cust"):
        page = web.console(user).get("/exports", headers=EN)
        assert page.status_code == 200, page.text
        for name, data in downloads:
            assert name.removesuffix(".zip") in page.text
            assert hashlib.sha256(data).hexdigest() in page.text
        assert f'href="/access/{request_id}"' in page.text
    detail = web.console("cust").get(f"/access/{request_id}", headers=EN).text
    assert 'id="grant-exports"' in detail and downloads[0][0].removesuffix(".zip") in detail
    assert web.console("op").get("/exports", headers=EN).status_code == 403
    add_site(web, "s3")
    add_scoped_people(web)  # scoped to site s3; cam1 is at another site
    scoped = web.console("aud3").get("/exports", headers=EN)
    assert scoped.status_code == 200 and downloads[0][0].removesuffix(".zip") not in scoped.text
    zh = web.console("aud").get("/exports", headers={"accept-language": "zh"})
    assert "导出记录" in zh.text


def test_verify_checks_the_history_against_the_ledger(
    web: Web, two_exports: tuple[int, int, list[tuple[str, bytes]]]
) -> None:
    assert verify_svc.verify(web.system).ok
    engine = create_engine(web.env.url)
    try:
        _tamper_and_verify(web, engine)
    finally:
        engine.dispose()


def _tamper_and_verify(web: Web, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE exports SET zip_sha256 = :h WHERE id = 1"), {"h": "0" * 64})
    problems = [(p.kind, p.object, p.detail) for p in verify_svc.verify(web.system).problems]
    assert problems == [
        (
            "index-mismatch",
            "export 1",
            "the history row differs from its ledger leaf: zip_sha256",
        )
    ]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM exports WHERE id = 2"))
        conn.execute(text("UPDATE exports SET cameras = '\"nonsense\"' WHERE id = 1"))
    kinds = sorted((p.kind, p.object) for p in verify_svc.verify(web.system).problems)
    assert ("malformed", "export 1") in kinds
    assert ("index-mismatch", "ledger leaf") in [(k, o.rsplit(" ", 1)[0]) for k, o in kinds]

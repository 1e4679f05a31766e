"""Issue 22, item 6.1: ``oversight evidence verify`` accepts the console's zip itself, the
folder it was unzipped into (one level above the package) and the package folder inside
it; a zip that is too big, has too many members, escapes its folder (zip-slip) or holds a
symbolic link is refused in one line with exit 2, and nothing is extracted outside a
private temporary directory."""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest

from oversight.ledger import keys
from tests.web.conftest import Web
from tests.web.footage_helpers import approved_grant, open_execution, seal

pytestmark = pytest.mark.ffmpeg


def _console_zip(web: Web, tmp: Path) -> bytes:
    seal(web, tmp)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    reply = cust.submit(f"/grants/{grant}/export", {})
    assert reply.status_code == 200, reply.text
    return bytes(reply.content)


def test_the_folder_one_unzips_into_verifies(web: Web, tmp_path: Path) -> None:
    data = _console_zip(web, tmp_path)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(fresh)
    key = keys.verifier_key(web.system.settings.keys_dir)
    result = web.env.run("evidence", "verify", str(fresh), "--key", key)
    assert result.exit_code == 0, result.output
    assert "OK: the package is intact" in result.stdout
    [inner] = list(fresh.iterdir())
    web.env.ok("evidence", "verify", str(inner), "--key", key)  # as before


def test_the_zip_itself_verifies_without_extracting_next_to_it(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _console_zip(web, tmp_path)
    here = tmp_path / "recipient"
    here.mkdir()
    archive = here / "package.zip"
    archive.write_bytes(data)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    key = keys.verifier_key(web.system.settings.keys_dir)
    result = web.env.run("evidence", "verify", str(archive), "--key", key)
    assert result.exit_code == 0, result.output
    assert "OK: the package is intact" in result.stdout
    assert str(archive) in result.stdout.replace("\n", "")  # rich wraps long lines
    assert sorted(p.name for p in here.iterdir()) == ["package.zip"]
    assert list(scratch.iterdir()) == []  # the private temporary directory is gone
    # A zip that was tampered with fails like the folder would.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    clip = next(n for n in members if "/clips/" in n)
    members[clip] = members[clip][:-1] + bytes([members[clip][-1] ^ 1])
    bad = here / "tampered.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    result = web.env.run("evidence", "verify", str(bad), "--key", key)
    assert result.exit_code == 1 and "mismatch" in result.stdout


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for info, body in members:
            zf.writestr(info, body)
    return path


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([("../evil.txt", b"x")], "leaves its folder"),
        ([("pkg/../../evil.txt", b"x")], "leaves its folder"),
        ([("/etc/evil.txt", b"x")], "absolute path"),
        ([(_symlink("pkg/manifest.json"), b"/etc/passwd")], "symbolic link"),
        ([(f"pkg/{i}.txt", b"x") for i in range(6)], "6 members, more than 5"),
        ([("pkg/big.bin", b"\0" * 5000)], "more than 4096 bytes"),
        ([("not a zip", b"")], "not a zip archive"),
    ],
)
def test_a_bad_zip_is_refused_in_one_line(
    web: Web,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    members: list[tuple[zipfile.ZipInfo | str, bytes]],
    words: str,
) -> None:
    monkeypatch.setenv("OVERSIGHT_EVIDENCE_ZIP_MAX_MEMBERS", "5")
    monkeypatch.setenv("OVERSIGHT_EVIDENCE_ZIP_MAX_BYTES", "4096")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    here = tmp_path / "recipient"
    here.mkdir()
    if words == "not a zip archive":
        archive = here / "bad.zip"
        archive.write_bytes(b"PK\3\4 this is not a zip")
    else:
        archive = _zip(here / "bad.zip", members)
    result = web.env.fails("evidence", "verify", str(archive), code=2)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line and "bad.zip" in line, line
    assert sorted(p.name for p in here.iterdir()) == ["bad.zip"]
    assert not (tmp_path / "evil.txt").exists()
    assert list(scratch.iterdir()) == []

"""Finding 5 of the security review (issue 18): files readable by every local user.

Everything Oversight keeps is private to the account that runs it: the data dir, the
store's directories and the keys dir 0700, footage 0400, the SQLite database (and its
-wal/-shm/-journal) and the signing key 0600, whatever umask the caller had. ``serve``,
``record`` and ``monitor`` refuse a data dir, store or keys dir that group or others can
read, write or enter (one line naming the path and its mode, nothing written); loose
modes are compliance findings and ``oversight verify`` discrepancies.

CI runs as root, who can read anything: these tests check the modes with ``os.stat``,
not an actual read by another account. The refusals run the real CLI as a subprocess
started with the permissive umask 022, so Oversight's own umask is what is tested.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import oversight
from oversight import bootstrap
from oversight.config import Settings
from oversight.domain.compliance import file_mode_findings
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs
from oversight.services.sealing import seal_file
from oversight.storage.local import LocalStore
from tests.conftest import Env
from tests.recorder.helpers import add_camera

SRC = str(Path(oversight.__file__).resolve().parent.parent)
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cli(
    data_dir: Path,
    *args: str,
    timeout: float = 60,
    packs: str = "xj-2014",
    database_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``oversight ARGS`` as its own process, started with umask 022."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERSIGHT_")}
    if database_url:
        env["OVERSIGHT_DATABASE_URL"] = database_url
    env.update(
        OVERSIGHT_DATA_DIR=str(data_dir),
        OVERSIGHT_RULE_PACKS=packs,
        PYTHONPATH=SRC + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        umask=0o022,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def counts(data_dir: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{data_dir / 'oversight.db'}")
    try:
        names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
        with engine.connect() as conn:
            return {
                n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names
            }
    finally:
        engine.dispose()


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``root`` with its mode, size and mtime: proves nothing was written."""
    out = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        out[path.relative_to(root).as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seal_one(data_dir: Path, name: str = "a.mp4") -> Path:
    """Seal one segment of cam1 into the local store; the stored file's path."""
    system = bootstrap.build(Settings(data_dir=data_dir))
    try:
        if not list(system.store.objects()):
            add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
        spool = data_dir.parent / name
        spool.write_bytes(b"footage " + name.encode())
        minute = len(list(system.store.objects()))
        start = T0 + timedelta(minutes=minute)
        sealed = seal_file(
            system, camera="cam1", path=spool, start=start, end=start + timedelta(minutes=1)
        )
        return system.settings.store_dir / sealed.storage_key
    finally:
        system.close()


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """A data dir made by ``oversight init`` (its own process, umask 022) holding one
    sealed segment."""
    data_dir = tmp_path / "var"
    done = cli(data_dir, "init")
    assert done.returncode == 0, done.stderr
    seal_one(data_dir)
    return data_dir


# ---- what Oversight creates is private -------------------------------------------------


def test_init_makes_the_data_dir_keys_and_database_private_despite_umask_022(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "deep" / "var"  # the parents are created too
    done = cli(data_dir, "init")
    assert done.returncode == 0, done.stderr
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "keys") == 0o700
    assert mode(data_dir / "keys" / "ledger.key") == 0o600
    assert mode(data_dir / "oversight.db") == 0o600
    # Other commands write too (and leave their SQLite side files behind while open).
    assert (
        cli(data_dir, "orgs", "add", "--id", "o", "--name", "O", "--kind", "owner").returncode == 0
    )
    for name in ("oversight.db", "oversight.db-wal", "oversight.db-shm", "oversight.db-journal"):
        path = data_dir / name
        if path.exists():
            assert mode(path) == 0o600, name


def test_sealed_footage_is_0400_in_0700_directories(deployment: Path) -> None:
    store = deployment / "store"
    [footage] = [p for p in store.rglob("*") if p.is_file()]
    assert mode(footage) == 0o400
    directory = footage.parent
    while directory != deployment:
        assert mode(directory) == 0o700, directory
        directory = directory.parent


def test_the_local_store_is_private_whatever_the_process_umask(tmp_path: Path) -> None:
    source = tmp_path / "seg.mp4"
    source.write_bytes(b"segment")
    previous = os.umask(0o022)
    try:
        store = LocalStore(tmp_path / "store")
        store.put("cam1/2026/05/01/seg.mp4", source)
    finally:
        os.umask(previous)
    stored = tmp_path / "store" / "cam1" / "2026" / "05" / "01" / "seg.mp4"
    assert mode(stored) == 0o400
    for directory in (stored.parent, *list(stored.parents)[1:4]):
        assert mode(directory) == 0o700, directory


# ---- serve, record and monitor refuse an open data dir, store or keys dir ---------------

DAEMONS = {
    "serve": lambda: ["serve", "--port", str(free_port())],
    "record": lambda: ["record", "--duration", "1"],
    "monitor": lambda: ["monitor", "--duration", "1"],
}


@pytest.mark.parametrize("command", sorted(DAEMONS))
@pytest.mark.parametrize(
    ("where", "loose"),
    [(".", 0o755), (".", 0o701), ("store", 0o750), ("keys", 0o711), ("keys", 0o720)],
)
def test_daemons_refuse_a_directory_others_can_enter(
    deployment: Path, command: str, where: str, loose: int
) -> None:
    path = deployment / where if where != "." else deployment
    path.chmod(loose)
    before_rows = counts(deployment)
    before = tree(deployment)
    done = cli(deployment, *DAEMONS[command](), timeout=30)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and f"mode {loose:o}" in lines[0], lines[0]
    assert f"chmod -R go-rwx {deployment}" in lines[0], lines[0]
    assert tree(deployment) == before  # nothing written, nothing chmodded
    assert mode(path) == loose
    assert counts(deployment) == before_rows


def test_the_documented_chmod_fixes_an_existing_deployment(deployment: Path) -> None:
    """A deployment made before this fix (0755 data dir, 0644 database, 0444 footage)."""
    footage = next(p for p in (deployment / "store").rglob("*") if p.is_file())
    deployment.chmod(0o755)
    (deployment / "store").chmod(0o755)
    (deployment / "oversight.db").chmod(0o644)
    footage.chmod(0o444)
    assert cli(deployment, "record", "--duration", "0").returncode == 2
    fixed = subprocess.run(["chmod", "-R", "go-rwx", str(deployment)], check=False)
    assert fixed.returncode == 0
    done = cli(deployment, "record", "--duration", "0")
    assert done.returncode == 0, done.stderr
    assert (mode(deployment), mode(footage), mode(deployment / "oversight.db")) == (
        0o700,
        0o400,
        0o600,
    )


def test_init_does_not_chmod_a_data_dir_the_operator_made(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    done = cli(data_dir, "init")
    assert done.returncode == 0, done.stderr
    assert mode(data_dir) == 0o755  # the operator's directory: reported, never changed
    assert mode(data_dir / "oversight.db") == 0o600  # what Oversight made is private
    assert cli(data_dir, "serve", "--port", str(free_port()), timeout=30).returncode == 2


def test_the_test_suites_data_dirs_are_private(initialised: Env, tmp_path: Path) -> None:
    """The ``env`` fixture's data dir (tmp_path/var, made by `oversight init`) passes the
    check, so the existing recorder and server tests keep running."""
    assert mode(tmp_path) == 0o700 and mode(initialised.data_dir) == 0o700
    done = cli(
        initialised.data_dir, "record", "--duration", "0", database_url=initialised.database_url
    )
    assert done.returncode == 0, done.stderr


# ---- loose modes are findings ---------------------------------------------------------


@pytest.mark.parametrize(
    ("packs", "rule", "article"),
    [
        ("xj-2014", "no_unauthorised_access", "Art. 15(3)"),
        ("cn-2025", "access_control", "Art. 16 para 2(2)"),
    ],
)
def test_loose_modes_are_compliance_findings(
    deployment: Path, packs: str, rule: str, article: str
) -> None:
    footage = next(p for p in (deployment / "store").rglob("*") if p.is_file())

    def findings() -> list[dict[str, object]]:
        done = cli(deployment, "compliance", "report", "--format", "json", packs=packs)
        assert done.returncode == 0, done.stderr
        return [f for f in json.loads(done.stdout)["findings"] if f["rule"] == rule]

    assert findings() == []
    deployment.chmod(0o755)
    (deployment / "keys").chmod(0o750)
    (deployment / "oversight.db").chmod(0o644)
    footage.chmod(0o444)
    found = findings()
    assert {f["article"] for f in found} == {article}
    assert {f["severity"] for f in found} == {"critical"}
    subjects = {str(f["subject"]) for f in found}
    expected = {
        f"path:{deployment}",
        f"path:{deployment / 'keys'}",
        f"path:{deployment / 'oversight.db'}",
        f"path:{footage}",
    }
    # SQLite gives its side files the database's mode: while the report's own connection
    # is open they exist, and are as open as the database.
    side = {f"path:{deployment / 'oversight.db'}{s}" for s in ("-wal", "-shm", "-journal")}
    assert expected <= subjects <= expected | side
    for f in found:
        assert "chmod -R go-rwx" in str(f["message"]) and "mode " in str(f["message"])


def test_verify_reports_loose_modes(deployment: Path) -> None:
    """Every footage file, not only the oldest and newest the compliance report samples."""
    seal_one(deployment, "b.mp4")
    seal_one(deployment, "c.mp4")
    assert cli(deployment, "verify").returncode == 0
    stored = sorted(p for p in (deployment / "store").rglob("*") if p.is_file())
    assert len(stored) == 3
    footage = stored[1]
    footage.chmod(0o444)
    (deployment / "store").chmod(0o755)
    done = cli(deployment, "verify", "--json")
    assert done.returncode == 1, done.stderr
    problems = json.loads(done.stdout)["problems"]
    assert {(p["kind"], p["object"]) for p in problems} == {
        ("exposed", str(footage)),
        ("exposed", str(deployment / "store")),
    }


def test_a_path_open_to_others_is_one_finding_citing_every_pack_in_force() -> None:
    both = PackSet(load_packs(["xj-2014", "cn-2025"]))
    day = datetime(2026, 6, 1, tzinfo=UTC).date()
    [finding] = file_mode_findings([("/srv/o", "the data directory /srv/o is open")], both, day)
    assert (finding.rule, finding.article, finding.subject) == (
        "no_unauthorised_access",
        "Art. 15(3)",
        "path:/srv/o",
    )
    assert finding.penalty_article is not None and finding.severity == "critical"
    assert [(c.pack_id, c.rule_id) for c in finding.also] == [("cn-2025", "access_control")]
    assert file_mode_findings([], both, day) == []


def test_verify_reports_every_key_open_to_others(deployment: Path) -> None:
    """Not only the ledger's signing key: the camera credentials key and the CSRF secret
    open the same doors (stream passwords, forged forms)."""
    other = deployment / "keys" / "credentials.key"
    other.write_bytes(b"x" * 44)
    other.chmod(0o644)
    done = cli(deployment, "verify", "--json")
    assert done.returncode == 1, done.stderr
    problems = json.loads(done.stdout)["problems"]
    assert ("exposed", str(other)) in {(p["kind"], p["object"]) for p in problems}


def test_the_mode_walk_skips_a_file_renamed_away_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seal renames its ``.partial`` file between the walk's listing and its stat (CI
    stop 26 hit it in ``verify`` during sealing): the walk must skip it, not raise."""
    from oversight.services import filemodes

    root = tmp_path / "store"
    (root / "cam1").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    vanishing = root / "cam1" / "seg.mp4.partial"
    vanishing.write_bytes(b"x")
    loose = root / "cam1" / "seg0.mp4"
    loose.write_bytes(b"y")
    loose.chmod(0o444)
    listed = os.scandir

    def scandir_then_rename(path: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
        entries = list(listed(path))
        if vanishing.exists() and Path(path) == vanishing.parent:
            vanishing.rename(vanishing.with_suffix(""))
        return entries

    monkeypatch.setattr(filemodes.os, "scandir", scandir_then_rename)
    found = list(filemodes._walk(root))
    assert [(p, mode) for _, p, mode in found] == [(loose, 0o444)]

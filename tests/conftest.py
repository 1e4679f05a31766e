"""Shared fixtures: each test gets its own data dir and, where it needs a database, runs
on embedded SQLite and again on a real PostgreSQL server (a fresh schema per test).

PostgreSQL comes from OVERSIGHT_TEST_PG_URL, set by scripts/with-postgres.sh (which
`make test` runs). Without it the postgres-marked runs fail rather than skip, so a CI
without PostgreSQL cannot pass by accident; use `-m "not postgres"` to opt out locally.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from oversight import bootstrap
from oversight.cli.main import app
from oversight.config import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None means the embedded default (SQLite in the data dir); else a PostgreSQL URL."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get("OVERSIGHT_TEST_PG_URL")
    if not base:
        pytest.fail("OVERSIGHT_TEST_PG_URL is not set: run `make test` or pass -m 'not postgres'")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Env:
    """A data dir and database for one test, with helpers to run the CLI against them."""

    data_dir: Path
    database_url: str | None
    monkeypatch: pytest.MonkeyPatch

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'oversight.db'}"

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.output}"
        return result

    def fails(self, *args: str, code: int = 2) -> Result:
        result = self.run(*args)
        assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}"
        return result

    def counts(self) -> dict[str, int]:
        """Rows per table: proves a refused command wrote nothing."""
        engine = create_engine(self.url)
        try:
            names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
            with engine.connect() as conn:
                return {
                    n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names
                }
        finally:
            engine.dispose()


@pytest.fixture
def env(tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Env:
    data_dir = tmp_path / "var"
    monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(data_dir))
    if database_url:
        monkeypatch.setenv("OVERSIGHT_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("OVERSIGHT_DATABASE_URL", raising=False)
    monkeypatch.delenv("OVERSIGHT_RULE_PACKS", raising=False)
    monkeypatch.delenv("OVERSIGHT_TOKEN", raising=False)  # a developer's login must not leak in
    monkeypatch.delenv("OVERSIGHT_ACTOR", raising=False)
    # Starlette's TestClient sends Host: testserver; the default trusts only local names.
    monkeypatch.setenv("OVERSIGHT_TRUSTED_HOSTS", "testserver,localhost,127.0.0.1,[::1]")
    return Env(data_dir, database_url, monkeypatch)


@pytest.fixture
def initialised(env: Env) -> Env:
    env.ok("init")
    return env


@pytest.fixture
def system(initialised: Env) -> Iterator[bootstrap.System]:
    """A built System over the initialised data dir and database of ``initialised``."""
    built = bootstrap.build(Settings())
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MiB file system (tmpfs) for disk-full and capacity tests; needs root,
    as `make test` runs in CI. Unmounted afterwards."""
    import subprocess

    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CI runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:  # e.g. a container without CAP_SYS_ADMIN
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)

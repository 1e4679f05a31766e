"""People, logins and training through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from typer.testing import Result

from tests.cli.test_registry_cli import TODAY
from tests.conftest import Env
from tests.services.test_people import db_dump

ADMIN_PW = "admin password 1"
PW = "user password 12"
DOC = "650102199001011234"


def run(env: Env, *args: str, input: str | None = None, code: int = 0) -> Result:
    result = env.run(*args, input=input)
    assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}"
    return result


def login(env: Env, user: str, password: str) -> str:
    """Log in with --print and act as that user through OVERSIGHT_TOKEN."""
    token = run(env, "login", "--user", user, "--password-stdin", "--print", input=password + "\n")
    value = token.stdout.strip()
    env.monkeypatch.setenv("OVERSIGHT_TOKEN", value)
    return value


def add_user(env: Env, user: str, *extra: str, doc: str = "X1234567", code: int = 0) -> Result:
    args = ("users", "add", "--id", user, "--name", user.title(), "--id-doc", doc)
    return run(env, *args, *extra, "--password-stdin", input=PW + "\n", code=code)


def train(env: Env, user: str, until: date) -> None:
    env.ok(
        "training",
        "record",
        "--user",
        user,
        "--date",
        (TODAY - timedelta(days=30)).isoformat(),
        "--valid-until",
        until.isoformat(),
        "--topics",
        "skills,confidentiality",
    )


@pytest.fixture
def admin_env(env: Env) -> Env:
    env.monkeypatch.delenv("OVERSIGHT_TOKEN", raising=False)
    run(
        env,
        "init",
        "--admin-id",
        "boss",
        "--admin-password-stdin",
        "--admin-id-doc",
        DOC,
        input=ADMIN_PW + "\n",
    )
    return env


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or lines[-1].startswith("error:"), result.stderr
    return lines[-1]


def test_init_creates_the_first_admin_once(admin_env: Env) -> None:
    env = admin_env
    before = env.counts()
    again = run(
        env, "init", "--admin-id", "b2", "--admin-password-stdin", input=ADMIN_PW + "\n", code=2
    )
    assert "admin exists already" in again.stderr
    assert env.counts() == before
    assert "up to date" in env.ok("init").output  # still idempotent without the options
    short = run(env, "init", "--admin-id", "b3", "--admin-password-stdin", input="short\n", code=2)
    assert "at least 12" in short.stderr


def test_login_writes_a_private_token_file(admin_env: Env) -> None:
    env = admin_env
    result = run(env, "login", "--user", "boss", "--password-stdin", input=ADMIN_PW + "\n")
    path = env.data_dir / "session.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert token not in result.output
    me = json.loads(env.ok("whoami", "--json").stdout)
    assert me["id"] == "boss" and me["roles"] == ["admin"] and me["id_doc"] == "****1234"
    assert token not in db_dump(env.url)
    path.chmod(0o644)  # a token others can read is refused, not used
    assert "not private" in one_line(env.fails("whoami"))
    path.chmod(0o600)
    assert "Logged out boss" in env.ok("logout").output
    assert not path.exists()
    assert "not logged in" in env.fails("whoami").stderr


def test_wrong_password_is_refused_counted_and_never_shown(
    admin_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env = admin_env
    caplog.set_level(logging.INFO)
    before = env.counts()
    bad = run(
        env, "login", "--user", "boss", "--password-stdin", input="guess guess guess\n", code=2
    )
    assert one_line(bad) == "error: wrong user id or password"
    after = env.counts()
    assert after["sessions"] == before["sessions"]
    assert after["ledger_leaves"] == before["ledger_leaves"] + 1  # the login.failed leaf
    engine = create_engine(env.url)
    try:
        with engine.connect() as conn:
            failures = conn.execute(text("SELECT failed_logins FROM users WHERE id = 'boss'"))
            assert failures.scalar_one() == 1
            leaves = [
                bytes(r[0]).decode() for r in conn.execute(text("SELECT data FROM ledger_leaves"))
            ]
    finally:
        engine.dispose()
    assert '"action":"login.failed"' in leaves[-1] and '"subject":"user:boss"' in leaves[-1]
    assert "guess guess" not in caplog.text and "guess guess" not in db_dump(env.url)
    assert "boss" in caplog.text


def test_admin_adds_users_and_the_list_masks_identity_documents(admin_env: Env) -> None:
    env = admin_env
    assert "log in first" in one_line(add_user(env, "ann", code=2))
    login(env, "boss", ADMIN_PW)
    add_user(env, "ann", "--role", "auditor", doc="X1234567")
    add_user(env, "ann2", doc="X1234567")  # same document: allowed, same_person() tells
    listed = json.loads(env.ok("users", "list", "--json").stdout)
    assert [u["id"] for u in listed] == ["ann", "ann2", "boss"]
    assert {u["id_doc"] for u in listed} == {"****4567", "****1234"}
    table = env.ok("users", "list").stdout
    assert "X1234567" not in table and DOC not in table
    assert "X1234567" not in str(listed)
    assert add_user(env, "ann", code=2).stderr.count("already exists") == 1
    short = run(
        env,
        "users",
        "add",
        "--id",
        "z",
        "--name",
        "Z",
        "--id-doc",
        "Z12345",
        "--password-stdin",
        input="too short\n",
        code=2,
    )
    assert "at least 12" in short.stderr


def test_refusals_write_nothing(admin_env: Env) -> None:
    env = admin_env
    admin_token = login(env, "boss", ADMIN_PW)
    add_user(env, "ann", "--role", "auditor")
    before = env.counts()
    # The training gate, with the article of the configured pack.
    gated = one_line(add_user(env, "op", "--role", "operator", code=2))
    assert "training" in gated and "(Art. 14(2))" in gated
    assert "Art. 14(2)" in one_line(env.fails("users", "grant", "ann", "--role", "custodian"))
    # An admin does not change their own roles.
    assert "own roles" in one_line(env.fails("users", "grant", "boss", "--role", "auditor"))
    assert env.counts() == before
    login(env, "ann", PW)
    before = env.counts()  # the login itself is recorded
    # A non-admin adds nobody, elevates nobody (least of all themselves), resets nobody.
    assert "needs the role admin" in one_line(add_user(env, "eve", code=2))
    assert "admin" in one_line(env.fails("users", "grant", "ann", "--role", "admin"))
    assert "admin" in one_line(env.fails("users", "disable", "boss"))
    passwd = run(env, "users", "passwd", "boss", "--password-stdin", input=PW + "\n", code=2)
    assert "admin" in one_line(passwd)
    assert "admin" in one_line(
        env.fails(
            "training",
            "record",
            "--user",
            "ann",
            "--date",
            TODAY.isoformat(),
            "--valid-until",
            TODAY.isoformat(),
            "--topics",
            "skills,confidentiality",
        )
    )
    assert env.counts() == before
    env.monkeypatch.setenv("OVERSIGHT_TOKEN", admin_token)
    env.ok("users", "disable", "ann")
    assert env.counts()["users"] == before["users"]


def test_disabled_users_token_is_refused(admin_env: Env) -> None:
    env = admin_env
    admin_token = login(env, "boss", ADMIN_PW)
    add_user(env, "ann", "--role", "auditor")
    ann_token = login(env, "ann", PW)
    assert json.loads(env.ok("whoami", "--json").stdout)["id"] == "ann"
    env.monkeypatch.setenv("OVERSIGHT_TOKEN", admin_token)
    env.ok("users", "disable", "ann")
    env.monkeypatch.setenv("OVERSIGHT_TOKEN", ann_token)
    assert "log in again" in one_line(env.fails("users", "list"))
    assert "log in again" in one_line(env.fails("orgs", "list"))  # any command, fail closed
    env.monkeypatch.delenv("OVERSIGHT_TOKEN")
    refused = run(env, "login", "--user", "ann", "--password-stdin", input=PW + "\n", code=2)
    assert "disabled" in one_line(refused)


def test_expired_session_says_log_in_again(admin_env: Env) -> None:
    env = admin_env
    login(env, "boss", ADMIN_PW)
    engine = create_engine(env.url)
    try:
        with engine.begin() as conn:
            past = datetime.now(UTC) - timedelta(minutes=1)
            conn.execute(text("UPDATE sessions SET expires_at = :t"), {"t": past})
    finally:
        engine.dispose()
    line = one_line(env.fails("whoami"))
    assert line.startswith("error: the session expired") and line.endswith("log in again")


def test_passwd_ends_sessions(admin_env: Env) -> None:
    env = admin_env
    login(env, "boss", ADMIN_PW)
    add_user(env, "ann")
    login(env, "ann", PW)
    run(env, "users", "passwd", "ann", "--password-stdin", input="another password\n")
    assert "log in again" in env.fails("whoami").stderr
    login(env, "ann", "another password")


def test_training_then_role_and_the_compliance_finding(admin_env: Env) -> None:
    env = admin_env
    login(env, "boss", ADMIN_PW)
    add_user(env, "ann")
    add_user(env, "bob")
    train(env, "ann", TODAY + timedelta(days=365))
    train(env, "bob", TODAY + timedelta(days=1))
    env.ok("users", "grant", "ann", "--role", "operator")
    env.ok("users", "grant", "bob", "--role", "custodian")
    listed = json.loads(env.ok("training", "list", "--json").stdout)
    assert {t["user"] for t in listed} == {"ann", "bob"}
    assert listed[0]["topics"] == ["confidentiality", "job_skills"]
    unknown = env.fails(
        "training",
        "record",
        "--user",
        "ann",
        "--date",
        TODAY.isoformat(),
        "--valid-until",
        TODAY.isoformat(),
        "--topics",
        "cooking",
    )
    assert "unknown training topic" in unknown.stderr

    def findings(at: date) -> dict[str, dict[str, object]]:
        out = env.ok("compliance", "report", "--format", "json", "--at", at.isoformat())
        report = json.loads(out.stdout)
        return {f["subject"]: f for f in report["findings"] if f["rule"] == "staff_training"}

    # The bootstrap admin was never trained: a finding until it is recorded.
    assert set(findings(TODAY)) == {"user:boss"}
    later = findings(TODAY + timedelta(days=2))
    assert set(later) == {"user:boss", "user:bob"}
    bob = later["user:bob"]
    assert bob["article"] == "Art. 14(2)" and bob["pack"] == "xj-2014"
    assert bob["penalty"] == {"min_cny": 200, "max_cny": 20000, "article": "Art. 20"}
    assert "custodian" in str(bob["message"])


def test_no_secret_reaches_the_ledger(admin_env: Env) -> None:
    env = admin_env
    token = login(env, "boss", ADMIN_PW)
    add_user(env, "ann", doc="Q9876543")
    run(env, "users", "passwd", "ann", "--password-stdin", input="another password\n")
    run(env, "login", "--user", "ann", "--password-stdin", input="wrong password!\n", code=2)
    engine = create_engine(env.url)
    try:
        with engine.connect() as conn:
            data = "\n".join(
                bytes(r[0]).decode() for r in conn.execute(text("SELECT data FROM ledger_leaves"))
            )
    finally:
        engine.dispose()
    for secret in (
        token,
        ADMIN_PW,
        PW,
        "another password",
        "wrong password!",
        DOC,
        "Q9876543",
        "$argon2",
    ):
        assert secret not in data
    assert '"type":"person"' in data and '"action":"user.passwd"' in data

"""Issue 18, findings 6 and 13 on the command line: `oversight login` passes the same
limiter (its address is ``local``), refuses with one line and exit 2, writes nothing."""

from __future__ import annotations

import pytest

from tests.cli.test_users_cli import ADMIN_PW, admin_env, one_line, run
from tests.conftest import Env

__all__ = ["admin_env"]  # the fixture, used by name


def test_cli_logins_are_throttled_after_the_limit_and_write_nothing(
    admin_env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = admin_env
    monkeypatch.setenv("OVERSIGHT_LOGIN_ATTEMPTS", "2")
    monkeypatch.setenv("OVERSIGHT_LOGIN_SLOWDOWN_MAX_S", "0")  # no real waits in a test
    for _ in range(2):
        bad = run(
            env, "login", "--user", "boss", "--password-stdin", input="guess 1234567\n", code=2
        )
        assert one_line(bad) == "error: wrong user id or password"
    before = env.counts()
    refused = run(env, "login", "--user", "boss", "--password-stdin", input=ADMIN_PW + "\n", code=2)
    assert one_line(refused).startswith(
        "error: too many failed logins for this user id from this address: try again in "
    )
    assert env.counts() == before  # no session, no leaf

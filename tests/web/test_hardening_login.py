"""Issue 18, findings 6, 7, 13 and 14: every password check (API and console logins, the
witness's password in the console and the API) goes through one limiter; failures are
counted atomically in the database per (account, address); unknown and known ids do
the same work and get the same answers; argon2 runs at most N at a time.

Verifications are counted by wrapping the password hasher, never by wall time."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from oversight.api.security import LoginLimiter
from oversight.config import Settings
from oversight.services import auth, people
from oversight.services.login_guard import LoginLimits
from tests.services.test_people import db_dump
from tests.web.conftest import PW, LiveServer, Web, _hidden
from tests.web.footage_helpers import approved_grant, open_execution, seal

WRONG = "wrong password 12"


class CountingHasher(PasswordHasher):
    """The fast test hasher, counting verifications per hash and the most at once."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.hold = hold
        self.calls: list[str] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.calls.append(hash if isinstance(hash, str) else hash.decode())
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.hold:
                threading.Event().wait(self.hold)  # the cost of a real argon2id check
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def hasher(web: Web, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher()
    monkeypatch.setattr(people, "hasher", counting)
    yield counting


def hash_of(web: Web, user: str) -> str:
    from oversight.db import models as m

    with web.system.sessions() as s:
        row = s.get(m.User, user)
        assert row is not None
        return row.password_hash


def client_from(web: Web, address: str) -> TestClient:
    return TestClient(
        web.app, raise_server_exceptions=False, follow_redirects=False, client=(address, 5000)
    )


def login(client: TestClient, user: str, password: str) -> Any:
    return client.post("/api/v1/session", json={"user": user, "password": password})


def sessions(web: Web) -> int:
    return web.env.counts()["sessions"]


def no_digits(text: str) -> str:
    return re.sub(r"\d+", "N", text)


# ---- finding 6: atomic counting, one limiter ----


def _concurrent_logins(url: str, user: str, passwords: list[str]) -> list[httpx.Response]:
    start = threading.Barrier(len(passwords))

    def one(password: str) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=60) as c:
            start.wait()
            return c.post("/api/v1/session", json={"user": user, "password": password})

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(one, passwords))


def test_f6_thirty_concurrent_logins_check_at_most_the_limit_of_passwords(
    web: Web, live_server: LiveServer, hasher: CountingHasher
) -> None:
    """29 wrong and 1 right password at once, from one address: each failure is
    reserved in the database before its check, so at most ``login_attempts`` (5) wrong
    passwords are checked (the right one, if among them, gives its reservation back);
    every other attempt is a 429 with Retry-After and checks nothing."""
    web.app.state.login_limiter = LoginLimiter(limit=1000)  # the address limit is not tested
    target = hash_of(web, "op")
    before = sessions(web)
    replies = _concurrent_logins(live_server.url, "op", [WRONG] * 29 + [PW])
    checked = hasher.calls.count(target)
    accepted = sum(r.status_code == 200 for r in replies)
    assert checked - accepted <= 5, f"{checked - accepted} wrong passwords of op were checked"
    assert sum(r.status_code == 401 for r in replies) == checked - accepted
    throttled = [r for r in replies if r.status_code == 429]
    assert len(throttled) == 30 - checked
    assert all(int(r.headers["retry-after"]) >= 1 for r in throttled)
    assert sessions(web) - before == accepted <= 1


def test_f6_the_witness_check_in_the_console_has_the_same_limit(
    web: Web, tmp_path: Path, hasher: CountingHasher
) -> None:
    """A custodian's browser trying witness passwords is throttled like a login: five
    wrong ones, then even the right one is refused without checking it."""
    seal(web, tmp_path, count=1)
    _, grant = approved_grant(web)
    client = web.console("cust")
    target = hash_of(web, "wit")
    for _ in range(5):
        assert open_execution(client, grant, WRONG).status_code == 401
    reply = open_execution(client, grant, PW)
    assert reply.status_code == 429 and "try again in" in reply.text
    assert hasher.calls.count(target) == 5
    # The witness typing at their own login from the same address shares the count.
    assert login(web.client(), "wit", PW).status_code == 429


def test_f6_the_witness_check_of_an_api_export_has_the_same_limit(
    web: Web, tmp_path: Path, hasher: CountingHasher
) -> None:
    seal(web, tmp_path, count=1)
    _, grant = approved_grant(web)
    api = web.api("cust")
    body = {"witness": "wit", "witness_password": WRONG, "watermark": False}
    for _ in range(5):
        assert api.post(f"/api/v1/grants/{grant}/export", json=body).status_code == 401
    reply = api.post(f"/api/v1/grants/{grant}/export", json={**body, "witness_password": PW})
    assert reply.status_code == 429 and int(reply.headers["retry-after"]) >= 1
    assert hasher.calls.count(hash_of(web, "wit")) == 5


# ---- finding 7: the same work and the same message ----


def test_f7_unknown_and_known_ids_do_the_same_work_and_get_the_same_answers(
    web: Web, hasher: CountingHasher
) -> None:
    client = web.client()
    web.app.state.login_limiter = LoginLimiter(limit=1000)
    known = [login(client, "op", WRONG) for _ in range(6)]
    after_known = len(hasher.calls)
    unknown = [login(client, "nobody-here", WRONG) for _ in range(6)]
    # One argon2id verification per checked attempt either way, none once throttled.
    assert after_known == 5 and len(hasher.calls) == 10
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    for k, u in zip(known, unknown, strict=True):
        assert no_digits(k.json()["error"]) == no_digits(u.json()["error"])
        assert k.headers.get("retry-after") == u.headers.get("retry-after")
    assert "op" not in known[-1].json()["error"]
    # The typed id is kept only as a digest: it may be a password in the wrong field.
    assert "nobody-here" not in db_dump(web.env.url)


def test_f7_the_slow_down_is_the_same_for_unknown_and_known_ids(web: Web) -> None:
    """The service waits as long before checking an unknown id as a known one."""
    waits: dict[str, list[float]] = {"op": [], "nobody-here": []}
    guard = LoginLimiter(limit=1000)
    for user, seen in waits.items():
        for i in range(4):
            with pytest.raises(auth.AuthenticationError):
                auth.authenticate(
                    web.system, user, WRONG, client=f"10.0.0.{i}", guard=guard, sleep=seen.append
                )
    assert waits["op"] == waits["nobody-here"]
    assert waits["op"][0] == 0.0 and waits["op"][-1] > 0.0


# ---- finding 13: no lock anyone can trigger ----


def test_f13_failures_from_one_address_do_not_lock_the_account_elsewhere(web: Web) -> None:
    attacker = client_from(web, "203.0.113.7")
    for _ in range(10):
        assert login(attacker, "boss", WRONG).status_code in (401, 429)
    assert login(attacker, "boss", PW).status_code == 429  # throttled at that address
    reply = login(client_from(web, "198.51.100.2"), "boss", PW)
    assert reply.status_code == 200, reply.text


def test_f13_the_account_wide_slow_down_is_bounded_and_the_user_gets_in(web: Web) -> None:
    """Failures from many addresses slow every check of that account (up to
    ``login_slowdown_max_s``), never lock it."""
    guard = LoginLimiter(limit=1000)
    waits: list[float] = []
    for i in range(40):
        with pytest.raises(auth.AuthenticationError):
            auth.authenticate(
                web.system, "cust", WRONG, client=f"10.1.{i}.1", guard=guard, sleep=waits.append
            )
    assert waits[:4] == [0.0, 0.25, 0.5, 1.0] and max(waits) == guard.limits.slowdown_max_s
    person = auth.authenticate(
        web.system, "cust", PW, client="10.2.0.1", guard=guard, sleep=waits.append
    )
    assert person.id == "cust"
    assert waits[-1] == guard.limits.slowdown_max_s  # slowed, never locked


# ---- finding 14: bounded argon2 ----


def test_f14_argon2_runs_at_most_n_at_once_and_the_rest_get_a_fast_429(
    web: Web, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = CountingHasher(hold=0.3)
    monkeypatch.setattr(people, "hasher", slow)
    web.app.state.login_limiter = LoginLimiter(limit=1000)
    start = threading.Barrier(40)

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, timeout=60) as c:
            start.wait()
            return c.post("/api/v1/session", json={"user": f"bogus{i}", "password": WRONG})

    with ThreadPoolExecutor(40) as pool:
        replies = list(pool.map(one, range(40)))
    busy = [r for r in replies if r.status_code == 429]
    assert slow.most <= 2, f"{slow.most} argon2 checks ran at once"
    assert busy and all(r.headers["retry-after"] == "1" for r in busy)
    assert all("busy" in r.json()["error"] for r in busy)
    assert len(slow.calls) + len(busy) == 40  # a refused attempt hashed nothing


# ---- settings ----


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_LOGIN_ATTEMPTS", "3")
    monkeypatch.setenv("OVERSIGHT_LOGIN_ARGON2_CONCURRENCY", "4")
    limits = LoginLimits.from_settings(Settings())
    assert limits.attempts == 3 and limits.hash_concurrency == 4
    monkeypatch.setenv("OVERSIGHT_LOGIN_ARGON2_CONCURRENCY", "0")
    with pytest.raises(ValueError, match="login_argon2_concurrency"):
        Settings()


def test_a_lower_attempt_setting_throttles_sooner(web: Web, hasher: CountingHasher) -> None:
    web.app.state.login_limiter = LoginLimiter(limits=LoginLimits(attempts=2))
    client = web.client()
    assert [login(client, "aud", WRONG).status_code for _ in range(3)] == [401, 401, 429]
    assert len(hasher.calls) == 2


def test_console_login_throttle_is_a_429_page_with_retry_after(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        nonce = _hidden(client.get("/login").text, "csrf")
        client.post("/login", data={"user": "op", "password": WRONG, "csrf": nonce})
    nonce = _hidden(client.get("/login").text, "csrf")
    reply = client.post("/login", data={"user": "op", "password": PW, "csrf": nonce})
    assert reply.status_code == 429 and int(reply.headers["retry-after"]) >= 1
    assert "try again in" in reply.text

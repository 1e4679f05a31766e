"""Issue 17, found item 4: the acting person must be an argument, never shared state.

Fifty people log in at once against one real uvicorn server on PostgreSQL (half
through the API, half through the console's login form), each submits an access
request and logs out. Every leaf those requests write must name the person who acted:
a login or logout leaf its own subject, a request leaf the person whose request it is.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from oversight.api.security import LoginLimiter
from oversight.clock import SystemClock
from tests.web.api_data import sealed_camera
from tests.web.authz_helpers import add_person, ledger, size
from tests.web.conftest import PW, LiveServer, Web, _hidden
from tests.web.test_api_access import DOCS, payload

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PEOPLE = [f"p{i:02d}" for i in range(50)]
ROUNDS = 2  # each person logs in, acts and logs out this many times
SLOW_CLOCK_S = 0.001


def _purpose(user: str) -> str:
    return f"case file of {user}"


def _slow_now(self: SystemClock) -> datetime:
    time.sleep(SLOW_CLOCK_S)
    return datetime.now(UTC)


@contextmanager
def under_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server as on a loaded machine: the GIL changes hands as often as it can and
    every reading of the clock takes a millisecond, so the threads serving different
    people interleave between any two steps of a request (nothing else changes)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(SystemClock, "now", _slow_now)
            yield
    finally:
        sys.setswitchinterval(before)


def _api_round(client: httpx.Client, user: str) -> None:
    """Log in for a bearer token, submit a request, log out."""
    login = client.post("/api/v1/session", json={"user": user, "password": PW})
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    body = payload(purpose=_purpose(user), requester_name=f"Officer {user}")
    made = client.post("/api/v1/access/requests", json=body, headers=bearer)
    assert made.status_code == 201, made.text
    assert client.delete("/api/v1/session", headers=bearer).status_code == 204


def _console_round(client: httpx.Client, user: str) -> None:
    """Log in through the form, submit a request with its documents, log out."""
    nonce = _hidden(client.get("/login").text, "csrf")
    login = client.post("/login", data={"user": user, "password": PW, "csrf": nonce})
    assert login.status_code == 303, login.text
    csrf = _hidden(client.get("/").text, "csrf")
    form: dict[str, Any] = {
        k: v for k, v in payload(purpose=_purpose(user)).items() if k != "documents"
    }
    form["requester_name"] = f"Officer {user}"
    files = {f"doc_{k}": (f"{k}.pdf", v, "application/pdf") for k, v in DOCS.items()}
    made = client.post("/access/new", data={**form, "csrf": csrf}, files=files)
    assert made.status_code == 303, made.text
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303


def _person(url: str, user: str, console: bool, start: threading.Barrier) -> None:
    act = _console_round if console else _api_round
    with httpx.Client(base_url=url, timeout=60, follow_redirects=False) as client:
        start.wait()
        for _ in range(ROUNDS):
            act(client, user)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_f4_fifty_concurrent_people_each_leaf_names_its_own_actor(
    web: Web, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 4: the API's login runs on the app-wide System whose ``actor`` field the
    services assign and then read when they build a leaf, so concurrent requests could
    write a leaf naming another person. Expected: every leaf of the 50 x ROUNDS logins,
    requests and logouts names its own actor."""
    sealed_camera(web.system, tmp_path)
    for i, user in enumerate(PEOPLE):
        add_person(web, user, f"PDOC{i:04d}", "requester")
    # One address (127.0.0.1) logs fifty people in: the per-address limiter is not tested.
    web.app.state.login_limiter = LoginLimiter(limit=1000)
    since = size(web.env.url)

    start = threading.Barrier(len(PEOPLE))
    with under_load(monkeypatch), ThreadPoolExecutor(len(PEOPLE)) as pool:
        runs = [
            pool.submit(_person, live_server.url, user, i % 2 == 1, start)
            for i, user in enumerate(PEOPLE)
        ]
        for run in runs:
            run.result(timeout=120)

    written = [leaf for idx, leaf in ledger(web.env.url) if idx >= since]
    wrong: list[str] = []
    seen: dict[str, list[str]] = {user: [] for user in PEOPLE}
    for leaf in written:
        if leaf["type"] == "person":
            owner = str(leaf["subject"]).removeprefix("user:")
            who = [leaf["actor"]]
        elif leaf["type"] == "access":
            owner = str(leaf["purpose"]).removeprefix("case file of ")
            who = list(leaf["actors"])
        else:
            continue
        if owner in seen:
            seen[owner].append(leaf["action"])
        if who != [owner]:
            wrong.append(f"{leaf['type']} {leaf['action']} of {owner} names {who}")
    assert wrong == [], f"{len(wrong)} of {len(written)} leaves name another person: {wrong[:10]}"
    assert {u: sorted(a) for u, a in seen.items()} == {
        user: sorted(["login", "logout", "request"] * ROUNDS) for user in PEOPLE
    }

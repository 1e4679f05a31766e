"""Fixtures for the API and console: a System on SQLite and PostgreSQL, a cast of
trained people with roles, an in-process client (Starlette's TestClient, which drives
the real ASGI app) and, for the browser tests, a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oversight import bootstrap
from oversight.config import Settings
from oversight.domain.people import Person
from oversight.services import people
from oversight.web.app import create_app
from tests.conftest import Env

PW = "user password 12"
# user id -> (identity document, role or None); everyone but "untrained" is trained.
CAST: dict[str, tuple[str, str | None]] = {
    "boss": ("BOSS0001", "admin"),
    "op": ("OPER0001", "operator"),
    "cust": ("CUST0001", "custodian"),
    "appr": ("APPR0001", "custodian"),
    "wit": ("WIT00001", "witness"),
    "aud": ("AUDI0001", "auditor"),
    "cop": ("COP00001", "requester"),
}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2id with the smallest parameters: these tests are about the web, not hashing.
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def add_cast(system: bootstrap.System) -> dict[str, Person]:
    boss = people.add_user(
        system, None, user_id="boss", name="Boss", roles=["admin"], id_doc="BOSS0001", password=PW
    )
    for user_id, (doc, role) in CAST.items():
        if user_id != "boss":
            people.add_user(
                system,
                boss,
                user_id=user_id,
                name=user_id.title(),
                roles=[],
                id_doc=doc,
                password=PW,
            )
        # Trained first: the packs refuse roles to untrained people (Art. 14(2)).
        people.record_training(
            system,
            boss,
            user_id=user_id,
            trained_on=date(2026, 1, 1),
            valid_until=date(2030, 1, 1),
            topics=["skills", "confidentiality"],
        )
        if role is not None and user_id != "boss":
            people.grant_role(system, boss, user_id, role)
    return {u: people.person_by_id(system, u) for u in CAST}


@dataclass
class Web:
    """The app over one System, with a client per logged-in user."""

    env: Env
    system: bootstrap.System
    app: FastAPI
    cast: dict[str, Person]
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        # raise_server_exceptions=False: a 500 must show up as a response the test sees.
        return TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            reply = self.client().post("/api/v1/session", json={"user": user, "password": PW})
            assert reply.status_code == 200, reply.text
            self.tokens[user] = reply.json()["token"]
        return self.tokens[user]

    def api(self, user: str) -> TestClient:
        """A client that sends ``user``'s bearer token."""
        client = self.client()
        client.headers["Authorization"] = f"Bearer {self.token(user)}"
        return client

    def console(self, user: str) -> ConsoleClient:
        """A client logged in through the console form (session cookie, CSRF token)."""
        client = ConsoleClient(self.app, raise_server_exceptions=False, follow_redirects=False)
        client.login(user)
        return client


class ConsoleClient(TestClient):
    csrf: str = ""

    def login(self, user: str, password: str = PW) -> None:
        form = self.get("/login")
        nonce = _hidden(form.text, "csrf")
        reply = self.post("/login", data={"user": user, "password": password, "csrf": nonce})
        assert reply.status_code == 303, reply.text
        self.csrf = _hidden(self.get("/").text, "csrf")

    def submit(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a console form with its CSRF token."""
        return self.post(url, data={**(data or {}), "csrf": self.csrf}, **kw)


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def web(initialised: Env) -> Iterator[Web]:
    system = bootstrap.build(Settings())
    try:
        cast = add_cast(system)
        yield Web(initialised, system, create_app(system), cast)
    finally:
        system.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


@pytest.fixture
def live_server(web: Web) -> Iterator[LiveServer]:
    """The app on a real uvicorn server on 127.0.0.1, in a thread of this process."""
    port = free_port()
    # Every console page holds an alarm stream open (server-sent events): without a
    # grace limit the server waits for them forever, the join below gives up, and the
    # engine is closed under the streams' polls (a leaked psycopg connection in CI).
    config = uvicorn.Config(
        web.app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not stop within 10 s"

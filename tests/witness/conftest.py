"""A real witness process on 127.0.0.1, and a real Oversight-format log to feed it."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from typer.testing import CliRunner

from oversight.cli.main import app
from oversight.ledger import merkle, note

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``oversight ARGS`` in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@dataclass
class Log:
    """A log signing checkpoints the way Oversight's ledger does."""

    origin: str
    skey: str = field(init=False)
    vkey: str = field(init=False)
    leaves: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.skey, self.vkey = note.generate_signer(self.origin)

    def grow(self, n: int) -> None:
        start = len(self.leaves)
        self.leaves += [
            merkle.leaf_hash(f"{self.origin} leaf {i}".encode()) for i in range(start, start + n)
        ]

    def checkpoint(self, size: int | None = None, *, skey: str | None = None) -> str:
        size = len(self.leaves) if size is None else size
        cp = note.Checkpoint(self.origin, size, merkle.root_hash(self.leaves[:size]))
        return note.sign_checkpoint(cp, [note.parse_signer(skey or self.skey)])

    def body(
        self,
        old: int,
        size: int | None = None,
        *,
        proof: list[bytes] | None = None,
        skey: str | None = None,
    ) -> bytes:
        size = len(self.leaves) if size is None else size
        if proof is None:
            proof = merkle.consistency_proof(old, size, self.leaves)
        import base64

        lines = [f"old {old}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
        return ("".join(lines) + "\n" + self.checkpoint(size, skey=skey)).encode()


@dataclass
class Witness:
    data_dir: Path
    vkey: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)

    def add_log(self, log: Log) -> None:
        code, _out, err = cli(
            "witness", "add-log", log.origin, log.vkey, "--data-dir", str(self.data_dir)
        )
        assert code == 0, err

    def rows(self) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "witness.sqlite3") as conn:
            return conn.execute(
                "SELECT origin, size, root_hash, note, cosigned_at FROM logs ORDER BY origin"
            ).fetchall()


def init_witness(data_dir: Path, name: str = "witness.test/w1") -> str:
    code, out, err = cli("witness", "init", "--data-dir", str(data_dir), "--name", name)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def start_witness(data_dir: Path, vkey: str, *extra: str) -> Witness:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oversight.cli.main",
            "witness",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    prefix = next((extra[i + 1] for i, a in enumerate(extra) if a == "--prefix"), "")
    url = f"http://127.0.0.1:{port}{prefix}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/latest/none", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                err = process.communicate()[1]
                raise RuntimeError(f"witness did not start: {err!r}") from None
            time.sleep(0.1)
    return Witness(data_dir, vkey, url, process)


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    data_dir = tmp_path_factory.mktemp("witness") / "data"
    w = start_witness(data_dir, init_witness(data_dir))
    try:
        yield w
    finally:
        w.stop()

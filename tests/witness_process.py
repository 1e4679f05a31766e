"""Real ``oversight witness`` processes on 127.0.0.1, for every test that needs a witness.

Each witness is the shipped program (``python -m oversight.cli.main witness serve``) in
its own process with its own data dir, key and SQLite. What the tests read back comes
from the witness itself: its stderr record of each submission and its own database.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from typer.testing import CliRunner

from oversight.cli.main import app

SRC = Path(__file__).resolve().parents[1] / "src"
# server.py's line per submission: "add-checkpoint from HOST old N: STATUS reason"
_DECIDED = re.compile(r"add-checkpoint from \S+ (?:old (\d+))?[^:]*: (\d{3}) ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``oversight ARGS`` in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def init_witness(data_dir: Path, name: str = "witness.test/w1") -> str:
    """``oversight witness init``; the verifier key it prints last."""
    code, out, err = cli("witness", "init", "--data-dir", str(data_dir), "--name", name)
    assert code == 0, err
    return out.strip().splitlines()[-1]


@dataclass
class Witness:
    """One witness program: started, stopped and restarted on the same port."""

    data_dir: Path
    vkey: str
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    stderr: list[str] = field(default_factory=list)  # every run's, in order
    _drained: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        prefix = next((self.extra[i + 1] for i, a in enumerate(self.extra) if a == "--prefix"), "")
        return f"http://127.0.0.1:{self.port}{prefix}"

    @property
    def config(self) -> str:
        """This witness as one entry of OVERSIGHT_WITNESSES."""
        return f"{self.url}={self.vkey}"

    def start(self) -> Witness:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        args = ["witness", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oversight.cli.main", *args, *self.extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._drained = threading.Event()
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/latest/none", timeout=1)
                return self
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
                    raise RuntimeError(f"witness did not start: {self.stderr[-5:]!r}") from None
                time.sleep(0.1)

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        with process.stderr:
            for raw in process.stderr:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))
        self._drained.set()

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            self.process.wait(timeout=10)
            self._drained.wait(timeout=10)  # every line it wrote, and its pipe closed
        self.process = None

    def add_log(self, origin: str, vkey: str) -> None:
        """``oversight witness add-log`` (works while serving: the store is SQLite WAL)."""
        code, _out, err = cli("witness", "add-log", origin, vkey, "--data-dir", str(self.data_dir))
        assert code == 0, err

    def rotate_key(self, *extra: str) -> str:
        """``oversight witness rotate-key`` (works while serving); the new key, now ``vkey``."""
        code, out, err = cli("witness", "rotate-key", "--data-dir", str(self.data_dir), *extra)
        assert code == 0, err
        self.vkey = out.strip().splitlines()[-1]
        return self.vkey

    def retire_key(self) -> None:
        """``oversight witness retire-key`` (works while serving)."""
        code, _out, err = cli("witness", "retire-key", "--data-dir", str(self.data_dir))
        assert code == 0, err

    def requests(self) -> list[tuple[int | None, int]]:
        """(old size, status) of each add-checkpoint it answered, from its own record."""
        out = []
        for line in list(self.stderr):
            match = _DECIDED.search(line)
            if match:
                out.append((None if match[1] is None else int(match[1]), int(match[2])))
        return out

    def wait_requests(self, n: int, timeout: float = 10) -> list[tuple[int | None, int]]:
        """The record once it holds ``n`` answers (stderr arrives a moment after the reply)."""
        deadline = time.monotonic() + timeout
        while len(self.requests()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests()

    def wait_status(self, status: int, timeout: float = 10) -> bool:
        """Whether it answered ``status`` to some submission, waiting for its record."""
        deadline = time.monotonic() + timeout
        while not any(s == status for _, s in self.requests()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def rows(self) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "witness.sqlite3") as conn:
            return conn.execute(
                "SELECT origin, size, root_hash, note, cosigned_at FROM logs ORDER BY origin"
            ).fetchall()

    def cosigned_size(self, origin: str) -> int | None:
        """The size it last cosigned for ``origin`` (None: not known or never)."""
        for row_origin, size, _root, cosigned, _at in self.rows():
            if row_origin == origin and cosigned is not None:
                assert isinstance(size, int)
                return size
        return None

    def conflicts(self) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "witness.sqlite3") as conn:
            return conn.execute("SELECT origin, size, status FROM conflicts").fetchall()


def start_witness(data_dir: Path, vkey: str, *extra: str) -> Witness:
    return Witness(data_dir, vkey, tuple(extra)).start()


def witness_for(data_dir: Path, name: str, origin: str, log_vkey: str) -> Witness:
    """A new witness that trusts ``log_vkey`` for ``origin``, serving."""
    w = Witness(data_dir, init_witness(data_dir, name))
    w.add_log(origin, log_vkey)
    return w.start()

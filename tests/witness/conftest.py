"""A real witness process on 127.0.0.1, and a real Oversight-format log to feed it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from oversight.ledger import merkle, note
from tests.witness_process import Witness, cli, free_port, init_witness, start_witness

__all__ = ["Log", "Witness", "cli", "free_port", "init_witness", "start_witness"]


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
        lines = [f"old {old}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
        return ("".join(lines) + "\n" + self.checkpoint(size, skey=skey)).encode()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    data_dir = tmp_path_factory.mktemp("witness") / "data"
    w = start_witness(data_dir, init_witness(data_dir))
    try:
        yield w
    finally:
        w.stop()

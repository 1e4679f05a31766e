"""A small C2SP tlog-witness on 127.0.0.1, written from the spec, for the log side's tests.

It STANDS IN for ``oversight witness serve`` (issue 20, item 1, written in parallel by
another helper): the lead swaps it for the real program after merging. It is a real HTTP
server in a thread (``http.server``), cosigns with ``ledger/cosignature.py`` and checks
consistency with ``ledger/merkle.py``:

- ``POST /add-checkpoint``: body ``old N``, proof lines, blank line, signed checkpoint.
  400 malformed (or old > size, or more than 63 proof lines), 404 unknown origin, 403 no
  trusted log signature, 409 + ``text/x.tlog.size`` when old is not the size it cosigned
  (or same size, another root), 422 failing proof; else it stores the checkpoint and
  answers 200 with its cosignature line.
- ``GET /latest/<origin, percent-encoded>``: the newest cosigned checkpoint (the log's
  note plus its cosignature), 404 when it has none.
"""

from __future__ import annotations

import base64
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import cosignature, merkle, note

MAX_BODY = 1 << 16


@dataclass
class Seen:
    size: int
    root: bytes
    note: str  # the log's checkpoint with our cosignature


@dataclass
class WitnessDouble:
    name: str
    log_vkey: str
    origin: str
    signer: cosignature.CosignatureSigner = field(init=False)
    vkey: str = field(init=False)
    latest: Seen | None = None
    requests: list[tuple[int, int]] = field(default_factory=list)  # (old, status)
    _server: ThreadingHTTPServer | None = None
    _port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        skey, self.vkey = cosignature.generate(self.name)
        signer = note.parse_signer(skey)
        assert isinstance(signer, cosignature.CosignatureSigner)
        self.signer = signer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def config(self) -> str:
        return f"{self.url}={self.vkey}"

    def start(self) -> WitnessDouble:
        """Listen (again, on the same port after a stop)."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.path != "/add-checkpoint":
                    return self._send(404, b"not found\n")
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    return self._send(400, b"body too large\n")
                status, ctype, body = double.add_checkpoint(self.rfile.read(length))
                self._send(status, body, ctype)

            def do_GET(self) -> None:
                prefix = "/latest/"
                origin = urllib.parse.unquote(self.path[len(prefix) :])
                seen = double.latest
                if not self.path.startswith(prefix) or origin != double.origin or seen is None:
                    return self._send(404, b"not found\n")
                self._send(200, seen.note.encode())

            def _send(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        with self._lock:  # check and store atomically (the spec's race)
            status, ctype, out = self._add(body)
            old = body.split(b"\n", 1)[0]
            self.requests.append((int(old[4:]) if old[4:].isdigit() else -1, status))
            return status, ctype, out

    def _add(self, body: bytes) -> tuple[int, str, bytes]:
        text = body.decode("utf-8", "replace")
        head, sep, signed = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or not lines[0].startswith("old ") or not lines[0][4:].isdigit():
            return 400, "text/plain", b"malformed\n"
        old = int(lines[0][4:])
        if len(lines) - 1 > 63:
            return 400, "text/plain", b"too many proof lines\n"
        try:
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            cp = note.Checkpoint.parse(signed[: signed.index("\n\n") + 1])
        except (ValueError, ProofError):
            return 400, "text/plain", b"malformed\n"
        if cp.origin != self.origin:
            return 404, "text/plain", b"unknown origin\n"
        try:
            note.open_checkpoint(signed, [note.parse_verifier(self.log_vkey)])
        except (ProofError, InvalidInput):
            return 403, "text/plain", b"no trusted signature\n"
        if old > cp.size:
            return 400, "text/plain", b"old size larger than the checkpoint\n"
        have = self.latest.size if self.latest else 0
        if old != have:
            return 409, "text/x.tlog.size", f"{have}\n".encode()
        if self.latest is not None:
            if old == cp.size and self.latest.root != cp.root_hash:
                return 409, "text/x.tlog.size", f"{have}\n".encode()
            try:
                merkle.verify_consistency(old, cp.size, self.latest.root, cp.root_hash, proof)
            except ProofError:
                return 422, "text/plain", b"inconsistent\n"
        elif proof:
            return 422, "text/plain", b"proof from size 0 must be empty\n"
        sig = note.Signature(
            self.signer.name, self.signer.key_id, self.signer.sign(cp.format().encode())
        )
        self.latest = Seen(cp.size, cp.root_hash, signed + sig.line())
        return 200, "text/plain", sig.line().encode()

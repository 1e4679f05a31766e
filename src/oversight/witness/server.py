"""The witness's HTTP interface (c2sp.org/tlog-witness), a small Starlette app.

    POST <prefix>/add-checkpoint     cosign a checkpoint (the spec's status codes)
    GET  <prefix>/latest/<origin>    the newest cosigned checkpoint of a log, or 404

Requests are handled one at a time on the event loop: each is a few signature checks
and one SQLite write, and the store's compare-and-swap keeps even several processes
on one data dir from both advancing a log.
"""

from __future__ import annotations

import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oversight.errors import NotFound
from oversight.ledger import cosignature, note
from oversight.witness import protocol
from oversight.witness.store import Store

_TEXT = "text/plain; charset=utf-8"
log = logging.getLogger("oversight.witness")


class _TooLarge(Exception):
    pass


def add_checkpoint(store: Store, body: bytes) -> bytes:
    """Decide on one add-checkpoint body; the cosignature line(s), or raise Refusal."""
    request = protocol.parse_request(body)
    origin = request.checkpoint.origin
    old = store.stored(origin)
    try:
        opened = protocol.decide(request, store.log_keys(origin), old)
    except protocol.Refusal as refusal:
        if refusal.conflict and store.record_conflict(
            origin, request.checkpoint, request.message, refusal
        ):
            log.critical(
                "log %s signed a checkpoint of size %d that does not extend the %d leaves"
                " we cosigned (%s); kept as evidence: oversight witness conflicts",
                origin,
                request.checkpoint.size,
                old.size,
                refusal.reason,
            )
        raise
    # During a key rotation the new key and the retiring one both cosign, each line
    # with its own timestamp: a log that still trusts only the old key keeps working.
    text = opened.text.encode()
    sigs = [note.Signature(s.name, s.key_id, s.sign(text)) for s in store.signers()]
    cosigned = opened.text + "\n" + "".join(s.line() for s in [*opened.sigs, *sigs])
    at = cosignature.cosigned_at(sigs[0].signature)
    if not store.advance(origin, old.size, request.checkpoint, cosigned, at):
        now = store.stored(origin).size  # another submission advanced the log meanwhile
        raise protocol.Refusal(409, f"latest cosigned size is now {now}", size=now)
    return "".join(s.line() for s in sigs).encode()


def _decided(request: Request, body: bytes, status: int, reason: str) -> None:
    """One line per submission (the inspector's record of who sent what, and the answer)."""
    head = body.split(b"\n", 1)[0][:40].decode("ascii", "replace")
    client = request.client.host if request.client else "?"
    log.info("add-checkpoint from %s %s: %d %s", client, head, status, reason)


async def _read_bounded(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise _TooLarge
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(store: Store, *, prefix: str = "", max_body_bytes: int) -> Starlette:
    """The witness app over an opened store; ``prefix`` is "" or "/path" (no trailing /)."""

    async def post_add_checkpoint(request: Request) -> Response:
        try:
            body = await _read_bounded(request, max_body_bytes)
        except _TooLarge:
            _decided(request, b"", 413, "body too large")
            return Response(
                f"request body larger than {max_body_bytes} bytes\n", 413, media_type=_TEXT
            )
        try:
            lines = add_checkpoint(store, body)
        except protocol.Refusal as refusal:
            _decided(request, body, refusal.status, refusal.reason)
            return Response(
                refusal.body, refusal.status, headers={"content-type": refusal.content_type}
            )
        _decided(request, body, 200, "cosigned")
        return Response(lines, 200, media_type=_TEXT)

    async def get_latest(request: Request) -> Response:
        origin = request.path_params["origin"]
        try:
            cosigned = store.latest(origin)
        except NotFound:
            cosigned = None
        if cosigned is None:
            return Response(f"no cosigned checkpoint of {origin!r}\n", 404, media_type=_TEXT)
        return Response(cosigned, 200, media_type=_TEXT)

    return Starlette(
        routes=[
            Route(f"{prefix}/add-checkpoint", post_add_checkpoint, methods=["POST"]),
            Route(f"{prefix}/latest/{{origin:path}}", get_latest, methods=["GET"]),
        ]
    )


def normalize_prefix(prefix: str) -> str:
    """ "" or "/a/b": a leading slash, no trailing one."""
    stripped = prefix.strip("/")
    return "/" + stripped if stripped else ""


def serve(store: Store, *, host: str, port: int, prefix: str, max_body_bytes: int) -> None:
    """Run the app on ``host:port`` until interrupted."""
    app = create_app(store, prefix=normalize_prefix(prefix), max_body_bytes=max_body_bytes)
    if not log.handlers:  # the program's own record on stderr, whatever the CLI's level
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

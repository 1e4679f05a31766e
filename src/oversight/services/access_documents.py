"""Opening a request's documents (issue 22, item 5): the approver reads the letter and
the ID scans they approve, through one audited route.

The policy's ``access.documents`` decides (the custodians in the request's scope, and
the account that entered it). An opening is a ``document.open`` access leaf (who, the
request, the document's kind and hash) appended *before* the bytes are returned; if the
append fails nothing is returned (fail closed). A refusal is a ``document.open.refused``
leaf. The bytes are checked against their hash and bounded by ``document_max_bytes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from oversight.bootstrap import System
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import IntegrityError, InvalidInput, NotFound
from oversight.services import authz
from oversight.services.access import _request_row, access_leaf, record_refusal
from oversight.services.documents import documents_dir, size_text

# Served as themselves: formats a browser shows without running anything. Anything else
# (HTML, SVG, scripts, office files) is application/octet-stream.
_SAFE_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


@dataclass(frozen=True)
class OpenedDocument:
    data: bytes
    content_type: str
    filename: str
    sha256: str


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, file extension) from the bytes themselves, never from a name."""
    for magic, kind, ext in _SAFE_TYPES:
        if data.startswith(magic):
            return kind, ext
    return "application/octet-stream", "bin"


def open_document(system: System, actor: Person, request_id: int, kind: str) -> OpenedDocument:
    """The bytes of document ``kind`` of request ``request_id``, once allowed and logged."""
    target = f"request:{request_id}"
    try:
        with system.reads() as s:
            row = _request_row(s, request_id)
            authz.on_cameras(
                s,
                actor,
                "access.documents",
                row.cameras,
                kind="request",
                id=row.id,
                owner=row.requested_by,
            )
            digest = dict(row.documents).get(kind)
            purpose, destination = row.purpose, row.destination
            cameras, owner = list(row.cameras), row.requested_by
    except PermissionDenied as exc:
        record_refusal(
            system, exc, actors=[actor.id], action="document.open", target=target,
            details={"document": kind},
        )  # fmt: skip
        raise
    if digest is None:
        raise NotFound(f"access request {request_id} has no document {kind!r}")
    path = documents_dir(system) / digest
    limit = system.settings.document_max_bytes
    try:
        if path.stat().st_size > limit:
            raise InvalidInput(f"document {kind!r} is larger than {size_text(limit)}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(
            f"document {kind!r} of request {request_id} is no longer kept (removed by the "
            "document retention run)"
        ) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise IntegrityError(f"stored document {digest} does not match its hash")
    leaf = access_leaf(
        system,
        actors=[actor.id],
        action="document.open",
        target=target,
        purpose=purpose,
        destination=destination,
        details={"document": kind, "sha256": digest},
    )
    with system.sessions.begin() as s:
        # The policy again under the write, as every use case does; then the leaf.
        authz.on_cameras(
            s, actor, "access.documents", cameras, kind="request", id=request_id, owner=owner
        )
        system.ledger.append(s, [leaf])
    content_type, ext = sniff(data)
    return OpenedDocument(data, content_type, f"request-{request_id}-{kind}.{ext}", digest)

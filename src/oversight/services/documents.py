"""Write-once storage of supporting documents (access requests' letters and IDs,
emergency procedures): ``DATA_DIR/documents/<sha256>``, read-only once written.

Every interface (API, console, CLI) hands documents to the services, which bound them
here: at most ``document_max_count`` per request, each at most ``document_max_bytes``,
and only kinds the request's organisation class may need under the packs in force.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from oversight.bootstrap import System
from oversight.errors import InvalidInput

DOCUMENTS_DIR = "documents"


def documents_dir(system: System) -> Path:
    return system.settings.data_dir / DOCUMENTS_DIR


def size_text(limit: int) -> str:
    """A byte limit as an operator set it: ``20 MiB`` or ``5000 bytes``."""
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def check_size(system: System, data: bytes, what: str) -> None:
    limit = system.settings.document_max_bytes
    if len(data) > limit:
        raise InvalidInput(f"{what} is larger than {size_text(limit)} (document_max_bytes)")


def check_attachments(
    system: System,
    documents: Mapping[str, bytes],
    *,
    allowed: Collection[str] | None,
    who: str,
) -> None:
    """Refuse (InvalidInput, nothing written) too many documents, one too large or
    empty, or a kind that ``who`` (an organisation class) never needs (``allowed``
    None: the kinds are not checked here, the class is refused by the packs)."""
    most = system.settings.document_max_count
    if len(documents) > most:
        raise InvalidInput(
            f"{len(documents)} documents attached: at most {most} per request (document_max_count)"
        )
    for kind, data in documents.items():
        if allowed is not None and kind not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(
                f"document {kind!r} is not one a {who.replace('_', ' ')} request may need "
                f"(accepted: {known})"
            )
        if not data:
            raise InvalidInput(f"document {kind!r} is empty")
        check_size(system, data, f"document {kind!r}")


def store_document(system: System, data: bytes) -> str:
    """Write-once: DATA_DIR/documents/<sha256>; an existing file must hold the same bytes."""
    check_size(system, data, "the document")
    digest = hashlib.sha256(data).hexdigest()
    directory = documents_dir(system)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / digest
    if target.exists():
        if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
            raise InvalidInput(f"stored document {digest} is damaged")
        return digest
    fd, tmp = tempfile.mkstemp(prefix=".doc-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o400)
        os.link(tmp, target)  # fails if another writer won: then its bytes are ours too
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return digest


def ensure_document(system: System, digest: str, data: bytes) -> None:
    """:func:`store_document` where the file ``digest`` of ``data`` is missing (removed
    by the retention run since it was stored); a present file is not read again."""
    if not (documents_dir(system) / digest).exists():
        store_document(system, data)

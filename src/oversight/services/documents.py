"""Write-once storage of supporting documents (access requests' letters and IDs,
emergency procedures): ``DATA_DIR/documents/<sha256>``, read-only once written."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from oversight.bootstrap import System
from oversight.errors import InvalidInput

DOCUMENTS_DIR = "documents"


def store_document(system: System, data: bytes) -> str:
    """Write-once: DATA_DIR/documents/<sha256>; an existing file must hold the same bytes."""
    digest = hashlib.sha256(data).hexdigest()
    directory = system.settings.data_dir / DOCUMENTS_DIR
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

"""An evidence package as a .zip download, for the console and the API.

``services.export.export_grant`` writes the package (through the enforcement point, its
``export`` leaf committed first) into a private temporary directory; the directory is
zipped next to it (both named by grant, cameras, range and export
time) and streamed, and removed once the response is sent (or fails).
Unzipped, the package verifies like one written by ``oversight export``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.services import export


def package_zip(
    system: System,
    custodian: Person,
    witness: Person,
    *,
    grant_id: int,
    watermark: bool,
    progress: export.Progress | None = None,
) -> FileResponse:
    """Export grant ``grant_id`` and answer with the package as ``application/zip``."""
    tmp = Path(tempfile.mkdtemp(prefix="oversight-export-"))
    try:
        archive = export.export_grant(
            system,
            custodian,
            witness,
            grant_id=grant_id,
            into=tmp,
            watermark=watermark,
            archive=True,
            progress=progress,
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )

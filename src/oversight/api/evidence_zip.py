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


def make_zip(
    system: System,
    custodian: Person,
    witness: Person,
    *,
    grant_id: int,
    watermark: bool,
    progress: export.Progress | None = None,
) -> tuple[Path, Path]:
    """Export grant ``grant_id`` as a zip in a new private temporary directory:
    (that directory, the zip). The caller removes the directory."""
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
    return tmp, archive


def zip_response(tmp: Path, archive: Path) -> FileResponse:
    """The zip as ``application/zip``; ``tmp`` is removed once it is sent (or fails)."""
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


def package_zip(
    system: System, custodian: Person, witness: Person, *, grant_id: int, watermark: bool
) -> FileResponse:
    """Export grant ``grant_id`` and answer with the package as ``application/zip``."""
    tmp, archive = make_zip(system, custodian, witness, grant_id=grant_id, watermark=watermark)
    return zip_response(tmp, archive)

"""Which files are open in some process (Linux /proc): a spool file still held open by
an ffmpeg (even an orphan of a crashed recorder) is never sealed."""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def open_files_under(directory: Path) -> set[Path]:
    """Paths under ``directory`` that any process we can inspect has open."""
    prefix = str(directory.resolve()) + os.sep
    found: set[Path] = set()
    if not _PROC.is_dir():
        return found
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith(prefix):
                found.add(Path(target))
    return found

"""Finding 5 (issue 18): an evidence package is written for a recipient, not kept in
custody. It is private to the operator's account (directory 0700, files 0600, from the
umask 077 every command sets in ``bootstrap``) until the operator hands it over, and
not read-only: once delivered the operator may delete the copy. Its signature, not its
mode, proves it unaltered. CI runs as root, so the modes are checked, not a read by
another account."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from oversight import bootstrap
from tests.evidence.test_package import export
from tests.recorder.helpers import needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]


def test_an_evidence_package_is_private_to_the_operator(
    system: bootstrap.System, tmp_path: Path
) -> None:
    os.umask(0o022)  # whatever the shell had: building the System restricts it
    bootstrap.build(system.settings).close()
    out = export(system, tmp_path)
    entries = [out, *out.rglob("*")]
    assert len(entries) > 5
    for entry in entries:
        mode = stat.S_IMODE(entry.stat().st_mode)
        assert mode == (0o700 if entry.is_dir() else 0o600), (entry, oct(mode))

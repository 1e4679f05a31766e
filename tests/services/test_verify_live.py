"""`oversight verify` while recorders go on sealing (issue 21: a pool's nodes never
stop): the check reads one snapshot, and footage sealed meanwhile is a warning to run it
again, never `index-mismatch` or `unexpected` (bench/pool.py's helper saw 7 such)."""

from __future__ import annotations

import os
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import verify
from oversight.services.sealing import seal_file
from tests.conftest import Env
from tests.services.test_verify import T0, _register_camera


def test_verify_while_segments_are_being_sealed_reports_nothing_false(
    initialised: Env, tmp_path: Path
) -> None:
    _register_camera(initialised)
    stop = threading.Event()
    sealed = [0]

    def recorder() -> None:
        with closing(bootstrap.build(Settings())) as system:
            i = 0
            while not stop.is_set():
                spool = tmp_path / f"seg{i}.mp4"
                spool.write_bytes(os.urandom(50_000))
                start = T0 + timedelta(minutes=i)
                seal_file(
                    system, camera="cam1", path=spool, start=start,
                    end=start + timedelta(minutes=1),
                )  # fmt: skip
                sealed[0] = i = i + 1

    thread = threading.Thread(target=recorder)
    thread.start()
    reports = []
    try:
        with closing(bootstrap.build(Settings())) as system:
            # Until one run overlapped a seal (timing decides which run does; bounded).
            while (
                len(reports) < 4 or sealed[0] < 20 or (not _warned(reports) and len(reports) < 300)
            ):
                reports.append(verify.verify(system))
    finally:
        stop.set()
        thread.join(30)
    assert sealed[0] >= 20  # it really sealed while the checks ran
    for report in reports:
        assert report.problems == [], report.problems
    assert _warned(reports)
    with closing(bootstrap.build(Settings())) as system:
        final = verify.verify(system)  # once it stops, everything is checked
    assert final.ok and final.segments_checked == sealed[0]
    assert not any("sealed while" in w for w in final.warnings)


def _warned(reports: list[verify.Report]) -> bool:
    return any("sealed while this verification ran" in w for r in reports for w in r.warnings)


def test_a_segment_sealed_between_the_index_read_and_the_store_listing_is_a_warning(
    initialised: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the seal lands exactly after the snapshot, before the listing."""
    _register_camera(initialised)
    listing = verify._check_store

    def seal_then_list(system: bootstrap.System, *args: object, **kwargs: object) -> None:
        spool = tmp_path / "late.mp4"
        spool.write_bytes(os.urandom(20_000))
        seal_file(system, camera="cam1", path=spool, start=T0, end=T0 + timedelta(minutes=1))
        listing(system, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verify, "_check_store", seal_then_list)
    with closing(bootstrap.build(Settings())) as system:
        report = verify.verify(system)
    assert report.problems == [], report.problems
    assert _warned([report])

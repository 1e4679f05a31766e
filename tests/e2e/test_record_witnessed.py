"""End to end (issue 20): `oversight record` with two witnesses, each the real
`oversight witness serve` in its own process. Recording goes on while the submitter
sends checkpoints; both witnesses cosign, up to the last checkpoint of the run, and each
cosignature verifies with a check written from c2sp.org/tlog-cosignature alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.db import models as m
from oversight.services import recording
from oversight.sim.cameras import SimulatedCameraSet
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg
from tests.services.test_witnessing import _independent_check
from tests.witness_process import witness_for

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),
]


def test_record_with_two_witnesses_both_cosign_to_the_last_checkpoint(
    system: bootstrap.System, env: Env, tmp_path: Path
) -> None:
    origin = system.ledger.origin
    log_vkey = system.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
    witnesses = [
        witness_for(tmp_path / f"w{i}", f"county{i}.example/witness", origin, log_vkey)
        for i in (1, 2)
    ]
    try:
        env.monkeypatch.setenv("OVERSIGHT_WITNESSES", ",".join(w.config for w in witnesses))
        env.monkeypatch.setenv("OVERSIGHT_WITNESS_INTERVAL_S", "0.5")
        with RelayThread() as relay, SimulatedCameraSet(1, relay=relay, width=320) as cams:
            add_camera(system, "cam1", cams.urls[0])
            env.ok("record", "--duration", "10", "--segment-seconds", "2")
        segments = recording.list_segments(system, HOST, camera="cam1")
        assert len(segments) >= 3
        with system.reads() as s:
            latest = system.ledger.latest_checkpoint(s)
            assert latest is not None
            rows = s.query(m.WitnessCosignature).filter_by(size=latest.size).all()
        # each witness holds the very last checkpoint, the recorder's stop included
        assert [w.cosigned_size(origin) for w in witnesses] == [latest.size] * 2
        assert all(latest.size > seg.leaf_index for seg in segments)
        body = latest.note[: latest.note.index("\n\n") + 1].encode()
        by_name = {row.witness.split("+")[0]: row.line for row in rows}
        for w in witnesses:
            _independent_check(w.vkey, body, by_name[w.vkey.split("+")[0]])
            # the witness cosigned as the log grew, not once at the end
            assert sum(1 for _, status in w.requests() if status == 200) >= 3
        report = json.loads(env.ok("verify", "--json").output)
        assert report["ok"] and report["warnings"] == []
        vouched = sorted((w["witness"].split("+")[0], w["source"]) for w in report["witnesses"])
        assert vouched == [
            (name, source)
            for name in ("county1.example/witness", "county2.example/witness")
            for source in ("served", "stored")
        ]
        assert {w["size"] for w in report["witnesses"]} == {latest.size}
    finally:
        for w in witnesses:
            w.stop()

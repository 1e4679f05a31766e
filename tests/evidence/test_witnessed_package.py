"""Evidence packages carry the checkpoint with its cosignatures, and `oversight evidence
verify --witness-key` checks a quorum of them (issue 20, item 4). The witnesses are two
real `oversight witness serve` processes (tests/witness_process.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.evidence.package import package_from_ledger
from oversight.evidence.verify import verify_package
from oversight.ledger import cosignature
from oversight.services import witnessing
from tests.conftest import Env
from tests.evidence.helpers import record_and_seal
from tests.evidence.test_package import CLIPS, access_leaf, release, segment_files, vkey
from tests.recorder.helpers import needs_ffmpeg
from tests.witness_process import Witness, witness_for

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]


def cosigned_package(system: bootstrap.System, tmp_path: Path, *, witnesses: int) -> Path:
    """Record and seal footage, have every configured witness cosign, and export it."""
    rec = record_and_seal(system, tmp_path)
    audit = access_leaf(system)
    assert [o.result for o in witnessing.submit_all(system)] == ["cosigned"] * witnesses
    return package_from_ledger(
        system,
        tmp_path / "package",
        release=release(),
        clips=CLIPS,
        segments=segment_files(rec),
        audit_leaves=[audit],
    )


@pytest.fixture
def package(initialised: Env, tmp_path: Path) -> Iterator[tuple[Path, str, list[Witness]]]:
    with closing(bootstrap.build(Settings())) as system:
        log_key, origin = vkey(system), system.ledger.origin
    witnesses = [
        witness_for(tmp_path / f"witness{i}", f"w{i}.example/witness", origin, log_key)
        for i in (1, 2)
    ]
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESSES", ",".join(w.config for w in witnesses))
    try:
        with closing(bootstrap.build(Settings())) as system:
            out = cosigned_package(system, tmp_path, witnesses=2)
        yield out, log_key, witnesses
    finally:
        for d in witnesses:
            d.stop()


def test_the_package_names_the_witnesses_that_cosigned_and_when(
    package: tuple[Path, str, list[Witness]], initialised: Env
) -> None:
    out, key, witnesses = package
    checkpoint = (out / "checkpoint.txt").read_text()
    assert checkpoint.count("\n— ") == 3  # the log's signature and two cosignatures
    report = verify_package(out, trusted_key=key, witness_keys=[d.vkey for d in witnesses])
    assert report.ok and report.status == "ok", report.problems
    assert [c["witness"].split("+")[0] for c in report.cosigned_by] == [
        "w1.example/witness",
        "w2.example/witness",
    ]
    args = ["evidence", "verify", str(out), "--key", key]
    witness_args = [a for d in witnesses for a in ("--witness-key", d.vkey)]
    result = initialised.ok(*args, *witness_args)
    assert result.output.count("cosigned by witness w") == 2
    assert "+00:00" in result.output  # the cosignature time, in UTC
    # without witness keys the cosignatures prove nothing yet: a warning, still exit 0
    plain = verify_package(out, trusted_key=key)
    assert plain.ok and "give --witness-key" in plain.warnings[0]


def test_a_missing_quorum_is_a_problem_exit_1(
    package: tuple[Path, str, list[Witness]], initialised: Env
) -> None:
    out, key, witnesses = package
    _, stranger = cosignature.generate("w3.example/witness")
    keys = [witnesses[0].vkey, stranger]
    report = verify_package(out, trusted_key=key, witness_keys=keys)
    assert [p.kind for p in report.problems] == ["witness-quorum"]
    assert (
        "1 of the 2 trusted witnesses cosigned the checkpoint, 2 required"
        in report.problems[0].detail
    )
    args = ["evidence", "verify", str(out), "--key", key, "--json"]
    witness_args = [a for k in keys for a in ("--witness-key", k)]
    data = json.loads(initialised.fails(*args, *witness_args, code=1).output)
    assert data["status"] == "failed"
    initialised.ok(*args, *witness_args, "--witness-quorum", "1")
    # a log key given as a witness key is a usage error
    initialised.fails("evidence", "verify", str(out), "--key", key, "--witness-key", key)

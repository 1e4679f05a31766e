"""Evidence packages end to end: real footage sealed into a real ledger (SQLite and
PostgreSQL), packaged, and checked offline by ``verify_package`` and the CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.errors import AlreadyExists, IntegrityError, InvalidInput
from oversight.evidence import clips as cutting
from oversight.evidence import manifest as mf
from oversight.evidence.package import (
    ClipSpec,
    Release,
    Requester,
    SegmentFile,
    package_from_ledger,
)
from oversight.evidence.verify import UNTRUSTED_KEY_WARNING, Report, verify_package
from oversight.ledger import keys, leaves, note
from tests.conftest import Env
from tests.evidence.helpers import SEGMENT_SECONDS, T0, Recorded, record_and_seal
from tests.recorder.helpers import needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]

SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]
GRANT = "G-7"


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def release() -> Release:
    return Release(
        request_id="REQ-7",
        grant_id=GRANT,
        kind="copy",
        purpose="traffic accident investigation",
        destination="County PSB case file 2024-113",
        requester=Requester("Wang Li", "County Public Security Bureau", "police"),
        executed_by=("custodian1", "witness2"),
        released_by="Acme Security Operations",
        cameras=("cam1",),
        start=T0,
        end=T0 + s(2 * SEGMENT_SECONDS),
    )


def access_leaf(system: bootstrap.System, grant: str = GRANT) -> int:
    """The audit leaf the enforcement point appends before it hands out any bytes."""
    with system.sessions.begin() as session:
        [index] = system.ledger.append(
            session,
            [
                leaves.access(
                    at=system.clock.now(),
                    actors=["custodian1", "witness2"],
                    action="export",
                    target="cam1",
                    purpose="traffic accident investigation",
                    destination="County PSB case file 2024-113",
                    grant=grant,
                )
            ],
        )
    return index


CLIPS = [
    ClipSpec("cam1", T0 + s(3), T0 + s(9)),
    ClipSpec("cam1", T0 + s(1), T0 + s(4), watermark=True, masks=[SQUARE]),
]


def segment_files(rec: Recorded) -> list[SegmentFile]:
    return [SegmentFile(seg.leaf_index, f) for seg, f in zip(rec.segments, rec.files, strict=True)]


def export(
    system: bootstrap.System,
    tmp_path: Path,
    *,
    include_sources: bool = True,
    clips: list[ClipSpec] = CLIPS,
) -> Path:
    rec = record_and_seal(system, tmp_path)
    audit = access_leaf(system)
    return package_from_ledger(
        system,
        tmp_path / "package",
        release=release(),
        clips=clips,
        segments=segment_files(rec),
        audit_leaves=[audit],
        include_sources=include_sources,
    )


def vkey(system: bootstrap.System) -> str:
    return keys.verifier_key(system.settings.keys_dir)


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def failed(report: Report) -> str:
    return "\n".join(p.line() for p in report.problems)


# ---- a good package -----------------------------------------------------------------


def test_a_package_verifies_offline(
    system: bootstrap.System, initialised: Env, tmp_path: Path
) -> None:
    out = export(system, tmp_path)
    manifest = mf.load((out / "manifest.json").read_bytes())
    proofs = sorted(f"proofs/{s.leaf_index}.tlog-proof" for s in manifest.source_segments)
    audit = [f"proofs/{a.leaf_index}.tlog-proof" for a in manifest.audit]
    assert files(out) == sorted(
        [
            "README.txt",
            "checkpoint.txt",
            "manifest.json",
            "manifest.sig",
            "verifier-key.txt",
            *(c.file for c in manifest.clips),
            *proofs,
            *audit,
            *(s.file for s in manifest.source_segments if s.file),
        ]
    )
    assert len(manifest.source_segments) == 2 and len(manifest.audit) == 1
    first, second = manifest.clips
    assert (first.watermark, first.masks) == (False, False)
    assert (second.watermark, second.masks) == (True, True)
    assert len(first.source_segments) == 2 and len(second.source_segments) == 1
    assert manifest.requester.org_class == "police"
    assert manifest.executed_by == ["custodian1", "witness2"]
    assert manifest.ledger.verifier_key == vkey(system)

    report = verify_package(out, trusted_key=vkey(system))
    assert report.ok, failed(report)
    assert report.key_trusted and not report.warnings
    assert (report.clips_checked, report.proofs_checked) == (2, 3)
    untrusted = verify_package(out)
    assert untrusted.ok and not untrusted.key_trusted
    assert untrusted.warnings == [UNTRUSTED_KEY_WARNING]

    readme = (out / "README.txt").read_text()
    assert "REQ-7" in readme and "oversight evidence verify" in readme and vkey(system) in readme

    # The CLI needs no data dir or database; the existing proof checker agrees too.
    key = vkey(system)
    initialised.monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(tmp_path / "nowhere"))
    initialised.monkeypatch.setenv("OVERSIGHT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x")
    result = initialised.ok("evidence", "verify", str(out), "--key", key)
    assert "OK: the package is intact" in result.output
    data = json.loads(initialised.ok("evidence", "verify", str(out), "--json", "--key", key).output)
    assert data["ok"] is True and data["problems"] == []
    proof_file = out / proofs[0]
    initialised.ok("ledger", "verify-proof", str(proof_file), "--key", manifest.ledger.verifier_key)


def test_a_package_without_source_segments(system: bootstrap.System, tmp_path: Path) -> None:
    beijing = timezone(timedelta(hours=8))
    clip = ClipSpec("cam1", (T0 + s(7)).astimezone(beijing), (T0 + s(10)).astimezone(beijing))
    out = export(system, tmp_path, include_sources=False, clips=[clip])
    assert not (out / "segments").exists()
    assert files(out / "clips") == ["cam1-20240501T080007Z.mp4"]  # named in UTC
    manifest = mf.load((out / "manifest.json").read_bytes())
    assert manifest.clips[0].start == "2024-05-01T08:00:07.000000Z"
    assert len(manifest.source_segments) == 2 and manifest.clips[0].source_segments == [
        manifest.source_segments[1].storage_key
    ]
    report = verify_package(out, trusted_key=vkey(system))
    assert report.ok, failed(report)


# ---- tampering ----------------------------------------------------------------------


def test_a_one_byte_change_anywhere_fails_naming_the_file(
    system: bootstrap.System, tmp_path: Path
) -> None:
    out = export(system, tmp_path)
    key = vkey(system)
    names = files(out)
    assert any(n.startswith("clips/") for n in names) and any(
        n.startswith("segments/") for n in names
    )
    for name in names:
        path = out / name
        original = path.read_bytes()
        for pos in sorted({0, len(original) // 2, len(original) - 1}):
            changed = bytearray(original)
            changed[pos] ^= 0x01
            path.write_bytes(bytes(changed))
            for trusted in (key, None):
                report = verify_package(out, trusted_key=trusted)
                assert not report.ok, f"{name} byte {pos}: not detected"
                assert name in report.files_with_problems(), f"{name} byte {pos}:\n{failed(report)}"
            path.write_bytes(original)
    assert verify_package(out, trusted_key=key).ok


def test_extra_and_missing_files_fail(
    system: bootstrap.System, initialised: Env, tmp_path: Path
) -> None:
    out = export(system, tmp_path)
    clip = sorted((out / "clips").iterdir())[0]
    (out / "notes.txt").write_text("added later")
    (out / "clips" / "extra.mp4").write_bytes(clip.read_bytes())
    (out / "stray").mkdir()
    moved = tmp_path / "moved.tlog-proof"
    proof = sorted((out / "proofs").iterdir())[0]
    proof.rename(moved)
    report = verify_package(out, trusted_key=vkey(system))
    problems = {(p.kind, p.file) for p in report.problems}
    assert ("unexpected", "notes.txt") in problems
    assert ("unexpected", "clips/extra.mp4") in problems
    assert ("unexpected", "stray/") in problems
    assert ("missing", f"proofs/{proof.name}") in problems
    result = initialised.fails("evidence", "verify", str(out), code=1)
    assert "unexpected: notes.txt: not listed in manifest.json" in result.output
    assert f"missing: proofs/{proof.name}:" in result.output


def test_a_symlinked_clip_fails(system: bootstrap.System, tmp_path: Path) -> None:
    out = export(system, tmp_path, include_sources=False)
    clip = sorted((out / "clips").iterdir())[0]
    kept = tmp_path / "kept.mp4"
    clip.rename(kept)
    clip.symlink_to(kept)
    report = verify_package(out, trusted_key=vkey(system))
    rel = f"clips/{clip.name}"
    assert {("missing", rel), ("unexpected", rel)} <= {(p.kind, p.file) for p in report.problems}


def test_another_logs_key_fails(system: bootstrap.System, initialised: Env, tmp_path: Path) -> None:
    out = export(system, tmp_path, include_sources=False)
    _, other = note.generate_signer(system.ledger.origin)  # same name, another key
    report = verify_package(out, trusted_key=other)
    kinds = {(p.kind, p.file) for p in report.problems}
    assert ("untrusted-key", "verifier-key.txt") in kinds
    assert ("invalid-signature", "manifest.sig") in kinds
    assert ("invalid-signature", "checkpoint.txt") in kinds
    result = initialised.fails("evidence", "verify", str(out), "--key", other, code=1)
    assert "untrusted-key: verifier-key.txt:" in result.output
    key_file = tmp_path / "other.key"
    key_file.write_text(other + "\n")
    initialised.fails("evidence", "verify", str(out), "--key-file", str(key_file), code=1)
    initialised.fails("evidence", "verify", str(out), "--key", "not-a-key", code=2)
    initialised.fails("evidence", "verify", str(tmp_path / "nowhere"), code=2)


def test_a_resigned_manifest_with_a_forged_key_fails(
    system: bootstrap.System, tmp_path: Path
) -> None:
    """A forger who swaps the key and re-signs the manifest still cannot sign the log."""
    out = export(system, tmp_path, include_sources=False)
    skey, forged = note.generate_signer(system.ledger.origin)
    data = json.loads((out / "manifest.json").read_bytes())
    data["purpose"] = "something else"
    data["ledger"]["verifier_key"] = forged
    raw = mf.canonical(data)
    (out / "manifest.json").write_bytes(raw)
    (out / "verifier-key.txt").write_text(forged + "\n")
    body = mf.signature_body(hashlib.sha256(raw).hexdigest())
    (out / "manifest.sig").write_text(note.sign_note(body, [note.parse_signer(skey)]))
    report = verify_package(out)
    assert ("invalid-signature", "checkpoint.txt") in {(p.kind, p.file) for p in report.problems}
    report = verify_package(out, trusted_key=vkey(system))
    assert ("untrusted-key", "verifier-key.txt") in {(p.kind, p.file) for p in report.problems}


# ---- refusals: nothing is written ---------------------------------------------------


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.endswith(".partial"))


def test_a_non_empty_out_dir_is_refused(system: bootstrap.System, tmp_path: Path) -> None:
    rec = record_and_seal(system, tmp_path)
    out = tmp_path / "package"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists, match="not empty"):
        package_from_ledger(
            system, out, release=release(), clips=CLIPS, segments=segment_files(rec)
        )
    assert files(out) == ["keep.txt"]
    assert _leftovers(tmp_path) == []
    # An empty directory is fine.
    (out / "keep.txt").unlink()
    package_from_ledger(
        system, out, release=release(), clips=CLIPS[:1], segments=segment_files(rec)
    )
    assert verify_package(out, trusted_key=vkey(system)).ok


def test_a_failure_midway_leaves_no_half_package(
    system: bootstrap.System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = record_and_seal(system, tmp_path)
    real = cutting.cut_clip
    calls: list[Path] = []

    def second_fails(*args: object, **kwargs: object) -> object:
        calls.append(Path(str(args[3])))
        if len(calls) == 2:
            raise InvalidInput("ffmpeg could not cut clip: disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cutting, "cut_clip", second_fails)
    out = tmp_path / "package"
    with pytest.raises(InvalidInput, match="disk full"):
        package_from_ledger(
            system, out, release=release(), clips=CLIPS, segments=segment_files(rec)
        )
    assert len(calls) == 2 and calls[0].name.endswith(".mp4")
    assert not out.exists() and _leftovers(tmp_path) == []


def test_bytes_that_are_not_the_sealed_segment_are_refused(
    system: bootstrap.System, tmp_path: Path
) -> None:
    rec = record_and_seal(system, tmp_path)
    swapped = [SegmentFile(rec.segments[0].leaf_index, rec.files[1])]
    out = tmp_path / "package"
    with pytest.raises(IntegrityError, match="not the sealed segment"):
        package_from_ledger(system, out, release=release(), clips=CLIPS[:1], segments=swapped)
    assert not out.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("clip", "message"),
    [
        (ClipSpec("cam2", T0, T0 + s(2)), "outside the release scope"),
        (ClipSpec("cam1", T0 - s(5), T0 + s(2)), "outside the release scope"),
        (ClipSpec("cam1", T0 + s(5), T0 + s(3)), "outside the release scope"),
    ],
)
def test_clips_outside_the_scope_are_refused(
    system: bootstrap.System, tmp_path: Path, clip: ClipSpec, message: str
) -> None:
    rec = record_and_seal(system, tmp_path)
    with pytest.raises(InvalidInput, match=message):
        package_from_ledger(
            system, tmp_path / "p", release=release(), clips=[clip], segments=segment_files(rec)
        )
    assert not (tmp_path / "p").exists()


def test_an_audit_leaf_of_another_grant_is_refused(
    system: bootstrap.System, tmp_path: Path
) -> None:
    rec = record_and_seal(system, tmp_path)
    other = access_leaf(system, grant="G-other")
    with pytest.raises(InvalidInput, match="not an access leaf of grant G-7"):
        package_from_ledger(
            system,
            tmp_path / "p",
            release=release(),
            clips=CLIPS[:1],
            segments=segment_files(rec),
            audit_leaves=[other],
        )
    assert not (tmp_path / "p").exists()

"""Writing an evidence package: clips, manifest, proofs, checkpoint, key, README, signature.

The access side (grant, witnesses, the enforcement point) decides *what* may leave
and hands over the segment files; this module only packages them. It never opens
the store: every byte it reads is a file its caller passed.

:func:`write_package` steps:

1. check the ledger material before anything is written: the checkpoint is signed
   by the verifier key (which is the signer's), every proof verifies against it,
   each source leaf is a ``segment_sealed`` leaf whose SHA-256 and size the handed
   over file has, each audit leaf is an ``access`` leaf of this grant;
2. plan each clip inside the release scope from the sources of its camera;
3. build the package in a hidden staging directory beside ``out_dir``: cut the
   clips, write proofs, checkpoint, key, README, ``manifest.json`` and
   ``manifest.sig``;
4. verify the staged package offline with the verifier key (a package that would
   not verify is never handed out), fsync it, and rename it to ``out_dir``.

Any failure removes the staging directory: there is never a half package.
:func:`package_from_ledger` gathers leaves, proofs and the checkpoint from a
deployment's ledger and calls :func:`write_package`.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oversight.durable import fsync_dir
from oversight.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, StorageError
from oversight.evidence import clips as cutting
from oversight.evidence import manifest as mf
from oversight.evidence.readme import render_readme
from oversight.evidence.verify import verify_package
from oversight.ledger import leaves, note, proof

if TYPE_CHECKING:
    from oversight.bootstrap import System

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Requester:
    """The person who asked, as the recipient may see them (no identity documents)."""

    name: str
    organisation: str
    org_class: str


@dataclass(frozen=True)
class Release:
    """Who releases what to whom and why: taken from the request and its grant."""

    request_id: str
    grant_id: str
    kind: str  # view | copy | retrieve
    purpose: str
    destination: str
    requester: Requester
    executed_by: Sequence[str]  # user ids of the people who executed it (the two present)
    released_by: str  # the organisation releasing the footage
    cameras: Sequence[str]  # the granted scope
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ClipSpec:
    """One clip to cut: a camera and a time range inside the release scope."""

    camera: str
    start: datetime
    end: datetime
    watermark: bool = False
    masks: Sequence[cutting.Polygon] = ()  # the camera's privacy masks (0..1 polygons)


@dataclass(frozen=True)
class LeafProof:
    """A ledger leaf's bytes and its inclusion proof against the package checkpoint."""

    index: int
    leaf: bytes
    hashes: Sequence[bytes]


@dataclass(frozen=True)
class SourceSegment:
    """A sealed segment: its leaf and proof, and its bytes as handed over (a file)."""

    sealed: LeafProof
    path: Path


@dataclass(frozen=True)
class SegmentFile:
    """For :func:`package_from_ledger`: a segment's leaf index and its file."""

    leaf_index: int
    path: Path


@dataclass(frozen=True)
class _Source:
    entry: dict[str, Any]
    span: cutting.SegmentSpan
    text: str  # the tlog-proof


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_target(target: Path) -> None:
    if not target.parent.is_dir():
        raise NotFound(f"the directory {target.parent} does not exist")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise AlreadyExists(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise AlreadyExists(f"{target} is not empty: an evidence package needs a new directory")


# ---- 1. the ledger material ---------------------------------------------------------


def _source(item: SourceSegment, checkpoint: str, verifier: note.Verifier, origin: str) -> _Source:
    text = proof.make(item.sealed.index, item.sealed.hashes, checkpoint, item.sealed.leaf)
    proof.verify(text, [verifier], origin=origin)  # ProofError: not in the signed tree
    leaf = leaves.decode(item.sealed.leaf)
    if leaf["type"] != "segment_sealed":
        raise InvalidInput(f"leaf {item.sealed.index} is a {leaf['type']} leaf, not a segment")
    digest, size = _hash(item.path)
    if (digest, size) != (leaf["sha256"], leaf["bytes"]):
        raise IntegrityError(
            f"the file given for {leaf['storage_key']} is not the sealed segment "
            f"(SHA-256 or size differs from ledger leaf {item.sealed.index})"
        )
    entry = {
        "camera": leaf["camera"],
        "seq": leaf["seq"],
        "storage_key": leaf["storage_key"],
        "sha256": leaf["sha256"],
        "bytes": leaf["bytes"],
        "start": leaf["start"],
        "end": leaf["end"],
        "leaf_index": item.sealed.index,
        "proof": f"{mf.PROOFS_DIR}/{item.sealed.index}.tlog-proof",
        "file": None,
    }
    span = cutting.SegmentSpan(item.path.absolute(), _when(leaf["start"]), _when(leaf["end"]))
    return _Source(entry, span, text)


def _audit(
    item: LeafProof, checkpoint: str, verifier: note.Verifier, origin: str, grant: str
) -> str:
    text = proof.make(item.index, item.hashes, checkpoint, item.leaf)
    proof.verify(text, [verifier], origin=origin)
    leaf = leaves.decode(item.leaf)
    if leaf["type"] != "access" or leaf.get("grant") != grant:
        raise InvalidInput(f"leaf {item.index} is not an access leaf of grant {grant}")
    return text


# ---- 2. the clips -------------------------------------------------------------------


def _clip_name(spec: ClipSpec, ext: str, taken: set[str]) -> str:
    stem = f"{spec.camera}-{spec.start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip("._-") or "clip"
    name, n = f"{stem}.{ext}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.{ext}"
    taken.add(name)
    return name


def _check_clip(spec: ClipSpec, release: Release) -> None:
    if spec.start.tzinfo is None or spec.end.tzinfo is None:
        raise InvalidInput("clip times must be timezone-aware")
    if spec.camera not in release.cameras:
        raise InvalidInput(f"camera {spec.camera} is outside the release scope")
    if not release.start <= spec.start < spec.end <= release.end:
        raise InvalidInput(
            f"clip {spec.camera} {spec.start.isoformat()}: outside the release scope"
        )


# ---- the writer ---------------------------------------------------------------------


def default_watermark(release: Release, created_at: datetime) -> str:
    return (
        f"EVIDENCE COPY  request {release.request_id}  grant {release.grant_id}\n"
        f"released {leaves.instant(created_at)} to {release.requester.organisation}"
    )


# Progress of a package being written: (phase, done, total); phases "cut" (one step per
# clip, the slow part) and "check" (the self-check before publishing).
Progress = Callable[[str, int, int], None]


def write_package(
    out_dir: Path,
    *,
    release: Release,
    clips: Sequence[ClipSpec],
    sources: Sequence[SourceSegment],
    checkpoint: str,
    verifier_key: str,
    signer: note.Signer,
    created_at: datetime,
    audit: Sequence[LeafProof] = (),
    include_sources: bool = False,
    watermark_text: str | None = None,
    font: cutting.FontChoice = "auto",
    ffmpeg: str = "ffmpeg",
    progress: Progress | None = None,
) -> Path:
    """Write the evidence package into the new directory ``out_dir``; its path.

    ``out_dir`` must not exist or be empty (else AlreadyExists, and nothing is
    written). ``include_sources`` also ships the original segment files.
    """
    target = out_dir.absolute()
    _check_target(target)
    if release.start.tzinfo is None or release.end.tzinfo is None:
        raise InvalidInput("the release scope times must be timezone-aware")
    if not clips:
        raise InvalidInput("an evidence package needs at least one clip")
    # 1. Everything the package will claim is checked before a byte is written.
    verifier = note.parse_verifier(verifier_key)
    if (signer.name, signer.key_id) != (verifier.name, verifier.key_id):
        raise InvalidInput("the signer is not the key the verifier key names")
    opened, _ = note.open_checkpoint(checkpoint, [verifier])
    origin = opened.origin
    found: dict[int, _Source] = {}
    for item in sources:
        if item.sealed.index in found:
            raise InvalidInput(f"segment leaf {item.sealed.index} is given twice")
        found[item.sealed.index] = _source(item, checkpoint, verifier, origin)
    audits = {a.index: _audit(a, checkpoint, verifier, origin, release.grant_id) for a in audit}
    if set(audits) & set(found):
        raise InvalidInput("a leaf is given both as a segment and as an audit leaf")
    # 2. Plan the clips.
    plans: list[tuple[ClipSpec, str, list[_Source]]] = []
    taken: set[str] = set()
    for spec in clips:
        _check_clip(spec, release)
        mine = [s for s in found.values() if s.entry["camera"] == spec.camera]
        # Cut at keyframes inward (issue 18, finding 2): a range without a keyframe, or
        # a Matroska segment it covers only in part, is refused before anything is written.
        planned = cutting.plan_cut(
            [s.span for s in mine], spec.start, spec.end, label=f"camera {spec.camera}"
        )
        used = [s for s in mine if s.span in set(planned.spans)]
        copy_mkv = not (spec.watermark or spec.masks) and any(
            not s.entry["storage_key"].endswith(".mp4") for s in used
        )
        plans.append((spec, _clip_name(spec, "mkv" if copy_mkv else "mp4", taken), used))
    text = watermark_text if watermark_text is not None else default_watermark(release, created_at)
    # 3. Stage.
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as exc:
        raise StorageError(f"cannot write in {target.parent}: {exc.strerror}") from None
    try:
        _stage(
            staging,
            release=release,
            plans=plans,
            sources=[found[i] for i in sorted(found)],
            audits=audits,
            checkpoint=checkpoint,
            opened=opened,
            verifier_key=verifier_key,
            signer=signer,
            created_at=created_at,
            include_sources=include_sources,
            watermark_text=text,
            font=font,
            ffmpeg=ffmpeg,
            progress=progress,
        )
        # 4. Self-check, then publish atomically.
        if progress is not None:
            progress("check", 0, 1)
        report = verify_package(staging, trusted_key=verifier_key)
        if not report.ok:
            raise IntegrityError(
                f"the written package does not verify: {report.problems[0].line()}"
            )
        _fsync_tree(staging)
        try:
            staging.rename(target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise AlreadyExists(f"{target} was filled while the package was written") from None
            raise
        fsync_dir(target.parent)
    except OSError as exc:  # disk full, permissions: translated here, where they enter
        shutil.rmtree(staging, ignore_errors=True)
        raise StorageError(f"writing the evidence package failed: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _stage(
    staging: Path,
    *,
    release: Release,
    plans: Sequence[tuple[ClipSpec, str, list[_Source]]],
    sources: Sequence[_Source],
    audits: dict[int, str],
    checkpoint: str,
    opened: note.Checkpoint,
    verifier_key: str,
    signer: note.Signer,
    created_at: datetime,
    include_sources: bool,
    watermark_text: str,
    font: cutting.FontChoice,
    ffmpeg: str,
    progress: Progress | None = None,
) -> None:
    (staging / mf.CLIPS_DIR).mkdir()
    (staging / mf.PROOFS_DIR).mkdir()
    clip_entries = []
    for done, (spec, name, used) in enumerate(plans):
        if progress is not None:
            progress("cut", done, len(plans))
        out = staging / mf.CLIPS_DIR / name
        cut = cutting.cut_clip(
            [s.span for s in used],
            spec.start,
            spec.end,
            out,
            watermark=watermark_text if spec.watermark else None,
            masks=spec.masks,
            font=font,
            ffmpeg=ffmpeg,
            label=f"camera {spec.camera}",
        )
        keys = {s.span: s.entry["storage_key"] for s in used}
        digest, size = _hash(out)
        clip_entries.append(
            {
                "file": f"{mf.CLIPS_DIR}/{name}",
                "sha256": digest,
                "bytes": size,
                "camera": spec.camera,
                # What the clip holds: cut at keyframes inward from the range asked for.
                "start": leaves.instant(cut.start),
                "end": leaves.instant(cut.end),
                "requested": {
                    "start": leaves.instant(spec.start),
                    "end": leaves.instant(spec.end),
                },
                "cut": mf.CUT_INWARD,
                "pieces": [
                    {
                        "source": keys[p.span],
                        "start": leaves.instant(p.start),
                        "end": leaves.instant(p.end),
                        "offset_us": p.offset_us,
                    }
                    for p in cut.pieces
                ],
                "watermark": spec.watermark,
                "masks": bool(spec.masks),
                "source_segments": [keys[span] for span in cut.spans],
            }
        )
    source_entries = []
    for src in sources:
        entry = dict(src.entry)
        (staging / entry["proof"]).write_text(src.text, encoding="utf-8")
        if include_sources:
            (staging / mf.SEGMENTS_DIR).mkdir(exist_ok=True)
            entry["file"] = f"{mf.SEGMENTS_DIR}/{entry['storage_key'].rsplit('/', 1)[-1]}"
            shutil.copyfile(src.span.path, staging / entry["file"])
        source_entries.append(entry)
    audit_entries = []
    for index in sorted(audits):
        name = f"{mf.PROOFS_DIR}/{index}.tlog-proof"
        (staging / name).write_text(audits[index], encoding="utf-8")
        audit_entries.append({"leaf_index": index, "proof": name})
    (staging / mf.CHECKPOINT).write_text(checkpoint, encoding="utf-8")
    (staging / mf.VERIFIER_KEY).write_text(verifier_key + "\n", encoding="utf-8")
    draft: dict[str, Any] = {
        "format": mf.FORMAT,
        "created_at": leaves.instant(created_at),
        "released_by": release.released_by,
        "request": release.request_id,
        "grant": release.grant_id,
        "kind": release.kind,
        "purpose": release.purpose,
        "destination": release.destination,
        "requester": {
            "name": release.requester.name,
            "organisation": release.requester.organisation,
            "org_class": release.requester.org_class,
        },
        "executed_by": list(release.executed_by),
        "scope": {
            "cameras": list(release.cameras),
            "start": leaves.instant(release.start),
            "end": leaves.instant(release.end),
        },
        "clips": clip_entries,
        "source_segments": source_entries,
        "audit": audit_entries,
        "readme": {"file": mf.README, "sha256": "0" * 64, "bytes": 1},  # set below
        "ledger": {
            "origin": opened.origin,
            "tree_size": opened.size,
            "root_hash": base64.b64encode(opened.root_hash).decode(),
            "checkpoint": mf.CHECKPOINT,
            "verifier_key": verifier_key,
            "verifier_key_file": mf.VERIFIER_KEY,
        },
    }
    readme = render_readme(mf.validate(draft)).encode("utf-8")
    (staging / mf.README).write_bytes(readme)
    draft["readme"] = {
        "file": mf.README,
        "sha256": hashlib.sha256(readme).hexdigest(),
        "bytes": len(readme),
    }
    data = mf.dump(mf.validate(draft))
    (staging / mf.MANIFEST).write_bytes(data)
    body = mf.signature_body(hashlib.sha256(data).hexdigest())
    (staging / mf.SIGNATURE).write_text(note.sign_note(body, [signer]), encoding="utf-8")


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


# ---- from a deployment's ledger -----------------------------------------------------


def package_from_ledger(
    system: System,
    out_dir: Path,
    *,
    release: Release,
    clips: Sequence[ClipSpec],
    segments: Sequence[SegmentFile],
    audit_leaves: Sequence[int] = (),
    include_sources: bool = False,
    watermark_text: str | None = None,
    font: cutting.FontChoice = "auto",
    progress: Progress | None = None,
) -> Path:
    """Package ``segments`` (files handed over by the enforcement point) with proofs
    against the ledger's latest checkpoint; ``audit_leaves`` are the ``access`` leaves
    of this export, which the checkpoint must already cover."""
    from oversight.ledger.keys import verifier_key
    from oversight.ledger.witnessed import with_cosignatures

    with system.reads() as session:
        latest = system.ledger.latest_checkpoint(session)
        wanted = [s.leaf_index for s in segments] + list(audit_leaves)
        if latest is None or (wanted and max(wanted) >= latest.size):
            raise NotFound("no signed checkpoint covers every leaf of this export yet")

        def leaf_proof(index: int) -> LeafProof:
            data = system.ledger.leaf(session, index).data
            return LeafProof(
                index, data, tuple(system.ledger.inclusion_proof(session, index, latest.size))
            )

        sources = [SourceSegment(leaf_proof(s.leaf_index), s.path) for s in segments]
        audit = [leaf_proof(i) for i in audit_leaves]
        checkpoint = with_cosignatures(session, latest)  # the witnesses' lines, if any
    return write_package(
        out_dir,
        release=release,
        clips=clips,
        sources=sources,
        checkpoint=checkpoint,
        verifier_key=verifier_key(system.settings.keys_dir),
        signer=system.ledger.signer(),
        created_at=system.clock.now(),
        audit=audit,
        include_sources=include_sources,
        watermark_text=watermark_text,
        font=font,
        progress=progress,
    )

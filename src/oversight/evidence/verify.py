"""The offline verifier of an evidence package: files and a verifier key, no database.

Steps, each reporting ``Problem(kind, file, detail)``:

1. ``manifest.json`` is UTF-8 JSON in RFC 8785 canonical form and matches schema v1.
2. ``verifier-key.txt`` parses and is the key the manifest names; with trusted
   keys, it must be one of them (``untrusted-key``), and that trusted key checks every
   signature below; without one, the package's own key checks them and the report's
   ``status`` is ``untrusted``: a forger can re-sign a whole package with a key of
   their own, so only a key obtained out of band proves the origin (finding 9 of
   issue 18). ``manifest.sig`` is a note signed by that key over the SHA-256 of
   ``manifest.json``.
3. ``checkpoint.txt`` is a checkpoint of the manifest's log signed by that key, with
   the tree size and root hash the manifest gives.
3b. With witness keys the recipient trusts: at least a quorum of them cosigned that
   checkpoint (its extra signature lines; ``evidence/witnesses.py``), else
   ``witness-quorum``.
4. Every proof file is a tlog-proof of its leaf against that same checkpoint; the
   leaf (from the proof's ``extra`` line) is a ``segment_sealed`` leaf with the
   camera, seq, storage key, SHA-256, size and times of the manifest's source entry,
   or an ``access`` leaf of the manifest's grant.
5. Every clip (and shipped segment, and the README) has the SHA-256 and size the
   manifest gives; clips lie in the scope and name listed sources of their camera.
6. No file in the directory is unlisted, none listed is missing.

Kinds: ``malformed``, ``invalid-signature``, ``invalid-proof``, ``mismatch``,
``missing``, ``unexpected``, ``untrusted-key``, ``witness-quorum``.

``Report.status``: ``ok`` (no problem, signed by a trusted key), ``untrusted`` (no
problem, but no trusted key was given: signature valid, origin key not trusted) or
``failed``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from oversight.errors import InvalidInput, NotFound, ProofError
from oversight.evidence import manifest as mf
from oversight.evidence import witnesses as witness_check
from oversight.ledger import leaves, note, proof

KINDS = (
    "malformed",
    "invalid-signature",
    "invalid-proof",
    "mismatch",
    "missing",
    "unexpected",
    "untrusted-key",
    "witness-quorum",
)
UNTRUSTED_KEY_WARNING = (
    "the verifier key is only the one shipped in the package: compare it with the "
    "log operator's published key, or pass that key (--key or --trusted-keys)"
)
_CHUNK = 1 << 20
Status = Literal["ok", "untrusted", "failed"]


def key_fingerprint(vkey: str) -> str:
    """A short, speakable digest of a verifier key, to compare over the phone: the first
    128 bits of SHA-256 of the key's text, in eight groups of four hex digits. (The key
    id inside the key is only 32 bits: a forger can grind a key with the same id.)"""
    digest = hashlib.sha256(vkey.strip().encode("utf-8")).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def parse_trusted_keys(text: str, source: str) -> list[str]:
    """The verifier keys of a trusted-keys file: one key per line, ``#`` starts a
    comment (a whole line, or after the key and a space), blank lines are ignored.
    A line that is not a verifier key raises ``InvalidInput`` naming ``source:line``."""
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        key, _, comment = line.strip().partition(" ")
        if not key or key.startswith("#"):
            continue
        if comment.strip() and not comment.strip().startswith("#"):
            raise InvalidInput(f"{source}:{number}: want one key per line, then only a # comment")
        try:
            note.parse_verifier(key)
        except InvalidInput as exc:
            raise InvalidInput(f"{source}:{number}: {exc.message}") from None
        found.append(key)
    if not found:
        raise InvalidInput(f"{source}: no verifier key in the file")
    return found


_FIXED = (mf.MANIFEST, mf.SIGNATURE, mf.CHECKPOINT, mf.VERIFIER_KEY, mf.README)
_DIRS = (mf.CLIPS_DIR, mf.PROOFS_DIR, mf.SEGMENTS_DIR)


@dataclass(frozen=True)
class Problem:
    kind: str
    file: str
    detail: str

    def line(self) -> str:
        return f"{self.kind}: {self.file}: {self.detail}"


@dataclass
class Report:
    directory: str
    verifier_key: str | None = None
    key_trusted: bool = False  # a trusted key was given and the package is signed by it
    origin: str | None = None
    tree_size: int | None = None
    clips_checked: int = 0
    proofs_checked: int = 0
    bytes_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cosigned_by: list[dict[str, str]] = field(default_factory=list)  # trusted witnesses
    witness_quorum: int | None = None

    @property
    def ok(self) -> bool:
        """Intact against the key that checked it; see :attr:`status` for the origin."""
        return not self.problems

    @property
    def status(self) -> Status:
        if self.problems:
            return "failed"
        return "ok" if self.key_trusted else "untrusted"

    @property
    def fingerprint(self) -> str | None:
        """Of the key that checked the package: without a trusted key, the one it ships
        (to compare with the operator's, read out of band)."""
        return key_fingerprint(self.verifier_key) if self.verifier_key else None

    def add(self, kind: str, file: str, detail: str) -> None:
        assert kind in KINDS, kind
        problem = Problem(kind, file, detail)
        if problem not in self.problems:
            self.problems.append(problem)

    def files_with_problems(self) -> set[str]:
        return {p.file for p in self.problems}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["status"] = self.status
        data["fingerprint"] = self.fingerprint
        return data


class _Package:
    """The directory being checked; reads only regular files at listed names."""

    def __init__(self, root: Path, report: Report) -> None:
        self.root = root
        self.report = report

    def _path(self, name: str) -> Path | None:
        path = self.root / name
        if path.is_symlink() or not path.is_file():
            self.report.add("missing", name, "not in the package (or not a regular file)")
            return None
        return path

    def read(self, name: str) -> bytes | None:
        path = self._path(name)
        return None if path is None else path.read_bytes()

    def text(self, name: str) -> str | None:
        data = self.read(name)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.report.add("malformed", name, "not UTF-8 text")
            return None

    def digest(self, name: str) -> tuple[str, int] | None:
        path = self._path(name)
        if path is None:
            return None
        h = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
        self.report.bytes_checked += size
        return h.hexdigest(), size


def verify_package(
    directory: Path,
    *,
    trusted_key: str | None = None,
    trusted_keys: Sequence[str] = (),
    witness_keys: Sequence[str] = (),
    witness_quorum: int | None = None,
) -> Report:
    """Check the evidence package in ``directory``; the report lists every problem.

    ``trusted_key`` and ``trusted_keys`` are verifier keys obtained independently of the
    package (the package must be signed by one of them). A malformed trusted key or a
    missing directory raise (usage errors). ``witness_keys`` are witness cosignature keys
    the recipient trusts: at least ``witness_quorum`` of them (default: all) must have
    cosigned the checkpoint (step 3b, ``evidence/witnesses.py``).
    """
    witnesses = witness_check.parse_keys(witness_keys)
    trusted: list[tuple[str, note.Verifier]] = []
    for given in ([trusted_key] if trusted_key is not None else []) + list(trusted_keys):
        try:
            trusted.append((given.strip(), note.parse_verifier(given.strip())))
        except InvalidInput as exc:
            raise InvalidInput(f"the trusted key: {exc}") from None
    if not directory.is_dir():
        raise NotFound(f"{directory} is not a directory")
    report = Report(str(directory))
    pkg = _Package(directory, report)
    raw, manifest = _step1_manifest(pkg)
    verifier = _step2_key_and_signature(pkg, raw, manifest, trusted)
    checkpoint = _step3_checkpoint(pkg, manifest, verifier)
    if checkpoint is not None and verifier is not None:
        witness_check.check(report, checkpoint, verifier, witnesses, witness_quorum)
    if manifest is not None:
        _step4_proofs(pkg, manifest, verifier, checkpoint)
        _step5_files(pkg, manifest)
    _step6_listing(pkg, manifest)
    return report


# ---- 1. the manifest ----------------------------------------------------------------


def _step1_manifest(pkg: _Package) -> tuple[bytes | None, mf.Manifest | None]:
    raw = pkg.read(mf.MANIFEST)
    if raw is None:
        return None, None
    try:
        return raw, mf.load(raw)
    except InvalidInput as exc:
        pkg.report.add("malformed", mf.MANIFEST, exc.message)
        return raw, None


# ---- 2. the key and the manifest signature ------------------------------------------


def _package_key(pkg: _Package) -> tuple[str, note.Verifier] | None:
    text = pkg.text(mf.VERIFIER_KEY)
    if text is None:
        return None
    key = text[:-1]
    if not text.endswith("\n") or "\n" in key or key != key.strip():
        pkg.report.add("malformed", mf.VERIFIER_KEY, "want the key on one line")
        return None
    try:
        verifier = note.parse_verifier(key)
    except InvalidInput as exc:
        pkg.report.add("malformed", mf.VERIFIER_KEY, exc.message)
        return None
    return key, verifier


def _choose_trusted(
    report: Report,
    shipped: tuple[str, note.Verifier] | None,
    trusted: Sequence[tuple[str, note.Verifier]],
) -> note.Verifier:
    """The trusted key that checks the signatures: the package's own if it is trusted,
    else (``untrusted-key``) a trusted key of the same log name, else the first."""
    same = next((t for t in trusted if shipped is not None and t[0] == shipped[0]), None)
    if same is not None:
        report.verifier_key, verifier = same
        report.key_trusted = True
        return verifier
    named = [t for t in trusted if shipped is not None and t[1].name == shipped[1].name]
    report.verifier_key, verifier = (named or list(trusted))[0]
    if shipped is not None:
        wanted = (
            f"the trusted {verifier.name}+{verifier.key_id:08x}"
            if len(trusted) == 1
            else f"any of the {len(trusted)} trusted keys"
        )
        report.add(
            "untrusted-key",
            mf.VERIFIER_KEY,
            f"the package is from key {shipped[1].name}+{shipped[1].key_id:08x}, not {wanted}",
        )
    return verifier


def _step2_key_and_signature(
    pkg: _Package,
    raw: bytes | None,
    manifest: mf.Manifest | None,
    trusted: Sequence[tuple[str, note.Verifier]],
) -> note.Verifier | None:
    report = pkg.report
    shipped = _package_key(pkg)
    verifier: note.Verifier | None
    if trusted:
        verifier = _choose_trusted(report, shipped, trusted)
    else:
        verifier = shipped[1] if shipped is not None else None
        report.verifier_key = shipped[0] if shipped is not None else None
        report.warnings.append(UNTRUSTED_KEY_WARNING)
    if verifier is None:
        return None
    text = pkg.text(mf.SIGNATURE)
    if text is None:
        return verifier
    try:
        signed = note.open_note(text, [verifier])
    except ProofError as exc:
        report.add("invalid-signature", mf.SIGNATURE, exc.message)
        return verifier
    try:
        digest = mf.signed_sha256(signed.text)
    except InvalidInput as exc:
        report.add("malformed", mf.SIGNATURE, exc.message)
        return verifier
    if raw is not None and hashlib.sha256(raw).hexdigest() != digest:
        report.add("mismatch", mf.MANIFEST, "its SHA-256 is not the one manifest.sig signs")
    elif (
        manifest is not None and shipped is not None and manifest.ledger.verifier_key != shipped[0]
    ):
        # The signed manifest names another key than the one shipped beside it.
        report.add("mismatch", mf.VERIFIER_KEY, "not the key manifest.json names")
    return verifier


# ---- 3. the checkpoint --------------------------------------------------------------


def _step3_checkpoint(
    pkg: _Package, manifest: mf.Manifest | None, verifier: note.Verifier | None
) -> str | None:
    text = pkg.text(mf.CHECKPOINT)
    if text is None or verifier is None:
        return None
    origin = manifest.ledger.origin if manifest is not None else None
    try:
        cp, _ = note.open_checkpoint(text, [verifier], origin=origin)
    except ProofError as exc:
        pkg.report.add("invalid-signature", mf.CHECKPOINT, exc.message)
        return None
    pkg.report.origin, pkg.report.tree_size = cp.origin, cp.size
    if manifest is not None and not _matches_manifest(cp, manifest):
        pkg.report.add("mismatch", mf.CHECKPOINT, "tree size or root differs from manifest.json")
        return None
    return text


def _matches_manifest(cp: note.Checkpoint, manifest: mf.Manifest) -> bool:
    root = base64.b64encode(cp.root_hash).decode()
    return (cp.size, root) == (manifest.ledger.tree_size, manifest.ledger.root_hash)


# ---- 4. the proofs ------------------------------------------------------------------


def _open_proof(
    pkg: _Package,
    name: str,
    index: int,
    manifest: mf.Manifest,
    verifier: note.Verifier | None,
    checkpoint: str | None,
) -> dict[str, Any] | None:
    """The decoded leaf a proof file proves, or None (the problem is reported)."""
    report = pkg.report
    if name != f"{mf.PROOFS_DIR}/{index}.tlog-proof":
        report.add(
            "malformed", mf.MANIFEST, f"leaf {index}: its proof must be proofs/{index}.tlog-proof"
        )
        return None
    text = pkg.text(name)
    if text is None:
        return None
    try:
        parsed = proof.parse(text)
    except ProofError as exc:
        report.add("malformed", name, exc.message)
        return None
    if parsed.index != index:
        report.add("mismatch", name, f"proves leaf {parsed.index}, the manifest says {index}")
        return None
    if checkpoint is not None and parsed.checkpoint != checkpoint:
        report.add("mismatch", name, "its checkpoint is not checkpoint.txt")
    if verifier is None:
        return None
    try:
        cp, data = proof.verify(text, [verifier], origin=manifest.ledger.origin)
    except ProofError as exc:
        report.add("invalid-proof", name, exc.message)
        return None
    report.proofs_checked += 1
    if not _matches_manifest(cp, manifest):
        report.add("mismatch", name, "its checkpoint differs from the one manifest.json names")
    try:
        return leaves.decode(data)
    except (InvalidInput, ValueError):
        report.add("malformed", name, "its extra line is not an Oversight ledger leaf")
        return None


_SEGMENT_FIELDS = ("camera", "seq", "storage_key", "sha256", "bytes", "start", "end")


def _step4_proofs(
    pkg: _Package, manifest: mf.Manifest, verifier: note.Verifier | None, checkpoint: str | None
) -> None:
    report = pkg.report
    seen: set[int] = set()
    for src in manifest.source_segments:
        if src.leaf_index in seen:
            report.add("malformed", mf.MANIFEST, f"leaf {src.leaf_index} is listed twice")
            continue
        seen.add(src.leaf_index)
        leaf = _open_proof(pkg, src.proof, src.leaf_index, manifest, verifier, checkpoint)
        if leaf is None:
            continue
        if leaf["type"] != "segment_sealed":
            report.add("mismatch", src.proof, f"proves a {leaf['type']} leaf, not a sealed segment")
            continue
        differ = [f for f in _SEGMENT_FIELDS if leaf.get(f) != getattr(src, f)]
        if differ:
            report.add(
                "mismatch",
                src.proof,
                f"the sealed leaf differs from manifest.json in {', '.join(differ)}",
            )
    for entry in manifest.audit:
        if entry.leaf_index in seen:
            report.add("malformed", mf.MANIFEST, f"leaf {entry.leaf_index} is listed twice")
            continue
        seen.add(entry.leaf_index)
        leaf = _open_proof(pkg, entry.proof, entry.leaf_index, manifest, verifier, checkpoint)
        if leaf is not None and (leaf["type"] != "access" or leaf.get("grant") != manifest.grant):
            report.add("mismatch", entry.proof, f"not an access leaf of grant {manifest.grant}")


# ---- 5. clips, segment files, README ------------------------------------------------


def _check_hash(pkg: _Package, name: str, sha256: str, size: int) -> None:
    found = pkg.digest(name)
    if found is None:
        return
    if found[1] != size:
        pkg.report.add("mismatch", name, f"{found[1]} bytes, manifest.json says {size}")
    elif found[0] != sha256:
        pkg.report.add("mismatch", name, "SHA-256 differs from manifest.json")


def _step5_files(pkg: _Package, manifest: mf.Manifest) -> None:
    report = pkg.report
    sources = {s.storage_key: s for s in manifest.source_segments}
    scope = manifest.scope
    files: set[str] = set()
    for clip in manifest.clips:
        if clip.file in files:
            report.add("malformed", mf.MANIFEST, f"{clip.file} is listed twice")
        files.add(clip.file)
        _check_hash(pkg, clip.file, clip.sha256, clip.bytes)
        report.clips_checked += 1
        # Fixed-width UTC instants: their string order is their time order.
        if clip.camera not in scope.cameras or not (
            scope.start <= clip.start < clip.end <= scope.end
        ):
            report.add("mismatch", mf.MANIFEST, f"{clip.file} lies outside the release scope")
        for key in clip.source_segments:
            src = sources.get(key)
            if src is None or src.camera != clip.camera:
                report.add("malformed", mf.MANIFEST, f"{clip.file}: source {key} is not listed")
    for src in manifest.source_segments:
        if src.file is not None:
            _check_hash(pkg, src.file, src.sha256, src.bytes)
    _check_hash(pkg, manifest.readme.file, manifest.readme.sha256, manifest.readme.bytes)


# ---- 6. nothing unlisted, nothing missing -------------------------------------------


def _listed(manifest: mf.Manifest) -> set[str]:
    names = set(_FIXED)
    names.update(c.file for c in manifest.clips)
    names.update(s.proof for s in manifest.source_segments)
    names.update(s.file for s in manifest.source_segments if s.file is not None)
    names.update(a.proof for a in manifest.audit)
    return names


def _step6_listing(pkg: _Package, manifest: mf.Manifest | None) -> None:
    report = pkg.report
    listed = _listed(manifest) if manifest is not None else set(_FIXED)
    for dirpath, dirnames, filenames in os.walk(pkg.root):
        here = Path(dirpath)
        rel_dir = here.relative_to(pkg.root).as_posix()
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir != "." else name
            if rel_dir != "." or name not in _DIRS or (here / name).is_symlink():
                report.add("unexpected", rel + "/", "a directory the package format does not have")
                dirnames.remove(name)
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir != "." else name
            if manifest is None and rel_dir != ".":
                continue  # cannot be judged without a manifest, which is reported already
            if (here / name).is_symlink():
                report.add("unexpected", rel, "a symbolic link")
            elif rel not in listed:
                report.add("unexpected", rel, "not listed in manifest.json")
    for name in sorted(listed):
        path = pkg.root / name
        if not path.is_file() or path.is_symlink():
            report.add("missing", name, "not in the package (or not a regular file)")

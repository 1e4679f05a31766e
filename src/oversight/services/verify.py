"""``oversight verify``: check the ledger, the store and the index against each other.

Steps, each reporting discrepancies as ``Problem(kind, object, detail)``:

1. Ledger: every stored leaf hash is SHA-256(0x00 || leaf bytes); every stored
   subtree hash matches one recomputed from the leaves; every checkpoint is validly
   signed and its root is the recomputed root at its size (so all checkpoints are
   mutually consistent); the latest covers the whole log.
2. Store: every segment the log says is sealed and not deleted is stored with the
   same size and SHA-256 (``missing``, ``modified``).
3. Store: no object in storage is unknown to the log (``unexpected``).
4. Index: the ``segments`` table, and the register's time index (``register_times``,
   which period queries of the Art. 14(3) register read), agree with the log
   (``index-mismatch``): a row missing there would hide an entry from those queries.
5. Witnesses: with checkpoints a witness kept (``--against``), each is consistent with
   our log (``fork``). For each configured witness (``OVERSIGHT_WITNESSES``), its newest
   cosigned checkpoint of this log, fetched from it (``GET URL/latest/ORIGIN``) and the
   one stored with its cosignature: the cosignature must verify with the witness's key,
   and the tree it names must be a prefix of ours: a witnessed size larger than our log
   is ``truncated``, another root at that size ``fork``, each naming the witness and
   both sizes. No witness configured, or one unreachable: a warning, not a problem.
6. Files: no directory, footage file, database or key of the deployment is open to
   other local accounts (``exposed``; see ``services/filemodes.py``).

Every row is read raw and each value checked for its type first (``verify_rows``): a
value of the wrong type is ``malformed``, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound, ProofError
from oversight.ledger import leaves, merkle, note
from oversight.ledger.keys import trusted_verifier_keys
from oversight.services import filemodes
from oversight.services import verify_exports as exports_check
from oversight.services import verify_pool as pool_check
from oversight.services import verify_rows as rows
from oversight.services import verify_witnesses as witness_check
from oversight.storage.local import LocalStore

KINDS = (
    "modified",
    "missing",
    "unexpected",
    "index-mismatch",
    "fork",
    "truncated",
    "malformed",
    "exposed",
    "unleased",
)
_CHUNK = 1 << 20

Progress = Callable[[int], None]
"""Called with the number of footage bytes just hashed."""


@dataclass(frozen=True)
class Problem:
    kind: str
    object: str
    detail: str


@dataclass
class Report:
    ledger_size: int = 0
    checkpoints_checked: int = 0
    witness_checkpoints_checked: int = 0
    segments_checked: int = 0
    segments_total: int = 0
    bytes_checked: int = 0
    sampled: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    witnesses: list[dict[str, Any]] = field(default_factory=list)  # what each vouched for

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, obj: str, detail: str) -> None:
        assert kind in KINDS, kind
        self.problems.append(Problem(kind, obj, detail))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class _LiveSegment:
    leaf_index: int
    camera: str
    seq: int
    size: int
    sha256: str
    storage_key: str
    start: datetime
    end: datetime
    node: str | None = None
    epoch: int | None = None
    late: bool = False
    copy: int = 0


@dataclass(frozen=True)
class _GapLeaf:
    leaf_index: int
    camera: str
    start: datetime
    end: datetime
    reason: str
    copy: int = 0


def split_notes(text: str) -> list[str]:
    """Split concatenated signed notes (as ``ledger checkpoints`` exports them)."""
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in text.splitlines(keepends=True):
        if in_signatures and not line.startswith(note.SIG_PREFIX):
            notes.append("".join(current))
            current, in_signatures = [], False
        if not in_signatures and line == "\n":
            in_signatures = True
        current.append(line)
    if current:
        notes.append("".join(current))
    return [n for n in notes if n.strip()]


def verify(
    system: System,
    *,
    sample: int | None = None,
    witness: str | None = None,
    verifiers: Sequence[str] = (),
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Report:
    """``verifiers``: the keys to trust; default this deployment's own, current and
    previous (a checkpoint made before a key rotation carries only the old key's)."""
    report = Report()
    keys = verifiers or trusted_verifier_keys(system.settings.keys_dir)
    trusted = [note.parse_verifier(k) for k in keys]

    def malformed(obj: str, detail: str) -> None:
        report.add("malformed", obj, detail)

    with system.reads() as session:
        if system.engine.dialect.name == "postgresql":
            # One snapshot for every read below: recorders sealing meanwhile (a pool's
            # nodes) must not make the leaves, index and gaps disagree mid-check.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        stored_leaves = rows.leaves(session, malformed)
        levels = _check_ledger(session, system, stored_leaves, trusted, report, malformed)
        if witness is not None:
            _check_witness(system, witness, levels, trusted, report)
        witness_check.check(session, system, levels, report)
        live, register, gaps = _walk(stored_leaves)
        _check_index(session, live, report, malformed)
        _check_gaps(session, gaps, report, malformed)
        _check_register(session, register, report, malformed)
        pool_check.check(stored_leaves, report)
        exports_check.check(session, stored_leaves, report)
    _check_store(system, live, sample, report, progress, on_total)
    for exposed in filemodes.exposures(system):  # 6.
        report.add("exposed", str(exposed.path.absolute()), exposed.line())
    return report


# ---- 1. the ledger --------------------------------------------------------------------


def _check_ledger(
    session: Any,
    system: System,
    stored: Sequence[rows.Leaf],
    verifiers: Sequence[note.Verifier],
    report: Report,
    malformed: rows.Report,
) -> list[list[bytes]]:
    report.ledger_size = len(stored)
    hashes: list[bytes] = []
    for expected_index, leaf in enumerate(stored):
        if leaf.index != expected_index:
            report.add("missing", f"ledger leaf {expected_index}", "the log has a hole here")
            break
        if leaf.data is None:  # malformed (reported): the stored hash stands in
            hashes.append(leaf.leaf_hash)
            continue
        recomputed = merkle.leaf_hash(leaf.data)
        if recomputed != leaf.leaf_hash:
            report.add("modified", f"ledger leaf {leaf.index}", "leaf bytes do not match its hash")
        hashes.append(recomputed)
    levels = merkle.build_levels(hashes)
    _check_stored_subtrees(session, levels, report, malformed)
    get = _getter(levels)
    checkpoints = rows.checkpoints(session, malformed)
    for cp in checkpoints:
        report.checkpoints_checked += 1
        name = f"checkpoint {cp.size}"
        try:
            opened, _ = note.open_checkpoint(cp.note, verifiers, origin=system.ledger.origin)
        except ProofError as exc:
            report.add("modified", name, str(exc))
            continue
        if opened.size != cp.size or opened.root_hash != cp.root:
            report.add("modified", name, "signed text differs from its index row")
        elif cp.size > len(hashes):
            report.add("missing", name, f"signs {cp.size} leaves, the log holds {len(hashes)}")
        elif merkle.tree_hash(cp.size, get) != opened.root_hash:
            report.add("modified", name, "root differs from the log's leaves at that size")
    if hashes and (not checkpoints or checkpoints[-1].size != len(hashes)):
        report.add("missing", "latest checkpoint", f"no checkpoint covers all {len(hashes)} leaves")
    return levels


def _check_stored_subtrees(
    session: Any, levels: list[list[bytes]], report: Report, malformed: rows.Report
) -> None:
    """Each leaf row's ``parents`` must be exactly the subtree hashes that leaf completes
    (one per trailing one bit of its index), each equal to the recomputed one."""
    size = merkle.HASH_SIZE
    checked = len(levels[0]) if levels else 0  # leaves after a hole are reported already
    for idx, parents in rows.subtree_rows(session, checked, malformed):
        completes = (~idx & (idx + 1)).bit_length() - 1  # trailing one bits of idx
        if len(parents) != completes * size:
            report.add(
                "modified",
                f"ledger leaf {idx}",
                f"stores {len(parents)} bytes of subtree hashes, want {completes * size}",
            )
        for level in range(1, min(completes, len(parents) // size) + 1):
            n = ((idx + 1) >> level) - 1
            if parents[(level - 1) * size : level * size] != levels[level][n]:
                report.add("modified", f"ledger node ({level}, {n})", "stored hash differs")


def _getter(levels: list[list[bytes]]) -> merkle.NodeGetter:
    def get(level: int, index: int) -> bytes:
        return levels[level][index]

    return get


# ---- 5. witnesses ---------------------------------------------------------------------


def _check_witness(
    system: System,
    text: str,
    levels: list[list[bytes]],
    verifiers: Sequence[note.Verifier],
    report: Report,
) -> None:
    size = len(levels[0])
    get = _getter(levels)
    notes = split_notes(text)
    if not notes:
        raise InvalidInput("the witness file holds no checkpoints")
    for i, text_note in enumerate(notes, start=1):
        try:
            cp, _ = note.open_checkpoint(text_note, verifiers, origin=system.ledger.origin)
        except ProofError as exc:
            raise InvalidInput(f"witness checkpoint {i}: {exc}") from None
        report.witness_checkpoints_checked += 1
        name = f"witness checkpoint {cp.size}"
        if cp.size > size:
            report.add("fork", name, f"the witness saw {cp.size} leaves, the log holds {size}")
        elif merkle.tree_hash(cp.size, get) != cp.root_hash:
            report.add("fork", name, "our log's root at that size differs: history was rewritten")


# ---- 2-4. footage and index -----------------------------------------------------------


def _walk(
    stored: Iterable[rows.Leaf],
) -> tuple[dict[str, _LiveSegment], dict[int, datetime], dict[int, _GapLeaf]]:
    """One pass over the leaves: the live segments by storage key, the time of each
    register leaf by index, and the gap leaves by index."""
    live: dict[str, _LiveSegment] = {}
    register: dict[int, datetime] = {}
    gaps: dict[int, _GapLeaf] = {}
    for leaf in stored:
        if leaf.kind is None or leaf.data is None:
            continue  # malformed, reported already
        is_register = leaf.kind in leaves.REGISTER_TYPES
        if not is_register and leaf.kind not in ("segment_deleted", "gap"):
            continue
        try:
            obj = leaves.decode(leaf.data)
        except InvalidInput:
            continue  # reported as a modified leaf above, or not ours to judge
        if is_register:
            with contextlib.suppress(InvalidInput):  # no time: then no index row is right
                register[leaf.index] = leaves.parse_instant(obj.get("at"))
        try:
            if obj["type"] == "segment_sealed":
                live[obj["storage_key"]] = _LiveSegment(
                    leaf.index,
                    obj["camera"],
                    obj["seq"],
                    obj["bytes"],
                    obj["sha256"],
                    obj["storage_key"],
                    leaves.parse_instant(obj["start"]),
                    leaves.parse_instant(obj["end"]),
                    obj.get("node"),
                    obj.get("epoch"),
                    obj.get("lease") == leaves.LOST,
                    obj.get("copy", 0),
                )
            elif obj["type"] == "segment_deleted":
                live.pop(obj["segment"], None)
            elif obj["type"] == "gap":
                gaps[leaf.index] = _GapLeaf(
                    leaf.index,
                    obj["camera"],
                    leaves.parse_instant(obj["start"]),
                    leaves.parse_instant(obj["end"]),
                    obj["reason"],
                    obj.get("copy", 0),
                )
        except (KeyError, InvalidInput):
            continue  # a signed leaf of ours always has these; a forged one fails above
    return live, register, gaps


def _differences(*fields: tuple[str, object, object]) -> list[str]:
    """The names of the (name, index value, ledger value) fields that disagree."""
    return [name for name, ours, logged in fields if ours != logged]


def _check_gaps(
    session: Any, gap_leaves: dict[int, _GapLeaf], report: Report, malformed: rows.Report
) -> None:
    """Every gap row against its gap leaf: an outage deleted from the index, or moved, or
    re-worded, is ``index-mismatch`` (the ledger is the authority; rows are never removed)."""
    seen: set[int] = set()
    for row in rows.gaps(session, malformed):
        name = f"gap row {row.row_id} ({row.camera_id})"
        entry = gap_leaves.get(row.leaf_index)
        if entry is None or row.leaf_index in seen:
            report.add("index-mismatch", name, "indexed but not a gap in the log")
            continue
        seen.add(row.leaf_index)
        changed = _differences(
            ("camera", row.camera_id, entry.camera),
            ("start", row.start_at, entry.start),
            ("end", row.end_at, entry.end),
            ("reason", row.reason, entry.reason),
            ("copy", row.copy, entry.copy),
        )
        if changed:
            report.add("index-mismatch", name, f"{', '.join(changed)} differ from its gap leaf")
    for index, entry in sorted(gap_leaves.items()):
        if index not in seen:
            report.add(
                "index-mismatch",
                f"gap {entry.camera} {leaves.instant(entry.start)}",
                f"in the log (leaf {index}) but missing from the index: an outage was removed",
            )


def _check_register(
    session: Any, register: dict[int, datetime], report: Report, malformed: rows.Report
) -> None:
    stored = rows.register_times(session, malformed)
    for index in sorted(register.keys() | stored.keys()):
        name = f"register entry {index}"
        if index not in stored:
            report.add("index-mismatch", name, "in the log but not in the register's time index")
        elif index not in register:
            report.add("index-mismatch", name, "in the register's time index but not the log")
        elif stored[index] != register[index]:
            report.add("index-mismatch", name, "time index differs from its ledger leaf")


def _check_index(
    session: Any, live: dict[str, _LiveSegment], report: Report, malformed: rows.Report
) -> None:
    indexed, seen = rows.segments(session, malformed)  # malformed rows count as seen
    for row in indexed:
        name = f"segment {row.camera_id}#{row.seq}"
        if row.deleted:
            if row.storage_key in live:
                report.add("index-mismatch", name, "index says deleted, the log says sealed")
            continue
        entry = live.get(row.storage_key)
        if entry is None:
            report.add("index-mismatch", name, "indexed but not sealed in the log")
            continue
        seen.add(row.storage_key)
        changed = _differences(
            ("camera", row.camera_id, entry.camera),
            ("seq", row.seq, entry.seq),
            ("size", row.size_bytes, entry.size),
            ("sha256", row.sha256, entry.sha256),
            ("leaf index", row.leaf_index, entry.leaf_index),
            # Times are evidence: an index that moves a segment in time misplaces it in
            # every query for a period.
            ("start", row.start_at, entry.start),
            ("end", row.end_at, entry.end),
            # Who sealed it in a pool, and whether as the lease holder or late.
            ("node", row.node, entry.node),
            ("epoch", row.epoch, entry.epoch),
            ("late", row.late, entry.late),
            ("copy", row.copy, entry.copy),  # which recording of a redundant camera
        )
        if changed:
            report.add(
                "index-mismatch",
                name,
                f"index row differs from its ledger leaf: {', '.join(changed)}",
            )
    for key, entry in live.items():
        if key not in seen:
            report.add(
                "index-mismatch", f"segment {entry.camera}#{entry.seq}", "sealed but not indexed"
            )


def _check_store(
    system: System,
    live: dict[str, _LiveSegment],
    sample: int | None,
    report: Report,
    progress: Progress | None,
    on_total: Callable[[int], None] | None,
) -> None:
    entries = sorted(live.values(), key=lambda e: e.leaf_index)
    report.segments_total = len(entries)
    if sample is not None:
        if sample < 1:
            raise InvalidInput("--sample must be at least 1")
        report.sampled = True
        entries = random.SystemRandom().sample(entries, min(sample, len(entries)))
    if on_total is not None:
        on_total(sum(e.size for e in entries))
    for entry in entries:
        name = f"segment {entry.camera}#{entry.seq} ({entry.storage_key})"
        try:
            digest, size = _hash_object(system, entry.storage_key, progress)
        except NotFound:
            report.add("missing", name, "not in storage")
            continue
        report.segments_checked += 1
        report.bytes_checked += size
        if size != entry.size:
            report.add("modified", name, f"stored bytes differ (size {size}, want {entry.size})")
        elif digest != entry.sha256:
            report.add(
                "modified",
                name,
                f"SHA-256 differs (stored {digest[:16]}…, sealed {entry.sha256[:16]}…; "
                f"same size {size})",
            )
    if sample is None:
        extra = [obj.key for obj in system.store.objects() if obj.key not in live]
        newer = _sealed_after(system, extra, report.ledger_size)
        if set(extra) - newer:
            # A seal stores its bytes (a temporary name, then the key) before it commits:
            # give one in flight time to finish; what is still there unsealed is unexpected.
            time.sleep(_SETTLE_S)
            newer |= _sealed_after(system, extra, report.ledger_size)
            still = {obj.key for obj in system.store.objects()}
            extra = [key for key in extra if key in still]
        for key in extra:
            if key not in newer:
                report.add("unexpected", f"stored object {key}", "not sealed in the log")
        if newer:
            report.warnings.append(
                f"{len(newer)} segment(s) sealed while this verification ran (after leaf "
                f"{report.ledger_size - 1}) were not checked: run it again to include them"
            )
        if isinstance(system.store, LocalStore):
            for key, what in system.store.irregular():
                report.add("unexpected", f"stored object {key}", f"{what}, not sealed footage")


_SETTLE_S = 1.0


def _sealed_after(system: System, keys: Sequence[str], size: int) -> set[str]:
    """Of ``keys``, those indexed now under a leaf the verification did not read: footage
    a recorder sealed while it ran, not an unexpected object."""
    found: set[str] = set()
    with system.reads() as session:
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            found.update(
                session.scalars(
                    select(m.Segment.storage_key).where(
                        m.Segment.storage_key.in_(chunk), m.Segment.leaf_index >= size
                    )
                )
            )
    return found


def _hash_object(system: System, key: str, progress: Progress | None) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with system.store.open(key) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return h.hexdigest(), size


# ---- the record of runs ---------------------------------------------------------------


@dataclass(frozen=True)
class RunRec:
    id: int
    started_at: datetime
    finished_at: datetime
    ok: bool
    ledger_size: int
    segments_checked: int
    sampled: bool
    problems: list[dict[str, str]]
    run_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "ok": self.ok,
            "ledger_size": self.ledger_size,
            "segments_checked": self.segments_checked,
            "sampled": self.sampled,
            "problems": self.problems,
            "run_by": self.run_by,
        }


def record_run(system: System, actor: Person, report: Report, started_at: datetime) -> RunRec:
    """Keep the outcome of a verify run (shown on the dashboard and by the API)."""
    row = m.VerifyRun(
        started_at=started_at,
        finished_at=system.clock.now(),
        ok=report.ok,
        ledger_size=report.ledger_size,
        segments_checked=report.segments_checked,
        sampled=report.sampled,
        problems=[
            {"kind": p.kind, "object": p.object, "detail": p.detail} for p in report.problems
        ],
        run_by=actor.id,
    )
    with system.sessions.begin() as s:
        s.add(row)
    return _run(row)


def _run(row: m.VerifyRun) -> RunRec:
    return RunRec(
        row.id,
        row.started_at,
        row.finished_at,
        row.ok,
        row.ledger_size,
        row.segments_checked,
        row.sampled,
        list(row.problems),
        row.run_by,
    )


def latest_run(system: System) -> RunRec | None:
    with system.reads() as s:
        row = s.scalars(select(m.VerifyRun).order_by(m.VerifyRun.id.desc()).limit(1)).first()
        return None if row is None else _run(row)

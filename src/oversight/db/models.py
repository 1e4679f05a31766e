"""SQLAlchemy models. The schema changes only through Alembic migrations (db/alembic)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oversight.db.types import UTCDateTime

# Large enough for any real row id, small enough for every database's integer column:
# interfaces refuse a larger id as input rather than pass it to the driver.
MAX_ID = 2**31 - 1
MAX_LEAF = 2**63 - 1  # the largest leaf index a database column holds


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    qualification_no: Mapped[str | None] = mapped_column(String(100))
    qualification_expires: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    address: Mapped[str | None] = mapped_column(Text)
    managing_body: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (Index("ix_cameras_site", "site_id"),)  # migration 0001

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    placement: Mapped[str] = mapped_column(String(64))
    coverage_point: Mapped[str] = mapped_column(String(64))
    # Without credentials: the userinfo and secret parameters are "***" (what every page
    # shows); what they stood for is in ``credentials``, a Fernet token under
    # keys/credentials.key (services/credentials.py, migration 0016).
    stream_url: Mapped[str] = mapped_column(Text)
    credentials: Mapped[str | None] = mapped_column(Text)
    installer_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    commissioned: Mapped[date] = mapped_column(Date)
    removed: Mapped[date | None] = mapped_column(Date)
    # List of polygons, each a list of [x, y] in 0..1 frame coordinates.
    privacy_masks: Mapped[list[list[list[float]]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The longest segment ever sealed for this camera, in milliseconds (migration 0013):
    # a segment overlapping [from, to) starts in [from - longest, to), so every
    # "footage in this window" query is one bounded index range (services/windows.py).
    longest_segment_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Claim order in a recorder pool short of capacity, higher first (migration 0019):
    # 9 critical, 5 normal, 1 low.
    priority: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Recorded by two nodes of a pool at once (migration 0020): copies 0 and 1.
    redundant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Filing(Base):
    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("camera_id", "kind", name="uq_filing_camera_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    kind: Mapped[str] = mapped_column(String(16))
    filed_on: Mapped[date] = mapped_column(Date)
    receipt: Mapped[str] = mapped_column(String(100))
    police_office: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Obstruction(Base):
    __tablename__ = "obstructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    reported_on: Mapped[date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_party: Mapped[str | None] = mapped_column(String(200))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerLeaf(Base):
    """One leaf of the Merkle log: its canonical bytes (docs/ledger.md), its hash, and the
    hashes of the perfect subtrees it completes.

    Appending leaf ``idx`` completes the subtree at level L for every L up to the number
    of trailing one bits of ``idx``; ``parents`` holds their hashes, level 1 first, 32
    bytes each. So node (L, n) lives in the row of leaf ``((n + 1) << L) - 1``, and an
    append writes one row per leaf, not one per stored hash.
    """

    __tablename__ = "ledger_leaves"

    # On SQLite an INTEGER PRIMARY KEY is the rowid itself: no second index to update.
    idx: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    parents: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerCheckpoint(Base):
    """Every signed checkpoint ever issued, kept for witnesses and consistency checks."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WitnessCosignature(Base):
    """One witness's cosignature line on the checkpoint of ``size`` leaves (issue 20)."""

    __tablename__ = "witness_cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(300), primary_key=True)  # its key name
    line: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WitnessState(Base):
    """What a configured witness (by verifier key) last cosigned, and how it answers."""

    __tablename__ = "witness_states"

    witness: Mapped[str] = mapped_column(String(300), primary_key=True)  # verifier key
    url: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    alarm: Mapped[str | None] = mapped_column(String(32))  # witness-fork, witness-unreachable
    alarm_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alarm_detail: Mapped[str | None] = mapped_column(Text)


class RegisterTime(Base):
    """When each leaf of the register (``leaves.REGISTER_TYPES``: recordings and
    accesses) happened, by leaf index: the register of a period is an index range here,
    then those leaves, instead of decoding the whole ledger (migration 0014). Written by
    ``Ledger.append`` in the leaf's own transaction; the leaf's ``at`` is the authority."""

    __tablename__ = "register_times"
    __table_args__ = (Index("ix_register_times_at", "at", "idx"),)

    idx: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())


PENDING_REMOVAL = "deleted_at IS NOT NULL AND bytes_removed_at IS NULL"


class Segment(Base):
    """The index of sealed footage. The ledger is the authority; this is its fast copy."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("camera_id", "seq", name="uq_segment_camera_seq"),
        # Live footage by camera and time: playback, retention planning, capacity.
        Index("ix_segments_live", "deleted_at", "camera_id", "start_at"),
        # By camera and time (migration 0002): segments overlapping a window.
        Index("ix_segments_camera_start", "camera_id", "start_at"),
        # By time across cameras (migration 0013): "everything recorded 10:00-11:00".
        Index("ix_segments_start", "start_at"),
        # A seal's idempotency check (migration 0012): is this file sealed already?
        Index("ix_segments_camera_sha256", "camera_id", "sha256"),
        # Recorded deletions whose bytes are not yet gone (migration 0015): a partial
        # index, nearly always empty, so a purge finds them without reading history.
        Index(
            "ix_segments_pending_removal",
            "id",
            sqlite_where=text(PENDING_REMOVAL),
            postgresql_where=text(PENDING_REMOVAL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    size_bytes: Mapped[int] = mapped_column("bytes", BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_leaf: Mapped[int | None] = mapped_column(BigInteger)
    # Set once the bytes are gone: a deletion is recorded first, carried out after.
    bytes_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # In a recorder pool (migration 0019): the node that sealed it, under which lease
    # epoch, and whether that node had lost the lease by then (kept, never discarded).
    node: Mapped[str | None] = mapped_column(String(64))
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Which copy of a redundant camera (migration 0020): 0 the first, 1 the second.
    copy: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# ---- recorder (migration 0003) ----


class Gap(Base):
    """A span in which a camera should have been recorded but no sealed footage exists.

    Each row has its ``gap`` ledger leaf; the ledger is the authority, this is its index.
    """

    __tablename__ = "gaps"
    __table_args__ = (Index("ix_gaps_camera_start", "camera_id", "start_at"),)  # migration 0003

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    copy: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0020
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecorderNode(Base):
    """A recorder node of a pool (migration 0019); times are the database clock's."""

    __tablename__ = "recorder_nodes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))
    store: Mapped[str] = mapped_column(Text)  # which store it writes to (one per pool)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    draining: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A join or `nodes rebalance` asks it to let go what it holds beyond its share.
    rebalance: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CameraLease(Base):
    """Which node records a camera, under which epoch, until when (migration 0019)."""

    __tablename__ = "camera_leases"
    __table_args__ = (Index("ix_camera_leases_node", "node"),)

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    # 0, or 1 for a redundant camera's second recording (migration 0020).
    copy: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, server_default="0")
    node: Mapped[str | None] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the node let the camera go (drain, stop, rebalance); claimable at once.
    released: Mapped[str | None] = mapped_column(String(16))


class CameraStatus(Base):
    """What the recorder last knew of a camera: recording, reconnecting, offline, ..."""

    __tablename__ = "camera_status"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    last_segment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Redacted before it is stored: never holds stream credentials.
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuarantinedSegment(Base):
    """A spool file that could not be sealed (unreadable, empty): kept, never dropped."""

    __tablename__ = "quarantined_segments"
    __table_args__ = (UniqueConstraint("camera_id", "filename", name="uq_quarantine_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    filename: Mapped[str] = mapped_column(String(255))
    # Where the bytes now are, relative to the data directory.
    path: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column("bytes", BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecorderEvent(Base):
    """Notable recorder facts that are not gaps: audio transcoded, clock jumps, disk alarms."""

    __tablename__ = "recorder_events"
    __table_args__ = (Index("ix_recorder_events_at", "at"),)  # migration 0003

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)


class RetentionPolicy(Base):
    """A *keep for* setting: scope ``*`` is the deployment's, otherwise a camera id."""

    __tablename__ = "retention_policies"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    keep_days: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class RetentionMark(Base):
    """Footage of a camera and time range marked important (the 2-year class)."""

    __tablename__ = "retention_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    marked_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class RetentionHold(Base):
    """A legal hold: blocks deletion until a second person releases it."""

    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(64))
    release_reason: Mapped[str | None] = mapped_column(Text)
    release_leaf: Mapped[int | None] = mapped_column(BigInteger)


class PurgeRun(Base):
    """One `oversight retention run`: what it planned, deleted, and the ledger range."""

    __tablename__ = "purge_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    plan_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    segments: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column("bytes", BigInteger, default=0)
    first_leaf: Mapped[int | None] = mapped_column(BigInteger)
    last_leaf: Mapped[int | None] = mapped_column(BigInteger)
    certificate: Mapped[str | None] = mapped_column(Text)


# ---- people (migration 0005) ----


class User(Base):
    """A person's account. The password is an argon2id hash; the identity-document
    number is personal data: shown masked, never logged, never put in a ledger leaf."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_id_doc", "id_doc"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Site ids this account is limited to; empty means every site.
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    id_doc: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """Failed password checks of one typed user id from one client address in the
    current login window (``services/login_guard.py``). The id need not exist: unknown
    ids are counted like known ones, so the throttle does not tell them apart. It is
    kept as a SHA-256 (``user_key``): a password typed into the id field is not stored."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_window_start", "window_start"),)

    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())


class TrainingRecord(Base):
    """Training in the topics a rule pack requires (xj-2014 Art. 14(2))."""

    __tablename__ = "trainings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    trained_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class LoginSession(Base):
    """A login: only the SHA-256 of its token is stored, never the token."""

    __tablename__ = "sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---- access governance (migration 0006) ----


class AccessRequest(Base):
    """A request to view, copy or retrieve footage (Arts. 16-17). ``documents`` maps a
    document kind to the SHA-256 of its bytes (kept under DATA_DIR/documents/)."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requester_name: Mapped[str] = mapped_column(String(200))
    work_id: Mapped[str] = mapped_column(String(100))
    # Personal data: shown masked, never put in a ledger leaf.
    id_doc: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(200))
    org_class: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(Text)
    destination: Mapped[str] = mapped_column(Text)
    documents: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | denied
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    decision_leaf: Mapped[int | None] = mapped_column(BigInteger)


class AccessGrant(Base):
    """The decision allowing a request: scope (kind, cameras, range) and expiry."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class Export(Base):
    """One evidence package written (migration 0021): the history of exports. Each row
    indexes its ``export.done`` ledger leaf, which ``oversight verify`` checks it against."""

    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_grant", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    custodian: Mapped[str] = mapped_column(String(64))
    witness: Mapped[str] = mapped_column(String(64))
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grants.id"))
    request_id: Mapped[int] = mapped_column(Integer)
    cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    destination: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(16))  # zip | folder
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    zip_sha256: Mapped[str | None] = mapped_column(String(64))
    zip_bytes: Mapped[int | None] = mapped_column(BigInteger)
    export_leaf: Mapped[int] = mapped_column(BigInteger)
    leaf_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class VerifyRun(Base):
    """The outcome of one ``oversight verify`` (problems as ``[{kind, object, detail}]``).
    A convenience for the dashboard: the ledger and store remain the evidence."""

    __tablename__ = "verify_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    ledger_size: Mapped[int] = mapped_column(BigInteger)
    segments_checked: Mapped[int] = mapped_column(BigInteger)
    sampled: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    run_by: Mapped[str] = mapped_column(String(64))


# ---- operations: alarms, maintenance, incidents (migration 0008) ----


class Alarm(Base):
    """A camera alarm (offline, covered, ...): at most one open per camera and kind.
    Raising, clearing and acknowledging it are ``health`` ledger leaves."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index(
            "uq_alarms_open",
            "camera_id",
            "kind",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen: Mapped[int] = mapped_column(Integer, default=1)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_leaf: Mapped[int | None] = mapped_column(BigInteger)
    acked_by: Mapped[str | None] = mapped_column(String(64))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_note: Mapped[str | None] = mapped_column(Text)
    ack_leaf: Mapped[int | None] = mapped_column(BigInteger)


class InspectionSchedule(Base):
    """How often a site or one camera is inspected (Art. 14(1)); ``scope`` is
    ``site:ID`` or ``camera:ID``, one schedule each (the latest setting wins)."""

    __tablename__ = "inspection_schedules"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    camera_id: Mapped[str | None] = mapped_column(ForeignKey("cameras.id"))
    interval_days: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class Inspection(Base):
    """An inspection done: of a whole site (camera_id NULL) or of one camera."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    camera_id: Mapped[str | None] = mapped_column(ForeignKey("cameras.id"))
    inspected_on: Mapped[date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class EmergencyProcedure(Base):
    """An emergency-handling procedure on file for a site: text, or a document stored
    write-once under DATA_DIR/documents/<sha256> like access documents."""

    __tablename__ = "emergency_procedures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    adopted_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class Repair(Base):
    """A repair of a camera, optionally closing the loop on an alarm."""

    __tablename__ = "repairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    repaired_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)


class Incident(Base):
    """A report of suspicious public-security information to the police (Art. 14(4)).
    ``marks`` lists the retention marks that keep its footage for 2 years."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    cameras: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    marks: Mapped[list[int]] = mapped_column(JSON, default=list)


class CameraHealth(Base):
    """The health monitor's latest view of one camera's live stream (overwritten every
    few seconds; alarms, not this row, are the record of what went wrong)."""

    __tablename__ = "camera_health"

    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # online | offline
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    fps: Mapped[float] = mapped_column(Float)
    kbps: Mapped[float] = mapped_column(Float)
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tamper: Mapped[list[str]] = mapped_column(JSON, default=list)
    reference: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Settings: every knob, from OVERSIGHT_* environment variables, with embedded defaults.

Nothing here touches the disk or the network; ``bootstrap.py`` turns Settings into
concrete objects.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Settings(BaseSettings):
    """Deployment settings. Each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="OVERSIGHT_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the embedded database, keys and footage store.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            "Default: SQLite at DATA_DIR/oversight.db."
        ),
    )
    rule_packs: str = Field(
        default="xj-2014",
        description="Comma-separated rule packs applied together, e.g. xj-2014,cn-2025.",
    )
    ledger_origin: str = Field(
        default="oversight.local/ledger",
        description="Origin line of signed checkpoints (a schema-less URL naming this log).",
    )
    store: str | None = Field(
        default=None,
        description=(
            "Where sealed footage goes: unset for the local store at DATA_DIR/store, or "
            "s3://bucket/prefix for an S3 bucket with versioning and Object Lock."
        ),
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3 endpoint, e.g. http://127.0.0.1:8333 (SeaweedFS); unset for AWS S3.",
    )
    s3_region: str = Field(default="us-east-1", description="S3 region (signing and new buckets).")
    s3_access_key_id: str | None = Field(
        default=None, description="S3 access key id; unset for boto3's own credential chain."
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="S3 secret access key; never printed or logged."
    )
    s3_default_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Object Lock days for uploads that bring no retention date of their own.",
    )
    live_window: bool = Field(
        default=True,
        description=(
            "The recorder also writes a few seconds of each camera's stream (the same "
            "ffmpeg, copied) to DATA_DIR/live/CAMERA for the live wall; deleted as it rolls."
        ),
    )
    live_heartbeat_timeout_s: float = Field(
        default=30.0,
        ge=5,
        le=600,
        description="Seconds without a heartbeat or playlist fetch before a live session ends.",
    )
    live_max_sessions: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Live sessions one person may have open at once (a wall has up to 16 tiles).",
    )
    timeline_min_span_s: int = Field(
        default=60,
        ge=10,
        le=3600,
        description="The shortest window the console's timeline zooms in to, in seconds.",
    )
    timeline_max_span_days: int = Field(
        default=31,
        ge=1,
        le=400,
        description="The longest window the console's timeline zooms out to, in days.",
    )
    recorder_min_free_bytes: int = Field(
        default=1 << 30,
        ge=0,
        description=(
            "Free bytes below which the recorder stops opening segments (it never deletes "
            "footage to make room)."
        ),
    )

    document_max_bytes: int = Field(
        default=20 << 20,
        ge=1024,
        description="Largest document (identity or approval paper) accepted, in bytes.",
    )
    document_max_count: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Most documents attached to one access request.",
    )
    document_retention_days: int = Field(
        default=90,
        ge=1,
        description=(
            "Days after a request is denied or withdrawn before the retention run removes "
            "its documents (a ledger leaf each)."
        ),
    )
    access_clock_allowance_s: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="Seconds an access request's range may end after now (clock skew).",
    )
    register_session_gap_s: int = Field(
        default=300,
        ge=0,
        le=86400,
        description=(
            "Seconds between two fetches of one grant by the same people that the register "
            "still shows as one playback session."
        ),
    )
    register_scan_leaves: int = Field(
        default=10000,
        ge=500,
        le=1_000_000,
        description="Most ledger leaves one page of the register console reads.",
    )

    rule_pack_max_bytes: int = Field(
        default=1 << 20,
        ge=1,
        description="Largest custom rule-pack file `rules validate` reads, in bytes (1 MiB).",
    )
    trusted_keys_file: Path | None = Field(
        default=None,
        description="File of verifier keys `evidence verify` trusts (one per line, # comments).",
    )
    # A zip given to `evidence verify` (issue 22, item 6): checked before it is extracted.
    evidence_zip_max_members: int = Field(
        default=100_000,
        ge=1,
        description="Most members a zip given to `evidence verify` may hold.",
    )
    evidence_zip_max_bytes: int = Field(
        default=64 << 30,
        ge=1,
        description="Largest total uncompressed size of a zip given to `evidence verify`.",
    )
    export_jobs_max: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Console exports running at once (each cuts clips with ffmpeg); one "
        "more is answered 503 with Retry-After.",
    )
    # The console's player (docs/web.md#the-player).
    player_max_cameras: int = Field(
        default=4,
        ge=1,
        le=4,
        description="Cameras of one grant the player shows side by side, in sync.",
    )
    snapshot_timeout_s: float = Field(
        default=20.0,
        ge=1,
        le=300,
        description="Seconds ffmpeg may take to decode one snapshot before it is stopped.",
    )
    export_job_keep_s: int = Field(
        default=900,
        ge=30,
        le=86_400,
        description="Seconds a finished console export's zip waits for its download "
        "before it is deleted.",
    )
    # The HTTP server's edge (docs/security.md, findings 1, 6, 15, 17).
    max_json_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        description="Largest request body (JSON or form) of a route that takes no documents.",
    )
    max_json_values: int = Field(
        default=10_000,
        ge=100,
        le=10_000_000,
        description="Most values (array items and object members) a JSON request body may "
        "hold; more is 413 before it is parsed.",
    )
    max_concurrent_uploads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Document uploads (bodies larger than max_json_bytes) handled at once; "
        "more are answered 503 with Retry-After before their body is read.",
    )
    max_login_body_bytes: int = Field(
        default=16 << 10,
        ge=1024,
        description="Largest body of the two routes that take one without a login (the logins).",
    )
    http_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a connection has to send a complete request line and headers.",
    )
    http_body_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=3600,
        description="Seconds a request body may take, plus one per HTTP_MIN_BODY_BYTES_PER_S.",
    )
    http_min_body_bytes_per_s: int = Field(
        default=500, ge=1, description="Slowest request body rate kept beyond the body timeout."
    )
    http_keep_alive_timeout_s: int = Field(
        default=5, ge=1, le=300, description="Seconds an idle keep-alive connection is kept."
    )
    http_shutdown_grace_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds `oversight serve` waits for open responses when told to stop.",
    )
    http_max_connections: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Open connections `oversight serve` holds; more are closed at once.",
    )
    http_max_connections_per_address: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="Open connections one client address may hold (trusted proxies exempt); "
        "more are closed at once, so one client cannot take every connection.",
    )
    http_max_header_bytes: int = Field(
        default=16 << 10,
        ge=1024,
        le=1 << 20,
        description="Largest request line plus headers, in bytes (larger: 431 and closed).",
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
            "and X-Forwarded-Proto are believed; empty: none."
        ),
    )
    trusted_hosts: str = Field(
        default="localhost,127.0.0.1,[::1]",
        description="Comma-separated Host names the server answers (*.example.org allowed).",
    )

    # Logins (docs/security.md "Logins"): every password check passes these limits.
    login_attempts: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed password checks per account and client address per login window.",
    )
    login_window_s: int = Field(
        default=900,
        ge=1,
        le=86400,
        description="Seconds of the login window: failures older than this are forgotten.",
    )
    login_address_attempts: int = Field(
        default=30,
        ge=1,
        description="Password checks (any account) per client address per login window.",
    )
    login_slowdown_max_s: float = Field(
        default=4.0,
        ge=0,
        le=60,
        description=(
            "Longest wait before a password check of an account that failed from many "
            "addresses (0.25 s, doubling per failure in the window, up to this)."
        ),
    )
    login_argon2_concurrency: int = Field(
        default=2, ge=1, le=64, description="Password checks (argon2id) run at once."
    )
    login_argon2_queue: int = Field(
        default=8,
        ge=0,
        le=1000,
        description="Password checks that may wait for a free slot; beyond, a 429 at once.",
    )
    login_argon2_wait_s: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Longest wait for a free password-check slot before a 429.",
    )
    login_form_max_age_s: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="Seconds a login form (its signed CSRF token) stays valid.",
    )

    alarm_webhook_url: str | None = Field(
        default=None,
        description=(
            "http(s) URL that receives an HTTP POST of each alarm's JSON when it is raised or "
            "cleared; unset for none. Delivered in the background: never delays an alarm."
        ),
    )
    alarm_webhook_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds before an alarm webhook delivery is given up (and logged).",
    )
    # The console's alarm banner (issue 22, web/console/alarms_stream.py).
    alarm_stream_max: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Alarm banner streams (server-sent events) open at once; more get 429.",
    )
    alarm_stream_poll_s: float = Field(
        default=1.0,
        ge=0.2,
        le=60,
        description="Seconds between an alarm stream's looks at the open alarms.",
    )
    alarm_stream_max_age_s: float = Field(
        default=120.0,
        ge=5,
        le=86400,
        description="Seconds an alarm stream lasts before the browser is asked to reconnect.",
    )
    alarm_stream_keepalive_s: float = Field(
        default=15.0,
        ge=1,
        le=300,
        description="Seconds of silence after which an alarm stream sends a comment line.",
    )

    # Witnesses (issue 20, log side): see services/witnessing.py and docs/ledger.md.
    witnesses: str = Field(
        default="",
        description=(
            "Comma-separated URL=VKEY: each witness's submission prefix and its C2SP "
            "cosignature verifier key; empty for none."
        ),
    )
    witness_quorum: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Cosignatures a checkpoint needs to count as witnessed (default: all).",
    )
    witness_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between submissions of the newest checkpoint to the witnesses.",
    )
    witness_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Seconds before one request to a witness is given up.",
    )
    witness_backoff_max_s: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="Longest wait between retries to a failing witness (backoff with jitter).",
    )
    witness_unreachable_alarm_s: float = Field(
        default=900.0,
        gt=0,
        le=7 * 86400,
        description="Seconds a witness may stay unreachable before an alarm and a finding.",
    )
    pool_lease_ttl_s: float = Field(
        default=6.0,
        ge=1.0,
        le=300.0,
        description="Recorder pool: seconds a camera's lease lasts unless its node renews it "
        "(the database clock); a dead node's cameras are claimed after this.",
    )
    pool_claim_interval_s: float = Field(
        default=2.0,
        ge=0.2,
        le=60.0,
        description="Recorder pool: seconds between a node's heartbeat, lease renewal and "
        "claims; must be well under the lease time-to-live.",
    )

    @field_validator("alarm_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^/\s]+", value.strip()):
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()

    @field_validator("witnesses")
    @classmethod
    def _witnesses(cls, value: str) -> str:
        for item in _items(value):
            url, sep, vkey = item.partition("=")
            if not sep or not re.match(r"^https?://[^/\s]+", url.strip()) or not vkey.strip():
                raise ValueError(f"{item[:80]!r}: want URL=VKEY with an http(s) URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in _items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _hosts(cls, value: str) -> str:
        for item in _items(value):
            if "*" in item[1:] or (item.startswith("*") and not item.startswith("*.")):
                raise ValueError(f"{item!r}: a wildcard must be like *.example.org")
        if not _items(value):
            raise ValueError("at least one host is required")
        return value

    @property
    def witness_list(self) -> list[tuple[str, str]]:
        """(submission prefix without a trailing slash, verifier key) per witness."""
        pairs = [item.partition("=") for item in _items(self.witnesses)]
        return [(url.strip().rstrip("/"), vkey.strip()) for url, _, vkey in pairs]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _items(self.trusted_proxies)

    @property
    def trusted_host_list(self) -> list[str]:
        return _items(self.trusted_hosts)

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        match = _S3_URL.match(value.strip())
        prefix = ((match and match["prefix"]) or "").strip("/")
        if not match or "//" in prefix or ".." in prefix.split("/"):
            raise ValueError("must be unset (local store) or s3://bucket/prefix")
        return value.strip()

    @field_validator("rule_packs")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not [p for p in value.split(",") if p.strip()]:
            raise ValueError("at least one rule pack is required")
        return value

    @property
    def pack_ids(self) -> list[str]:
        return [p.strip() for p in self.rule_packs.split(",") if p.strip()]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'oversight.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def live_root(self) -> Path:
        """The recorder's live windows, one directory per camera (never sealed)."""
        return self.data_dir / "live"

    def live_dir(self, camera: str, node: str | None = None) -> Path:
        """One camera's live window; in a recorder pool, per node (``live-nodes/NODE/``,
        as spools are), so a node letting a camera go never empties its new owner's."""
        if node is None:
            return self.live_root / camera
        return self.data_dir / "live-nodes" / node / camera

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, prefix) when footage goes to S3, None for the local store."""
        match = _S3_URL.match(self.store or "")
        if match is None:
            return None
        return match["bucket"], (match["prefix"] or "").strip("/")

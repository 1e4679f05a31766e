"""Supervision state: the recorder's options, each camera's state, and the backoff rule."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from oversight.media.ffmpeg import AudioPolicy, FfmpegProcess, SourceInfo


def backoff_delay(failures: int, base: float, cap: float, rand: float) -> float:
    """Pure: seconds before restart number ``failures`` (1, 2, ...): ``base * 2^(n-1)``
    capped at ``cap``, scaled by ``0.5 + rand/2`` (``rand`` in [0, 1)) so that cameras
    failing together do not retry in lockstep."""
    exp = min(cap, base * (1 << max(0, min(failures - 1, 30))))
    return exp * (0.5 + rand / 2)


@dataclass(frozen=True)
class RecorderOptions:
    segment_seconds: int = 60
    cameras: tuple[str, ...] = ()  # empty: every registered, not removed camera
    input_timeout: float = 10.0
    stall_timeout: float | None = None  # default: 2 segments + the input timeout
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    offline_after: float = 30.0  # an outage longer than this shows as "offline"
    registry_poll: float = 5.0
    # Below this much free space under the data dir no ffmpeg runs (footage is never
    # deleted to make room). Would be a Settings field (recorder_min_free_bytes).
    min_free_bytes: int = 1 << 30
    disk_check_interval: float = 5.0
    audio_policy: AudioPolicy = "transcode"
    clock_jump: float = 2.0  # wall clock vs monotonic disagreement that is recorded
    host_clock_interval: float = 3600.0  # seconds between host.sync leaves (and at start)
    gap_tolerance: float = 2.0  # a hole between consecutive segments that is a gap
    # SIGTERM, then SIGKILL after this long (a stalled input ignores SIGTERM until its
    # own timeout; killing loses at most the last, unflushed fragment).
    stop_timeout: float = 5.0
    tick: float = 0.2
    # Source probes at once. A probe mostly waits for the camera's first keyframe
    # (up to a GOP) at about 0.15 s of CPU: four at a time made 50 cameras take 25 s
    # to start; sixteen start 100 in about ten.
    probe_workers: int = 16
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    # The live window (OVERSIGHT_LIVE_WINDOW); None: as the settings say.
    live_window: bool | None = None

    @property
    def effective_stall_timeout(self) -> float:
        if self.stall_timeout is not None:
            return self.stall_timeout
        return 2 * self.segment_seconds + self.input_timeout


@dataclass
class Outage:
    start: datetime
    reason: str
    attempts: int = 0
    later: list[str] = field(default_factory=list)  # distinct reasons restarts failed

    def note(self, reason: str, keep: int = 3) -> None:
        """A restart failed for ``reason``: kept once (the first ``keep`` distinct ones)."""
        if reason != self.reason and reason not in self.later and len(self.later) < keep:
            self.later.append(reason)

    @property
    def explained(self) -> str:
        return "; then ".join([self.reason, *self.later])


@dataclass
class CameraView:
    """One row of the live status table."""

    camera: str
    state: str
    since: datetime
    last_segment_at: datetime | None
    last_error: str | None
    segments: int
    restarts: int
    pid: int | None


@dataclass
class CameraState:
    """Supervision state of one camera."""

    id: str
    url: str  # as stored: credentials are "***" (services/credentials.py)
    state: str
    since: datetime
    credentials: str | None = field(default=None, repr=False)  # sealed
    # The known secrets of the URL last opened, masked in every reason kept or logged.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    proc: FfmpegProcess | None = None
    probing: Future[SourceInfo] | None = None
    started_at: datetime | None = None
    first_try: datetime | None = None  # when the recorder first tried to open the camera
    arrived_until: datetime | None = None  # when ffmpeg last listed a segment (or started)
    failures: int = 0
    restarts: int = 0
    next_start: float = 0.0  # monotonic
    last_progress: float = 0.0  # monotonic: ffmpeg start or last sealed segment
    outage: Outage | None = None
    covered_until: datetime | None = None
    last_segment_at: datetime | None = None
    last_error: str | None = None
    clock_note: str | None = None
    segments: int = 0
    needs_rescan: bool = False
    status_dirty: bool = False  # sealed footage whose progress is not yet stored
    epoch: int | None = None  # in a pool: the epoch of this node's lease on the camera
    copy: int = 0  # in a pool: which recording of a redundant camera this node makes
    warned: set[str] = field(default_factory=set)

"""The health monitor: every registered camera's live stream watched, alarms raised and
cleared (``services.alarms``), measurements kept for ``oversight health`` and the console.

Per camera a :class:`~oversight.health.probe.LiveProbe` connects to the stream. Each
tick the monitor:

- raises ``offline`` when no video packet has arrived for ``offline_after`` seconds (a
  dead, unplugged or stalled camera), and clears it when packets flow again;
- learns the camera's normal frame rate and bitrate from its first minute online and
  raises ``framerate_collapse`` / ``bitrate_collapse`` when either stays below
  ``collapse_ratio`` of that for ``collapse_after`` seconds;
- analyses each decoded keyframe (about one every 2 s) against the camera's reference
  (learned from its first keyframes if none is on file; ``oversight health learn``
  re-learns it) and turns the tracker's events into ``covered``, ``defocused``,
  ``moved``, ``too_dark`` and ``overexposed`` alarms.

A probe that ends (ffmpeg exits when the stream does) is restarted with a growing delay.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from oversight.bootstrap import System
from oversight.domain import policy
from oversight.errors import OversightError
from oversight.health import tamper
from oversight.health.probe import LiveProbe, StreamStats
from oversight.health.references import learn_reference, load_reference, reference_path
from oversight.services import alarms, credentials, health, pool, recording

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorOptions:
    tick: float = 1.0
    offline_after: float = 10.0
    input_timeout: float = 10.0
    learn_frames: int = 4
    baseline_after: float = 15.0  # seconds online before the normal rates are learned
    baseline_samples: int = 30
    collapse_ratio: float = 0.3
    collapse_after: float = 20.0
    registry_poll: float = 5.0
    persist_every: float = 3.0
    max_backoff: float = 30.0
    only: tuple[str, ...] = ()
    # In a recorder pool: watch the cameras this recorder node holds the leases of.
    node: str | None = None


@dataclass
class CameraWatch:
    camera: str
    url: str  # as stored: credentials are "***"
    credentials: str | None = field(default=None, repr=False)  # sealed
    probe: LiveProbe | None = None
    tracker: tamper.TamperTracker = field(default_factory=tamper.TamperTracker)
    reference: tamper.Reference | None = None
    reference_mtime: float | None = None
    learning: list[tamper.Frame] = field(default_factory=list)
    offline: bool = False
    state_since: datetime | None = None
    last_frame_at: datetime | None = None
    rates: list[tuple[float, float]] = field(default_factory=list)
    baseline: tuple[float, float] | None = None
    low_since: dict[str, float] = field(default_factory=dict)
    restart_at: float = 0.0
    backoff: float = 1.0
    # Monotonic time of the last video packet, kept across probe restarts; None: none yet.
    last_packet: float | None = None
    watched_since: float = field(default_factory=time.monotonic)


class Monitor:
    def __init__(self, system: System, options: MonitorOptions | None = None) -> None:
        self.system = system
        self.options = options or MonitorOptions()
        self.watches: dict[str, CameraWatch] = {}
        self._stop = threading.Event()
        self._next_poll = 0.0
        self._next_persist = 0.0

    # ---- lifecycle ---------------------------------------------------------------

    def run(self, duration: float | None = None) -> None:
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while not self._stop.is_set():
                self.step()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._stop.wait(self.options.tick)
        finally:
            self.close()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for watch in self.watches.values():
            if watch.probe is not None:
                watch.probe.stop()
                watch.probe = None

    # ---- one tick ----------------------------------------------------------------

    def step(self) -> None:
        now = time.monotonic()
        if now >= self._next_poll:
            self._sync_cameras()
            self._next_poll = now + self.options.registry_poll
        persist = now >= self._next_persist
        for watch in list(self.watches.values()):
            try:
                self._check(watch, now)
                if persist:
                    self._persist(watch)
            except OversightError as exc:  # one camera's trouble must not stop the others
                log.warning("health of camera %s: %s", watch.camera, exc)
        if persist:
            self._next_persist = now + self.options.persist_every

    def _sync_cameras(self) -> None:
        if self.options.node is not None:
            sources = pool.leased_cameras(self.system, self.options.node)
        else:
            sources = recording.recordable_cameras(self.system, self.options.only)
        wanted = {c.id: c for c in sources}
        for camera in set(self.watches) - set(wanted):
            gone = self.watches.pop(camera)
            if gone.probe is not None:
                gone.probe.stop()
        for camera, source in wanted.items():
            watch = self.watches.get(camera)
            if watch is not None and (watch.url, watch.credentials) != (
                source.stream_url,
                source.credentials,
            ):
                if watch.probe is not None:
                    watch.probe.stop()
                watch = None
            if watch is None:
                self.watches[camera] = CameraWatch(
                    camera,
                    source.stream_url,
                    source.credentials,
                    state_since=self.system.clock.now(),
                )
            self._load_reference(self.watches[camera])

    def _load_reference(self, watch: CameraWatch) -> None:
        path = reference_path(self.system, watch.camera)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == watch.reference_mtime:
            return
        watch.reference = load_reference(self.system, watch.camera)
        watch.reference_mtime = mtime
        watch.tracker = tamper.TamperTracker()
        log.info("camera %s: tamper reference (re)loaded", watch.camera)

    def _check(self, watch: CameraWatch, now: float) -> None:
        probe = watch.probe
        if probe is None or not probe.alive:
            if probe is not None:
                probe.stop()
                watch.probe = None
                watch.restart_at = now + watch.backoff
                watch.backoff = min(watch.backoff * 2, self.options.max_backoff)
            if now >= watch.restart_at:
                # The full URL exists only here, inside the probe's ffmpeg.
                source = recording.CameraSource(watch.camera, watch.url, watch.credentials)
                try:
                    url = credentials.open_url(self.system, source)
                except OversightError:  # e.g. no credentials key: retry as a dead probe
                    watch.restart_at = now + watch.backoff
                    watch.backoff = min(watch.backoff * 2, self.options.max_backoff)
                    raise
                watch.probe = LiveProbe(url, input_timeout=self.options.input_timeout)
                watch.probe.start()
        stats = watch.probe.stats() if watch.probe is not None else StreamStats(0, 0, None, 0)
        if stats.last_packet_at is not None:
            watch.last_packet = stats.last_packet_at
        # Silence counts from the last packet of any probe: an ffmpeg that exits and
        # reconnects within the limit is no outage.
        silent_for = now - (watch.last_packet or watch.watched_since)
        self._offline(watch, silent_for)
        if not watch.offline:
            watch.backoff = 1.0
            self._rates(watch, stats, now)
        if watch.probe is not None:
            for frame in watch.probe.frames():
                watch.last_frame_at = self.system.clock.now()
                self._analyse(watch, frame)

    def _offline(self, watch: CameraWatch, silent_for: float) -> None:
        limit = self.options.offline_after
        if silent_for > limit and not watch.offline:
            watch.offline, watch.state_since = True, self.system.clock.now()
            alarms.raise_alarm(
                self.system,
                camera=watch.camera,
                kind="offline",
                detail=f"no video from the camera for {silent_for:.0f} s (limit {limit:.0f} s)",
            )
        elif watch.offline and silent_for <= limit:
            watch.offline, watch.state_since = False, self.system.clock.now()
            watch.low_since.clear()
            alarms.clear_alarm(self.system, camera=watch.camera, kind="offline")

    def _rates(self, watch: CameraWatch, stats: StreamStats, now: float) -> None:
        opts = self.options
        if watch.probe is None or now - watch.probe.started_at < opts.baseline_after:
            return
        if watch.baseline is None:
            watch.rates.append((stats.fps, stats.kbps))
            if len(watch.rates) >= opts.baseline_samples:
                fps = statistics.median(r[0] for r in watch.rates)
                kbps = statistics.median(r[1] for r in watch.rates)
                watch.baseline = (fps, kbps)
                log.info("camera %s: normal rate %.1f fps, %.0f kbit/s", watch.camera, fps, kbps)
            return
        for kind, value, normal, unit in (
            ("framerate_collapse", stats.fps, watch.baseline[0], "fps"),
            ("bitrate_collapse", stats.kbps, watch.baseline[1], "kbit/s"),
        ):
            if normal <= 0:
                continue
            if value < opts.collapse_ratio * normal:
                since = watch.low_since.setdefault(kind, now)
                if now - since >= opts.collapse_after:
                    alarms.raise_alarm(
                        self.system,
                        camera=watch.camera,
                        kind=kind,
                        detail=f"{value:.1f} {unit} against a normal {normal:.1f} {unit}",
                    )
            elif watch.low_since.pop(kind, None) is not None:
                alarms.clear_alarm(self.system, camera=watch.camera, kind=kind)

    def _analyse(self, watch: CameraWatch, frame: tamper.Frame) -> None:
        if watch.reference is None:
            watch.learning.append(frame)
            if len(watch.learning) >= self.options.learn_frames:
                try:
                    watch.reference = learn_reference(
                        self.system, policy.SYSTEM, watch.camera, watch.learning
                    )
                    watch.reference_mtime = (
                        reference_path(self.system, watch.camera).stat().st_mtime
                    )
                    log.info("camera %s: tamper reference learned", watch.camera)
                except OversightError as exc:  # e.g. the lens is covered right now
                    log.warning("camera %s: cannot learn a reference yet: %s", watch.camera, exc)
                watch.learning = []
            return
        findings = tamper.classify(tamper.frame_stats(frame), watch.reference)
        for event in watch.tracker.update(findings):
            if event.raised:
                alarms.raise_alarm(
                    self.system, camera=watch.camera, kind=event.kind, detail=event.explanation
                )
            else:
                alarms.clear_alarm(self.system, camera=watch.camera, kind=event.kind)

    def _persist(self, watch: CameraWatch) -> None:
        stats = watch.probe.stats() if watch.probe is not None else StreamStats(0, 0, None, 0)
        now = self.system.clock.now()
        health.save_snapshot(
            self.system,
            health.Snapshot(
                camera=watch.camera,
                state="offline" if watch.offline else "online",
                since=watch.state_since or now,
                fps=stats.fps,
                kbps=stats.kbps,
                last_frame_at=watch.last_frame_at,
                tamper=tuple(sorted(watch.tracker.active)),
                reference=watch.reference is not None,
                updated_at=now,
            ),
        )

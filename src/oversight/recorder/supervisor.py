"""The supervisor: one ffmpeg per registered, not removed camera, and nothing lost silently.

One thread runs the loop (:meth:`Supervisor.run`); ffmpeg's pipes are read by its own
threads, which only queue "segment finished" events, and source probes run in a small
pool so a dead camera never blocks the others. All database work happens on the loop.

Every outage is a fact: when a camera's ffmpeg exits (for any reason, exit code 0
included), stalls (no segment within ``stall_timeout``), cannot reach its source, or
a segment is quarantined, an *outage* opens at the end of the camera's sealed footage.
It closes as a ``gap`` (index row and ledger leaf) at the start of the next sealed
segment, or at shutdown. A startup opens one for every camera with earlier footage
("recorder was not running"). Restarts back off exponentially with jitter, and all of
it is decided in one method, :meth:`Supervisor._restart`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from oversight.bootstrap import System
from oversight.errors import OversightError
from oversight.ledger import leaves
from oversight.media.ffmpeg import (
    ClockJump,
    FfmpegProcess,
    RecordPlan,
    SegmentDone,
    SourceInfo,
    build_record_command,
    new_run_id,
)
from oversight.recorder import hostclock, probe, procfs, sealer
from oversight.recorder.state import (
    CameraState,
    CameraView,
    Outage,
    RecorderOptions,
    backoff_delay,
)
from oversight.redaction import scrub, secrets_of
from oversight.services import alarms, credentials, pool, recording
from oversight.services.sealing import file_sha256

log = logging.getLogger(__name__)

_Event = tuple[CameraState, FfmpegProcess, SegmentDone]


@dataclass(frozen=True)
class PoolNode:
    """This recorder as a node of a pool: its name and how many cameras it takes."""

    name: str
    capacity: int


def _handover_reason(gained: pool.Gained) -> str | None:
    """A gap's reason for the footage between the last owner's segment and ours."""
    if gained.reason == pool.CLAIM:
        return None  # nobody recorded it: the usual "recorder was not running"
    was = f"node {gained.from_node} (epoch {gained.from_epoch})"
    if gained.reason == pool.EXPIRY:
        return f"failover: {was} stopped renewing its lease"
    return f"failover: {was} let it go ({gained.reason})"


class Supervisor:
    def __init__(
        self,
        system: System,
        options: RecorderOptions | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        node: PoolNode | None = None,
    ) -> None:
        self.system = system
        self.options = options or RecorderOptions()
        # In a recorder pool: this node; its cameras come from leases, not the registry.
        self.node = node
        self._draining = False
        self._next_cycle = 0.0
        self._mono = monotonic
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._stop = threading.Event()
        self._events: queue.Queue[_Event] = queue.Queue()
        self._jumps: queue.Queue[tuple[CameraState, ClockJump]] = queue.Queue()
        self._cameras: dict[str, CameraState] = {}
        self._pool: ThreadPoolExecutor | None = None
        # Hashing finished segments: hashlib releases the GIL, so a burst of segments
        # is hashed on the other core while this loop does each one's transaction.
        self._hashers: ThreadPoolExecutor | None = None
        self._disk_full = False
        self._next_registry = 0.0
        self._next_disk = 0.0
        self._next_host_clock = 0.0
        self._next_heartbeat = 0.0
        self._wall0 = system.clock.now()
        self._mono0 = monotonic()
        self._offset = 0.0

    # ---- control ------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to stop (safe from signal handlers and other threads)."""
        self._stop.set()

    def run(
        self,
        duration: float | None = None,
        on_tick: Callable[[list[CameraView]], None] | None = None,
    ) -> None:
        """Record until :meth:`stop` (or ``duration`` seconds), then shut down cleanly:
        every ffmpeg finishes its open segment, which is sealed, and open outages close."""
        deadline = None if duration is None else self._mono() + duration
        self._hashers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash")
        self._pool = ThreadPoolExecutor(
            max_workers=self.options.probe_workers, thread_name_prefix="probe"
        )
        try:
            while not self._stop.is_set():
                if deadline is not None and self._mono() >= deadline:
                    break
                self._step()
                if on_tick is not None:
                    on_tick(self.snapshot())
        finally:
            self._shutdown()

    def snapshot(self) -> list[CameraView]:
        return [
            CameraView(
                c.id,
                c.state,
                c.since,
                c.last_segment_at,
                c.last_error,
                c.segments,
                c.restarts,
                c.proc.pid if c.proc else None,
            )
            for c in sorted(list(self._cameras.values()), key=lambda c: c.id)
        ]

    def pids(self) -> dict[str, int]:
        """Running ffmpeg process ids by camera (tests and diagnostics)."""
        cams = list(self._cameras.values())  # may be called from another thread
        return {c.id: c.proc.pid for c in cams if c.proc is not None}

    # ---- the loop -----------------------------------------------------------------

    def _step(self) -> None:
        now = self._mono()
        if self.node is not None:
            if now >= self._next_cycle:
                self._next_cycle = now + self.system.settings.pool_claim_interval_s
                self._pool_cycle(self.node)
        elif now >= self._next_registry:
            self._next_registry = now + self.options.registry_poll
            self._sync_registry()
        if now >= self._next_disk:
            self._next_disk = now + self.options.disk_check_interval
            self._check_disk()
        if now >= self._next_host_clock:
            self._next_host_clock = now + self.options.host_clock_interval
            self._record_host_clock()
        self._check_clock()
        self._record_camera_clocks()
        for cam in list(self._cameras.values()):
            if self._stop.is_set():
                break  # a Ctrl-C also reaches ffmpeg: its exit is then no outage
            try:
                self._check(cam)
            except Exception:  # supervisor loop: one camera never stops the others
                log.exception("camera %s: unexpected supervisor error", cam.id)
        self._drain(self.options.tick)
        self._persist_progress()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + recording.HEARTBEAT_S
            try:
                recording.heartbeat(self.system, sorted(self._cameras))
            except (OversightError, SQLAlchemyError) as exc:
                log.error("cannot store the recorder's heartbeat: %s", type(exc).__name__)

    def _now(self) -> datetime:
        return self.system.clock.now()

    def _sync_registry(self) -> None:
        try:
            wanted = {
                c.id: c for c in recording.recordable_cameras(self.system, self.options.cameras)
            }
        except SQLAlchemyError as exc:
            log.error("cannot read the camera registry: %s", type(exc).__name__)
            return
        for cid in sorted(set(self._cameras) - set(wanted)):
            self._retire(self._cameras[cid], "removed from the registry")
        for cid, source in sorted(wanted.items()):
            cam = self._cameras.get(cid)
            if cam is None:
                self._adopt(source)
            elif (cam.url, cam.credentials) != (source.stream_url, source.credentials):
                cam.url, cam.credentials = source.stream_url, source.credentials
                self._restart(cam, "stream URL changed in the registry")

    def _pool_cycle(self, node: PoolNode) -> None:
        """Heartbeat and renew; let go what another node took or is owed; take what
        this node gained (``services/pool.py``)."""
        try:
            got = pool.cycle(self.system, node.name, node.capacity)
        except (OversightError, SQLAlchemyError) as exc:
            # Cannot renew: the leases run out and others take the cameras; what this
            # node seals meanwhile is checked against the lease (late if lost).
            log.error("node %s: cannot renew its leases: %s", node.name, type(exc).__name__)
            return
        if got.draining:
            log.warning("node %s: draining: sealing and letting its cameras go", node.name)
            self._draining = True
            self.stop()
            return
        for cid, epoch in sorted(got.removed.items()):
            if cid in self._cameras:
                self._retire(self._cameras[cid], "removed from the registry")
            pool.release(self.system, node.name, {cid: epoch}, pool.STOP)
        for cid, epoch in sorted(got.unwanted.items()):
            if cid in self._cameras:
                self._retire(self._cameras[cid], "no longer redundant: its second copy stops")
            pool.release(self.system, node.name, {cid: epoch}, pool.STOP)
        for cid in sorted(set(self._cameras) - set(got.held)):
            self._retire(self._cameras[cid], "its lease passed to another node", handed=True)
        for cid in got.excess:
            cam = self._cameras.get(cid)
            epoch = got.held[cid].epoch
            if cam is not None:
                self._retire(cam, "rebalanced to another node", handed=True)
            pool.release(self.system, node.name, {cid: epoch}, pool.REBALANCE)
            del got.held[cid]
        for gained in got.gained:
            lease = gained.lease
            cam = self._cameras.get(lease.camera)
            if cam is not None:  # our own lapsed lease, claimed again: a new epoch
                cam.epoch = lease.epoch
                continue
            why = _handover_reason(gained)
            if gained.from_node is not None and gained.from_node != node.name:
                try:
                    self._seal_for_previous_owner(
                        lease.camera, pool.Fence(gained.from_node, gained.from_epoch, lease.copy)
                    )
                except (OversightError, SQLAlchemyError, OSError) as exc:
                    log.error("camera %s: cannot seal node %s's leftovers: %s", lease.camera,
                              gained.from_node, exc)  # fmt: skip
            self._adopt(
                recording.CameraSource(lease.camera, lease.stream_url, lease.credentials),
                epoch=lease.epoch,
                reason=why,
                copy=lease.copy,
            )
        for cid, lease in got.held.items():
            cam = self._cameras.get(cid)
            if cam is None:
                continue
            if (cam.url, cam.credentials) != (lease.stream_url, lease.credentials):
                cam.url, cam.credentials = lease.stream_url, lease.credentials
                self._restart(cam, "stream URL changed in the registry")

    def _adopt(
        self,
        source: recording.CameraSource,
        *,
        epoch: int | None = None,
        reason: str | None = None,
        copy: int = 0,
    ) -> None:
        """Take a camera under supervision: seal what an earlier run left, open the
        outage since its footage ends, and start it. In a pool, ``epoch`` is this
        node's lease and ``reason`` why the camera came to it (a failover, a drain)."""
        now = self._now()
        cam = CameraState(
            source.id, source.stream_url, "starting", now, credentials=source.credentials
        )
        cam.epoch, cam.copy = epoch, copy
        self._cameras[cam.id] = cam
        self._spool(cam.id).mkdir(parents=True, exist_ok=True)
        cam.covered_until = recording.coverage_end(self.system, cam.id, copy)
        previous = recording.get_status(self.system, cam.id)
        self._seal_leftovers(cam)
        if cam.covered_until is not None:
            if reason is None:
                reason = "recorder was not running"
                if previous is not None and previous.state not in ("stopped", "disk_full"):
                    reason += f" (it ended while the camera was {previous.state}: crash or kill)"
            cam.outage = Outage(cam.covered_until, reason)
        log.info("camera %s: supervised", cam.id)
        self._persist(cam)

    def _check(self, cam: CameraState) -> None:
        """One look at a camera: exited, stalled, probed, or due to start."""
        if cam.proc is not None:
            code = cam.proc.poll()
            if code is not None:
                tail = "; ".join(cam.proc.stderr_tail(2))
                # ffmpeg reports a source that closed the stream by exiting with 0.
                what = (
                    "the stream ended (ffmpeg exited with code 0)"
                    if code == 0
                    else (f"ffmpeg exited with code {code}")
                )
                self._restart(cam, what + (f": {tail}" if tail else ""))
            elif self._mono() - cam.last_progress > self.options.effective_stall_timeout:
                idle = self._mono() - cam.last_progress
                self._restart(cam, f"stalled: no segment for {idle:.0f} s")
        elif cam.probing is not None:
            if cam.probing.done():
                future, cam.probing = cam.probing, None
                try:
                    info = future.result()
                except (OversightError, OSError) as exc:
                    self._restart(cam, getattr(exc, "message", None) or str(exc))
                else:
                    self._spawn(cam, info)
        elif not self._disk_full and self._mono() >= cam.next_start:
            assert self._pool is not None
            opts = self.options
            if cam.first_try is None:
                cam.first_try = self._now()  # a camera never recorded is missing from here
            try:
                url = self._open(cam)
            except OversightError as exc:  # e.g. the credentials key is missing
                self._restart(cam, exc.message)
                return
            cam.probing = self._pool.submit(
                probe.probe_source, url, timeout=opts.input_timeout, ffprobe=opts.ffprobe
            )
        if cam.needs_rescan and cam.proc is None and cam.probing is None:
            cam.needs_rescan = False
            self._seal_leftovers(cam)
        if (
            cam.state == "reconnecting"
            and cam.outage is not None
            and (self._now() - cam.outage.start).total_seconds() > self.options.offline_after
        ):
            self._set_state(cam, "offline")

    def _open(self, cam: CameraState) -> str:
        """The camera's full stream URL, to hand to the probe or ffmpeg and nowhere else."""
        url = credentials.open_url(
            self.system, recording.CameraSource(cam.id, cam.url, cam.credentials)
        )
        cam.secrets = secrets_of(url)
        return url

    def _spawn(self, cam: CameraState, info: SourceInfo) -> None:
        opts = self.options
        try:
            url = self._open(cam)
        except OversightError as exc:
            self._restart(cam, exc.message)
            return
        plan = RecordPlan(
            camera=cam.id,
            url=url,
            spool_dir=self._spool(cam.id),
            run_id=new_run_id(self._now()),
            segment_seconds=opts.segment_seconds,
            input_timeout=opts.input_timeout,
            clock_jump=opts.clock_jump,
            source=info,
            audio_policy=opts.audio_policy,
            ffmpeg=opts.ffmpeg,
            live_dir=self._live_dir(cam),
        )
        try:
            command = build_record_command(plan)
        except OversightError as exc:
            self._restart(cam, exc.message)
            return
        for warning in command.warnings:
            if warning not in cam.warned:
                cam.warned.add(warning)
                log.warning("camera %s: %s", cam.id, warning)
                self._record_event(cam.id, "warning", warning)

        def deliver(proc: FfmpegProcess, done: SegmentDone) -> None:
            self._events.put((cam, proc, done))  # on a reader thread: only queue

        def jumped(proc: FfmpegProcess, jump: ClockJump) -> None:
            self._jumps.put((cam, jump))

        proc = FfmpegProcess(
            command.argv,
            on_segment=deliver,
            clock=self.system.clock.now,
            secret_url=url,
            on_clock_jump=jumped,
            clock_jump=opts.clock_jump,
        )
        cam.proc = proc
        cam.started_at = self._now()
        cam.arrived_until = cam.started_at
        cam.last_progress = self._mono()
        log.info("camera %s: ffmpeg pid %d recording (%s)", cam.id, proc.pid, info.video_codec)
        self._set_state(cam, "recording")

    def _restart(self, cam: CameraState, reason: str) -> None:
        """The one place that handles a failure: stop ffmpeg (it finishes its segment),
        seal what it left, open or extend the outage, and schedule the next start with
        exponential backoff and jitter."""
        reason = scrub(reason, cam.secrets)
        before = cam.outage
        if cam.proc is not None:
            self._halt(cam)  # may seal footage, and may quarantine (opening an outage)
        if cam.outage is None:
            start = cam.covered_until or cam.started_at or cam.first_try or self._now()
            cam.outage = Outage(start, reason)
        elif cam.outage is not before:
            cam.outage.reason = f"{reason}; {cam.outage.reason}"
        else:
            cam.outage.note(reason)  # why the restarts failed (a 404, a refusal) is the cause
        cam.outage.attempts += 1
        cam.failures += 1
        cam.restarts += 1
        delay = backoff_delay(
            cam.failures, self.options.backoff_base, self.options.backoff_max, self._rng.random()
        )
        cam.next_start = self._mono() + delay
        cam.last_error = reason
        log.warning("camera %s: %s; restarting in %.1f s", cam.id, reason, delay)
        offline = (self._now() - cam.outage.start).total_seconds() > self.options.offline_after
        self._set_state(
            cam, "disk_full" if self._disk_full else "offline" if offline else "reconnecting"
        )

    def _live_dir(self, cam: CameraState) -> Path | None:
        """The camera's live window, emptied for a new run (a private directory that is
        never sealed or indexed); None when live windows are off. A redundant camera's
        second copy writes none: one window per camera."""
        on = self.options.live_window
        if on is None:
            on = self.system.settings.live_window
        if not on or cam.copy:
            return None
        directory = self._live_path(cam.id)
        self._clear_live(cam.id)
        directory.mkdir(parents=True, exist_ok=True)
        depth = 3 if self.node else 2  # live/CAM, or live-nodes/NODE/CAM
        for made in [directory, *directory.parents][:depth]:
            made.chmod(0o700)
        return directory

    def _live_path(self, camera: str) -> Path:
        return self.system.settings.live_dir(camera, self.node.name if self.node else None)

    def _clear_live(self, camera: str) -> None:
        """A stopped ffmpeg's live window is stale: nothing of it is served or kept."""
        shutil.rmtree(self._live_path(camera), ignore_errors=True)

    def _halt(self, cam: CameraState) -> None:
        """Stop the camera's ffmpeg gracefully and seal everything it wrote."""
        proc, cam.proc = cam.proc, None
        if proc is not None:
            proc.stop(self.options.stop_timeout)
            if not cam.copy:
                self._clear_live(cam.id)
        self._drain(0)
        self._seal_leftovers(cam)

    def _retire(self, cam: CameraState, why: str, *, handed: bool = False) -> None:
        """Stop supervising ``cam``. ``handed``: another node records it now, and its
        status and the gap before its first segment are that node's to write."""
        if cam.probing is not None:
            cam.probing.cancel()
            cam.probing = None
        self._halt(cam)
        cam.last_error = why
        if not handed:
            self._close_outage(cam, self._now(), suffix=f" (until {why})")
            self._set_state(cam, "stopped")
        self._cameras.pop(cam.id, None)
        log.info("camera %s: no longer supervised: %s", cam.id, why)

    # ---- segments -----------------------------------------------------------------

    def _drain(self, timeout: float) -> None:
        try:
            first = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return
        batch = [first]
        while True:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                break
        ready = []
        for cam, proc, done in batch:
            path = self._spool(cam.id) / done.filename
            if not path.exists():
                continue  # sealed already by a rescan
            # ffmpeg lists a segment just before closing it: wait until it lets go.
            deadline = self._mono() + 5.0
            while proc.holds(path) and self._mono() < deadline:
                time.sleep(0.01)
            hashing = self._hashers.submit(file_sha256, path) if self._hashers else None
            ready.append((cam, path, done, hashing))
        for cam, path, done, hashing in ready:
            hashed = None
            if hashing is not None:
                with contextlib.suppress(OSError):  # the seal hashes it again and says why
                    hashed = hashing.result()
            listed = done.stream_end - done.stream_start
            # Its packets arrived after the one before was listed (or ffmpeg started),
            # give or take ffmpeg's own buffering: the segment claims no time before
            # that, whatever its timestamps say.
            floor, cam.arrived_until = cam.arrived_until, done.received
            if floor is not None:
                floor -= timedelta(seconds=self.options.clock_jump)
            self._seal(cam, path, done.received, listed, hashed=hashed, arrived=floor)

    def _spool(self, camera: str) -> Path:
        return sealer.spool_dir(self.system, camera, self.node.name if self.node else None)

    def _seal_leftovers(self, cam: CameraState) -> None:
        directory = self._spool(cam.id)
        held = procfs.open_files_under(directory)
        sealer.seal_leftovers(
            self.system,
            camera=cam.id,
            busy=lambda p: p.resolve() in held,
            seal=lambda path, end: self._seal(cam, path, end),
            node=self.node.name if self.node else None,
        )

    def _seal_for_previous_owner(self, camera: str, fence: pool.Fence) -> None:
        """What a node that died on this machine left in its spool for ``camera``:
        sealed in its name, epoch and copy (late: its lease has passed), never lost."""
        node = fence.node
        directory = sealer.spool_dir(self.system, camera, node)
        if not directory.is_dir():
            return
        held = procfs.open_files_under(directory)
        sealer.seal_leftovers(
            self.system,
            camera=camera,
            busy=lambda p: p.resolve() in held,
            seal=lambda path, end: sealer.seal_spool_file(
                self.system,
                camera=camera,
                path=path,
                end=end,
                ffprobe=self.options.ffprobe,
                fence=fence,
            ),
            node=node,
        )

    def _seal(
        self,
        cam: CameraState,
        path: Path,
        end: datetime,
        listed: float | None = None,
        *,
        hashed: tuple[str, int] | None = None,
        arrived: datetime | None = None,
    ) -> None:
        try:
            outcome = sealer.seal_spool_file(
                self.system,
                camera=cam.id,
                path=path,
                end=end,
                # How far the wall clock has moved from the monotonic one since start.
                clock_offset_ms=round(self._offset * 1000),
                ffprobe=self.options.ffprobe,
                listed_duration=listed,
                hashed=hashed,
                arrived=arrived,
                fence=self._fence(cam),
            )
        except (OversightError, SQLAlchemyError, OSError) as exc:
            # The file stays in the spool; it is sealed by the next rescan.
            message = exc.message if isinstance(exc, OversightError) else type(exc).__name__
            log.error("camera %s: cannot seal %s: %s", cam.id, path.name, message)
            cam.last_error = f"cannot seal {path.name}: {message}"
            cam.needs_rescan = True
            return
        if outcome.sealed is None or outcome.start is None:
            reason = outcome.quarantined.reason if outcome.quarantined else "unsealable"
            if cam.outage is None:
                start = cam.covered_until or end - timedelta(seconds=self.options.segment_seconds)
                cam.outage = Outage(start, f"segment {outcome.filename} quarantined: {reason}")
            cam.last_error = f"segment {outcome.filename} quarantined: {reason}"
            self._persist(cam)
            return
        sealed = outcome.sealed
        if sealed.already_sealed:
            return  # sealed before a crash stopped its unlink: its times are old news
        start, stop = recording.utc(sealed.start), recording.utc(sealed.end)
        if cam.outage is not None:
            self._close_outage(cam, start)
        elif cam.covered_until is not None:
            hole = (start - cam.covered_until).total_seconds()
            if hole > self.options.gap_tolerance:
                note = f" ({cam.clock_note})" if cam.clock_note else ""
                self._gap(cam, cam.covered_until, start, f"no footage between segments{note}")
            elif hole < -self.options.gap_tolerance:
                self._record_event(
                    cam.id,
                    "overlap",
                    f"segment {sealed.seq} starts {-hole:.1f} s before the last one ended",
                )
        cam.clock_note = None
        cam.covered_until = stop if cam.covered_until is None else max(cam.covered_until, stop)
        cam.last_segment_at = stop
        cam.segments += 1
        if cam.proc is not None:
            cam.failures = 0
            cam.last_progress = self._mono()
        # Stored with the rest of the step's progress (a burst of segments, one write).
        cam.status_dirty = True

    def _fence(self, cam: CameraState) -> pool.Fence | None:
        if self.node is None:
            return None
        epoch = cam.epoch if cam.epoch is not None else -1
        return pool.Fence(self.node.name, epoch, cam.copy)

    def _close_outage(self, cam: CameraState, end: datetime, suffix: str = "") -> None:
        outage, cam.outage = cam.outage, None
        if outage is None:
            return
        if end <= outage.start:
            log.info("camera %s: outage (%s) left no hole in the footage", cam.id, outage.reason)
            return
        reason = outage.explained + suffix
        if outage.attempts > 1:
            reason += f" ({outage.attempts} restart attempts)"
        self._gap(cam, outage.start, end, reason)

    def _gap(self, cam: CameraState, start: datetime, end: datetime, reason: str) -> None:
        try:
            gap = recording.record_gap(
                self.system, camera=cam.id, start=start, end=end, reason=reason, copy=cam.copy
            )
        except (OversightError, SQLAlchemyError) as exc:
            log.error("camera %s: cannot record a gap: %s", cam.id, exc)
            return
        length = (gap.end - gap.start).total_seconds()
        log.warning("camera %s: gap of %.1f s recorded: %s", cam.id, length, gap.reason)

    # ---- state, disk, clock -------------------------------------------------------

    def _set_state(self, cam: CameraState, state: str) -> None:
        if cam.state != state:
            cam.state = state
            cam.since = self._now()
        self._persist(cam)

    def _persist(self, cam: CameraState) -> None:
        self._store_statuses([cam])

    def _persist_progress(self) -> None:
        """Store the status of every camera that sealed footage since the last step."""
        self._store_statuses([c for c in self._cameras.values() if c.status_dirty])

    def _store_statuses(self, cams: list[CameraState]) -> None:
        # A redundant camera's status is its first copy's: one row, one writer.
        for second in (c for c in cams if c.copy):
            second.status_dirty = False
        cams = [c for c in cams if not c.copy]
        if not cams:
            return
        updates = [
            recording.StatusUpdate(c.id, c.state, c.since, c.last_segment_at, c.last_error)
            for c in cams
        ]
        try:
            recording.set_statuses(self.system, updates)
        except (OversightError, SQLAlchemyError) as exc:
            names = ", ".join(c.id for c in cams)
            log.error("camera %s: cannot store its status: %s", names, type(exc).__name__)
            return
        for cam in cams:
            cam.status_dirty = False

    def _record_event(self, camera: str | None, kind: str, message: str) -> None:
        try:
            recording.record_event(self.system, camera=camera, kind=kind, message=message)
        except (OversightError, SQLAlchemyError) as exc:
            log.error("cannot record a %s event: %s", kind, type(exc).__name__)

    def _check_disk(self) -> None:
        data_dir = self.system.settings.data_dir
        free = shutil.disk_usage(data_dir).free
        low = free < self.options.min_free_bytes
        if low and not self._disk_full:
            self._disk_full = True
            message = (
                f"free space {free} bytes under {data_dir} is below "
                f"{self.options.min_free_bytes}: recording stopped, no footage deleted"
            )
            log.critical("ALARM: %s", message)
            self._record_event(None, "disk_full", message)
            for cam in list(self._cameras.values()):
                if cam.probing is not None:
                    cam.probing.cancel()
                    cam.probing = None
                self._restart(cam, "disk full")
        elif not low and self._disk_full:
            self._disk_full = False
            message = f"free space {free} bytes is back above the threshold: recording resumes"
            log.warning(message)
            self._record_event(None, "disk_ok", message)
            for cam in self._cameras.values():
                cam.next_start = self._mono()

    def _record_camera_clocks(self) -> None:
        """Each camera clock jump ffmpeg noticed (or the return into step) is a leaf."""
        for cam in list(self._cameras.values()):
            if cam.proc is not None:
                back = cam.proc.clock_settled(quiet=self.options.clock_jump)
                if back is not None and abs(back.seconds) > self.options.clock_jump:
                    self._jumps.put((cam, back))
        while True:
            try:
                cam, jump = self._jumps.get_nowait()
            except queue.Empty:
                return
            direction = "forward" if jump.seconds > 0 else "backward"
            message = (
                f"camera clock jumped {jump.seconds:+.1f} s ({direction}); its timestamps are "
                "replaced by a continuous timeline anchored to the recorder's clock"
            )
            log.warning("camera %s: %s", cam.id, message)
            try:
                recording.record_clock(
                    self.system,
                    action="camera.jump",
                    subject=f"camera:{cam.id}",
                    camera=cam.id,
                    details={
                        "camera": cam.id,
                        "jump_ms": round(jump.seconds * 1000),
                        "direction": direction,
                        "noticed": leaves.instant(jump.at),
                    },
                    message=message,
                )
            except (OversightError, SQLAlchemyError) as exc:
                log.error("camera %s: cannot record a clock jump: %s", cam.id, exc)

    def _record_host_clock(self) -> None:
        """Where this host's time comes from, as a ``host.sync`` leaf (start and hourly)."""
        status = hostclock.read()
        synced = {True: "synchronised", False: "NOT synchronised", None: "of unknown sync"}
        message = (
            f"host {status.host} clock ({status.source}) {synced[status.synchronised]}, "
            f"offset {status.offset_us} us, maximum error {status.max_error_us} us"
        )
        (log.info if status.synchronised else log.warning)("%s", message)
        try:
            recording.record_clock(
                self.system,
                action="host.sync",
                subject=f"host:{status.host}",
                details=status.details(),
                message=message,
            )
        except (OversightError, SQLAlchemyError) as exc:
            log.error("cannot record the host clock: %s", exc)

    def _check_clock(self) -> None:
        """Record a wall-clock jump (vs the monotonic clock) instead of absorbing it: a
        ``host.jump`` leaf and a ``clock_jump`` alarm on every camera being recorded."""
        now = self._now()
        wall = (now - self._wall0).total_seconds()
        offset = wall - (self._mono() - self._mono0)
        jump = offset - self._offset
        self._offset = offset
        if abs(jump) > self.options.clock_jump:
            message = f"wall clock jumped {jump:+.1f} s against the monotonic clock"
            log.error(message)
            self._record_event(None, "clock_jump", message)
            host = hostclock.read().host
            try:
                recording.record_clock(
                    self.system,
                    action="host.jump",
                    subject=f"host:{host}",
                    details={
                        "host": host,
                        "jump_ms": round(jump * 1000),
                        "direction": "forward" if jump > 0 else "backward",
                        "noticed": leaves.instant(now),
                    },
                    message=message,
                )
            except (OversightError, SQLAlchemyError) as exc:
                log.error("cannot record a host clock jump: %s", exc)
            for cam in self._cameras.values():
                cam.clock_note = message
                try:
                    alarms.raise_alarm(
                        self.system,
                        camera=cam.id,
                        kind="clock_jump",
                        detail=f"{message}: footage times around {now:%H:%M:%S} UTC are suspect",
                    )
                except (OversightError, SQLAlchemyError) as exc:
                    log.error("camera %s: cannot raise a clock alarm: %s", cam.id, exc)

    # ---- shutdown -----------------------------------------------------------------

    def _shutdown(self) -> None:
        """Every ffmpeg finishes its open segment (in parallel), then all is sealed."""
        cams = list(self._cameras.values())
        for cam in cams:
            if cam.probing is not None:
                cam.probing.cancel()
            if cam.proc is not None:
                cam.proc.terminate()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for cam in cams:
            cam.probing = None
            self._halt(cam)
        now = self._now()
        for cam in cams:
            self._close_outage(cam, now, suffix=" (until the recorder stopped)")
            self._set_state(cam, "stopped")
        if self._hashers is not None:
            self._hashers.shutdown(wait=True)
            self._hashers = None
        if self.node is not None:
            self._leave(self.node, cams)
        log.info("recorder stopped")

    def _leave(self, node: PoolNode, cams: list[CameraState]) -> None:
        """Sealed: let the cameras go at once, so other nodes claim them at their next
        cycle rather than after the lease runs out."""
        held = {c.id: c.epoch for c in cams if c.epoch is not None}
        try:
            pool.release(self.system, node.name, held, pool.DRAIN if self._draining else pool.STOP)
            pool.leave(self.system, node.name)
        except (OversightError, SQLAlchemyError) as exc:
            log.error("node %s: cannot release its leases: %s", node.name, type(exc).__name__)

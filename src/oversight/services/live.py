"""The enforcement point for live view (issue 22, item 1): the only code that reads a
camera's live window for people.

Live monitoring by staff on duty needs the role and training (xj-2014 Art. 14(2); the
training rule of every pack in force), not a grant: :func:`start` asks the one policy
(``live.view`` on the camera, in the person's site scope) and the training rule, then
appends a ``view.live`` ``access`` leaf (who, camera, start) and only then returns a
session. The player keeps it alive: each playlist fetch and each heartbeat
(:func:`touch`) re-decides the policy at most every :data:`RECHECK_S` seconds. It ends
when the operator leaves (:func:`end`) or nothing has touched it for
``OVERSIGHT_LIVE_HEARTBEAT_TIMEOUT_S`` (the sweeper): a ``view.live.end`` leaf naming
the opening leaf (its index is the session's public number), the camera, start and end,
so the register and ``oversight verify`` show who watched which camera when. An orderly
server stop ends every open session (reason ``server stopped``); only a session open
when the server crashed has an opening leaf and no end leaf: its end is not known
beyond the server's last answer.

A refusal (no role, out of scope, untrained) is a ``view.live.refused`` leaf and a 403;
nothing of the window is read. The window itself is the recorder's (``DATA_DIR/live/
CAMERA``, written by the recording ffmpeg, never sealed): its playlist is rewritten to
name only this module's routes, and a part is read only by its exact name.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select, text

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import PermissionDenied, Person, check_trained
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.ledger import leaves
from oversight.services import access as svc
from oversight.services import authz, registry

log = logging.getLogger(__name__)

ACTION = "live.view"
VERB = "view.live"
PART_NAME = re.compile(r"init\.mp4|part-\d{1,12}\.m4s")
PLAYLIST = "live.m3u8"
# The policy and training are asked again at most this often while a session lives: a
# role taken away or a scope narrowed ends it within seconds, at one read per tile.
RECHECK_S = 5.0
# A playlist older than this is not live: the recorder stopped or lost the camera.
STALE_S = 15.0
SWEEP_S = 2.0
MAX_PART_BYTES = 64 << 20


class TrainingRefused(RuleViolation):
    """Untrained staff may not watch live: a 403 (a person's standing, like a role),
    citing the training rule's article."""

    http_status = 403


@dataclass
class LiveSession:
    token: str  # the session's handle in URLs; useless without its person's login
    number: int  # the index of its opening view.live leaf: its public name
    person: str
    camera: str
    started: datetime
    seen: datetime
    checked: float  # monotonic time of the last policy decision


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


def check_camera_id(camera: str) -> str:
    # A camera id as the registry takes it, checked before any read.
    if not registry.ID_RE.fullmatch(camera):
        raise InvalidInput("a camera id is 1-64 letters, digits, '_', '.' or '-'")
    return camera


def window_dir(system: System, camera: str) -> Path:
    """The camera's live window: in a recorder pool, the one the holder of its (first)
    lease writes (a pool's nodes on this machine; a node on another machine keeps its
    window there, which this server cannot read: docs/web.md)."""
    check_camera_id(camera)
    node = None
    if system.engine.dialect.name == "postgresql":
        with system.reads() as s:
            node = s.execute(
                text(
                    "SELECT node FROM camera_leases WHERE camera_id = :c AND copy = 0 AND "
                    "node IS NOT NULL AND released IS NULL AND expires_at > now()"
                ),
                {"c": camera},
            ).scalar()
    return system.settings.live_dir(camera, node)


class LiveSessions:
    """The open live sessions of one server process, and the sweeper that ends those
    whose player stopped touching them."""

    def __init__(self, system: System, *, monotonic: Callable[[], float] | None = None) -> None:
        self.system = system
        self._mono = monotonic or time.monotonic
        self._lock = threading.Lock()
        self._open: dict[str, LiveSession] = {}
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def of(self, person: str) -> list[LiveSession]:
        with self._lock:
            return [s for s in self._open.values() if s.person == person]

    def _add(self, session: LiveSession) -> None:
        with self._lock:
            self._open[session.token] = session
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=self._sweep_loop, name="live-sweeper", daemon=True
                )
                self._sweeper.start()

    def _take(self, token: str) -> LiveSession | None:
        with self._lock:
            return self._open.pop(token, None)

    def _get(self, token: str) -> LiveSession | None:
        with self._lock:
            return self._open.get(token)

    def sweep(self) -> list[LiveSession]:
        """End every session untouched for the heartbeat timeout (its end: when it was
        last touched)."""
        now = self.system.clock.now()
        limit = self.system.settings.live_heartbeat_timeout_s
        with self._lock:
            dead = [s for s in self._open.values() if (now - s.seen).total_seconds() > limit]
            for session in dead:
                del self._open[session.token]
        for session in dead:
            _end_leaf(self.system, session, session.seen, "heartbeat stopped")
        return dead

    def _sweep_loop(self) -> None:
        while not self._stop.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:  # the sweeper never dies of one failed append
                log.exception("live sessions: sweep failed")

    def close(self, reason: str = "server stopped") -> None:
        """End every open session now (an orderly server stop)."""
        self._stop.set()
        with self._lock:
            left, self._open = list(self._open.values()), {}
        for session in left:
            _end_leaf(self.system, session, self.system.clock.now(), reason)


def watchable(system: System, actor: Person) -> list[str]:
    """The cameras ``actor`` may watch live (registered, not removed, in scope); raises
    when the role does not allow live view at all."""
    with system.reads() as s:
        scope = authz.visible_cameras(s, actor, ACTION)
        query = select(m.Camera.id).where(m.Camera.removed.is_(None)).order_by(m.Camera.id)
        return [c for c in s.scalars(query) if scope is None or c in scope]


def _decide(system: System, actor: Person, camera: str) -> Person:
    """The person as stored now, allowed ``live.view`` on ``camera`` and trained."""
    with system.reads() as s:
        person = authz.on_cameras(s, actor, ACTION, [camera])
    try:
        check_trained(person, system.packs, _today(system))
    except RuleViolation as exc:
        raise TrainingRefused(
            exc.message.removesuffix(f" ({exc.article})").replace(
                "viewing, copying or retrieving footage", "live monitoring"
            ),
            rule=exc.rule,
            article=exc.article,
        ) from None
    return person


def _refused(
    system: System,
    exc: PermissionDenied | RuleViolation,
    actor: Person,
    camera: str,
    number: int | None = None,
) -> None:
    details = {"camera": camera, "session": number}
    svc.record_refusal(
        system, exc, actors=[actor.id], action=VERB, target=f"camera:{camera}", details=details
    )


def start(system: System, sessions: LiveSessions, actor: Person, camera: str) -> LiveSession:
    """Decide, log (the ``view.live`` leaf, committed), then open a live session."""
    check_camera_id(camera)
    try:
        person = _decide(system, actor, camera)
    except (PermissionDenied, RuleViolation) as exc:
        _refused(system, exc, actor, camera)
        raise
    most = system.settings.live_max_sessions
    if len(sessions.of(person.id)) >= most:
        raise InvalidInput(
            f"user {person.id} already watches {most} live cameras "
            "(OVERSIGHT_LIVE_MAX_SESSIONS): close a tile first"
        )
    now = system.clock.now()
    leaf = svc.access_leaf(
        system,
        actors=[person.id],
        action=VERB,
        target=camera,
        details={"camera": camera, "start": leaves.instant(now)},
    )
    with system.sessions.begin() as s:
        number = system.ledger.append(s, [leaf])[0]
    session = LiveSession(
        secrets.token_urlsafe(18), number, person.id, camera, now, now, sessions._mono()
    )
    sessions._add(session)
    return session


def _end_leaf(system: System, session: LiveSession, end: datetime, reason: str) -> int:
    leaf = svc.access_leaf(
        system,
        actors=[session.person],
        action=f"{VERB}.end",
        target=session.camera,
        details={
            "camera": session.camera,
            "session": session.number,
            "start": leaves.instant(session.started),
            "end": leaves.instant(max(end, session.started)),
            "reason": reason,
        },
    )
    with system.sessions.begin() as s:
        return system.ledger.append(s, [leaf])[0]


def touch(
    system: System, sessions: LiveSessions, actor: Person, token: str, camera: str
) -> LiveSession:
    """The caller's open session on ``camera``, kept alive; its policy decided again
    when due (a refusal ends it with a refused leaf)."""
    check_camera_id(camera)
    session = sessions._get(token)
    if session is None or session.person != actor.id or session.camera != camera:
        raise NotFound(f"no open live session of yours on camera {camera}: start one")
    now = system.clock.now()
    if (now - session.seen).total_seconds() > system.settings.live_heartbeat_timeout_s:
        sessions.sweep()
        raise NotFound(f"the live session on camera {camera} ended: start one")
    if sessions._mono() - session.checked >= RECHECK_S:
        try:
            _decide(system, actor, camera)
        except (PermissionDenied, RuleViolation) as exc:
            if sessions._take(token) is not None:
                _end_leaf(system, session, now, "refused: " + exc.message)
            _refused(system, exc, actor, camera, session.number)
            raise
        session.checked = sessions._mono()
    session.seen = now
    return session


def end(system: System, sessions: LiveSessions, actor: Person, token: str) -> int | None:
    """The operator left: the session's end leaf (None if it had ended already)."""
    session = sessions._get(token)
    if session is None or session.person != actor.id:
        return None
    if sessions._take(token) is None:
        return None
    return _end_leaf(system, session, system.clock.now(), "left")


def next_sequence(text: str) -> int:
    """The media sequence number the part after the newest one in ``text`` will have."""
    found = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d{1,12})$", text, re.MULTILINE)
    first = int(found[1]) if found else 0
    return first + sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def playlist(system: System, session: LiveSession, part_url: Callable[[str], str]) -> str:
    """The camera's live playlist, every URI rewritten by ``part_url`` (a route that
    checks the session); a name that is not a live part is dropped. It says the server
    can block a reload until a given part is listed (``CAN-BLOCK-RELOAD``, RFC 8216bis
    6.2.5.2): the player then learns of each part as it is written, not up to a target
    duration later."""
    path = window_dir(system, session.camera) / PLAYLIST
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise NotFound(f"camera {session.camera} is not live now") from None
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as f:
        age = system.clock.now().timestamp() - os.fstat(f.fileno()).st_mtime
        text = f.read(1 << 16)
    if age > STALE_S:
        raise NotFound(f"camera {session.camera} is not live now (its window is {age:.0f} s old)")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            found = re.search(r'URI="([^"]*)"', line)
            if found is None or not PART_NAME.fullmatch(found[1]):
                continue
            line = f'#EXT-X-MAP:URI="{part_url(found[1])}"'
        elif line and not line.startswith("#"):
            if not PART_NAME.fullmatch(line):
                continue
            line = part_url(line)
        out.append(line)
        if line.startswith("#EXT-X-TARGETDURATION:"):
            out.append("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES")
    if not any(line and not line.startswith("#") for line in out):
        raise NotFound(f"camera {session.camera} is not live yet")
    return "\n".join(out) + "\n"


def read_part(system: System, session: LiveSession, name: str) -> bytes:
    """One part (or the init section) of the session's camera window, by exact name."""
    if not PART_NAME.fullmatch(name):
        raise InvalidInput("a live part is init.mp4 or part-N.m4s")
    path = window_dir(system, session.camera) / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise NotFound(f"live part {name} of camera {session.camera} is gone") from None
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_PART_BYTES)

"""Camera alarms: raised by health and tamper monitoring, deduplicated, cleared,
acknowledged by a person; each step a ``health`` ledger leaf.

:func:`raise_alarm` returns the open alarm of (camera, kind) if there is one (only its
``last_seen`` moves), else records a new one: its row and leaf in one transaction, then
a log line and, when ``OVERSIGHT_ALARM_WEBHOOK_URL`` is set, an HTTP POST of its JSON
from a background thread. The webhook runs after the commit and never delays or fails
the alarm; a failed delivery is logged with the receiver's scheme, host and port only.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain.alarms import KINDS as KINDS
from oversight.domain.alarms import Alarm, check_instant, check_kind
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.services import authz, credentials
from oversight.services.recording import utc

log = logging.getLogger("oversight.alarms")

AlarmRec = Alarm
"""An alarm as services return it (``to_json()`` for scripts, the API and webhooks)."""

# Deliveries in flight: non-daemon threads, so a short-lived process (a CLI command)
# still completes them, each within the configured timeout.
_deliveries: list[threading.Thread] = []
_deliveries_lock = threading.Lock()


def _rec(row: m.Alarm) -> AlarmRec:
    return Alarm(
        id=row.id,
        camera=row.camera_id,
        kind=row.kind,
        detail=row.detail,
        started_at=utc(row.started_at),
        last_seen_at=utc(row.last_seen_at),
        seen=row.seen,
        ended_at=None if row.ended_at is None else utc(row.ended_at),
        acked_by=row.acked_by,
        acked_at=None if row.acked_at is None else utc(row.acked_at),
        ack_note=row.ack_note,
        leaf_index=row.leaf_index,
    )


def _leaf(
    system: System, actor: Person, action: str, alarm_id: int, details: dict[str, Any]
) -> dict[str, Any]:
    return leaves.health(
        at=system.clock.now(),
        actor=actor.id,
        action=action,
        subject=f"alarm:{alarm_id}",
        details={k: v for k, v in details.items() if v is not None},
    )


def _open_row(session: Session, camera: str, kind: str) -> m.Alarm | None:
    return session.scalar(
        select(m.Alarm)
        .where(m.Alarm.camera_id == camera, m.Alarm.kind == kind, m.Alarm.ended_at.is_(None))
        .with_for_update()
    )


def raise_alarm(
    system: System,
    *,
    camera: str,
    kind: str,
    detail: str,
    at: datetime | None = None,
    actor: Person = policy.SYSTEM,
) -> AlarmRec:
    """The open alarm of (camera, kind), seen again; or a new one (row, leaf, log line,
    webhook). The monitor raises as the system principal; a person passes themselves."""
    check_kind(kind)
    text = check_text(detail, "the alarm detail")
    with system.reads() as s:  # the detail may quote ffmpeg, which may echo the URL
        text = credentials.scrub(s, system, text, [camera])
    moment = check_instant(at, "the alarm time") if at is not None else system.clock.now()
    for attempt in range(2):
        try:
            rec, new = _raise(system, actor, camera, kind, text, moment)
            break
        except IntegrityError:
            # Another process opened the same alarm between our look and our insert: the
            # unique index on open alarms refused ours; the retry finds theirs.
            if attempt:
                raise
    if new:
        log.warning(
            "alarm %d raised: camera %s %s since %s: %s",
            rec.id,
            rec.camera,
            rec.kind,
            rec.started_at.isoformat(),
            rec.detail,
        )
        _notify(system, "alarm.raise", rec)
    return rec


def _raise(
    system: System, actor: Person, camera: str, kind: str, detail: str, moment: datetime
) -> tuple[AlarmRec, bool]:
    with system.sessions.begin() as s:
        authz.on_cameras(s, actor, "alarms.raise", [camera])
        row = _open_row(s, camera, kind)
        if row is not None:
            row.last_seen_at = max(utc(row.last_seen_at), moment)
            row.seen += 1
            return _rec(row), False
        row = m.Alarm(
            camera_id=camera,
            kind=kind,
            detail=detail,
            started_at=moment,
            last_seen_at=moment,
            seen=1,
            leaf_index=-1,
        )
        s.add(row)
        s.flush()
        row.leaf_index = system.ledger.append(
            s,
            [
                _leaf(
                    system,
                    actor,
                    "alarm.raise",
                    row.id,
                    {
                        "camera": camera,
                        "kind": kind,
                        "detail": detail,
                        "start": leaves.instant(moment),
                    },
                )
            ],
        )[0]
        return _rec(row), True


def clear_alarm(
    system: System,
    *,
    camera: str,
    kind: str,
    at: datetime | None = None,
    actor: Person = policy.SYSTEM,
) -> AlarmRec | None:
    """Close the open alarm of (camera, kind), if any: its end time and a leaf."""
    check_kind(kind)
    moment = check_instant(at, "the clear time") if at is not None else system.clock.now()
    with system.sessions.begin() as s:
        authz.on_cameras(s, actor, "alarms.raise", [camera])
        row = _open_row(s, camera, kind)
        if row is None:
            return None
        end = max(moment, utc(row.started_at))
        row.ended_at = end
        row.end_leaf = system.ledger.append(
            s,
            [
                _leaf(
                    system,
                    actor,
                    "alarm.clear",
                    row.id,
                    {
                        "camera": camera,
                        "kind": kind,
                        "start": leaves.instant(utc(row.started_at)),
                        "end": leaves.instant(end),
                    },
                )
            ],
        )[0]
        rec = _rec(row)
    log.warning("alarm %d cleared: camera %s %s at %s", rec.id, camera, kind, end.isoformat())
    _notify(system, "alarm.clear", rec)
    return rec


def acknowledge(system: System, actor: Person, alarm_id: int, note: str) -> AlarmRec:
    """A person (operator, custodian or admin) takes note of an alarm, once."""
    text = check_text(note, "the note", required=False)
    with system.sessions.begin() as s:
        row = s.get(m.Alarm, alarm_id, with_for_update=True)
        if row is None:
            raise NotFound(f"alarm {alarm_id} does not exist")
        current = authz.on_cameras(
            s, actor, "alarms.ack", [row.camera_id], kind="alarm", id=alarm_id
        )
        if row.acked_by is not None:
            raise InvalidInput(f"alarm {alarm_id} was acknowledged already by {row.acked_by}")
        now = system.clock.now()
        row.acked_by, row.acked_at, row.ack_note = current.id, now, text
        row.ack_leaf = system.ledger.append(
            s,
            [
                _leaf(
                    system,
                    current,
                    "alarm.ack",
                    row.id,
                    {"camera": row.camera_id, "kind": row.kind, "note": text},
                )
            ],
        )[0]
        return _rec(row)


def get_alarm(system: System, actor: Person, alarm_id: int) -> AlarmRec:
    with system.reads() as s:
        row = s.get(m.Alarm, alarm_id)
        if row is None:
            raise NotFound(f"alarm {alarm_id} does not exist")
        authz.on_cameras(s, actor, "recordings.read", [row.camera_id], kind="alarm", id=alarm_id)
        return _rec(row)


def list_alarms(
    system: System, actor: Person, *, open_only: bool = False, camera: str | None = None
) -> list[AlarmRec]:
    """Newest first; a scoped person sees their cameras' alarms only."""
    query = select(m.Alarm).order_by(m.Alarm.id.desc())
    if open_only:
        query = query.where(m.Alarm.ended_at.is_(None))
    if camera is not None:
        query = query.where(m.Alarm.camera_id == camera)
    with system.reads() as s:
        cameras = authz.visible_cameras(s, actor, "recordings.read")
        if cameras is not None:
            query = query.where(m.Alarm.camera_id.in_(sorted(cameras)))
        return [_rec(r) for r in s.scalars(query)]


def open_at(system: System, moment: datetime) -> list[AlarmRec]:
    """Alarms that were open at ``moment`` (for compliance as of a day)."""
    query = select(m.Alarm).where(
        m.Alarm.started_at <= moment,
        (m.Alarm.ended_at.is_(None)) | (m.Alarm.ended_at > moment),
    )
    with system.reads() as s:
        return [_rec(r) for r in s.scalars(query.order_by(m.Alarm.id))]


# ---- webhook ----------------------------------------------------------------------------


def _receiver(url: str) -> str:
    """What a log line may say about the receiver: scheme, host and port only."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def payload(event: str, rec: AlarmRec) -> bytes:
    return json.dumps({"event": event, **rec.to_json()}, ensure_ascii=False).encode()


def _notify(system: System, event: str, rec: AlarmRec) -> None:
    url = system.settings.alarm_webhook_url
    if not url:
        return
    thread = threading.Thread(
        target=deliver,
        args=(url, payload(event, rec), system.settings.alarm_webhook_timeout_s),
        name=f"alarm-webhook-{rec.id}",
        daemon=False,
    )
    with _deliveries_lock:
        _deliveries[:] = [t for t in _deliveries if t.is_alive()]
        _deliveries.append(thread)
    thread.start()


def deliver(url: str, body: bytes, timeout: float) -> bool:
    """POST ``body`` to ``url``; True on a 2xx answer. Never raises: failures are logged."""
    headers = {"Content-Type": "application/json", "User-Agent": "oversight-alarms/1"}
    parts = urlsplit(url)
    if parts.username is not None:
        # user:password@ in the URL becomes HTTP Basic authentication.
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    request = urllib.request.Request(  # noqa: S310 - the setting only admits http(s)
        url, data=body, method="POST", headers=headers
    )
    where = _receiver(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        log.warning("alarm webhook to %s failed: HTTP %d", where, exc.code)
        return False
    except urllib.error.URLError as exc:
        log.warning("alarm webhook to %s failed: %s", where, _reason(exc.reason))
        return False
    except (OSError, http.client.HTTPException, ValueError) as exc:
        log.warning("alarm webhook to %s failed: %s", where, _reason(exc))
        return False
    if not 200 <= status < 300:
        log.warning("alarm webhook to %s failed: HTTP %d", where, status)
        return False
    log.info("alarm webhook to %s delivered (HTTP %d)", where, status)
    return True


def _reason(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__ if isinstance(exc, BaseException) else str(exc)[:200]


def wait_for_deliveries(timeout: float | None = None) -> None:
    """Wait for webhook deliveries in flight (tests; a process about to exit)."""
    with _deliveries_lock:
        pending = list(_deliveries)
    for thread in pending:
        thread.join(timeout)

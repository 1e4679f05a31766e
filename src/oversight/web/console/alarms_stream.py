"""The alarm banner's feed: ``GET /events/alarms``, server-sent events (issue 22, item 4).

Every console page opens one stream (``static/alarms.js``). Bounded: one stream per
session (a session's newer stream, i.e. its next page, ends the older one), at most
``OVERSIGHT_ALARM_STREAM_MAX`` streams per server process (one more is a 429), a
``: keep-alive`` comment line after ``OVERSIGHT_ALARM_STREAM_KEEPALIVE_S`` of silence,
and an end after ``OVERSIGHT_ALARM_STREAM_MAX_AGE_S`` (the browser reconnects at once).
Every ``OVERSIGHT_ALARM_STREAM_POLL_S`` the stream resolves its session again (a logout,
expiry or revocation ends it) and asks the policy again (``recordings.read``, whose
scope :func:`alarms.list_alarms` applies): a person sees only their cameras' alarms, and
nothing is sent that the policy would not show them on the Health page right now.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.errors import AuthenticationError, OversightError
from oversight.services import alarms, auth
from oversight.web import i18n
from oversight.web.render import language, local_time

router = APIRouter(include_in_schema=False)
READ = "recordings.read"


@dataclass
class Streams:
    """The open streams of one app: session digest -> the event that ends its stream."""

    limit: int
    open: dict[str, asyncio.Event] = field(default_factory=dict)

    def take(self, session: str) -> asyncio.Event | None:
        """A slot for ``session`` (ending its older stream), or None when all are taken."""
        older = self.open.pop(session, None)
        if older is not None:
            older.set()
        elif len(self.open) >= self.limit:
            return None
        ended = asyncio.Event()
        self.open[session] = ended
        return ended

    def give_back(self, session: str, ended: asyncio.Event) -> None:
        if self.open.get(session) is ended:
            del self.open[session]


def streams(request: Request) -> Streams:
    state = request.app.state
    found = getattr(state, "alarm_streams", None)
    if not isinstance(found, Streams):
        system: System = state.system
        found = Streams(system.settings.alarm_stream_max)
        state.alarm_streams = found
    return found


def snapshot(system: System, person: Person, lang: str) -> dict[str, Any]:
    """What the banner shows ``person``: the open alarms they may see, the newest one."""
    shown = alarms.list_alarms(system, person, open_only=True)  # newest first, in scope

    def t(key: str, **kw: Any) -> str:
        return i18n.translate(lang, key, **kw)

    newest = None
    if shown:
        a = shown[0]
        newest = {
            "id": a.id,
            "camera": a.camera,
            "kind": a.kind,
            "text": t(
                "alarms.newest",
                camera=a.camera,
                kind=t(f"alarm.{a.kind}"),
                since=local_time(system, a.started_at),
            ),
            "acked": a.acked_by is not None,
        }
    return {
        "count": len(shown),
        "text": t("alarms.count", n=len(shown)),
        "newest": newest,
        "may_ack": policy.may_take(person, "alarms.ack"),
    }


def _event(data: dict[str, Any]) -> bytes:
    return f"event: alarms\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _current(system: System, token: str) -> Person | None:
    """The session's person now, or None when the session has ended."""
    try:
        person = auth.resolve(system, token).person
    except AuthenticationError:
        return None
    return person if policy.may_take(person, READ) else None


async def _feed(
    system: System, token: str, lang: str, ended: asyncio.Event, release: Callable[[], None]
) -> AsyncIterator[bytes]:
    settings = system.settings
    last: dict[str, Any] | None = None
    quiet = 0.0
    ends_at = asyncio.get_running_loop().time() + settings.alarm_stream_max_age_s
    try:
        # A stream that ends is reopened by the browser after this many milliseconds.
        yield b"retry: 500\n\n"
        while not ended.is_set() and asyncio.get_running_loop().time() < ends_at:
            person = await run_in_threadpool(_current, system, token)
            if person is None:
                yield b"event: ended\ndata: {}\n\n"
                return
            try:
                now = await run_in_threadpool(snapshot, system, person, lang)
            except OversightError:
                return  # the policy said no (e.g. scope changed): say nothing more
            if now != last:
                last, quiet = now, 0.0
                yield _event(now)
            elif quiet >= settings.alarm_stream_keepalive_s:
                quiet = 0.0
                yield b": keep-alive\n\n"
            try:
                await asyncio.wait_for(ended.wait(), settings.alarm_stream_poll_s)
            except TimeoutError:
                quiet += settings.alarm_stream_poll_s
        if ended.is_set():
            # A newer stream of this session took over: this page should not reconnect
            # (two tabs would take it from each other) until it is looked at again.
            yield b"event: replaced\ndata: {}\n\n"
    finally:
        release()


@router.get("/events/alarms")
async def alarm_events(
    request: Request, caller: Annotated[Caller, Depends(need(READ))]
) -> Response:
    slots = streams(request)
    session = auth.token_digest(caller.token)
    ended = slots.take(session)
    if ended is None:
        return Response(
            f"too many alarm streams are open (OVERSIGHT_ALARM_STREAM_MAX="
            f"{slots.limit}): try again later\n",
            status_code=429,
            media_type="text/plain",
            headers={"Retry-After": "10"},
        )
    return StreamingResponse(
        _feed(
            caller.system,
            caller.token,
            language(request),
            ended,
            lambda: slots.give_back(session, ended),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

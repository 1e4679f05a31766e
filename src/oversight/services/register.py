"""The register as people read it (issue 22, item 7): the entries of ``services.audit``
folded into lines. A camera-hour of sealed segments is one line (count, bytes, leaf
range); the fetches of one playback session (same grant, same people, one after the
other) are one line with the footage viewed; every other entry is its own line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.errors import InvalidInput
from oversight.ledger import leaves
from oversight.services import audit

# The actions of a playback: the parts fetched and the probes of their codec and cuts.
SESSION_ACTIONS = ("view", "view.probe")


@dataclass(frozen=True)
class Single:
    entry: audit.Entry
    kind: Literal["entry"] = "entry"

    @property
    def newest(self) -> int:
        return self.entry.leaf_index


@dataclass
class Seals:
    """The segments of one camera sealed in one local hour (of their start)."""

    camera: str
    hour: datetime  # local start of the hour
    count: int = 0
    size: int = 0
    first: int = 0  # the lowest leaf index
    last: int = 0  # the highest
    kind: Literal["seals"] = "seals"

    @property
    def newest(self) -> int:
        return self.last

    @property
    def hour_end(self) -> datetime:
        return self.hour + timedelta(hours=1)

    def add(self, entry: audit.Entry) -> None:
        self.count += 1
        self.size += int(entry.details.get("bytes", 0))
        self.first = entry.leaf_index
        self.last = self.last or entry.leaf_index


@dataclass
class Session:
    """The fetches of one grant by the same people, no more than a gap apart."""

    actors: tuple[str, ...]
    grant: str
    request: str
    started: datetime
    ended: datetime
    cameras: list[str] = field(default_factory=list)
    viewed_start: datetime | None = None
    viewed_end: datetime | None = None
    fetches: int = 0
    first: int = 0
    last: int = 0
    purpose: str = ""
    kind: Literal["session"] = "session"

    @property
    def newest(self) -> int:
        return self.last

    def add(self, entry: audit.Entry) -> None:
        """Take one fetch (entries arrive newest first)."""
        self.fetches += 1
        self.started = entry.at
        self.first = entry.leaf_index
        self.last = self.last or entry.leaf_index
        self.request = self.request or entry.request
        for camera in entry.cameras:
            if camera not in self.cameras:
                self.cameras.append(camera)
        for span in _spans(entry.details):
            start, end = leaves.parse_instant(span["start"]), leaves.parse_instant(span["end"])
            self.viewed_start = min(start, self.viewed_start or start)
            self.viewed_end = max(end, self.viewed_end or end)


def _spans(details: dict[str, Any]) -> list[dict[str, str]]:
    """The footage a fetch handed over; a leaf from before ``viewed`` was written
    names only the range asked for (``uses``)."""
    spans = details.get("viewed") or details.get("uses") or []
    return [s for s in spans if isinstance(s, dict) and "start" in s and "end" in s]


Row = Single | Seals | Session


@dataclass(frozen=True)
class Page:
    rows: list[Row]  # newest first
    older: int | None  # ``before`` of the next older page; None: nothing older
    read: int  # ledger leaves read for this page


@dataclass
class _Folder:
    limit: int
    zone: tzinfo
    gap: timedelta
    fold: bool
    rows: list[Row] = field(default_factory=list)
    seals: dict[tuple[str, datetime], Seals] = field(default_factory=dict)
    sessions: dict[tuple[str, tuple[str, ...]], Session] = field(default_factory=dict)

    def take(self, entry: audit.Entry) -> bool:
        """Fold ``entry`` in; False when it needs a new line and the page is full."""
        if self.fold and entry.action == "record":
            return self._seal(entry)
        if self.fold and entry.action in SESSION_ACTIONS and entry.grant:
            return self._fetch(entry)
        return self._new(Single(entry))

    def _new(self, row: Row) -> bool:
        if len(self.rows) >= self.limit:
            return False
        self.rows.append(row)
        return True

    def _seal(self, entry: audit.Entry) -> bool:
        start = leaves.parse_instant(entry.details["start"]).astimezone(self.zone)
        key = (entry.cameras[0], start.replace(minute=0, second=0, microsecond=0))
        row = self.seals.get(key)
        if row is None:
            row = Seals(*key)
            if not self._new(row):
                return False
            self.seals[key] = row
        row.add(entry)
        return True

    def _fetch(self, entry: audit.Entry) -> bool:
        key = (entry.grant, entry.actors)
        row = self.sessions.get(key)
        if row is None or row.started - entry.at > self.gap:
            row = Session(entry.actors, entry.grant, entry.request, entry.at, entry.at)
            row.purpose = entry.purpose
            if not self._new(row):
                return False
            self.sessions[key] = row
        row.add(entry)
        return True


def page(
    system: System,
    actor: Person,
    query: audit.Query,
    *,
    limit: int,
    before: int | None = None,
    fold: bool = True,
) -> Page:
    """The newest ``limit`` lines of the register that match ``query``, below leaf
    ``before``. Reads at most ``register_scan_leaves`` leaves: a filter that matches
    rarely shows what those held, and ``older`` goes on from there."""
    if not 1 <= limit <= audit.MAX_PAGE:
        raise InvalidInput(f"the page size must be between 1 and {audit.MAX_PAGE}")
    settings = system.settings
    folder = _Folder(
        limit, system.packs.timezone, timedelta(seconds=settings.register_session_gap_s), fold
    )
    with system.reads() as s:
        walk = audit.scan(s, actor, query, before)
        for chunk in walk.chunks():
            for entry in chunk:
                if not folder.take(entry):
                    # The line that did not fit starts the next page (``before`` is
                    # exclusive); lines begun here may go on there.
                    return Page(folder.rows, entry.leaf_index + 1, walk.read)
            if walk.read >= settings.register_scan_leaves:
                return Page(folder.rows, walk.lowest, walk.read)
    return Page(folder.rows, None, walk.read)

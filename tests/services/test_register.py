"""The Art. 14(3) register of a period is read through ``register_times`` (one index
range, migration 0014) and agrees exactly with filtering a full read of the ledger."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.db import models as m
from oversight.errors import InvalidInput
from oversight.services import audit
from oversight.services.sealing import seal_file
from tests.actors import admin
from tests.recorder.helpers import add_camera

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sealed(system: bootstrap.System, tmp_path: Path) -> bootstrap.System:
    add_camera(system, "cam1", "rtsp://10.0.0.9/live")
    add_camera(system, "cam2", "rtsp://10.0.0.10/live")
    clock = FixedClock(T0)
    system = dataclasses.replace(system, clock=clock)  # System is frozen
    for i in range(12):
        clock.set(T0 + timedelta(hours=i, microseconds=i))
        f = tmp_path / f"{i}.mp4"
        f.write_bytes(b"segment %d" % i)
        start = T0 + timedelta(minutes=i)
        seal_file(
            system, camera=f"cam{1 + i % 2}", path=f, start=start, end=start + timedelta(minutes=1)
        )
    return system


def test_a_period_of_the_register_agrees_with_a_full_read(sealed: bootstrap.System) -> None:
    every = audit.log(sealed, admin(sealed))
    assert len(every) == 12 and all(e.action == "record" for e in every)
    hour = timedelta(hours=1)
    periods = [
        (T0, T0 + hour),
        (T0 + 2 * hour, T0 + 5 * hour),
        (T0 + 5 * hour, T0 + 5 * hour + timedelta(microseconds=5)),  # just before the 6th
        (T0 + 5 * hour + timedelta(microseconds=5), T0 + 6 * hour),  # exactly the 6th
        (T0 - 24 * hour, T0 + 48 * hour),
        (T0 + 11 * hour + timedelta(microseconds=12), None),
        (None, T0 + 3 * hour),
        (T0 + 7 * hour, None),
    ]
    for start, end in periods:
        want = [
            e for e in every if (start is None or e.at >= start) and (end is None or e.at < end)
        ]
        assert audit.log(sealed, admin(sealed), start=start, end=end) == want, (start, end)
        both = audit.log(sealed, admin(sealed), camera="cam2", start=start, end=end)
        assert both == [e for e in want if e.cameras == ("cam2",)]
    with sealed.reads() as s:
        stored = {
            (int(i), at) for i, at in s.execute(select(m.RegisterTime.idx, m.RegisterTime.at))
        }
    assert stored == {(e.leaf_index, e.at) for e in every}


def test_a_register_leaf_without_a_valid_time_writes_nothing(system: bootstrap.System) -> None:
    leaf = {"v": 1, "type": "access", "at": "yesterday", "actors": ["a"], "action": "view"}
    with system.sessions() as s:
        before = system.ledger.size(s)
    with pytest.raises(InvalidInput, match="not RFC 3339 UTC"), system.sessions.begin() as s:
        system.ledger.append(s, [leaf])
    with system.sessions() as s:
        assert system.ledger.size(s) == before
        assert s.scalars(select(m.RegisterTime)).all() == []


def test_a_stray_time_row_does_not_turn_another_leaf_into_an_entry(
    sealed: bootstrap.System,
) -> None:
    with sealed.sessions.begin() as s:
        registry_leaf = next(
            leaf.index for leaf in sealed.ledger.leaves(s) if leaf.kind == "registry"
        )
        s.add(m.RegisterTime(idx=registry_leaf, at=T0 + timedelta(minutes=30)))
    within = audit.log(sealed, admin(sealed), start=T0, end=T0 + timedelta(hours=1))
    assert [e.leaf_index for e in within] == [
        e.leaf_index for e in audit.log(sealed, admin(sealed))
    ][:1]


def _with_views(system: bootstrap.System) -> list[audit.Entry]:
    """Interleave three viewings (by two people, of cam1) with the twelve recordings."""
    from oversight.services.access import access_leaf

    for i, who in enumerate(("ann", "bob", "ann")):
        leaf = access_leaf(
            system,
            actors=[who],
            action="view",
            target=f"segment:{i}",
            purpose="review",
            details={"cameras": ["cam1"]},
        )
        with system.sessions.begin() as s:
            system.ledger.append(s, [leaf])
    return audit.log(system, admin(system))


def _walk(system: bootstrap.System, limit: int, **filters: object) -> list[audit.Entry]:
    """Every page from the newest back, put together oldest first."""
    pages: list[list[audit.Entry]] = []
    before: int | None = None
    while True:
        found = audit.page(system, admin(system), limit=limit, before=before, **filters)  # type: ignore[arg-type]
        assert len(found.entries) <= limit
        pages.insert(0, found.entries)
        if found.older is None:
            return [e for p in pages for e in p]
        assert len(found.entries) == limit  # only a full page can have older entries
        before = found.older


@pytest.mark.parametrize("chunk", [2, 500])
def test_pages_from_the_newest_back_are_exactly_the_whole_register(
    sealed: bootstrap.System, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    every = _with_views(sealed)
    monkeypatch.setattr(audit, "_CHUNK", chunk)  # 2: a page spans several chunks
    hour = timedelta(hours=1)
    cases: list[dict[str, object]] = [
        {},
        {"camera": "cam2"},
        {"person": "ann"},
        {"person": "nobody"},
        {"start": T0 + 2 * hour, "end": T0 + 7 * hour},
        {"camera": "cam1", "start": T0 + 3 * hour},
    ]
    for filters in cases:
        want = audit.log(sealed, admin(sealed), **filters)  # type: ignore[arg-type]
        for limit in (1, 2, 3, 5, len(every), len(every) + 1):
            assert _walk(sealed, limit, **filters) == want, (filters, limit)
    newest = audit.page(sealed, admin(sealed), limit=4)
    assert newest.entries == every[-4:] and newest.older == every[-4].leaf_index
    assert audit.page(sealed, admin(sealed), limit=4, before=every[0].leaf_index).entries == []


def test_a_page_reads_only_as_far_back_as_it_needs(
    sealed: bootstrap.System, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_views(sealed)
    monkeypatch.setattr(audit, "_CHUNK", 2)
    decoded: list[int] = []
    real = audit._entry

    def counting(index: int, leaf: dict[str, object], requests: dict[str, str]) -> audit.Entry:
        decoded.append(index)
        return real(index, leaf, requests)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "_entry", counting)
    audit.page(sealed, admin(sealed), limit=3)
    assert len(decoded) == 4  # two chunks of two: the page and one more to know of older
    decoded.clear()
    audit.log(sealed, admin(sealed))
    assert len(decoded) == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"limit": 0}, "page size"),
        ({"limit": audit.MAX_PAGE + 1}, "page size"),
        ({"limit": 5, "before": -1}, "leaf index"),
        ({"limit": 5, "before": 2**63}, "leaf index"),
        ({"limit": 5, "start": T0, "end": T0}, "after"),
    ],
)
def test_bad_page_requests_are_refused(
    system: bootstrap.System, args: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        audit.page(system, admin(system), **args)  # type: ignore[arg-type]

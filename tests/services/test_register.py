"""The Art. 14(3) register of a period is read through ``register_times`` (one index
range, migration 0014) and agrees exactly with filtering a full read of the ledger."""

from __future__ import annotations

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
from tests.recorder.helpers import add_camera

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def sealed(system: bootstrap.System, tmp_path: Path) -> bootstrap.System:
    add_camera(system, "cam1", "rtsp://10.0.0.9/live")
    add_camera(system, "cam2", "rtsp://10.0.0.10/live")
    clock = FixedClock(T0)
    system.clock = clock
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
    every = audit.log(sealed)
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
        assert audit.log(sealed, start=start, end=end) == want, (start, end)
        both = audit.log(sealed, camera="cam2", start=start, end=end)
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
    within = audit.log(sealed, start=T0, end=T0 + timedelta(hours=1))
    assert [e.leaf_index for e in within] == [e.leaf_index for e in audit.log(sealed)][:1]

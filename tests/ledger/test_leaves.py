"""Canonical leaf bytes: RFC 8785 for strings and integers, nothing else admitted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oversight.errors import InvalidInput
from oversight.ledger import leaves

AT = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    data = leaves.canonical({"b": 1, "a": 'é\n"', "c": {"z": [2, "x"], "y": -3}})
    assert data == '{"a":"é\\n\\"","b":1,"c":{"y":-3,"z":[2,"x"]}}'.encode()


def test_rfc8785_control_characters_use_lowercase_u_escapes() -> None:
    assert leaves.canonical({"k": "\x1f\x00\t"}) == b'{"k":"\\u001f\\u0000\\t"}'


@pytest.mark.parametrize("bad", [1.5, True, None, 2**53, b"x", {1: "a"}])
def test_only_strings_and_safe_integers(bad: object) -> None:
    with pytest.raises(InvalidInput):
        leaves.canonical({"k": bad})


def test_timestamps_are_utc_with_z() -> None:
    east8 = timezone(timedelta(hours=8))
    assert leaves.instant(AT.astimezone(east8)) == "2026-11-28T12:00:00.123456Z"
    with pytest.raises(InvalidInput):
        leaves.instant(datetime(2026, 1, 1))


def test_leaf_builders_and_decode_round_trip() -> None:
    built = [
        leaves.registry(
            at=AT, actor="alice", action="camera.add", subject="camera:c1", changes={"site": "s1"}
        ),
        leaves.segment_sealed(
            at=AT,
            camera="c1",
            seq=0,
            prev_sha256="",
            start=AT,
            end=AT,
            clock_offset_ms=-3,
            size=10,
            sha256="ab" * 32,
            storage_key="k",
        ),
        leaves.segment_deleted(
            at=AT, segment="c1/0", sha256="ab" * 32, reason="expired", rule="retention_standard"
        ),
        leaves.gap(at=AT, camera="c1", start=AT, end=AT, reason="ffmpeg exited"),
        leaves.access(
            at=AT,
            actors=["a", "b"],
            action="view",
            target="c1",
            purpose="case 7",
            destination="screen",
            grant="g1",
        ),
    ]
    for leaf in built:
        assert leaves.decode(leaves.canonical(leaf)) == leaf
    with pytest.raises(InvalidInput, match="not canonical"):
        leaves.decode(b'{"v":1, "type":"gap"}')
    with pytest.raises(InvalidInput, match="v1 ledger leaf"):
        leaves.decode(b'{"type":"other","v":1}')


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.integers(-(2**53) + 1, 2**53 - 1))))
def test_canonical_is_stable_under_key_order(obj: dict[str, object]) -> None:
    reordered = dict(reversed(list(obj.items())))
    assert leaves.canonical(obj) == leaves.canonical(reordered)


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)
_values = st.recursive(
    st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_text, _values, max_size=6))
def test_canonical_bytes_equal_the_reference_jcs_encoding(obj: dict[str, object]) -> None:
    # For strings and integers, RFC 8785 is sorted keys, no whitespace, UTF-8 and the
    # standard library's minimal escapes; the fast encoder must agree byte for byte.
    reference = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert leaves.canonical(obj) == reference.encode()

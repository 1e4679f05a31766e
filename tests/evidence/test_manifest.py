"""Manifest canonical bytes (RFC 8785 for our value types), schema and signature text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oversight.errors import InvalidInput
from oversight.evidence import manifest as mf


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ({"b": 1, "a": [True, False, None]}, '{"a":[true,false,null],"b":1}'),
        ({"é": "ü", "e": "\u2028"}, '{"e":"\u2028","é":"ü"}'),
        ({"s": 'q"\\\n\t\x01'}, '{"s":"q\\"\\\\\\n\\t\\u0001"}'),
        ({"n": -(2**53 - 1)}, '{"n":-9007199254740991}'),
        # JCS sorts by UTF-16 code units: U+FF5E (one unit) after U+1F600 (0xD83D...).
        ({"\uff5e": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\uff5e":1}'),
        ([], "[]"),
    ],
)
def test_canonical_table(value: Any, want: str) -> None:
    assert mf.canonical(value) == want.encode()


@pytest.mark.parametrize(
    "value", [{"f": 1.5}, {"n": 2**53}, {1: "x"}, {"b": b"x"}, {"s": "\ud800"}]
)
def test_canonical_refuses(value: Any) -> None:
    with pytest.raises(InvalidInput):
        mf.canonical(value)


def _minimal() -> dict[str, Any]:
    sha = "ab" * 32
    t = "2024-05-01T08:00:00.000000Z"
    t2 = "2024-05-01T08:00:06.000000Z"
    return {
        "format": "oversight-evidence/1",
        "created_at": t,
        "released_by": "Acme",
        "request": "R1",
        "grant": "G1",
        "kind": "copy",
        "purpose": "investigation",
        "destination": "county police",
        "requester": {"name": "Li", "organisation": "PSB", "org_class": "police"},
        "executed_by": ["u1", "u2"],
        "scope": {"cameras": ["cam1"], "start": t, "end": t2},
        "clips": [
            {
                "file": "clips/cam1.mp4",
                "sha256": sha,
                "bytes": 10,
                "camera": "cam1",
                "start": t,
                "end": t2,
                "watermark": False,
                "masks": False,
                "source_segments": ["cam1/k.mp4"],
            }
        ],
        "source_segments": [
            {
                "camera": "cam1",
                "seq": 1,
                "storage_key": "cam1/k.mp4",
                "sha256": sha,
                "bytes": 10,
                "start": t,
                "end": t2,
                "leaf_index": 3,
                "proof": "proofs/3.tlog-proof",
                "file": None,
            }
        ],
        "audit": [],
        "readme": {"file": "README.txt", "sha256": sha, "bytes": 5},
        "ledger": {
            "origin": "example.org/log",
            "tree_size": 4,
            "root_hash": "A" * 43 + "=",
            "checkpoint": "checkpoint.txt",
            "verifier_key": "example.org/log+01234567+AQ==",
            "verifier_key_file": "verifier-key.txt",
        },
    }


def test_a_canonical_manifest_loads_and_dumps_to_the_same_bytes() -> None:
    data = mf.canonical(_minimal())
    assert mf.dump(mf.load(data)) == data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(format="oversight-evidence/2"), "format"),
        (lambda d: d["clips"][0].update(file="../etc/passwd"), "clips.0.file"),
        (lambda d: d["clips"][0].update(file="clips/../x"), "clips.0.file"),
        (lambda d: d["source_segments"][0].update(proof="proofs/03.tlog-proof"), "proof"),
        (lambda d: d["clips"][0].update(bytes=True), "clips.0.bytes"),
        (lambda d: d["clips"][0].update(watermark=1), "watermark"),
        (lambda d: d["scope"].update(start="2024-05-01 08:00:00"), "scope.start"),
        (lambda d: d.update(clips=[]), "clips"),
    ],
)
def test_schema_refuses(mutate: Any, message: str) -> None:
    obj = _minimal()
    mutate(obj)
    with pytest.raises(InvalidInput, match=message):
        mf.load(mf.canonical(obj))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (json.dumps(_minimal()).encode(), "canonical"),
        (b"\xff", "UTF-8"),
        (b"{", "not JSON"),
        (b'{"a":1,"a":1}', "duplicate"),
        (b'{"a":1.0}', "floats"),
    ],
)
def test_load_refuses(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        mf.load(data)


def test_signature_text_round_trip_and_is_never_a_checkpoint() -> None:
    body = mf.signature_body("0f" * 32)
    assert body == "oversight.evidence.manifest/v1\nsha256 " + "0f" * 32 + "\n"
    assert mf.signed_sha256(body) == "0f" * 32
    assert not body.split("\n")[1].isdigit()  # a checkpoint's second line is its size
    with pytest.raises(InvalidInput):
        mf.signed_sha256(body + "extra\n")

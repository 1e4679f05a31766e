"""RFC 9162 hashing, proofs and verifiers: reference probes, known answers, properties."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import merkle
from oversight.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_getter,
    node_hash,
    root_hash,
    subtree_hashes_to_store,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

# --- reference probes (transparency-dev/merkle testdata, see ../shared/vectors/merkle) ---


def _vectors_dir() -> Path:
    """``$OVERSIGHT_VECTORS_DIR`` or ``tests/assets`` (a copy of ../shared/vectors);
    holds ``merkle/``."""
    env = os.environ.get("OVERSIGHT_VECTORS_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[1] / "assets"
    return base / "merkle"


def _probes(kind: str) -> list[Any]:
    root = _vectors_dir() / kind
    files = sorted(root.rglob("*.json"))
    if not files:
        # A missing vector directory must fail the run, not silently skip it.
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [pytest.param(f, id=f.relative_to(root).as_posix()) for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value is not None else b""


def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        pytest.fail(f"Merkle test vectors not found under {_vectors_dir()}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _outcome(check: Callable[[], None]) -> ProofError | None:
    try:
        check()
    except ProofError as exc:
        return exc
    return None


# Probes where we are deliberately stricter than the reference verifier. Key: path
# relative to vectors/merkle; value: why. The test asserts we reject them.
STRICTER_THAN_REFERENCE: dict[str, str] = {}


def _relative(path: Path) -> str:
    return path.relative_to(_vectors_dir()).as_posix()


@pytest.mark.parametrize("path", _probes("inclusion"))
def test_inclusion_probe_agrees_with_reference(path: Path | None) -> None:
    probe = _load(path)
    err = _outcome(
        lambda: verify_inclusion(
            probe["leafIdx"],
            probe["treeSize"],
            _b64(probe["leafHash"]),
            [_b64(p) for p in probe["proof"] or []],
            _b64(probe["root"]),
        )
    )
    assert (err is not None) == probe["wantErr"], f"{probe['desc']}: {err}"


@pytest.mark.parametrize("path", _probes("consistency"))
def test_consistency_probe_agrees_with_reference(path: Path | None) -> None:
    probe = _load(path)
    err = _outcome(
        lambda: verify_consistency(
            probe["size1"],
            probe["size2"],
            _b64(probe["root1"]),
            _b64(probe["root2"]),
            [_b64(p) for p in probe["proof"] or []],
        )
    )
    assert path is not None
    if _relative(path) in STRICTER_THAN_REFERENCE:
        assert not probe["wantErr"] and err is not None and "32" in str(err)
        return
    assert (err is not None) == probe["wantErr"], f"{probe['desc']}: {err}"


def test_probe_counts() -> None:
    # 98 + 98 probes at the pinned commit; guards against a partial copy.
    assert len(list((_vectors_dir() / "inclusion").rglob("*.json"))) >= 98
    assert len(list((_vectors_dir() / "consistency").rglob("*.json"))) >= 98


# --- known answers: the RFC 6962 test leaves behind the reference happy paths -------------

RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
RFC6962_HASHES = [leaf_hash(x) for x in RFC6962_LEAVES]


def test_hash_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(RFC6962_ROOTS))
def test_known_roots(size: int) -> None:
    assert root_hash(RFC6962_HASHES[:size]).hex() == RFC6962_ROOTS[size]


def _happy_paths(kind: str) -> list[Any]:
    return [p for p in _probes(kind) if p.id.endswith("happy-path.json") or p.values[0] is None]


@pytest.mark.parametrize("path", _happy_paths("inclusion"))
def test_generated_inclusion_proof_matches_reference(path: Path | None) -> None:
    probe = _load(path)
    index, size = probe["leafIdx"], probe["treeSize"]
    assert _b64(probe["leafHash"]) == RFC6962_HASHES[index]
    want = [_b64(p) for p in probe["proof"] or []]
    assert inclusion_proof(index, size, RFC6962_HASHES) == want


@pytest.mark.parametrize("path", _happy_paths("consistency"))
def test_generated_consistency_proof_matches_reference(path: Path | None) -> None:
    probe = _load(path)
    size1, size2 = probe["size1"], probe["size2"]
    want = [_b64(p) for p in probe["proof"] or []]
    assert consistency_proof(size1, size2, RFC6962_HASHES) == want


# --- the classic mistakes ------------------------------------------------------------------


def _tree(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_right_edge_leaf_is_carried_up() -> None:
    # Leaf 6 of 7 has no right sibling at levels 0 and 1: its proof is one element.
    leaves = _tree(7)
    proof = inclusion_proof(6, 7, leaves)
    assert proof == [root_hash(leaves[4:6]), root_hash(leaves[:4])]
    verify_inclusion(6, 7, leaves[6], proof, root_hash(leaves))
    # Leaf 4 of 5 likewise: the proof is just the left 4-subtree.
    leaves5 = _tree(5)
    assert inclusion_proof(4, 5, leaves5) == [root_hash(leaves5[:4])]
    verify_inclusion(4, 5, leaves5[4], [root_hash(leaves5[:4])], root_hash(leaves5))


def test_inclusion_extra_or_missing_elements_fail() -> None:
    leaves = _tree(6)
    root = root_hash(leaves)
    proof = inclusion_proof(2, 6, leaves)
    for bad in (proof[:-1], [*proof, proof[-1]], [root, *proof], [*proof, root], []):
        with pytest.raises(ProofError):
            verify_inclusion(2, 6, leaves[2], bad, root)


def test_inclusion_single_leaf_tree() -> None:
    leaf = leaf_hash(b"only")
    verify_inclusion(0, 1, leaf, [], leaf)
    with pytest.raises(ProofError, match="more elements"):
        verify_inclusion(0, 1, leaf, [leaf], leaf)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (5, 3), (-1, 4)])
def test_inclusion_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(index, size, b"\x00" * 32, [], b"\x00" * 32)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_non_32_byte_hashes_rejected(length: int) -> None:
    leaves = _tree(4)
    root = root_hash(leaves)
    proof = inclusion_proof(1, 4, leaves)
    bad = b"\x01" * length
    for args in (
        (1, 4, bad, proof, root),
        (1, 4, leaves[1], proof, bad),
        (1, 4, leaves[1], [proof[0], bad], root),
    ):
        with pytest.raises(ProofError, match="bytes, want 32"):
            verify_inclusion(*args)
    cproof = consistency_proof(3, 4, leaves)
    root3 = root_hash(leaves[:3])
    with pytest.raises(ProofError, match="bytes, want 32"):
        verify_consistency(3, 4, bad, root, cproof)
    with pytest.raises(ProofError, match="bytes, want 32"):
        verify_consistency(3, 4, root3, bad, cproof)
    with pytest.raises(ProofError, match="bytes, want 32"):
        verify_consistency(3, 4, root3, root, [*cproof[:-1], bad])


def test_concatenated_proof_elements_rejected() -> None:
    # Two 32-byte hashes glued into one 64-byte element must not be accepted.
    leaves = _tree(4)
    proof = inclusion_proof(0, 4, leaves)
    with pytest.raises(ProofError):
        verify_inclusion(0, 4, leaves[0], [proof[0] + proof[1]], root_hash(leaves))


def test_consistency_final_sn_must_be_zero() -> None:
    # 6 -> 8: a proof truncated by its last element stops below the root (sn != 0).
    leaves = _tree(8)
    r6, r8 = root_hash(leaves[:6]), root_hash(leaves)
    proof = consistency_proof(6, 8, leaves)
    verify_consistency(6, 8, r6, r8, proof)
    with pytest.raises(ProofError, match="fewer elements"):
        verify_consistency(6, 8, r6, r8, proof[:-1])
    with pytest.raises(ProofError, match="more elements"):
        verify_consistency(6, 8, r6, r8, [*proof, proof[-1]])


def test_consistency_never_trusts_a_root_inside_the_proof() -> None:
    # size1 = 4 is a power of two: its root comes from the caller, never from the proof.
    leaves = _tree(8)
    r4, r8 = root_hash(leaves[:4]), root_hash(leaves)
    proof = consistency_proof(4, 8, leaves)
    assert r4 not in proof
    verify_consistency(4, 8, r4, r8, proof)
    with pytest.raises(ProofError):
        verify_consistency(4, 8, r4, r8, [r4, *proof])
    # An attacker-chosen root1 with a proof built around it still fails.
    fake = leaf_hash(b"forged")
    with pytest.raises(ProofError):
        verify_consistency(4, 8, fake, r8, proof)


def test_consistency_equal_sizes() -> None:
    leaves = _tree(5)
    r = root_hash(leaves)
    verify_consistency(5, 5, r, r, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(5, 5, r, r, [r])
    with pytest.raises(ProofError, match="different root"):
        verify_consistency(5, 5, r, root_hash(leaves[:4]), [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="empty string"):
        verify_consistency(0, 0, r, r, [])


def test_consistency_equal_sizes_with_valid_roots_passes() -> None:
    # The counterpart of the STRICTER_THAN_REFERENCE probe, with well-formed roots.
    r = leaf_hash(b"x")
    verify_consistency(1, 1, r, r, [])


def test_consistency_from_empty_tree() -> None:
    r = root_hash(_tree(3))
    verify_consistency(0, 3, EMPTY_ROOT, r, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(0, 3, EMPTY_ROOT, r, [r])
    with pytest.raises(ProofError, match="empty string"):
        verify_consistency(0, 3, r, r, [])


def test_consistency_size1_greater_than_size2() -> None:
    r = root_hash(_tree(3))
    with pytest.raises(ProofError, match="no consistency"):
        verify_consistency(3, 2, r, r, [])


def test_consistency_empty_proof_for_growth_fails() -> None:
    r = root_hash(_tree(3))
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(2, 3, root_hash(_tree(2)), r, [])


# --- generation API ------------------------------------------------------------------------


def test_generation_rejects_bad_arguments() -> None:
    leaves = _tree(4)
    with pytest.raises(InvalidInput):
        inclusion_proof(4, 4, leaves)
    with pytest.raises(InvalidInput):
        consistency_proof(5, 4, leaves)
    with pytest.raises(InvalidInput):
        tree_hash(-1, node_getter(leaves))
    with pytest.raises(InvalidInput):
        node_getter(leaves)(0, 4)  # leaf 4 does not exist
    with pytest.raises(InvalidInput):
        node_getter(_tree(3))(1, 1)  # leaves [2, 4) are not complete
    with pytest.raises(InvalidInput):
        subtree_hashes_to_store(0, b"short", node_getter([]))
    assert consistency_proof(0, 4, leaves) == []
    assert consistency_proof(4, 4, leaves) == []
    assert tree_hash(0, node_getter([])) == EMPTY_ROOT == root_hash([])


def test_range_hash_matches_mth_for_unaligned_ranges() -> None:
    leaves = _tree(16)
    get = node_getter(leaves)
    for lo in range(16):
        for hi in range(lo + 1, 17):
            assert merkle.range_hash(lo, hi, get) == root_hash(leaves[lo:hi]), (lo, hi)


def test_stored_hashes_build_a_complete_store() -> None:
    leaves = _tree(37)
    store: dict[tuple[int, int], bytes] = {}

    def get(level: int, index: int) -> bytes:
        return store[(level, index)]

    for i, h in enumerate(leaves):
        new = subtree_hashes_to_store(i, h, get)
        assert new[0] == (0, i, h)
        for level, index, value in new:
            assert (level, index) not in store
            store[(level, index)] = value
        size = i + 1
        # A tree of n leaves has 2n - popcount(n) perfect subtrees.
        assert len(store) == 2 * size - size.bit_count()
        assert tree_hash(size, get) == root_hash(leaves[:size])
    reference = node_getter(leaves)
    for (level, index), value in store.items():
        assert reference(level, index) == value


@given(st.integers(0, 300), st.integers(1, 70))
def test_frontier_appends_store_what_subtree_hashes_to_store_says(start: int, more: int) -> None:
    data = [b"entry %d" % i for i in range(start + more)]
    hashes = [merkle.leaf_hash(d) for d in data]
    reference = node_getter(hashes)
    # Resume from a stored frontier, as the log does at the start of each batch.
    keys = merkle.Frontier.keys(start)
    assert sum(1 << level for level, _ in keys) == start
    frontier = merkle.Frontier(start, [reference(*k) for k in keys])
    store: dict[tuple[int, int], bytes] = {}

    def get(level: int, index: int) -> bytes:
        return store[(level, index)] if (level, index) in store else reference(level, index)

    for i in range(start, start + more):
        leaf, parents = frontier.append(data[i])
        expected = subtree_hashes_to_store(i, hashes[i], get)
        assert leaf == hashes[i]
        assert parents == b"".join(node.hash for node in expected[1:])
        assert frontier.root() == root_hash(hashes[: i + 1])


def test_frontier_refuses_a_wrong_number_or_size_of_hashes() -> None:
    with pytest.raises(InvalidInput, match="size 3 has 2 frontier hashes"):
        merkle.Frontier(3, [b"\x00" * 32])
    with pytest.raises(InvalidInput, match="32"):
        merkle.Frontier(1, [b"\x00" * 31])
    assert merkle.Frontier(0, []).root() == merkle.EMPTY_ROOT


def _counting(leaves: list[bytes]) -> tuple[Callable[[int, int], bytes], list[int]]:
    get = node_getter(leaves)
    calls = [0]

    def counted(level: int, index: int) -> bytes:
        calls[0] += 1
        return get(level, index)

    return counted, calls


@pytest.mark.parametrize("size", [1, 2, 3, 31, 64, 100, 1000, 1023])
def test_proofs_need_logarithmic_lookups(size: int) -> None:
    leaves = _tree(size)
    bound = 2 * size.bit_length() + 1
    for index in {0, size // 3, size // 2, size - 1}:
        get, calls = _counting(leaves)
        inclusion_proof(index, size, get)
        assert calls[0] <= bound, (index, calls[0])
    for size1 in {1, size // 3, size // 2, size - 1} - {0}:
        get, calls = _counting(leaves)
        consistency_proof(size1, size, get)
        assert calls[0] <= bound, (size1, calls[0])


# --- properties ----------------------------------------------------------------------------

_PROPERTY = settings(max_examples=100, deadline=None)


@st.composite
def _tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=70))
    seed = draw(st.binary(min_size=4, max_size=4))
    leaves = [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size)]
    return leaves, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def _tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    size2 = draw(st.integers(min_value=2, max_value=70))
    seed = draw(st.binary(min_size=4, max_size=4))
    leaves = [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size2)]
    return leaves, draw(st.integers(min_value=1, max_value=size2 - 1)), size2


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


@_PROPERTY
@given(_tree_and_index(), st.data())
def test_inclusion_property(case: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, index = case
    size = len(leaves)
    get = node_getter(leaves)
    root = tree_hash(size, get)
    proof = inclusion_proof(index, size, get)
    assert proof == inclusion_proof(index, size, leaves)
    verify_inclusion(index, size, leaves[index], proof, root)

    for i in range(len(proof)):
        bit = data.draw(st.integers(0, 255), label=f"bit{i}")
        bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaves[index], bad, root)
    with pytest.raises(ProofError):
        verify_inclusion(
            index, size, leaves[index], proof, _flip(root, data.draw(st.integers(0, 255)))
        )
    with pytest.raises(ProofError):
        verify_inclusion(index, size, _flip(leaves[index], 0), proof, root)

    other = data.draw(st.integers(0, size), label="wrong index")
    if other != index:
        with pytest.raises(ProofError):
            verify_inclusion(other, size, leaves[index], proof, root)

    # A wrong size fails even against the genuine root of a tree of that size.
    wrong = data.draw(st.integers(index + 1, size + 8), label="wrong size")
    bigger = leaves + _tree(8)
    if wrong != size and inclusion_proof(index, wrong, bigger) != proof:
        with pytest.raises(ProofError):
            verify_inclusion(index, wrong, leaves[index], proof, root_hash(bigger[:wrong]))


@_PROPERTY
@given(_tree_and_sizes(), st.data())
def test_consistency_property(case: tuple[list[bytes], int, int], data: st.DataObject) -> None:
    leaves, size1, size2 = case
    get = node_getter(leaves)
    root1, root2 = tree_hash(size1, get), tree_hash(size2, get)
    proof = consistency_proof(size1, size2, get)
    assert proof == consistency_proof(size1, size2, leaves)
    verify_consistency(size1, size2, root1, root2, proof)

    for i in range(len(proof)):
        bit = data.draw(st.integers(0, 255), label=f"bit{i}")
        bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, root1, root2, bad)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, _flip(root1, 7), root2, proof)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, root1, _flip(root2, 200), proof)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, root2, root1, proof)

    # Wrong sizes fail even with the genuine roots for those sizes, unless the honest
    # proof for them happens to be the very same list.
    other1 = data.draw(st.integers(1, size2), label="wrong size1")
    if other1 != size1 and consistency_proof(other1, size2, get) != proof:
        with pytest.raises(ProofError):
            verify_consistency(other1, size2, tree_hash(other1, get), root2, proof)
    other2 = data.draw(st.integers(size1, size2 + 8), label="wrong size2")
    bigger = leaves + _tree(8)
    if other2 != size2 and consistency_proof(size1, other2, bigger) != proof:
        with pytest.raises(ProofError):
            verify_consistency(size1, other2, root1, root_hash(bigger[:other2]), proof)

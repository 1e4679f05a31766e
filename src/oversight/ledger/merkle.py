"""RFC 9162 §2.1 Merkle tree hashing, proof generation and proof verification.

Pure: no I/O, hashlib only. Proof generation reads the tree through a
``get_node(level, index)`` callable returning the hash of the *perfect* subtree
that covers leaves ``[index * 2**level, (index + 1) * 2**level)``, the same
"stored hash" addressing as C2SP tlog-tiles and Go's sumdb/tlog. A persistent
log stores exactly those hashes (see :func:`subtree_hashes_to_store`), so every
proof costs O(log n) lookups.

Verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and raise
:class:`~oversight.errors.ProofError`; they never return a bool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

from oversight.errors import InvalidInput, ProofError

HASH_SIZE = 32
# MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeGetter = Callable[[int, int], bytes]
"""``get_node(level, index)``: hash of the perfect subtree at (level, index)."""


class StoredNode(NamedTuple):
    """A perfect-subtree hash a log persists: the one ``get_node(level, n)`` returns."""

    level: int
    n: int  # covers leaves [n * 2**level, (n + 1) * 2**level)
    hash: bytes


# --- hashing ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(lo: int, hi: int, get_node: NodeGetter) -> bytes:
    """MTH(D[lo:hi]) from perfect-subtree hashes.

    A range that is an aligned power of two is one lookup. Otherwise split at
    RFC 9162's ``k``; for the ranges proofs ask for (lo aligned to the subtree
    size) this decomposes [lo, hi) into maximal perfect subtrees of decreasing
    size and folds them right to left, so it costs popcount(hi - lo) lookups.
    """
    n = hi - lo
    if lo < 0 or n <= 0:
        raise InvalidInput(f"empty or negative leaf range [{lo}, {hi})")
    if n & (n - 1) == 0 and lo % n == 0:
        return get_node(n.bit_length() - 1, lo // n)
    k = _split_point(n)
    return node_hash(range_hash(lo, lo + k, get_node), range_hash(lo + k, hi, get_node))


def tree_hash(size: int, get_node: NodeGetter) -> bytes:
    """Root hash of the tree of ``size`` leaves (EMPTY_ROOT when size is 0)."""
    if size < 0:
        raise InvalidInput(f"tree size must not be negative, got {size}")
    return EMPTY_ROOT if size == 0 else range_hash(0, size, get_node)


def build_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect-subtree hash, level by level: ``levels[l][i]`` is ``get_node(l, i)``."""
    levels: list[list[bytes]] = [list(leaf_hashes)]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def node_getter(leaf_hashes: Sequence[bytes]) -> NodeGetter:
    """An in-memory ``get_node`` over a list of leaf hashes (builds all levels, O(n))."""
    levels = build_levels(leaf_hashes)

    def get_node(level: int, index: int) -> bytes:
        if not 0 <= level < len(levels) or not 0 <= index < len(levels[level]):
            raise InvalidInput(f"no complete subtree at level {level}, index {index}")
        return levels[level][index]

    return get_node


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Root hash of a tree given all its leaf hashes."""
    return tree_hash(len(leaf_hashes), node_getter(leaf_hashes))


def subtree_hashes_to_store(index: int, leaf: bytes, get_node: NodeGetter) -> list[StoredNode]:
    """Perfect-subtree hashes that become complete when leaf ``index`` is appended.

    The leaf itself at level 0, then each parent it completes: while the new
    node is a right child, combine it with its stored left sibling. ``get_node``
    must serve the hashes stored for leaves 0..index-1.
    """
    if index < 0:
        raise InvalidInput(f"leaf index must not be negative, got {index}")
    if len(leaf) != HASH_SIZE:
        raise InvalidInput(f"leaf hash is {len(leaf)} bytes, want {HASH_SIZE}")
    stored = [StoredNode(0, index, leaf)]
    level, idx, h = 0, index, leaf
    while idx & 1:
        h = node_hash(get_node(level, idx - 1), h)
        level, idx = level + 1, idx >> 1
        stored.append(StoredNode(level, idx, h))
    return stored


class Frontier:
    """The right edge of a growing tree: the perfect subtrees that make up its ``size``
    leaves, largest first (a "compact range" over [0, size)).

    Appending is the hot path of the log, so it works on this stack directly instead of
    looking nodes up: it yields, per leaf, the same hashes as
    :func:`subtree_hashes_to_store` (tests check that they agree).
    """

    def __init__(self, size: int, hashes: Sequence[bytes]):
        if size < 0 or len(hashes) != size.bit_count():
            raise InvalidInput(f"a tree of size {size} has {size.bit_count()} frontier hashes")
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise InvalidInput(f"frontier hash is {len(h)} bytes, want {HASH_SIZE}")
        self.size = size
        self.hashes = list(hashes)

    @staticmethod
    def keys(size: int) -> list[tuple[int, int]]:
        """(level, n) of the frontier subtrees of a tree of ``size`` leaves, largest first."""
        keys: list[tuple[int, int]] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        return keys

    def append(self, data: bytes) -> tuple[bytes, bytes]:
        """Add the leaf with these bytes: (its leaf hash, the hashes of the subtrees it
        completes, level 1 first, concatenated)."""
        [hashes] = self.extend([data])
        return hashes

    def extend(self, entries: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
        """``append`` for each entry in order, in one loop (the log's hot path)."""
        sha256, stack, index = hashlib.sha256, self.hashes, self.size
        out: list[tuple[bytes, bytes]] = []
        for data in entries:
            h = leaf = sha256(b"\x00" + data).digest()
            parents = b""
            carry = index
            while carry & 1:
                h = sha256(b"\x01" + stack.pop() + h).digest()
                parents += h
                carry >>= 1
            stack.append(h)
            out.append((leaf, parents))
            index += 1
        self.size = index
        return out

    def root(self) -> bytes:
        """MTH of the whole tree: the frontier folded from the right (RFC 9162 splits
        every range at its largest power of two, so the biggest subtree is leftmost)."""
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h


# --- proof generation -------------------------------------------------------------------


def _as_getter(nodes: Sequence[bytes] | NodeGetter) -> NodeGetter:
    return nodes if callable(nodes) else node_getter(nodes)


def inclusion_proof(index: int, size: int, nodes: Sequence[bytes] | NodeGetter) -> list[bytes]:
    """PATH(index, D[0:size]) per RFC 9162 §2.1.3.1, ordered leaf to root.

    ``nodes`` is a ``get_node`` callable or, for convenience, the list of leaf hashes.
    """
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is not in a tree of size {size}")
    get_node = _as_getter(nodes)
    top_down: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if m < k:
            top_down.append(range_hash(lo + k, hi, get_node))
            hi = lo + k
        else:
            top_down.append(range_hash(lo, lo + k, get_node))
            lo, m = lo + k, m - k
    return top_down[::-1]


def consistency_proof(size1: int, size2: int, nodes: Sequence[bytes] | NodeGetter) -> list[bytes]:
    """PROOF(size1, D[0:size2]) per RFC 9162 §2.1.4.1 (empty when size1 is 0 or size2)."""
    if not 0 <= size1 <= size2:
        raise InvalidInput(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    get_node = _as_getter(nodes)
    top_down: list[bytes] = []
    lo, hi, m, whole = 0, size2, size1, True
    # SUBPROOF(m, D[lo:hi], whole), unrolled; each step adds one hash after the sub-proof.
    while m != hi - lo:
        k = _split_point(hi - lo)
        if m <= k:
            top_down.append(range_hash(lo + k, hi, get_node))
            hi = lo + k
        else:
            top_down.append(range_hash(lo, lo + k, get_node))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        top_down.append(range_hash(lo, hi, get_node))
    return top_down[::-1]


# --- verification -----------------------------------------------------------------------


def _check_len(what: str, h: bytes) -> None:
    if len(h) != HASH_SIZE:
        raise ProofError(f"{what} is {len(h)} bytes, want {HASH_SIZE}")


def _check_proof_elements(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        _check_len(f"proof element {i}", h)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is entry ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises ProofError on any failure.
    """
    # 1. The index must name an entry of the tree.
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    # 2. Every hash is exactly one SHA-256 output.
    _check_len("leaf hash", leaf)
    _check_len("root hash", root)
    _check_proof_elements(proof)
    # 3. Walk the path; fn is the node's index on its level, sn the last index on it.
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof has more elements than the tree has levels")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right-edge node without a right sibling is carried up unchanged.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # 4. The walk must end at the root, and the root must match.
    if sn != 0:
        raise ProofError("inclusion proof has fewer elements than the path to the root")
    if r != root:
        raise ProofError("inclusion proof does not lead to the expected root hash")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``.

    RFC 9162 §2.1.4.2, plus the trivial cases. Raises ProofError on any failure.
    """
    # 1. Sizes must be ordered.
    if size1 < 0 or size2 < size1:
        raise ProofError(f"no consistency from tree size {size1} to tree size {size2}")
    # 2. Equal sizes: RFC 9162 needs only an empty proof and equal roots (the reference
    #    vectors accept equal roots of any length here; checkpoints we parse are always
    #    32 bytes, so nothing weaker reaches this point from our own code).
    if size1 == size2:
        if proof:
            raise ProofError("consistency proof between equal tree sizes must be empty")
        if root1 != root2:
            raise ProofError("trees of equal size have different root hashes")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError("the empty tree's root hash must be SHA-256 of the empty string")
        return
    # 3. Otherwise every hash is exactly one SHA-256 output.
    _check_len("first root hash", root1)
    _check_len("second root hash", root2)
    _check_proof_elements(proof)
    if size1 == 0:
        # The empty tree is a prefix of every tree; nothing else can be checked.
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        if root1 != EMPTY_ROOT:
            raise ProofError("the empty tree's root hash must be SHA-256 of the empty string")
        return
    # 4. RFC 9162 §2.1.4.2 step 1: a non-trivial proof is never empty.
    if not proof:
        raise ProofError("consistency proof is empty")
    # 5. Step 2: if size1 is a power of two, its root is a node of the new tree and is
    #    the supplied root1, never a proof element (a proof must not vouch for itself).
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    # 6. Steps 3-4: drop the levels where the old tree's last node is a right child.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 7. Steps 5-6: rebuild both roots from the same path.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has more elements than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # 8. Step 7: the walk must reach the top, and both roots must match.
    if sn != 0:
        raise ProofError("consistency proof has fewer elements than needed")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root hash")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root hash")

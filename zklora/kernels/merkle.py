"""Merkle trees over the columns of a matrix, with batched (deduplicated) multi-proofs.

Tree over L = 2^depth leaves, hash H ∈ {BLAKE3, SHA-256}, w-byte digests (w = 32 by
default; a scheme may truncate every digest to its first w ∈ 16..32 bytes, collision
resistance 4·w bits — `whir` uses w = ⌈2λ/8⌉):

* leaf i = H(canonical bytes of column i)[:w] — the column's little-endian uint64 words,
  so a leaf preimage is a multiple of 8 bytes long;
* node = H(0x01 ‖ left ‖ right)[:w] — 1 + 2w bytes, odd, never a multiple of 8, so a
  node preimage can never be read as a leaf preimage (domain separation without a
  per-leaf prefix copy).  For w ≤ 31 a node is one BLAKE3 block (one compression).

Levels are stored as ``(nodes, w) uint8`` arrays, ``levels[0]`` the leaves and
``levels[-1]`` the root.  A multi-proof for a sorted set S of distinct leaf indices
lists, level by level from the leaves up and in increasing index order, the hash of
every sibling that cannot be computed from S: shared ancestors are sent once.  The
number of such hashes depends on S only (`num_siblings`), so the verifier reads an
exact byte count.  Hashing goes through the C implementations in ``blake3``/``hashlib``
on zero-copy memoryviews; the Python loop overhead is ≈ 1 µs per hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import blake3
import numpy as np

from . import blake3_numba

DIGEST = 32
NODE_TAG = b"\x01"


def _blake3(b) -> bytes:
    return blake3.blake3(b).digest()


def _sha256(b) -> bytes:
    return hashlib.sha256(b).digest()


HASHES: dict[str, Callable[[bytes], bytes]] = {"blake3": _blake3, "sha256": _sha256}


def hasher(name: str) -> Callable[[bytes], bytes]:
    try:
        return HASHES[name]
    except KeyError:
        raise ValueError(f"unknown Merkle hash {name!r}; allowed: {sorted(HASHES)}") from None


def _check_digest(digest: int) -> None:
    if not 16 <= digest <= DIGEST:
        raise ValueError(f"Merkle digest length must be in 16..{DIGEST}, got {digest}")


def _truncate(d: np.ndarray, digest: int) -> np.ndarray:
    return d if digest == DIGEST else np.ascontiguousarray(d[:, :digest])


def hash_leaves(cols: np.ndarray, hash: str, digest: int = DIGEST) -> np.ndarray:
    """H(bytes of row i)[:digest] for every row i of a 2-d uint64 array (the matrix's
    columns stored contiguously): (L, digest) uint8."""
    _check_digest(digest)
    cols = np.ascontiguousarray(cols, dtype="<u8")
    n = cols.shape[0]
    width = cols.shape[1] * 8 if cols.ndim == 2 else 8
    if hash == "blake3" and width <= blake3_numba.MAX_LEN and n >= 64:
        # truncated in the kernel: no (L, 32) array and no copy
        return blake3_numba.hash_many(cols.reshape(n, -1).view(np.uint8), digest)
    return _truncate(_hash_leaves(cols, hash), digest)


def _hash_leaves(cols: np.ndarray, hash: str) -> np.ndarray:
    H = hasher(hash)
    cols = np.ascontiguousarray(cols, dtype="<u8")
    n = cols.shape[0]
    width = cols.shape[1] * 8 if cols.ndim == 2 else 8
    mv = memoryview(cols.reshape(-1).view(np.uint8))
    out = bytearray(n * DIGEST)
    for i in range(n):
        out[i * DIGEST:(i + 1) * DIGEST] = H(mv[i * width:(i + 1) * width])
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(n, DIGEST)


def hash_nodes(level: np.ndarray, hash: str) -> np.ndarray:
    """Parents of a level of an even number of w-byte digests: (n/2, w)."""
    H = hasher(hash)
    n = level.shape[0] // 2
    dg = level.shape[1]
    _check_digest(dg)
    if hash == "blake3" and n >= 64:  # hashed from the level itself (no preimage copy)
        return blake3_numba.hash_pairs(level)
    pairs = np.empty((n, 1 + 2 * dg), dtype=np.uint8)
    pairs[:, 0] = NODE_TAG[0]
    pairs[:, 1:] = level.reshape(n, 2 * dg)
    mv = memoryview(pairs.reshape(-1))
    w = 1 + 2 * dg
    out = bytearray(n * dg)
    for i in range(n):
        out[i * dg:(i + 1) * dg] = H(mv[i * w:(i + 1) * w])[:dg]
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(n, dg)


def build(leaves: np.ndarray, hash: str) -> list[np.ndarray]:
    """All levels of the tree over ``leaves`` (a power-of-two count of digests, all of
    one length w; every node is w bytes too)."""
    n = leaves.shape[0]
    if n < 1 or n & (n - 1):
        raise ValueError(f"Merkle tree needs a power-of-two number of leaves, got {n}")
    levels = [leaves]
    while levels[-1].shape[0] > 1:
        levels.append(hash_nodes(levels[-1], hash))
    return levels


def root(levels: Sequence[np.ndarray]) -> bytes:
    return levels[-1][0].tobytes()


def _plan(indices: Sequence[int], depth: int) -> list[tuple[list[int], list[int]]]:
    """Per level: (sorted known node indices, sibling indices the proof must supply).
    With array operations (`_plan_ref` one index at a time): a known node's sibling is
    needed unless it is known too (the siblings of sorted distinct nodes come sorted),
    the parents are the known nodes halved, repeats dropped."""
    known = np.unique(np.fromiter((int(i) for i in indices), dtype=np.int64))
    plan = []
    for _ in range(depth):
        sib = known ^ 1
        at = np.searchsorted(known, sib)
        have = at < known.shape[0]
        have[have] = known[at[have]] == sib[have]
        plan.append((known.tolist(), sib[~have].tolist()))
        up = known >> 1
        keep = np.ones(up.shape[0], dtype=bool)
        keep[1:] = up[1:] != up[:-1]
        known = up[keep]
    return plan


def _plan_ref(indices: Sequence[int], depth: int) -> list[tuple[list[int], list[int]]]:
    """`_plan` one index at a time (the reference twin of the tests)."""
    known = sorted(set(int(i) for i in indices))
    plan = []
    for _ in range(depth):
        need: list[int] = []
        parents: list[int] = []
        i = 0
        while i < len(known):
            x = known[i]
            if x % 2 == 0 and i + 1 < len(known) and known[i + 1] == x + 1:
                i += 2
            else:
                need.append(x ^ 1)
                i += 1
            if not parents or parents[-1] != x >> 1:
                parents.append(x >> 1)
        plan.append((known, need))
        known = parents
    return plan


def num_siblings(indices: Sequence[int], depth: int) -> int:
    """Number of digests in the multi-proof for ``indices`` in a tree of 2^depth leaves."""
    return sum(len(need) for _, need in _plan(indices, depth))


def open_multi(levels: Sequence[np.ndarray], indices: Sequence[int]) -> bytes:
    """The multi-proof (concatenated sibling digests) for sorted distinct ``indices``."""
    return open_multi_nodes(lambda lvl, need: levels[lvl][need], len(levels) - 1, indices)


def open_multi_nodes(nodes: Callable[[int, np.ndarray], np.ndarray], depth: int,
                     indices: Sequence[int]) -> bytes:
    """`open_multi` of a tree of 2^depth leaves whose levels are not all stored:
    ``nodes(lvl, need)`` gives the digests (len(need), w) of the nodes ``need`` (sorted
    int64 indices) of level ``lvl`` (0: the leaves' digests)."""
    out = bytearray()
    for lvl, (_, need) in enumerate(_plan(indices, depth)):
        if need:
            out += np.ascontiguousarray(nodes(lvl, np.asarray(need, dtype=np.int64))).tobytes()
    return bytes(out)


def root_from_multi(leaf_digests: Sequence[bytes], indices: Sequence[int], depth: int,
                    proof: bytes, hash: str, digest: int = DIGEST) -> bytes:
    """Recompute the root from the digests of the leaves at sorted distinct ``indices``
    and their multi-proof (``digest``-byte digests).  The caller checks the proof length
    with `num_siblings`."""
    _check_digest(digest)
    H = hasher(hash)
    idx = [int(i) for i in indices]
    if not idx or idx != sorted(set(idx)) or len(leaf_digests) != len(idx):
        raise ValueError("root_from_multi: need non-empty sorted distinct indices, one per leaf")
    if any(i < 0 or i >= (1 << depth) for i in idx):
        raise ValueError("root_from_multi: leaf index out of range")
    if any(len(d) != digest for d in leaf_digests):
        raise ValueError(f"root_from_multi: leaf digests must be {digest} bytes")
    cur = dict(zip(idx, leaf_digests))
    pos = 0
    for known, need in _plan(idx, depth):
        for s in need:
            cur[s] = proof[pos:pos + digest]
            pos += digest
        nxt: dict[int, bytes] = {}
        for x in known:
            p = x >> 1
            if p not in nxt:
                nxt[p] = H(NODE_TAG + cur[2 * p] + cur[2 * p + 1])[:digest]
        cur = nxt
    if pos != len(proof):
        raise ValueError("root_from_multi: proof length does not match the index set")
    return cur[0]


# -- slow reference (tests) ------------------------------------------------------------


def root_ref(columns: Sequence[bytes], hash: str, digest: int = DIGEST) -> bytes:
    """Recursive root of the tree over the given leaf preimages (pure Python)."""
    H = HASHES[hash]

    def rec(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return H(columns[lo])[:digest]
        mid = (lo + hi) // 2
        return H(NODE_TAG + rec(lo, mid) + rec(mid, hi))[:digest]

    return rec(0, len(columns))

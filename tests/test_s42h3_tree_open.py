"""s42h3: `Tree.open` (leaves and multi-proof of a spilled tree in one read of the
blocks of 2^MERKLE_SKIP leaves, their lower levels hashed side by side) is `rows` and
`open_multi` of the whole tree: plain and `_BlockLeaves` leaf files, base and extension
leaves, any index order, few blocks (the Python hash paths) and many (the numba ones)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import merkle
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry

F = registry().field("goldilocks")


def _ref_paths(tree: W.Tree, idx: np.ndarray) -> bytes:
    """The pre-s42h3 `Tree.paths`: every block read, hashed and built on its own."""
    s = tree.skip
    subs = {}
    for b in sorted({int(i) >> s for i in idx}):
        rows = tree.leaves.read_range(b << s, (b + 1) << s)
        subs[b] = merkle.build(merkle.hash_leaves(rows.reshape(rows.shape[0], -1),
                                                  tree.hash, tree.digest), tree.hash)
    maps = [h.load() for h in tree.levels]

    def nodes(lvl, need):
        if lvl >= s:
            return maps[lvl - s][need]
        sh = s - lvl
        return np.stack([subs[int(x) >> sh][lvl][int(x) & ((1 << sh) - 1)] for x in need])

    return merkle.open_multi_nodes(nodes, s + len(tree.levels) - 1, idx)


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("block", [False, True])
def test_tree_open_is_rows_and_open_multi(ext, block):
    s = W.Whir(F, {})
    rng = np.random.default_rng(11 + 2 * ext + block)
    L, Kl = 1 << 12, 8
    shape = (L, Kl, 2) if ext else (L, Kl)
    leaves = rng.integers(0, 1 << 62, size=shape, dtype=np.uint64)
    digest = W.digest_bytes(s.cfg.security_bits)
    flat = leaves.reshape(L, -1)
    full = merkle.build(merkle.hash_leaves(flat, "blake3", digest), "blake3")
    with scratch.session(threshold=0) as store:
        h = store.save([leaves], tag="whir-leaves")[0]
        levels, root, skip = s._merkle_streamed(store, h, L, flat.shape[1] * 8, digest)
        assert skip == W.MERKLE_SKIP and root == merkle.root(full)
        if block:   # per = S = L: the file's rows in leaf order (one group)
            h = W._BlockLeaves(h.path, h.offset, shape, h.dtype, L, L)
        tree = W.Tree(h, levels, skip, "blake3", digest)
        cases = [[0], [L - 1], [3, 4, 5, 17, 200, 511],
                 list(range(0, L, 7)),                       # > 64 blocks: numba hashes
                 sorted(rng.choice(L, 150, replace=False).tolist()),
                 [900, 2, 901, 2, 4000]]                     # any order, repeats
        for idx in cases:
            idx = np.array(idx, dtype=np.int64)
            srt = np.unique(idx)
            rows, paths = tree.open(idx)
            assert np.array_equal(rows, leaves[idx])
            assert np.array_equal(tree.rows(idx), leaves[idx])
            want = merkle.open_multi(full, srt)
            assert paths == want
            assert tree.open(srt, rows=False) == (None, want)
            assert tree.paths(srt) == want == _ref_paths(tree, srt)
        rows, paths = tree.open(np.zeros(0, dtype=np.int64))
        assert rows.shape[0] == 0 and paths == b""


def test_block_leaves_file_order():
    """A `_BlockLeaves` file with several groups (rows not in leaf order): the blocks
    read through its row map."""
    s = W.Whir(F, {})
    rng = np.random.default_rng(3)
    L, Kl, S, per = 1 << 11, 4, 1 << 9, 1 << 6
    leaves = rng.integers(0, 1 << 62, size=(L, Kl), dtype=np.uint64)
    digest = W.digest_bytes(s.cfg.security_bits)
    full = merkle.build(merkle.hash_leaves(leaves, "blake3", digest), "blake3")
    G = L // S
    # file row G·a0 + g·per + (a − a0) holds leaf a + g·S (`_BlockLeaves`)
    probe = W._BlockLeaves("", 0, (L, Kl), "<u8", S, per)
    pos = probe._rows(np.arange(L))
    filed = np.empty_like(leaves)
    filed[pos] = leaves
    assert G > 1
    with scratch.session(threshold=0) as store:
        h = store.save([leaves], tag="whir-leaves")[0]
        levels, root, skip = s._merkle_streamed(store, h, L, Kl * 8, digest)
        f = store.save([filed], tag="whir-leaves")[0]
        tree = W.Tree(W._BlockLeaves(f.path, f.offset, (L, Kl), f.dtype, S, per), levels,
                      skip, "blake3", digest)
        for idx in ([5], [0, S, 2 * S + 1, L - 1], list(range(1, L, 5))):
            idx = np.array(idx, dtype=np.int64)
            rows, paths = tree.open(idx)
            assert np.array_equal(rows, leaves[idx])
            assert paths == merkle.open_multi(full, idx)


@pytest.mark.parametrize("row", [8, 24, 128, 2048, 5000, 8192, 12296])
def test_read_rows_paged_runs(row, tmp_path):
    """`_read_rows_paged` (its runs of pages made with array operations since s42h3):
    rows in any order, repeated, adjacent, sharing pages or pages apart, at an offset —
    the file's bytes, and the runs are those of the one-row-at-a-time merge."""
    rng = np.random.default_rng(row)
    n, off = 600, 4096 * 3 + 8 * (row % 3)
    raw = rng.integers(0, 256, size=off + n * row, dtype=np.uint8)
    path = tmp_path / "rows.bin"
    raw.tofile(path)
    table = raw[off:].reshape(n, row)
    cases = [[0], [n - 1], list(range(n)), [5, 5, 4, 3, 400, 401, 7, 599],
             rng.integers(0, n, 300).tolist(), sorted(rng.choice(n, 60, replace=False).tolist())]
    seen = []
    orig = W.os.preadv
    chunk = [0]

    def preadv(fd, bufs, at):   # chunk[0] > 0: short reads (the loop to the end byte)
        if chunk[0]:
            bufs = [bufs[0][:chunk[0]]]
        seen.append((at, sum(len(b) for b in bufs)))
        return orig(fd, bufs, at)

    W.os.preadv = preadv
    try:
        for rows in cases:
            rows = np.array(rows, dtype=np.int64)
            seen.clear()
            got = W._read_rows_paged(str(path), off, row, rows, (row // 8,) if row % 8 == 0
                                     else (row,), np.uint64 if row % 8 == 0 else np.uint8)
            assert np.array_equal(got.reshape(len(rows), -1).view(np.uint8).reshape(len(rows),
                                                                                   row),
                                  table[rows])
            # the reference merge: the same runs (first page, end page) read
            A = W._DIO_ALIGN
            st = off + rows * row
            runs = []
            for i in np.argsort(st // A, kind="stable"):
                a, b = int(st[i]) // A, (int(st[i]) + row - 1) // A + 1
                if runs and a <= runs[-1][1]:
                    runs[-1][1] = max(runs[-1][1], b)
                else:
                    runs.append([a, b])
            assert sorted(at // A for at, _ in seen) == [a for a, _ in runs]
            assert sum(ln for _, ln in seen) == sum((b - a) * A for a, b in runs)
            chunk[0] = 4096
            again = W._read_rows_paged(str(path), off, row, rows, got.shape[1:], got.dtype)
            chunk[0] = 0
            assert np.array_equal(again, got)
    finally:
        W.os.preadv = orig


def test_merkle_plan_twin():
    """`merkle._plan` (array operations since s42h3) == `_plan_ref` (one index at a time):
    the same lists of ints, for empty, single, adjacent, full, scattered, unsorted and
    repeated index sets and depths 0..20."""
    rng = np.random.default_rng(42)
    sets = [[], [0], [1], [0, 1], [2, 3, 4], [7, 6, 6, 1], list(range(16))]
    for depth in (0, 1, 2, 3, 4, 5, 11, 20):
        for idx in sets:
            if all(i < 1 << depth for i in idx):
                got, want = merkle._plan(idx, depth), merkle._plan_ref(idx, depth)
                assert got == want and all(type(x) is int for k, nd in got for x in k + nd)
        if depth:
            for q in (1, 2, 5, 85, 300):
                idx = rng.integers(0, 1 << depth, q)
                assert merkle._plan(idx, depth) == merkle._plan_ref(idx, depth)
                assert merkle._plan(np.sort(idx).tolist(), depth) == \
                    merkle._plan_ref(idx.tolist(), depth)
    full = np.arange(1 << 8)
    assert merkle._plan(full, 8) == merkle._plan_ref(full, 8)
    assert merkle.num_siblings(full, 8) == 0

"""s42h3: `Tree.open` (one read of the opened leaves' blocks, their lower Merkle levels
hashed side by side) against the pre-s42h3 `rows` + `paths` (a positioned read, a
`hash_leaves` and a `merkle.build` a block) on a spilled tree like an 84m first round's
(not a test).

    .venv/bin/python tests/bench/s42h3_tree_open.py [LOG_LEAVES] [QUERIES] [REPS]

The leaves (16 base elements a leaf) are written as `_encode_streamed` writes them:
direct I/O, one group (`_BlockLeaves`), so the reads go to the disk as in a prove.
Each rep opens a fresh random index set (old, then new, then new, then old: the same
sets for both); prints per-call wall / CPU medians and their ratio, and asserts the
same leaves and multi-proofs."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import merkle
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry


def old_open(tree: W.Tree, idx: np.ndarray):
    """The pre-s42h3 `Tree.rows` + `Tree.paths` (whir.py at 08d10ee)."""
    rows = tree.rows(idx)
    s = tree.skip
    subs = {}
    for b in sorted({int(i) >> s for i in idx}):
        r = tree.leaves.read_range(b << s, (b + 1) << s)
        subs[b] = merkle.build(merkle.hash_leaves(r.reshape(r.shape[0], -1), tree.hash,
                                                  tree.digest), tree.hash)
    import contextlib
    with contextlib.ExitStack() as stack:
        maps = [stack.enter_context(h.mapped()) for h in tree.levels]

        def nodes(lvl, need):
            if lvl >= s:
                return maps[lvl - s][need]
            sh = s - lvl
            return np.stack([subs[int(x) >> sh][lvl][int(x) & ((1 << sh) - 1)]
                             for x in need])

        return rows, merkle.open_multi_nodes(nodes, s + len(tree.levels) - 1, idx)


def main(logl: int = 20, q: int = 85, reps: int = 10) -> None:
    F = registry().field("goldilocks")
    s = W.Whir(F, {})
    L, Kl = 1 << logl, 16
    rng = np.random.default_rng(1)
    digest = W.digest_bytes(s.cfg.security_bits)
    with scratch.session(threshold=0) as store:
        leaves = rng.integers(0, 1 << 62, size=(L, Kl), dtype=np.uint64)
        h = store.save([leaves], tag="whir-leaves", direct=True)[0]
        levels, root, skip = s._merkle_streamed(store, h, L, Kl * 8, digest)
        del leaves
        tree = W.Tree(W._BlockLeaves(h.path, h.offset, (L, Kl), h.dtype, L, L), levels,
                      skip, "blake3", digest)
        t = {"old": [], "new": []}

        def run(name, idx):
            w0, c0 = time.perf_counter(), time.process_time()
            out = old_open(tree, idx) if name == "old" else tree.open(idx)
            t[name].append((time.perf_counter() - w0, time.process_time() - c0))
            return out

        for r in range(reps):
            idx = np.sort(rng.choice(L, q, replace=False)).astype(np.int64)
            idx2 = np.sort(rng.choice(L, q, replace=False)).astype(np.int64)
            order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            a = run(order[0], idx)
            b = run(order[1], idx2)
            c = run(order[1], idx)
            d = run(order[0], idx2)
            assert np.array_equal(a[0], c[0]) and a[1] == c[1]
            assert np.array_equal(b[0], d[0]) and b[1] == d[1]
        for k in ("old", "new"):
            w = statistics.median(x[0] for x in t[k])
            c = statistics.median(x[1] for x in t[k])
            print(f"{k}: wall {w * 1e3:.2f} ms cpu {c * 1e3:.2f} ms (median of {len(t[k])})")
        wo = statistics.median(x[0] for x in t["old"])
        wn = statistics.median(x[0] for x in t["new"])
        co = statistics.median(x[1] for x in t["old"])
        cn = statistics.median(x[1] for x in t["new"])
        print(f"new/old wall x{wn / wo:.3f} cpu x{cn / co:.3f}")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:]))

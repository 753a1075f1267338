"""`whir_open.lincomb_fold` against the two-step form it replaces in
`Whir._fold_streamed`'s batch passes (`np.stack` of the tables' blocks,
`whir.lincomb_base`, then `_fold_seq`), interleaved in one process, outputs asserted
equal (not a test).

    flock /tmp/heavy.lock python tests/bench/s24h4_lincomb_ab.py [ROUNDS] [T,j,logN ...]

Prints process CPU medians (ms a call) and new/old ratios per shape."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import whir as K
from zklora.kernels import whir_open as WO
from zklora.plugins.commitments import whir as W

P = 0xFFFFFFFF00000001


def old(tabs, mu, rs):
    f = K.lincomb_base(np.stack(tabs), mu)
    return W._fold_seq(f, rs) if len(rs) else f


def main(rounds, shapes):
    rng = np.random.default_rng(3)
    for T, j, lg in shapes:
        tabs = [rng.integers(0, P, size=1 << lg, dtype=np.uint64) for _ in range(T)]
        mu = rng.integers(0, P, size=(T, 2), dtype=np.uint64)
        rs = rng.integers(0, P, size=(j, 2), dtype=np.uint64)
        assert np.array_equal(old(tabs, mu, rs), WO.lincomb_fold(tabs, mu, rs))
        res = {"old": [], "new": []}
        fns = {"old": old, "new": WO.lincomb_fold}
        for r in range(rounds):
            for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                c0 = time.process_time()
                for _ in range(4):
                    fns[name](tabs, mu, rs)
                res[name].append((time.process_time() - c0) / 4 * 1e3)
        a, b = statistics.median(res["old"]), statistics.median(res["new"])
        print(f"T={T} j={j} N=2^{lg}: old {a:.2f} ms new {b:.2f} ms ratio {b / a:.3f}",
              flush=True)


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    shapes = [tuple(int(x) for x in s.split(",")) for s in sys.argv[2:]] or \
        [(2, 0, 19), (4, 0, 19), (4, 1, 19), (4, 2, 19), (8, 3, 19), (2, 4, 19)]
    main(rounds, shapes)

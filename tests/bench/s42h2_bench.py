"""s42h2: in-process timing of `gkr_fold_sums_ci` (the in-place fold + round sums) and
`gkr_sums` (interleaved tables) at the 84m prove's call shapes (not a test).

    PYTHONPATH=TREE python tests/bench/s42h2_bench.py [REPS] [WHAT]

WHAT: "ci" (fold + sums), "sums" (interleaved `gkr_sums`), or "all" (default).  Prints
per shape the median CPU (process_time, both threads) of REPS calls."""
import statistics
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
WHAT = sys.argv[2] if len(sys.argv) > 2 else "all"
rng = np.random.default_rng(1)


def rnd(*shape):
    return rng.integers(0, P_INT, size=shape, dtype=np.uint64)


def cpu(f):
    c = time.process_time()
    f()
    return time.process_time() - c


SHAPES = [  # (k, m (= len E), slots)
    (2, 1 << 21, [[-1, -1, 0, 1]]),
    (4, 1 << 20, [[0, 1, 2, 3]]),
    (12, 1 << 17, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]),
    (4, 1 << 14, [[0, 1, 2, 3]]),
]
if WHAT in ("all", "ci"):
    for k, m, sl in SHAPES:
        slots = np.array(sl, dtype=np.int64)
        W0 = rnd(k, 4, 2 * m)
        E = rnd(m, 2)
        r = rnd(2)
        ts = []
        W = W0.copy()
        for _ in range(REPS):
            W[...] = W0
            ts.append(cpu(lambda W=W, r=r, s=slots, E=E: KL.gkr_fold_sums_ci(W, r, s, E,
                                                                             False)))
        print(f"fold_sums_ci k={k:2d} m=2^{m.bit_length() - 1} T={len(sl)}: "
              f"{statistics.median(ts) * 1e3:7.1f} ms", flush=True)
if WHAT in ("all", "sums"):
    n = 1 << 22
    for k, sl, want1 in ((2, [[-1, -1, 0, 1]], False), (4, [[0, 1, 2, 3]], False),
                         (4, [[0, 1, 2, 3]], True)):
        Wi = rnd(k, n, 2)
        Eh = rnd(n // 2, 2)
        s1 = np.array(sl, np.int64)
        ts = [cpu(lambda Wi=Wi, s1=s1, Eh=Eh, w=want1: KL.gkr_sums(Wi, Wi, s1, Eh, w))
              for _ in range(REPS)]
        print(f"gkr_sums ({k}, 2^22, 2) {sl[0]} want1={want1} "
              f"{statistics.median(ts) * 1e3:7.1f} ms", flush=True)

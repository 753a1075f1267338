"""s40h3: in-process timing of LogUp-GKR kernels at the 84m prove's call shapes (not a test).

    PYTHONPATH=TREE python tests/bench/s40h3_bench.py [REPS]

Prints per shape the median CPU (process_time, both threads) of `gkr_fold_sums_ci`
(fold + sums, in place), `gkr_sums_c` (sums only) and their difference (the fold)."""
import statistics
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
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
]
for k, m, sl in SHAPES:
    slots = np.array(sl, dtype=np.int64)
    W0 = rnd(k, 4, 2 * m)
    E = rnd(m, 2)
    r = rnd(2)
    ts_ci, ts_c = [], []
    E2m = np.concatenate([E, E])
    for _ in range(REPS):
        W = W0.copy()
        ts_ci.append(cpu(lambda W=W, r=r, s=slots, E=E: KL.gkr_fold_sums_ci(W, r, s, E, False)))
        ts_c.append(cpu(lambda W0=W0, s=slots, E2m=E2m: KL.gkr_sums_c(W0, s, E2m, False)))
    a, b = statistics.median(ts_ci), statistics.median(ts_c)
    print(f"k={k:2d} m=2^{m.bit_length() - 1} T={len(sl)}: fold_sums_ci {a * 1e3:7.1f} ms  "
          f"sums_c(2m) {b * 1e3:7.1f} ms  (fold ~ ci - sums_c/2 = {(a - b / 2) * 1e3:6.1f} ms)",
          flush=True)


class _E:   # the dispatchers' goldilocks-ext2 fast path needs only these
    name = "goldilocks-ext2"

    @staticmethod
    def length(a):
        return a.shape[0]


def med(f, reps=REPS):
    return statistics.median(cpu(f) for _ in range(reps)) * 1e3


E2 = _E()
n = 1 << 22
p, q = rnd(n, 2), rnd(n, 2)
h = n // 2
o1, o2 = np.empty((h, 2), np.uint64), np.empty((h, 2), np.uint64)
print(f"frac_up 2^22 -> 2^21 {med(lambda: KL.frac_up(E2, p, q, (o1, o2))):7.1f} ms", flush=True)
print(f"frac_up unit 2^22   {med(lambda: KL.frac_up(E2, None, q, (o1, o2))):7.1f} ms", flush=True)
o3, o4 = np.empty((n // 4, 2), np.uint64), np.empty((n // 4, 2), np.uint64)
print(f"frac_reduce m=4 {med(lambda: KL.frac_reduce(E2, p, q, 4, (o3, o4))):7.1f} ms",
      flush=True)
print(f"frac_reduce unit m=4 {med(lambda: KL.frac_reduce(E2, None, q, 4, (o3, o4))):7.1f} ms",
      flush=True)
Wi = rnd(2, n, 2)
Eh = rnd(h, 2)
sl1 = np.array([[-1, -1, 0, 1]], np.int64)
print(f"gkr_sums (2, 2^22, 2) unit {med(lambda: KL.gkr_sums(Wi, Wi, sl1, Eh, False)):7.1f} ms",
      flush=True)
col = rng.integers(0, 1 << 40, size=1 << 20, dtype=np.uint64)
ap, bt = rnd(1, 2), rnd(2)
print(f"leaf_denoms 1 col 2^20 {med(lambda: KL.leaf_denoms(E2, [col], ap, bt)):7.1f} ms",
      flush=True)

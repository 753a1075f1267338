"""s39h3: a one-round window pass's planned-tree slot, old path (`KL.fill_reduce` /
`KL.fill_segments` of the two halves into a chunk buffer, then `KL.gkr_sums`) against the
fused `KL.fill_gkr_sums`, one process, alternating, CPU medians; sums asserted equal.
Synthetic plan (s38h1's bench: width 1…3 column segments of ~20k rows, gaps, padding
rows) on the 84m prove's shapes (wx, m leaves an entry): layer 23 (2^19, 2) ×16, layer 24
(2^19, 1) ×32.  Not a test.

    PYTHONPATH=. python tests/bench/s39h3_fill_gkr_ab.py [REPS] [XBLK ...]"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P

sys.path.insert(0, "tests/bench")
from s38h1_fill_window_ab import plan  # noqa: E402


def old(xa, xb, wx, stepx, m, pl, E, want, W):
    if m == 1:
        KL.fill_segments(xa, xa + wx, W[0].reshape(wx, 1, 2), pl)
        KL.fill_segments(xb, xb + wx, W[1].reshape(wx, 1, 2), pl)
        slots = np.array([[-1, -1, 0, 1]], np.int64)
    else:
        KL.fill_reduce(xa, wx, stepx, m, pl, W[0], W[2])
        KL.fill_reduce(xb, wx, stepx, m, pl, W[1], W[3])
        slots = np.array([[0, 1, 2, 3]], np.int64)
    return KL.gkr_sums(W, W, slots, E, want)[0]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    xblks = [int(v) for v in sys.argv[2:]] or [0]
    rng = np.random.default_rng(1)
    pl = plan(rng, 1 << 25)
    tot = {"old": 0.0} | {f"new{x}": 0.0 for x in xblks}
    shapes = {(1 << 19, 2): 16, (1 << 19, 1): 32}
    if len(sys.argv) > 2:
        shapes |= {(1 << 18, 8): 8, (1 << 18, 4): 8}
    for (wx, m), calls in shapes.items():
        stepx = 1 << (25 - (m.bit_length() - 1))
        xa, xb = 3 << 19, stepx // 2 + (3 << 19)
        E = rng.integers(0, P, (wx >> 1, 2), dtype=np.uint64)
        want = False
        W = np.empty((4 if m > 1 else 2, wx, 2), np.uint64)
        s0 = old(xa, xb, wx, stepx, m, pl, E, want, W)
        res = {"old": []} | {f"new{x}": [] for x in xblks}
        for x in xblks:
            a1 = np.zeros((1, 3, 2, 2), np.uint64)
            assert KL.fill_gkr_sums(xa, xb, wx, stepx, m, pl, E, want, a1, x)
            assert np.array_equal(s0, a1), (wx, m, x)
        for _ in range(reps):
            for name in res:
                c0 = time.process_time()
                if name == "old":
                    old(xa, xb, wx, stepx, m, pl, E, want, W)
                else:
                    acc = np.zeros((1, 3, 2, 2), np.uint64)
                    KL.fill_gkr_sums(xa, xb, wx, stepx, m, pl, E, want, acc, int(name[3:]))
                res[name].append(time.process_time() - c0)
        mo = statistics.median(res["old"])
        for n, v in res.items():
            tot[n] += calls * statistics.median(v)
        print(f"wx 2^{wx.bit_length() - 1} m {m} (x{calls}): old {mo * 1e3:.2f} ms CPU"
              + "".join(f", {n} {statistics.median(v) * 1e3:.2f} (x{statistics.median(v) / mo:.3f})"
                        for n, v in res.items() if n != "old"), flush=True)
    print("84m calls weighted: " + ", ".join(f"{n} {v:.3f} s CPU" for n, v in tot.items()))


if __name__ == "__main__":
    main()

"""s38h1: a window pass's planned-tree slot, old path (`KL.fill_reduce` / `KL.fill_segments`
of the two halves into a chunk buffer, then `KL.gkr_window_sums`) against the fused
`KL.fill_window_sums`, one process, alternating, CPU medians; outputs asserted equal.
Synthetic plan (width 1…3 column segments of ~20k rows, gaps, a padding row) on the
25m prove's shapes (wx, m leaves an entry, rounds in the window).  Not a test.

    PYTHONPATH=. python tests/bench/s38h1_fill_window_ab.py [REPS] [XBLK ...]"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
from numba import typed

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P


def plan(rng, n):
    starts, ends, kind, tix, widths, colptr = [], [], [], [], [], []
    L = typed.List()
    x, i = 0, 0
    while x < n:
        ln = int(rng.integers(8000, 30000))
        w = (1, 1, 2, 3)[i % 4]
        starts.append(x)
        ends.append(x + ln)
        if i % 17 == 16:
            kind.append(KL.SEG_PAD)
            widths.append(0)
            tix.append(0)
            colptr.append(len(L))
        else:
            kind.append(KL.SEG_COLS)
            widths.append(w)
            tix.append(w - 1)
            colptr.append(len(L))
            for _ in range(w):
                L.append(rng.integers(0, 1 << 16, ln, dtype=np.uint64))
        x += ln + (int(rng.integers(0, 50)) if i % 5 == 0 else 0)
        i += 1
    S = len(starts)
    AP = rng.integers(0, P, (3, 1, KL.FILL_WIDTH, 2), dtype=np.uint64)
    AP[:, :, 0] = (1, 0)
    AP[:, :, 1:, 1] = 0
    BT = rng.integers(0, P, (3, 1, 2), dtype=np.uint64)
    PADV = rng.integers(0, P, (S, 1, 2), dtype=np.uint64)
    a = lambda v: np.array(v, np.int64)   # noqa: E731
    return (a(starts), a(ends), a(kind), a(tix), a(widths), a(colptr), L, AP, BT, PADV)


def old(xa, xb, wx, stepx, m, pl, Es, want, acc, W):
    if m == 1:
        KL.fill_segments(xa, xa + wx, W[0].reshape(wx, 1, 2), pl)
        KL.fill_segments(xb, xb + wx, W[1].reshape(wx, 1, 2), pl)
        slots = np.array([[-1, -1, 0, 1]], np.int64)
    else:
        KL.fill_reduce(xa, wx, stepx, m, pl, W[0], W[2])
        KL.fill_reduce(xb, wx, stepx, m, pl, W[1], W[3])
        slots = np.array([[0, 1, 2, 3]], np.int64)
    KL.gkr_window_sums(W, slots, Es, want, acc)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    xblks = [int(v) for v in sys.argv[2:]] or [KL.FWIN_BLOCK]
    rng = np.random.default_rng(1)
    pl = plan(rng, 1 << 25)
    tot = {"old": 0.0} | {f"new{x}": 0.0 for x in xblks}
    # the 25m prove's calls (s38h1's trace): (wx, m, rounds): calls
    for (wx, m, nw), calls in {(1 << 19, 2, 3): 24, (1 << 19, 1, 3): 24, (1 << 19, 4, 3): 8,
                               (1 << 19, 1, 2): 32, (1 << 17, 16, 2): 8,
                               (1 << 18, 8, 2): 8, (1 << 18, 4, 2): 8, (1 << 17, 8, 2): 8,
                               (1 << 18, 2, 2): 8, (1 << 17, 4, 2): 8, (1 << 17, 2, 2): 8,
                               (1 << 18, 1, 2): 8}.items():
        stepx = 1 << (25 - (m.bit_length() - 1))
        xa, xb = 3 << 19, stepx // 2 + (3 << 19)
        Es = [rng.integers(0, P, (wx >> (i + 1), 2), dtype=np.uint64) for i in range(nw)]
        want = [False] * nw
        NB = KL.window_offsets(nw)[nw]
        W = np.empty((4 if m > 1 else 2, wx, 2), np.uint64)
        a0 = np.zeros((1, 3, 2, NB, 2), np.uint64)
        old(xa, xb, wx, stepx, m, pl, Es, want, a0, W)
        res = {"old": []} | {f"new{x}": [] for x in xblks}
        for x in xblks:
            a1 = np.zeros_like(a0)
            assert KL.fill_window_sums(xa, xb, wx, stepx, m, pl, Es, want, a1, x)
            assert np.array_equal(a0, a1), (wx, m, nw, x)
        for _ in range(reps):
            for name in res:
                acc = np.zeros_like(a0)
                c0 = time.process_time()
                if name == "old":
                    old(xa, xb, wx, stepx, m, pl, Es, want, acc, W)
                else:
                    KL.fill_window_sums(xa, xb, wx, stepx, m, pl, Es, want, acc,
                                        int(name[3:]))
                res[name].append(time.process_time() - c0)
        mo = statistics.median(res["old"])
        for n, v in res.items():
            tot[n] += calls * statistics.median(v)
        print(f"wx 2^{wx.bit_length() - 1} m {m} rounds {nw} (x{calls}): old {mo * 1e3:.2f} ms CPU"
              + "".join(f", {n} {statistics.median(v) * 1e3:.2f} (x{statistics.median(v) / mo:.3f})"
                        for n, v in res.items() if n != "old"), flush=True)
    print("25m calls weighted: " + ", ".join(f"{n} {v:.3f} s CPU" for n, v in tot.items()))


if __name__ == "__main__":
    main()

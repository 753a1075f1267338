"""The blocked Möbius passes (`whir._mobius_blocks`, `_mobius_blocks_from`, `_mobius_hi`)
against the lane-form kernels (`whir._mobius_blocks_lane`, `_mobius_blocks_lane_from`,
`_mobius_hi_lane`) at the proves' shapes, one process, interleaved, outputs asserted
equal (not a test).

    cd TREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \\
        tests/bench/s31h1_mobius_mb.py [REPS] [log_n,lo,sh ...]

sh = 0: `mobius_low` (a (2^n,) table, passes of bits 0 … lo−1 in place); sh = 1:
`mobius_pairs`' first step (an (2^(n−1), 2) table, flat bits 1 … lo−1, into a new array);
hN,J0,0: `mobius_high` (`_mobius_hi` against `_mobius_hi_lane`, variables J0 … N−1).
Prints the median process CPU (both threads) per word of each kernel and the ratio.
"""

from __future__ import annotations

import resource
import statistics
import sys

import numpy as np

from zklora.kernels import whir as K

P = (1 << 64) - (1 << 32) + 1


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(reps: int, shapes: list[str]) -> None:
    rng = np.random.default_rng(1)
    for shp in shapes:
        hi = shp.startswith("h")
        n, lo, sh = (int(x) for x in shp.lstrip("h").split(","))
        N = 1 << n
        t = rng.integers(0, P, N, dtype=np.uint64)
        t[:8] = [0, 1, P - 1, P - 2, P - 1, 0, 1, P - 2]
        olds, news = [], []
        for r in range(reps + 1):
            a = t.copy()
            b = t.copy()
            ao = np.empty_like(t)
            bo = np.empty_like(t)
            ao[:] = 0
            bo[:] = 0
            c0 = _cpu()
            if hi:
                K._mobius_hi(a, lo, n)
            elif sh == 0:
                K._mobius_blocks(a, lo)
            else:
                K._mobius_blocks_from(a, ao, lo, sh)
            c1 = _cpu()
            if hi:
                K._mobius_hi_lane(b, lo, n)
            elif sh == 0:
                K._mobius_blocks_lane(b, lo)
            else:
                K._mobius_blocks_lane_from(b, bo, lo, sh)
            c2 = _cpu()
            if hi or sh == 0:
                assert np.array_equal(a, b)
            else:
                assert np.array_equal(ao, bo)
            if r:
                olds.append((c1 - c0) / N * 1e9)
                news.append((c2 - c1) / N * 1e9)
        mo, mn = statistics.median(olds), statistics.median(news)
        print(f"{shp:>10}  old {mo:6.3f} ns/word  new {mn:6.3f}  x{mn / mo:.3f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5,
         sys.argv[2:] or ["22,13,0", "23,14,1"])

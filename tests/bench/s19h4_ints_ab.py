"""Micro A/B of `goldilocks._ints_to_u64` on int64 arrays: the numpy path (before) vs
the one-pass kernel `K.vsigned` (after), interleaved (not a test).

    python tests/bench/s19h4_ints_ab.py [REPS] [LOG2 SIZES...]

Prints per size the median wall of each path and the ratio; results asserted equal."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def old(x):
    a = np.asarray(x, dtype=np.int64, order="C")
    out = a.view(np.uint64).copy()
    np.subtract(out, np.uint64(0xFFFFFFFF), out=out, where=a < 0)
    return out


def main(argv) -> None:
    from zklora.plugins.fields import goldilocks as G
    reps = int(argv[0]) if argv else 9
    sizes = [int(v) for v in argv[1:]] or [14, 16, 18, 20, 22, 24]
    rng = np.random.default_rng(1)
    G.Goldilocks().ext.eq_table(np.zeros((19, 2), np.uint64))   # start numba, as a prover has
    G._ints_to_u64(np.arange(1 << 15) - 7)   # load the kernel
    tot = [0.0, 0.0]
    for lg in sizes:
        a = rng.integers(-2**40, 2**40, size=1 << lg, dtype=np.int64)
        ts = {0: [], 1: []}
        for r in range(reps):
            for k in ((0, 1) if r % 2 == 0 else (1, 0)):
                t = time.perf_counter()
                out = old(a) if k == 0 else G._ints_to_u64(a)
                ts[k].append(time.perf_counter() - t)
                if r == 0 and k == 1:
                    assert np.array_equal(out, old(a))
        mo, mn = statistics.median(ts[0]), statistics.median(ts[1])
        tot[0] += mo
        tot[1] += mn
        print(f"2^{lg}: old {mo * 1e3:8.3f} ms  new {mn * 1e3:8.3f} ms  ratio {mn / mo:.3f}",
              flush=True)
    print(f"sum: old {tot[0] * 1e3:.2f} ms new {tot[1] * 1e3:.2f} ms ratio {tot[1] / tot[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

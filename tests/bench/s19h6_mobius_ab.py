"""A/B of whir._mobius_hi (two variables a sweep, s19h6) against `_mobius_hi_ref` (the
previous kernel: one sweep a variable), interleaved in one process, outputs asserted
equal; process CPU and wall per entry and pass.

    .venv/bin/python tests/bench/s19h6_mobius_ab.py [ROUNDS]
"""
import resource
import sys
import time

import numpy as np

from zklora.kernels import whir

P = np.uint64(0xFFFFFFFF00000001)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rng = np.random.default_rng(2)
    # (table size 2^n, first variable j0): mobius_high on streamed tiles, mobius's top
    for n, j0 in [(20, 9), (21, 11), (22, 12), (20, 12), (23, 12), (18, 8)]:
        a = rng.integers(0, 2**63, size=1 << n, dtype=np.uint64) % P
        x = a.copy()
        y = a.copy()
        whir._mobius_hi_ref(x, j0, n)
        whir._mobius_hi(y, j0, n)
        assert (x == y).all()
        reps = max(2, int(4e7 // ((1 << n) * (n - j0))))
        W = {0: [], 1: []}
        C = {0: [], 1: []}
        for _ in range(rounds):
            for k, f in ((0, whir._mobius_hi_ref), (1, whir._mobius_hi)):
                b = a.copy()
                c0 = cpu()
                t0 = time.perf_counter()
                for _ in range(reps):
                    f(b, j0, n)
                W[k].append((time.perf_counter() - t0) / reps)
                C[k].append((cpu() - c0) / reps)
        d = 1e9 / ((1 << n) * (n - j0))
        co, cn = np.median(C[0]) * d, np.median(C[1]) * d
        wo, wn = np.median(W[0]) * d, np.median(W[1]) * d
        print(f"mobius_hi 2^{n} from {j0}: CPU old {co:.3f} new {cn:.3f} ns/entry/pass "
              f"x{cn / co:.3f}; wall {wo:.3f} -> {wn:.3f} x{wn / wo:.3f}")


if __name__ == "__main__":
    main()

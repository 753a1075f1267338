"""A/B of ntt.mat_evec's parallel kernel (`goldilocks.e_matvec_base`, lanes) against the
previous row-at-a-time kernel
(copied here), interleaved in one process, outputs asserted equal.

    .venv/bin/python tests/bench/s19h6_mat_evec_ab.py [ROUNDS]
"""
import sys
import time

import numpy as np
from numba import njit, prange

from zklora.kernels import goldilocks as G
from zklora.kernels import ntt
from zklora.kernels.goldilocks import _OPTS

P = np.uint64(0xFFFFFFFF00000001)


@njit(parallel=True, **_OPTS)
def old_mat_evec_par(M, e, out):
    for i in prange(M.shape[0]):
        out[i, 0], out[i, 1] = ntt._row_evec(M, e, i)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    rng = np.random.default_rng(1)
    shapes = [(1 << 12, 1 << 8), (1 << 10, 1 << 10), (1 << 8, 1 << 12), (1 << 11, 1 << 9),
              (1 << 9, 1 << 12), (300, 1000)]
    for R, C in shapes:
        M = rng.integers(0, 2**63, size=(R, C), dtype=np.uint64) % P
        e = rng.integers(0, 2**63, size=(C, 2), dtype=np.uint64) % P
        a = np.zeros((R, 2), np.uint64)
        b = np.zeros((R, 2), np.uint64)
        old_mat_evec_par(M, e, a)
        G.e_matvec_base(e, M, b)
        assert (a == b).all()
        to, tn = [], []
        for _ in range(rounds):
            for f, ts in ((old_mat_evec_par, to), (lambda M, e, o: G.e_matvec_base(e, M, o), tn)):
                out = np.zeros((R, 2), np.uint64)
                t = time.perf_counter()
                f(M, e, out)
                ts.append(time.perf_counter() - t)
        mo, mn = np.median(to) * 1e9 / (R * C), np.median(tn) * 1e9 / (R * C)
        print(f"mat_evec {R}x{C}: old {mo:.2f} new {mn:.2f} ns/entry (wall)  x{mn / mo:.3f}")


if __name__ == "__main__":
    main()

"""A/B of ntt._evec_mat_par (unreduced 192-bit accumulators, s19h6) against the previous
kernel (copied here), interleaved in one process, outputs
asserted equal; process CPU and wall per entry.

    .venv/bin/python tests/bench/s19h6_evec_ab.py [ROUNDS]
"""
import resource
import sys
import time

import numpy as np
from numba import njit, prange

from zklora.kernels import ntt
from zklora.kernels.goldilocks import _OPTS, gl_add, gl_mul

P = np.uint64(0xFFFFFFFF00000001)


@njit(inline="always", **_OPTS)
def _old_block(e, M, out, lo, hi):
    cnt = hi - lo
    a0 = np.empty(cnt, np.uint64)
    a1 = np.empty(cnt, np.uint64)
    for j in range(cnt):
        a0[j] = out[lo + j, 0]
        a1[j] = out[lo + j, 1]
    for i in range(M.shape[0]):
        e0 = e[i, 0]
        e1 = e[i, 1]
        for j in range(cnt):
            m = M[i, lo + j]
            a0[j] = gl_add(a0[j], gl_mul(e0, m))
            a1[j] = gl_add(a1[j], gl_mul(e1, m))
    for j in range(cnt):
        out[lo + j, 0] = a0[j]
        out[lo + j, 1] = a1[j]


@njit(parallel=True, **_OPTS)
def old_evec_mat_par(e, M, out, block):
    C = M.shape[1]
    for b in prange((C + block - 1) // block):
        _old_block(e, M, out, b * block, min(C, (b + 1) * block))


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def ab(name, R, C, fo, fn, rounds):
    rng = np.random.default_rng(R * 7 + C)
    M = rng.integers(0, 2**63, size=(R, C), dtype=np.uint64) % P
    e = rng.integers(0, 2**63, size=(R, 2), dtype=np.uint64) % P
    M[0] = P - 1
    e[0] = P - 1
    a = np.zeros((C, 2), np.uint64)
    b = np.zeros((C, 2), np.uint64)
    fo(e, M, a)
    fn(e, M, b)
    assert (a == b).all()
    reps = max(3, int(2e7 // (R * C)))
    W = {0: [], 1: []}
    Cc = {0: [], 1: []}
    for _ in range(rounds):
        for k, f in ((0, fo), (1, fn)):
            o = np.zeros((C, 2), np.uint64)
            c0 = cpu()
            t0 = time.perf_counter()
            for _ in range(reps):
                f(e, M, o)
            W[k].append((time.perf_counter() - t0) / reps)
            Cc[k].append((cpu() - c0) / reps)
    n = R * C
    co, cn = np.median(Cc[0]) * 1e9 / n, np.median(Cc[1]) * 1e9 / n
    wo, wn = np.median(W[0]) * 1e9 / n, np.median(W[1]) * 1e9 / n
    print(f"{name} {R}x{C}: CPU old {co:.2f} new {cn:.2f} ns/entry x{cn / co:.3f};"
          f" wall {wo:.2f} -> {wn:.2f} x{wn / wo:.3f}")


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    for R, C in [(128, 256), (256, 256), (256, 1024), (256, 4096), (256, 1 << 14)]:
        ab("evec_mat", R, C, lambda e, M, o: old_evec_mat_par(e, M, o, 1024),
           lambda e, M, o: ntt._evec_mat_par(e, M, o, 1024), rounds)


if __name__ == "__main__":
    main()

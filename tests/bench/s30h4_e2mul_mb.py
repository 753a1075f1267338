"""Bare lane loops of the goldilocks-ext2 product (s30h4; not a test): the current
`e2_mul` (32-bit limb `vpmuludq`, Karatsuba, 3 reductions) against AVX-512 IFMA52
forms with the 104-bit -> field reduction, on in-cache lane arrays.

    flock /tmp/heavy.lock python tests/bench/s30h4_e2mul_mb.py [ROUNDS]

Variants: ``cur`` (numba loop over `e2_mul`), ``ik`` (IFMA Karatsuba: each of the 3
base products 7 vpmadd52 and reduced), ``is`` (IFMA schoolbook: c0 = a0b0 + a1·7b1,
c1 = a0b1 + a1b0 as limb sums, 28 vpmadd52, 2 reductions), and the same three as a
multiply-accumulate Z += X·Y (the eq rounds' weighting form).  Prints ns a lane."""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from s30h4_ifma_ir import get  # noqa: E402

from zklora.kernels.goldilocks import P_INT, e2_mul, gl_add

_O = dict(cache=False, nogil=True, fastmath=False)


@njit(**_O)
def cur_loop(X0, X1, Y0, Y1, Z0, Z1, reps):
    n = X0.shape[0]
    for _ in range(reps):
        for p in range(n):
            Z0[p], Z1[p] = e2_mul(X0[p], X1[p], Y0[p], Y1[p])


@njit(**_O)
def cur_mac(X0, X1, Y0, Y1, Z0, Z1, reps):
    n = X0.shape[0]
    for _ in range(reps):
        for p in range(n):
            a, b = e2_mul(X0[p], X1[p], Y0[p], Y1[p])
            Z0[p] = gl_add(Z0[p], a)
            Z1[p] = gl_add(Z1[p], b)


def _mk(mode, mac):
    g = get(mode, mac)

    @njit(**_O)
    def f(X0, X1, Y0, Y1, Z0, Z1, reps):
        n8 = X0.shape[0] // 8
        for _ in range(reps):
            g(X0, X1, Y0, Y1, Z0, Z1, n8)
    return f


def main(rounds: int) -> None:
    rng = np.random.default_rng(3)
    N = 256
    reps = 20000
    X0, X1, Y0, Y1 = (rng.integers(0, P_INT, N, dtype=np.uint64) for _ in range(4))
    X0[:4] = [0, 1, P_INT - 1, P_INT - 2]
    Y1[:4] = [P_INT - 1, P_INT - 2, P_INT - 1, 0]
    fns = {"cur": cur_loop, "ik": _mk(0, False), "is": _mk(1, False),
           "cur+": cur_mac, "ik+": _mk(0, True), "is+": _mk(1, True)}
    outs = {}
    for k, f in fns.items():
        Z0 = np.ones(N, np.uint64)
        Z1 = np.ones(N, np.uint64)
        f(X0, X1, Y0, Y1, Z0, Z1, 1)
        outs[k] = (Z0, Z1)
    for a, b in (("cur", "ik"), ("cur", "is"), ("cur+", "ik+"), ("cur+", "is+")):
        assert np.array_equal(outs[a][0], outs[b][0]) and np.array_equal(outs[a][1], outs[b][1]), b
    t = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            Z0 = np.ones(N, np.uint64)
            Z1 = np.ones(N, np.uint64)
            c0 = time.process_time()
            f(X0, X1, Y0, Y1, Z0, Z1, reps)
            t[k].append((time.process_time() - c0) / (N * reps) * 1e9)
    for k in fns:
        print(f"{k:5s} {statistics.median(t[k]):6.3f} ns/lane")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

"""s33h2: `_win_load2` (transpose intrinsics for B = 1, 2, 4) against the scalar strided copy
it replaced, at the window kernel's shapes (4 tables of 2^16 entries, blocks of 256 y):
ns per y (4 tables), serial, best of 3.  Run from a tree's root under the heavy lock."""

import os
import sys
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.getcwd())
from zklora.kernels import lookup_gkr as KL  # noqa: E402
from zklora.kernels.goldilocks import gl_sub  # noqa: E402

Pi = (1 << 64) - (1 << 32) + 1


@njit(cache=False)
def load2_old(W, f, B, s, cnt, G0, G1):
    for b in range(B):
        g = KL._tri(b)
        for i in range(cnt):
            idx = b + 2 * B * (s + i)
            x0 = W[f, idx, 0]
            x1 = W[f, idx, 1]
            G0[g, 0, i] = x0
            G0[g, 1, i] = x1
            G1[g, 0, i] = gl_sub(W[f, idx + B, 0], x0)
            G1[g, 1, i] = gl_sub(W[f, idx + B, 1], x1)


@njit(cache=False)
def run(W, B, G0, G1, rep, new):
    """``rep`` passes of the window loads over W: the kernel's (``new``) or the old loop."""
    ny = W.shape[1] // (2 * B)
    for _ in range(rep):
        for s in range(0, ny, 256):
            for f in range(4):
                if new:
                    KL._win_load2(W, f, B, s, min(256, ny - s), G0, G1)
                else:
                    load2_old(W, f, B, s, min(256, ny - s), G0, G1)


def main() -> None:
    rng = np.random.default_rng(1)
    M = 1 << 16
    W = rng.integers(0, Pi, size=(4, M, 2), dtype=np.uint64)
    G0 = np.empty((9, 2, 256), np.uint64)
    G1, H0, H1 = G0.copy(), G0.copy(), G0.copy()
    for B in (1, 2, 4):
        for s, cnt in ((0, 256), (256, 200), (1000, 13)):
            for X in (G0, G1, H0, H1):
                X[:] = 0
            load2_old(W, 1, B, s, cnt, G0, G1)
            KL._win_load2(W, 1, B, s, cnt, H0, H1)
            assert (G0 == H0).all() and (G1 == H1).all(), (B, s, cnt)
        for name, new in (("old", False), ("new", True)):
            run(W, B, G0, G1, 1, new)
            best = 9e9
            for _ in range(3):
                t0 = time.process_time()
                run(W, B, G0, G1, 20, new)
                best = min(best, time.process_time() - t0)
            print(f"{name} _win_load2 B={B}: {1e9 * best / (20 * (M // (2 * B))):.2f} ns a y "
                  "(4 tables)", flush=True)


if __name__ == "__main__":
    main()

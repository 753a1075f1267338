"""s42h4_fold_small.py DIR [REPS]: the einsum base folds of a prove (`GoldilocksExt2.vecmat`
calls saved as DIR/vecmat_RxC.npz with e, M, out by /tmp/s42h4/logvm.py) timed in
process: the field kernels (`e_vecmat_rows` / `e_vecmat_base`, as the plugin picked them
before s42h4) against `int_gemm.vecmat_small` (tables under `SMALL_MIN` entries: not
served, skipped); process CPU and wall a call (median of REPS), same values checked."""
import glob
import os
import sys
import time

import numba
import numpy as np

from zklora.kernels import goldilocks as K
from zklora.kernels import int_gemm as IG
from zklora.plugins.fields.goldilocks import VECMAT_MIN_ROWS, VECMAT_ROWS


def field(kind, e, M, out):
    R = M.shape[0]
    if R >= VECMAT_MIN_ROWS and R * M.shape[1] >= VECMAT_ROWS:
        K.e_vecmat_rows(e, M, out, max(1, min(2 * numba.get_num_threads(), R // 64)))
    else:
        K.e_vecmat_base(e, M, out)


def small(kind, e, M, out):
    return IG.vecmat_small(e, M, out, numba.get_num_threads())


def med(f, reps):
    cs, ws = [], []
    for _ in range(reps):
        c, w = time.process_time(), time.perf_counter()
        f()
        cs.append(time.process_time() - c)
        ws.append(time.perf_counter() - w)
    return np.median(cs) * 1e3, np.median(ws) * 1e3


def main():
    d = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    tot = np.zeros(4)
    for fn in sorted(glob.glob(os.path.join(d, "vecmat_*.npz"))):
        z = np.load(fn)
        kind = os.path.basename(fn).split("_")[0]
        e = np.ascontiguousarray(z["e"], np.uint64).reshape(-1, 2)
        M = np.ascontiguousarray(z["M"], np.uint64)
        rows = M.shape[1] if kind == "vecmat" else M.shape[0]
        o1 = np.empty((rows, 2), np.uint64)
        o2 = np.empty((rows, 2), np.uint64)
        field(kind, e, M, o1)
        if not small(kind, e, M, o2):
            print(f"{kind} {M.shape[0]}x{M.shape[1]}: not served (under SMALL_MIN)")
            continue
        assert np.array_equal(o1, z["out"]) and np.array_equal(o2, z["out"]), fn
        a = med(lambda k=kind, e=e, M=M, o=o1: field(k, e, M, o), reps)
        b = med(lambda k=kind, e=e, M=M, o=o2: small(k, e, M, o), reps)
        tot += np.array([a[0], b[0], a[1], b[1]])
        print(f"{kind} {M.shape[0]}x{M.shape[1]}: cpu {a[0]:7.2f} -> {b[0]:7.2f} ms "
              f"(x{b[0] / a[0]:.2f})  wall {a[1]:7.2f} -> {b[1]:7.2f} ms "
              f"(x{b[1] / max(a[1], 1e-9):.2f})", flush=True)
    print(f"sum of one call a shape: cpu {tot[0]:.1f} -> {tot[1]:.1f} ms, "
          f"wall {tot[2]:.1f} -> {tot[3]:.1f}")


if __name__ == "__main__":
    main()

"""Micro-benchmark of the fused leaf kernel `KL.fill_reduce` (not a test): a synthetic
streamed lookup tree of 2^N rows (width-1 segments of 2^16 rows with combiner (1, 0) of 4
tables, three segments each in turn, as the 25m step's range tables; one width-2 table,
padding rows, gaps), every layer's m pieces summed by OLD (a copy of
`zklora/kernels/lookup_gkr.py`, loaded as a sibling module) and by this tree's kernel,
interleaved, K rounds; prints CPU ns per leaf (``NUMBA_NUM_THREADS=1`` for one core) per
m, medians, new/old, and checks equal outputs.

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/h3_fill_reduce_mb.py /tmp/old_lookup_gkr.py [K] [N] [M,...]
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

import numpy as np
from numba import typed

sys.path.insert(0, os.getcwd())

from zklora.kernels import lookup_gkr as KL  # noqa: E402


def _old(path: str):
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def plan(N: int, rng):
    P = (1 << 64) - (1 << 32) + 1
    n = 1 << N
    seg = 1 << 16
    starts, lens, kind, tix, widths, cols = [], [], [], [], [], []
    pos = 0
    while pos < n - (n >> 5):
        s = pos
        if len(starts) % 17 == 5:    # a padding row
            starts.append(s), lens.append(1024), kind.append(KL.SEG_PAD)
            tix.append(0), widths.append(0), cols.append([])
            pos += 1024 + 512        # and a gap
            continue
        w = 2 if len(starts) % 13 == 7 else 1
        starts.append(s), lens.append(seg), kind.append(KL.SEG_COLS)
        tix.append(1 if w == 2 else (0, 2, 3, 4)[(len(starts) // 3) % 4]), widths.append(w)
        cols.append([rng.integers(0, 1 << 16, seg, dtype=np.uint64) for _ in range(w)])
        pos += seg
    L = typed.List()
    colptr = []
    for cc in cols:
        colptr.append(len(L))
        for c in cc:
            L.append(c)
    AP = np.zeros((5, 1, KL.FILL_WIDTH, 2), np.uint64)
    AP[:, :, 0, 0] = 1
    AP[1, :, 1] = rng.integers(0, P, 2, dtype=np.uint64)
    BT = rng.integers(0, P, (5, 1, 2), dtype=np.uint64)
    PADV = rng.integers(0, P, (len(starts), 1, 2), dtype=np.uint64)
    a = np.array
    st = a(starts, np.int64)
    return (st, st + a(lens, np.int64), a(kind, np.int64), a(tix, np.int64),
            a(widths, np.int64), a(colptr, np.int64), L, AP, BT, PADV)


def main(path: str, K: int, N: int, ms: list[int]) -> None:
    OLD = _old(path)
    KL.FILL_RB = int(os.environ.get("RB", KL.FILL_RB))
    args = plan(N, np.random.default_rng(5))
    n = 1 << N
    res = {(nm, m): [] for nm in ("old", "new") for m in ms}
    for k in range(K + 1):
        for m in ms:
            wx = n // m
            outs = {}
            order = [("old", OLD), ("new", KL)]
            if k % 2:
                order.reverse()
            for nm, M in order:
                po = np.empty((wx, 2), np.uint64)
                qo = np.empty((wx, 2), np.uint64)
                t0 = time.process_time()
                M.fill_reduce(0, wx, wx, m, args, po, qo)
                dt = time.process_time() - t0
                if k:
                    res[(nm, m)].append(dt / n * 1e9)
                outs[nm] = (po, qo)
            assert all(np.array_equal(a, b) for a, b in zip(outs["old"], outs["new"])), m
    for m in ms:
        o, nw = statistics.median(res[("old", m)]), statistics.median(res[("new", m)])
        print(f"m {m:4d}: old {o:6.2f} ns/leaf  new {nw:6.2f} ns/leaf  new/old {nw / o:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5,
         int(sys.argv[3]) if len(sys.argv) > 3 else 23,
         [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "2,8,32,128").split(",")])

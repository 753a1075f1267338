"""s42h1: micro-benchmarks of the RS encoder's kernels at the 84m shapes (in process).

    PYTHONPATH=TREE .venv/bin/python tests/bench/s42h1_micro.py [REPS]

Prints per shape: twist_dft_tiles (all S rows, in blocks of `per` rows as
`_encode_streamed` calls it) and rs_encode_cols (all tiles), CPU ns an element
(process CPU time, 2 threads), median of REPS; plus the tile DFT's pieces (one
thread, ns an element)."""
import sys
import time

import numpy as np

from zklora.kernels import ntt
from zklora.kernels import whir as K

P = (1 << 64) - (1 << 32) + 1
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ONLY = sys.argv[2] if len(sys.argv) > 2 else "all"
STREAM = 32 << 20


def cpu():
    return time.process_time()


def shape_bench(m, d, k, lt, cb):
    rng = np.random.default_rng(1)
    T, S = 1 << lt, (1 << d) >> lt
    R = (1 << m) >> lt
    nt = T // cb
    per = min(S, max(1, STREAM // (16 * T)))
    res = {}
    if ONLY in ("all", "rs"):
        Y = rng.integers(0, P, size=(R, cb), dtype=np.uint64)
        cols = np.arange(cb, dtype=np.int64)
        ram = np.empty((nt, S, cb), dtype=np.uint64)
        wk = np.empty(ntt.rs_work_size(R, cb), dtype=np.uint64)
        ts = []
        for _ in range(REPS + 1):
            t0 = cpu()
            for j in range(nt):
                ntt.rs_encode_cols(Y, cols, d - m, out=ram[j], work=wk)
            ts.append(cpu() - t0)
        res["rs_encode_cols"] = np.median(ts[1:]) / (S * T) * 1e9
    if ONLY in ("all", "dft"):
        ram = rng.integers(0, P, size=(nt, S, cb), dtype=np.uint64)
        wa = ntt.powers(ntt.root_of_unity(d), S)
        piece = np.empty((0, per, cb), dtype=np.uint64)
        outb = np.empty((per * T // (1 << k), 1 << k), dtype=np.uint64)
        ts = []
        for _ in range(REPS + 1):
            t0 = cpu()
            for a0 in range(0, S, per):
                K.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, outb)
            ts.append(cpu() - t0)
        res["twist_dft_tiles"] = np.median(ts[1:]) / (S * T) * 1e9
    return res


SHAPES = [(22, 23, 4, 11, 512), (23, 24, 5, 12, 512), (24, 25, 4, 12, 256),
          (25, 26, 4, 13, 256)]
if __name__ == "__main__":
    import os
    if "XLEAF" in os.environ:   # 0: the old K = 16 tails, 1: `_x_leaf16`, 2: and NT
        K.XLEAF = os.environ["XLEAF"] != "0"
        K.XLEAF_NT = os.environ["XLEAF"] == "2"
    for sh in SHAPES:
        r = shape_bench(*sh)
        print("m={} d={} k={} lt={} cb={}".format(*sh),
              " ".join(f"{a} {b:.2f} ns/el" for a, b in r.items()), flush=True)

"""`ntt.rs_encode_cols` by the lane-layout kernel (`_rs_encode_lane_par`, ntt.LANE) against
`_rs_encode_cols_par` at the prove's shapes, one process, interleaved (not a test).

    cd TREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \\
        tests/bench/s29h3_enc_ab.py [REPS] [k,W,rate_log[,cs] ...]

Prints the median process CPU (both threads) per codeword point of each kernel (the lane
kernel with and without its radix-2² passes, ntt.R4) and the
ratio; the two outputs are asserted equal.
"""

from __future__ import annotations

import resource
import statistics
import sys

import numpy as np

from zklora.kernels import ntt

P = (1 << 64) - (1 << 32) + 1


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(reps: int, shapes: list[str]) -> None:
    for sh in shapes:
        v = [int(x) for x in sh.split(",")]
        k, W, rl = v[:3]
        cs = v[3] if len(v) > 3 else 1
        g = np.random.default_rng(1)
        Y = g.integers(0, P, size=(k, W * cs), dtype=np.uint64)
        col = (np.arange(W, dtype=np.int64) * cs)
        outs = {}
        ts = {False: [], True: [], "r2": []}
        for r in range(reps + 1):
            for lane in (False, True, "r2"):
                ntt.LANE = bool(lane)
                ntt.R4 = lane is True
                out = outs.setdefault(lane, np.empty((k << rl, W), dtype=np.uint64))
                c0 = _cpu()
                ntt.rs_encode_cols(Y, col, rl, out=out)
                if r:
                    ts[lane].append(_cpu() - c0)
        assert np.array_equal(outs[False], outs[True]), sh
        assert np.array_equal(outs[False], outs["r2"]), sh
        a, b, c = (statistics.median(ts[x]) / ((k << rl) * W) * 1e9
                   for x in (False, True, "r2"))
        print(f"rs k={k} W={W} rate 1/{1 << rl} cs={cs}: cols {a:.2f} ns/pt, "
              f"lane {b:.2f} ns/pt x{b / a:.3f}, lane radix-2 only {c:.2f} x{c / a:.3f}",
              flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5, sys.argv[2:] or ["8192,128,1"])

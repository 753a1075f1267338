"""The lookups' kernels per call shape in one proven step (not a test).

    cd TREE && flock /tmp/heavy.lock env PYTHONPATH=$PWD .venv/bin/python \
        tests/bench/s34h3_kattr.py [SIZE]

Runs `h1_prove_ab.one(SIZE)` with every `zklora.kernels.lookup_gkr` function that the
LogUp-GKR prover calls wrapped: per function and call shape, calls, wall and CPU
(`time.process_time`: both threads of a parallel kernel), printed to stderr after the
prove's JSON line."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import h1_prove_ab  # noqa: E402

from zklora.kernels import lookup_gkr as KL  # noqa: E402

NAMES = ["fill_reduce", "fill_segments", "multi_fold", "gkr_window_sums", "gkr_sums",
         "gkr_sums_c", "gkr_fold_sums_c", "gkr_fold_sums_ci", "frac_reduce", "frac_up",
         "fold_into", "leaf_denoms_sets", "leaf_sets_u64", "window_round_sums"]
STATS: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])


def _shape(name: str, args: tuple) -> str:
    if name == "fill_reduce":   # xlo, wx, stepx, m, plan
        return f"wx 2^{int(args[1]).bit_length() - 1} m {args[3]} R {args[4][7].shape[1]}"
    if name == "multi_fold":    # W, rhos, out, at, soa
        return f"W {tuple(args[0].shape)} j {len(args[1])}" + (" soa" if len(args) > 4
                                                                 and args[4] else "")
    shp = [tuple(a.shape) for a in args if isinstance(a, np.ndarray)][:2]
    return str(shp)


def _wrap(name: str, fn):
    def w(*args, **kw):
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kw)
        finally:
            s = STATS[(name, _shape(name, args))]
            s[0] += 1
            s[1] += time.perf_counter() - w0
            s[2] += time.process_time() - c0
    return w


def main(size: str) -> None:
    for n in NAMES:
        if hasattr(KL, n):   # (an older tree lacks the newer ones)
            setattr(KL, n, _wrap(n, getattr(KL, n)))
    h1_prove_ab.one(size)
    tot: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for (n, shp), s in sorted(STATS.items(), key=lambda kv: -kv[1][2]):
        if s[2] >= 0.02:
            print(f"{n:18s} {shp:40s} calls {s[0]:5d} wall {s[1]:6.2f} cpu {s[2]:6.2f}",
                  file=sys.stderr)
        for i in range(3):
            tot[n][i] += s[i]
    for n, s in sorted(tot.items(), key=lambda kv: -kv[1][2]):
        print(f"TOTAL {n:18s} calls {s[0]:5d} wall {s[1]:6.2f} cpu {s[2]:6.2f}",
              file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "25m")

"""whir_sumcheck.fold / fold_round / round_: an old tree's module against this tree's, in one
process, interleaved (not a test).

    cp OLDTREE/zklora/kernels/whir_sumcheck.py zklora/kernels/_old_whir_sumcheck.py
    .venv/bin/python tests/bench/s25h4_fold_ab.py [REPS] [log2(N) ...]

(the old module copied into this tree under another name: numba's cache of a module
loaded from another path under another name would be written into the old tree)

Per size and kind (fold_round / fold / round_, base / extension f): medians of the process CPU
a call, new / old ratios; the outputs are asserted equal."""

from __future__ import annotations

import importlib
import statistics
import sys
import time

import numpy as np

from zklora.kernels import whir_sumcheck as NEW

P = (1 << 64) - (1 << 32) + 1


def main() -> None:
    OLD = importlib.import_module("zklora.kernels._old_whir_sumcheck")
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    sizes = [int(x) for x in sys.argv[2:]] or [16, 19, 21]
    rng = np.random.default_rng(0)
    for lg in sizes:
        n = 1 << lg
        w = rng.integers(0, P, (n, 2), dtype=np.uint64)
        a = rng.integers(0, P, 2, dtype=np.uint64)
        for ext in (False, True):
            f = rng.integers(0, P, (n, 2) if ext else n, dtype=np.uint64)
            for kind in ("fold_round", "fold", "round_"):
                res = {0: [], 1: []}
                outs = {}
                for r in range(reps + 1):
                    for k in ((0, 1) if r % 2 else (1, 0)):
                        fn = getattr(OLD if k == 0 else NEW, kind)
                        c = time.process_time()
                        out = fn(f, w, a) if kind != "round_" else fn(f, w)
                        c = time.process_time() - c
                        if r:
                            res[k].append(c)
                        outs[k] = out
                assert all(np.array_equal(x, y) for x, y in zip(outs[0], outs[1]))
                m0, m1 = statistics.median(res[0]), statistics.median(res[1])
                print(f"2^{lg} {'ext' if ext else 'base'} {kind}: old {m0 * 1e3:.2f} ms "
                      f"new {m1 * 1e3:.2f} ms ratio {m1 / m0:.3f}", flush=True)


if __name__ == "__main__":
    main()

"""One streamed-pass block, old (j folds, then `round_` over the folded block) against
`whir._fold_then_round` (the last fold fused with the round message), interleaved in
one process (not a test).

    python tests/bench/h1_fold_round_ab.py [LOG_BLOCK] [J] [ROUNDS] [base|ext]

Prints the medians (ms) of both and the new/old ratio; asserts equal outputs."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import whir_sumcheck as SC
from zklora.plugins.commitments import whir as W

P = (1 << 64) - (1 << 32) + 1


def old(f, w, rs):
    for r in rs:
        f, w = SC.fold(f, w, r)
    return f, w, SC.round_(f, w)


def main(lb: int, j: int, rounds: int, kind: str) -> None:
    rng = np.random.default_rng(1)
    N = 1 << lb
    f = rng.integers(0, P, size=(N,) if kind == "base" else (N, 2), dtype=np.uint64)
    w = rng.integers(0, P, size=(N, 2), dtype=np.uint64)
    rs = rng.integers(0, P, size=(j, 2), dtype=np.uint64)
    a, b = old(f, w, rs), W._fold_then_round(f, w, rs, True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    t = {"old": [], "new": []}
    for i in range(rounds):
        for name, fn in ((("old", old), ("new", W._fold_then_round)) if i % 2 == 0 else
                         (("new", W._fold_then_round), ("old", old))):
            c0 = time.process_time()
            fn(f, w, rs, True) if name == "new" else fn(f, w, rs)
            t[name].append(time.process_time() - c0)
    mo, mn = statistics.median(t["old"]), statistics.median(t["new"])
    print(f"2^{lb} {kind} j={j}: old {1e3 * mo:.2f} ms  new {1e3 * mn:.2f} ms  "
          f"new/old {mn / mo:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 19,
         int(sys.argv[2]) if len(sys.argv) > 2 else 2,
         int(sys.argv[3]) if len(sys.argv) > 3 else 21,
         sys.argv[4] if len(sys.argv) > 4 else "ext")

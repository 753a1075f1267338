"""One streamed stack pass's chunk, the old kernels against `whir_eq.fold_pair_sums` /
`fold_eq` (not a test).

    python tests/bench/h1_fold_ab.py [LOG2_CHUNK] [REPS]

For j = 0…4 challenges: `sumcheck.fold_into` j times then `sumcheck.pair_sums` (what
`stack._prove_streaming` ran per chunk and pass before) against `fold_pair_sums`, and j
folds against `fold_eq` (the last pass), interleaved REPS times on random data of
2^LOG2_CHUNK base entries; asserts equal values, prints CPU medians per input and
new/old."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    c = int(argv[0]) if argv else 18
    reps = int(argv[1]) if len(argv) > 1 else 21
    from zklora.kernels import sumcheck as KS
    from zklora.kernels import whir_eq as QE
    from zklora.zkcore.stack import _fold_all

    P = (1 << 64) - (1 << 32) + 1
    rng = np.random.default_rng(3)
    C = 1 << c
    s = rng.integers(0, P, C, dtype=np.uint64)
    for j in range(5):
        rs = rng.integers(0, P, (j, 2), dtype=np.uint64)
        w = rng.integers(0, P, (C >> j, 2), dtype=np.uint64)
        runs = {"pairs old": lambda j=j, rs=rs, w=w: KS.pair_sums(
                    _fold_all(s, list(rs)) if j else s, w),
                "pairs new": lambda rs=rs, w=w: QE.fold_pair_sums(s, rs, w)}
        if j:
            runs["fold old"] = lambda rs=rs: _fold_all(s, list(rs))
            runs["fold new"] = lambda rs=rs: QE.fold_eq(s, rs)
        got = {k: f() for k, f in runs.items()}
        assert np.array_equal(got["pairs old"], got["pairs new"])
        if j:
            assert np.array_equal(got["fold old"], got["fold new"])
        times: dict[str, list[float]] = {k: [] for k in runs}
        for r in range(reps):
            for k in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
                t = time.process_time()
                runs[k]()
                times[k].append(time.process_time() - t)
        med = {k: statistics.median(v) * 1e9 / C for k, v in times.items()}
        line = (f"2^{c} j={j}: pair sums old {med['pairs old']:.2f} new "
                f"{med['pairs new']:.2f} ns/input (x{med['pairs new'] / med['pairs old']:.3f})")
        if j:
            line += (f"; folds old {med['fold old']:.2f} new {med['fold new']:.2f} "
                     f"(x{med['fold new'] / med['fold old']:.3f})")
        print(line, flush=True)


if __name__ == "__main__":
    main()

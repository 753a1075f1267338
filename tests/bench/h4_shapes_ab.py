"""Interleaved A/B of `zklora.zkcore.sumcheck` on synthetic sumchecks of the 25m shape's
phase-2 call shapes (not a test; light: < 1 GiB): an old tree's sumcheck module against
this one, in one process.

    python tests/bench/h4_shapes_ab.py /tmp/old [ROUNDS]

Each shape (variables n, tables k of which b base-field, degree d, terms t; the counts
are one 25m training step's, `zklora bench --sizes 25m`, ZK off) gets random tables and
terms (term 0 of degree d over distinct tables, the others of degree 1..d); per round the
old and the new module prove it (order alternating), thread CPU timed, bytes asserted
equal.  Prints per shape the median CPU old/new and the count-weighted total.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

# (n, k, degree, terms, base tables): calls in one 25m step (≥ 2^14 entries)
SHAPES = {(16, 17, 4, 18, 16): 8, (16, 3, 3, 1, 2): 56, (18, 14, 3, 16, 13): 1,
          (16, 2, 2, 1, 1): 71, (16, 7, 3, 6, 6): 8, (15, 2, 2, 1, 1): 110,
          (15, 3, 3, 1, 2): 33, (18, 7, 3, 6, 6): 1, (18, 6, 3, 5, 5): 1,
          (18, 2, 3, 2, 1): 1, (11, 16, 3, 33, 15): 32}


def _case(rng, n, k, d, t, b):
    from zklora.zkcore.sumcheck import _P

    N = 1 << n
    tabs = [rng.integers(0, 1 << 20, N, dtype=np.uint64) for _ in range(b)] + \
        [rng.integers(0, _P, (N, 2), dtype=np.uint64) for _ in range(k - b)]
    terms = [(int(rng.integers(1, 1000)),
              tuple(int(x) for x in rng.choice(k, d if j == 0 else 1 + j % d, replace=d > k)))
             for j in range(t)]
    return tabs, terms


def main(old_tree: str, rounds: int) -> None:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    from h4_sumcheck_ab import _old_module

    from zklora.plugins.fields.goldilocks import GOLDILOCKS
    from zklora.zkcore import selfcheck
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.transcript import ProverChannel, Transcript

    E = GOLDILOCKS.ext
    old = _old_module(old_tree)
    rng = np.random.default_rng(13)
    tot_o = tot_n = 0.0
    with selfcheck.disabled():   # random tables: the claim is not their sum
        for shape, count in SHAPES.items():
            tabs, terms = _case(rng, *shape)
            times = {"old": [], "new": []}
            for r in range(rounds + 1):
                got = {}
                for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                    ch = ProverChannel(Transcript("h4-shapes"))
                    c = time.process_time()
                    (old.prove if name == "old" else SC.prove)(
                        ch, E, list(tabs), terms, np.zeros(2, np.uint64), label="s")
                    if r:   # round 0 warms (kernels loaded)
                        times[name].append(time.process_time() - c)
                    got[name] = ch.proof_bytes()
                assert got["old"] == got["new"], shape
            mo, mn = statistics.median(times["old"]), statistics.median(times["new"])
            tot_o += count * mo
            tot_n += count * mn
            print(f"{shape!s:24s} x{count:4d}: median CPU old {mo * 1e3:8.2f} ms, "
                  f"new {mn * 1e3:8.2f} ms, new/old {mn / mo:.3f}", flush=True)
    print(f"count-weighted (one 25m step's sumchecks of these shapes): old {tot_o:.3f} s, "
          f"new {tot_n:.3f} s, new/old {tot_n / tot_o:.3f}; bytes equal")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 7)

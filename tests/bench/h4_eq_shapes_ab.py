"""Interleaved A/B of the eq-factored sumcheck rounds on synthetic sumchecks of the 25m
shape's eq-carrying call shapes (not a test; light: < 1 GiB, ~1 min).

    python tests/bench/h4_eq_shapes_ab.py [ROUNDS]

Each shape (variables n, tables k — one of them eq(τ, ·), b base-field —, degree d,
terms t, every term holding the eq table; the counts are one 25m training step's, ZK
off, from ``tests/bench/h4_eq_ab.py``) gets random tables and terms; per round
`sumcheck.prove` runs with `EQ_ROUNDS` off (the plain generic rounds) and on, the order
alternating, process CPU timed, bytes asserted equal.  Prints per shape the median CPU
off/on and the count-weighted total.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

# (n, k, degree, terms, base tables): calls in one 25m step with an eq hint
SHAPES = {(16, 17, 4, 18, 16): 8, (16, 3, 3, 1, 2): 56, (16, 7, 3, 6, 6): 8,
          (15, 3, 3, 1, 2): 33, (18, 6, 3, 5, 5): 1, (11, 16, 3, 33, 15): 32,
          (10, 3, 3, 1, 2): 31}


def _case(rng, n, k, d, t, b):
    from zklora.plugins.fields.goldilocks import GOLDILOCKS
    from zklora.zkcore import mle

    E = GOLDILOCKS.ext
    N = 1 << n
    tau = E.random(rng, n)
    e = np.stack([np.stack([E.sub(E.scalar(1), x), x]) for x in tau])
    tabs = [mle.eq_table(E, tau)] + \
        [rng.integers(0, 1 << 20, N, dtype=np.uint64) for _ in range(b)] + \
        [E.random(rng, N) for _ in range(k - 1 - b)]
    terms = [(E.random(rng, 1)[0],
              (0, *(int(x) for x in 1 + rng.choice(k - 1, d - 1 if j == 0 else j % d,
                                                     replace=d > k))))
             for j in range(t)]
    lifted = [E.embed(t) if t.ndim == 1 else t for t in tabs]
    claim = E.scalar(0)
    for c, fs in terms:   # the true sum (the eq rounds derive h(1) from it)
        p = lifted[fs[0]]
        for f in fs[1:]:
            p = E.mul(p, lifted[f])
        claim = E.add(claim, E.mul(c, E.sum(p)))
    return tabs, terms, e, claim


def main(rounds: int) -> None:
    from zklora.plugins.fields.goldilocks import GOLDILOCKS
    from zklora.zkcore import selfcheck
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.transcript import ProverChannel, Transcript

    E = GOLDILOCKS.ext
    rng = np.random.default_rng(13)
    tot_o = tot_n = 0.0
    with selfcheck.disabled():
        for shape, count in SHAPES.items():
            tabs, terms, e, claim = _case(rng, *shape)
            times = {False: [], True: []}
            for r in range(rounds + 1):
                got = {}
                for on in ((False, True) if r % 2 == 0 else (True, False)):
                    SC.EQ_ROUNDS = on
                    ch = ProverChannel(Transcript("h4-eq-shapes"))
                    c = time.process_time()
                    SC.prove(ch, E, list(tabs), terms, claim, label="s",
                             public=(0,), eq=(0, e))
                    if r:
                        times[on].append(time.process_time() - c)
                    got[on] = ch.proof_bytes()
                SC.EQ_ROUNDS = True
                assert got[False] == got[True], shape
            mo, mn = statistics.median(times[False]), statistics.median(times[True])
            tot_o += count * mo
            tot_n += count * mn
            print(f"{shape!s:24s} x{count:4d}: median CPU off {mo * 1e3:8.2f} ms, "
                  f"on {mn * 1e3:8.2f} ms, on/off {mn / mo:.3f}", flush=True)
    print(f"count-weighted (one 25m step's eq sumchecks of these shapes): off {tot_o:.3f} s, "
          f"on {tot_n:.3f} s, on/off {tot_n / tot_o:.3f}; bytes equal")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) == 2 else 7)

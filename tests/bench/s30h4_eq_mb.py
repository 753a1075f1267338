"""`sumcheck.prove` with the eq hint (eq-factored rounds) on the op groups' term shapes
(s30h4; not a test).  Run it in two trees, alternating, and compare:

    cd TREE && flock /tmp/heavy.lock env PYTHONPATH=TREE python tests/bench/s30h4_eq_mb.py [REPS]

Cases (n variables, term lists as a tiny prove's `_prove_eq` calls name them, base
tables): the 16-table 17-term degree-4 zero-check, a 13-table 16-term degree-3 one, the
einsum eq·A·B.  Prints the median process CPU of a call and the proof bytes' sha."""

from __future__ import annotations

import hashlib
import statistics
import sys
import time

import numpy as np

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle, selfcheck, sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript

E = GOLDILOCKS.ext
ZC4 = [(0, 1), (0, 2), (3,), (4,), (5,), (6,), (7,), (0, 8, 9), (0,), (6, 10), (11,), (12,),
       (13,), (14, 14), (0, 14), (14, 1), (14, 2)]
ZC3 = [(0,), (1,), (2,), (3,), (4,), (5,), (6, 7), (), (4, 8), (9,), (10,), (11,),
       (12, 12), (12,), (12, 0), (12, 1)]
EIN = [(0, 1)]


def case(rng, n, ntab, terms, deg_base=True):
    tau = E.random(rng, n)
    tabs = [GOLDILOCKS.random(rng, 1 << n) for _ in range(ntab)]
    e = np.stack([E.sub(E.ones(n), tau), tau], 1)
    eqt = mle.eq_table(E, tau)
    ts = [(E.random(rng, 1).reshape(2), (0, *[f + 1 for f in t])) for t in terms]
    return [eqt, *tabs], ts, e


def main(reps: int) -> None:
    rng = np.random.default_rng(7)
    cases = {"zc4 n16": case(rng, 16, 15, ZC4), "zc3 n15": case(rng, 15, 13, ZC3),
             "ein n16": case(rng, 16, 2, EIN)}
    for name, (tabs, terms, e) in cases.items():
        tm, sha = [], set()
        for r in range(reps + 1):
            ch = ProverChannel(Transcript("mb"))
            c0 = time.process_time()
            with selfcheck.disabled():
                sumcheck.prove(ch, E, list(tabs), terms, np.zeros(2, np.uint64),
                               public=(0,), eq=(0, e))
            if r:
                tm.append(time.process_time() - c0)
            sha.add(hashlib.sha256(ch.proof_bytes()).hexdigest()[:16])
        assert len(sha) == 1
        print(f"{name:8s} {statistics.median(tm) * 1e3:8.2f} ms  sha {sha.pop()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

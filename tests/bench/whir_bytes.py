"""SHA-256 of WHIR batched openings (several sizes, several tables per size, both
regimes, ZK hiding too) — run it in two trees to check byte-identical proofs (not a test):

    .venv/bin/python tests/bench/whir_bytes.py                    # this tree
    PYTHONPATH=/tmp/old .venv/bin/python tests/bench/whir_bytes.py  # another tree
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

CASES = [
    ({"regime": "conjectured"}, [13, 14, 13, 9, 13, 14], 2, 5),
    ({"regime": "conjectured"}, [13, 13, 13], 2, 8),
    ({"regime": "conjectured"}, [15, 13, 11, 13], 2, 11),
    ({}, [12, 12, 10, 10, 10, 1, 2], 3, 3),
    ({"folding_factor": 2, "rate_log": 2}, [11, 11, 11, 11], 1, 4),
    ({"regime": "conjectured"}, [16, 16, 16, 16, 16, 16, 16, 16], 2, 9),
]


def main() -> None:
    import zklora
    from zklora.kernels.goldilocks import P_INT  # noqa: F401
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import mle
    from zklora.zkcore.commit import Evaluation, OpenItem
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    print("tree", Path(zklora.__file__).parent.parent, file=sys.stderr)
    F = registry().field("goldilocks")
    E = F.ext
    for params, sizes, claims, seed in CASES:
        s = W.Whir(F, {"direct_vars": 0, **params})
        rng = np.random.default_rng(seed)
        opens = []
        for n in sizes:
            t = F.random(rng, 1 << n)
            _, st = s.commit(t)
            evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
                   for r in (E.random(rng, n) for _ in range(claims))]
            opens.append(OpenItem(st, evs))
        ch = ProverChannel(Transcript(b"whir_bytes"))
        s.open(ch, opens)
        print(params, sizes, hashlib.sha256(ch.proof_bytes()).hexdigest()[:24])


if __name__ == "__main__":
    main()
